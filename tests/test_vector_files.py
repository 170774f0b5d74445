"""The vector reader tells the layouts apart by reading, and reads what other writers write."""
import numpy as np
import pytest
from conftest_tools import run_tool

from pyw2v.errors import UserError
from pyw2v.model.vectors import parse_vectors, read_vectors
from pyw2v.tools import distance

SHORT_TEXT = b"3 3\nw1 1 2 3\nw2 1 1 1\nw3 3 2 1\n"
EXPECTED = np.array([[1, 2, 3], [1, 1, 1], [3, 2, 1]], dtype=np.float32)


def test_text_of_short_numbers_is_not_taken_for_binary():
    """The issue's file: its second and third rows line up as 12-byte binary rows."""
    words, matrix = parse_vectors(SHORT_TEXT)
    assert words == [b"w1", b"w2", b"w3"]
    np.testing.assert_array_equal(matrix, EXPECTED)


def test_text_of_one_dimension_that_lines_up_as_binary_exactly():
    """Every row is a word, a space and four bytes: a consistent binary reading, but text."""
    words, matrix = parse_vectors(b"2 1\na 1.5\nb 2.5\n")
    assert words == [b"a", b"b"] and matrix.ravel().tolist() == [1.5, 2.5]


@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
@pytest.mark.parametrize("final_newline", [True, False])
def test_crlf_and_missing_final_newline(ending, final_newline):
    data = SHORT_TEXT.replace(b"\n", ending)
    if not final_newline:
        data = data[: -len(ending)]
    words, matrix = parse_vectors(data)
    assert words == [b"w1", b"w2", b"w3"]
    np.testing.assert_array_equal(matrix, EXPECTED)


@pytest.fixture
def gensim_vectors():
    from gensim.models import KeyedVectors

    keyed = KeyedVectors(3)
    values = np.array([[1, 2, 3], [0.5, -1e-8, 3e5], [1, 1, 1], [0.125, 0.25, 10]], dtype=np.float32)
    keyed.add_vectors(["a", "café", "c", "x"], values)
    return keyed, values


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_save_word2vec_format(tmp_path, gensim_vectors, binary):
    keyed, values = gensim_vectors
    path = tmp_path / "gensim.vec"
    keyed.save_word2vec_format(str(path), binary=binary)
    words, matrix = read_vectors(str(path))
    assert words == [b"a", "café".encode(), b"c", b"x"]
    np.testing.assert_allclose(matrix, values, rtol=1e-6)


@pytest.mark.parametrize(
    "data, word",
    [
        (b"2 2\nok 0.1 0.2\nbad nan 0.5\n", "bad"),
        (b"2 2\nok 0.1 0.2 \nbig 1e39 0.5 \n", "big"),  # past float32's range
        (b"1 2\nw " + np.array([np.inf, 1], dtype="<f4").tobytes() + b"\n", "w"),
    ],
)
def test_non_finite_values_are_reported(tmp_path, data, word):
    with pytest.raises(UserError, match=rf"the vector of '{word}' \(row \d\) has a value that is not a finite number"):
        parse_vectors(data)
    assert parse_vectors(data, finite=False)[0][-1] == word.encode()
    path = tmp_path / "vectors.txt"
    path.write_bytes(data)
    status, out, err = run_tool(distance.main, [path], b"ok\nEXIT\n")
    assert status == 1 and out == b""
    assert len(err.strip().splitlines()) == 1 and "not a finite number" in err


def test_truncated_binary_still_says_so():
    row = b"w " + np.ones(50, dtype="<f4").tobytes() + b"\n"
    with pytest.raises(UserError, match="truncated: 2 of 4 vectors present"):
        parse_vectors(b"4 50\n" + row * 2 + row[:30])


def test_truncated_text_counts_its_own_rows():
    """A text file with fewer rows than its header: the count is the text rows', not a binary misreading's
    (read as binary, this one has three rows, the last of them with a word's letters among its values)."""
    with pytest.raises(UserError, match="truncated: 2 of 5 vectors present"):
        parse_vectors(b"5 3\napple 0.100000 0.200000 0.300000 \nbob 0.400000 0.500000 0.600000 \n")
