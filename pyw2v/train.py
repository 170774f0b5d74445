"""The training driver: C's TrainModel, from corpus to vectors, as a Python API.

:func:`train` owns the orchestration (vocabulary, tables, initial weights,
the epoch loop and progress) and leaves the word-by-word work to the Numba
kernels in :mod:`pyw2v.training`. :func:`run` is what the ``pyw2v`` command
does: train, then write the vectors or the ``-classes`` list.
"""
import os
import sys
import threading
from dataclasses import dataclass, replace
from types import SimpleNamespace

import numpy as np
from numba import njit

from . import compile_ahead
from .training import loop
from .memory import check_model_fits
from .output_files import OutputFile, refuse_outputs_over_inputs
from .training.ranges import fixed_slices, new_cursors, shared_queue
from .training.state import DONE, Model, Settings, Tables, new_control, new_scratch, thread_rows
from .training.variants import CountLoss, NoLoss, SharedQueue, choose_variant
from .training.hot_rows import copy_hot_rows, extra_rows, hot_words_for, merge_words_for
from .training.huffman import build_tree, empty_tree
from .model.kmeans import kmeans_classes
from .options import TrainOptions, check_word_budget
from .progress import Progress
from .corpus.prepare import encode_corpus, prepare_vocabulary
from .training.tables import exp_table, keep_thresholds, lcg_next, loss_table, unigram_table, unused_unigram_table
from .model.text_format import format_text_rows
from .model.vectors import write_vectors_to
from .corpus.vocab import Vocabulary, save_vocab

WHOLE_RUN = 2**62  # a thread's word budget per kernel call: no pause until done
# A thread's turn when threads outnumber the cores: some 20 ms of work, a system time slice.
TURN_WORDS = 10_000
PROGRESS_SECONDS = 0.5


@dataclass
class TrainResult:
    """A trained model: the vocabulary in C's order and C's three weight matrices."""

    vocab: Vocabulary
    syn0: np.ndarray
    syn1: np.ndarray
    syn1neg: np.ndarray
    # With loss=1: each epoch's mean loss per word trained (pyw2v.progress); else None.
    losses: list = None


def train(train_file, out=None, **settings):
    """Train on ``train_file`` with word2vec.c's settings (see :class:`TrainOptions`).

    Returns a :class:`TrainResult`. ``out`` receives what C prints to stdout
    (default: ``sys.stdout``); pass ``debug=0`` for silence.
    """
    client = settings.pop("client", None)
    options = TrainOptions(train=train_file, **settings).validate()
    return _train(options, out or sys.stdout, client=client)


def run(options, out=None):
    """The ``pyw2v`` command: train and write what ``-output`` asks for.

    Outputs are written by :class:`~pyw2v.output_files.OutputFile`, and an
    output that is the same file as an input is refused before any work.
    """
    refuse_outputs_over_inputs(
        {"-output": options.output, "-save-vocab": options.save_vocab},
        {"-train": options.train, "-read-vocab": options.read_vocab},
    )
    # Fail now, not after hours of work, if an output cannot be written.
    if options.save_vocab:
        OutputFile(options.save_vocab).discard()
    if not options.output:
        # Like C, a run without -output only builds (and saves) the vocabulary.
        _train(options, out or sys.stdout, fit=False)
        return
    with OutputFile(options.output) as output:
        result = _train(options, out or sys.stdout)
        if options.classes:
            labels = kmeans_classes(result.syn0, options.classes)
            lines = zip(result.vocab.words, labels.tolist())
            output.write(b"".join(b"%s %d\n" % line for line in lines))
        else:
            write_vectors_to(output, result.vocab.words, result.syn0, options.binary)


def _load_output_kernel(options):
    """Compile (or load) the kernel that will write the output, on a one-row stand-in.

    Called before training: on an empty cache this process then waits for
    another that compiles the loop (:mod:`pyw2v.compile_ahead`), while after
    training the compilation would add to the run.
    """
    stand_in = np.zeros((1, options.size), dtype=np.float32)
    if options.classes:
        kmeans_classes(stand_in, 1)
    elif not options.binary:
        format_text_rows([b"</s>"], stand_in)


def _train(options, out, fit=True, client=None):
    """C's TrainModel up to the output; without ``fit`` it stops after saving the vocabulary.

    A fitting run first has its training loop compiled by another process,
    if the cache lacks it, while this one reads the corpus (:mod:`pyw2v.compile_ahead`).
    """
    print(f"Starting training using file {options.train}", file=out, flush=True)
    if options.distributed or client is not None:
        from .distributed.driver import train_distributed

        return train_distributed(options, out, fit, client)
    with compile_ahead.start(options, stand_in_arguments(options)) if fit else compile_ahead.NOTHING as ahead:
        return _train_with(options, out, fit, ahead)


def _train_with(options, out, fit, ahead):
    debug = options.debug
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
        check_word_budget(options, vocab.train_words)
        check_model_fits(options, vocab.size)
        model = new_model(options, vocab.size)
        losses = _train_epochs(options, vocab, corpus, model, out, ahead)
    return TrainResult(vocab, model.syn0[: vocab.size], model.syn1, model.syn1neg[: vocab.size], losses)


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
    return Model(syn0, syn1, syn1neg)


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


def kernel_inputs(options, vocab, corpus, loss=None):
    """The arguments of :func:`~pyw2v.training.loop.run_thread` besides the thread and the model.

    Returns ``(step, source, tree, tables, settings, loss, scratch, control)``:
    the variant's step marker, the corpus source, and the named tuples the
    loop reads. ``loss`` true counts the loss (``-loss 1``).
    """
    threads = options.threads
    variant = choose_variant(options.cbow, threads, options.fast)
    settings = run_settings(options, variant, vocab.size, vocab.train_words)
    tree = build_tree(vocab.counts) if options.hs else build_tree(vocab.counts[:0])
    unigram = unigram_table(vocab.counts) if options.negative > 0 else unused_unigram_table()
    tables = Tables(
        exp_table(), unigram.starts, unigram.buckets, unigram.size,
        keep_thresholds(vocab.counts, options.sample, vocab.train_words),
    )
    if variant.shared_queue:
        source, cursors = shared_queue(corpus.ids, threads)
    else:
        source, cursors = fixed_slices(corpus, threads)
    scratch = new_scratch(threads, options.window, options.negative, options.size)
    control = new_control(threads, settings.starting_alpha, cursors)
    return variant.step, source, tree, tables, settings, _loss_counter(options, loss), scratch, control


def run_settings(options, variant, vocab_size, train_words):
    """The loop's :class:`~pyw2v.training.state.Settings` for these options and this vocabulary."""
    threads = options.threads
    return Settings(
        hs=options.hs,
        negative=options.negative,
        window=options.window,
        sample=options.sample,
        vocab_size=vocab_size,
        train_words=train_words,
        iterations=options.iter,
        num_threads=threads,
        starting_alpha=np.float32(options.starting_alpha),
        budget=WHOLE_RUN,
        hot_words=hot_words_for(threads, variant.thread_hot_rows, vocab_size),
        merge_words=merge_words_for(train_words, threads),
    )


def _loss_counter(options, loss):
    if not loss:
        return NoLoss()
    # (loss, words) per thread and epoch; padded, so that two threads' sums never share a cache line.
    return CountLoss(thread_rows(options.threads, (options.iter, 2), np.float64), loss_table())


def stand_in_arguments(options):
    """:func:`~pyw2v.training.loop.load_loop`'s arguments for ``options``, of a run's types but not its data.

    A vocabulary of one word and an empty corpus, built with NumPy alone (no
    compiled code), so that :mod:`pyw2v.compile_ahead` can compile the loop
    before the corpus is read. Each array has the dtype and rank of the one
    :func:`kernel_inputs` and :func:`new_model` make (a test compares them).
    """
    # Sizes change no type: the smallest that choose the same variant, so that nothing large is allocated.
    options = replace(
        options, size=1, window=1, iter=1, threads=min(options.threads, 2), negative=min(options.negative, 1)
    )
    threads = options.threads
    variant = choose_variant(options.cbow, threads, options.fast)
    settings = run_settings(options, variant, 1, 1)
    ids = np.zeros(0, dtype=np.uint8)
    if variant.shared_queue:
        source = SharedQueue(ids, np.zeros(2, dtype=np.int64), threads, np.zeros(1, dtype=np.int64))
        cursors = new_cursors(threads)
    else:
        zeros = np.zeros(threads, dtype=np.int64)
        source, cursors = fixed_slices(SimpleNamespace(ids=ids, starts=zeros, first_words=zeros - 1), threads)
    rows = np.zeros((1, options.size), dtype=np.float32)
    model = Model(rows, rows, rows)
    tables = Tables(exp_table(), *unused_unigram_table(), keep_thresholds(np.ones(1), options.sample, 1))
    scratch = new_scratch(threads, options.window, options.negative, options.size)
    control = new_control(threads, settings.starting_alpha, cursors)
    loss = _loss_counter(options, options.loss)
    return variant.step, source, model, empty_tree(0), tables, settings, loss, scratch, control


class _Turns:
    """C's threads handed to the workers one turn at a time, the one furthest behind first.

    A thread is run by one worker at a time; any worker may run it next. So
    C's threads advance together under the falling learning rate, as the
    system's time slices keep them, even when one core runs slower than the
    other (a worker that owned fixed threads would leave its threads behind).
    """

    def __init__(self, control):
        self.control = control
        self.running = set()
        self.lock = threading.Lock()

    def take(self):
        """A thread that is neither done nor running, the one with the fewest words done; None if none."""
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


def _run_worker(failures, start, turns, arguments):
    """Run C's threads' turns from ``turns`` until none waits; an exception is kept for the driver to raise.

    With as many workers as threads, each takes one thread and trains it in
    one call. With more threads than cores, a turn is ``settings.budget``
    words, as the system time-slices C's threads.
    """
    control = arguments[-1]
    try:
        start.wait()
        while not control.stop[0]:
            t = turns.take()
            if t is None:  # the threads left are running on other workers, which finish them
                break
            try:
                loop.run_thread(t, *arguments)
            finally:
                turns.give_back(t)
    except BaseException as error:  # noqa: B036 - handed to the main thread
        failures.append(error)


def _train_epochs(options, vocab, corpus, model, out, ahead):
    """C's training threads on at most one operating-system thread per core, progress printed meanwhile.

    By default each thread trains C's slice of the corpus; with ``-fast 1``
    the threads share the epochs' parts (:mod:`pyw2v.training.ranges`).
    Returns the epochs' losses with ``-loss 1``, else None.
    """
    step, source, tree, tables, settings, loss, scratch, control = kernel_inputs(options, vocab, corpus, options.loss)
    workers = min(settings.num_threads, len(os.sched_getaffinity(0)))
    if workers < settings.num_threads:
        settings = settings._replace(budget=TURN_WORDS)
    arguments = (step, source, model, tree, tables, settings, loss, scratch, control)
    progress = Progress(options, vocab.train_words, out, loss)
    if options.output:
        _load_output_kernel(options)
    ahead.wait()  # the loop compiled by another process, if it was started (pyw2v.compile_ahead)
    loop.load_loop(*arguments)
    failures = []
    start = threading.Barrier(workers)
    turns = _Turns(control)
    threads = [
        threading.Thread(target=_run_worker, args=(failures, start, turns, arguments), daemon=True)
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
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
    return progress.finish(control)
