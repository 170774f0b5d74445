"""compute-accuracy: exactly C's lines."""
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest_tools import LEE_VECTORS, TOOLS_REFERENCE, questions_words, run_tool, shared_file

from pyw2v.model.vectors import write_vectors
from pyw2v.tools import accuracy
from pyw2v.tools.questions import bundled_questions


@pytest.mark.parametrize("name", ["questions-words.txt", "questions-phrases.txt"])
def test_bundled_questions_are_word2vecs(name):
    reference = shared_file("data", name)
    assert bundled_questions(name).read_bytes() == reference.read_bytes()


def test_bundled_questions_words_is_gensims():
    datapath = pytest.importorskip("gensim.test.utils", reason="gensim is not installed").datapath
    assert questions_words().read_bytes() == Path(datapath("questions-words.txt")).read_bytes()


RUN_ACCURACY = "import sys; from pyw2v.tools.accuracy import main; sys.exit(main())"


def _accuracy_from_a_terminal(args, cwd):
    """Run pyw2v-compute-accuracy with a pseudo-terminal as stdin; returns (status, stdout, stderr)."""
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUN_ACCURACY, *map(str, args)],
            stdin=terminal,
            capture_output=True,
            cwd=cwd,
            timeout=300,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    return done.returncode, done.stdout, done.stderr.decode()


def test_terminal_stdin_reads_the_bundled_questions(tmp_path):
    status, out, err = _accuracy_from_a_terminal([LEE_VECTORS, 0], tmp_path)
    assert status == 0, err
    assert "bundled questions" in err and "questions-words.txt" in err
    # the same report as with the file on stdin, and every one of its 19,544 questions asked
    expected = (TOOLS_REFERENCE / "lee.sg_ns.accuracy.0.txt").read_bytes()
    assert normalise_nan(out) == normalise_nan(expected)
    assert out.splitlines()[-1].startswith(b"Questions seen / total: ")
    assert out.splitlines()[-1].split()[5] == b"19544"


def test_terminal_stdin_with_a_question_file_reads_the_file(tmp_path, toy_vectors):
    questions = tmp_path / "q.txt"
    questions.write_bytes(b": family\nman king woman queen\n")
    status, out, err = _accuracy_from_a_terminal([toy_vectors, 0, questions], tmp_path)
    assert status == 0, err
    assert "bundled" not in err
    assert out.splitlines()[-1] == b"Questions seen / total: 1 1   100.00 % "


def normalise_nan(text):
    return text.replace(b"-nan", b"nan")  # only the sign of an empty section's NaN may differ


@pytest.mark.parametrize("threshold", [0, 30000])
def test_lee_accuracy_is_c_line_for_line(threshold):
    status, out, _ = run_tool(
        accuracy.main, [LEE_VECTORS, threshold], questions_words().read_bytes()
    )
    assert status == 0
    expected = (TOOLS_REFERENCE / f"lee.sg_ns.accuracy.{threshold}.txt").read_bytes()
    assert normalise_nan(out) == normalise_nan(expected)


@pytest.mark.parametrize("threshold", [0, 30000])
def test_wiki10m_accuracy_is_c_line_for_line(threshold):
    vectors = shared_file("parity", "tools", "wiki10m.sg_ns.bin")
    status, out, _ = run_tool(accuracy.main, [vectors, threshold, questions_words()])
    assert status == 0
    expected = (TOOLS_REFERENCE / f"wiki10m.sg_ns.accuracy.{threshold}.txt").read_bytes()
    assert normalise_nan(out) == normalise_nan(expected)


def test_questions_file_argument_equals_stdin():
    _, from_stdin, _ = run_tool(accuracy.main, [LEE_VECTORS, 0], questions_words().read_bytes())
    _, from_file, _ = run_tool(accuracy.main, [LEE_VECTORS, 0, questions_words()])
    assert from_file == from_stdin


@pytest.fixture
def toy_vectors(tmp_path):
    """a:b :: c:d holds exactly for (man, king, woman, queen); all words lower case."""
    import numpy as np

    words = [b"</s>", b"man", b"king", b"woman", b"queen", b"apple"]
    matrix = np.array(
        [[0, 0, 1], [1, 0, 0], [1, 1, 0], [0.5, 0, 0.1], [0.5, 1, 0.1], [0, 0, -1]], dtype=np.float32
    )
    path = tmp_path / "toy.txt"
    write_vectors(path, words, matrix, binary=False)
    return path


def test_counts_case_threshold_and_skipped_questions(toy_vectors):
    questions = (
        b": family\nMan King Woman Queen\nman king woman pear\n"
        b": gram1-x\nwoman queen man king\n"
    )
    status, out, _ = run_tool(accuracy.main, [toy_vectors], questions)
    assert status == 0
    lines = out.decode().splitlines()
    assert lines[0] == "family:"
    assert lines[1] == "ACCURACY TOP1: 100.00 %  (1 / 1)"  # upper-cased match; "pear" skipped
    assert lines[3] == "gram1-x:"
    assert lines[5].startswith("Total accuracy: 100.00 %   Semantic accuracy: 100.00 %")
    assert lines[-1] == "Questions seen / total: 2 3   66.67 % "
    # With only the first 3 words, "woman" and "queen" are unknown: nothing is asked.
    _, out, _ = run_tool(accuracy.main, [toy_vectors, 3], questions)
    assert out.decode().splitlines()[1] == "ACCURACY TOP1: 0.00 %  (0 / 1)"
    assert out.decode().splitlines()[-1] == "Questions seen / total: 0 3   0.00 % "


def test_empty_input_prints_cs_nan(toy_vectors):
    status, out, _ = run_tool(accuracy.main, [toy_vectors], b"")
    assert status == 0
    assert out == b"Questions seen / total: 0 0   -nan % \n"


def test_negative_threshold_is_a_one_line_error(toy_vectors):
    status, out, err = run_tool(accuracy.main, [toy_vectors, -5], b"")
    assert status != 0 and out == b""
    assert len(err.strip().splitlines()) == 1
