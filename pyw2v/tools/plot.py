"""pyw2v-plot: a 2-D map of word vectors (PCA), drawn as a labelled scatter plot.

The chosen words' vectors are normalised to unit length (the tools compare
words by cosine) and projected on their first two principal components. The
projection is an orthogonal one, so distances within the plane of those two
components are kept exactly and distances across the other directions are
dropped: words close on the map may still be far apart in the model.

matplotlib is an optional extra (``pip install "pyw2v[plot]"``); it is
imported only when a picture is drawn, through the Agg canvas, so the
command needs no display.
"""
import os
import sys

import click
import numpy as np

from ..errors import UserError
from ..model.vectors import read_vectors
from ..output_files import OutputFile
from .command import run_click_command

DEFAULT_TOP = 100
SENTENCE_END = b"</s>"
FORMATS = ("png", "svg", "pdf")
INSTALL_HINT = 'matplotlib is not installed: pip install "pyw2v[plot]" (or pip install matplotlib)'


def project_2d(matrix):
    """The rows of ``matrix`` on its first two principal components; ``(coords, explained)``.

    ``coords`` is ``(X - mean) V₂`` with ``V₂`` the two right singular
    vectors of largest singular value of the centred ``X`` (numpy's SVD),
    so its columns have mean 0 and variance in decreasing order; each axis's
    sign is chosen so that its largest coordinate is positive, which makes
    the picture the same from run to run. ``explained`` is the share of the
    total variance each axis carries (0 for an axis of a rank-1 set).
    """
    centred = np.asarray(matrix, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    axes = axes[:2]
    if axes.shape[0] < 2:  # a single dimension: the second axis is empty
        axes = np.vstack([axes, np.zeros_like(axes)])
        singular = np.append(singular, 0.0)
    coords = centred @ axes.T
    for column in range(2):
        if -coords[:, column].min() > coords[:, column].max():
            coords[:, column] *= -1
    total = float((singular**2).sum())
    explained = singular[:2] ** 2 / total if total > 0 else np.zeros(2)
    return coords, explained


def choose_rows(words, requested, top=DEFAULT_TOP):
    """Rows to draw: the requested words (bytes) in their order, else the ``top`` first words.

    Vector files list words by falling frequency, so the first rows are the
    most frequent words; ``</s>`` (the line end word2vec.c counts first) is
    left out. A requested word missing from the file is a :class:`UserError`.
    """
    if not requested:
        rows = [index for index, word in enumerate(words) if word != SENTENCE_END][:top]
    else:
        positions = {}
        for index, word in enumerate(words):
            positions.setdefault(word, index)
        missing = [word for word in requested if word not in positions]
        if missing:
            names = ", ".join(word.decode("utf-8", "replace") for word in missing)
            raise UserError(f"not in the vectors: {names}")
        rows = list(dict.fromkeys(positions[word] for word in requested))
    if len(rows) < 2:
        raise UserError(f"a map needs at least two words; {len(rows)} chosen")
    return rows


def _output_format(path):
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if extension not in FORMATS:
        raise UserError(f"{path}: the picture's name must end in " + ", ".join("." + f for f in FORMATS))
    return extension


def _load_matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return Figure, FigureCanvasAgg


# where a label may sit beside its point: offset in points and alignment, first choice first
_LABEL_PLACES = (
    ((3, 2), "left", "bottom"), ((3, -2), "left", "top"), ((-3, 2), "right", "bottom"),
    ((-3, -2), "right", "top"), ((0, 4), "center", "bottom"), ((0, -4), "center", "top"),
)


def draw_map(labels, coords, explained, title, stream, image_format="png"):
    """Draw the labelled points ``coords`` (n × 2) and save the picture to ``stream``."""
    Figure, FigureCanvasAgg = _load_matplotlib()
    figure = Figure(figsize=(10, 8), dpi=100, layout="constrained")
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.scatter(coords[:, 0], coords[:, 1], s=12, color="tab:blue", alpha=0.7, linewidths=0)
    axes.set_xlabel(f"first principal component ({100 * explained[0]:.1f} % of the variance)")
    axes.set_ylabel(f"second principal component ({100 * explained[1]:.1f} % of the variance)")
    axes.set_title(title)
    axes.grid(True, linewidth=0.3, alpha=0.5)
    axes.margins(0.08)
    canvas.draw()  # fixes the layout, so that the labels' extents can be measured
    _place_labels(axes, labels, coords, canvas.get_renderer())
    figure.savefig(stream, format=image_format)


def _place_labels(axes, labels, coords, renderer):
    """Put each label at the first of its places that overlaps the labels placed so far least."""
    placed = []
    for label, point in zip(labels, coords):
        best = None
        for offset, ha, va in _LABEL_PLACES:
            text = axes.annotate(label, point, xytext=offset, textcoords="offset points",
                                 ha=ha, va=va, fontsize=8)
            box = text.get_window_extent(renderer)
            overlap = sum(_overlap(box, other) for other in placed)
            if best is None or overlap < best[0]:
                if best is not None:
                    best[1].remove()
                best = (overlap, text, box)
            else:
                text.remove()
            if overlap == 0:
                break
        placed.append(best[2])


def _overlap(a, b):
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width * height if width > 0 and height > 0 else 0.0


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("vectors", metavar="VECTORS")
@click.argument("output", metavar="OUTPUT.png")
@click.argument("requested", metavar="[WORD ...]", nargs=-1)
@click.option("--top", type=click.IntRange(min=2), default=DEFAULT_TOP, show_default=True,
              help="without WORDs, how many of the most frequent words to draw")
def cli(vectors, output, requested, top):
    """Draw the words of VECTORS on a 2-D map (PCA of their unit vectors).

    Writes OUTPUT (.png, .svg or .pdf): a labelled scatter plot of the WORDs
    given, or of the --top most frequent words of the file (leaving out
    </s>). VECTORS is a word2vec file in either format.
    """
    image_format = _output_format(output)
    _load_matplotlib()  # before the vectors are read: a missing extra is said at once
    with OutputFile(output) as out:
        words, matrix = read_vectors(vectors)
        rows = choose_rows(words, [os.fsencode(word) for word in requested], top)
        chosen = matrix[rows].astype(np.float64)
        norms = np.linalg.norm(chosen, axis=1, keepdims=True)
        chosen = chosen / np.where(norms > 0, norms, 1.0)
        coords, explained = project_2d(chosen)
        labels = [words[row].decode("utf-8", "replace") for row in rows]
        title = f"{os.path.basename(vectors)}: {len(rows)} words, PCA of the unit vectors"
        draw_map(labels, coords, explained, title, out.file, image_format)
    print(f"pyw2v-plot: {len(rows)} words drawn to {output}", file=sys.stderr)
    return 0


def main(argv=None):
    return run_click_command("pyw2v-plot", cli, argv)
