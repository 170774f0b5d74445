"""How much memory a model needs, how much the machine has, and the check between them.

:func:`check_model_fits` runs once the vocabulary is known and the corpus
encoded, before the weights are allocated: memory in use then (the encoded
corpus among it) is already out of what is available, so the estimate
counts only what is still to come (:func:`model_bytes`). A run that cannot
fit ends in one line naming both numbers, instead of a ``MemoryError``
traceback or the kernel's OOM killer hours later.

Available memory (:func:`available_memory`) is the kernel's
``MemAvailable``, or, when the process's control group has a lower limit,
that limit less what the group uses (less its inactive file cache, which
the kernel reclaims before it fails an allocation): cgroup v1's
``memory.limit_in_bytes`` or v2's ``memory.max``, the group's own and its
parents'.
"""
import os

from .errors import UserError

GIB = 1 << 30
MIB = 1 << 20
_NO_LIMIT = 1 << 60  # cgroup v1 writes "no limit" as a number near 2^63
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


def available_memory(meminfo="/proc/meminfo", cgroup_root="/sys/fs/cgroup", own_cgroup="/proc/self/cgroup"):
    """Bytes this process can still allocate, or None when the system does not say.

    The least of ``MemAvailable`` and the headroom of every control group
    from the process's own up to the root that sets a memory limit.
    """
    amounts = [_mem_available(meminfo)] + _cgroup_headrooms(cgroup_root, own_cgroup)
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


def _cgroup_headrooms(root, own_cgroup):
    """Limit less usage for each group on the process's path, in v1's memory hierarchy or v2's."""
    try:
        with open(own_cgroup) as lines:
            entries = [line.rstrip("\n").split(":", 2) for line in lines]
    except OSError:
        return []
    headrooms = []
    for entry in entries:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        if "memory" in controllers.split(","):
            files = (os.path.join(root, "memory"), "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
        elif controllers == "":
            files = (root, "memory.max", "memory.current", "inactive_file")
        else:
            continue
        headrooms += [room for room in _headrooms_along(path, *files) if room is not None]
    return headrooms


def _headrooms_along(path, base, limit_file, usage_file, inactive_key):
    """Each group directory from ``base/path`` up to ``base`` (inside a container the path may not exist)."""
    parts = [part for part in path.split("/") if part and part != ".."]
    for depth in range(len(parts), -1, -1):
        directory = os.path.join(base, *parts[:depth])
        if os.path.isdir(directory):
            yield _headroom(directory, limit_file, usage_file, inactive_key)


def _headroom(directory, limit_file, usage_file, inactive_key):
    limit = _read_number(os.path.join(directory, limit_file))
    if limit is None or limit >= _NO_LIMIT:
        return None
    usage = _read_number(os.path.join(directory, usage_file)) or 0
    inactive = 0
    try:
        with open(os.path.join(directory, "memory.stat")) as lines:
            for line in lines:
                key, _, value = line.partition(" ")
                if key == inactive_key:
                    inactive = int(value)
    except (OSError, ValueError):
        pass
    return max(0, limit - max(0, usage - inactive))


def _read_number(path):
    """An integer file of the cgroup tree; None when absent or ``max`` (v2's no limit)."""
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
