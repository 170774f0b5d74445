"""User errors end in one stderr line, a non-zero exit, and no output file."""
import gzip
import os
import subprocess
import sys

import pytest
from helpers import start_long_training

from pyw2v.cli import main


def run_pyw2v(args, cwd):
    """The real command in a subprocess, to see its exact stderr and exit status."""
    result = subprocess.run(
        [sys.executable, "-m", "pyw2v.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    return result.returncode, result.stdout, result.stderr


def assert_one_line_failure(status, stderr, needle):
    assert status != 0
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert needle in lines[0], lines[0]


SMALL = ["-size", "8", "-iter", "1", "-threads", "1", "-min-count", "1", "-debug", "0"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["-train", "missing.txt", "-output", "v.txt"], "no such file"),
        (["-train", "adir", "-output", "v.txt"], "directory"),
        (["-train", "empty.txt", "-output", "v.txt"], "nothing to train"),
        (["-train", "tiny.txt", "-output", "v.txt", "-min-count", "50"], "nothing to train"),
        (["-train", "tiny.txt", "-output", "nowhere/v.txt"], "does not exist"),
        (["-train", "tiny.txt", "-output", "v.txt", "-bogus", "1"], "unknown option"),
        (["-train", "tiny.txt", "-output", "v.txt", "-size", "8", "-size", "9"], "given twice"),
        (["-train", "tiny.txt", "-output"], "argument missing"),
        (["-train", "tiny.txt", "-output", "v.txt", "-size", "abc"], "needs an integer"),
        (["-train", "tiny.txt", "-output", "v.txt", "-size", "0"], "-size"),
        (["-train", "tiny.txt", "-output", "v.txt", "-window", "-1"], "-window"),
        (["-train", "tiny.txt", "-output", "v.txt", "-threads", "0"], "-threads"),
        (["-train", "tiny.txt", "-output", "v.txt", "-iter", "0"], "-iter"),
        (["-train", "tiny.txt", "-output", "v.txt", "-negative", "-2"], "-negative"),
        (["-train", "tiny.txt", "-output", "v.txt", "-hs", "0", "-negative", "0"], "nothing to train"),
        (["-train", "tiny.txt", "-output", "v.txt", "-sample", "-1e-3"], "-sample"),
        (["-train", "tiny.txt", "-output", "v.txt", "-alpha", "-0.1"], "-alpha"),
        (["-train", "tiny.txt", "-output", "v.txt", "-read-vocab", "missing.vocab"], "no such file"),
        (["-train", "tiny.txt", "-output", "v.txt", "-read-vocab", "bad.vocab"], "expected 'word count'"),
        (["-train", "cut.txt.gz", "-output", "v.txt"], "cannot read cut.txt.gz"),
        (["-train", "cut.txt.gz", "-output", "v.txt", "-threads", "2"], "cannot read cut.txt.gz"),
    ],
)
def test_user_error(tmp_path, args, needle):
    (tmp_path / "adir").mkdir()
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "tiny.txt").write_bytes(b"a b c a b a\nb c a\n")
    (tmp_path / "bad.vocab").write_bytes(b"</s> 2\na three\n")
    # A gzip file cut short: two threads read it in segments, one thread in one piece.
    (tmp_path / "cut.txt.gz").write_bytes(gzip.compress(b"a b c a b a\nb c a\n" * 20_000)[:-100])
    extra = [] if len(args) <= 3 else [
        item for flag, value in zip(SMALL[::2], SMALL[1::2]) if flag not in args for item in (flag, value)
    ]
    status, _, stderr = run_pyw2v(args + extra, tmp_path)
    assert_one_line_failure(status, stderr, needle)
    assert not (tmp_path / "v.txt").exists()
    assert [name for name in os.listdir(tmp_path) if name.endswith(".part")] == []


@pytest.mark.parametrize("suffix, module", [(".zst", "backports.zstd"), (".lz4", "lz4.frame")])
def test_a_compression_whose_package_is_missing_is_one_line_naming_it(tmp_path, suffix, module):
    try:
        __import__(module)
        pytest.skip(f"{module} is installed here, so {suffix} files are read")
    except ImportError:
        pass
    (tmp_path / f"corpus.txt{suffix}").write_bytes(b"a b c a b a\n")
    status, _, stderr = run_pyw2v(["-train", f"corpus.txt{suffix}", "-output", "v.txt", *SMALL], tmp_path)
    assert_one_line_failure(status, stderr, f"pip install {module.split('.frame')[0]}")
    assert not (tmp_path / "v.txt").exists()


def test_no_arguments_prints_every_option_with_its_default(capsys):
    assert main([]) == 0
    usage = capsys.readouterr().out
    for option in ("-train", "-output", "-size", "-window", "-sample", "-hs", "-negative", "-threads", "-iter",
                   "-min-count", "-alpha", "-classes", "-debug", "-binary", "-save-vocab", "-read-vocab", "-cbow"):
        assert f"\t{option} <" in usage
    assert "default is 100" in usage and "(default 12)" in usage and "0.025 for skip-gram and 0.05 for CBOW" in usage


def test_interrupted_run_leaves_no_output(tmp_path, monkeypatch, capsys):
    from pyw2v import train as training

    (tmp_path / "tiny.txt").write_bytes(b"a b c a b a\nb c a\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train_epochs", interrupted)
    status = main(["-train", str(tmp_path / "tiny.txt"), "-output", str(tmp_path / "v.bin")] + SMALL)
    assert status == 130
    assert os.listdir(tmp_path) == ["tiny.txt"]
    assert capsys.readouterr().err.strip() == "pyw2v: interrupted"


def test_successful_run_replaces_output_whole(tmp_path, capsys):
    corpus = tmp_path / "tiny.txt"
    corpus.write_bytes(b"a b c a b a\nb c a\n")
    target = tmp_path / "v.txt"
    target.write_bytes(b"old contents")
    assert main(["-train", str(corpus), "-output", str(target)] + SMALL) == 0
    assert target.read_bytes().startswith(b"4 8\n</s> ")
    assert sorted(os.listdir(tmp_path)) == ["tiny.txt", "v.txt"]


def test_ctrl_c_during_training_stops_promptly_and_leaves_nothing(lee_corpus, tmp_path):
    import signal
    import time

    process = start_long_training(lee_corpus, tmp_path)
    try:
        process.send_signal(signal.SIGINT)
        started = time.monotonic()
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # a child that ignored the signal would train for hours
    assert time.monotonic() - started < 10
    assert process.returncode == 130
    assert stderr.strip() == "pyw2v: interrupted"
    assert os.listdir(tmp_path) == []


def test_a_text_of_newlines_trains_its_one_word(tmp_path, capsys):
    # C's vocabulary always holds </s>, counted once a newline: C writes a one-word file.
    (tmp_path / "newlines.txt").write_bytes(b"\n" * 1000)
    status = main(["-train", str(tmp_path / "newlines.txt"), "-output", str(tmp_path / "v.txt")] + SMALL)
    assert status == 0, capsys.readouterr().err
    assert (tmp_path / "v.txt").read_bytes().startswith(b"1 8\n</s> ")


def _run_with(args, cwd, stdout, check=False, **kwargs):
    return subprocess.run([sys.executable, "-m", "pyw2v.cli", *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=300, check=check, **kwargs)


def test_a_closed_log_pipe_fails_the_run_as_cs_sigpipe_does(tmp_path):
    # `pyw2v ... | head -1` with the reader gone before the first line: never status 0 without the vectors.
    (tmp_path / "tiny.txt").write_bytes(b"a b c a b a\nb c a\n")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = _run_with(["-train", "tiny.txt", "-output", "v.txt"] + SMALL[:-1] + ["2"], tmp_path, write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 141
    assert_one_line_failure(result.returncode, result.stderr.decode(), "broken pipe")
    assert os.listdir(tmp_path) == ["tiny.txt"]


def test_a_file_name_that_is_not_utf8_prints_as_its_bytes(tmp_path):
    name = b"caf\xe9.txt"
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as corpus:
        corpus.write(b"a b c a b a\nb c a\n")
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    result = _run_with(["-train", os.fsdecode(name), "-output", "v.txt"] + SMALL, tmp_path, subprocess.PIPE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"Starting training using file caf\xe9.txt\n"
    missing = _run_with(["-train", "missing\udce9.txt", "-output", "v.txt"], tmp_path, subprocess.PIPE, env=env)
    assert missing.returncode == 1
    assert missing.stderr == b"pyw2v: cannot read missing\xe9.txt: no such file\n"


def test_stdout_closed_at_start_trains_the_same_vectors(tmp_path):
    (tmp_path / "tiny.txt").write_bytes(b"a b c a b a\nb c a\n" * 50)
    args = ["-train", "tiny.txt"] + SMALL[:-1] + ["2", "-binary", "1"]
    _run_with(args + ["-output", "open.bin"], tmp_path, subprocess.DEVNULL, check=True)
    closed = _run_with(args + ["-output", "closed.bin"], tmp_path, None, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 0 and closed.stderr == b""
    assert (tmp_path / "closed.bin").read_bytes() == (tmp_path / "open.bin").read_bytes()
    # Vectors asked of the closed stdout itself cannot be written: one line, not a silent success.
    to_stdout = _run_with(args + ["-output", "/dev/stdout"], tmp_path, None, preexec_fn=lambda: os.close(1))
    assert_one_line_failure(to_stdout.returncode, to_stdout.stderr.decode(), "cannot write /dev/stdout")
