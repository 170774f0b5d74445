"""The client's side of a cluster run: C's TrainModel with the corpus read and trained on the workers.

1. The workers list the corpus files and count each shard's words; the
   counts are merged in shard order and sorted as on one machine (the same
   vocabulary, ``-save-vocab`` file, Huffman tree and unigram table).
2. Every worker is given C's initial weights, and keeps them
   (:mod:`.replica`). Each round of each epoch is one
   :func:`~.task.train_chain` task per chain of shards
   (:func:`~.rounds.chains`: one shard each after the first epochs), on
   its shards' worker; the chains' sparse deltas are combined in groups and
   merged (:func:`~.rounds.merge`), and the merged delta is added to every
   worker's weights. A copy of them comes back to the client at most every
   :data:`CHECKPOINT_SECONDS`, and after the last round.
3. When work is lost with a worker, every worker is given the client's
   copy again, and the rounds after it run again: the tasks are pure, so
   the output is unchanged.
"""
import time
import uuid
from collections import deque, namedtuple
from dataclasses import asdict
from types import SimpleNamespace

import numpy as np

from ..corpus.vocab import read_vocab, sorted_vocabulary
from ..errors import UserError
from ..progress import Progress
from ..training.loop import EPOCH, Cursor, Model
from . import hotrows, replica
from . import rounds as plan
from .cluster import connect, dashboard, first_line
from .shards import cut_rounds, cut_shards, merge_counts
from .task import (
    RunData,
    count_slice,
    forget_run,
    initial_model,
    list_corpus,
    pack_words,
    train_chain,
    unpack_words,
)

POLL_SECONDS = 0.1
# The first look for a result; each next one waits twice as long, up to POLL_SECONDS.
FIRST_POLL_SECONDS = 0.005
PROGRESS_SECONDS = 0.5
# How often the client asks the scheduler for its workers (an RPC), to notice one that held the weights has left.
WORKERS_SECONDS = 1.0
# Without its scheduler this long, the client gives up (Dask itself would retry for minutes).
LOST_SECONDS = 20
ROUND_ATTEMPTS = 3
# Rounds submitted ahead of the one the client waits for (each holds its sparse deltas on the workers).
ROUNDS_IN_FLIGHT = 4
# The client's copy of the merged weights, from which work lost with a worker is run again, is
# fetched at most this often (and after the last round): the output never depends on it.
CHECKPOINT_SECONDS = 60


class ClusterProgress(Progress):
    """C's progress line with the words per second of the whole cluster (wall clock)."""

    speed_label = "Words/sec"

    def speed(self, done, wall, cpu):
        return done / max(wall, 1e-6) / 1000


def train_distributed(options, out, fit=True, client=None):
    """Train as :func:`pyw2v.train._train` does, on a Dask cluster; returns a TrainResult (None without ``fit``)."""
    from ..train import TrainResult, check_trainable, report_vocabulary

    with connect(options, client) as client:
        if options.debug > 1 and dashboard(client):
            print(f"Dask dashboard: {dashboard(client)}", file=out, flush=True)
        run = _Run(options, client, out)
        vocab = run.vocabulary()
        report_vocabulary(options, vocab, out)
        if not fit:
            return None
        check_trainable(options, vocab)
        try:
            model, losses = run.train(vocab)
        finally:
            run.forget()
    return TrainResult(vocab, model.syn0, model.syn1, model.syn1neg, losses)


class _Run:
    def __init__(self, options, client, out):
        self.options, self.client, self.out = options, client, out
        self.token = uuid.uuid4().hex
        self.traffic = []  # per round: (the chains' delta bytes, the merged delta's bytes)
        self.workers = []  # those holding the run's weights (:meth:`_install`)
        self.exchange = None  # the :class:`~.hotrows.Exchange` actor of CBOW-NS runs on several workers

    def vocabulary(self):
        options = self.options
        files = self._result(self.client.submit(list_corpus, options.train, key=f"pyw2v-files-{self.token}"))
        self.total_bytes = sum(size or 0 for _, size, _ in files)
        self.shards = cut_shards(files, options.shards)
        if options.read_vocab:
            vocab = read_vocab(options.read_vocab, options.min_count)
        else:
            counted = [
                self.client.submit(count_slice, s, pieces, key=f"pyw2v-count-{self.token}-{s}")
                for s, pieces in enumerate(self.shards)
            ]
            # Merged as they come, in shard order: the merge of the first overlaps the counting of the last.
            per_shard = ((unpack_words(words), counts) for words, counts in map(self._result, counted))
            words, counts = _end_of_sentence_first(*merge_counts(per_shard))
            vocab, _ = sorted_vocabulary(words, counts, options.min_count)
        if vocab.size < 2 or vocab.train_words == 0:
            source = options.read_vocab or options.train
            raise UserError(
                f"{source}: no word occurs at least {options.min_count} times (-min-count); nothing to train"
            )
        return vocab

    def train(self, vocab):
        options, client = self.options, self.client
        self.round_bytes = plan.round_bytes(options)
        self.one_chain_bytes = plan.one_chain_bytes(options)
        self.projections = plan.projections_for(options.cbow)
        rounds = plan.round_count(self.total_bytes, self.round_bytes)
        slices = [cut_rounds(pieces, rounds) for pieces in self.shards]
        fields = {k: v for k, v in asdict(options).items() if k in RUN_FIELDS}
        run = client.scatter([RunData(self.token, fields, pack_words(vocab.words), vocab.counts)], broadcast=True)[0]
        weights_here = initial_model(options, vocab.size)
        self.weights_bytes = sum(m.nbytes for m in weights_here)
        loss = np.zeros((1, options.iter, 2)) if options.loss else None
        progress = ClusterProgress(options, vocab.train_words, self.out, loss)
        self.control = SimpleNamespace(words_done=np.zeros(1, dtype=np.int64),
                                       cursors=np.zeros((1, len(Cursor._fields)), dtype=np.int64))
        try:
            weights_here = self._epochs(weights_here, run, slices, vocab, rounds, progress, loss)
        except (OSError, TimeoutError) as error:
            # Dask's comm errors are OSErrors; once the scheduler is gone, reconnecting times out as one.
            raise UserError(f"{self._lost_scheduler()} ({first_line(error)})") from None
        self.control.cursors[0, EPOCH] = options.iter
        losses = progress.finish(self.control)
        if options.debug > 2:
            self._print_traffic(rounds)
        return _trimmed(weights_here, vocab.size), losses

    def _epochs(self, weights_here, run, slices, vocab, rounds, progress, loss):
        """All rounds of all epochs; returns the last merged weights, fetched.

        Rounds are submitted ahead of the one the client waits for
        (:data:`ROUNDS_IN_FLIGHT`), so the workers go on while the client
        collects a round's statistics. The client fetches a worker's
        weights, its checkpoint, at most every :data:`CHECKPOINT_SECONDS`
        and at the end. Work lost with a worker sends the run back to the
        round after the checkpoint, whose weights every worker is given
        again: the tasks are pure, so the rounds run again give the same bytes.
        """
        options, client = self.options, self.client
        schedule = [(epoch, round_) for epoch in range(options.iter) for round_ in range(rounds)]
        in_flight, submitted, finished, attempts, restarts = deque(), 0, 0, 0, 0
        checkpoint = _Checkpoint(weights_here, 0, self.control.words_done.copy(), _copy(loss), 0, time.monotonic())
        ready, last_copy = None, checkpoint.time
        while finished < len(schedule):
            try:
                if ready is None:  # the run's start, or work lost: every worker gets the checkpoint's weights
                    ready = self._install(checkpoint.weights, checkpoint.finished, restarts)
                while submitted < len(schedule) and len(in_flight) < ROUNDS_IN_FLIGHT:
                    epoch, round_ = schedule[submitted]
                    due = submitted + 1 == len(schedule) or time.monotonic() - last_copy >= CHECKPOINT_SECONDS
                    last_copy = time.monotonic() if due else last_copy
                    in_flight.append(self._submit_round(ready, run, slices, vocab, epoch, round_, rounds,
                                                        submitted, restarts, due))
                    ready = in_flight[-1].ready
                    submitted += 1
                epoch, _ = schedule[finished]
                self.control.cursors[0, EPOCH] = epoch
                self._wait(list(in_flight[0].ready.values()), lambda: progress.report(self.control))
                stats, *merged = self._fetched(in_flight[0].stats, *in_flight[0].snapshot)
            except _Lost:
                if client.status != "running":
                    raise UserError(self._lost_scheduler()) from None
                attempts += 1
                if attempts == ROUND_ATTEMPTS:
                    raise UserError("the Dask cluster lost this round's work three times; giving up") from None
                self._give_up_exchange()
                client.cancel([f for submitted_round in in_flight for f in submitted_round.futures])
                in_flight.clear()
                finished = submitted = checkpoint.finished
                restarts += 1
                self.control.words_done[:] = checkpoint.words_done
                if loss is not None:
                    loss[:] = checkpoint.loss
                del self.traffic[checkpoint.traffic:]
                ready = None
                continue
            in_flight.popleft()
            finished, attempts = finished + 1, 0
            words, round_loss, delta, merged_bytes = stats
            self.control.words_done[0] += words
            if loss is not None:
                loss[0, epoch] += round_loss
            self.traffic.append((delta, merged_bytes))
            if merged:
                checkpoint = _Checkpoint(merged[0], finished, self.control.words_done.copy(), _copy(loss),
                                         len(self.traffic), time.monotonic())
        return checkpoint.weights

    def _install(self, weights, version, restarts):
        """Give every worker ``weights`` (those after ``version`` rounds); per worker, the future of its copy.

        The workers are taken as they are now, and each keeps its shards
        until the run ends or a worker is lost (:meth:`_homes`). With
        ``-sync-rows`` on several workers it also makes the exchange's actor;
        a worker lost meanwhile raises :class:`_Lost`, as lost work does.
        """
        self.workers = self._current_workers()
        if not self.workers:
            try:
                self.client.wait_for_workers(1, timeout=LOST_SECONDS)
            except TimeoutError:
                raise UserError(f"no Dask worker left in {_scheduler_name(self.options)}") from None
            self.workers = self._current_workers()
        shared = self.client.scatter([weights])[0]
        ready = {
            worker: self.client.submit(replica.install, self.token, shared, version,
                                       key=f"pyw2v-install-{self.token}-{restarts}-{i}", **_pinned(worker))
            for i, worker in enumerate(self.workers)
        }
        self.homes = self._homes()
        if hotrows.parts(self.options, self.options.shards) > 1 and len(self.workers) > 1:
            try:
                self.exchange = self.client.submit(
                    hotrows.Exchange, self.projections, actor=True, key=f"pyw2v-exchange-{self.token}-{restarts}",
                    workers=[self.workers[0]],
                ).result()
            except Exception as error:  # noqa: BLE001 - Dask's errors for a worker lost meanwhile, told by name
                if _is_lost(error):
                    raise _Lost() from None
                raise
        return ready

    def _give_up_exchange(self):
        """Release the groups that wait at the exchange (the round is run again, with a new one)."""
        if self.exchange is not None:
            try:
                self.exchange.give_up()
            except Exception:  # noqa: BLE001, S110 - its worker may be the one lost
                pass
            self.exchange = None

    def _submit_round(self, ready, run, slices, vocab, epoch, round_, rounds, version, restarts, snapshot):
        """One round's tasks from the weights after ``version`` rounds; returns a :class:`_Round`.

        The chains train on their shards' workers; their deltas are combined
        in groups, merged, and the merged delta added to every worker's
        weights (``ready``: per worker, the task its round must follow).
        With ``snapshot``, a copy of the merged weights comes back too.
        """
        options, client = self.options, self.client
        name = f"{self.token}-{restarts}-{epoch}-{round_}"  # a round run again gets keys of its own
        alpha = plan.round_alpha(options, vocab.train_words, epoch, round_, rounds)
        chains = plan.chains(epoch, round_, rounds, options.shards, self.round_bytes, self.one_chain_bytes)
        parts = hotrows.parts(options, chains)
        if parts > 1:
            # Every worker merges the groups' results itself: the merged delta, as large, never crosses.
            tasks = self._synced_tasks(run, version, epoch, round_, rounds, slices, alpha, chains, parts, ready, name)
            applied = {
                worker: client.submit(hotrows.settle, self.token, version, self.projections, ready[worker], *tasks,
                                      key=f"pyw2v-apply-{name}-{i}", **_pinned(worker))
                for i, worker in enumerate(self.workers)
            }
        else:
            tasks = self._chain_tasks(run, version, epoch, round_, rounds, slices, alpha, chains, ready, name)
            applied = {
                worker: client.submit(replica.apply_merged, self.token, version, tasks[-1], ready[worker],
                                      key=f"pyw2v-apply-{name}-{i}", **_pinned(worker))
                for i, worker in enumerate(self.workers)
            }
        first = self.workers[0]
        stats, copies, ready = applied[first], [], dict(applied)
        if snapshot:
            copies.append(client.submit(replica.snapshot, self.token, version + 1, stats,
                                        key=f"pyw2v-snapshot-{name}", **_pinned(first)))
            ready[first] = copies[0]  # the next round's merge changes those weights only once they are copied
        return _Round(ready, stats, copies, [*tasks, *applied.values(), *copies])

    def _chain_tasks(self, run, version, epoch, round_, rounds, slices, alpha, chains, ready, name):
        """A round's chain tasks, the groups' sums and their merge (last): their futures."""
        options, client = self.options, self.client
        jobs = [(s, shard_slices[round_], plan.seed(epoch, round_, s, rounds, options.shards))
                for s, shard_slices in enumerate(slices) if shard_slices[round_]]
        tasks, homes = [], []
        for c in range(chains):
            links = [job for job in jobs if job[0] * chains // options.shards == c]
            if links:
                homes.append(self.homes[links[0][0]])
                tasks.append(client.submit(
                    train_chain, run, version, round_, links, alpha, ready[homes[-1]],
                    key=f"pyw2v-chain-{name}-{c}", **_pinned(homes[-1]),
                ))
        groups = [
            client.submit(plan.combine_group, self.projections, *tasks[g : g + plan.GROUP_CHAINS],
                          key=f"pyw2v-group-{name}-{g}", **_placed([homes[g]]))
            for g in range(0, len(tasks), plan.GROUP_CHAINS)
        ]
        merged = client.submit(plan.merge, self.projections, *groups, key=f"pyw2v-merge-{name}",
                               **_placed([homes[0]]))
        return [*tasks, *groups, merged]

    def _synced_tasks(self, run, version, epoch, round_, rounds, slices, alpha, chains, parts, ready, name):
        """A CBOW-NS round whose frequent rows are merged after each of its ``parts`` (:mod:`.hotrows`).

        The chains go to the workers in aligned blocks of a power of two
        (:func:`~.hotrows.group_size`), one task per block, all running at
        once: the blocks are subtrees of the chains' merge, so the output
        is the same at any number of workers.
        """
        options, client = self.options, self.client
        shards = options.shards
        links = [[(s, cut_rounds(slices[s][round_], parts),
                   [plan.seed(epoch, round_ * parts + q, s, rounds * parts, shards) for q in range(parts)])
                  for s in range(shards) if s * chains // shards == c and slices[s][round_]]
                 for c in range(chains)]
        size = hotrows.group_size(chains, len(self.workers))
        blocks = [links[c : c + size] for c in range(0, chains, size)]
        peers = self.workers[: len(blocks)]  # the exchange runs on the first
        rows = hotrows.synced_rows(options)
        tasks = [
            client.submit(hotrows.train_group, run, version,
                          hotrows.GroupJob(round_, block, parts, rows, alpha, name, g, len(blocks), peers),
                          self.projections, self.exchange, ready[self.workers[g]],
                          key=f"pyw2v-group-{name}-{g}", **_pinned(self.workers[g]))
            for g, block in enumerate(blocks)
        ]
        return tasks

    def _fetched(self, *futures):
        """The results of finished ``futures``, in a list; work lost with a worker raises :class:`_Lost`."""
        try:
            return [future.result() for future in futures]
        except Exception as error:
            if _is_lost(error):
                raise _Lost() from error
            raise

    def _current_workers(self):
        return sorted(self.client.scheduler_info().get("workers", {}))

    def _homes(self):
        """Per shard, the worker its chains run on: consecutive shards on one worker, the workers in turn.

        The output never depends on it: every worker holds the same weights.
        """
        workers, shards = self.workers, self.options.shards  # never empty: :meth:`_install` waits for one
        return [workers[s * len(workers) // shards] for s in range(shards)]

    def _result(self, future):
        self._wait([future])
        return future.result()

    def _wait(self, futures, tick=None):
        """Wait for ``futures``, calling ``tick`` every half second; a task's UserError is raised as it is.

        Work lost with a worker raises :class:`_Lost`; a scheduler gone for
        :data:`LOST_SECONDS` is a UserError.
        """
        pending = list(futures)
        last_tick = last_check = 0.0
        lost_since = None
        delay = FIRST_POLL_SECONDS  # a short task's result (the corpus's files, a shard's counts) comes soon
        while True:
            for f in [f for f in pending if f.done()]:
                if f.status == "error":
                    error = f.exception()
                    if isinstance(error, UserError):
                        raise UserError(str(error))
                    raise _Lost() if _is_lost(error) else error
                if f.status == "cancelled":
                    raise _Lost()
                pending.remove(f)
            if not pending:
                return
            if self.client.status != "running":
                lost_since = lost_since or time.monotonic()
                if time.monotonic() - lost_since > LOST_SECONDS:
                    raise UserError(self._lost_scheduler())
            else:
                lost_since = None
                if time.monotonic() - last_check >= WORKERS_SECONDS:
                    last_check = time.monotonic()
                    if self._a_worker_left():
                        raise _Lost()
            if tick is not None and time.monotonic() - last_tick >= PROGRESS_SECONDS:
                last_tick = time.monotonic()
                try:
                    tick()
                except Exception as error:
                    if _is_lost(error):
                        raise _Lost() from error
                    raise
            time.sleep(delay)
            delay = min(POLL_SECONDS, 2 * delay)

    def _a_worker_left(self):
        """Whether a worker holding the run's weights has left the cluster (its pinned tasks would wait forever)."""
        return bool(self.workers) and not set(self.workers) <= set(self._current_workers())

    def _lost_scheduler(self):
        return f"lost the Dask scheduler ({_scheduler_name(self.options)}): training stopped"

    def forget(self):
        self.exchange = None  # Dask removes the actor with its last reference
        try:
            self.client.run(forget_run, self.token)
        except Exception:  # noqa: BLE001, S110 - a cluster already gone has nothing to forget
            pass

    def _print_traffic(self, rounds):
        """-debug 3: the bytes a round moves, and the workers' peak memory."""
        deltas, merged = np.array(self.traffic, dtype=np.float64).T / 1e6
        peaks = self.client.run(_peak_rss)
        # With -sync-rows, every worker merges the groups' results itself (:func:`.hotrows.settle`).
        where = "made on each worker" if hotrows.parts(self.options, self.options.shards) > 1 else "to each worker"
        print(
            f"Rounds per epoch: {rounds}  shards: {self.options.shards}  weights: {self.weights_bytes / 1e6:.1f} MB  "
            f"deltas per round: {np.mean(deltas):.1f} MB  per epoch: {np.sum(deltas) / self.options.iter:.1f} MB  "
            f"merged per round: {np.mean(merged):.1f} MB ({where})  "
            f"worker peak RSS: {max(peaks.values()) / 1024:.0f} MiB",
            file=self.out, flush=True,
        )


# The options a task reads.
RUN_FIELDS = ("cbow", "fast", "hs", "negative", "window", "sample", "size", "loss")


# A round whose tasks are submitted: per worker, the task after which its weights hold the round's
# merge (and have been copied, with a snapshot); the round's statistics; the snapshot (a list of one
# future, or none); and every future it made.
_Round = namedtuple("_Round", "ready stats snapshot futures")
# The client's copy of the weights after ``finished`` rounds, with the counters as they were then
# (words done, the loss, the length of the traffic list) and when it was taken.
_Checkpoint = namedtuple("_Checkpoint", "weights finished words_done loss traffic time")


def _pinned(worker):
    """``client.submit``'s placement of a task that must run on ``worker`` (it reads the weights there)."""
    return {"workers": [worker], "allow_other_workers": False}


def _placed(home):
    """``client.submit``'s placement hint for a task whose worker should be ``home``: none when no worker is known.

    No worker is known once the scheduler is gone; Dask refuses
    ``allow_other_workers`` without ``workers``, and the wait that follows
    reports the lost scheduler in its one line.
    """
    return {"workers": home, "allow_other_workers": True} if home else {}


def _copy(array):
    return None if array is None else array.copy()


class _Lost(Exception):
    """A round's work was lost with a worker (or cancelled); the round is run again."""


def _is_lost(error):
    """Whether a task's ``error`` is work lost with a worker (by Dask's names for it; Dask fails the tasks
    that depend on an actor whose worker died with a plain RuntimeError, told by its message)."""
    name = type(error).__name__
    if isinstance(error, RuntimeError) and "Actor was lost" in str(error):
        return True
    return name in (
        "KilledWorker", "FutureCancelledError", "CancelledError", "CommClosedError", "FuturesCancelledError",
        "ReplicaLost",
    )


def _scheduler_name(options):
    return options.scheduler or "the local cluster"


def _peak_rss():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def _end_of_sentence_first(words, counts):
    """C's table starts with ``</s>`` (LearnVocabFromTrainFile adds it first), counted or not."""
    words, counts = list(words), np.asarray(counts, dtype=np.int64)
    if words[:1] == [EOS]:
        return words, counts
    at = words.index(EOS) if EOS in words else None
    eos_count = counts[at] if at is not None else 0
    rest = [w for i, w in enumerate(words) if i != at]
    return [EOS] + rest, np.concatenate(([eos_count], np.delete(counts, at) if at is not None else counts))


EOS = b"</s>"


def _trimmed(model, vocab_size):
    return Model(model.syn0[:vocab_size], model.syn1, model.syn1neg[:vocab_size])
