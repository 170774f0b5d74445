"""CBOW-NS on a cluster: the frequent rows merged after each part of a round (pyw2v.distributed.hotrows)."""
import asyncio
import os

import numpy as np
import pytest

from pyw2v.distributed import bfloat16, hotrows, replica
from pyw2v.distributed import rounds as plan
from pyw2v.options import TrainOptions

pytest.importorskip("distributed")


def dense_deltas(count, rows=40, size=8, seed=0):
    """``count`` deltas of the same rows; some rows only one delta moves, some none, some all."""
    rng = np.random.default_rng(seed)
    deltas = [rng.standard_normal((rows, size)).astype(np.float32) for _ in range(count)]
    alike = rng.standard_normal(size).astype(np.float32)
    for delta in deltas:
        delta[rng.random(rows) < 0.3] = 0  # rows this chain left alone
        delta[1] = alike  # a row every chain moved the same way
    return deltas


def sparse(delta):
    rows = np.flatnonzero(delta.any(axis=1)).astype(np.int32)
    return rows, delta[rows]


def scattered(sparse_delta, shape):
    out = np.zeros(shape, dtype=np.float32)
    out[sparse_delta[0]] = sparse_delta[1]
    return out


def encoded_group(deltas, projection=1.0, synced=None):
    """``group_delta`` of chains whose frequent rows are ``synced`` (zeros by default) plus ``deltas``."""
    synced = np.zeros_like(deltas[0]) if synced is None else synced
    out = np.empty(deltas[0].shape, dtype=np.uint16)
    hotrows.group_delta(tuple(synced + d for d in deltas), synced, out, projection)
    return out


def decoded(encoded):
    """float32 values of bfloat16 bits: the top halves of their float32 bits."""
    return (encoded.astype(np.uint32) << np.uint32(16)).view(np.float32)


def rounded(values):
    """``values`` rounded to bfloat16 (a float32 array)."""
    bits = values.view(np.uint32).reshape(-1)
    out = np.array([bfloat16.rounded_bits(b) for b in bits], dtype=np.uint32)
    return out.view(np.float32).reshape(values.shape)


@pytest.mark.parametrize("projection", [1.0, plan.SKIP_GRAM_SYN1NEG_PROJECTION])
def test_dense_merge_is_the_sparse_merge_to_bfloat16s_precision(projection):
    """The frequent rows' dense deltas merge as the round's sparse merge merges the same moves, but for
    the rounding of each of the tree's nodes to bfloat16 (2^-8 of a value at most, three levels here)."""
    deltas = [rounded(d) for d in dense_deltas(8)]
    for c, delta in enumerate(deltas):
        delta[2] = delta[2] if c == 3 else 0  # a row only chain 3 moved
    expected = scattered(plan.combine([sparse(d) for d in deltas], projection), deltas[0].shape)
    got = decoded(encoded_group(deltas, projection))
    scale = np.abs(expected).max(axis=1, keepdims=True)
    assert np.all(np.abs(got - expected) <= 3 * 2.0**-8 * scale + 1e-30)
    assert got[2].tobytes() == deltas[3][2].tobytes()  # a row one chain moved keeps its move
    assert not np.allclose(got, sum(deltas), atol=0.05)  # the rows several chains moved are not merely summed


def test_each_chains_delta_is_taken_from_the_synced_rows_and_rounded():
    rng = np.random.default_rng(3)
    synced = rng.standard_normal((10, 8)).astype(np.float32)
    work = (synced + rng.standard_normal((10, 8)).astype(np.float32) / 100).astype(np.float32)
    out = np.empty((10, 8), dtype=np.uint16)
    hotrows.group_delta((work,), synced, out, 1.0)
    assert decoded(out).tobytes() == rounded(work - synced).tobytes()


@pytest.mark.parametrize("chains, block", [(8, 4), (8, 2), (8, 1), (6, 4), (5, 2)])
def test_groups_of_aligned_blocks_give_the_one_trees_bytes(chains, block):
    """Blocks of a power of two consecutive chains are subtrees: merging each block, then the blocks'
    results in order, gives the bytes of merging every chain at once, so the output does not depend on
    how many workers (groups) there were."""
    deltas = dense_deltas(chains, seed=chains)
    whole = encoded_group(deltas)
    blocks = tuple(encoded_group(deltas[b : b + block]) for b in range(0, chains, block))
    merged = np.empty_like(whole)
    hotrows.merge_encoded(blocks, merged, 1.0)
    assert merged.tobytes() == whole.tobytes()


def test_a_block_that_is_not_a_subtree_gives_other_bytes():
    """What the aligned blocks guard against: chains (0 1 2)(3 4 5) are not subtrees of ((0 1)(2 3))((4 5))."""
    deltas = dense_deltas(6, seed=6)
    thirds = tuple(encoded_group(deltas[b : b + 3]) for b in (0, 3))
    merged = np.empty_like(thirds[0])
    hotrows.merge_encoded(thirds, merged, 1.0)
    assert merged.tobytes() != encoded_group(deltas).tobytes()


def test_applying_the_merge_moves_the_synced_rows_and_every_chains_copy_to_them():
    rng = np.random.default_rng(4)
    synced = rng.standard_normal((6, 8)).astype(np.float32)
    merge = rounded(rng.standard_normal((6, 8)).astype(np.float32))
    merge_bits = (merge.view(np.uint32) >> np.uint32(16)).astype(np.uint16)
    works = tuple(rng.standard_normal((6, 8)).astype(np.float32) for _ in range(3))
    expected = synced + merge
    hotrows._apply(synced, merge_bits, works)
    assert synced.tobytes() == expected.tobytes()
    assert all(work.tobytes() == expected.tobytes() for work in works)


@pytest.mark.parametrize("chains", [1, 2, 3, 4, 8])
@pytest.mark.parametrize("projection", [1.0, plan.SKIP_GRAM_SYN1NEG_PROJECTION])
def test_the_other_rows_combined_in_one_pass_are_the_sparse_trees_bytes(chains, projection):
    """``replica.combine_changes`` over working copies gives, row by row, the bytes of each chain's delta
    taken as ``replica.take_deltas`` takes it and the deltas combined by ``rounds.combine``: rows one
    chain moved, rows several moved, rows a chain changed to the same value (no delta of it), rows below
    ``first`` left out, and a row only the last chain of a pair moved (which goes up as it is)."""
    rng = np.random.default_rng(chains)
    base = rng.standard_normal((60, 8)).astype(np.float32)
    works = [base.copy() for _ in range(chains)]
    for c, work in enumerate(works):
        moved = rng.random(len(base)) < 0.5
        work[moved] += rng.standard_normal((moved.sum(), 8)).astype(np.float32)
        work[5] = base[5]  # written back unchanged: not a delta
        work[7] = base[7] + (1.0 if c == chains - 1 else 0.0)  # only the last chain moved it
    first = 3
    rows = np.empty(len(base), dtype=np.int32)
    values = np.empty(base.shape, dtype=np.float32)
    count = replica.combine_changes(tuple(works), tuple(w.view(np.int32) for w in works), base,
                                 base.view(np.int32), first, rows, values, projection)

    def taken(work):
        changed = np.flatnonzero((work.view(np.int32) != base.view(np.int32)).any(axis=1))
        changed = changed[changed >= first].astype(np.int32)
        return changed, work[changed] - base[changed]

    sparse_rows, sparse_values = plan.combine([taken(work) for work in works], projection)
    order = np.argsort(sparse_rows)
    assert rows[:count].tolist() == sorted(sparse_rows.tolist())  # in row order, every row and no other
    assert 5 not in rows[:count] and 7 in rows[:count] and rows[:count].min() >= first
    assert values[:count].tobytes() == sparse_values[order].tobytes()


@pytest.mark.parametrize("chains, workers, size", [(8, 1, 8), (8, 2, 4), (8, 3, 4), (8, 4, 2), (8, 8, 1),
                                                   (8, 16, 1), (2, 4, 1), (6, 4, 2)])
def test_group_size_puts_the_chains_on_at_most_the_workers(chains, workers, size):
    assert hotrows.group_size(chains, workers) == size
    assert -(-chains // size) <= workers


def test_only_cbow_with_negative_sampling_and_several_chains_is_cut_into_parts():
    def options(**kw):
        return TrainOptions(train="x", **kw)

    assert hotrows.parts(options(cbow=1, negative=5, sync_rows=100), 8) == hotrows.PARTS > 1
    assert hotrows.parts(options(cbow=1, negative=5), 8) == hotrows.PARTS  # on by default
    assert hotrows.synced_rows(options(cbow=1, negative=5)) == hotrows.SYNC_ROWS > 0
    assert hotrows.parts(options(cbow=1, negative=5, sync_rows=0), 8) == 1  # -sync-rows 0: merged once a round
    assert hotrows.parts(options(cbow=1, negative=5, sync_rows=100), 1) == 1  # the run's start: one chain
    assert hotrows.parts(options(cbow=0, negative=5, sync_rows=100), 8) == 1  # skip-gram loses with them
    assert hotrows.parts(options(cbow=1, hs=1, negative=0, sync_rows=100), 8) == 1


def test_the_exchange_gives_every_group_the_merge_and_lets_them_go_when_given_up():
    # per group, a block of its syn1neg deltas as bfloat16 bits, merged with syn1neg's projection
    deltas = [encoded_group(dense_deltas(2, seed=s)) for s in range(3)]
    projections = (1.0, 1.0, plan.SKIP_GRAM_SYN1NEG_PROJECTION)

    async def meet():
        exchange = hotrows.Exchange(projections)
        got = await asyncio.gather(*(exchange.swap("r-0", g, 3, deltas[g].copy(), 2) for g in (2, 0, 1)))
        assert not exchange.meetings  # every group took it: nothing kept
        waiting = asyncio.ensure_future(exchange.swap("r-1", 0, 3, deltas[0], 2))
        await asyncio.sleep(0.01)
        assert not waiting.done()  # the other groups never came
        exchange.give_up()
        return got, await waiting, await exchange.swap("r-2", 0, 1, deltas[0], 2)

    got, released, after = asyncio.run(meet())
    expected = np.empty_like(deltas[0])
    hotrows.merge_encoded(tuple(deltas), expected, projections[2])
    assert all(part.tobytes() == expected.tobytes() for part in got)
    hotrows.merge_encoded(tuple(deltas), expected, 1.0)
    assert all(part.tobytes() != expected.tobytes() for part in got)  # the block's own matrix's projection
    assert released is None and after is None


class StandIn:
    """An exchange whose swap answers ``answer`` after ``waits`` polls (a TimeoutError each)."""

    def __init__(self, answer, waits=0):
        self.answer, self.waits = answer, waits

    def swap(self, *arguments):
        stand_in = self

        class Future:
            def result(self, timeout):
                if stand_in.waits:
                    stand_in.waits -= 1
                    raise TimeoutError
                return stand_in.answer
        return Future()


def test_a_group_waits_while_its_peers_are_there_and_gives_up_when_one_leaves_or_the_round_is_given_up():
    from pyw2v.distributed.replica import ReplicaLost

    job = hotrows.GroupJob(0, [], 8, 100, 0.05, "r", 0, 2, ["tcp://a", "tcp://b"])
    there = {"tcp://a": {}, "tcp://b": {}}.copy
    assert hotrows._received(StandIn(["merged"], waits=3).swap(), job, workers=there) == ["merged"]
    with pytest.raises(ReplicaLost, match="left the cluster"):
        hotrows._received(StandIn(["merged"], waits=3).swap(), job, workers=lambda: {"tcp://a": {}})
    with pytest.raises(ReplicaLost, match="given up"):
        hotrows._received(StandIn(None).swap(), job, workers=there)


def test_tasks_failed_with_the_actors_worker_count_as_lost_work():
    """Dask fails what depends on an actor whose worker died with a RuntimeError: the round runs again."""
    from pyw2v.distributed.driver import _is_lost

    assert _is_lost(RuntimeError("Worker holding Actor was lost"))
    assert not _is_lost(RuntimeError("a bug"))


def _actor_here(exchange):
    return hotrows._local_actor(exchange, hotrows._this_worker()) is not None


def _threads_cores():
    """The set of the cores each thread of this process may run on."""
    return {frozenset(os.sched_getaffinity(int(thread))) for thread in os.listdir("/proc/self/task")}


def test_a_local_clusters_workers_run_pinned_without_the_profiler_and_reach_an_actor_of_theirs_in_process():
    """On the actor's worker a group's swap goes to the actor's object, not through the network; the
    local cluster's workers do not sample their threads' stacks (it takes the training cores), and each
    runs on a core of its own where the host lets it."""
    from pyw2v.distributed import cluster

    with cluster.connect(TrainOptions(train="x", workers=2)) as client:
        # Dask's worker samples its threads from this periodic callback (Python 3.11: no watcher thread).
        sampling = client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
        assert list(sampling.values()) == [False, False]
        if hasattr(os, "sched_getaffinity") and len(os.sched_getaffinity(0)) >= 2:
            cores = list(client.run(_threads_cores).values())
            assert all(len(each) == 1 and len(next(iter(each))) == 1 for each in cores)  # every thread, one core
            assert cores[0] != cores[1]
        first, second = sorted(client.scheduler_info()["workers"])
        exchange = client.submit(hotrows.Exchange, (1.0, 1.0, 1.0), actor=True, workers=[first]).result()
        here = [client.submit(_actor_here, exchange, workers=[w], pure=False).result() for w in (first, second)]
        assert here == [True, False]
