"""distance and word-analogy: C's text, C's words in C's order, C's quirks."""
import numpy as np
import pytest
from conftest_tools import LEE_VECTORS, TOOLS_REFERENCE, run_tool, shared_file

from pyw2v.model.vectors import write_vectors
from pyw2v.tools import analogy, distance

DISTANCE_INPUT = b"france\nking queen\nEXIT\n"
ANALOGY_INPUT = b"man king woman\nparis france berlin\nEXIT\n"


def table_rows(output):
    """(word, value) for every table line of a distance/word-analogy transcript."""
    rows = []
    for line in output.split(b"\n"):
        if b"\t\t" in line:
            word, value = line.rsplit(b"\t\t", 1)
            rows.append((word.strip(), float(value)))
    return rows


def assert_same_as_c(ours, reference):
    """Same text apart from the similarities, same words in the same order, values within 1e-5."""
    expected = reference.read_bytes()
    assert [w for w, _ in table_rows(ours)] == [w for w, _ in table_rows(expected)]
    ours_values = np.array([v for _, v in table_rows(ours)])
    expected_values = np.array([v for _, v in table_rows(expected)])
    np.testing.assert_allclose(ours_values, expected_values, rtol=0, atol=1e-5)
    strip = lambda text: [line for line in text.split(b"\n") if b"\t\t" not in line]  # noqa: E731
    assert strip(ours) == strip(expected)


@pytest.mark.parametrize(
    "tool, stdin, reference",
    [
        (distance, DISTANCE_INPUT, "lee.sg_ns.distance.txt"),
        (analogy, ANALOGY_INPUT, "lee.sg_ns.analogy.txt"),
    ],
)
def test_lee_transcripts_match_c(tool, stdin, reference):
    # On lee (mixed case) these queries hit C's out-of-dictionary paths,
    # including word-analogy reporting an unknown word at position 0.
    status, out, _ = run_tool(tool.main, [LEE_VECTORS], stdin)
    assert status == 0
    assert out == (TOOLS_REFERENCE / reference).read_bytes()


@pytest.mark.parametrize(
    "tool, stdin, reference",
    [
        (distance, DISTANCE_INPUT, "wiki10m.sg_ns.distance.txt"),
        (analogy, ANALOGY_INPUT, "wiki10m.sg_ns.analogy.txt"),
    ],
)
def test_wiki10m_tables_match_c(tool, stdin, reference):
    vectors = shared_file("parity", "tools", "wiki10m.sg_ns.bin")
    status, out, _ = run_tool(tool.main, [vectors], stdin)
    assert status == 0
    assert table_rows(out), "the queries should find their words in wiki10m"
    assert_same_as_c(out, TOOLS_REFERENCE / reference)


@pytest.fixture
def tied_vectors(tmp_path):
    """Rows built so that several words are exactly as similar to the query."""
    words = [b"</s>", b"query", b"late", b"early", b"same1", b"same2", b"far", b"zero"]
    base = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    other = np.array([0.0, 1.0, 0.0, 0.0], dtype=np.float32)
    matrix = np.stack([other, base, base + other, base + other, 2 * base + other,
                       2 * base + other, -base, np.zeros(4, np.float32)])
    path = tmp_path / "tied.bin"
    write_vectors(path, words, matrix, binary=True)
    return path


def test_ties_keep_vocabulary_order_and_padding(tied_vectors):
    status, out, _ = run_tool(distance.main, [tied_vectors], b"query\nEXIT\n")
    assert status == 0
    rows = table_rows(out)
    # C inserts a word only if strictly better, so equal words stay in file order;
    # "far" (-1) is not above C's starting value -1 and the zero row is NaN.
    assert [w for w, _ in rows[:5]] == [b"same1", b"same2", b"late", b"early", b"</s>"]
    assert rows[0][1] == rows[1][1] and rows[2][1] == rows[3][1]
    assert rows[5:] == [(b"", -1.0)] * 35
    assert len(rows) == 40


def test_analogy_lists_only_positive_words_and_excludes_the_query(tied_vectors):
    status, out, _ = run_tool(analogy.main, [tied_vectors], b"late early query\nEXIT\n")
    assert status == 0
    rows = table_rows(out)
    names = [w for w, v in rows if w]
    assert not {b"late", b"early", b"query"} & set(names)
    assert all(v > 0 for w, v in rows if w)
    assert rows[-1] == (b"", 0.0)


def test_out_of_dictionary_and_short_queries_carry_on(tied_vectors):
    status, out, _ = run_tool(analogy.main, [tied_vectors], b"late early\nlate nowhere query\nEXIT\n")
    assert status == 0
    assert b"Only 2 words were entered.. three words are needed" in out
    assert b"Word: nowhere  Position in vocabulary: 0\nOut of dictionary word!\n" in out
    assert out.endswith(b"Enter three words (EXIT to break): ")
    status, out, _ = run_tool(distance.main, [tied_vectors], b"query nowhere\nquery\n")
    assert status == 0  # end of input without EXIT also ends the loop
    assert b"Word: nowhere  Position in vocabulary: -1\nOut of dictionary word!\n" in out
    assert len(table_rows(out)) == 40  # the second query still ran


def test_several_words_are_averaged(tied_vectors):
    _, out, _ = run_tool(distance.main, [tied_vectors], b"late query\nEXIT\n")
    rows = table_rows(out)
    # The query is the sum of the two unit vectors (22.5 degrees from "query").
    target = np.array([1, 0]) + np.array([1, 1]) / np.sqrt(2)
    target /= np.linalg.norm(target)
    assert [w for w, _ in rows[:4]] == [b"same1", b"same2", b"early", b"</s>"]
    assert rows[0][1] == pytest.approx(target @ (np.array([2, 1]) / np.sqrt(5)), abs=1e-6)
    assert rows[2][1] == pytest.approx(target @ (np.array([1, 1]) / np.sqrt(2)), abs=1e-6)


def test_text_and_binary_files_give_the_same_answers(tmp_path):
    from pyw2v.model.vectors import read_vectors

    words, matrix = read_vectors(LEE_VECTORS)
    text = tmp_path / "lee.txt"
    write_vectors(text, words, matrix, binary=False)
    query = b"government\nPrime Minister\nEXIT\n"
    _, from_binary, _ = run_tool(distance.main, [LEE_VECTORS], query)
    _, from_text, _ = run_tool(distance.main, [text], query)
    assert len(table_rows(from_binary)) == 80
    np.testing.assert_allclose(
        [v for _, v in table_rows(from_text)], [v for _, v in table_rows(from_binary)], atol=1e-5
    )
