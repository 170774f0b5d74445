"""Skip-gram trained a window at a time (``-fast 1``), after pWord2Vec.

C's skip-gram treats each (context word, centre word) pair on its own: for
every context word it walks the centre word's Huffman path and/or draws
``negative`` fresh noise words, and updates the output rows one pair after
another. pWord2Vec (Ji et al., 2016, github IntelLabs/pWord2Vec) updates the
whole window at once. With ``X`` the ``m`` context rows of ``syn0``, ``Y``
``n`` output rows and ``alpha`` the learning rate::

    G = alpha * (labels - sigmoid(X Y^T))       (m x n)
    X += G Y        Y += G^T X                  (both from the old X and Y)

* Negative sampling: ``Y`` is the centre word's row of ``syn1neg`` (label 1)
  and the noise words' rows (label 0), drawn **once per centre word** instead
  of once per pair; saturated outputs are clamped as C clamps them.
* Hierarchical softmax: ``Y`` is the centre word's Huffman path in ``syn1``
  (label ``1 - code``), the same rows C uses for every pair of the window;
  saturated outputs give no update, as in C. Here the only change is (b).

This is the gradient C follows, except that (a) with negative sampling one
set of noise words serves all context words of a window, and (b) a window's
updates are applied together rather than pair by pair. Each output row is
loaded once per window instead of once per pair, and there are ``2 * window``
times fewer draws, which is where the speed comes from. The accuracy cost is
small (see README, *Speed*). The window shrink, the subsampling, the
sentences and the thread slices are C's, and the random stream is C's LCG;
only the number and use of the negative draws differ. Since a position draws
as a CBOW step does (its shrink, then ``negative`` noise words), a
sentence's draws are made at its first position and its rows prefetched
ahead, as for CBOW (:mod:`pyw2v.training.sentence_plan`).
"""
import numpy as np
from numba import njit

from .huffman import MAX_CODE_LENGTH
from .hot_rows import own_rows, row_of
from .outputs import negative_outputs, path_outputs
from .sentence_plan import LOOKAHEAD, plan_sentence, prefetch_ahead
from .simd import F0, add_rows, dots, output_gradient


@njit(cache=True, inline="always")
def window_words(sen, position, length, shrink, window, context, own):
    """The rows of the words around ``sen[position]`` within ``window - shrink``, in C's order, into ``context``.

    Returns their number. ``own`` is the thread's row map (:mod:`pyw2v.training.hot_rows`).
    """
    m = 0
    for a in range(shrink, 2 * window + 1 - shrink):
        c = position - window + a
        if a == window or c < 0 or c >= length:
            continue
        context[m] = row_of(np.int64(sen[c]), own)
        m += 1
    return m


@njit(cache=True, inline="always")
def skipgram_position(t, sen, position, length, alpha, next_random, model, tree, tables, settings, state):
    """Train ``sen[position]`` with slice ``t``'s scratch and planned draws; returns the random state.

    ``state`` is the kernels' :class:`~pyw2v.training.kernels.SliceState`.
    """
    shrinks, noise = state.shrinks[t], state.planned_noise[t]
    own = own_rows(t, settings)
    if position == 0:
        next_random = plan_sentence(next_random, length, settings, tables, shrinks, noise, own)
    prefetch_ahead(sen, position + LOOKAHEAD, length, model, settings, noise, own)
    scratch = (
        state.context[t], state.targets[t], state.labels[t], state.gradient[t], state.context_update[t], state.column[t]
    )
    skipgram_window(
        sen, position, length, shrinks[position], settings.window, np.int64(sen[position]), alpha, noise[position],
        own, model, tree, tables, settings, scratch,
    )
    return next_random


@njit(cache=True, inline="always")
def skipgram_window(sen, position, length, shrink, window, word, alpha, noise, own, model, tree, tables, settings, scratch):
    """Train centre word ``sen[position]`` against its window, with noise rows ``noise[:negative]``.

    ``own`` maps words to the rows this thread trains (:mod:`pyw2v.training.hot_rows`).
    """
    syn0 = model.syn0
    size = syn0.shape[1]
    context, context_update = scratch[0], scratch[4]
    m = window_words(sen, position, length, shrink, window, context, own)
    if m == 0:
        return
    train_block(syn0, context, m, word, row_of(word, own), alpha, noise, model, tree, tables, settings, scratch)
    for j in range(m):
        row = context[j]
        for c in range(size):
            syn0[row, c] += context_update[j, c]


@njit(cache=True, inline="always")
def train_block(hidden, rows, m, word, word_row, alpha, noise, model, tree, tables, settings, scratch):
    """Rows ``rows[:m]`` of ``hidden`` against ``word``'s outputs; their errors go to ``context_update[:m]``.

    The outputs are C's: the Huffman path of ``word`` and/or ``word``'s row
    ``word_row`` of ``syn1neg`` and its noise rows ``noise[:negative]`` (one
    set for all ``m`` rows).
    ``hidden`` itself is not changed.
    """
    size = hidden.shape[1]
    targets, labels, context_update = scratch[1], scratch[2], scratch[4]
    context_update[:m, :size] = F0
    if settings.hs:
        n = path_outputs(word, tree, targets, labels)
        _update_block(hidden, rows, m, model.syn1, targets, labels, n, True, alpha, tables.exp_table, scratch, size)
    if settings.negative > 0:
        n = negative_outputs(word_row, noise, settings.negative, targets, labels)
        _update_block(hidden, rows, m, model.syn1neg, targets, labels, n, False, alpha, tables.exp_table, scratch, size)


@njit(cache=True, inline="always")
def _update_block(hidden, rows, m, output, targets, labels, n, skip_saturated, alpha, exp_table, scratch, size):
    """``G = alpha (labels - sigmoid(X Y^T))``; ``context_update += G Y``; ``Y += G^T X``.

    ``X`` is rows ``rows[:m]`` of ``hidden``, ``Y`` rows ``targets[:n]`` of
    ``output``. ``skip_saturated`` is hierarchical softmax's rule (no update
    where ``|f| >= MAX_EXP``); otherwise saturated outputs are clamped to 0 or 1.
    """
    gradient, context_update, column = scratch[3], scratch[4], scratch[5]
    for j in range(m):
        dots(hidden, rows[j], output, targets, n, gradient[j], size)
        for k in range(n):
            gradient[j, k] = output_gradient(gradient[j, k], labels[k], skip_saturated, alpha, exp_table)
    for j in range(m):
        add_rows(context_update, j, output, targets, gradient[j], n, size)
    for k in range(n):
        for j in range(m):
            column[j] = gradient[j, k]
        add_rows(output, targets[k], hidden, rows, column, m, size)


def scratch_shapes(window, negative, size):
    """Per-slice scratch: context ids, output rows and labels, the gradient block, the context updates,
    and one column of the gradient block."""
    outputs = max(negative + 1, MAX_CODE_LENGTH)
    return dict(
        context=((2 * window,), np.int64),
        targets=((outputs,), np.int64),
        labels=((outputs,), np.float32),
        gradient=((2 * window, outputs), np.float32),
        context_update=((2 * window, size), np.float32),
        column=((2 * window,), np.float32),
    )
