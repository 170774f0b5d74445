"""Vector files travel between pyw2v and gensim in both layouts."""
import numpy as np
import pytest
from conftest_tools import LEE_VECTORS, run_tool

from pyw2v.model.vectors import read_vectors, write_vectors
from pyw2v.tools import distance

QUERY = b"government\nEXIT\n"


@pytest.fixture(scope="module")
def lee():
    return read_vectors(LEE_VECTORS)


@pytest.mark.parametrize("binary", [True, False])
def test_gensim_reads_what_pyw2v_writes(lee, tmp_path, binary):
    from gensim.models import KeyedVectors

    words, matrix = lee
    path = tmp_path / "vectors"
    write_vectors(path, words, matrix, binary)
    loaded = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert [w.encode() for w in loaded.index_to_key] == words
    tolerance = 0 if binary else 1e-6  # text keeps six decimals (half a unit, plus float32 rounding)
    np.testing.assert_allclose(loaded.vectors, matrix, rtol=0, atol=tolerance)


@pytest.mark.parametrize("binary", [True, False])
def test_pyw2v_reads_what_gensim_writes(lee, tmp_path, binary):
    from gensim.models import KeyedVectors

    words, matrix = lee
    keyed = KeyedVectors(matrix.shape[1])
    keyed.add_vectors([w.decode() for w in words], matrix)
    path = tmp_path / "gensim.vec"
    keyed.save_word2vec_format(str(path), binary=binary)
    read_words, read_matrix = read_vectors(path)
    assert read_words == words
    np.testing.assert_allclose(read_matrix, matrix, rtol=0, atol=0 if binary else 1e-6)
    # ... and the tools answer from it as from the original file.
    _, ours, _ = run_tool(distance.main, [LEE_VECTORS], QUERY)
    _, theirs, _ = run_tool(distance.main, [path], QUERY)
    if binary:
        assert theirs == ours
    else:
        assert [line.split(b"\t")[0] for line in theirs.split(b"\n")][:10] == [
            line.split(b"\t")[0] for line in ours.split(b"\n")
        ][:10]


@pytest.mark.parametrize("binary", [True, False])
def test_round_trip_is_identical(lee, tmp_path, binary):
    words, matrix = lee
    first, second = tmp_path / "first", tmp_path / "second"
    write_vectors(first, words, matrix, binary)
    write_vectors(second, *read_vectors(first), binary)
    assert first.read_bytes() == second.read_bytes()
    if binary:
        assert first.read_bytes() == LEE_VECTORS.read_bytes()  # C's own layout, byte for byte
