"""C's TrainModelThread: one thread's loop over its slice of the encoded corpus.

:func:`thread_loop` reads its slice of the varint id stream
(:class:`CorpusSource`) a sentence at a time (:func:`read_sentence`:
C's subsampling), recomputes the learning rate every ``ALPHA_UPDATE_WORDS``
words (:func:`learning_rate`), and trains each position with its variant's
step (:mod:`.exact_steps` or :mod:`.block_steps`), each variant a loop of
its own (:data:`LOOPS`).

A slice is C's: thread ``t`` reads from ``starts[t]`` (the
stream's image of C's ``file_size / threads * t``) until it has read more
than ``train_words / threads`` words or reaches the end, drops the sentence
it was reading then, and starts its next epoch at the same place.

The loop runs for ``settings.turn_words`` words or until ``control.stop[0]``
is set, and returns at a sentence boundary with its state in its cursor:
resuming is indistinguishable from never having stopped.

Compiling: Numba inlines into a loop (``inline="always"``) the step and what
runs at every position on the thread's tuples of arrays; it types each
inlined copy again, so the scalar helpers (:func:`.exact_steps.lcg_next`,
:func:`.hot_rows.row_of`, :func:`.exact_steps.draw_negative`, ...) and what
runs once a sentence (:func:`read_sentence`, :func:`.sentence_plan.plan_sentence`)
are compiled apart: LLVM inlines the small ones when it links them into the
loop, and a call per sentence costs nothing measurable.

Races: threads share ``syn0``, ``syn1`` and ``syn1neg`` and update them
without locks, as C's threads do (Hogwild): a lost update is one small
gradient step. Each thread writes only its own entries of :class:`Control`;
reading the others' ``words_done`` for the learning rate is the race C has
on its one shared counter.
"""
from collections import namedtuple

import numpy as np
from numba import njit, typeof

from ..borrow import borrowed
from ..corpus.encoding import read_id
from .block_steps import cbow_block, skipgram_window
from .exact_steps import cbow_in_order, lcg_next, skipgram_in_order
from .hot_rows import merge_thread_copies, merge_when_due
from .outputs import F1, Sums, dot_in_order, dots_in_order
from .simd import dot_simd, dots

MAX_SENTENCE_LENGTH = 1000
ALPHA_UPDATE_WORDS = 10000
F65536 = np.float32(65536.0)
LOW16 = np.uint64(0xFFFF)
# merge_thread_copies' with_words and with_lower_nodes for the last merge: np.bool_, as a literal True would
# make Numba compile merge_thread_copies once more for it.
EVERY_ROW = np.bool_(True)

Model = namedtuple("Model", "syn0 syn1 syn1neg")
# exp_table, loss_table: pyw2v.training.outputs; unigram_*: C's unigram table (pyw2v.training.tables);
# keep: C's subsampling thresholds.
Tables = namedtuple("Tables", "exp_table loss_table unigram_starts unigram_buckets unigram_size keep")
Settings = namedtuple(
    "Settings",
    "hs negative window sample vocab_size train_words iterations num_threads "
    "starting_alpha turn_words",
)
# One thread's working arrays: sen, C's sentence; neu1/neu1e, C's hidden layer and its error
# (one row); negatives, a position's noise words; context, the window's rows; targets/labels,
# a block's output rows and labels; gradient, its gradients, and gradient_t their transpose;
# context_update, the window's errors, and update_rows their row numbers 0, 1, 2, ...; column,
# CBOW's ones; shrinks/planned_noise, a sentence's draws made at its start; hidden_rows, the row
# of neu1 a CBOW block trains (always 0).
Scratch = namedtuple(
    "Scratch",
    "sen neu1 neu1e negatives context targets labels gradient gradient_t context_update update_rows column shrinks "
    "planned_noise hidden_rows",
)
# What the driver and the threads share, a row per thread: cursors, rng, alpha, words_done; and the stop flag.
Control = namedtuple("Control", "cursors rng alpha words_done stop")
# A thread's cursor: where it is in its source, and C's thread-local counters.
Cursor = namedtuple(
    "Cursor", "pos word_count last_word_count epoch sentence_length sentence_position first_pending done merged_at"
)
DONE = Cursor._fields.index("done")
EPOCH = Cursor._fields.index("epoch")
# The encoded corpus and C's slices of it: starts, and first_words (the word a slice starting
# inside a word reads first, or -1).
CorpusSource = namedtuple("CorpusSource", "ids starts first_words")
# What a step reads besides its thread's scratch; loss: the thread's (loss, words) of this epoch, or None;
# hot: the run's pyw2v.training.hot_rows.HotRows, or None.
Job = namedtuple("Job", "model tree tables settings loss hot")
# Everything a loop reads: the variant's name (a key of LOOPS), the tuples above (scratch: thread t's,
# or every thread's), the loss sums per thread and epoch (pyw2v.training.outputs.loss_sums) or None,
# and the hot rows or None. A feature left out is None: its code is compiled away.
LoopInputs = namedtuple("LoopInputs", "variant source model tree tables settings loss hot scratch control")


@njit(cache=True)
def learning_rate(settings, words_done):
    """C's ``alpha0 (1 - done / (iter * train_words + 1))`` in float, floored at ``1e-4 alpha0`` in double."""
    done = 0
    for thread_words in words_done:
        done += thread_words
    actual = np.float32(done)
    total = np.float32(settings.iterations * settings.train_words + 1)
    alpha = np.float32(settings.starting_alpha) * (F1 - actual / total)
    floor = np.float64(np.float32(settings.starting_alpha)) * 0.0001
    if alpha < floor:
        alpha = np.float32(floor)
    return alpha


@njit(cache=True)
def read_sentence(ids, pos, end, first_word, sen, keep, sample, next_random):
    """C's sentence: ids from ``pos`` up to ``</s>`` (0), ``end`` or ``MAX_SENTENCE_LENGTH`` kept words.

    ``first_word`` (unless -1) is read before the stream. With ``sample > 0``
    each word read draws once, and C keeps it when
    ``keep[word] >= (r & 0xFFFF) / 65536``. Returns ``(length, pos,
    words_read, next_random, at_end)``; ``at_end``: the stream ran out first.
    """
    length = 0
    words_read = 0
    at_end = False
    while True:
        if first_word >= 0:
            word = first_word
            first_word = -1
        elif pos < end:
            word, pos = read_id(ids, pos)
        else:
            at_end = True
            break
        words_read += 1
        if word == 0:
            break
        if sample > 0:
            next_random = lcg_next(next_random)
            if keep[word] < np.float32(next_random & LOW16) / F65536:
                continue
        sen[length] = word
        length += 1
        if length >= MAX_SENTENCE_LENGTH:
            break
    return length, pos, words_read, next_random, at_end


@njit(cache=True)
def next_epoch(source, t, settings, epoch):
    """Thread ``t``'s slice again after ``epoch``: ``(found, pos, first_pending, epoch)``; C's ``local_iter--``."""
    following = epoch + 1
    pending = np.int64(source.first_words[t] >= 0)
    return following < settings.iterations, source.starts[t], pending, following


@njit(cache=True)
def epoch_loss(loss, t, epoch):
    """Thread ``t``'s (loss, words) of ``epoch``, or None when the loss is not counted."""
    if loss is None:
        return None
    return loss[t, epoch]


@njit(cache=True, inline="always")
def thread_loop(thread, inputs, step, sums):
    """Thread ``thread``'s loop with ``step`` for about ``settings.turn_words`` words; returns the words it read.

    ``step(sums, thread, job, scratch, length, position, alpha, next_random)``
    trains one position and returns the random state; ``sums`` are the dot
    products its exact steps use (:class:`.outputs.Sums`). Both are inlined
    into each variant's loop (:data:`LOOPS`), so a position costs no call.

    C's thread-local variables live in locals while it runs (a shared row
    written at every word by two threads would bounce between their caches)
    and go back to ``control.cursors[thread]`` when it returns. Its arrays are
    used uncounted (:mod:`pyw2v.borrow`): the caller holds them throughout.
    """
    inputs = borrowed(inputs)
    source, scratch, control, settings = inputs.source, inputs.scratch, inputs.control, inputs.settings
    cursor = control.cursors[thread]
    pos, word_count, last_word_count, epoch = cursor[0], cursor[1], cursor[2], cursor[3]
    sentence_length, sentence_position, first_pending = cursor[4], cursor[5], cursor[6]
    done, merged_at = cursor[7], cursor[8]
    end = len(source.ids)
    next_random = control.rng[thread]
    alpha = control.alpha[thread]
    share = settings.train_words // settings.num_threads
    job = Job(inputs.model, inputs.tree, inputs.tables, settings, epoch_loss(inputs.loss, thread, epoch), inputs.hot)
    read_now = 0
    while done == 0:
        if sentence_length == 0 and (read_now >= settings.turn_words or control.stop[0]):
            break
        if word_count - last_word_count > ALPHA_UPDATE_WORDS:
            control.words_done[thread] += word_count - last_word_count
            last_word_count = word_count
            alpha = learning_rate(settings, control.words_done)
        if sentence_length == 0:
            merged_at = merge_when_due(thread, job.hot, job.model, settings, word_count, merged_at)
            start_word = np.int64(source.first_words[thread]) if first_pending else np.int64(-1)
            length, pos, words_read, next_random, at_end = read_sentence(
                source.ids, pos, end, start_word, scratch.sen, job.tables.keep, settings.sample, next_random
            )
            first_pending = 0
            word_count += words_read
            read_now += words_read
            if at_end or word_count > share:
                # C's end of a slice's epoch: the sentence just read is dropped, the counters restart.
                control.words_done[thread] += word_count - last_word_count
                word_count = 0
                last_word_count = 0
                found, pos, first_pending, epoch = next_epoch(source, thread, settings, epoch)
                if not found:
                    done = 1
                    break
                job = Job(job.model, job.tree, job.tables, settings, epoch_loss(inputs.loss, thread, epoch), job.hot)
                cursor[EPOCH] = epoch  # read by the driver's progress line while the thread runs
                continue
            if length == 0:
                # C goes on to "train" the stale sen[0] of an empty sentence: no context word
                # exists, so all that happens is the window draw.
                next_random = lcg_next(next_random)
                continue
            sentence_length = length
            sentence_position = 0
        next_random = step(sums, thread, job, scratch, sentence_length, sentence_position, alpha, next_random)
        sentence_position += 1
        if sentence_position >= sentence_length:
            sentence_length = 0
    if done or control.stop[0]:
        control.words_done[thread] += word_count - last_word_count
        last_word_count = word_count
        merge_thread_copies(thread, job.hot, job.model, settings, EVERY_ROW, EVERY_ROW)
    cursor[0], cursor[1], cursor[2], cursor[3] = pos, word_count, last_word_count, epoch
    cursor[4], cursor[5], cursor[6] = sentence_length, sentence_position, first_pending
    cursor[7], cursor[8] = done, merged_at
    control.rng[thread] = next_random
    control.alpha[thread] = alpha
    return read_now


@njit(cache=True, nogil=True)
def train_skipgram_exact(thread, inputs):
    """C's skip-gram in C's order and float arithmetic: one thread without ``-fast``."""
    return thread_loop(thread, inputs, skipgram_in_order, Sums(dot_in_order, dots_in_order))


@njit(cache=True, nogil=True)
def train_cbow_exact(thread, inputs):
    """C's CBOW in C's order and float arithmetic: one thread without ``-fast``."""
    return thread_loop(thread, inputs, cbow_in_order, Sums(dot_in_order, dots_in_order))


@njit(cache=True, nogil=True)
def train_skipgram_pairs(thread, inputs):
    """C's skip-gram in C's order, dot products in SIMD lanes: several threads without ``-fast``."""
    return thread_loop(thread, inputs, skipgram_in_order, Sums(dot_simd, dots))


@njit(cache=True, nogil=True)
def train_cbow_block(thread, inputs):
    """CBOW with a position's outputs updated together (:mod:`.block_steps`): off C's exact path."""
    return thread_loop(thread, inputs, cbow_block, Sums(dot_simd, dots))


@njit(cache=True, nogil=True)
def train_skipgram_window(thread, inputs):
    """``-fast`` skip-gram: a window's context rows against one set of outputs (:mod:`.block_steps`)."""
    return thread_loop(thread, inputs, skipgram_window, Sums(dot_simd, dots))


# Each variant's loop, by the name pyw2v.training.driver.choose_variant gives it: a run compiles its own only.
LOOPS = {
    "skipgram_exact": train_skipgram_exact,
    "cbow_exact": train_cbow_exact,
    "skipgram_pairs": train_skipgram_pairs,
    "cbow_block": train_cbow_block,
    "skipgram_window": train_skipgram_window,
}


def thread_inputs(inputs, t):
    """``inputs`` as the loops take them: thread ``t``'s views of the scratch arrays, and no variant name."""
    # The name chooses the loop in Python; in it, a string would be counted (pyw2v.borrow borrows arrays only).
    return inputs._replace(variant=None, scratch=Scratch(*(array[t] for array in inputs.scratch)))


def loss_type(inputs):
    """The type of a loop's ``job.loss``: :func:`epoch_loss`'s return type, compiled (or loaded) here.

    Optional when the loss is counted: Numba keeps ``epoch_loss``'s None branch.
    """
    arguments = (typeof(inputs.loss), typeof(np.int64(0)), typeof(np.int64(0)))
    epoch_loss.compile(arguments)
    return next(signature.return_type for signature in epoch_loss.nopython_signatures if signature.args == arguments)


def _signature(inputs):
    return (typeof(np.int64(0)), typeof(thread_inputs(inputs, 0)))


def _loop(inputs):
    return LOOPS[inputs.variant]


def load_loop(inputs):
    """Compile, or load from the cache, the loop for these inputs, before the threads start together."""
    _loop(inputs).compile(_signature(inputs))


def is_cached(inputs):
    """Whether the loop for these inputs' types is compiled in this process or in Numba's cache.

    Numba has no public way to ask its cache: this reads the index as
    ``Dispatcher.compile`` does (tests/test_compile_ahead.py fails if those
    internals change) and answers False if that fails.
    """
    loop, signature = _loop(inputs), _signature(inputs)
    if signature in loop.overloads:
        return True
    try:
        cache = loop._cache
        key = cache._index_key(signature, loop.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - internals changed: compile as usual
        return False


def run_thread(t, inputs):
    """Thread ``t``'s loop on its own scratch; returns the words it read. It releases the GIL."""
    return _loop(inputs)(np.int64(t), thread_inputs(inputs, t))
