"""bfloat16, the frequent rows' wire format (pyw2v.distributed.bfloat16): rounding and the bits' round trip."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pyw2v.distributed import bfloat16

finite = st.floats(min_value=-(2.0**127), max_value=2.0**127, allow_nan=False, allow_infinity=False, width=32)


def rounded(values):
    """float32 ``values`` through :func:`bfloat16.rounded_bits`, one by one."""
    bits = np.asarray(values, dtype=np.float32).view(np.uint32)
    return np.array([bfloat16.rounded_bits(b) for b in bits], dtype=np.uint32).view(np.float32)


@settings(deadline=None)  # the first example compiles the functions
@given(st.lists(finite, min_size=1, max_size=64))
def test_rounding_takes_the_nearest_bfloat16_and_the_even_one_on_a_tie(values):
    values = np.array(values, dtype=np.float32)
    got = rounded(values)
    bits = values.view(np.uint32)
    assert not np.any(got.view(np.uint32) & 0xFFFF)  # a bfloat16: the low half is zero
    below = (bits & np.uint32(0xFFFF0000)).view(np.float32).astype(np.float64)  # toward zero
    above = ((bits & np.uint32(0xFFFF0000)) + np.uint32(0x10000)).view(np.float32).astype(np.float64)
    exact = values.astype(np.float64)
    nearest = np.minimum(np.abs(exact - below), np.abs(exact - above))
    assert np.all(np.abs(exact - got.astype(np.float64)) == nearest)
    tie = np.abs(exact - below) == np.abs(exact - above)
    assert not np.any(got.view(np.uint32)[tie] & 0x10000)  # the last kept bit even


def test_a_tie_goes_to_the_even_neighbour_and_one_past_it_goes_up():
    one = np.float32(1.0)
    half_step = np.array([0x3F808000], dtype=np.uint32).view(np.float32)  # 1 + 2^-8: halfway to 1 + 2^-7
    assert rounded(half_step)[0] == one
    past = np.array([0x3F808001], dtype=np.uint32).view(np.float32)
    assert rounded(past)[0] == np.float32(1 + 2.0**-7)
    odd_tie = np.array([0x3F818000], dtype=np.uint32).view(np.float32)  # halfway from 1 + 2^-7 up
    assert rounded(odd_tie)[0] == np.float32(1 + 2.0**-6)


@settings(deadline=None)
@given(st.lists(finite, min_size=1, max_size=64))
def test_bfloat16_values_cross_as_their_top_halves_and_come_back_as_the_same_bytes(values):
    values = rounded(values)
    halves = [bfloat16.top_half(b) for b in values.view(np.uint32)]
    assert all(0 <= int(h) < 1 << 16 for h in halves)  # 16 bits carry it
    back = np.array([bfloat16.widened(h) for h in halves], dtype=np.uint32).view(np.float32)
    assert back.tobytes() == values.tobytes()
