"""How much memory the encoded corpus may take, and where it goes beyond that.

The corpus is kept in memory as a varint stream (:mod:`pyw2v.corpus.encoding`)
while it fits a *budget*; past it, the streams go to an anonymous temporary
file (:mod:`pyw2v.corpus.spill`) that the epochs read through a memory map.
The budget is ``-memory-budget`` megabytes (MiB) when given, else a quarter
of the memory available when the run starts: the rest is left for the
weights, the tables, the page cache, and the process itself. (With half, the
1 GB corpus under a 400 MB limit held 60 MB more anonymous memory than
wiki100m while it was counted, for no gain: it goes to disk either way.) Memory available is the smaller of the system's
``MemAvailable`` and what the process's cgroup (v1 or v2) still allows: its
limit less what it uses, not counting the inactive file pages it could
reclaim.
"""
import os
import tempfile

from ..errors import UserError

MIB = 1 << 20
# cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit value.
NO_LIMIT = 1 << 60


def check_budget_options(options):
    """Refuse a negative (or NaN) ``-memory-budget`` and a ``-tmpdir`` that cannot be written."""
    if options.memory_budget is not None and not options.memory_budget >= 0:
        raise UserError(f"-memory-budget must not be negative, not {options.memory_budget:g}")
    if options.tmpdir:
        spill_directory(options)


def corpus_budget(options):
    """Bytes of encoded corpus that may be held in memory at once."""
    if options.memory_budget is not None:
        return int(options.memory_budget * MIB)
    return available_memory() // 4


def spill_directory(options):
    """Where the temporary file goes: ``-tmpdir``, else ``TMPDIR`` (or the system's default)."""
    directory = options.tmpdir or tempfile.gettempdir()
    if not os.path.isdir(directory):
        raise UserError(f"-tmpdir {directory}: no such directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(f"-tmpdir {directory}: permission denied")
    return directory


def available_memory():
    """Bytes this process may still allocate: MemAvailable, or less under a cgroup limit."""
    available = _meminfo_available()
    headroom = cgroup_headroom()
    if headroom is not None:
        available = headroom if available is None else min(available, headroom)
    return available if available is not None else 1 << 62


def _meminfo_available():
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cgroup_headroom(proc_cgroup="/proc/self/cgroup", mountinfo="/proc/self/mountinfo"):
    """The process's cgroup memory limit less its unreclaimable usage; None without a limit."""
    try:
        with open(proc_cgroup) as lines:
            memberships = [line.rstrip("\n").split(":", 2) for line in lines]
    except OSError:
        return None
    mounts = _cgroup_mounts(mountinfo)
    for _, controllers, path in (entry for entry in memberships if len(entry) == 3):
        if "memory" in controllers.split(",") and "v1" in mounts:
            return _v1_headroom(os.path.join(mounts["v1"], path.lstrip("/")), mounts["v1"])
    for _, controllers, path in (entry for entry in memberships if len(entry) == 3):
        if controllers == "" and "v2" in mounts:
            return _v2_headroom(os.path.join(mounts["v2"], path.lstrip("/")), mounts["v2"])
    return None


def _cgroup_mounts(mountinfo):
    """Mount points of the v1 memory controller (``v1``) and of the unified hierarchy (``v2``)."""
    mounts = {}
    try:
        with open(mountinfo) as lines:
            for line in lines:
                fields = line.split()
                if " - " not in line:
                    continue
                after = line.split(" - ", 1)[1].split()
                fstype, options = after[0], after[2] if len(after) > 2 else ""
                if fstype == "cgroup" and "memory" in options.split(","):
                    mounts.setdefault("v1", fields[4])
                elif fstype == "cgroup2":
                    mounts.setdefault("v2", fields[4])
    except (OSError, IndexError):
        pass
    return mounts


def _read_int(path):
    try:
        with open(path) as value:
            text = value.read().strip()
    except OSError:
        return None
    if text == "max":
        return NO_LIMIT
    try:
        return int(text)
    except ValueError:
        return None


def _stat(path):
    stats = {}
    try:
        with open(path) as lines:
            for line in lines:
                name, _, value = line.partition(" ")
                if value.strip().isdigit():
                    stats[name] = int(value)
    except OSError:
        pass
    return stats


def _v1_headroom(directory, root):
    """v1: ``hierarchical_memory_limit`` is already the smallest limit of the group and its ancestors."""
    if not os.path.isdir(directory):  # a cgroup namespace hides the path: the mount is the group
        directory = root
    stats = _stat(os.path.join(directory, "memory.stat"))
    limit = stats.get("hierarchical_memory_limit", _read_int(os.path.join(directory, "memory.limit_in_bytes")))
    usage = _read_int(os.path.join(directory, "memory.usage_in_bytes"))
    if limit is None or limit >= NO_LIMIT or usage is None:
        return None
    reclaimable = stats.get("total_inactive_file", stats.get("inactive_file", 0))
    return max(limit - max(usage - reclaimable, 0), 0)


def _v2_headroom(directory, root):
    """v2: the tightest ``memory.max`` less ``memory.current`` of the group and its ancestors."""
    if not os.path.isdir(directory):
        directory = root
    headroom = None
    while True:
        limit = _read_int(os.path.join(directory, "memory.max"))
        usage = _read_int(os.path.join(directory, "memory.current"))
        if limit is not None and limit < NO_LIMIT and usage is not None:
            reclaimable = _stat(os.path.join(directory, "memory.stat")).get("inactive_file", 0)
            room = max(limit - max(usage - reclaimable, 0), 0)
            headroom = room if headroom is None else min(headroom, room)
        if os.path.normpath(directory) == os.path.normpath(root):
            return headroom
        directory = os.path.dirname(directory)
