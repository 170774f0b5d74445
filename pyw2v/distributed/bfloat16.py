"""bfloat16: float32's sign, exponent and top 7 mantissa bits, the frequent rows' deltas' wire format.

A float32 whose low 16 bits are zero is a bfloat16 held in float32: its
top 16 bits (uint16) carry it exactly, so such values cross the network in
half the bytes and arrive as the bytes they were. :func:`rounded_bits`
makes a value one (to nearest, ties to even, as hardware conversions do);
the relative error is at most 2^-8. The merge rounds every value it makes,
so whichever worker makes a value, the rounded value is the same.

Scalar functions of a float32's bits (uint32), inlined into the kernels
that stream the rows (:mod:`.hotrows`).
"""
import numpy as np
from numba import njit

_HIGH_HALF = np.uint32(0xFFFF0000)


@njit(cache=True, inline="always")
def rounded_bits(bits):
    """float32 ``bits`` rounded to the nearest bfloat16's, ties to even (finite values only)."""
    return (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & _HIGH_HALF


@njit(cache=True, inline="always")
def top_half(bits):
    """The uint16 that carries a bfloat16 held in float32 ``bits``."""
    return np.uint16(bits >> np.uint32(16))


@njit(cache=True, inline="always")
def widened(half):
    """The float32 bits of the bfloat16 ``half`` (uint16)."""
    return np.uint32(half) << np.uint32(16)
