"""The varint id stream: round trip, exact sizing, growth and token offsets."""
import numpy as np
from helpers import decode_ids

from pyw2v.corpus.encoding import StreamWriter, varint_lengths


def test_round_trip_across_every_width_and_exact_size():
    ids = np.array([0, 1, 127, 128, 16383, 16384, 2**21 - 1, 2**21, 2**28, 5, 0], dtype=np.int64)
    small = ids[ids <= 2**21]  # varint_lengths of every id up to 2**28 would take seconds and gigabytes
    assert varint_lengths(2**21 + 1)[small].tolist() == [1, 1, 1, 2, 2, 3, 3, 4, 1, 1]
    expected_bytes = int(varint_lengths(2**21 + 1)[small].sum()) + 5  # 2**28 takes five 7-bit groups
    writer = StreamWriter(expected_bytes)
    writer(ids[:4].astype(np.int32))
    writer(ids[4:].astype(np.int32))
    data, offsets = writer.finish([0, 3, 4, 9, 11])
    assert len(data) == expected_bytes == 1 + 1 + 1 + 2 + 2 + 3 + 3 + 4 + 5 + 1 + 1
    assert decode_ids(data) == ids.tolist()
    assert offsets.tolist() == [0, 3, 5, 22, len(data)]


def test_writer_grows_when_counts_undercount():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 300_000, 5000).astype(np.int32)
    writer = StreamWriter(10)
    writer(ids)
    data, _ = writer.finish([])
    assert decode_ids(data) == ids.tolist()
