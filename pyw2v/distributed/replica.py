"""The run's weights as each worker keeps them between rounds: changed only by the rounds' merged deltas.

A worker holds the weights at the start of the current round (``base``)
and a working copy of them (``work``). A chain task trains ``work`` in
place, takes its delta (``work - base`` on the rows that differ) and copies
those rows back from ``base``, so that the next task on the worker starts
from the round's weights again; a round's merged delta, the same bytes on
every worker, is then added to both. (A task that trains several chains
side by side in spare copies, :mod:`.hotrows`, leaves their rows as they
are: the merged delta names every row they changed, and sets it in each.)
So a round moves only sparse deltas between the processes: the whole
weights cross the network when the run starts, after a worker is lost,
and in the client's checkpoint.

Every function here runs as a task on the worker whose weights it reads,
pinned there by the driver, and checks the weights' *version* (the rounds
merged into them): a worker restarted since (its weights gone) raises
:class:`ReplicaLost`, which the driver treats as work lost with a worker.
The output stays a function of (the options, the shards) alone: what a
task returns depends only on the version's weights and its slices.
"""
import threading

import numpy as np
from numba import njit

from ..training.loop import Model
from .rounds import combine_changes

_REPLICAS = {}  # run token -> _Replica


class ReplicaLost(Exception):
    """This worker does not hold the run's weights at the version a task needs (it was restarted)."""


class _Replica:
    def __init__(self, weights, version):
        self.base = Model(*(np.array(matrix, dtype=np.float32, copy=True) for matrix in weights))
        self.work = Model(*(matrix.copy() for matrix in self.base))
        self.spares = []  # more working copies, for a task that trains several chains side by side
        self.version = version
        # One task at a time trains ``work`` (a worker given several threads would run two at once).
        self.lock = threading.Lock()


def install(token, weights, version):
    """Keep ``weights`` (the weights after ``version`` rounds) as this worker's copy of run ``token``'s."""
    _REPLICAS[token] = _Replica(weights, version)
    return version


def held(token, version):
    """This worker's weights of run ``token``, which must be at ``version``."""
    replica = _REPLICAS.get(token)
    if replica is None or replica.version != version:
        found = "none" if replica is None else f"version {replica.version}"
        raise ReplicaLost(f"weights of version {version} wanted, {found} held")
    return replica


def working_copies(replica, count):
    """``count`` working copies of the weights, each equal to ``base`` between tasks: ``work`` and spares."""
    while len(replica.spares) < count - 1:
        replica.spares.append(Model(*(matrix.copy() for matrix in replica.base)))
    return [replica.work, *replica.spares[: count - 1]]


def take_deltas(replica):
    """Per matrix, (rows, ``work - base`` on them) for the rows a task changed; puts those rows back.

    Rows are compared as bit patterns, so a row whose update left it bit
    for bit unchanged is not sent, and NaNs compare equal to themselves.
    """
    deltas = []
    for work_matrix, base in zip(replica.work, replica.base):
        rows = np.empty(len(work_matrix), dtype=np.int32)
        count = _changed_rows(work_matrix.view(np.int32), base.view(np.int32), rows)
        rows = rows[:count].copy()
        values = np.empty((count, work_matrix.shape[1]), dtype=np.float32)
        _take_rows(work_matrix, base, rows, values)
        deltas.append((rows, values))
    return tuple(deltas)


def combined_deltas(replica, works, first_rows, projections):
    """Per matrix, the deltas of several working copies (``works``, in chain order) from row
    ``first_rows[m]`` on, combined in :func:`~.rounds.combine`'s tree (:func:`~.rounds.combine_changes`).

    The copies keep their changes: the round's merged delta names every row
    they changed, and :func:`apply_merged` sets those rows in every copy.
    """
    deltas = []
    for m, (base, first, projection) in enumerate(zip(replica.base, first_rows, projections)):
        rows = np.empty(len(base), dtype=np.int32)
        values = np.empty(base.shape, dtype=np.float32)
        count = combine_changes(tuple(work[m] for work in works), tuple(work[m].view(np.int32) for work in works),
                                base, base.view(np.int32), first, rows, values, projection)
        deltas.append((rows[:count].copy(), values[:count]))  # the view alone is sent, not the buffer's tail
    return tuple(deltas)


@njit(cache=True, nogil=True)
def _changed_rows(work_bits, base_bits, rows):
    """The rows where ``work_bits`` and ``base_bits`` differ into ``rows``; returns their count.

    A changed row is usually told at its first element, an unchanged one
    only at its last: one pass over the two matrices.
    """
    count = 0
    for i in range(work_bits.shape[0]):
        for c in range(work_bits.shape[1]):
            if work_bits[i, c] != base_bits[i, c]:
                rows[count] = i
                count += 1
                break
    return count


@njit(cache=True, nogil=True)
def _take_rows(work, base, rows, values):
    """``values[j] = work[rows[j]] - base[rows[j]]``, then ``work[rows[j]] = base[rows[j]]``."""
    for j in range(len(rows)):
        i = rows[j]
        for c in range(work.shape[1]):
            values[j, c] = work[i, c] - base[i, c]
            work[i, c] = base[i, c]


@njit(cache=True, nogil=True)
def _add_rows(base, copies, rows, values):
    """``base[rows[j]] += values[j]``, and each of ``copies`` (a tuple of the working copies' matrices)
    takes ``base[rows[j]]`` (the rows are distinct): one pass over the rows."""
    for j in range(len(rows)):
        base_row = base[rows[j]]
        for c in range(len(base_row)):
            base_row[c] += values[j, c]
        for copy in copies:
            copy_row = copy[rows[j]]
            for c in range(len(base_row)):
                copy_row[c] = base_row[c]


def apply_merged(token, version, merged, *after):
    """Add a round's merged delta (:class:`.rounds.Merged`) to this worker's weights: version + 1; its stats.

    The addition is one float32 add per element, so every worker, whatever
    its CPU, holds the same bytes afterwards. ``after``: the tasks that must
    have run on this worker first (none is read).
    """
    replica = held(token, version)
    with replica.lock:
        for m, ((rows, values), base) in enumerate(zip(merged.deltas, replica.base)):
            _add_rows(base, tuple(copy[m] for copy in (replica.work, *replica.spares)), rows, values)
        replica.version = version + 1
    return merged.stats


def snapshot(token, version, *after):
    """A copy of this worker's weights at ``version`` (the client's checkpoint)."""
    replica = held(token, version)
    return Model(*(matrix.copy() for matrix in replica.base))


def forget(token):
    _REPLICAS.pop(token, None)
