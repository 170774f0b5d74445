"""User errors end in one stderr line, a non-zero status and no half-written file."""
import subprocess

import numpy as np
import pytest
from conftest_tools import LEE_VECTORS, run_tool

from pyw2v.tools import accuracy, analogy, distance, word2phrase

VECTOR_TOOLS = [distance, analogy, accuracy]


def bad_vector_files(tmp_path):
    lee = LEE_VECTORS.read_bytes()
    files = {
        "missing": tmp_path / "nowhere.bin",
        "not a vector file": tmp_path / "notes.txt",
        "truncated binary": tmp_path / "short.bin",
        "truncated text": tmp_path / "short.txt",
        "nonsense header": tmp_path / "header.bin",
        "directory": tmp_path,
    }
    files["not a vector file"].write_bytes(b"Dear diary,\nnothing to see here.\n")
    files["truncated binary"].write_bytes(lee[: len(lee) // 2])
    files["truncated text"].write_bytes(b"3 2\nfoo 0.1 0.2\nbar 0.3 0.4\n")
    files["nonsense header"].write_bytes(b"-4 abc\n" + lee[lee.index(b"\n") + 1 :])
    return files


@pytest.mark.parametrize("tool", VECTOR_TOOLS, ids=lambda t: t.__name__.rsplit(".", 1)[-1])
def test_bad_vector_files(tool, tmp_path):
    for case, path in bad_vector_files(tmp_path).items():
        status, out, err = run_tool(tool.main, [path], b"EXIT\n")
        assert status != 0, case
        assert out == b"", case
        assert len(err.strip().splitlines()) == 1, (case, err)
        assert "Traceback" not in err


@pytest.mark.parametrize(
    "command", ["pyw2v-distance", "pyw2v-word-analogy", "pyw2v-compute-accuracy"]
)
def test_console_scripts_fail_in_one_line(command, tmp_path):
    truncated = tmp_path / "short.bin"
    truncated.write_bytes(LEE_VECTORS.read_bytes()[:5000])
    result = subprocess.run([command, str(truncated)], input=b"EXIT\n", capture_output=True)
    assert result.returncode != 0
    assert result.stdout == b""
    assert result.stderr.decode().count("\n") == 1
    assert "truncated" in result.stderr.decode()


def test_missing_argument_is_one_line():
    status, out, err = run_tool(distance.main, [])
    assert status != 0 and out == b"" and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["-train", "nowhere.txt", "-output", "out.txt"], "nowhere.txt"),
        (["-train", "in.txt", "-output"], "Argument missing for -output"),
        (["-train", "in.txt", "-output", "out.txt", "-threshold", "high"], "-threshold"),
        (["-train", "in.txt", "-output", "out.txt", "-colour", "1"], "-colour"),
        (["-train", "in.txt"], "-output"),
        (["-train", "in.txt", "-output", "no/such/dir/out.txt"], "does not exist"),
    ],
)
def test_word2phrase_errors(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_bytes(b"a b c a b c\n")
    status, out, err = run_tool(word2phrase.main, args)
    assert status != 0
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not (tmp_path / "out.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["in.txt"]  # no temporary file left


def test_word2phrase_without_options_prints_help():
    status, out, err = run_tool(word2phrase.main, [])
    assert status == 0 and b"-threshold" in out and err == ""


def test_closed_pipe_is_not_a_traceback():
    # A reader that goes away (``| head``) must not produce a traceback.
    result = subprocess.run(
        f"printf 'the\\nthe\\nthe\\n' | pyw2v-distance {LEE_VECTORS} | head -c 10",
        shell=True, capture_output=True,
    )
    assert result.stdout == b"Enter word"
    assert b"Traceback" not in result.stderr


def test_zero_vector_does_not_crash(tmp_path):
    from pyw2v.model.vectors import write_vectors

    path = tmp_path / "zero.bin"
    write_vectors(path, [b"</s>", b"a", b"b"], np.array([[1, 0], [0, 0], [0, 1]], np.float32), True)
    status, out, _ = run_tool(distance.main, [path], b"a\nb\nEXIT\n")
    assert status == 0
    # As distance.c: the zero row "a" becomes NaN, so its query lists nothing and
    # it never ranks; "b" lists only "</s>" (similarity 0 is above C's -1).
    tables = out.split(b"-" * 72 + b"\n")[1:]
    assert tables[0].count(b"\t\t-1.000000\n") == 40
    assert tables[1].startswith(b" " * 46 + b"</s>\t\t0.000000\n")
    assert tables[1].count(b"\t\t-1.000000\n") == 39
