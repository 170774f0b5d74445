"""pyw2v-plot: the PCA projection, the words chosen, the picture, and the missing-extra message."""
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from conftest_tools import LEE_VECTORS, run_tool

from pyw2v.errors import UserError
from pyw2v.model.vectors import read_vectors, write_vectors
from pyw2v.tools import plot

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pairwise(points):
    return np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)


def test_points_on_a_plane_keep_their_distances():
    rng = np.random.default_rng(3)
    flat = rng.normal(size=(40, 2)) * [5.0, 1.0]  # more spread along the first axis
    basis, _ = np.linalg.qr(rng.normal(size=(50, 2)))  # an orthonormal plane in 50 dimensions
    points = flat @ basis.T + rng.normal(size=50)  # and moved off the origin
    coords, explained = plot.project_2d(points)
    np.testing.assert_allclose(pairwise(coords), pairwise(flat), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(coords.mean(axis=0), 0, atol=1e-9)
    assert coords[:, 0].var() > coords[:, 1].var()
    np.testing.assert_allclose(explained.sum(), 1.0)
    assert explained[0] > 0.8


def test_the_projection_is_the_top_two_principal_axes():
    # three orthogonal directions with spreads 10, 3 and 1: the map keeps the first two
    rng = np.random.default_rng(4)
    hidden = rng.normal(size=(200, 3)) * [10.0, 3.0, 1.0]
    hidden -= hidden.mean(axis=0)
    basis, _ = np.linalg.qr(rng.normal(size=(20, 3)))
    coords, explained = plot.project_2d(hidden @ basis.T)
    for axis in range(2):
        same_line = abs(np.corrcoef(coords[:, axis], hidden[:, axis])[0, 1])
        assert same_line > 0.999
    variances = hidden.var(axis=0)
    np.testing.assert_allclose(explained, variances[:2] / variances.sum(), rtol=0.02)


def test_the_signs_are_fixed():
    points = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [5.0, 1.0, 0.0], [2.0, -3.0, 0.0]])
    first, _ = plot.project_2d(points)
    # the same cloud mirrored: its axes are the same lines, so the same map once the signs are fixed
    second, _ = plot.project_2d(-points)
    np.testing.assert_allclose(first, second, atol=1e-12)
    for column in range(2):
        assert first[:, column].max() >= -first[:, column].min()


def test_without_words_the_most_frequent_are_drawn_but_not_the_line_end():
    words = [b"</s>", b"the", b"of", b"and", b"cat"]
    assert plot.choose_rows(words, [], top=3) == [1, 2, 3]
    assert plot.choose_rows(words, [b"cat", b"the", b"cat"]) == [4, 1]


def test_unknown_words_and_a_single_word_are_user_errors():
    words = [b"</s>", b"the", b"of"]
    with pytest.raises(UserError, match="not in the vectors: dog, emu"):
        plot.choose_rows(words, [b"the", b"dog", b"emu"])
    with pytest.raises(UserError, match="at least two words"):
        plot.choose_rows(words, [b"the"])


def png_size(data):
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def matplotlib_installed():
    pytest.importorskip("matplotlib", reason='needs matplotlib (pip install "pyw2v[plot]")')


@pytest.mark.usefixtures("matplotlib_installed")
@pytest.mark.parametrize("binary", [1, 0], ids=["binary", "text"])
def test_the_picture_is_a_png(tmp_path, binary):
    words, matrix = read_vectors(LEE_VECTORS)
    vectors = tmp_path / "lee.vec"
    write_vectors(vectors, words, matrix, binary=binary)
    picture = tmp_path / "map.png"
    status, _, err = run_tool(plot.main, [vectors, picture])
    assert status == 0, err
    assert "100 words drawn" in err
    data = picture.read_bytes()
    assert png_size(data) == (1000, 800)
    assert data.endswith(b"IEND\xaeB`\x82")
    assert len(data) > 20_000  # a hundred labels, not a blank canvas
    assert [name for name in os.listdir(tmp_path) if name.endswith(".part")] == []


@pytest.mark.usefixtures("matplotlib_installed")
def test_chosen_words_and_errors(tmp_path):
    picture = tmp_path / "map.png"
    status, _, err = run_tool(plot.main, [LEE_VECTORS, picture, "police", "Palestinian", "Israeli"])
    assert status == 0, err
    assert "3 words drawn" in err
    assert png_size(picture.read_bytes()) == (1000, 800)
    status, _, err = run_tool(plot.main, [LEE_VECTORS, tmp_path / "b.png", "police", "xyzzy"])
    assert status == 1 and err == "pyw2v-plot: not in the vectors: xyzzy\n"
    assert not (tmp_path / "b.png").exists()
    status, _, err = run_tool(plot.main, [LEE_VECTORS, tmp_path / "b.jpg"])
    assert status == 1 and err.startswith("pyw2v-plot: ") and ".png" in err


def test_without_matplotlib_one_line_says_what_to_install(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    picture = tmp_path / "map.png"
    code = "import sys; from pyw2v.tools.plot import main; sys.exit(main())"
    result = subprocess.run(
        [sys.executable, "-c", code, str(LEE_VECTORS), str(picture)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr == f"pyw2v-plot: {plot.INSTALL_HINT}\n"
    assert 'pip install "pyw2v[plot]"' in result.stderr
    assert not picture.exists()
