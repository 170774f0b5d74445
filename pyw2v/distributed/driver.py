"""The client's side of a cluster run: C's TrainModel with the corpus read and trained on the workers.

1. The workers list the corpus files and count each shard's words; the
   counts are merged in shard order and sorted as on one machine (the same
   vocabulary, ``-save-vocab`` file, Huffman tree and unigram table).
2. Each round of each epoch is one :func:`~.task.train_chain` task per
   chain of shards (:func:`~.rounds.chains`: one shard each after the
   first epochs) and one :func:`~.rounds.merge` task; the merged weights
   stay on the workers for the next round, and a copy comes back to the
   client at most every :data:`CHECKPOINT_SECONDS`.
3. When work is lost with a worker, the rounds after that copy are run
   again from it: the tasks are pure, so the output is unchanged.
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
from ..training.huffman import build_tree
from ..training.loop import EPOCH, Cursor, Model
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
PROGRESS_SECONDS = 0.5
# Without its scheduler this long, the client gives up (Dask itself would retry for minutes).
LOST_SECONDS = 20
ROUND_ATTEMPTS = 3
# Rounds submitted ahead of the one the client waits for (each holds its weights on the workers).
ROUNDS_IN_FLIGHT = 2
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
        self.traffic = []  # per round: (delta bytes, weights bytes)

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
            per_shard = [(unpack_words(words), counts) for words, counts in map(self._result, counted)]
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
        rounds = plan.round_count(self.total_bytes)
        slices = [cut_rounds(pieces, rounds) for pieces in self.shards]
        fields = {k: v for k, v in asdict(options).items() if k in RUN_FIELDS}
        run = client.scatter([RunData(self.token, fields, pack_words(vocab.words), vocab.counts)], broadcast=True)[0]
        weights_here = initial_model(options, vocab.size)
        tree = build_tree(vocab.counts) if options.hs else None
        self.shares = plan.update_shares(vocab.counts, options.negative, options.hs, tree, options.cbow, options.window)
        weights = client.scatter([weights_here])[0]
        self.weights_bytes = sum(m.nbytes for m in weights_here)
        loss = np.zeros((1, options.iter, 2)) if options.loss else None
        progress = ClusterProgress(options, vocab.train_words, self.out, loss)
        self.control = SimpleNamespace(words_done=np.zeros(1, dtype=np.int64),
                                       cursors=np.zeros((1, len(Cursor._fields)), dtype=np.int64))
        try:
            weights_here = self._epochs(weights, weights_here, run, slices, vocab, rounds, progress, loss)
        except (OSError, TimeoutError) as error:
            # Dask's comm errors are OSErrors; once the scheduler is gone, reconnecting times out as one.
            raise UserError(f"{self._lost_scheduler()} ({first_line(error)})") from None
        self.control.cursors[0, EPOCH] = options.iter
        losses = progress.finish(self.control)
        if options.debug > 2:
            self._print_traffic(rounds)
        return _trimmed(weights_here, vocab.size), losses

    def _epochs(self, weights, weights_here, run, slices, vocab, rounds, progress, loss):
        """All rounds of all epochs; returns the last merged weights, fetched.

        The next round is submitted before the client waits for this one,
        so the workers go on while the client collects a round's statistics.
        The client fetches the merged weights, its checkpoint, at most every
        :data:`CHECKPOINT_SECONDS` and at the end: fetched every round, they
        cross the cores that train (docs/distributed.md). Work lost with a worker
        sends the run back to the round after the checkpoint: the tasks are
        pure, so the rounds run again give the same bytes.
        """
        options, client = self.options, self.client
        schedule = [(epoch, round_) for epoch in range(options.iter) for round_ in range(rounds)]
        in_flight, submitted, finished, attempts, restarts = deque(), 0, 0, 0, 0
        checkpoint = _Checkpoint(weights_here, 0, self.control.words_done.copy(), _copy(loss), 0, time.monotonic())
        while finished < len(schedule):
            try:
                while submitted < len(schedule) and len(in_flight) < ROUNDS_IN_FLIGHT:
                    epoch, round_ = schedule[submitted]
                    in_flight.append(self._submit_round(weights, run, slices, vocab, epoch, round_, rounds, restarts))
                    weights = in_flight[-1].merged
                    submitted += 1
                epoch, _ = schedule[finished]
                self.control.cursors[0, EPOCH] = epoch
                stats = self._finish_round(in_flight[0], progress)
                due = finished + 1 == len(schedule) or time.monotonic() - checkpoint.time >= CHECKPOINT_SECONDS
                merged = self._fetched(in_flight[0].merged)[0] if due else None
            except _Lost:
                if client.status != "running":
                    raise UserError(self._lost_scheduler()) from None
                attempts += 1
                if attempts == ROUND_ATTEMPTS:
                    raise UserError("the Dask cluster lost this round's work three times; giving up") from None
                client.cancel([f for submitted_round in in_flight for f in submitted_round.futures])
                in_flight.clear()
                finished = submitted = checkpoint.finished
                restarts += 1
                self.control.words_done[:] = checkpoint.words_done
                if loss is not None:
                    loss[:] = checkpoint.loss
                del self.traffic[checkpoint.traffic:]
                weights = client.scatter([checkpoint.weights])[0]
                continue
            in_flight.popleft()
            finished, attempts = finished + 1, 0
            self.control.words_done[0] += sum(s[0] for s in stats)
            if loss is not None:
                loss[0, epoch] += np.sum([s[1] for s in stats], axis=0)
            self.traffic.append((sum(s[2] for s in stats), self.weights_bytes))
            if due:
                checkpoint = _Checkpoint(merged, finished, self.control.words_done.copy(), _copy(loss),
                                         len(self.traffic), time.monotonic())
        return checkpoint.weights

    def _submit_round(self, weights, run, slices, vocab, epoch, round_, rounds, restarts):
        """One round's tasks: the chains' from ``weights``, their group sums and merge; returns a :class:`_Round`."""
        options, client = self.options, self.client
        name = f"{self.token}-{restarts}-{epoch}-{round_}"  # a round run again gets keys of its own
        alpha = plan.round_alpha(options, vocab.train_words, epoch, round_, rounds)
        jobs = [(s, shard_slices[round_], plan.seed(epoch, round_, s, rounds, options.shards))
                for s, shard_slices in enumerate(slices) if shard_slices[round_]]
        chains = plan.chains(epoch, round_, rounds, options.shards)
        homes = self._homes()
        tasks, firsts = [], []
        for c in range(chains):
            links = [job for job in jobs if job[0] * chains // options.shards == c]
            if links:
                firsts.append(links[0][0])
                tasks.append(client.submit(
                    train_chain, weights, run, round_, links, alpha, key=f"pyw2v-chain-{name}-{c}",
                    **_placed(homes[firsts[-1]]),
                ))
        groups = [
            client.submit(plan.group_sum, weights, *tasks[g : g + plan.GROUP_CHAINS], key=f"pyw2v-group-{name}-{g}",
                          **_placed(homes[firsts[g]]))
            for g in range(0, len(tasks), plan.GROUP_CHAINS)
        ]
        saturation = plan.saturation(self.shares, alpha, vocab.train_words / (rounds * chains))
        merged = client.submit(plan.merge, weights, saturation, *groups, key=f"pyw2v-merge-{name}")
        stats = [client.submit(plan.slice_stats, t, key=f"pyw2v-stats-{name}-{i}") for i, t in enumerate(tasks)]
        return _Round(merged, stats, tasks + groups + stats + [merged])

    def _finish_round(self, submitted, progress):
        """Wait for a submitted round; returns its chains' stats."""
        done_words = self.control.words_done[0]
        debug = self.options.debug

        def tick():
            finished = sum(s.result()[0] for s in submitted.stats if s.status == "finished") if debug > 1 else 0
            self.control.words_done[0] = done_words + finished
            progress.report(self.control)

        self._wait(list(submitted.stats) + [submitted.merged], tick)
        self.control.words_done[0] = done_words
        return self._fetched(*submitted.stats)

    def _fetched(self, *futures):
        """The results of finished ``futures``, in a list; work lost with a worker raises :class:`_Lost`."""
        try:
            return [future.result() for future in futures]
        except Exception as error:
            if _is_lost(error):
                raise _Lost() from error
            raise

    def _homes(self):
        """Per shard, the worker its slices should run on: consecutive shards on one worker, the workers in turn.

        A hint only (Dask may run a task elsewhere, and a dead worker's go
        elsewhere): the output never depends on it. Without it Dask runs a
        round's slices where the round's weights already are, on one worker.
        """
        workers = sorted(self.client.scheduler_info().get("workers", {}))
        shards = self.options.shards
        return [[workers[s * len(workers) // shards]] if workers else None for s in range(shards)]

    def _result(self, future):
        self._wait([future])
        return future.result()

    def _wait(self, futures, tick=None):
        """Wait for ``futures``, calling ``tick`` every half second; a task's UserError is raised as it is.

        Work lost with a worker raises :class:`_Lost`; a scheduler gone for
        :data:`LOST_SECONDS` is a UserError.
        """
        pending = list(futures)
        last_tick = 0.0
        lost_since = None
        while pending:
            time.sleep(POLL_SECONDS)
            for f in [f for f in pending if f.done()]:
                if f.status == "error":
                    error = f.exception()
                    if isinstance(error, UserError):
                        raise UserError(str(error))
                    raise _Lost() if _is_lost(error) else error
                if f.status == "cancelled":
                    raise _Lost()
                pending.remove(f)
            if self.client.status != "running":
                lost_since = lost_since or time.monotonic()
                if time.monotonic() - lost_since > LOST_SECONDS:
                    raise UserError(self._lost_scheduler())
            else:
                lost_since = None
            if tick is not None and time.monotonic() - last_tick >= PROGRESS_SECONDS:
                last_tick = time.monotonic()
                try:
                    tick()
                except Exception as error:
                    if _is_lost(error):
                        raise _Lost() from error
                    raise

    def _lost_scheduler(self):
        return f"lost the Dask scheduler ({_scheduler_name(self.options)}): training stopped"

    def forget(self):
        try:
            self.client.run(forget_run, self.token)
        except Exception:  # noqa: BLE001, S110 - a cluster already gone has nothing to forget
            pass

    def _print_traffic(self, rounds):
        """-debug 3: the bytes a round moves, and the workers' peak memory."""
        deltas = [d for d, _ in self.traffic]
        peaks = self.client.run(_peak_rss)
        print(
            f"Rounds per epoch: {rounds}  shards: {self.options.shards}  weights: {self.weights_bytes / 1e6:.1f} MB  "
            f"deltas per round: {np.mean(deltas) / 1e6:.1f} MB  "
            f"per epoch: {np.sum(deltas) / self.options.iter / 1e6:.1f} MB  "
            f"worker peak RSS: {max(peaks.values()) / 1024:.0f} MiB",
            file=self.out, flush=True,
        )


# The options a task reads.
RUN_FIELDS = ("cbow", "fast", "hs", "negative", "window", "sample", "size", "loss")


# A round whose tasks are submitted: its merged weights, its chains' statistics, and every future it made.
_Round = namedtuple("_Round", "merged stats futures")
# The client's copy of the weights after ``finished`` rounds, with the counters as they were then
# (words done, the loss, the length of the traffic list) and when it was taken.
_Checkpoint = namedtuple("_Checkpoint", "weights finished words_done loss traffic time")


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
    name = type(error).__name__
    return name in (
        "KilledWorker", "FutureCancelledError", "CancelledError", "CommClosedError", "FuturesCancelledError",
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
