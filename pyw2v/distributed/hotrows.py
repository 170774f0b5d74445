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
combines their results. The rows cross in blocks (:data:`BLOCK_ROWS`): a
group sends each block as soon as it is made, and the actor merges it as
soon as every group's has come, so the blocks' ways overlap and a part
waits for the last block's alone. A group is an aligned block of a power of two of
consecutive chains (the last one may be shorter): a subtree of the chains'
tree. So the merge is the same bytes however many groups there are, and
the output does not depend on the number of workers.

Every value of that tree, from each chain's delta to the merge, is
rounded to bfloat16 (:mod:`.bfloat16`) where it is made: a group's result
and the merge then cross the network as 16-bit halves, exactly. The group
on the actor's own worker hands it its result in process.
"""
import asyncio
from collections import namedtuple

import numpy as np
from numba import njit

from . import bfloat16, replica
from . import rounds as plan
from .rounds import adasum_row
from .task import NOTHING_DONE, small_pages, train_slice

# The parts a round's slices are cut into: 2 MiB of text over all shards at CBOW's 16 MiB rounds.
PARTS = 8
# The frequent rows merged after each part by default (-sync-rows): cbow-ns on wiki100m, 5 epochs, 8 shards,
# reaches 33.83 / 34.03 / 34.38 % at 2000 / 5000 / 10000 rows, and 32.67 % merged once a round, against
# 34.4-35.5 % for one process (docs/distributed.md).
SYNC_ROWS = 10000
SYNCED = (0, 2)  # syn0 and syn1neg: the matrices of negative sampling (HS's syn1 is merged by round)
# The frequent rows cross the exchange in blocks of this many rows, each sent as soon as it is made and
# merged as soon as every group's has come: a part then waits for the last block's way, not the whole's.
BLOCK_ROWS = 2500
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


def synced_rows(options):
    """The frequent rows merged after each part: ``-sync-rows``, else :data:`SYNC_ROWS`."""
    return SYNC_ROWS if options.sync_rows is None else options.sync_rows


def parts(options, chains):
    """Into how many parts a round of ``chains`` chains is cut: :data:`PARTS` in CBOW with negative sampling,
    several chains and :func:`synced_rows`, else 1 (the round is merged at its end only)."""
    return PARTS if synced_rows(options) and options.cbow and options.negative > 0 and chains > 1 else 1


def group_size(chains, workers):
    """Chains per group: the least power of two that puts the chains on at most ``workers`` workers."""
    size = 1
    while size * workers < chains:
        size *= 2
    return size


# A row block of one synced matrix's frequent rows: the chains' views of them, the merged rows' view, and the
# view of this group's encoded deltas.
_RowBlock = namedtuple("_RowBlock", "matrix chains synced encoded")


def _block_rows(hot):
    """The frequent rows cut into row blocks of :data:`BLOCK_ROWS` (slices)."""
    return [slice(first, min(first + BLOCK_ROWS, hot)) for first in range(0, hot, BLOCK_ROWS)]


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
        encoded = np.empty((len(SYNCED), *synced[0].shape), dtype=np.uint16)  # this group's deltas
        row_blocks = [_RowBlock(m, tuple(work[m][rows] for work in works), synced[i][rows], encoded[i][rows])
                      for i, m in enumerate(SYNCED) for rows in _block_rows(hot)]
        done = [NOTHING_DONE] * len(chains)
        for part in range(job.parts):
            for c, (links, work) in enumerate(zip(chains, works)):
                for shard, pieces, seeds in links:
                    if pieces[part]:
                        done[c] = train_slice(run, f"{shard}-{job.round_}-{part}", pieces[part], work, job.alpha,
                                              seeds[part], done[c])
            sent = []
            for b, block in enumerate(row_blocks):
                group_delta(block.chains, block.synced, block.encoded, projections[block.matrix])
                sent.append(block.encoded if job.groups == 1 else
                            _send(exchange, job, f"{part}-{b}", block.encoded, block.matrix))
            for block, merged in zip(row_blocks, sent):
                _apply(block.synced, merged if job.groups == 1 else _received(merged, job), block.chains)
        first_rows = tuple(hot if m in SYNCED else 0 for m in range(len(held.base)))
        cold = replica.combined_deltas(held, works, first_rows, projections)
        hot_delta = [(np.arange(hot, dtype=np.int32), synced[i] - held.base[m][:hot]) for i, m in enumerate(SYNCED)]
    sent_bytes = plan.delta_bytes(cold) + plan.delta_bytes(hot_delta)  # to every other worker, which merges it
    words, loss, _ = plan.summed_stats((*chain_done, 0) for chain_done in done)
    return SyncedGroup(plan.GroupDelta(cold, (words, loss, sent_bytes)), hot_delta)


@njit(cache=True, nogil=True)
def group_delta(works, synced, out, projection):
    """``out`` (bfloat16 bits) = the chains' deltas of the frequent rows since ``synced`` combined.

    ``works``: the chains' frequent rows (a tuple of arrays of ``synced``'s
    shape). Each chain's delta and each node of the merge tree rounded to
    bfloat16 (:func:`combine_rows`): a subtree of the round's tree, whose
    result crosses the network as the bytes it is.
    """
    rows = np.empty((len(works), synced.shape[1]), dtype=np.float32)
    rows_bits = rows.view(np.uint32)
    for r in range(synced.shape[0]):
        for c in range(len(works)):
            work = works[c]
            for k in range(synced.shape[1]):
                rows[c, k] = work[r, k] - synced[r, k]
                rows_bits[c, k] = bfloat16.rounded_bits(rows_bits[c, k])
        _combine_row_into(out, r, rows, len(works), projection)


@njit(cache=True, nogil=True)
def merge_encoded(groups, out, projection):
    """``out`` = the groups' results (a tuple of bfloat16 bits, in group order) combined: the rest of
    the tree :func:`group_delta` began."""
    rows = np.empty((len(groups), out.shape[1]), dtype=np.float32)
    rows_bits = rows.view(np.uint32)
    for r in range(out.shape[0]):
        for g in range(len(groups)):
            group = groups[g]
            for k in range(out.shape[1]):
                rows_bits[g, k] = bfloat16.widened(group[r, k])
        _combine_row_into(out, r, rows, len(groups), projection)


@njit(cache=True, inline="always")
def _combine_row_into(out, r, rows, count, projection):
    """``out[r]`` = the bfloat16 bits of :func:`combine_rows` of the leaves in ``rows``."""
    combine_rows(rows, count, projection)
    rows_bits = rows.view(np.uint32)
    for k in range(out.shape[1]):
        out[r, k] = bfloat16.top_half(rows_bits[0, k])


@njit(cache=True, nogil=True)
def combine_rows(rows, count, projection):
    """``rows[0]`` = the first ``count`` moves of one row combined in :func:`~.rounds.combine`'s tree
    (chain 2i with 2i + 1, level by level; Adasum), each node rounded to bfloat16. The others are
    overwritten.

    A row that only one chain moves keeps its move (the others' are zero),
    as in the sparse merge. A group combines an aligned block of the chains
    (a subtree), so the same tree gives the same bytes whichever of its
    subtrees were combined on which worker.
    """
    rows_bits = rows.view(np.uint32)
    step = 1
    while step < count:
        for i in range(0, count - step, 2 * step):
            adasum_row(rows[i], rows[i + step], projection)
            for k in range(rows.shape[1]):
                rows_bits[i, k] = bfloat16.rounded_bits(rows_bits[i, k])
        step *= 2


@njit(cache=True, nogil=True)
def _apply(synced, merged, works):
    """``synced +=`` the merge (bfloat16 bits); every chain's frequent rows (``works``) become ``synced``.

    Each step is a loop of its own over one row, so that each is vectorised
    (in one loop, the float and integer views of one scratch row may alias).
    """
    move_bits = np.empty(synced.shape[1], dtype=np.uint32)
    move = move_bits.view(np.float32)
    for r in range(synced.shape[0]):
        merged_row, synced_row = merged[r], synced[r]
        for k in range(len(move_bits)):
            move_bits[k] = bfloat16.widened(merged_row[k])
        for k in range(len(move)):
            synced_row[k] += move[k]
        for work in works:
            work_row = work[r]
            for k in range(len(synced_row)):
                work_row[k] = synced_row[k]


def settle(token, version, projections, after, *groups):
    """A round's end on this worker: the groups' results (:class:`SyncedGroup`, in order) merged and added to
    its weights (version + 1); the merge's stats. Every worker runs it, so the merged delta, the size of a
    group's result, never crosses the network. ``after``: the task that must have run here first (not read)."""
    return replica.apply_merged(token, version, merge(projections, *groups))


def merge(projections, *groups):
    """A round's :class:`~.rounds.Merged` delta: the groups' other rows merged, and the frequent rows' delta."""
    cold = plan.merge(projections, *(group.group for group in groups))
    deltas = list(cold.deltas)
    for i, m in enumerate(SYNCED):
        (rows, values), (hot_rows, hot_values) = deltas[m], groups[0].hot[i]
        deltas[m] = (np.concatenate([hot_rows, rows]), np.concatenate([hot_values, values]))
    return plan.Merged(tuple(deltas), (*cold.stats[:-1], plan.delta_bytes(deltas)))


def _send(exchange, job, piece, payload, matrix):
    """This group's merged deltas of a block of frequent rows of ``matrix`` (uint16 bfloat16 bits) sent to
    the :class:`Exchange`: a future of the merge of every group's (:func:`_received`)."""
    return _call_swap(exchange, f"{job.name}-{piece}", job.group, job.groups, payload, matrix)


def _received(waiting, job, workers=None):
    """The merge that ``waiting`` (:func:`_send`'s) brings, in the same form as the deltas sent.

    A peer that left the cluster, or the driver giving the round up, ends
    the wait with :class:`~.replica.ReplicaLost` (work lost with a worker).
    ``workers``: the cluster's workers now (a test's stand-in for the scheduler's list).
    """
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


def _call_swap(exchange, *arguments):
    """``exchange.swap(*arguments)``: a future of its answer. On the actor's own worker the call goes to
    the actor's object on the worker's event loop, as Dask's own calls between actors of one worker go:
    through the network it would be serialised and sent to this process (half a part's exchange
    at two workers)."""
    worker = _this_worker()
    local = _local_actor(exchange, worker)
    if local is None:
        return exchange.swap(*arguments)
    return asyncio.run_coroutine_threadsafe(local.swap(*arguments), worker.loop.asyncio_loop)


def _local_actor(exchange, worker):
    """The object behind the actor handle ``exchange`` if it lives on ``worker`` (None outside a worker)."""
    if worker is None or getattr(exchange, "_address", None) != worker.address:
        return None
    return worker.state.actors.get(exchange.key)


def _this_worker():
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):  # not in a Dask task
        return None


def _cluster_workers():
    from distributed import get_client

    return get_client().scheduler_info().get("workers", {})


class Exchange:
    """A Dask actor where a round's groups meet after each part: each sends its merged deltas of a row
    block of one synced matrix and gets back the merge of every group's, combined in group order with
    that matrix's projection (:func:`merge_encoded`); both as bfloat16 bits (the values are bfloat16:
    nothing is lost on the way). Each row block is a meeting of its own.

    Its methods run on its worker's event loop; :meth:`swap` waits there,
    not in a thread. :meth:`give_up` releases every waiting group with
    None, when the driver runs the round again.
    """

    def __init__(self, projections):
        self.projections = projections
        self.meetings = {}  # key -> _Meeting
        self.given_up = False

    async def swap(self, key, group, groups, payload, matrix):
        if self.given_up:
            return None
        meeting = self.meetings.setdefault(key, _Meeting())
        meeting.parts[group] = payload
        if len(meeting.parts) == groups:
            meeting.merged = np.empty_like(payload)
            merge_encoded(tuple(meeting.parts[g] for g in range(groups)), meeting.merged, self.projections[matrix])
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
        self.parts = {}  # group -> its deltas' bfloat16 bits
        self.merged = None
        self.taken = 0  # groups that took the merge
