"""C's TrainModel from the weights on: the loop's inputs, and C's threads run on the cores.

:func:`loop_inputs` builds everything :func:`pyw2v.training.loop.thread_loop`
reads, as one :class:`~pyw2v.training.loop.LoopInputs`; the run and the
process that compiles the loop ahead (:mod:`pyw2v.compile_ahead`, through
:func:`stand_in_inputs`) both call it. :func:`train_epochs` runs C's threads,
at most one operating-system thread per core, and prints the progress.
"""
import os
import threading
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
from numba import njit

from ..corpus.vocab import Vocabulary
from ..progress import Progress
from . import loop
from .exact_steps import lcg_next
from .hot_rows import copy_hot_rows, extra_rows, first_hot_node, hot_rows_for
from .huffman import MAX_CODE_LENGTH, build_tree
from .loop import (
    DONE,
    MAX_SENTENCE_LENGTH,
    CorpusSource,
    Cursor,
    LoopInputs,
    Model,
    Scratch,
    Settings,
    Tables,
)
from .outputs import exp_table, loss_sums, loss_table
from .tables import keep_thresholds, unigram_table, unused_unigram_table
from .variants import choose_variant

WHOLE_RUN = 2**62  # a thread's words per loop call when each has a core: no pause until done
# A thread's turn when threads outnumber the cores: some 20 ms of work, a system time slice.
TURN_WORDS = 10_000
PROGRESS_SECONDS = 0.5

@njit(cache=True)
def initial_syn0(vocab_size, size, rows=0):
    """C's InitNet: ``((r & 0xFFFF) / 65536 - 0.5) / size`` from the random stream seeded with 1.

    With ``rows`` above ``vocab_size`` the array has that many rows; the caller fills the rest.
    """
    syn0 = np.empty((max(rows, vocab_size), size), dtype=np.float32)
    next_random = np.uint64(1)
    for word in range(vocab_size):
        for c in range(size):
            next_random = lcg_next(next_random)
            fraction = np.float32(next_random & np.uint64(0xFFFF)) / np.float32(65536.0)
            syn0[word, c] = np.float32((np.float64(fraction) - 0.5) / size)
    return syn0


def run_hot_rows(options, vocab_size, train_words):
    """The run's per-thread rows (:func:`.hot_rows.hot_rows_for`), as its options' variant chooses them."""
    variant = choose_variant(options.cbow, options.threads, options.fast)
    return hot_rows_for(
        options.threads, variant.thread_hot_rows, options.hs, vocab_size, train_words, variant.window_at_once
    )


def new_model(options, vocab_size):
    """C's initial weights: ``syn0`` from :func:`initial_syn0`, ``syn1`` and ``syn1neg`` zero.

    An unused output matrix has no rows. With ``-fast 1`` and several
    threads, ``syn0`` and ``syn1neg`` also hold each thread's copies of the
    hot rows after the vocabulary's (:mod:`pyw2v.training.hot_rows`).
    """
    size, threads = options.size, options.threads
    hot = run_hot_rows(options, vocab_size, 0)
    words, nodes = (hot.words, hot.nodes) if hot is not None else (0, 0)
    rows = vocab_size + extra_rows(threads, words)
    syn0 = initial_syn0(vocab_size, size, rows)
    empty = np.zeros((0, size), dtype=np.float32)
    syn1 = np.zeros((vocab_size + extra_rows(threads, nodes), size), dtype=np.float32) if options.hs else empty
    syn1neg = np.zeros((rows, size), dtype=np.float32) if options.negative > 0 else empty
    for matrix in (syn0, syn1neg):
        if len(matrix) and words:
            copy_hot_rows(matrix, vocab_size, threads, words)
    if len(syn1) and nodes:
        copy_hot_rows(syn1, vocab_size, threads, nodes, first_hot_node(vocab_size, nodes))
    return Model(syn0, syn1, syn1neg)


def thread_rows(threads, shape, dtype):
    """Zeroed per-thread arrays of ``shape``; the last axis padded by 128 bytes: no two threads share a cache line."""
    padded = shape[:-1] + (shape[-1] + 128 // np.dtype(dtype).itemsize,)
    return np.zeros((threads,) + padded, dtype=dtype)


def new_scratch(threads, window, negative, size):
    """Every thread's :class:`~pyw2v.training.loop.Scratch`."""
    outputs = max(negative + 1, MAX_CODE_LENGTH)
    context = 2 * window
    shapes = dict(
        sen=((MAX_SENTENCE_LENGTH + 1,), np.int32),
        neu1=((1, size), np.float32),
        neu1e=((1, size), np.float32),
        negatives=((context * max(negative, 1),), np.int64),
        context=((context,), np.int64),
        targets=((outputs,), np.int64),
        labels=((outputs,), np.float32),
        gradient=((context, outputs), np.float32),
        gradient_t=((outputs, context), np.float32),
        context_update=((context, size), np.float32),
        update_rows=((context,), np.int64),
        column=((context,), np.float32),
        shrinks=((MAX_SENTENCE_LENGTH,), np.int64),
        planned_noise=((MAX_SENTENCE_LENGTH, max(negative, 1)), np.int64),
        hidden_rows=((1,), np.int64),
    )
    scratch = Scratch(**{name: thread_rows(threads, shape, dtype) for name, (shape, dtype) in shapes.items()})
    scratch.update_rows[:] = np.arange(scratch.update_rows.shape[1])
    return scratch


def corpus_source(stream, threads):
    """The :class:`~pyw2v.training.loop.CorpusSource` of ``stream`` (ids, starts, first_words), and the cursors.

    Each thread's cursor is at its slice's start.
    """
    cursors = thread_rows(threads, (len(Cursor._fields),), np.int64)
    cursors[:, Cursor._fields.index("pos")] = stream.starts
    cursors[:, Cursor._fields.index("first_pending")] = stream.first_words >= 0
    source = CorpusSource(
        stream.ids, np.asarray(stream.starts, dtype=np.int64), np.asarray(stream.first_words, dtype=np.int64)
    )
    return source, cursors


def vocabulary_tables(options, vocab):
    """The Huffman tree (empty without ``-hs``) and the :class:`~pyw2v.training.loop.Tables` of ``vocab``."""
    tree = build_tree(vocab.counts if options.hs else vocab.counts[:0])
    unigram = unigram_table(vocab.counts) if options.negative > 0 else unused_unigram_table()
    keep = keep_thresholds(vocab.counts, options.sample, vocab.train_words)
    return tree, Tables(exp_table(), loss_table(), unigram.starts, unigram.buckets, unigram.size, keep)


def loop_inputs(options, vocab, stream, model, turn_words=WHOLE_RUN, tree_and_tables=None):
    """The :class:`~pyw2v.training.loop.LoopInputs` of a run: its variant, source, tables, settings, fresh state.

    ``vocab`` has C's ``counts`` (and so ``size`` and ``train_words``);
    ``stream`` is the encoded corpus (ids, starts, first_words). Each
    thread's random stream is seeded with its id, as in C. The tables are
    :func:`vocabulary_tables`' unless given.
    """
    threads = options.threads
    variant = choose_variant(options.cbow, threads, options.fast)
    source, cursors = corpus_source(stream, threads)
    tree, tables = tree_and_tables or vocabulary_tables(options, vocab)
    settings = Settings(
        hs=options.hs, negative=options.negative, window=options.window, sample=options.sample,
        vocab_size=vocab.size, train_words=vocab.train_words, iterations=options.iter, num_threads=threads,
        starting_alpha=np.float32(options.starting_alpha), turn_words=turn_words,
    )
    hot = run_hot_rows(options, vocab.size, vocab.train_words)
    control = loop.Control(
        cursors=cursors,
        rng=np.arange(threads, dtype=np.uint64),
        alpha=np.full(threads, settings.starting_alpha, dtype=np.float32),
        words_done=np.zeros(threads, dtype=np.int64),
        stop=np.zeros(1, dtype=np.int64),
    )
    scratch = new_scratch(threads, options.window, options.negative, options.size)
    loss = loss_sums(threads, options.iter, options.loss)
    return LoopInputs(variant.loop, source, model, tree, tables, settings, loss, hot, scratch, control)


def stand_in_inputs(options):
    """:func:`loop_inputs` of ``options``' types for a one-word vocabulary and an empty corpus.

    No size, count or output choice is a type, so the stand-in shrinks them
    all (no ``-hs``, no ``-negative``) and needs no compiled code:
    :mod:`pyw2v.compile_ahead` compiles the loop before the corpus is read.
    """
    hot = run_hot_rows(options, 2, 1)  # its type, from the real options
    options = replace(options, size=1, window=1, iter=1, threads=min(options.threads, 2), hs=0, negative=0)
    threads = options.threads
    vocab = Vocabulary([b"</s>"], np.ones(1, dtype=np.int64))
    empty = SimpleNamespace(
        ids=np.zeros(0, dtype=np.uint8), starts=np.zeros(threads, dtype=np.int64),
        first_words=np.full(threads, -1, dtype=np.int64),
    )
    rows = np.zeros((1, options.size), dtype=np.float32)
    return loop_inputs(options, vocab, empty, Model(rows, rows, rows))._replace(hot=hot)


class _Turns:
    """C's threads handed to the workers a turn at a time, the one furthest behind first.

    A thread runs on one worker at a time, any worker may run it next: so
    C's threads advance together under the falling learning rate even when
    one core is slower than the other.
    """

    def __init__(self, control):
        self.control = control
        self.running = set()
        self.lock = threading.Lock()

    def take(self):
        """A thread neither done nor running, the one with the fewest words done; None if none."""
        with self.lock:
            cursors, words_done = self.control.cursors, self.control.words_done
            waiting = [t for t in range(len(cursors)) if not cursors[t, DONE] and t not in self.running]
            if not waiting:
                return None
            t = min(waiting, key=lambda t: words_done[t])
            self.running.add(t)
            return t

    def give_back(self, t):
        with self.lock:
            self.running.discard(t)


def _run_worker(failures, start, turns, inputs):
    """Run turns of C's threads until none waits; an exception is kept for the driver to raise."""
    try:
        start.wait()
        while not inputs.control.stop[0]:
            t = turns.take()
            if t is None:  # the threads left are running on other workers, which finish them
                break
            try:
                loop.run_thread(t, inputs)
            finally:
                turns.give_back(t)
    except BaseException as error:  # noqa: BLE001 - handed to the main thread
        failures.append(error)


def train_epochs(options, vocab, stream, out, ahead=None):
    """Train a new model on ``stream`` (the encoded corpus) with C's threads; returns ``(model, losses)``.

    The threads run on at most one operating-system thread per core; with
    more threads than cores, each works in turns of ``TURN_WORDS`` words.
    ``ahead`` is the process compiling the loop (:mod:`pyw2v.compile_ahead`),
    waited for before the loop is loaded. ``losses`` is each epoch's mean
    loss with ``-loss 1``, else None.
    """
    model = new_model(options, vocab.size)
    workers = min(options.threads, len(os.sched_getaffinity(0)))
    turn_words = TURN_WORDS if workers < options.threads else WHOLE_RUN
    inputs = loop_inputs(options, vocab, stream, model, turn_words)
    progress = Progress(options, vocab.train_words, out, inputs.loss)
    if ahead is not None:
        ahead.wait()
    loop.load_loop(inputs)
    failures = []
    start = threading.Barrier(workers)
    turns = _Turns(inputs.control)
    threads = [
        threading.Thread(target=_run_worker, args=(failures, start, turns, inputs), daemon=True)
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    control = inputs.control
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(PROGRESS_SECONDS)
                progress.report(control)
    except BaseException:
        control.stop[0] = 1  # the threads end at their next sentence; then give up
        for thread in threads:
            thread.join()
        raise
    if failures:
        raise failures[0]
    if not control.cursors[:, DONE].all():
        raise RuntimeError("training stopped before its end")
    return model, progress.finish(control)
