"""The block steps: a position's output rows updated together (:func:`.outputs.train_block`).

* ``CbowBlock`` (CBOW off the parity path): C's CBOW step with its output
  rows' dot products taken first and the updates applied after. ``neu1``
  does not change during C's output loop and the output rows are distinct,
  so these are C's values summed in another order; the one exception is a
  noise word drawn twice for one position (here both updates start from
  the old row).
* ``SkipgramWindow`` (``-fast 1`` skip-gram, after pWord2Vec, Ji et al.
  2016): the window's context rows against the centre word's outputs at
  once. This is C's gradient except that (a) with negative sampling one set
  of noise words, drawn per centre word instead of per pair, serves the
  whole window, and (b) the window's updates are applied together. Each
  output row is loaded once per window instead of once per pair, with
  ``2 window`` times fewer draws.

Both draw a sentence's shrinks and noise words at its first position, as C
would draw them one position at a time, and prefetch the rows of positions
ahead (:mod:`.sentence_plan`). ``own`` maps words to the rows this thread
trains (:mod:`.hot_rows`).
"""
import numpy as np
from numba import njit, typeof

from .exact_steps import window_words
from .hot_rows import node_row, own_nodes, own_rows, row_of
from .outputs import F0, F1, BlockWork, Outputs, Rows, add_word, negative_outputs, path_outputs, train_block, train_row
from .sentence_plan import LOOKAHEAD, plan_sentence, prefetch_ahead
from .simd import add_rows, scatter_rows


@njit(cache=True, inline="always")
def train_outputs(train, t, block, word, word_row, alpha, noise, job, scratch):
    """Hidden rows ``block`` (:class:`.outputs.Rows`) against ``word``'s Huffman path and/or ``word_row``, ``noise``.

    ``train`` is :func:`.outputs.train_block`, or :func:`.outputs.train_row` when the block is always one row.

    The path's nodes are trained in thread ``t``'s rows for them
    (:func:`.hot_rows.node_row`). The block's errors are added to ``scratch.context_update``, a row per hidden row.
    """
    settings, model = job.settings, job.model
    work = BlockWork(scratch.gradient, scratch.gradient_t, scratch.context_update, scratch.update_rows)
    if settings.hs:
        n = path_outputs(word, job.tree, scratch.targets, scratch.labels)
        nodes = own_nodes(t, job.hot, settings.vocab_size)
        for d in range(n):
            scratch.targets[d] = node_row(scratch.targets[d], nodes)
        path = Outputs(model.syn1, scratch.targets, n, scratch.labels, True)
        train(block, path, alpha, job.tables, work, job.loss)
    if settings.negative > 0:
        n = negative_outputs(word_row, noise, settings.negative, scratch.targets, scratch.labels)
        samples = Outputs(model.syn1neg, scratch.targets, n, scratch.labels, False)
        train(block, samples, alpha, job.tables, work, job.loss)


@njit(cache=True, inline="always")
def window_rows(sen, position, length, shrink, window, context, own):
    """:func:`.exact_steps.window_words`, each word replaced by the row this thread trains for it."""
    m = window_words(sen, position, length, shrink, window, context)
    for j in range(m):
        context[j] = row_of(context[j], own)
    return m


@njit(cache=True, inline="always")
def _plan(t, job, scratch, length, position, next_random):
    own = own_rows(t, job.hot, job.settings.vocab_size)
    if position == 0:
        next_random = plan_sentence(
            next_random, length, job.settings, job.tables, scratch.shrinks, scratch.planned_noise, own
        )
    prefetch_ahead(scratch.sen, position + LOOKAHEAD, length, job.model, job.settings, scratch.planned_noise, own)
    return own, next_random


@njit(cache=True, inline="always")
def skipgram_window(sums, t, job, scratch, length, position, alpha, next_random):
    """Train ``scratch.sen[position]`` against its whole window; returns the random state."""
    own, next_random = _plan(t, job, scratch, length, position, next_random)
    syn0 = job.model.syn0
    size = syn0.shape[1]
    context, update = scratch.context, scratch.context_update
    word = np.int64(scratch.sen[position])
    m = window_rows(scratch.sen, position, length, scratch.shrinks[position], job.settings.window, context, own)
    if m == 0:
        return next_random
    add_word(job.loss)
    update[:m, :size] = F0
    noise = scratch.planned_noise[position]
    train_outputs(train_block, t, Rows(syn0, context, m), word, row_of(word, own), alpha, noise, job, scratch)
    for j in range(m):
        row = context[j]
        for c in range(size):
            syn0[row, c] += update[j, c]
    return next_random


@njit(cache=True, inline="always")
def cbow_block(sums, t, job, scratch, length, position, alpha, next_random):
    """Train ``scratch.sen[position]`` from its window's average ``neu1``; returns the random state.

    ``neu1e`` is ``scratch.context_update[0]``, the block's one error row.
    """
    own, next_random = _plan(t, job, scratch, length, position, next_random)
    syn0 = job.model.syn0
    context, neu1, neu1e = scratch.context, scratch.neu1, scratch.context_update
    word = np.int64(scratch.sen[position])
    m = window_rows(scratch.sen, position, length, scratch.shrinks[position], job.settings.window, context, own)
    if m == 0:
        return next_random
    add_word(job.loss)
    context_mean(neu1, syn0, context, m, scratch.column)
    fill_row(neu1e, syn0.shape[1], F0)
    noise = scratch.planned_noise[position]
    hidden = Rows(neu1, scratch.hidden_rows, 1)
    train_outputs(train_row, t, hidden, word, row_of(word, own), alpha, noise, job, scratch)
    add_to_context(syn0, context, m, scratch.column, neu1e)
    return next_random


@njit(cache=True)
def context_mean(neu1, syn0, context, m, ones):
    """``neu1[0]``: the mean of rows ``context[:m]`` of ``syn0``, C's CBOW hidden layer; sets ``ones[:m]`` to 1.

    Compiled apart from the loop (one call per position), with its row sum inlined.
    """
    size = syn0.shape[1]
    fill_row(neu1, size, F0)
    for j in range(m):
        ones[j] = F1
    add_rows(neu1, 0, syn0, context, ones, m, size)
    divisor = np.float32(m)
    for c in range(size):
        neu1[0, c] /= divisor


@njit(cache=True)
def add_to_context(syn0, context, m, ones, neu1e):
    """Rows ``context[:m]`` of ``syn0`` += ``neu1e[0]``, C's CBOW input update (``ones[:m]`` are 1)."""
    scatter_rows(syn0, context, ones, m, neu1e, 0, syn0.shape[1])


@njit(cache=True, inline="always")
def fill_row(matrix, size, value):
    """``matrix[0, :size] = value``, as a loop (a slice assignment compiles to much more code)."""
    for c in range(size):
        matrix[0, c] = value


def kernels_called(variant, inputs, loss):
    """The kernels that ``variant``'s loop calls, compiled apart, each with the argument types the loop passes.

    ``inputs``: one thread's loop inputs (:func:`.loop.thread_inputs`);
    ``loss``: the type of their ``job.loss`` (:func:`.loop.loss_type`).
    Listed in the order the loop's typing reaches them, seconds into it: a
    process that compiles them first saves a second one compiling the loop
    that time (:func:`pyw2v.compile_ahead.compile_kernels_called`). Empty
    for the loops not in :data:`.variants.BLOCK_LOOPS`, whose steps are
    inlined whole. The arguments follow :func:`skipgram_window` and
    :func:`cbow_block`; tests/test_compile_once.py fails when they drift
    apart (the kernel is then compiled twice).
    """
    scratch, model = inputs.scratch, inputs.model
    count, alpha = np.int64(1), np.float32(0.0)
    outputs = Outputs(model.syn1, scratch.targets, count, scratch.labels, True)
    work = BlockWork(scratch.gradient, scratch.gradient_t, scratch.context_update, scratch.update_rows)
    if variant == "skipgram_window":
        block = Rows(model.syn0, scratch.context, count)
        return [(train_block, (*_types(block, outputs, alpha, inputs.tables, work), loss))]
    if variant == "cbow_block":
        hidden = Rows(scratch.neu1, scratch.hidden_rows, 1)
        return [
            (context_mean, _types(scratch.neu1, model.syn0, scratch.context, count, scratch.column)),
            (train_row, (*_types(hidden, outputs, alpha, inputs.tables, work), loss)),
            (add_to_context, _types(model.syn0, scratch.context, count, scratch.column, scratch.context_update)),
        ]
    return []


def _types(*values):
    return tuple(typeof(value) for value in values)
