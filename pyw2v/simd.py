"""Arithmetic shared by the kernels: dot products and the sigmoid table index.

C sums a dot product one element after another in float32. That order is
kept when ``exact`` is true (the parity path). Otherwise the sum runs in
eight independent lanes that the compiler turns into SIMD instructions; the
result differs from C's by float32 rounding only, as C's own FMA build does.
"""
import numpy as np
from numba import njit

from .tables import EXP_INDEX_SCALE, MAX_EXP

F0 = np.float32(0.0)
F1 = np.float32(1.0)
FMAX = np.float32(MAX_EXP)
FSCALE = np.float32(EXP_INDEX_SCALE)
F65536 = np.float32(65536.0)
LOW16 = np.uint64(0xFFFF)
SHIFT16 = np.uint64(16)


@njit(cache=True, inline="always")
def dot(left, left_row, right, right_row, size, exact):
    """Row dot product; ``exact`` sums in C's order, else in 8 lanes (SIMD)."""
    if exact:
        f = F0
        for c in range(size):
            f += left[left_row, c] * right[right_row, c]
        return f
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = F0
    body = size - size % 8
    for c in range(0, body, 8):
        s0 += left[left_row, c] * right[right_row, c]
        s1 += left[left_row, c + 1] * right[right_row, c + 1]
        s2 += left[left_row, c + 2] * right[right_row, c + 2]
        s3 += left[left_row, c + 3] * right[right_row, c + 3]
        s4 += left[left_row, c + 4] * right[right_row, c + 4]
        s5 += left[left_row, c + 5] * right[right_row, c + 5]
        s6 += left[left_row, c + 6] * right[right_row, c + 6]
        s7 += left[left_row, c + 7] * right[right_row, c + 7]
    f = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    for c in range(body, size):
        f += left[left_row, c] * right[right_row, c]
    return f


@njit(cache=True, inline="always")
def sigmoid_index(f):
    """C's ``(int)((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))``."""
    return np.int64((f + FMAX) * FSCALE)
