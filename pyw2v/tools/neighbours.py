"""What distance and word-analogy share: loading, C's query loop, the search, the table.

The search is a numpy matrix-vector product over the whole vocabulary; only
the few words that could rank differently under C's own rounding (those within
the product's error bound of the cut-off) are recomputed with C's exact float32
arithmetic (see :mod:`pyw2v.tools.cfloat`), so the order is C's.
"""
import sys

import numpy as np

from ..model.vectors import read_vectors
from .cfloat import dots_like_c, normalise_rows_like_c

TABLE_SIZE = 40  # C's N: how many neighbours are printed
_FLOAT32_UNIT_ROUNDOFF = 2.0**-24


def load_unit_vectors(path):
    """Read a vector file (either layout) and normalise it like C; ``(words, M)``."""
    words, matrix = read_vectors(path)
    return words, normalise_rows_like_c(matrix)


def first_positions(words):
    """Map each word to its first row, as C's linear ``strcmp`` search finds it."""
    positions = {}
    for index, word in enumerate(words):
        positions.setdefault(word, index)
    return positions


def unit_like_c(vec):
    """Normalise one query vector in float, as the tools do before searching."""
    return normalise_rows_like_c(vec.reshape(1, -1).copy())[0]


def split_like_c(line):
    """Split a query line into words the way distance.c does.

    Each single space ends a word and the character after it always starts
    the next one, so two spaces in a row give a word beginning with a space.
    Deliberate difference: C reads past the line after a trailing space; here
    that yields an empty last word (which is then out of the dictionary).
    """
    if not line:
        return [b""]
    words, current, pos = [], bytearray(line[:1]), 1
    while pos < len(line):
        if line[pos] == 0x20:
            words.append(bytes(current))
            current = bytearray()
            pos += 1
            if pos == len(line):
                break
        current.append(line[pos])
        pos += 1
    words.append(bytes(current))
    return words


def queries(prompt):
    """Yield the lines typed after each ``prompt`` until ``EXIT``.

    Deliberate differences from C: end of input also stops (C would spin
    forever printing prompts), a line is not cut at 1999 bytes, and a
    trailing carriage return is dropped so CRLF input works.
    """
    out = sys.stdout.buffer
    stdin = sys.stdin.buffer
    while True:
        out.write(prompt)
        out.flush()
        line = stdin.readline()
        if not line:
            return
        line = line.rstrip(b"\n")
        if line.endswith(b"\r"):
            line = line[:-1]
        if line == b"EXIT":
            return
        yield line


def look_up(query_words, positions, missing):
    """Print C's ``Word: ... Position in vocabulary:`` lines; rows, or None if one is unknown.

    ``missing`` is the position C reports for an unknown word (-1 in
    distance, 0 in word-analogy); like C, it stops at the first unknown word.
    """
    out = sys.stdout.buffer
    rows = []
    for word in query_words:
        row = positions.get(word, missing)
        out.write(b"\nWord: %s  Position in vocabulary: %d\n" % (word, row))
        if row == missing:
            out.write(b"Out of dictionary word!\n")
            return None
        rows.append(row)
    return rows


def nearest_like_c(vec, matrix, excluded, floor, count=TABLE_SIZE):
    """The ``count`` rows most similar to ``vec`` as C's insertion into a sorted list keeps them.

    C keeps a word only if its similarity is strictly above ``floor`` (its
    initial ``bestd``) and strictly above the word it would displace, so ties
    keep vocabulary order. Returns ``[(row, similarity), ...]``, best first.
    """
    approx = matrix @ vec
    approx[~np.isfinite(approx)] = -np.inf
    approx[list(excluded)] = -np.inf
    finite = int(np.isfinite(approx).sum())
    if finite == 0:
        return []
    kth = np.partition(approx, -min(count, finite))[-min(count, finite)]
    # Both the product above and C's sum are within this of the exact value.
    bound = 2 * vec.shape[0] * _FLOAT32_UNIT_ROUNDOFF * (float(np.linalg.norm(vec)) + 1e-30)
    rows = np.flatnonzero(approx >= max(kth - 4 * bound, floor - 2 * bound))
    similarity = dots_like_c(vec, matrix, rows)
    kept = similarity > np.float32(floor)  # also drops NaN, as C's comparison does
    rows, similarity = rows[kept], similarity[kept]
    order = np.lexsort((rows, -similarity))[:count]
    return [(int(rows[i]), similarity[i]) for i in order]


def print_table(column_title, words, hits, floor, count=TABLE_SIZE):
    """Print C's header and ``count`` lines of ``%50s\\t\\t%f``, padding like C."""
    out = sys.stdout.buffer
    out.write(b"\n" + b" " * 46 + column_title + b"\n" + b"-" * 72 + b"\n")
    for row, similarity in hits:
        out.write(b"%50s\t\t%f\n" % (words[row], float(similarity)))
    for _ in range(count - len(hits)):
        out.write(b"%50s\t\t%f\n" % (b"", floor))
