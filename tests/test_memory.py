"""The memory estimate, and the memory available read from fake /proc files and cgroup trees (v1, v2, hybrid)."""
import pytest

from pyw2v.errors import UserError
from pyw2v.memory import GIB, MIB, available_memory, check_model_fits, human_bytes, model_bytes
from pyw2v.options import TrainOptions

MEMINFO = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:   22020096 kB\n"
MEM_AVAILABLE = 22020096 * 1024
V1_NO_LIMIT = "9223372036854771712\n"
# A hybrid system, as systemd sets one up: v1's memory controller, and v2 with no controllers.
HYBRID = {"memory": ("cgroup", "rw,memory", "/"), "unified": ("cgroup2", "rw", "/")}


def fake_system(tmp_path, cgroup_lines, files, mounts=HYBRID):
    """Paths for :func:`available_memory`: a meminfo, a /proc/self/cgroup, and a mountinfo.

    ``mounts`` maps a directory under ``sys`` to its (type, super options,
    root of the hierarchy it shows); ``files`` maps paths under ``sys`` to
    their text.
    """
    (tmp_path / "meminfo").write_text(MEMINFO)
    (tmp_path / "cgroup").write_text(cgroup_lines)
    system = tmp_path / "sys"
    lines = ["22 1 0:21 / /proc rw,nosuid - proc proc rw\n"]
    for number, (directory, (fstype, options, root)) in enumerate(mounts.items()):
        (system / directory).mkdir(parents=True)
        lines.append(
            f"{35 + number} 31 0:{32 + number} {root} {system / directory}"
            f" rw,relatime - {fstype} {fstype} {options}\n"
        )
    (tmp_path / "mountinfo").write_text("".join(lines))
    for relative, text in files.items():
        path = system / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return dict(
        meminfo=str(tmp_path / "meminfo"),
        own_cgroup=str(tmp_path / "cgroup"),
        mountinfo=str(tmp_path / "mountinfo"),
    )


def job_and_step(job_usage):
    """v1 files of a group ``job`` (8 GiB limit, 1 GiB inactive file pages).

    And of its child ``step`` (6 GiB limit, 1 GiB used).
    """
    return {
        "memory/memory.limit_in_bytes": V1_NO_LIMIT,
        "memory/job/memory.limit_in_bytes": str(8 * GIB),
        "memory/job/memory.usage_in_bytes": str(job_usage),
        "memory/job/memory.stat": f"cache 5\ninactive_file 7\ntotal_inactive_file {GIB}\n",
        "memory/job/step/memory.limit_in_bytes": str(6 * GIB),
        "memory/job/step/memory.usage_in_bytes": str(GIB),
    }


CASES = [  # /proc/self/cgroup, files under sys, mounts, bytes available
    pytest.param("5:memory:/job\n0::/job\n", {
        "memory/memory.limit_in_bytes": V1_NO_LIMIT,
        "memory/job/memory.limit_in_bytes": V1_NO_LIMIT,
        "memory/job/memory.usage_in_bytes": str(GIB),
        "memory/job/memory.stat": f"hierarchical_memory_limit {V1_NO_LIMIT}",
        "unified/job/memory.max": "max\n",
        "unified/job/memory.current": str(GIB),
    }, HYBRID, MEM_AVAILABLE, id="no-limit-leaves-MemAvailable"),
    # the parent's headroom, 8 - (3 - 1) GiB, and the child's, 6 - 1 GiB: the child's is the least...
    pytest.param("12:cpu:/x\n5:memory:/job/step\n0::/\n", job_and_step(3 * GIB), HYBRID, 5 * GIB,
                 id="v1-the-group-tighter-than-its-parent"),
    # ...and when the parent's other children use 4 GiB more, the parent's, 8 - (7 - 1) GiB
    pytest.param("5:memory:/job/step\n", job_and_step(7 * GIB), HYBRID, 2 * GIB,
                 id="v1-the-parent-tighter-than-the-group"),
    # no limit of its own, but an ancestor's out of sight, which v1 reports as the hierarchical limit
    pytest.param("5:cpu:/\n4:memory:/jobs/one\n0::/\n", {
        "memory/jobs/one/memory.limit_in_bytes": V1_NO_LIMIT,
        "memory/jobs/one/memory.usage_in_bytes": str(300 * MIB),
        "memory/jobs/one/memory.stat":
            f"cache 1\nhierarchical_memory_limit {400 * MIB}\ntotal_inactive_file {50 * MIB}\n",
    }, HYBRID, (400 - 250) * MIB, id="v1-hierarchical-limit"),
    pytest.param("4:memory:/job\n", {
        "memory/job/memory.limit_in_bytes": str(GIB),
        "memory/job/memory.usage_in_bytes": str(GIB),
        "memory/job/memory.stat": f"active_file 9\ninactive_file {100 * MIB}\n",
    }, HYBRID, 100 * MIB, id="v1-own-inactive-pages-without-totals"),
    pytest.param("0::/user.slice/job\n", {
        "unified/user.slice/job/memory.max": f"{2 * GIB}\n",
        "unified/user.slice/job/memory.current": f"{512 * MIB}\n",
        "unified/user.slice/job/memory.stat": f"anon 1\ninactive_file {256 * MIB}\n",
        "unified/user.slice/memory.max": "max\n",
    }, HYBRID, 2 * GIB - 256 * MIB, id="v2-memory-max"),
    pytest.param("0::/jobs/one\n", {
        "jobs/one/memory.max": "max\n",
        "jobs/one/memory.current": str(100 * MIB),
        "jobs/one/memory.stat": f"anon 1\ninactive_file {10 * MIB}\n",
        "jobs/memory.max": str(400 * MIB),
        "jobs/memory.current": str(350 * MIB),
        "jobs/memory.stat": f"inactive_file {30 * MIB}\n",
    }, {"": ("cgroup2", "rw,nsdelegate", "/")}, (400 - 320) * MIB, id="v2-only-the-tightest-ancestor"),
    pytest.param("0::/not/visible/here\n", {
        "unified/memory.max": f"{GIB}\n",
        "unified/memory.current": "0\n",
    }, HYBRID, GIB, id="a-path-out-of-sight-counts-from-the-mount"),
    # A container without a cgroup namespace: /proc/self/cgroup has the host's path,
    # the mount shows the hierarchy from the group down.
    pytest.param("4:memory:/docker/abc/step\n", {
        "memory/memory.limit_in_bytes": str(4 * GIB),
        "memory/step/memory.limit_in_bytes": str(2 * GIB),
        "memory/step/memory.usage_in_bytes": str(GIB),
        "memory/docker/abc/step/memory.limit_in_bytes": str(MIB),  # a decoy at the host's path
    }, {"memory": ("cgroup", "rw,cpu,memory", "/docker/abc")}, GIB, id="the-path-below-the-mounts-root"),
    pytest.param("0::/../elsewhere\n", {
        "unified/memory.max": str(GIB),
        "elsewhere/memory.max": str(MIB),  # where the path's ".." would lead out of the mount
    }, HYBRID, GIB, id="outside-the-namespace-never-out-of-the-mount"),
    pytest.param("0::/job\n", {"unified/job/memory.max": str(3 * GIB)}, HYBRID, 3 * GIB,
                 id="a-limit-without-usage-still-bounds"),
    pytest.param("0::/job\n", {
        "unified/job/memory.max": str(GIB),
        "unified/job/memory.current": str(GIB + 5 * MIB),
        "unified/job/memory.stat": f"inactive_file {MIB}\n",
    }, HYBRID, 0, id="over-the-limit-nothing-available"),
    pytest.param("0::/job\n", {
        "unified/job/memory.max": str(GIB),
        "unified/job/memory.current": str(GIB),
        "unified/job/memory.stat": f"anon\nworkingset_refault notanumber\ninactive_file {100 * MIB}\n",
    }, HYBRID, 100 * MIB, id="odd-lines-of-memory-stat-passed-over"),
]


@pytest.mark.parametrize("cgroup_lines, files, mounts, expected", CASES)
def test_available_memory_in_a_cgroup_tree(tmp_path, cgroup_lines, files, mounts, expected):
    assert available_memory(**fake_system(tmp_path, cgroup_lines, files, mounts)) == expected


def test_no_cgroup_mount_means_mem_available(tmp_path):
    paths = fake_system(tmp_path, "0::/job\n", {"unified/job/memory.max": str(GIB)}, mounts={})
    assert available_memory(**paths) == MEM_AVAILABLE
    paths["mountinfo"] = str(tmp_path / "none")
    assert available_memory(**paths) == MEM_AVAILABLE


@pytest.mark.parametrize("limit, expected", [(str(GIB), GIB), (V1_NO_LIMIT, None)])
def test_without_mem_available_only_a_limit_says(tmp_path, limit, expected):
    paths = fake_system(tmp_path, "4:memory:/job\n", {"memory/job/memory.limit_in_bytes": limit})
    paths["meminfo"] = str(tmp_path / "none")
    assert available_memory(**paths) == expected


def test_nothing_readable_means_unknown(tmp_path):
    nothing = str(tmp_path / "none")
    assert available_memory(meminfo=nothing, own_cgroup=nothing, mountinfo=nothing) is None


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
    sizes = (1, 3 * MIB, int(1.56 * GIB), 656 * GIB + 7)
    assert [human_bytes(n) for n in sizes] == ["1 MiB", "3 MiB", "1.6 GiB", "656 GiB"]
