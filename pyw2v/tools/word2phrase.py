"""pyw2v-word2phrase: word2phrase.c's options, counting, scores and output, byte for byte."""
import sys

import numpy as np

from ..errors import UserError, open_input, run_command
from ..options import C_INT_MAX, FLOAT32_MAX, check_float, parse_int, parse_number, parse_path, shorten
from ..output_files import OutputFile, refuse_outputs_over_inputs
from .phrase_kernels import learn_vocab, sort_vocab_like_c, write_phrases

PROG = "pyw2v-word2phrase"
C_HASH_SIZE = 500_000_000  # word2phrase.c's vocab_hash_size; pruning starts at 0.7 of it

HELP = """\
WORD2PHRASE (pyw2v): joins frequent word pairs with "_", like word2phrase.c

Options:
\t-train <file>
\t\tText to read (plain, .gz or .bz2)
\t-output <file>
\t\tWhere to write the text with phrases joined
\t-min-count <int>
\t\tIgnore words and pairs seen fewer than <int> times; default 5
\t-threshold <float>
\t\tScore a pair must exceed to be joined (higher means fewer phrases); default 100
\t-debug <int>
\t\tHow much to print (0 = nothing, 2 = progress too; default 2)

Example:
pyw2v-word2phrase -train text.txt -output phrases.txt -threshold 100 -debug 2
"""

_OPTIONS = {"-train": str, "-output": str, "-min-count": int, "-threshold": float, "-debug": int}
# word2phrase.c reads the integers with atoi into ints, the threshold into a float32.
_INT_RANGE = (-C_INT_MAX - 1, C_INT_MAX)


def parse_options(argv):
    """C's ``-name value`` options. Deliberate difference: unknown options and
    values that are not numbers are errors (C ignores the one and reads 0 from the other)."""
    options = {"-min-count": 5, "-threshold": 100.0, "-debug": 2}
    pos = 0
    while pos < len(argv):
        name = argv[pos]
        if name not in _OPTIONS:
            raise UserError(f"unknown option {shorten(repr(name))} (run without options for help)")
        if pos + 1 == len(argv):
            raise UserError(f"Argument missing for {name}")
        options[name] = _parse_value(name, argv[pos + 1])
        pos += 2
    for required in ("-train", "-output"):
        if required not in options:
            raise UserError(f"{required} <file> is required")
    return options


def _parse_value(name, text):
    kind = _OPTIONS[name]
    if kind is int:
        return parse_int(name, text, *_INT_RANGE)
    if kind is float:
        value = parse_number(name, text)
        check_float(name, value, -FLOAT32_MAX, FLOAT32_MAX)
        return value
    return parse_path(name, text)


def word2phrase(train, output, min_count=5, threshold=100.0, debug=2, hash_size=C_HASH_SIZE):
    """Run both passes of word2phrase.c; writes ``output`` and C's stdout text."""
    out = sys.stdout.buffer
    refuse_outputs_over_inputs({"-output": output}, {"-train": train})
    with OutputFile(output) as phrases:
        with open_input(train) as stream:
            data = np.frombuffer(stream.read(), dtype=np.uint8)
        out.write(b"Starting training using file %s\n" % train.encode())
        table, train_words, learned = learn_vocab(data, hash_size, debug)
        for million, entries in enumerate(learned, start=1):
            out.write(b"Words processed: %dM     Vocab size: %dK  \r" % (million, entries // 1000))
        counts = table[3][: table[6][0]]
        kept, vocab_size = sort_vocab_like_c(counts, min_count)
        if debug > 0:
            out.write(b"\nVocab size (unigrams + bigrams): %d\n" % vocab_size)
            out.write(b"Words in train file: %d\n" % train_words)
        out.flush()
        text, written = write_phrases(data, table, kept, train_words, min_count, np.float32(threshold))
        phrases.file.write(text.tobytes())
        if debug > 1:
            for million in range(1, written // 1_000_000 + 1):
                out.write(b"Words written: %dM\r" % million)
        out.flush()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv

    def body():
        if not argv or argv[0] in ("-h", "--help"):
            sys.stdout.write(HELP)
            return 0
        options = parse_options(argv)
        word2phrase(
            options["-train"],
            options["-output"],
            options["-min-count"],
            options["-threshold"],
            options["-debug"],
        )
        return 0

    return run_command(PROG, body)
