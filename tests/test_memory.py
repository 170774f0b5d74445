"""The memory estimate and the memory available, read from fake /proc and cgroup trees."""
import pytest

from pyw2v.errors import UserError
from pyw2v.memory import GIB, MIB, available_memory, check_model_fits, human_bytes, model_bytes
from pyw2v.options import TrainOptions

MEMINFO = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   22020096 kB\n"


def fake_system(tmp_path, cgroup_lines, files):
    """A meminfo, a /proc/self/cgroup and a cgroup tree with ``files`` (relative path -> text)."""
    (tmp_path / "meminfo").write_text(MEMINFO)
    (tmp_path / "cgroup").write_text(cgroup_lines)
    root = tmp_path / "sys"
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return dict(meminfo=str(tmp_path / "meminfo"), cgroup_root=str(root), own_cgroup=str(tmp_path / "cgroup"))


def test_mem_available_without_a_cgroup_limit(tmp_path):
    paths = fake_system(tmp_path, "5:memory:/\n", {"memory/memory.limit_in_bytes": "9223372036854771712\n"})
    assert available_memory(**paths) == 22020096 * 1024


def test_cgroup_v1_limit_less_its_usage_less_inactive_cache(tmp_path):
    paths = fake_system(tmp_path, "12:cpu:/x\n5:memory:/job/step\n", {
        "memory/memory.limit_in_bytes": "9223372036854771712\n",
        "memory/job/memory.limit_in_bytes": str(8 * GIB),
        "memory/job/memory.usage_in_bytes": str(3 * GIB),
        "memory/job/memory.stat": f"cache 5\ntotal_inactive_file {GIB}\n",
        "memory/job/step/memory.limit_in_bytes": str(6 * GIB),
        "memory/job/step/memory.usage_in_bytes": str(GIB),
    })
    # the parent's headroom (8 - (3 - 1) = 6 GiB) and the child's (6 - 1 = 5 GiB): the child's is the least
    assert available_memory(**paths) == 5 * GIB


def test_cgroup_v2_memory_max(tmp_path):
    paths = fake_system(tmp_path, "0::/user.slice/job\n", {
        "user.slice/job/memory.max": f"{2 * GIB}\n",
        "user.slice/job/memory.current": f"{512 * MIB}\n",
        "user.slice/job/memory.stat": f"anon 1\ninactive_file {256 * MIB}\n",
        "user.slice/memory.max": "max\n",
    })
    assert available_memory(**paths) == 2 * GIB - 256 * MIB


def test_a_namespaced_cgroup_path_falls_back_to_the_root(tmp_path):
    paths = fake_system(tmp_path, "0::/not/visible/here\n", {"memory.max": f"{GIB}\n", "memory.current": "0\n"})
    assert available_memory(**paths) == GIB


def test_nothing_readable_means_unknown(tmp_path):
    assert available_memory(str(tmp_path / "none"), str(tmp_path / "none"), str(tmp_path / "none")) is None


def test_the_real_machine_has_some_memory():
    available = available_memory()
    assert available is None or 0 < available < 1 << 50


def test_weights_follow_the_matrices_allocated():
    options = TrainOptions(train="x", size=100, hs=1, negative=5, threads=1)
    weights, tables, scratch = model_bytes(options, 1000)
    assert weights == 3 * 1000 * 100 * 4  # syn0, syn1, syn1neg
    assert 0 < tables < 1000 * 1000 and 0 < scratch < MIB
    fast = TrainOptions(train="x", size=100, negative=5, threads=2, fast=1)
    # syn0 and syn1neg each gain two copies per thread of the 1024 hot rows
    assert model_bytes(fast, 5000)[0] == 2 * (5000 + 2 * 2 * 1024) * 100 * 4


def test_refusal_names_both_numbers():
    options = TrainOptions(train="x", size=100_000_000, negative=5, threads=1)  # syn0 + syn1neg: 1312 GiB
    with pytest.raises(UserError) as refused:
        check_model_fits(options, 1761, available=21 * GIB + 5)
    assert str(refused.value) == "-size 100000000 needs 1312 GiB for the weights of 1761 words; 21 GiB available"
    check_model_fits(TrainOptions(train="x"), 1761, available=21 * GIB)  # the default model fits


def test_human_bytes():
    assert [human_bytes(n) for n in (1, 3 * MIB, int(1.56 * GIB), 656 * GIB + 7)] == ["1 MiB", "3 MiB", "1.6 GiB", "656 GiB"]
