"""Outputs never destroy what they replace: special files, links, inputs, full disks, signals.

Special files are made in a temporary directory (a FIFO, links, device nodes
made with mknod as root), never taken from /dev.
"""
import os
import signal
import stat
import subprocess
import sys
import threading

import pytest
from helpers import _default_signals, start_long_training

from pyw2v.cli import main
from pyw2v.tools import word2phrase

CORPUS = b"a b c a b a\nb c a\n"
SMALL = ["-size", "8", "-iter", "1", "-threads", "1", "-min-count", "1", "-debug", "0"]


def run_pyw2v(args, cwd, **kwargs):
    return subprocess.run([sys.executable, "-m", "pyw2v.cli", *map(str, args)], cwd=cwd, timeout=300, check=False,
                          **kwargs)


def one_line(stderr):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def leftovers(directory):
    return [name for name in os.listdir(directory) if name.endswith(".part")]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(CORPUS)
    return path


def read_fifo_in_background(path):
    """Start a reader of the FIFO ``path``; returns a function giving what it read."""
    received = []

    def read():
        with open(path, "rb") as fifo:
            received.append(fifo.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def result():
        reader.join(60)
        assert not reader.is_alive(), "nothing was ever written to the FIFO"
        return received[0]

    return result


@pytest.mark.parametrize("binary", ["0", "1"])
def test_fifo_output_is_written_as_a_stream(tmp_path, corpus, binary):
    fifo = tmp_path / "vectors.fifo"
    os.mkfifo(fifo)
    received = read_fifo_in_background(fifo)
    assert main(["-train", str(corpus), "-output", str(fifo), "-binary", binary] + SMALL) == 0
    assert received().startswith(b"4 8\n</s> ")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(tmp_path) == []


def test_link_to_a_fifo_is_written_through(tmp_path, corpus):
    fifo = tmp_path / "classes.fifo"
    os.mkfifo(fifo)
    link = tmp_path / "classes.txt"
    link.symlink_to(fifo.name)
    received = read_fifo_in_background(fifo)
    assert main(["-train", str(corpus), "-output", str(link), "-classes", "2"] + SMALL) == 0
    assert received().startswith(b"</s> ")
    assert os.readlink(link) == fifo.name and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_link_to_a_regular_file_keeps_the_link(tmp_path, corpus):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "vectors.txt"
    target.write_bytes(b"old vectors")
    link = tmp_path / "vectors.txt"
    link.symlink_to(target)
    vocab_link = tmp_path / "vocab.txt"
    vocab_link.symlink_to("real/vocab.txt")  # dangling: the target is created
    assert main(["-train", str(corpus), "-output", str(link), "-save-vocab", str(vocab_link)] + SMALL) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes().startswith(b"4 8\n</s> ")
    assert vocab_link.is_symlink() and (tmp_path / "real" / "vocab.txt").read_bytes() == b"</s> 2\na 4\nb 3\nc 2\n"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "real") == []


def test_word2phrase_writes_a_fifo_as_a_stream(tmp_path, corpus):
    fifo = tmp_path / "phrases.fifo"
    os.mkfifo(fifo)
    received = read_fifo_in_background(fifo)
    status = word2phrase.main(["-train", str(corpus), "-output", str(fifo), "-min-count", "1", "-debug", "0"])
    assert status == 0
    assert received() == b" a b c a b a\n b c a\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def make_device(path, minor):
    """A copy of a memory device (3: null, 7: full) in the test's directory, or skip."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        with open(path, "wb") as probe:
            probe.write(b"")
    except OSError as exc:
        pytest.skip(f"cannot make a device node here: {exc}")


def test_null_device_output_stays_a_device(tmp_path, corpus):
    null = tmp_path / "null"
    make_device(null, 3)
    result = run_pyw2v(["-train", corpus, "-output", null, "-save-vocab", null] + SMALL, tmp_path,
                       capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(os.lstat(null).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "null"]


def test_full_device_output_is_one_line_and_stays_a_device(tmp_path, corpus):
    full = tmp_path / "full"
    make_device(full, 7)
    result = run_pyw2v(["-train", corpus, "-output", full] + SMALL, tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert one_line(result.stderr) == f"pyw2v: cannot write {full}: No space left on device"
    assert stat.S_ISCHR(os.lstat(full).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["corpus.txt", "full"]


def test_link_to_own_stdout_writes_where_stdout_writes(tmp_path, corpus):
    """A link to /proc/self/fd/1 (what /dev/stdout is) appends to stdout, even when stdout is a file."""
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    captured = tmp_path / "captured.txt"
    captured.write_bytes(b"earlier line\n")
    with open(captured, "ab") as stdout:
        result = run_pyw2v(["-train", corpus, "-output", link] + SMALL, tmp_path, stdout=stdout,
                           stderr=subprocess.PIPE, text=True)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    text = captured.read_bytes()
    assert text.startswith(b"earlier line\nStarting training using file ") and b"\n4 8\n</s> " in text
    piped = run_pyw2v(["-train", corpus, "-output", link] + SMALL, tmp_path, capture_output=True)
    assert piped.returncode == 0 and b"\n4 8\n</s> " in piped.stdout


@pytest.mark.parametrize(
    "flags",
    [
        ("-train", "corpus.txt", "-output", "./corpus.txt"),
        ("-train", "corpus.txt", "-output", "hard.txt"),
        ("-train", "corpus.txt", "-output", "soft.txt"),
        ("-train", "corpus.txt", "-output", "v.txt", "-save-vocab", "soft.txt"),
        ("-train", "corpus.txt", "-read-vocab", "vocab.txt", "-output", "vocab.txt"),
        ("-train", "corpus.txt", "-read-vocab", "vocab.txt", "-save-vocab", "./vocab.txt"),
    ],
)
def test_output_that_is_an_input_is_refused_before_any_work(tmp_path, corpus, flags):
    os.link(corpus, tmp_path / "hard.txt")
    (tmp_path / "soft.txt").symlink_to("corpus.txt")
    (tmp_path / "vocab.txt").write_bytes(b"</s> 2\na 4\nb 3\nc 2\n")
    result = run_pyw2v(list(flags) + SMALL, tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert "is the same file as" in one_line(result.stderr) and "Starting training" not in result.stdout
    assert corpus.read_bytes() == CORPUS and (tmp_path / "vocab.txt").read_bytes() == b"</s> 2\na 4\nb 3\nc 2\n"
    assert not (tmp_path / "v.txt").exists() and leftovers(tmp_path) == []


def test_word2phrase_refuses_to_overwrite_its_input(tmp_path, corpus, capsys):
    status = word2phrase.main(["-train", str(corpus), "-output", os.path.join(str(tmp_path), ".", "corpus.txt")])
    assert status == 1
    assert "is the same file as -train" in one_line(capsys.readouterr().err)
    assert corpus.read_bytes() == CORPUS and leftovers(tmp_path) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs mounted in the test's directory (root only), unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


@pytest.mark.parametrize("option", ["-output", "-save-vocab"])
def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, small_disk, option):
    words = b" ".join(b"w%d" % i for i in range(9000)) + b"\n"
    (tmp_path / "big.txt").write_bytes(words)  # 9000 words of vectors: some 100 KiB of text
    result = run_pyw2v(["-train", "big.txt", option, small_disk / "out.txt"] + SMALL, tmp_path,
                       capture_output=True, text=True)
    assert result.returncode == 1
    assert one_line(result.stderr) == f"pyw2v: cannot write {small_disk / 'out.txt'}: No space left on device"
    assert os.listdir(small_disk) == []


def test_word2phrase_full_disk_is_one_line_and_leaves_nothing(tmp_path, small_disk, capsys):
    (tmp_path / "big.txt").write_bytes(b"some words to join " * 5000)
    status = word2phrase.main(["-train", str(tmp_path / "big.txt"), "-output", str(small_disk / "out.txt")])
    assert status == 1
    assert "No space left on device" in one_line(capsys.readouterr().err)
    assert os.listdir(small_disk) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_stop_training_like_ctrl_c(lee_corpus, tmp_path, signum):
    process = start_long_training(lee_corpus, tmp_path)
    try:
        assert leftovers(tmp_path)  # the temporary output exists while training
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # a child that ignored the signal would train for hours
    assert process.returncode == 128 + signum
    assert one_line(stderr) == f"pyw2v: stopped by {signal.Signals(signum).name}"
    assert os.listdir(tmp_path) == []


# Sends the signal from inside LLVM's callback for an object Numba compiled (the first, or the
# first once the compile-ahead process runs), then runs pyw2v.
SIGNAL_WHILE_COMPILING = """
import os, sys
from numba.core.codegen import JITCodeLibrary

compiled = JITCodeLibrary._object_compiled_hook.__func__

def has_child():
    with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as children:
        return bool(children.read().split())

def signal_inside(cls, ll_module, buf):
    if not signal_inside.sent and (sys.argv[2] == "first" or has_child()):
        signal_inside.sent = True
        os.kill(os.getpid(), int(sys.argv[1]))
        sum(range(1000))  # bytecode, so that the handler runs here, inside the callback
    return compiled(cls, ll_module, buf)

signal_inside.sent = False
JITCodeLibrary._object_compiled_hook = classmethod(signal_inside)
from pyw2v.cli import main
sys.exit(main(sys.argv[3:]))
"""


def processes_marked(marker):
    """The processes whose environment holds ``marker`` (a run's, and any child it left behind)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if marker.encode() in environ.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


@pytest.mark.parametrize(
    "signum, when", [(signal.SIGINT, "first"), (signal.SIGTERM, "first"), (signal.SIGTERM, "child")]
)
def test_a_signal_while_numba_compiles_stops_the_run_cleanly(tmp_path, signum, when):
    # Raised inside LLVM's callback, the signal was lost (the run went on and
    # exited 0) or broke the compiler ("no compiled object yet"). On an empty
    # cache, with the loop compiled ahead in a second process.
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "tiny.txt").write_bytes(CORPUS * 20)
    marker = f"PYW2V_TEST_RUN={tmp_path.name}"
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYW2V_TEST_RUN=tmp_path.name)
    args = ["-train", "tiny.txt", "-output", "v.bin", "-threads", "2", "-size", "8", "-iter", "1", "-min-count", "1"]
    if when == "child" and len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: no loop is compiled ahead in a second process")
    result = subprocess.run([sys.executable, "-c", SIGNAL_WHILE_COMPILING, str(int(signum)), when] + args,
                            cwd=tmp_path / "run", env=env, capture_output=True, text=True, timeout=600,
                            preexec_fn=_default_signals, check=False)
    expected = "pyw2v: interrupted" if signum == signal.SIGINT else f"pyw2v: stopped by {signal.Signals(signum).name}"
    assert result.returncode == 128 + signum, result.stderr
    assert one_line(result.stderr) == expected
    assert os.listdir(tmp_path / "run") == ["tiny.txt"]
    assert processes_marked(marker) == []  # the compile-ahead process is gone too


def test_the_loop_compiled_ahead_ends_with_a_killed_run(tmp_path):
    # SIGKILL reaches no handler: the system must end the compile-ahead process with its run.
    import time

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one core: no loop is compiled ahead in a second process")
    (tmp_path / "tiny.txt").write_bytes(CORPUS * 20)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYW2V_TEST_RUN=tmp_path.name)
    process = subprocess.Popen([sys.executable, "-m", "pyw2v.cli", "-train", "tiny.txt", "-output", "v.bin"] + SMALL,
                               cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        children = f"/proc/{process.pid}/task/{process.pid}/children"
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            with open(children) as listed:
                if listed.read().split():
                    break
            time.sleep(0.01)
        else:
            pytest.skip("the run ended, or never compiled ahead")
        time.sleep(0.5)  # the child is past its start
        process.kill()
        process.wait()
        deadline = time.monotonic() + 10
        while processes_marked(f"PYW2V_TEST_RUN={tmp_path.name}") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_marked(f"PYW2V_TEST_RUN={tmp_path.name}") == []
    finally:
        process.kill()


def test_an_ignored_sighup_stays_ignored(monkeypatch):
    """Under nohup SIGHUP is ignored when the command starts; it must stay so."""
    from pyw2v.errors import run_command

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        seen = run_command("pyw2v", lambda: signal.getsignal(signal.SIGHUP) == signal.SIG_IGN and 7)
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert seen == 7
