"""bfloat16: float32's sign, exponent and top 7 mantissa bits, the frequent rows' deltas' wire format.

A float32 whose low 16 bits are zero is a bfloat16 held in float32: its
top 16 bits (uint16) carry it exactly, so such values cross the network in
half the bytes and arrive as the bytes they were. :func:`round_into` makes
a value one (to nearest, ties to even, as hardware conversions do); the
relative error is at most 2^-8. The merge rounds every value it makes, so
whichever worker makes a value, the rounded value is the same.

Each function works on contiguous arrays of any shape, element by element.
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


@njit(cache=True)
def round_into(out, values):
    """``out`` = ``values`` (float32) rounded to bfloat16; ``out`` may be ``values``."""
    bits_out, bits = out.reshape(-1).view(np.uint32), values.reshape(-1).view(np.uint32)
    for i in range(bits.shape[0]):
        bits_out[i] = rounded_bits(bits[i])


@njit(cache=True)
def difference_into(out, minuend, subtrahend):
    """``out`` = ``minuend - subtrahend`` (float32), rounded to bfloat16."""
    flat_out, first, second = out.reshape(-1), minuend.reshape(-1), subtrahend.reshape(-1)
    for i in range(first.shape[0]):
        flat_out[i] = first[i] - second[i]
    round_into(out, out)


@njit(cache=True)
def encode_into(out, values):
    """``out`` (uint16) = the top halves of ``values`` (float32 holding bfloat16 values: exact)."""
    flat_out, bits = out.reshape(-1), values.reshape(-1).view(np.uint32)
    for i in range(bits.shape[0]):
        flat_out[i] = top_half(bits[i])


@njit(cache=True)
def decode_into(out, encoded):
    """``out`` (float32) = the values of ``encoded`` (uint16 bfloat16 bits)."""
    bits_out, flat = out.reshape(-1).view(np.uint32), encoded.reshape(-1)
    for i in range(flat.shape[0]):
        bits_out[i] = widened(flat[i])
