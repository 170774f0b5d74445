"""C's ``"%lf "`` for a block of float32 rows, formatted in a compiled loop.

word2vec.c writes text vectors with ``fprintf(fo, "%lf ", value)``: the
float32 promoted to double, rounded to six decimals, then a space. Python's
``"%f" % value`` gives the same characters, but writing wiki100m's 67,890
vectors of 100 values that way took 1.0-1.2 s, and 0.2-0.37 s with this
loop.

Why the arithmetic is exact: a float32 is ``m * 2**e`` with ``m`` below
``2**24``, so ``value * 10**6 = (m * 5**6) * 2**(e + 6)`` and ``m * 5**6``
is below ``2**38``: the product fits a double's 53-bit significand, so the
multiplication by ``1e6`` is not rounded. Rounding that exact product to an
integer half-to-even (:func:`numpy.rint`) is then what glibc's printf and
Python's ``%f`` do with the decimal expansion. The sign is printed from the
sign bit, as printf does, so ``-0.0`` and tiny negatives give
``-0.000000``. Values at or above :data:`FAST_LIMIT` in magnitude, and
infinities and NaNs, are left to Python's formatting (see
:func:`format_text_rows`), which keeps the scaled value in a uint64.
"""
import numpy as np
from numba import njit

FAST_LIMIT = 1e12
# sign, 12 integer digits (below FAST_LIMIT), the point, 6 decimals, the space
_MAX_CHARS = 21
_POINT = ord(".")
_MINUS = ord("-")
_SPACE = ord(" ")
_ZERO = ord("0")
_NEWLINE = ord("\n")


@njit(cache=True)
def _format_block(word_bytes, word_ends, rows, out):
    """Write ``word %f %f ... \\n`` per row into ``out``; return the length written.

    Returns -1 at the first value that is not finite or not below FAST_LIMIT
    in magnitude; the caller then formats the block in Python.

    Word ``i`` is ``word_bytes[word_ends[i - 1]:word_ends[i]]``. Digits are
    written from the right, so each value is one pass of divisions by ten.
    """
    pos = 0
    word_start = 0
    for r in range(rows.shape[0]):
        for k in range(word_start, word_ends[r]):
            out[pos] = word_bytes[k]
            pos += 1
        word_start = word_ends[r]
        out[pos] = _SPACE
        pos += 1
        for c in range(rows.shape[1]):
            value = np.float64(rows[r, c])
            if np.signbit(value):
                out[pos] = _MINUS
                pos += 1
                value = -value
            if not value < FAST_LIMIT:  # also true for a NaN
                return -1
            scaled = np.uint64(np.rint(value * 1e6))
            whole = scaled // np.uint64(1_000_000)
            # the decimals in 32-bit arithmetic, which divides faster
            decimals = np.uint32(scaled - whole * np.uint64(1_000_000))
            count = 1
            rest = whole // np.uint64(10)
            while rest > 0:
                count += 1
                rest //= np.uint64(10)
            for k in range(pos + count - 1, pos - 1, -1):
                out[k] = _ZERO + whole % np.uint64(10)
                whole //= np.uint64(10)
            pos += count
            out[pos] = _POINT
            for k in range(pos + 6, pos, -1):
                out[k] = _ZERO + decimals % np.uint32(10)
                decimals //= np.uint32(10)
            end = pos + 7
            out[end] = _SPACE
            pos = end + 1
        out[pos] = _NEWLINE
        pos += 1
    return pos


def format_text_rows(words, rows):
    """Return the text-format lines of ``words`` (bytes) and float32 ``rows`` as one ``bytes``.

    Each line is the word, a space, C's ``"%lf "`` per value and ``\\n``.
    """
    rows = np.ascontiguousarray(rows, dtype=np.float32)
    word_bytes = np.frombuffer(b"".join(words), dtype=np.uint8)
    word_ends = np.cumsum([len(word) for word in words], dtype=np.int64)
    out = np.empty(len(word_bytes) + rows.shape[0] * (2 + rows.shape[1] * _MAX_CHARS), np.uint8)
    length = _format_block(word_bytes, word_ends, rows, out)
    if length < 0:
        row_format = "%f " * rows.shape[1]
        return b"".join(
            word + b" " + (row_format % tuple(row.tolist())).encode("ascii") + b"\n"
            for word, row in zip(words, rows)
        )
    return out[:length].tobytes()
