"""word2vec.c's options: names, defaults, help text and their validation.

The option names are C's, with one dash. Unlike C, an unknown option, a
missing value or a value that is not a number is an error (C ignores the
first and reads ``atoi("abc")`` as 0), and nonsensical values are refused
before any work is done.
"""
from dataclasses import dataclass, fields

from .errors import UserError


@dataclass
class TrainOptions:
    """The settings of one training run, with C's defaults."""

    train: str = ""
    output: str = ""
    size: int = 100
    window: int = 5
    sample: float = 1e-3
    hs: int = 0
    negative: int = 5
    threads: int = 12
    iter: int = 5
    min_count: int = 5
    alpha: float = None  # C: 0.05 for CBOW, 0.025 for skip-gram
    classes: int = 0
    debug: int = 2
    binary: int = 0
    save_vocab: str = ""
    read_vocab: str = ""
    cbow: int = 1
    fast: int = 0
    memory_budget: float = None  # MiB; None: a quarter of the memory available (pyw2v.corpus.budget)
    tmpdir: str = ""

    @property
    def starting_alpha(self):
        if self.alpha is not None:
            return self.alpha
        return 0.05 if self.cbow else 0.025

    def validate(self):
        """Refuse what C would crash on or silently misuse; returns self."""
        if not self.train:
            raise UserError("no training file: give -train <file>")
        for name in ("size", "window", "threads", "iter"):
            if getattr(self, name) <= 0:
                raise UserError(f"-{name} must be a positive integer, not {getattr(self, name)}")
        for name in ("negative", "classes", "min_count", "hs", "cbow", "binary", "fast"):
            if getattr(self, name) < 0:
                raise UserError(f"-{name.replace('_', '-')} must not be negative, not {getattr(self, name)}")
        if self.hs == 0 and self.negative == 0:
            raise UserError("nothing to train: give -hs 1 or -negative N with N > 0")
        if self.sample < 0:
            raise UserError(f"-sample must not be negative, not {self.sample}")
        if self.alpha is not None and self.alpha < 0:
            raise UserError(f"-alpha must not be negative, not {self.alpha}")
        if self.fast > 1:
            raise UserError(f"-fast takes 0 or 1, not {self.fast}")
        return self


# (option, value name, help) in the order of C's usage text.
OPTION_HELP = [
    ("train", "file", "Use text data from <file> to train the model"),
    ("output", "file", "Use <file> to save the resulting word vectors / word clusters"),
    ("size", "int", "Set size of word vectors; default is 100"),
    ("window", "int", "Set max skip length between words; default is 5"),
    (
        "sample",
        "float",
        "Set threshold for occurrence of words. Those that appear with higher frequency in the training data\n"
        "\t\twill be randomly down-sampled; default is 1e-3, useful range is (0, 1e-5)",
    ),
    ("hs", "int", "Use Hierarchical Softmax; default is 0 (not used)"),
    ("negative", "int", "Number of negative examples; default is 5, common values are 3 - 10 (0 = not used)"),
    ("threads", "int", "Use <int> threads (default 12); more than the cores is allowed"),
    ("iter", "int", "Run more training iterations (default 5)"),
    ("min-count", "int", "This will discard words that appear less than <int> times; default is 5"),
    ("alpha", "float", "Set the starting learning rate; default is 0.025 for skip-gram and 0.05 for CBOW"),
    (
        "classes",
        "int",
        "Output word classes rather than word vectors; default number of classes is 0 (vectors are written)",
    ),
    ("debug", "int", "Set the debug mode (default = 2 = more info during training)"),
    ("binary", "int", "Save the resulting vectors in binary moded; default is 0 (off)"),
    ("save-vocab", "file", "The vocabulary will be saved to <file>"),
    ("read-vocab", "file", "The vocabulary will be read from <file>, not constructed from the training data"),
    ("cbow", "int", "Use the continuous bag of words model; default is 1 (use 0 for skip-gram model)"),
    (
        "fast",
        "int",
        "pyw2v only: 1 trains each skip-gram window at once (pWord2Vec style: one set of\n"
        "\t\tnegative samples per window, batched updates) for speed; default is 0 (C's sampling)",
    ),
    (
        "memory-budget",
        "float",
        "pyw2v only: MiB of memory the encoded corpus may take; a larger one is kept in a temporary file\n"
        "\t\tand read through a memory map; default is a quarter of the memory available (0 = always a file)",
    ),
    ("tmpdir", "dir", "pyw2v only: where that temporary file goes; default is $TMPDIR, else /tmp"),
]

_TYPES = {field.name: field.type for field in fields(TrainOptions)}


def usage_text():
    """C's usage text, with pyw2v's name and its one extra option."""
    lines = ["WORD VECTOR estimation toolkit v 0.1c (pyw2v)", "", "Options:", "Parameters for training:"]
    for name, value, text in OPTION_HELP:
        lines.append(f"\t-{name} <{value}>")
        lines.append(f"\t\t{text}")
    lines += [
        "",
        "Examples:",
        "pyw2v -train data.txt -output vec.txt -size 200 -window 5 -sample 1e-4 -negative 5 -hs 0 -binary 0 -cbow 1 -iter 3",
        "",
    ]
    return "\n".join(lines)


def parse_arguments(argv):
    """``-name value`` pairs into :class:`TrainOptions` (validated)."""
    options = TrainOptions()
    known = {name for name, _, _ in OPTION_HELP}
    position = 0
    seen = set()
    while position < len(argv):
        flag = argv[position]
        name = flag[1:] if flag.startswith("-") else None
        if name not in known:
            raise UserError(f"unknown option {flag!r} (run pyw2v without arguments for the list)")
        if position + 1 >= len(argv):
            raise UserError(f"argument missing for {flag}")
        if name in seen:
            raise UserError(f"{flag} is given twice")
        seen.add(name)
        setattr(options, name.replace("-", "_"), _convert(flag, name, argv[position + 1]))
        position += 2
    return options.validate()


def _convert(flag, name, text):
    kind = _TYPES[name.replace("-", "_")]
    if kind == "str" or kind is str:
        return text
    try:
        if kind in ("int", int):
            return int(text)
        return float(text)
    except ValueError:
        expected = "an integer" if kind in ("int", int) else "a number"
        raise UserError(f"{flag} needs {expected}, not {text!r}") from None
