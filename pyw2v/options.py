"""word2vec.c's options: names, defaults, help text and their validation.

The option names are C's, with one dash. Unlike C, an unknown option, a
missing value or a value that is not a number is an error (C ignores the
first and reads ``atoi("abc")`` as 0), and nonsensical values are refused
before any work is done. Every number is range-checked: integers within
C's ``int`` (C reads them with ``atoi``; see :data:`INT_RANGES`), ``-sample``
and ``-alpha`` finite (and ``-alpha`` within float32). What depends on the
corpus (``-iter`` times its words, the model's memory) is checked once the
vocabulary is known (:func:`check_words_to_train`, :mod:`pyw2v.memory`).
"""
import math
import re
from dataclasses import dataclass, fields

import numpy as np

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
    loss: int = 0
    memory_budget: float = None  # MiB; None: a quarter of the memory available (pyw2v.corpus.budget)
    tmpdir: str = ""
    scheduler: str = ""  # a running Dask cluster's scheduler (pyw2v.distributed)
    workers: int = None  # a local Dask cluster of this many worker processes
    shards: int = 8  # logical shards of the corpus on a cluster, whatever the workers
    round_mib: float = None  # MiB of text a cluster round trains over all shards; None: pyw2v.distributed.rounds's
    sync_rows: int = None  # CBOW-NS on a cluster: the most frequent rows merged within rounds; None: hotrows's

    @property
    def distributed(self):
        """Whether the run trains on a Dask cluster (``-scheduler`` or ``-workers``)."""
        return bool(self.scheduler) or self.workers is not None

    @property
    def starting_alpha(self):
        if self.alpha is not None:
            return self.alpha
        return 0.05 if self.cbow else 0.025

    def validate(self):
        """Refuse what C would crash on or silently misuse; returns self."""
        if not self.train:
            raise UserError("no training file: give -train <file>")
        for name, (low, high) in INT_RANGES.items():
            if name in ("workers", "sync_rows") and getattr(self, name) is None:
                continue
            check_int(f"-{name.replace('_', '-')}", getattr(self, name), low, high)
        check_float("-sample", self.sample, 0.0, FLOAT_MAX)
        if self.alpha is not None:
            check_float("-alpha", self.alpha, 0.0, FLOAT32_MAX)
        if self.round_mib is not None:
            check_float("-round-mib", self.round_mib, MIN_ROUND_MIB, FLOAT_MAX)
        if self.scheduler and self.workers is not None:
            raise UserError("give -scheduler (a running cluster) or -workers (a local one), not both")
        if self.hs == 0 and self.negative == 0:
            raise UserError("nothing to train: give -hs 1 or -negative N with N > 0")
        return self


C_INT_MAX = 2**31 - 1  # C reads every integer option with atoi, into an int
FLOAT_MAX = float(np.finfo(np.float64).max)
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the kernels' learning rate is a float32
# Where C's slices start is kept per slice while the corpus is read, before the
# memory check can weigh them; past this many, slices would hold a few words each.
MAX_THREADS = 65536
# Sums of word counts the kernels keep (iter x words, the words trained so far) stay below this.
MAX_WORDS_TRAINED = 2**62
# A local cluster's processes, and a corpus's logical shards (one task each per round).
MAX_WORKERS = 1024
MAX_SHARDS = 4096
# The shortest cluster round (64 KiB of text over all shards): shorter ones would spend far more time
# on their merge than on training.
MIN_ROUND_MIB = 0.0625

INT_RANGES = {
    "size": (1, C_INT_MAX),
    "window": (1, C_INT_MAX),
    "threads": (1, MAX_THREADS),
    "iter": (1, C_INT_MAX),
    "negative": (0, C_INT_MAX),
    "classes": (0, C_INT_MAX),
    "min_count": (0, C_INT_MAX),
    "hs": (0, C_INT_MAX),
    "cbow": (0, C_INT_MAX),
    "binary": (0, C_INT_MAX),
    "fast": (0, 1),
    "loss": (0, 1),
    "debug": (-C_INT_MAX - 1, C_INT_MAX),
    "workers": (1, MAX_WORKERS),
    "shards": (1, MAX_SHARDS),
    "sync_rows": (0, C_INT_MAX),
}


def check_int(flag, value, low, high):
    """A one-line error unless ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UserError(f"{flag} needs an integer, not {value!r}")
    if not low <= value <= high:
        raise UserError(f"{flag} must be {_range_text(low, high)}, not {shorten(value)}")


def check_float(flag, value, low, high):
    """A one-line error unless ``value`` is a finite number in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise UserError(f"{flag} needs a number, not {value!r}")
    if not math.isfinite(value):
        raise UserError(f"{flag} must be a finite number, not {value}")
    if value < low:
        raise UserError(f"{flag} must not be {'negative' if low == 0 else f'below {low:g}'}, not {value:g}")
    if value > high:
        raise UserError(f"{flag} must be at most {high:g}, not {value:g}")


def check_words_to_train(options, train_words):
    """Refuse an ``-iter`` whose words to train (``iter * train_words``) overflow the kernels' counters."""
    if options.iter * train_words >= MAX_WORDS_TRAINED:
        raise UserError(
            f"-iter {options.iter} times {train_words} words in the training file is more words "
            f"than the training counters hold (2^62)"
        )


def _range_text(low, high):
    if high == low + 1:
        return f"{low} or {high}"
    if low == 0:
        return f"from 0 to {high}"
    if low == 1:
        return f"a positive integer up to {high}"
    return f"from {low} to {high}"


def shorten(value):
    """``value`` as text for a one-line message: past 40 characters, its start and end only."""
    text = str(value)
    return text if len(text) <= 40 else text[:20] + "..." + text[-5:]


# (option, value name, help) in the order of C's usage text.
OPTION_HELP = [
    ("train", "file", "Use text data from <file> to train the model"),
    ("output", "file", "Use <file> to save the resulting word vectors / word clusters"),
    ("size", "int", "Set size of word vectors; default is 100"),
    ("window", "int", "Set max skip length between words; default is 5"),
    (
        "sample",
        "float",
        ("Set threshold for occurrence of words. Those that appear with higher frequency in the training data\n"
        "\t\twill be randomly down-sampled; default is 1e-3, useful range is (0, 1e-5)"),
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
        ("pyw2v only: 1 for speed, with two effects: skip-gram trains each window at once\n"
        "\t\t(pWord2Vec style: one set of negative samples per window, batched updates); with several\n"
        "\t\tthreads each trains its own copies of the most frequent words' rows. Default is 0 (C's way)"),
    ),
    (
        "loss",
        "int",
        ("pyw2v only: 1 adds the mean loss of the recent words to the progress line and prints\n"
        "\t\teach epoch's mean loss per word trained; default is 0 (off, C's output)"),
    ),
    (
        "memory-budget",
        "float",
        ("pyw2v only: MiB of memory the encoded corpus may take; a larger one is kept in a temporary file\n"
        "\t\tand read through a memory map; default is a quarter of the memory available (0 = always a file)"),
    ),
    ("tmpdir", "dir", "pyw2v only: where that temporary file goes; default is $TMPDIR, else /tmp"),
    (
        "scheduler",
        "address",
        "pyw2v only: train on the running Dask cluster of this scheduler (tcp://host:8786); -threads is ignored",
    ),
    (
        "workers",
        "int",
        "pyw2v only: train on a Dask cluster of <int> worker processes of one thread each, on this machine\n"
        "\t\t(127.0.0.1 only), started and stopped by pyw2v; the reproducible multi-core mode",
    ),
    (
        "shards",
        "int",
        "pyw2v only: on a cluster, the corpus is trained as <int> logical shards, whatever the workers;\n"
        "\t\tthe output depends on it, not on the workers; default is 8",
    ),
    (
        "round-mib",
        "float",
        "pyw2v only: on a cluster, MiB of corpus text a round trains over all shards before their deltas\n"
        "\t\tare merged; smaller is more accurate with negative sampling, and slower;\n"
        "\t\tdefault is 16 for CBOW, 4 for skip-gram",
    ),
    (
        "sync-rows",
        "int",
        "pyw2v only: on a cluster, in CBOW with negative sampling, the <int> most frequent words' rows are\n"
        "\t\tmerged eight times a round: one process's accuracy, at a cost in speed; 0 merges them once\n"
        "\t\ta round (faster past a few workers, less accurate); default is 10000",
    ),
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
        "pyw2v -train data.txt -output vec.txt -size 200 -window 5 -sample 1e-4"
        " -negative 5 -hs 0 -binary 0 -cbow 1 -iter 3",
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
            raise UserError(f"unknown option {shorten(repr(flag))} (run pyw2v without arguments for the list)")
        if position + 1 >= len(argv):
            raise UserError(f"argument missing for {flag}")
        if name in seen:
            raise UserError(f"{flag} is given twice")
        seen.add(name)
        setattr(options, name.replace("-", "_"), _convert(flag, name, argv[position + 1]))
        position += 2
    return options.validate()


_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_MAX_DIGITS = 30  # past this a number is out of every range; Python's int() would refuse past 4300


def parse_int(flag, text, low, high):
    """``text`` as an integer in ``[low, high]``: ASCII digits with an optional sign, or a one-line error."""
    if not _INTEGER.fullmatch(text):
        raise UserError(f"{flag} needs an integer, not {shorten(repr(text))}")
    if len(text.lstrip("+-0")) > _MAX_DIGITS:
        raise UserError(f"{flag} must be {_range_text(low, high)}, not {shorten(text)}")
    value = int(text)
    check_int(flag, value, low, high)
    return value


def parse_number(flag, text):
    """``text`` as a finite decimal number (C's atof syntax, without hexadecimal, nan or inf)."""
    if not _NUMBER.fullmatch(text):
        raise UserError(f"{flag} needs a number, not {shorten(repr(text))}")
    value = float(text)
    if not math.isfinite(value):
        raise UserError(f"{flag} must be a finite number, not {shorten(text)}")
    return value


def parse_path(flag, text):
    """A file name as given; only a NUL byte, which no path can hold, is refused."""
    if "\0" in text:
        raise UserError(f"{flag}: a file name cannot contain a NUL byte")
    return text


def _convert(flag, name, text):
    attribute = name.replace("-", "_")
    kind = _TYPES[attribute]
    if kind == "str" or kind is str:
        return parse_path(flag, text)
    if kind in ("int", int):
        return parse_int(flag, text, *INT_RANGES[attribute])
    return parse_number(flag, text)
