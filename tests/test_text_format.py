"""The compiled ``%lf`` writer gives exactly the characters of C's printf.

Python's ``"%f"`` rounds the exact decimal value half-to-even, as glibc's
printf does, so it is the reference here; the parity tests compare whole
``-binary 0`` files with the C program's.
"""
import io

import numpy as np
import pytest

from pyw2v.model import vectors
from pyw2v.model.text_format import format_text_rows


def printf_lines(words, rows):
    row_format = "%f " * rows.shape[1]
    return b"".join(
        word + b" " + (row_format % tuple(row.tolist())).encode("ascii") + b"\n"
        for word, row in zip(words, rows)
    )


def test_random_values_at_every_scale_match_printf():
    rng = np.random.default_rng(7)
    scales = 10.0 ** rng.integers(-8, 11, size=(300, 40))
    rows = (rng.standard_normal((300, 40)) * scales).astype(np.float32)
    words = [b"w%d" % i for i in range(300)]
    assert format_text_rows(words, rows) == printf_lines(words, rows)


def test_halfway_values_round_to_even_and_negative_zero_keeps_its_sign():
    # k / 128 has seven decimals ending in 5 when k is odd: an exact tie at six
    halfway = (np.arange(-640, 640) / 128).astype(np.float32).reshape(20, 64)
    words = [b"h%d" % i for i in range(20)]
    assert format_text_rows(words, halfway) == printf_lines(words, halfway)
    tiny = np.float32([[-0.0, -1e-9, 1e-45, 0.0078125, 9.9999995, 0.5e-6, 1.5e-6]])
    assert format_text_rows([b"t"], tiny) == b"t -0.000000 -0.000000 0.000000 0.007812 9.999999 0.000000 0.000002 \n"


@pytest.mark.parametrize("outlier", [np.inf, -np.inf, np.nan, -3e15])
def test_values_beyond_the_fast_range_fall_back_to_python(outlier):
    rows = np.float32([[0.25, 1.0], [2.0, -0.125]])
    rows[1, 0] = outlier
    assert format_text_rows([b"a", b"b"], rows) == printf_lines([b"a", b"b"], rows)


def test_text_file_spanning_several_blocks_is_whole_and_in_order(monkeypatch):
    monkeypatch.setattr(vectors, "_TEXT_ROWS_PER_BLOCK", 3)
    rows = np.arange(24, dtype=np.float32).reshape(8, 3) / 3
    words = [("wörd%d" % i).encode("utf-8") for i in range(8)]
    stream = io.BytesIO()
    vectors.write_vectors_to(stream, words, rows, binary=False)
    assert stream.getvalue() == b"8 3\n" + printf_lines(words, rows)
