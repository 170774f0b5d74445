"""CBOW's most frequent rows merged inside a round, so that no chain trains against stale ones for long.

In CBOW with negative sampling, the round's merge loses most on the rows
that every chain moves: the frequent words' rows of syn0 (every window
holds some) and of syn1neg (the noise words are drawn by frequency). Each
chain trains them against rows that the others have moved since the round
began, and no rule that combines one row's deltas can undo that
(docs/distributed.md, the oracle). So a round's slices are cut into
:data:`PARTS` parts. After each part, the chains' deltas of the
``-sync-rows`` most frequent rows of syn0 and syn1neg (the vocabulary is
sorted by count, so its first rows) are combined as the round's merge
combines them (:func:`~.rounds.combine`: one tree in chain order), and
every chain goes on from the result. The other rows are merged at the
round's end, as in every mode.

A worker trains its block of chains in one task (:func:`train_group`),
part by part, each chain in its own working copy of the weights; after
each part the groups meet at a Dask actor (:class:`Exchange`), which
combines their results. A group is an aligned block of a power of two of
consecutive chains (the last one may be shorter): a subtree of the chains'
tree. So the merge is the same bytes however many groups there are, and
the output does not depend on the number of workers.
"""
import asyncio
from collections import namedtuple

import numpy as np
from numba import njit

from . import replica
from . import rounds as plan
from .rounds import adasum_row
from .task import NOTHING_DONE, SliceResult, small_pages, train_slice

# The parts a round's slices are cut into: 2 MiB of text over all shards at CBOW's 16 MiB rounds.
PARTS = 8
SYNCED = (0, 2)  # syn0 and syn1neg: the matrices of negative sampling (HS's syn1 is merged by round)
# A group waiting at the exchange looks this often whether its peers are still in the cluster: Dask
# leaves a call to an actor whose worker died waiting (the error only reaches the event loop's log).
POLL_SECONDS = 1.0

# A group's result: its chains' deltas of the other rows (a :class:`~.rounds.GroupDelta`), and per
# synced matrix the frequent rows' delta over the round, (rows, values): the same in every group.
SyncedGroup = namedtuple("SyncedGroup", "group hot")
# A group task's round: its chains (per chain, its links: (shard, the pieces of each part, the seed of
# each part)), the number of parts, the frequent rows merged after each, the round's rate, the round's
# name, which of how many groups, and the workers it waits for (the groups' and the exchange's).
GroupJob = namedtuple("GroupJob", "round_ chains parts rows alpha name group groups peers")


def parts(options, chains):
    """Into how many parts a round of ``chains`` chains is cut: :data:`PARTS` with ``-sync-rows`` in CBOW
    with negative sampling and several chains, else 1 (the round is merged at its end only)."""
    return PARTS if options.sync_rows and options.cbow and options.negative > 0 and chains > 1 else 1


def group_size(chains, workers):
    """Chains per group: the least power of two that puts the chains on at most ``workers`` workers."""
    size = 1
    while size * workers < chains:
        size *= 2
    return size


def train_group(run, version, job, projections, exchange, *after):
    """Train a group of chains side by side, part by part, merging their frequent rows after each part.

    ``job``: a :class:`GroupJob`. ``exchange``: the :class:`Exchange` actor
    (None with one group). Returns a :class:`SyncedGroup`; like
    :func:`~.task.train_chain`, a pure function of the weights after
    ``version`` rounds and its arguments, whichever worker runs it.
    """
    chains = job.chains
    small_pages()
    held = replica.held(run.token, version)
    with held.lock:
        works = replica.working_copies(held, len(chains))
        hot = min(job.rows, len(held.base.syn0))
        synced = [held.base[m][:hot].copy() for m in SYNCED]  # the frequent rows as merged so far
        # Per chain and synced matrix, its frequent rows' delta over the part: dense, most rows change.
        deltas = [[np.empty_like(rows) for rows in synced] for _ in chains]
        done = [NOTHING_DONE] * len(chains)
        for part in range(job.parts):
            for c, (links, work) in enumerate(zip(chains, works)):
                for shard, pieces, seeds in links:
                    if pieces[part]:
                        done[c] = train_slice(run, f"{shard}-{job.round_}-{part}", pieces[part], work, job.alpha,
                                              seeds[part], done[c])
                for i, m in enumerate(SYNCED):
                    np.subtract(work[m][:hot], synced[i], out=deltas[c][i])
            mine = [combine([chain[i] for chain in deltas], projections[m]) for i, m in enumerate(SYNCED)]
            merged = mine if job.groups == 1 else _swap(exchange, job, part, mine)
            for i, m in enumerate(SYNCED):
                synced[i] += merged[i]
                for work in works:
                    work[m][:hot] = synced[i]
        first_rows = tuple(hot if m in SYNCED else 0 for m in range(len(held.base)))
        results = []
        for c, work in enumerate(works):
            results.append(SliceResult(replica.take_deltas(held, work, first_rows), *done[c]))
            for m in SYNCED:
                work[m][:hot] = held.base[m][:hot]
        hot_delta = [(np.arange(hot, dtype=np.int32), synced[i] - held.base[m][:hot]) for i, m in enumerate(SYNCED)]
    return SyncedGroup(plan.combine_group(projections, *results), hot_delta)


def combine(deltas, projection):
    """Dense deltas of the same rows combined as :func:`~.rounds.combine` combines sparse ones (one tree,
    Adasum), in place: the result is the first array, the others are overwritten too.

    A row that only one delta moves keeps it (the other's is zero), as in the sparse merge. A group
    combines an aligned block of the chains (a subtree), so the same tree gives the same bytes
    whichever of its subtrees were combined on which worker.
    """
    while len(deltas) > 1:
        for i in range(0, len(deltas) - 1, 2):
            _adasum_into(deltas[i], deltas[i + 1], projection)
        deltas = deltas[::2]
    return deltas[0]


@njit(cache=True)
def _adasum_into(first, second, projection):
    """``first`` = Adasum of ``first`` and ``second``, row by row (:func:`~.rounds._adasum`'s rule)."""
    for i in range(first.shape[0]):
        adasum_row(first[i], second[i], projection)


def merge(projections, *groups):
    """A round's :class:`~.rounds.Merged` delta: the groups' other rows merged, and the frequent rows' delta."""
    cold = plan.merge(projections, *(group.group for group in groups))
    deltas = list(cold.deltas)
    for i, m in enumerate(SYNCED):
        (rows, values), (hot_rows, hot_values) = deltas[m], groups[0].hot[i]
        deltas[m] = (np.concatenate([hot_rows, rows]), np.concatenate([hot_values, values]))
    return plan.Merged(tuple(deltas), (*cold.stats[:-1], plan.delta_bytes(deltas)))


def _swap(exchange, job, part, deltas, workers=None):
    """This group's frequent rows' deltas sent to the :class:`Exchange`; the merge of every group's.

    A peer that left the cluster, or the driver giving the round up, ends
    the wait with :class:`~.replica.ReplicaLost` (work lost with a worker).
    ``workers``: the cluster's workers now (a test's stand-in for the scheduler's list).
    """
    waiting = exchange.swap(f"{job.name}-{part}", job.group, job.groups, deltas)
    while True:
        try:
            merged = waiting.result(timeout=POLL_SECONDS)
            break
        except TimeoutError:
            if set(job.peers) - set((workers or _cluster_workers)()):
                raise replica.ReplicaLost("a worker of this round left the cluster") from None
        except Exception as error:  # noqa: BLE001 - the actor's worker lost
            raise replica.ReplicaLost(f"the frequent rows' exchange failed ({type(error).__name__})") from None
    if merged is None:
        raise replica.ReplicaLost("the round was given up (a worker was lost)")
    return merged


def _cluster_workers():
    from distributed import get_client

    return get_client().scheduler_info().get("workers", {})


class Exchange:
    """A Dask actor where a round's groups meet after each part: each sends its frequent rows' deltas
    and gets back the merge of every group's, combined in group order by :func:`combine`.

    Its methods run on its worker's event loop; :meth:`swap` waits there,
    not in a thread. :meth:`give_up` releases every waiting group with
    None, when the driver runs the round again.
    """

    def __init__(self, projections):
        self.projections = projections
        self.meetings = {}  # key -> _Meeting
        self.given_up = False

    async def swap(self, key, group, groups, deltas):
        if self.given_up:
            return None
        meeting = self.meetings.setdefault(key, _Meeting())
        meeting.parts[group] = deltas
        if len(meeting.parts) == groups:
            ordered = [meeting.parts[g] for g in range(groups)]
            meeting.merged = [combine([np.array(p[i]) for p in ordered], self.projections[m])
                              for i, m in enumerate(SYNCED)]  # copies: what it received may be read-only
            meeting.event.set()
        await meeting.event.wait()
        if self.given_up:
            return None
        meeting.taken += 1
        if meeting.taken == groups:
            del self.meetings[key]
        return meeting.merged

    def give_up(self):
        self.given_up = True
        for meeting in self.meetings.values():
            meeting.event.set()


class _Meeting:
    """One part's meeting at the :class:`Exchange`: the groups' deltas so far, and their merge once all came."""

    def __init__(self):
        self.event = asyncio.Event()
        self.parts = {}  # group -> its deltas
        self.merged = None
        self.taken = 0  # groups that took the merge
