"""C's training step in C's order (TrainModelThread's per-word body).

Skip-gram goes pair by pair: for each context word, the centre word's
Huffman path and/or the centre word and ``negative`` noise words, each
output row updated before the next is read, and the context row updated
last. CBOW averages the context rows into ``neu1``, trains the outputs in
the same order, and adds the error ``neu1e`` to every context row.

Two variants share this code and differ only in the dot product
(:func:`row_dot`): ``SkipgramExact``/``CbowExact`` sum in C's order, so
with one thread every float operation is C's and the output is
byte-identical to word2vec.c's; ``SkipgramPairs`` (several threads, which
race anyway) sums in SIMD lanes.

The noise words a position needs are drawn before its first update: C's
words in C's order, since nothing else draws in between, with their rows
prefetched together (:func:`draw_noise`).
"""
import numpy as np
from numba import njit

from .dispatch import by_marker
from .hot_rows import NO_OWN_ROWS
from .outputs import add_output_loss, add_word, output_gradient, store_loss
from .schedule import window_words
from .simd import F0, F1, FMAX, dot_in_order, dot_simd, prefetch_row, sigmoid_index
from .tables import draw_negative, lcg_next
from .variants import CbowExact, SkipgramExact, SkipgramPairs



@njit(cache=True)
def _exact_dot(step, left, left_row, right, right_row, size):
    return dot_in_order(left, left_row, right, right_row, size)


@njit(cache=True)
def _lanes_dot(step, left, left_row, right, right_row, size):
    return dot_simd(left, left_row, right, right_row, size)


# row_dot(step, left, left_row, right, right_row, size): C's order for the exact steps, SIMD lanes otherwise.
row_dot = by_marker("row_dot", {SkipgramExact: _exact_dot, CbowExact: _exact_dot, SkipgramPairs: _lanes_dot})


@njit(cache=True, inline="always")
def draw_noise(next_random, job, negatives, count):
    """``count`` of C's noise-word draws into ``negatives``, their rows prefetched; returns the random state."""
    tables, syn1neg = job.tables, job.model.syn1neg
    size = syn1neg.shape[1]
    for d in range(count):
        word, next_random = draw_negative(
            next_random, tables.unigram_starts, tables.unigram_buckets, tables.unigram_size, job.settings.vocab_size
        )
        negatives[d] = word
        prefetch_row(syn1neg, word, size)
    return next_random


@njit(cache=True, inline="always")
def update_pair(g, output, target, hidden, hidden_row, neu1e, size):
    """C's update of one (hidden row, output row) pair: ``neu1e += g y``, then ``y += g x``, element by element."""
    for c in range(size):
        neu1e[c] += g * output[target, c]
    for c in range(size):
        output[target, c] += g * hidden[hidden_row, c]


@njit(cache=True, inline="always")
def hierarchical_softmax(step, job, hidden, hidden_row, word, alpha, neu1e):
    """One hidden row against ``word``'s Huffman path; C skips (does not clamp) saturated outputs."""
    syn1, tree, exp_table = job.model.syn1, job.tree, job.tables.exp_table
    size = job.model.syn0.shape[1]  # not hidden.shape: CBOW's neu1 is a padded scratch row
    total = 0.0
    for d in range(tree.lengths[word]):
        node = tree.points[word, d]
        f = row_dot(step, hidden, hidden_row, syn1, node, size)
        if f <= -FMAX or f >= FMAX:
            continue
        label = np.float32(1 - np.int64(tree.codes[word, d]))
        total = add_output_loss(job.loss, total, f, label, False)  # not saturated here
        g = (label - exp_table[sigmoid_index(f)]) * alpha
        update_pair(g, syn1, node, hidden, hidden_row, neu1e, size)
    store_loss(job.loss, total)


@njit(cache=True, inline="always")
def negative_sampling(step, job, hidden, hidden_row, word, alpha, noise, neu1e):
    """One hidden row against ``word`` (label 1) and ``noise[:negative]`` (label 0); C clamps saturated outputs.

    A noise word equal to ``word`` is skipped, as in C.
    """
    syn1neg, exp_table = job.model.syn1neg, job.tables.exp_table
    size = job.model.syn0.shape[1]  # not hidden.shape: CBOW's neu1 is a padded scratch row
    total = 0.0
    for d in range(job.settings.negative + 1):
        if d == 0:
            target = word
            label = F1
        else:
            target = noise[d - 1]
            if target == word:
                continue
            label = F0
        f = row_dot(step, hidden, hidden_row, syn1neg, target, size)
        total = add_output_loss(job.loss, total, f, label, False)
        g = output_gradient(f, label, False, alpha, exp_table)
        update_pair(g, syn1neg, target, hidden, hidden_row, neu1e, size)
    store_loss(job.loss, total)


@njit(cache=True, inline="always")
def skipgram_in_order(step, t, job, scratch, length, position, alpha, next_random):
    """Train ``scratch.sen[position]`` pair by pair; returns the random state."""
    syn0, settings = job.model.syn0, job.settings
    size = syn0.shape[1]
    sen, neu1e, negatives, context = scratch.sen, scratch.neu1e[0], scratch.negatives, scratch.context
    word = np.int64(sen[position])
    next_random = lcg_next(next_random)
    shrink = np.int64(next_random % np.uint64(settings.window))
    m = window_words(sen, position, length, shrink, settings.window, context, NO_OWN_ROWS)
    if m > 0:
        add_word(job.loss)
    if settings.negative > 0:
        next_random = draw_noise(next_random, job, negatives, m * settings.negative)
    for j in range(m):
        last_word = context[j]
        neu1e[:size] = F0
        if settings.hs:
            hierarchical_softmax(step, job, syn0, last_word, word, alpha, neu1e)
        if settings.negative > 0:
            negative_sampling(step, job, syn0, last_word, word, alpha, negatives[j * settings.negative :], neu1e)
        for c in range(size):
            syn0[last_word, c] += neu1e[c]
    return next_random


@njit(cache=True, inline="always")
def cbow_in_order(step, t, job, scratch, length, position, alpha, next_random):
    """Train ``scratch.sen[position]`` from the average of its window (``neu1``); returns the random state."""
    syn0, settings = job.model.syn0, job.settings
    size = syn0.shape[1]
    sen, neu1, neu1e, negatives, context = scratch.sen, scratch.neu1, scratch.neu1e[0], scratch.negatives, scratch.context
    word = np.int64(sen[position])
    next_random = lcg_next(next_random)
    shrink = np.int64(next_random % np.uint64(settings.window))
    m = window_words(sen, position, length, shrink, settings.window, context, NO_OWN_ROWS)
    if m == 0:
        return next_random
    add_word(job.loss)
    neu1[0, :size] = F0
    neu1e[:size] = F0
    for j in range(m):
        for c in range(size):
            neu1[0, c] += syn0[context[j], c]
    divisor = np.float32(m)
    for c in range(size):
        neu1[0, c] /= divisor
    if settings.hs:
        hierarchical_softmax(step, job, neu1, 0, word, alpha, neu1e)
    if settings.negative > 0:
        next_random = draw_noise(next_random, job, negatives, settings.negative)
        negative_sampling(step, job, neu1, 0, word, alpha, negatives, neu1e)
    for j in range(m):
        for c in range(size):
            syn0[context[j], c] += neu1e[c]
    return next_random
