"""The one training loop: C's TrainModelThread over a source of corpus ranges.

:func:`train_thread` is thread ``t``'s loop. It takes ranges of the encoded
corpus from its source (:mod:`.ranges`), reads them a sentence at a time,
recomputes the learning rate every ``ALPHA_UPDATE_WORDS`` words, and trains
each kept word with the variant's step (:mod:`.in_order`, :mod:`.blocks`),
all chosen by the types of its marker arguments (:mod:`.dispatch`).

It runs for a *budget* of words, or until ``control.stop[0]`` is set, and
returns at a sentence boundary with its whole state in its cursor; resuming
is indistinguishable from never having stopped.

:func:`run_thread` is the entry point, one call per thread. It releases the
GIL, so the driver runs each of C's threads as an operating-system thread,
as C does: with more threads than cores the system time-slices them, and
all advance together under the falling learning rate. (A ``prange`` over
the threads would do the same work but costs seconds of compilation at the
first run, for a loop of ``threads`` iterations.)
"""
import types

import numpy as np
from numba import njit, typeof

from ..borrow import borrowed
from .blocks import cbow_block, skipgram_window
from .dispatch import by_marker
from .hot_rows import merge_thread_copies, merge_when_due
from .in_order import cbow_in_order, skipgram_in_order
from .outputs import loss_view
from .ranges import empty_sentence, ends_range, first_word, next_range, range_exhausted
from .schedule import ALPHA_UPDATE_WORDS, learning_rate, read_sentence
from .state import EPOCH, Job, thread_scratch
from .variants import CbowBlock, CbowExact, FixedSlices, SharedQueue, SkipgramExact, SkipgramPairs, SkipgramWindow

# Each variant's step: step(marker, t, job, scratch, length, position, alpha, next_random) -> next_random.
STEPS = {
    SkipgramExact: skipgram_in_order,
    SkipgramPairs: skipgram_in_order,
    CbowExact: cbow_in_order,
    CbowBlock: cbow_block,
    SkipgramWindow: skipgram_window,
}



@njit(cache=True)
def _merge_due(source, t, model, settings, word_count, merged_at):
    return merge_when_due(t, model, settings, word_count, merged_at)


@njit(cache=True)
def _merge_at_end(source, t, model, settings):
    merge_thread_copies(t, model, settings)


@njit(cache=True)
def _nothing_due(source, t, model, settings, word_count, merged_at):
    return merged_at


@njit(cache=True)
def _nothing_at_end(source, t, model, settings):
    pass


# Per-thread hot-row copies exist only with the shared queue (-fast, several threads; pyw2v.training.hot_rows).
# merge_due(source, t, model, settings, word_count, merged_at) -> merged_at; merge_at_end(source, t, model, settings)
merge_due = by_marker("merge_due", {FixedSlices: _nothing_due, SharedQueue: _merge_due})
merge_at_end = by_marker("merge_at_end", {FixedSlices: _nothing_at_end, SharedQueue: _merge_at_end})


def _train_thread(t, step, source, job, mine, control):
    """Thread ``t``'s loop for about ``settings.budget`` words, with its scratch ``mine``; returns the words it read.

    ``train_position`` is the variant's step: this source is compiled once
    per variant with its own step bound to that name (:data:`TRAIN_THREAD`).

    C's thread-local variables live in locals while it runs (rows of a
    shared array written per word by two threads would share a cache line)
    and go back to ``control.cursors[t]`` when it returns. Its arrays are
    used uncounted (:mod:`pyw2v.borrow`): the caller holds them throughout.
    """
    source, job, mine, control = borrowed(source), borrowed(job), borrowed(mine), borrowed(control)
    settings = job.settings
    cursor = control.cursors[t]
    pos, end, word_count, last_word_count, epoch = cursor[0], cursor[1], cursor[2], cursor[3], cursor[4]
    sentence_length, sentence_position, first_pending, done, merged_at = cursor[5], cursor[6], cursor[7], cursor[8], cursor[9]
    next_random = control.rng[t]
    alpha = control.alpha[t]
    share = settings.train_words // settings.num_threads
    step_job = Job(job.model, job.tree, job.tables, settings, loss_view(job.loss, t, epoch))
    read_now = 0
    while done == 0:
        if sentence_length == 0 and (read_now >= settings.budget or control.stop[0]):
            break
        if word_count - last_word_count > ALPHA_UPDATE_WORDS:
            control.words_done[t] += word_count - last_word_count
            last_word_count = word_count
            alpha = learning_rate(settings, control.words_done)
            merged_at = merge_due(source, t, job.model, settings, word_count, merged_at)
        if sentence_length == 0:
            new_range = first_pending == 0 and range_exhausted(source, pos, end)
            if not new_range:
                start_word = first_word(source, t) if first_pending else np.int64(-1)
                length, pos, words_read, next_random, at_end = read_sentence(
                    source.ids, pos, end, start_word, mine.sen, job.tables.keep, settings.sample, next_random
                )
                first_pending = 0
                word_count += words_read
                read_now += words_read
                if ends_range(source, at_end, word_count, share):
                    control.words_done[t] += word_count - last_word_count
                    word_count = 0
                    last_word_count = 0
                    new_range = True
            if new_range:
                found, pos, end, first_pending, epoch = next_range(source, t, settings, epoch)
                if not found:
                    done = 1
                    break
                step_job = Job(job.model, job.tree, job.tables, settings, loss_view(job.loss, t, epoch))
                cursor[EPOCH] = epoch  # read by the driver's progress line while the thread runs
                continue
            if length == 0:
                next_random = empty_sentence(source, next_random)
                continue
            sentence_length = length
            sentence_position = 0
        # train_position: bound to the variant's step in each compiled copy (_train_thread_with).
        next_random = train_position(step, t, step_job, mine, sentence_length, sentence_position, alpha, next_random)  # noqa: F821
        sentence_position += 1
        if sentence_position >= sentence_length:
            sentence_length = 0
    if done or control.stop[0]:
        control.words_done[t] += word_count - last_word_count
        last_word_count = word_count
        merge_at_end(source, t, job.model, settings)
    cursor[0], cursor[1], cursor[2], cursor[3], cursor[4] = pos, end, word_count, last_word_count, epoch
    cursor[5], cursor[6], cursor[7], cursor[8], cursor[9] = sentence_length, sentence_position, first_pending, done, merged_at
    control.rng[t] = next_random
    control.alpha[t] = alpha
    return read_now


def _train_thread_with(step_class):
    """The loop compiled with ``STEPS[step_class]`` as its step, under a name and cache entry of its own.

    The step is typed into the loop (it is inlined), so a position costs no
    call: a call would pass the job's and the scratch's dozens of arrays by
    value at every word. Numba caches a function by its file, name and
    bytecode, so each variant's loop is cached apart; :mod:`pyw2v.jit_cache`
    renews them when this module or anything it imports changes.
    """
    name = "train_thread_" + step_class.__name__
    namespace = dict(_train_thread.__globals__, train_position=STEPS[step_class])
    loop = types.FunctionType(_train_thread.__code__, namespace, name)
    loop.__qualname__ = name
    loop.__doc__ = _train_thread.__doc__
    return njit(cache=True, nogil=True)(loop)


TRAIN_THREAD = {step_class: _train_thread_with(step_class) for step_class in STEPS}


def _loop_arguments(t, step, source, model, tree, tables, settings, loss, scratch, control):
    return (np.int64(t), step, source, Job(model, tree, tables, settings, loss), thread_scratch(scratch, t), control)


def load_loop(step, source, model, tree, tables, settings, loss, scratch, control):
    """Compile, or load from the cache, ``step``'s loop for these arguments, in the calling thread.

    The driver calls it before it starts the threads, so that they start
    training together instead of one after another as each waits for the
    compiler.
    """
    arguments = _loop_arguments(0, step, source, model, tree, tables, settings, loss, scratch, control)
    TRAIN_THREAD[type(step)].compile(tuple(typeof(argument) for argument in arguments))


def is_cached(step, source, model, tree, tables, settings, loss, scratch, control):
    """Whether ``step``'s loop for these argument types is compiled in this process or in Numba's cache.

    Numba has no public way to ask its cache; this reads the index the way
    :meth:`Dispatcher.compile` does and answers False if that ever fails.
    """
    dispatcher = TRAIN_THREAD[type(step)]
    arguments = _loop_arguments(0, step, source, model, tree, tables, settings, loss, scratch, control)
    signature = tuple(typeof(argument) for argument in arguments)
    if signature in dispatcher.overloads:
        return True
    try:
        cache = dispatcher._cache
        key = cache._index_key(signature, dispatcher.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:  # noqa: BLE001 - a Numba version without these internals: compile as usual
        return False


def run_thread(t, step, source, model, tree, tables, settings, loss, scratch, control):
    """Thread ``t``'s loop for ``step``'s variant, on its own views of ``scratch``; returns the words it read.

    The loop releases the GIL: the driver calls this from one operating-system thread per C thread.
    """
    arguments = _loop_arguments(t, step, source, model, tree, tables, settings, loss, scratch, control)
    return TRAIN_THREAD[type(step)](*arguments)
