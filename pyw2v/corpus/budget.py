"""How much memory the encoded corpus may take, and where it goes beyond that.

The corpus is kept in memory as a varint stream (:mod:`pyw2v.corpus.encoding`)
while it fits a *budget*; past it, the streams go to an anonymous temporary
file (:mod:`pyw2v.corpus.spill`) that the epochs read through a memory map.
The budget is ``-memory-budget`` megabytes (MiB) when given, else a quarter
of the memory available when the run starts: the rest is left for the
weights, the tables, the page cache, and the process itself. (With half, the
1 GB corpus under a 400 MB limit held 60 MB more anonymous memory than
wiki100m while it was counted, for no gain: it goes to disk either way.)
Memory available is :func:`pyw2v.memory.available_memory`: the smaller of
the system's ``MemAvailable`` and what the process's cgroups (v1 or v2)
still allow. When the system does not say, the budget is unbounded and the
corpus is held in memory.
"""
import os
import tempfile

from ..errors import UserError
from ..memory import MIB, available_memory

UNBOUNDED = 1 << 62  # the budget when the memory available is unknown: more than any corpus


def corpus_budget(megabytes=None):
    """Bytes of encoded corpus that may be held in memory at once.

    For ``-memory-budget megabytes`` (None: not given).
    """
    if megabytes is not None:
        if not megabytes >= 0:  # NaN too
            raise UserError(f"-memory-budget must not be negative, not {megabytes:g}")
        return int(megabytes * MIB)
    available = available_memory()
    return UNBOUNDED if available is None else available // 4


def spill_directory(tmpdir=""):
    """Where the temporary files go: ``tmpdir`` (``-tmpdir``), else ``TMPDIR`` (or the system's default)."""
    directory = tmpdir or tempfile.gettempdir()
    if not os.path.isdir(directory):
        raise UserError(f"-tmpdir {directory}: no such directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise UserError(f"-tmpdir {directory}: permission denied")
    return directory
