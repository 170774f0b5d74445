"""A corpus too big for a cgroup's memory limit in memory trains within it, from disk (issue 22).

The corpus has about 27 million tokens of a 60,000-word vocabulary: its two
varint streams take some 150 MB together, and the limit is 160 MB. Held in
memory (``-memory-budget`` forced high) the run is killed; with the default
budget, read from the cgroup's limit, the streams go to a temporary file and
the run ends. It needs root and the cgroup v1 memory controller; elsewhere
it is skipped.
"""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

CGROUP_V1 = Path("/sys/fs/cgroup/memory")
LIMIT = 160 << 20
TOKENS = 27_000_000
WORDS = 60_000
# A cheap model: the limit is about the corpus, and the test should not train for long.
TRAINING = ["-size", "4", "-window", "1", "-negative", "1", "-cbow", "1", "-fast", "1", "-iter", "1", "-threads", "2",
            "-min-count", "1", "-sample", "0", "-binary", "1", "-debug", "1"]


@pytest.fixture
def memory_cgroup():
    """Makes cgroups under the v1 memory controller (removed after); skips where that is impossible."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a memory cgroup")
    if not (CGROUP_V1 / "cgroup.procs").exists() or not (CGROUP_V1 / "memory.limit_in_bytes").exists():
        pytest.skip("needs the cgroup v1 memory controller at /sys/fs/cgroup/memory")
    made = []

    def make(limit):
        group = CGROUP_V1 / f"pyw2v-test-{uuid.uuid4().hex[:12]}"
        try:
            group.mkdir()
        except OSError as exc:
            pytest.skip(f"cannot create a memory cgroup: {exc}")
        made.append(group)
        (group / "memory.limit_in_bytes").write_text(str(limit))
        return group

    yield make
    for group in made:
        try:
            group.rmdir()
        except OSError:
            pass


def big_corpus(path):
    """TOKENS words of three letters or digits, uniformly drawn from WORDS, 20 to a line."""
    rng = np.random.default_rng(22)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", dtype=np.uint8)
    codes = rng.choice(len(letters) ** 3, WORDS, replace=False)
    spelled = np.empty((WORDS, 4), dtype=np.uint8)
    for place in range(3):
        spelled[:, place] = letters[codes // len(letters) ** place % len(letters)]
    spelled[:, 3] = ord(" ")
    text = spelled[rng.integers(0, WORDS, TOKENS, dtype=np.int32)]
    text[19::20, 3] = ord("\n")
    path.write_bytes(text.tobytes())
    return path


def run_in(group, arguments, cwd):
    """``pyw2v arguments`` as a process of ``group``: it joins the group, then becomes pyw2v."""
    command = [sys.executable, "-m", "pyw2v.cli"] + arguments
    join = f'echo $$ > "{group}/cgroup.procs" && exec "$@"'
    return subprocess.run(["sh", "-c", join, "sh"] + command, cwd=cwd, capture_output=True, text=True, timeout=1800)


def test_corpus_over_the_limit_trains_from_disk(memory_cgroup, tmp_path):
    corpus = big_corpus(tmp_path / "corpus.txt")
    # Compile (or load) the kernels outside the limit: Numba's compiler alone takes more than it.
    warm = tmp_path / "warm.txt"
    warm.write_bytes(corpus.read_bytes()[: 1 << 20])
    warm_up = [sys.executable, "-m", "pyw2v.cli", "-train", str(warm), "-output", str(tmp_path / "warm.bin")] + TRAINING
    subprocess.run(warm_up, check=True, capture_output=True)

    held = memory_cgroup(LIMIT)
    in_memory_args = ["-train", str(corpus), "-output", str(tmp_path / "held.bin"), "-memory-budget", "100000"]
    in_memory_args += TRAINING
    in_memory = run_in(held, in_memory_args, tmp_path)
    oom = (held / "memory.oom_control").read_text()
    assert in_memory.returncode != 0, "the limit does not bind: the test proves nothing"
    assert in_memory.returncode == -9 or "oom_kill 0" not in oom
    assert not (tmp_path / "held.bin").exists()

    limited = memory_cgroup(LIMIT)
    on_disk_args = ["-train", str(corpus), "-output", str(tmp_path / "vectors.bin"), "-tmpdir", str(tmp_path)]
    on_disk_args += TRAINING
    on_disk = run_in(limited, on_disk_args, tmp_path)
    assert on_disk.returncode == 0, on_disk.stderr[-2000:]
    assert "over the memory budget" in on_disk.stdout
    assert f"Words in train file: {TOKENS + TOKENS // 20}" in on_disk.stdout  # each line's </s> counts
    assert int((limited / "memory.max_usage_in_bytes").read_text()) <= LIMIT
    with open(tmp_path / "vectors.bin", "rb") as vectors:
        assert vectors.readline() == b"%d 4\n" % (WORDS + 1)
    # No spill file (they have no name); the killed run's half-written output (SIGKILL) is no concern here.
    left = {"corpus.txt", "warm.txt", "warm.bin", "vectors.bin"}
    assert [name for name in os.listdir(tmp_path) if name not in left and not name.startswith(".held.bin.")] == []
