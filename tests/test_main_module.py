"""``python -m pyw2v`` is the ``pyw2v`` command."""
import subprocess
import sys

import pytest

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


def test_the_command_trains_without_importing_scipy_linalg(tmp_path):
    """Numba's start imports scipy.linalg to look for a BLAS that no kernel calls; the command hides it.

    Fails if Numba starts another way (the probe then runs again); skipped
    where scipy is not installed. The library's own callers keep Numba's
    usual start (checked too).
    """
    pytest.importorskip("scipy.linalg")
    (tmp_path / "corpus.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    script = (
        "import sys\n"
        "from pyw2v.cli import main\n"
        f"status = main(['-train', 'corpus.txt', '-output', 'v.bin', *{SMALL!r}])\n"
        "print('RESULT', status, 'scipy.linalg' in sys.modules, sys.modules.get('scipy.linalg', 0) is None)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.stdout.split("RESULT")[-1].split() == ["0", "False", "False"], result.stderr
    library = (
        "import sys\n"
        "from pyw2v.train import train\n"
        "train('corpus.txt', size=8, iter=1, threads=1, min_count=1, out=open('/dev/null', 'w'))\n"
        "print('RESULT', 'scipy.linalg' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", library], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.stdout.split("RESULT")[-1].split() == ["True"], result.stderr


def test_the_command_freezes_numba_out_of_the_collector_before_it_trains_and_a_python_caller_does_not(tmp_path):
    """The command owns its process: frozen once Numba has loaded, the compiler's passes skip its objects.

    A caller of ``main`` from Python keeps its collector as it was: a
    frozen object of theirs would never be collected.
    """
    (tmp_path / "corpus.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 50)
    script = (
        "import gc, os, sys\n"
        "frozen = []\n"
        "gc.freeze = lambda: frozen.append((os.path.exists('v.bin'), 'numba' in sys.modules))\n"
        "from pyw2v import cli, scripts\n"
        f"status = cli.main(['-train', 'corpus.txt', '-output', 'v.bin', *{SMALL!r}])\n"
        "print('RESULT', status, frozen)\n"
        "os.remove('v.bin')\n"
        f"sys.argv = ['pyw2v', '-train', 'corpus.txt', '-output', 'v.bin', *{SMALL!r}]\n"
        "sys.exit = lambda status: print('RESULT', status, frozen)\n"
        "scripts.pyw2v()\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    library, command = (line.split("RESULT ")[1] for line in result.stdout.splitlines() if "RESULT" in line)
    assert library == "0 []", result.stderr
    # Before the training (no output yet, Numba loaded), then at the exit (pyw2v.scripts).
    assert command == "0 [(False, True), (True, True)]", result.stderr


MISSING_INPUT = {
    "pyw2v": ["-train", "missing.txt", "-output", "v.bin"],
    "pyw2v-distance": ["missing.bin"],
    "pyw2v-word-analogy": ["missing.bin"],
    "pyw2v-compute-accuracy": ["missing.bin"],
    "pyw2v-word2phrase": ["-train", "missing.txt", "-output", "phrases.txt"],
    "pyw2v-plot": ["missing.bin", "plot.png"],
}


def _console_scripts():
    from pathlib import Path

    import tomllib

    with open(Path(__file__).parents[1] / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["scripts"]


@pytest.mark.parametrize("name", sorted(MISSING_INPUT))
def test_each_console_script_keeps_its_commands_exit_status_and_one_line(tmp_path, name):
    """The console scripts (``pyw2v.scripts``) wrap each command's main: its one line and status must come through.

    Fails if an entry point names a missing function, or if the wrapper
    loses the status (exit 0 after an error) or adds output.
    """
    target = _console_scripts()[name]
    module, function = target.split(":")
    assert module == "pyw2v.scripts"
    script = f"import sys; sys.argv[1:] = {MISSING_INPUT[name]!r}; from {module} import {function}; {function}()"
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=300, check=False)
    assert result.returncode == 1, result.stderr
    assert result.stdout == "" or name == "pyw2v"  # pyw2v prints its "Starting training" line first
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{name}: ") and "missing" in lines[0], result.stderr


def test_every_console_script_is_tested():
    assert set(_console_scripts()) == set(MISSING_INPUT)
