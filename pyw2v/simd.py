"""Arithmetic shared by the kernels: dot products and the sigmoid table index.

C sums a dot product one element after another in float32. That order is
kept when ``exact`` is true (the parity path). Otherwise the compiler may
split the sum into SIMD lanes and fuse multiply-adds, about five times
faster; the result differs from C's by float32 rounding only, as C's own
FMA build does.
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


@njit(cache=True, fastmath=True)
def _dot_simd(left, left_row, right, right_row, size):
    # fastmath lets LLVM reassociate the sum into SIMD lanes; it is compiled
    # apart from the callers so that only this sum gets the licence, and LLVM
    # still inlines it (the flags travel with the instructions).
    f = F0
    for c in range(size):
        f += left[left_row, c] * right[right_row, c]
    return f


@njit(cache=True, inline="always")
def dot(left, left_row, right, right_row, size, exact):
    """Row dot product; ``exact`` sums in C's order, else in SIMD lanes."""
    if exact:
        f = F0
        for c in range(size):
            f += left[left_row, c] * right[right_row, c]
        return f
    return _dot_simd(left, left_row, right, right_row, size)


@njit(cache=True, inline="always")
def sigmoid_index(f):
    """C's ``(int)((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))``."""
    return np.int64((f + FMAX) * FSCALE)
