"""The client's side of a cluster run: C's TrainModel with the corpus read and trained on the workers.

1. The workers list the corpus files and count each shard's words; the
   counts are merged in shard order and sorted as on one machine (the same
   vocabulary, ``-save-vocab`` file, Huffman tree and unigram table).
2. Each round of each epoch is one :func:`~.task.train_slice` task per
   shard and one :func:`~.rounds.merge` task; the merged weights stay on
   the workers for the next round, and a copy comes back to the client.
   In the first epochs the shards form chains (:func:`~.rounds.chains`):
   a chain's slices train one after another, and its delta is merged.
3. A round whose weights were lost with a worker is run again from that
   copy: the tasks are pure, so the output is unchanged.
"""
import time
import uuid
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
    RunData, chain_delta, count_slice, forget_run, initial_model, list_corpus, pack_words, train_slice, unpack_words,
)

POLL_SECONDS = 0.1
PROGRESS_SECONDS = 0.5
# Without its scheduler this long, the client gives up (Dask itself would retry for minutes).
LOST_SECONDS = 20
ROUND_ATTEMPTS = 3


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
        self.shares = plan.update_shares(vocab.counts, options.negative, options.hs, tree)
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
        """All rounds of all epochs; returns the client's copy of the last merged weights."""
        options, client = self.options, self.client
        for epoch in range(options.iter):
            self.control.cursors[0, EPOCH] = epoch
            for round_ in range(rounds):
                for attempt in range(ROUND_ATTEMPTS):
                    try:
                        weights, weights_here, stats = self._round(
                            weights, run, slices, vocab, epoch, round_, rounds, progress, f"{attempt}"
                        )
                        break
                    except _Lost:
                        if client.status != "running":
                            raise UserError(self._lost_scheduler()) from None
                        if attempt + 1 == ROUND_ATTEMPTS:
                            raise UserError("the Dask cluster lost this round's work three times; giving up") from None
                        weights = client.scatter([weights_here])[0]
                self.control.words_done[0] += sum(s[0] for s in stats)
                if loss is not None:
                    loss[0, epoch] += np.sum([s[1] for s in stats], axis=0)
                self.traffic.append((sum(s[2] for s in stats), self.weights_bytes))
        return weights_here

    def _round(self, weights, run, slices, vocab, epoch, round_, rounds, progress, attempt):
        """One round: the shards' slice tasks from ``weights``, their merge, and its copy on the client."""
        options, client = self.options, self.client
        token = f"{self.token}-{attempt}"  # a round run again gets keys of its own
        alpha = plan.round_alpha(options, vocab.train_words, epoch, round_, rounds)
        jobs = [(s, shard_slices[round_], plan.seed(epoch, round_, s, rounds, options.shards))
                for s, shard_slices in enumerate(slices) if shard_slices[round_]]
        chains = plan.chains(epoch, round_, rounds, options.shards)
        slice_words = vocab.train_words / (options.shards * rounds)
        name = f"{token}-{epoch}-{round_}"
        homes = self._homes()

        def train(start, s, pieces, seed):
            return client.submit(train_slice, start, run, s, round_, pieces, seed, alpha, key=f"pyw2v-slice-{name}-{s}",
                                 workers=homes[s], allow_other_workers=True)

        if chains == options.shards:  # every slice from the round's weights
            tasks = [train(weights, *job) for job in jobs]
            merged = client.submit(plan.merge, weights, plan.hot_rows(self.shares, alpha, slice_words), *tasks,
                                   key=f"pyw2v-merge-{name}")
        else:
            tasks, merged = self._chains(weights, jobs, chains, train, slice_words, alpha, name)
        stats = [client.submit(plan.slice_stats, t, key=f"pyw2v-stats-{token}-{epoch}-{round_}-{i}")
                 for i, t in enumerate(tasks)]
        done_words = self.control.words_done[0]

        def tick():
            finished = sum(s.result()[0] for s in stats if s.status == "finished") if options.debug > 1 else 0
            self.control.words_done[0] = done_words + finished
            progress.report(self.control)

        self._wait(list(stats) + [merged], tick)
        self.control.words_done[0] = done_words
        try:
            return merged, merged.result(), [s.result() for s in stats]
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

    def _chains(self, weights, jobs, chains, train, slice_words, alpha, name):
        """A round of ``chains`` chains: each trains its shards' slices one after another from ``weights``.

        Returns the slice tasks and the merge of the chains' deltas (one chain: its last weights).
        """
        client, shards = self.client, self.options.shards
        tasks, ends = [], []
        for c in range(chains):
            end = weights
            for s, pieces, seed in (job for job in jobs if job[0] * chains // shards == c):
                tasks.append(train(end, s, pieces, seed))
                end = client.submit(plan.merge, end, plan.hot_rows(self.shares, alpha, slice_words), tasks[-1],
                                    key=f"pyw2v-chain-{name}-{s}")
            ends.append(end)
        if chains == 1:
            return tasks, ends[0]
        deltas = [client.submit(chain_delta, weights, end, key=f"pyw2v-delta-{name}-{c}") for c, end in enumerate(ends)]
        hot = plan.hot_rows(self.shares, alpha, slice_words * shards / chains)
        return tasks, client.submit(plan.merge, weights, hot, *deltas, key=f"pyw2v-merge-{name}")

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
