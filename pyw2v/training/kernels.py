"""The training kernels: C's TrainModelThread, one slice of the corpus per thread.

Each slice reproduces one C thread exactly: its own random stream (C's LCG
seeded with the thread id), its window shrink, subsampling and negative
draws at the points C draws them, its sentences of at most
``MAX_SENTENCE_LENGTH`` kept words, and its end of epoch (end of the corpus,
or more than ``train_words / threads`` words read). With one thread and
``exact`` arithmetic every float operation is C's, in C's order, in float32.

The kernel runs a slice for a *budget* of words, or until asked to stop, and
returns at a sentence boundary with its whole state in :class:`SliceState`
arrays; resuming is indistinguishable from never having stopped. The driver
runs all slices in one call, in a worker thread, and reads the slices'
``words_done`` for its progress line meanwhile. When the slices outnumber
the cores, each core trains its slices in turns of a small budget, as the
operating system time-slices C's threads (:func:`run_slices_in_turns`).

Races: slices share ``syn0``, ``syn1`` and ``syn1neg`` and update them
without locks, exactly as C's threads do (Hogwild). Two slices rarely touch
the same row at the same moment, and a lost update is one small gradient
step; this is the accepted trade that makes word2vec scale. Each slice writes
only its own entry of ``words_done``; reading the others' entries for the
learning rate is a benign race (C shares one counter the same way).
"""
from collections import namedtuple

import numpy as np
from numba import njit, prange

from ..borrow import borrowed
from .simd import F0, F1, F65536, FMAX, LOW16, dot, output_gradient, sigmoid_index
from .cbow_block import cbow_position
from ..corpus.encoding import read_id
from .noise import draw_negatives
from .window_batch import scratch_shapes, skipgram_position
from .tables import lcg_next

MAX_SENTENCE_LENGTH = 1000
ALPHA_UPDATE_WORDS = 10000

Model = namedtuple("Model", "syn0 syn1 syn1neg")
Settings = namedtuple(
    "Settings",
    "cbow hs negative window sample vocab_size train_words iterations num_threads "
    "starting_alpha exact fast budget hot_words merge_words",
)
# ids: the varint-encoded corpus (see pyw2v.corpus.encoding); starts: each slice's
# byte offset in it; first_words: the word a slice starting inside a word reads first, or -1.
Stream = namedtuple("Stream", "ids starts first_words")
# Flat on purpose: Numba's parallel lowering cannot pass a tuple nested in a tuple.
Tables = namedtuple("Tables", "exp_table unigram_starts unigram_buckets unigram_size keep")
SliceState = namedtuple(
    "SliceState",
    "counters rng alpha sen neu1 neu1e negatives words_done stop context targets labels gradient context_update column "
    "shrinks planned_noise",
)

# Columns of SliceState.counters, one row per slice.
POS, WORD_COUNT, LAST_WORD_COUNT, LOCAL_ITER, SENT_LEN, SENT_POS, FIRST_PENDING, DONE = range(8)
N_COUNTERS = 8

def thread_rows(num_threads, shape, dtype):
    """Zeroed per-slice scratch of ``shape``, its last axis padded by 128 bytes.

    The padding keeps two slices' rows out of one cache line (false sharing);
    kernels index these arrays with explicit sizes, never their shape.
    """
    padded = shape[:-1] + (shape[-1] + 128 // np.dtype(dtype).itemsize,)
    return np.zeros((num_threads,) + padded, dtype=dtype)


def new_slice_state(settings, size, stream):
    """Fresh per-slice state: C's thread-local variables at thread start, plus scratch."""
    num_threads, iterations = settings.num_threads, settings.iterations
    counters = np.zeros((num_threads, N_COUNTERS), dtype=np.int64)
    counters[:, POS] = stream.starts
    counters[:, LOCAL_ITER] = iterations
    counters[:, FIRST_PENDING] = stream.first_words >= 0
    planned = num_threads if settings.fast or (settings.cbow and not settings.exact) else 0
    return SliceState(
        counters=counters,
        rng=np.arange(num_threads, dtype=np.uint64),
        alpha=np.full(num_threads, settings.starting_alpha, dtype=np.float32),
        sen=thread_rows(num_threads, (MAX_SENTENCE_LENGTH + 1,), np.int32),
        neu1=thread_rows(num_threads, (size,), np.float32),
        neu1e=thread_rows(num_threads, (size,), np.float32),
        # A position's noise words, drawn before its pairs are trained.
        negatives=thread_rows(num_threads, (2 * settings.window * max(settings.negative, 1),), np.int64),
        words_done=np.zeros(num_threads, dtype=np.int64),
        stop=np.zeros(1, dtype=np.int64),
        # The block kernels' scratch (-fast skip-gram, CBOW): every path but C's exact one; -fast is never exact.
        **{
            name: thread_rows(0 if settings.exact else num_threads, shape, dtype)
            for name, (shape, dtype) in scratch_shapes(settings.window, settings.negative, size).items()
        },
        # A sentence's draws, made at its first position, for CBOW off the parity path and -fast (pyw2v.training.sentence_plan).
        shrinks=thread_rows(planned, (MAX_SENTENCE_LENGTH,), np.int64),
        planned_noise=thread_rows(planned, (MAX_SENTENCE_LENGTH, settings.negative), np.int64),
    )


@njit(cache=True, inline="always")
def _hierarchical_softmax(hidden, hidden_row, word, alpha, model, tree, exp_table, neu1e, size, exact):
    """One word's Huffman path: C skips (does not clamp) saturated outputs."""
    syn1 = model.syn1
    for d in range(tree.lengths[word]):
        node = tree.points[word, d]
        f = dot(hidden, hidden_row, syn1, node, size, exact)
        if f <= -FMAX or f >= FMAX:
            continue
        f = exp_table[sigmoid_index(f)]
        g = (np.float32(1 - np.int64(tree.codes[word, d])) - f) * alpha
        for c in range(size):
            neu1e[c] += g * syn1[node, c]
        for c in range(size):
            syn1[node, c] += g * hidden[hidden_row, c]


@njit(cache=True, inline="always")
def _negative_sampling(hidden, hidden_row, word, alpha, negatives, first, model, tables, settings, neu1e, size):
    """The word, then noise words ``negatives[first:first + negative]``; C clamps saturated outputs."""
    syn1neg = model.syn1neg
    exp_table = tables.exp_table
    for d in range(settings.negative + 1):
        if d == 0:
            target = word
            label = F1
        else:
            target = negatives[first + d - 1]
            if target == word:
                continue
            label = F0
        f = dot(hidden, hidden_row, syn1neg, target, size, settings.exact)
        g = output_gradient(f, label, False, alpha, exp_table)
        for c in range(size):
            neu1e[c] += g * syn1neg[target, c]
        for c in range(size):
            syn1neg[target, c] += g * hidden[hidden_row, c]


@njit(cache=True, inline="always")
def _learning_rate(settings, words_done):
    """C's linear decay, in float, floored at 1e-4 of the start (compared in double)."""
    actual = np.float32(words_done.sum())
    total = np.float32(settings.iterations * settings.train_words + 1)
    alpha = np.float32(settings.starting_alpha) * (F1 - actual / total)
    floor = np.float64(np.float32(settings.starting_alpha)) * 0.0001
    if alpha < floor:
        alpha = np.float32(floor)
    return alpha


@njit(cache=True, inline="always")
def train_position(t, sen, position, length, alpha, next_random, model, tree, tables, settings, state):
    """Train the word at ``sen[position]`` with slice ``t``'s scratch; returns the random state.

    C's per-word step: draw the window shrink, then CBOW (average the
    context, one update of the output, the error added to every context
    row; off the parity path with the output rows updated together,
    :mod:`pyw2v.training.cbow_block`), skip-gram pair by pair, or with ``-fast``
    skip-gram a window at a time (:mod:`pyw2v.training.window_batch`). CBOW off the
    parity path and ``-fast`` skip-gram make a sentence's draws at its first
    position (:mod:`pyw2v.training.sentence_plan`).
    """
    syn0 = model.syn0
    size = syn0.shape[1]
    window = settings.window
    neu1 = state.neu1[t : t + 1]
    neu1e = state.neu1e[t]
    if settings.fast and not settings.cbow:
        # The window block keeps its sums in its own scratch: neu1 and neu1e stay unused.
        return skipgram_position(t, sen, position, length, alpha, next_random, model, tree, tables, settings, state)
    word = np.int64(sen[position])
    neu1[0, :] = F0
    neu1e[:] = F0
    if settings.cbow and not settings.exact:
        return cbow_position(t, sen, position, length, alpha, next_random, model, tree, tables, settings, state)
    next_random = lcg_next(next_random)
    shrink = np.int64(next_random % np.uint64(window))
    if settings.cbow:
        context = 0
        for a in range(shrink, 2 * window + 1 - shrink):
            c = position - window + a
            if a == window or c < 0 or c >= length:
                continue
            last_word = sen[c]
            for k in range(size):
                neu1[0, k] += syn0[last_word, k]
            context += 1
        if context:
            divisor = np.float32(context)
            for k in range(size):
                neu1[0, k] /= divisor
            if settings.hs:
                _hierarchical_softmax(neu1, 0, word, alpha, model, tree, tables.exp_table, neu1e, size, settings.exact)
            if settings.negative > 0:
                negatives = state.negatives[t]
                next_random = draw_negatives(next_random, tables, settings, negatives, settings.negative, model.syn1neg)
                _negative_sampling(neu1, 0, word, alpha, negatives, 0, model, tables, settings, neu1e, size)
            for a in range(shrink, 2 * window + 1 - shrink):
                c = position - window + a
                if a == window or c < 0 or c >= length:
                    continue
                last_word = sen[c]
                for k in range(size):
                    syn0[last_word, k] += neu1e[k]
    else:
        negatives = state.negatives[t]
        if settings.negative > 0:
            # The window's positions within the sentence, less the centre word's own.
            pairs = min(position + window - shrink, length - 1) - max(position - window + shrink, 0)
            next_random = draw_negatives(
                next_random, tables, settings, negatives, pairs * settings.negative, model.syn1neg
            )
        first = 0
        for a in range(shrink, 2 * window + 1 - shrink):
            c = position - window + a
            if a == window or c < 0 or c >= length:
                continue
            last_word = np.int64(sen[c])
            neu1e[:] = F0
            if settings.hs:
                _hierarchical_softmax(syn0, last_word, word, alpha, model, tree, tables.exp_table, neu1e, size, settings.exact)
            if settings.negative > 0:
                _negative_sampling(syn0, last_word, word, alpha, negatives, first, model, tables, settings, neu1e, size)
                first += settings.negative
            for k in range(size):
                syn0[last_word, k] += neu1e[k]
    return next_random


@njit(cache=True, nogil=True)
def run_slice(t, model, tree, tables, settings, stream, state):
    """Run slice ``t`` for about ``settings.budget`` words (C's TrainModelThread loop).

    It also returns, at the next sentence boundary, once ``state.stop[0]`` is set.
    """
    counters = state.counters[t]
    sen = state.sen[t]
    next_random = state.rng[t]
    alpha = state.alpha[t]
    ids = stream.ids
    share = settings.train_words // settings.num_threads
    # C's thread-local variables live in registers while the slice runs: rows
    # of a shared array written per word by two threads would share a cache
    # line and halve the speed of both.
    pos, word_count, last_word_count = counters[POS], counters[WORD_COUNT], counters[LAST_WORD_COUNT]
    local_iter, sentence_length, sentence_position = counters[LOCAL_ITER], counters[SENT_LEN], counters[SENT_POS]
    first_pending, done = counters[FIRST_PENDING], counters[DONE]
    read_now = 0
    while done == 0:
        if sentence_length == 0 and (read_now >= settings.budget or state.stop[0]):
            break
        if word_count - last_word_count > ALPHA_UPDATE_WORDS:
            state.words_done[t] += word_count - last_word_count
            last_word_count = word_count
            alpha = _learning_rate(settings, state.words_done)
        if sentence_length == 0:
            length = 0
            eof = False
            while True:
                if first_pending:
                    first_pending = 0
                    word = np.int64(stream.first_words[t])
                elif pos < len(ids):
                    word, pos = read_id(ids, pos)
                else:
                    eof = True
                    break
                word_count += 1
                read_now += 1
                if word == 0:
                    break
                if settings.sample > 0:
                    next_random = lcg_next(next_random)
                    if tables.keep[word] < np.float32(next_random & LOW16) / F65536:
                        continue
                sen[length] = word
                length += 1
                if length >= MAX_SENTENCE_LENGTH:
                    break
            if eof or word_count > share:
                state.words_done[t] += word_count - last_word_count
                local_iter -= 1
                if local_iter == 0:
                    done = 1
                    break
                word_count = 0
                last_word_count = 0
                pos = stream.starts[t]
                first_pending = np.int64(stream.first_words[t] >= 0)
                continue
            if length == 0:
                # C goes on to "train" the stale sen[0] of an empty sentence: no
                # context word exists, so all that happens is the window draw.
                next_random = lcg_next(next_random)
                continue
            sentence_length = length
            sentence_position = 0
        length = sentence_length
        position = sentence_position
        next_random = train_position(t, sen, position, length, alpha, next_random, model, tree, tables, settings, state)
        position += 1
        sentence_position = position
        if position >= length:
            sentence_length = 0
    counters[POS], counters[WORD_COUNT], counters[LAST_WORD_COUNT] = pos, word_count, last_word_count
    counters[LOCAL_ITER], counters[SENT_LEN], counters[SENT_POS] = local_iter, sentence_length, sentence_position
    counters[FIRST_PENDING], counters[DONE] = first_pending, done
    state.rng[t] = next_random
    state.alpha[t] = alpha
    return read_now


def _run_slices(model, tree, tables, settings, stream, state):
    """Run every slice once, serially or in parallel depending on the twin.

    The slices get their arrays uncounted (:mod:`pyw2v.borrow`).
    """
    for t in prange(settings.num_threads):
        run_slice(t, borrowed(model), borrowed(tree), borrowed(tables), settings, borrowed(stream), borrowed(state))


@njit(cache=True, parallel=True, nogil=True)
def run_slices_in_turns(model, tree, tables, settings, stream, state, workers):
    """More slices than cores: core ``w`` trains slices ``w, w + workers, ...`` in turns.

    Each turn is ``settings.budget`` words of one slice. C's threads beyond
    the cores are time-sliced by the operating system, so all of them
    advance together under the falling learning rate; run one after the
    other, the first slices would train every epoch at a high rate and the
    last ones at a low rate.
    """
    for w in prange(workers):
        pending = True
        while pending and state.stop[0] == 0:
            pending = False
            for t in range(w, settings.num_threads, workers):
                if state.counters[t, DONE] == 0:
                    lent = borrowed((model, tree, tables, stream, state))
                    run_slice(t, lent[0], lent[1], lent[2], settings, lent[3], lent[4])
                    pending = True


def _twin(function, suffix, **options):
    """Compile ``function`` under its own name so each twin has its own cache entry."""
    import types

    clone = types.FunctionType(function.__code__, function.__globals__, function.__name__ + suffix)
    clone.__qualname__ = function.__qualname__ + suffix
    return njit(cache=True, **options)(clone)


# nogil: the driver runs these in a worker thread and reports progress meanwhile.
run_slices_serial = _twin(_run_slices, "_serial", nogil=True)
run_slices_parallel = _twin(_run_slices, "_parallel", parallel=True, nogil=True)
