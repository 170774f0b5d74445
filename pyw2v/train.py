"""The training driver: C's TrainModel, from corpus to vectors, as a Python API.

:func:`train` owns the orchestration (vocabulary, tables, initial weights,
the epoch loop and progress) and leaves the word-by-word work to the Numba
kernels in :mod:`pyw2v.training.kernels`. :func:`run` is what the ``pyw2v`` command
does: train, then write the vectors or the ``-classes`` list.
"""
import sys
import threading
import time
from dataclasses import dataclass

import numba
import numpy as np
from numba import njit

from .training import kernels
from .training import work_queue
from .errors import AtomicOutput
from .training.hot_rows import copy_hot_rows, extra_rows, hot_words_for, merge_words_for
from .training.huffman import build_tree
from .model.kmeans import kmeans_classes
from .options import TrainOptions
from .corpus.prepare import encode_corpus, prepare_vocabulary
from .training.tables import exp_table, keep_thresholds, lcg_next, unigram_table, unused_unigram_table
from .model.vectors import write_vectors_to
from .corpus.vocab import Vocabulary, save_vocab

WHOLE_RUN = 2**62  # a slice's word budget per kernel call: no pause until done
# A slice's turn when slices outnumber the cores: some 20 ms of work, an OS time slice.
TURN_WORDS = 10_000
PROGRESS_SECONDS = 0.5


@dataclass
class TrainResult:
    """A trained model: the vocabulary in C's order and C's three weight matrices."""

    vocab: Vocabulary
    syn0: np.ndarray
    syn1: np.ndarray
    syn1neg: np.ndarray


def train(train_file, out=None, **settings):
    """Train on ``train_file`` with word2vec.c's settings (see :class:`TrainOptions`).

    Returns a :class:`TrainResult`. ``out`` receives what C prints to stdout
    (default: ``sys.stdout``); pass ``debug=0`` for silence.
    """
    options = TrainOptions(train=train_file, **settings).validate()
    return _train(options, out or sys.stdout)


def run(options, out=None):
    """The ``pyw2v`` command: train and write what ``-output`` asks for."""
    # Fail now, not after hours of work, if an output cannot be written.
    if options.save_vocab:
        AtomicOutput(options.save_vocab).discard()
    if not options.output:
        # Like C, a run without -output only builds (and saves) the vocabulary.
        _train(options, out or sys.stdout, fit=False)
        return
    with AtomicOutput(options.output) as output:
        result = _train(options, out or sys.stdout)
        if options.classes:
            labels = kmeans_classes(result.syn0, options.classes)
            lines = zip(result.vocab.words, labels.tolist())
            output.file.write(b"".join(b"%s %d\n" % line for line in lines))
        else:
            write_vectors_to(output.file, result.vocab.words, result.syn0, options.binary)


def _train(options, out, fit=True):
    """C's TrainModel up to the output; without ``fit`` it stops after saving the vocabulary."""
    debug = options.debug
    print(f"Starting training using file {options.train}", file=out, flush=True)
    vocab, first_pass = prepare_vocabulary(options, keep_tokens=fit)
    if debug > 0:
        print(f"Vocab size: {vocab.size}", file=out)
        print(f"Words in train file: {vocab.train_words}", file=out, flush=True)
    if options.save_vocab:
        save_vocab(options.save_vocab, vocab)
    if not fit:
        return None
    corpus = encode_corpus(options, vocab, first_pass)  # frees the first pass's streams (and file, if any)
    del first_pass
    with corpus:  # a corpus over the memory budget maps a temporary file, freed at the end
        model = new_model(options, vocab.size)
        _train_epochs(options, vocab, corpus, model, out)
    return TrainResult(vocab, model.syn0[: vocab.size], model.syn1, model.syn1neg[: vocab.size])


def new_model(options, vocab_size):
    """C's initial weights: ``syn0`` from :func:`initial_syn0`, ``syn1`` and ``syn1neg`` zero.

    An unused output matrix has no rows. With ``-fast 1`` and several
    threads, ``syn0`` and ``syn1neg`` also hold each thread's copies of the
    hot rows after the vocabulary's (:mod:`pyw2v.training.hot_rows`).
    """
    size, threads = options.size, options.threads
    hot_words = hot_words_for(threads, options.fast, vocab_size)
    rows = vocab_size + extra_rows(threads, hot_words)
    syn0 = initial_syn0(vocab_size, size, rows)
    empty = np.zeros((0, size), dtype=np.float32)
    syn1 = np.zeros((vocab_size, size), dtype=np.float32) if options.hs else empty
    syn1neg = np.zeros((rows, size), dtype=np.float32) if options.negative > 0 else empty
    for matrix in (syn0, syn1neg):
        if len(matrix):
            copy_hot_rows(matrix, vocab_size, threads, hot_words)
    return kernels.Model(syn0, syn1, syn1neg)


@njit(cache=True)
def initial_syn0(vocab_size, size, rows=0):
    """C's InitNet: ``((r & 0xFFFF) / 65536 - 0.5) / size`` from the LCG seeded with 1.

    With ``rows`` above ``vocab_size`` the array has that many rows, and
    those past ``vocab_size`` are left for the caller to fill.
    """
    syn0 = np.empty((max(rows, vocab_size), size), dtype=np.float32)
    next_random = np.uint64(1)
    for word in range(vocab_size):
        for c in range(size):
            next_random = lcg_next(next_random)
            fraction = np.float32(next_random & np.uint64(0xFFFF)) / np.float32(65536.0)
            syn0[word, c] = np.float32((np.float64(fraction) - 0.5) / size)
    return syn0


def kernel_inputs(options, vocab, corpus):
    """The kernels' arguments besides the model: tree, tables, settings, stream, slice state."""
    threads = options.threads
    settings = kernels.Settings(
        cbow=options.cbow,
        hs=options.hs,
        negative=options.negative,
        window=options.window,
        sample=options.sample,
        vocab_size=vocab.size,
        train_words=vocab.train_words,
        iterations=options.iter,
        num_threads=threads,
        starting_alpha=np.float32(options.starting_alpha),
        # One thread is deterministic, so it keeps C's arithmetic order and so
        # C's exact numbers; several threads race anyway, so they use SIMD sums.
        exact=threads == 1 and not options.fast,
        fast=options.fast,
        budget=WHOLE_RUN,
        hot_words=hot_words_for(threads, options.fast, vocab.size),
        merge_words=merge_words_for(vocab.train_words, threads),
    )
    tree = build_tree(vocab.counts) if options.hs else build_tree(vocab.counts[:0])
    unigram = unigram_table(vocab.counts) if options.negative > 0 else unused_unigram_table()
    tables = kernels.Tables(
        exp_table(), unigram.starts, unigram.buckets, unigram.size,
        keep_thresholds(vocab.counts, options.sample, vocab.train_words),
    )
    stream = kernels.Stream(corpus.ids, corpus.starts, corpus.first_words)
    state = kernels.new_slice_state(settings, options.size, stream)
    return tree, tables, settings, stream, state


def _train_epochs(options, vocab, corpus, model, out):
    """C's training threads in one kernel call, progress printed meanwhile.

    By default each thread trains C's slice of the corpus (in turns when the
    slices outnumber the cores); with ``-fast 1`` the threads share the
    epochs' parts (:mod:`pyw2v.training.work_queue`).
    """
    threads = options.threads
    tree, tables, settings, stream, state = kernel_inputs(options, vocab, corpus)
    parallel = threads > 1
    workers = min(threads, numba.config.NUMBA_NUM_THREADS)
    if parallel:
        numba.set_num_threads(workers)
    arguments = (model, tree, tables, settings, stream, state)
    if options.fast:
        run = work_queue.run_parts_parallel if parallel else work_queue.run_parts_serial
        arguments += (work_queue.new_work_queue(stream.ids, threads),)
    elif workers < threads:
        run = kernels.run_slices_in_turns
        arguments = (model, tree, tables, settings._replace(budget=TURN_WORDS), stream, state, workers)
    else:
        run = kernels.run_slices_parallel if parallel else kernels.run_slices_serial
    progress = Progress(options, vocab.train_words, out)
    worker = threading.Thread(target=run, args=arguments, daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(PROGRESS_SECONDS)
            progress.report(state)
    except BaseException:
        state.stop[0] = 1  # the slices end at their next sentence; then give up
        worker.join()
        raise
    if not state.counters[:, kernels.DONE].all():
        raise RuntimeError("training stopped before its end")
    progress.finish(state)


class Progress:
    """C's ``-debug 2`` progress line, with an ETA added.

    C prints the line when a thread has trained another 10,000 words; this
    one is printed on a timer instead, so a line that would repeat the last
    one (while the kernels compile on a cold cache, no word is trained) is
    left out: redirected to a file, it would be the same line many times.
    """

    def __init__(self, options, train_words, out):
        self.enabled = options.debug > 1
        self.total = options.iter * train_words + 1
        self.starting_alpha = options.starting_alpha
        self.out = out
        self.wall_start = time.perf_counter()
        self.cpu_start = time.process_time()
        self.last_line = None

    def report(self, state):
        if not self.enabled:
            return
        done = int(state.words_done.sum())
        fraction = done / self.total
        alpha = max(self.starting_alpha * (1 - fraction), self.starting_alpha * 1e-4)
        cpu = time.process_time() - self.cpu_start + 1e-6
        wall = time.perf_counter() - self.wall_start
        eta = wall * (1 - fraction) / fraction if fraction > 0 else 0.0
        line = "\rAlpha: %f  Progress: %.2f%%  Words/thread/sec: %.2fk  ETA: %s  " % (
            alpha, fraction * 100, done / cpu / 1000, _clock(eta),
        )
        if line == self.last_line:
            return
        self.last_line = line
        self.out.write(line)
        self.out.flush()

    def finish(self, state):
        if self.enabled:
            self.report(state)
            self.out.write("\n")
            self.out.flush()


def _clock(seconds):
    seconds = int(round(seconds))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)
