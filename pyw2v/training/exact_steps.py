"""C's per-word training step, in C's order: TrainModelThread's body for one position.

Skip-gram goes pair by pair: for each context word, the centre word's
Huffman path and/or the centre word and ``negative`` noise words, each
output row updated in turn, the context row updated last. CBOW averages the
context rows into ``neu1``, trains the outputs in the same order, and adds
the error ``neu1e`` to every context row.

A hidden row's dot products with its outputs are all taken before the
first update whenever the outputs are distinct rows (a Huffman path always
is): no update in between touches those rows, so they are the values C's
loop reads, and several sums at once hide each other's latency where C's
loop waits for each.

The dot products are the step's ``sums`` (:class:`~pyw2v.training.outputs.Sums`):
with :func:`~pyw2v.training.outputs.dot_in_order` and
:func:`~pyw2v.training.outputs.dots_in_order` (one thread) every float
operation is C's and the output byte-identical to word2vec.c's; several
threads, which race anyway, sum in SIMD lanes (:mod:`.simd`).

A position's noise words are drawn before its first update, with their rows
prefetched: C's words in C's order, since nothing else draws in between.
"""
from collections import namedtuple

import numpy as np
from numba import njit

from .hot_rows import node_row, own_nodes
from .outputs import (
    F0,
    add_output_loss,
    add_word,
    negative_outputs,
    output_gradient,
    path_outputs,
    saturated,
    store_loss,
    update_pair,
)
from .simd import prefetch_row
from .tables import BUCKET_SHIFT

# A hidden row's output rows (a Huffman path's in syn1, the thread's own for the top nodes, or the
# centre and noise words' in syn1neg), their labels and their dot products with the hidden row:
# scratch rows (the block steps' targets, labels and first gradient row).
Targets = namedtuple("Targets", "rows labels dots")


@njit(cache=True)
def lcg_next(state):
    """One step of C's random stream: ``state * 25214903917 + 11`` modulo 2**64."""
    return state * np.uint64(25214903917) + np.uint64(11)


@njit(cache=True)
def draw_word(starts, buckets, slot):
    """The word C's unigram ``table[slot]`` holds: the last word whose first slot is at most ``slot``.

    ``starts`` are the words' first slots (:func:`pyw2v.training.tables.unigram_table`);
    ``buckets[b]`` is the word at slot ``b << BUCKET_SHIFT``, which bounds the binary search.
    """
    bucket = slot >> BUCKET_SHIFT
    low = buckets[bucket]
    high = buckets[bucket + 1]
    while low < high:
        middle = (low + high + 1) >> 1
        if starts[middle] <= slot:
            low = middle
        else:
            high = middle - 1
    return low


@njit(cache=True)
def draw_negative(next_random, tables, vocab_size):
    """One of C's noise draws; returns ``(word, random state)``.

    The slot is ``(next_random >> 16) % table_size``; a draw of word 0
    (``</s>``) becomes ``next_random % (vocab_size - 1) + 1``.
    """
    next_random = lcg_next(next_random)
    slot = np.int64((next_random >> np.uint64(16)) % np.uint64(tables.unigram_size))
    word = draw_word(tables.unigram_starts, tables.unigram_buckets, slot)
    if word == 0:
        word = np.int64(next_random % np.uint64(vocab_size - 1)) + 1
    return word, next_random


@njit(cache=True, inline="always")
def window_words(sen, position, length, shrink, window, context):
    """The words around ``sen[position]`` in C's window order into ``context``; returns how many.

    C's window: offsets ``a`` from ``shrink`` to ``2 window - shrink``,
    leaving out the centre and positions outside the sentence.
    """
    # np.int64: while Numba types a literal 0 here, it compiles the functions m is passed to once more for it.
    m = np.int64(0)
    for a in range(shrink, 2 * window + 1 - shrink):
        c = position - window + a
        if a == window or c < 0 or c >= length:
            continue
        context[m] = sen[c]
        m += 1
    return m


@njit(cache=True, inline="always")
def draw_noise(next_random, job, negatives, count):
    """``count`` of C's noise draws into ``negatives``, their rows prefetched; returns the random state."""
    syn1neg = job.model.syn1neg
    for d in range(count):
        word, next_random = draw_negative(next_random, job.tables, job.settings.vocab_size)
        negatives[d] = word
        prefetch_row(syn1neg, word, syn1neg.shape[1])
    return next_random


@njit(cache=True, inline="always")
def hierarchical_softmax(sums, t, job, hidden, hidden_row, word, alpha, neu1e, out):
    """One hidden row against ``word``'s Huffman path, saturated nodes skipped, as in C.

    The path's dot products are all taken first, into ``out``
    (:class:`Targets`), then C's node-by-node updates: C's values, since a
    path's nodes are distinct rows and the hidden row changes only after the
    path. Thread ``t`` trains its own rows of the top nodes when it has them
    (:func:`.hot_rows.node_row`).
    """
    syn1 = job.model.syn1
    size = job.model.syn0.shape[1]  # not hidden.shape: CBOW's neu1 is a padded scratch row
    nodes = own_nodes(t, job.hot, job.settings.vocab_size)
    n = path_outputs(word, job.tree, out.rows, out.labels)
    for d in range(n):
        out.rows[d] = node_row(out.rows[d], nodes)
    sums.dots(hidden, hidden_row, syn1, out.rows, n, out.dots, size)
    total = 0.0
    for d in range(n):
        f = out.dots[d]
        if saturated(f):
            continue
        total = add_output_loss(job.loss, total, f, out.labels[d], False, job.tables.loss_table)
        g = output_gradient(f, out.labels[d], False, alpha, job.tables.exp_table)
        update_pair(g, syn1, out.rows[d], hidden, hidden_row, neu1e, size)
    store_loss(job.loss, total)


@njit(cache=True, inline="always")
def negative_sampling(sums, job, hidden, hidden_row, word, alpha, noise, neu1e, out):
    """One hidden row against ``word`` (label 1) and ``noise[:negative]`` (label 0), saturated sigmoids clamped.

    A noise word equal to ``word`` is skipped, as in C. When the outputs
    are distinct rows (nearly always) their dot products are all taken
    first, into ``out`` (:class:`Targets`): C's values, as for a Huffman
    path. A noise word drawn twice is read after its first update, as C
    reads it.
    """
    syn1neg = job.model.syn1neg
    size = job.model.syn0.shape[1]
    n = negative_outputs(word, noise, job.settings.negative, out.rows, out.labels)
    ahead = all_distinct(out.rows, n)
    if ahead:
        sums.dots(hidden, hidden_row, syn1neg, out.rows, n, out.dots, size)
    total = 0.0
    for d in range(n):
        f = out.dots[d] if ahead else sums.dot(hidden, hidden_row, syn1neg, out.rows[d], size)
        total = add_output_loss(job.loss, total, f, out.labels[d], False, job.tables.loss_table)
        g = output_gradient(f, out.labels[d], False, alpha, job.tables.exp_table)
        update_pair(g, syn1neg, out.rows[d], hidden, hidden_row, neu1e, size)
    store_loss(job.loss, total)


@njit(cache=True, inline="always")
def all_distinct(rows, n):
    """Whether ``rows[:n]`` are ``n`` different rows."""
    for a in range(1, n):
        for b in range(a):
            if rows[a] == rows[b]:
                return False
    return True


@njit(cache=True, inline="always")
def skipgram_in_order(sums, t, job, scratch, length, position, alpha, next_random):
    """Train ``scratch.sen[position]`` pair by pair; returns the random state."""
    syn0, settings = job.model.syn0, job.settings
    size = syn0.shape[1]
    sen, neu1e, negatives, context = scratch.sen, scratch.neu1e[0], scratch.negatives, scratch.context
    out = Targets(scratch.targets, scratch.labels, scratch.gradient[0])
    word = np.int64(sen[position])
    next_random = lcg_next(next_random)
    shrink = np.int64(next_random % np.uint64(settings.window))
    m = window_words(sen, position, length, shrink, settings.window, context)
    if m > 0:
        add_word(job.loss)
    if settings.negative > 0:
        next_random = draw_noise(next_random, job, negatives, m * settings.negative)
    for j in range(m):
        last_word = context[j]
        neu1e[:size] = F0
        if settings.hs:
            hierarchical_softmax(sums, t, job, syn0, last_word, word, alpha, neu1e, out)
        if settings.negative > 0:
            noise = negatives[j * settings.negative :]
            negative_sampling(sums, job, syn0, last_word, word, alpha, noise, neu1e, out)
        for c in range(size):
            syn0[last_word, c] += neu1e[c]
    return next_random


@njit(cache=True, inline="always")
def cbow_in_order(sums, t, job, scratch, length, position, alpha, next_random):
    """Train ``scratch.sen[position]`` from the mean of its window, ``neu1``; returns the random state."""
    syn0, settings = job.model.syn0, job.settings
    size = syn0.shape[1]
    sen, neu1, neu1e = scratch.sen, scratch.neu1, scratch.neu1e[0]
    negatives, context = scratch.negatives, scratch.context
    word = np.int64(sen[position])
    next_random = lcg_next(next_random)
    shrink = np.int64(next_random % np.uint64(settings.window))
    m = window_words(sen, position, length, shrink, settings.window, context)
    if m == 0:
        return next_random
    add_word(job.loss)
    out = Targets(scratch.targets, scratch.labels, scratch.gradient[0])
    neu1[0, :size] = F0
    neu1e[:size] = F0
    for j in range(m):
        for c in range(size):
            neu1[0, c] += syn0[context[j], c]
    divisor = np.float32(m)
    for c in range(size):
        neu1[0, c] /= divisor
    if settings.hs:
        hierarchical_softmax(sums, t, job, neu1, 0, word, alpha, neu1e, out)
    if settings.negative > 0:
        next_random = draw_noise(next_random, job, negatives, settings.negative)
        negative_sampling(sums, job, neu1, 0, word, alpha, negatives, neu1e, out)
    for j in range(m):
        for c in range(size):
            syn0[context[j], c] += neu1e[c]
    return next_random
