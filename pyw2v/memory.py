"""How much memory a model needs, how much the machine has, and the check between them.

:func:`check_model_fits` runs once the vocabulary is known and the corpus
encoded, before the weights are allocated: memory in use then (the encoded
corpus among it) is already out of what is available, so the estimate
counts only what is still to come (:func:`model_bytes`). A run that cannot
fit ends in one line naming both numbers, instead of a ``MemoryError``
traceback or the kernel's OOM killer hours later.

Available memory (:func:`available_memory`, also the base of the encoded
corpus's budget, :mod:`pyw2v.corpus.budget`) is the least of the kernel's
``MemAvailable`` and the headroom of each control group that limits the
process: its own and its ancestors', as far as its mounts show them. A
group's headroom is its limit (cgroup v1's ``memory.limit_in_bytes`` and
``hierarchical_memory_limit``, which also holds the ancestors hidden from
the process; v2's ``memory.max``) less its usage, not counting its inactive
file pages, which the kernel reclaims before it fails an allocation.
"""
import os
from collections import namedtuple

from .errors import UserError

GIB = 1 << 30
MIB = 1 << 20
# cgroup v1 writes "no limit" as the largest page-aligned signed 64-bit value (v2 writes "max").
_NO_LIMIT = 1 << 60
# Per word: the Huffman tree (codes, points, lengths and the build's arrays) with -hs;
# the unigram table, the subsampling thresholds and the id maps always.
_TREE_BYTES_PER_WORD = 40 + 4 * 40 + 4 + 3 * 2 * 8
_TABLE_BYTES_PER_WORD = 32
_PADDING = 128  # each per-thread scratch row is padded against false sharing
_MAX_SENTENCE = 1000
_MAX_CODE_LENGTH = 40
_HOT_WORDS = 1024  # -fast's per-thread copies of the most frequent words' rows


def model_bytes(options, vocab_size):
    """``(weights, tables, scratch)``: bytes still to allocate for training, by kind.

    Weights are ``syn0``, ``syn1`` (with ``-hs``) and ``syn1neg`` (with
    ``-negative``), float32, plus ``-fast``'s per-thread copies of hot rows;
    scratch is each C thread slice's buffers (sentence, hidden layer, noise
    draws, and the block kernels' buffers off the one-thread parity path).
    """
    size, threads, window, negative = options.size, options.threads, options.window, options.negative
    hot = min(_HOT_WORDS, vocab_size) if options.fast and threads > 1 else 0
    rows = vocab_size + 2 * threads * hot
    weight_rows = rows + (vocab_size if options.hs else 0) + (rows if negative > 0 else 0)
    weights = 4 * size * weight_rows
    tables = vocab_size * (_TABLE_BYTES_PER_WORD + (_TREE_BYTES_PER_WORD if options.hs else 0))
    exact = threads == 1 and not options.fast
    per_thread = 4 * (_MAX_SENTENCE + 1) + 2 * 4 * size + 8 * 2 * window * max(negative, 1)
    if not exact:
        outputs = max(negative + 1, _MAX_CODE_LENGTH)
        per_thread += 2 * window * (8 + 4 * outputs + 4 * size + 4) + 12 * outputs
    if options.fast or (options.cbow and not exact):
        per_thread += 8 * _MAX_SENTENCE * (1 + negative)
    scratch = threads * (per_thread + 8 * _PADDING)
    return weights, tables, scratch


def check_model_fits(options, vocab_size, available=None):
    """Refuse, in one line with both numbers, a model larger than the memory available.

    ``available`` defaults to :func:`available_memory`; when that cannot be
    read, nothing is checked.
    """
    weights, tables, scratch = model_bytes(options, vocab_size)
    needed = weights + tables + scratch
    if available is None:
        available = available_memory()
    if available is None or needed <= available:
        return
    largest = max(weights, tables, scratch)
    if largest == weights:
        what = f"-size {options.size} needs {human_bytes(needed)} for the weights of {vocab_size} words"
    elif largest == scratch:
        what = (f"-threads {options.threads} -window {options.window} -negative {options.negative} "
                f"need {human_bytes(needed)} for the threads' buffers")
    else:
        what = f"{vocab_size} words need {human_bytes(needed)} for the tables"
    raise UserError(f"{what}; {human_bytes(available)} available")


def human_bytes(count):
    """Whole GiB from 10 GiB on, tenths of a GiB from 1 GiB, else MiB (at least 1)."""
    if count >= 10 * GIB:
        return f"{count // GIB} GiB"
    if count >= GIB:
        return f"{count / GIB:.1f} GiB"
    return f"{max(1, -(-count // MIB))} MiB"


def available_memory(meminfo="/proc/meminfo", own_cgroup="/proc/self/cgroup", mountinfo="/proc/self/mountinfo"):
    """Bytes this process can still allocate (never negative), or None when the system does not say."""
    # The least of MemAvailable and the headroom of every memory-limited control group from the process's
    # own up to the top of the mount that shows it, in cgroup v1's memory hierarchy and in v2's.
    amounts = [_mem_available(meminfo)] + _cgroup_headrooms(own_cgroup, mountinfo)
    amounts = [amount for amount in amounts if amount is not None]
    return min(amounts) if amounts else None


def _mem_available(meminfo):
    try:
        with open(meminfo) as lines:
            for line in lines:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # in kB
    except (OSError, ValueError, IndexError):
        pass
    return None


# How a cgroup version names a group's limit and usage, and its inactive file pages in memory.stat.
# v1's stat also has the least limit of the group and its ancestors; its total_ counts include the
# descendants, as its usage does (plain inactive_file is the group's own: fewer pages, so a safe fallback).
_Hierarchy = namedtuple("_Hierarchy", "limit_file usage_file stat_limit inactive_keys")
_V1 = _Hierarchy("memory.limit_in_bytes", "memory.usage_in_bytes", "hierarchical_memory_limit",
                 ("total_inactive_file", "inactive_file"))
_V2 = _Hierarchy("memory.max", "memory.current", None, ("inactive_file",))


def _cgroup_headrooms(own_cgroup, mountinfo):
    """The headroom of each limited group on the process's path, in v1's memory hierarchy and in v2's."""
    try:
        with open(own_cgroup) as lines:
            entries = [line.rstrip("\n").split(":", 2) for line in lines]
    except OSError:
        return []
    mounts = _cgroup_mounts(mountinfo)
    headrooms = []
    for entry in entries:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        if "memory" in controllers.split(","):
            hierarchy = _V1
        elif controllers == "":
            hierarchy = _V2
        else:
            continue
        if hierarchy not in mounts:
            continue
        mount_point, mount_root = mounts[hierarchy]
        for directory in _group_and_ancestors(path, mount_point, mount_root):
            headrooms.append(_headroom(directory, hierarchy))
    return [room for room in headrooms if room is not None]


def _cgroup_mounts(mountinfo):
    """``{hierarchy: (mount point, root of the hierarchy it shows)}`` for v1's memory controller and v2.

    The first mount of each counts. No mounts when ``mountinfo`` cannot be
    read: it is in /proc as the process's cgroup file is.
    """
    mounts = {}
    try:
        with open(mountinfo) as lines:
            for line in lines:
                if " - " not in line:
                    continue
                before, after = line.split(" - ", 1)
                fields, tail = before.split(), after.split()
                if len(fields) < 5 or not tail:
                    continue
                fstype, super_options = tail[0], tail[2] if len(tail) > 2 else ""
                if fstype == "cgroup" and "memory" in super_options.split(","):
                    mounts.setdefault(_V1, (fields[4], fields[3]))
                elif fstype == "cgroup2":
                    mounts.setdefault(_V2, (fields[4], fields[3]))
    except OSError:
        pass
    return mounts


def _group_and_ancestors(path, mount_point, mount_root):
    """The directories of the process's group and of its ancestors down to ``mount_point``, deepest first.

    ``path`` (from /proc/self/cgroup) is the group's from the top of the
    hierarchy, or of the cgroup namespace; the mount shows the hierarchy
    from ``mount_root`` down (in a container, often the group itself). A
    group the mount does not show (outside ``mount_root``, behind ``..``
    of a namespace, or not a directory) is counted from its nearest shown
    ancestor, at the least the mount itself. Never a directory outside the
    mount.
    """
    parts = [part for part in path.split("/") if part]
    root_parts = [part for part in mount_root.split("/") if part]
    if ".." in parts or parts[:len(root_parts)] != root_parts:
        parts = []
    else:
        parts = parts[len(root_parts):]
    for depth in range(len(parts), -1, -1):
        directory = os.path.join(mount_point, *parts[:depth])
        if os.path.isdir(directory):
            yield directory


def _headroom(directory, hierarchy):
    """The group's least limit less its usage net of inactive file pages (at least 0); None without a limit.

    A limit whose usage cannot be read still bounds what the process can allocate: the usage counts as 0.
    """
    stats = _memory_stat(os.path.join(directory, "memory.stat"))
    limits = [_read_number(os.path.join(directory, hierarchy.limit_file)), stats.get(hierarchy.stat_limit)]
    limits = [limit for limit in limits if limit is not None and limit < _NO_LIMIT]
    if not limits:
        return None
    usage = _read_number(os.path.join(directory, hierarchy.usage_file)) or 0
    inactive = next((stats[key] for key in hierarchy.inactive_keys if key in stats), 0)
    return max(0, min(limits) - max(0, usage - inactive))


def _memory_stat(path):
    """``memory.stat``'s counters by name; lines that are not a name and a count are passed over."""
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


def _read_number(path):
    """An integer file of the cgroup tree; None when absent, unreadable or ``max`` (v2's no limit)."""
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
