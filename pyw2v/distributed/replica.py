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
from .rounds import adasum_row

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
    ``first_rows[m]`` on, combined in :func:`~.rounds.combine`'s tree (:func:`combine_changes`).

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
    """The rows where ``work_bits`` and ``base_bits`` differ into ``rows``; returns their count: one pass
    over the two matrices."""
    count = 0
    for i in range(work_bits.shape[0]):
        if _row_differs(work_bits, base_bits, i):
            rows[count] = i
            count += 1
    return count


@njit(cache=True, nogil=True)
def combine_changes(works, works_bits, base, base_bits, first, rows, values, projection):
    """Chains' deltas of one matrix, combined row by row in :func:`~.rounds.combine`'s tree, into ``rows`` and
    ``values``; returns how many rows.

    ``works``: the chains' working copies of the matrix, in chain order
    (``works_bits``: the same as int32), trained from ``base``. A chain's
    delta is ``work - base`` on the rows, from ``first`` on, whose bits
    differ from ``base``'s, as :func:`take_deltas` takes it.
    The dense twin of :func:`~.rounds.combine` for chains whose copies one task
    holds (:mod:`.hotrows`): where one side of a node has no delta of a row,
    the other side's goes up unchanged, as :func:`~.rounds._adasum` keeps the delta
    of a row only one side names. So every row gets the same bytes as from
    the chains' sparse deltas combined; the rows come in row order.
    """
    chains, size = len(works), base.shape[1]
    leaves = np.empty((chains, size), dtype=np.float32)
    moved = np.zeros(chains, dtype=np.bool_)
    count = 0
    for i in range(first, base.shape[0]):
        any_moved = False
        for c in range(chains):
            moved[c] = _row_differs(works_bits[c], base_bits, i)
            if moved[c]:
                any_moved = True
                work = works[c]
                for k in range(size):
                    leaves[c, k] = work[i, k] - base[i, k]
        if not any_moved:
            continue
        step = 1
        while step < chains:
            for left in range(0, chains - step, 2 * step):
                right = left + step
                if moved[left] and moved[right]:
                    adasum_row(leaves[left], leaves[right], projection)
                elif moved[right]:
                    for k in range(size):
                        leaves[left, k] = leaves[right, k]
                    moved[left] = True
            step *= 2
        rows[count] = i
        for k in range(size):
            values[count, k] = leaves[0, k]
        count += 1
    return count


@njit(cache=True, inline="always")
def _row_differs(work_bits, base_bits, i):
    """Whether row ``i``'s bits differ (usually told at its first element; an unchanged row at its last)."""
    for k in range(base_bits.shape[1]):
        if work_bits[i, k] != base_bits[i, k]:
            return True
    return False


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
