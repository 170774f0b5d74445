"""``python -m pyw2v`` is the ``pyw2v`` command."""
import subprocess
import sys

from pyw2v.options import usage_text

SMALL = ["-size", "8", "-iter", "1", "-threads", "1", "-min-count", "1", "-debug", "0", "-binary", "1"]


def run(module, args, cwd):
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return result.returncode, result.stdout, result.stderr


def test_no_arguments_print_the_options(tmp_path):
    status, out, err = run("pyw2v", [], tmp_path)
    assert (status, err) == (0, "")
    assert out == usage_text() + "\n"
    assert "-train <file>" in out


def test_errors_are_the_commands_one_line(tmp_path):
    args = ["-train", "missing.txt", "-output", "v.bin"]
    assert run("pyw2v", args, tmp_path) == run("pyw2v.cli", args, tmp_path)
    status, out, err = run("pyw2v", args, tmp_path)
    assert status == 1
    assert err.startswith("pyw2v: ") and len(err.splitlines()) == 1


def test_it_trains_what_the_command_trains(tmp_path):
    (tmp_path / "corpus.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    assert run("pyw2v", ["-train", "corpus.txt", "-output", "a.bin", *SMALL], tmp_path)[0] == 0
    assert run("pyw2v.cli", ["-train", "corpus.txt", "-output", "b.bin", *SMALL], tmp_path)[0] == 0
    first = (tmp_path / "a.bin").read_bytes()
    assert first.startswith(b"8 8\n")  # </s> and the seven words
    assert first == (tmp_path / "b.bin").read_bytes()
