"""C's float32 arithmetic for the vector tools, operation for operation.

distance.c, word-analogy.c and compute-accuracy.c keep every vector in
``float`` and sum dot products one dimension after another, each product and
each sum rounded to float. (Checked against the binaries built with the
original makefile: their sums match this unfused order, not fused
multiply-adds.) Numba, without fastmath, keeps exactly this order, so
near-ties come out in C's order.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def dot_like_c(vec, row):
    """The ``dist += vec[a] * M[a + c * size]`` loop, in C's order."""
    total = np.float32(0.0)
    for a in range(vec.shape[0]):
        total = total + vec[a] * row[a]
    return total


@njit(cache=True)
def dots_like_c(vec, matrix, rows):
    """``dot_like_c(vec, matrix[r])`` for every index in ``rows``."""
    out = np.empty(rows.shape[0], dtype=np.float32)
    for i in range(rows.shape[0]):
        out[i] = dot_like_c(vec, matrix[rows[i]])
    return out


@njit(cache=True, error_model="numpy")
def normalise_rows_like_c(matrix):
    """Scale each row to unit length in place, as the tools do after reading.

    The squared length is summed in float, its square root taken in double
    (C's ``sqrt``) and stored back in float, then each value divided in float.
    A zero row becomes NaN, as in C, and then never ranks as a neighbour.
    """
    for r in range(matrix.shape[0]):
        row = matrix[r]
        length = dot_like_c(row, row)
        length = np.float32(np.sqrt(np.float64(length)))
        for a in range(row.shape[0]):
            row[a] = row[a] / length
    return matrix


@njit(cache=True)
def best_row_like_c(vec, matrix, rows):
    """compute-accuracy.c's single best row among ``rows`` (ascending), or -1.

    C keeps a row only if its similarity is strictly above the best so far,
    starting from 0, so the first of equal rows wins and nothing at or below
    0 (or NaN) is ever chosen.
    """
    best_row, best = -1, np.float32(0.0)
    for i in range(rows.shape[0]):
        similarity = dot_like_c(vec, matrix[rows[i]])
        if similarity > best:
            best_row, best = rows[i], similarity
    return best_row
