"""CBOW off the parity path: a position's output rows updated together.

C's CBOW step averages the context rows of ``syn0`` into ``neu1``; then, for
each output row ``y`` in turn (the centre word's Huffman path, then the
centre word and its noise words), it computes ``f = neu1 . y`` and
``g = alpha (label - sigmoid(f))``, adds ``g y`` to ``neu1e`` and ``g neu1``
to ``y``; finally it adds ``neu1e`` to every context row. ``neu1`` does not
change during the output loop and the output rows are distinct, so all the
dot products can be taken first and the updates applied after: the same
values as C's loop, summed in a different order. The one exception is a
noise word drawn twice for one position: in C its second update starts from
the row the first one changed, here both start from the old row (as in the
``-fast`` skip-gram block, :mod:`pyw2v.training.window_batch`).

Taken together, the rows go three per pass (:func:`pyw2v.training.simd.dots`,
``add_rows``, ``scatter_rows``): the context rows summed into ``neu1``, the
output rows' dot products, their sum into ``neu1e``, ``neu1`` added to them,
and ``neu1e`` added to the context rows. The parity path (one thread,
without ``-fast``) keeps C's loop in :func:`pyw2v.training.kernels.train_position`.

Its draws are made for the whole sentence at the first position and its rows
prefetched ahead (:mod:`pyw2v.training.sentence_plan`); on one thread this takes some
6 % off a CBOW epoch (README, *Speed*).
"""
import numpy as np
from numba import njit

from .hot_rows import own_rows, row_of
from .outputs import negative_outputs, path_outputs
from .sentence_plan import LOOKAHEAD, plan_sentence, prefetch_ahead
from .simd import F1, add_rows, dots, output_gradient, scatter_rows
from .window_batch import window_words


@njit(cache=True, inline="always")
def cbow_position(t, sen, position, length, alpha, next_random, model, tree, tables, settings, state):
    """Train ``sen[position]`` with slice ``t``'s scratch and planned draws; returns the random state.

    ``state`` is the kernels' :class:`~pyw2v.training.kernels.SliceState`, with the
    slice's ``neu1`` and ``neu1e`` zeroed.
    """
    shrinks, noise = state.shrinks[t], state.planned_noise[t]
    own = own_rows(t, settings)
    if position == 0:
        next_random = plan_sentence(next_random, length, settings, tables, shrinks, noise, own)
    prefetch_ahead(sen, position + LOOKAHEAD, length, model, settings, noise, own)
    scratch = (state.context[t], state.column[t], state.targets[t], state.labels[t], state.gradient[t, 0])
    cbow_window(
        sen, position, length, shrinks[position], settings.window, np.int64(sen[position]), alpha, noise[position],
        own, model, tree, tables, settings, state.neu1[t : t + 1], state.neu1e[t : t + 1], scratch,
    )
    return next_random


@njit(cache=True, inline="always")
def cbow_window(sen, position, length, shrink, window, word, alpha, noise, own, model, tree, tables, settings, neu1, neu1e, scratch):
    """Train centre word ``sen[position]`` from its window's average, with noise rows ``noise[:negative]``.

    ``own`` maps words to the rows this thread trains (:mod:`pyw2v.training.hot_rows`).
    ``neu1`` and ``neu1e`` are one-row 2-D views, zeroed by the caller.
    ``scratch`` is the slice's (context ids, their coefficients (all 1),
    output rows, their labels, their gradients).
    """
    syn0 = model.syn0
    size = syn0.shape[1]
    rows, ones, targets, labels, gradient = scratch
    m = window_words(sen, position, length, shrink, window, rows, own)
    if m == 0:
        return
    ones[:m] = F1
    add_rows(neu1, 0, syn0, rows, ones, m, size)
    divisor = np.float32(m)
    for k in range(size):
        neu1[0, k] /= divisor
    if settings.hs:
        n = path_outputs(word, tree, targets, labels)
        _outputs_together(neu1, neu1e, model.syn1, targets, labels, n, True, alpha, tables.exp_table, gradient, size)
    if settings.negative > 0:
        n = negative_outputs(row_of(word, own), noise, settings.negative, targets, labels)
        _outputs_together(neu1, neu1e, model.syn1neg, targets, labels, n, False, alpha, tables.exp_table, gradient, size)
    scatter_rows(syn0, rows, ones, m, neu1e, 0, size)


@njit(cache=True, inline="always")
def _outputs_together(neu1, neu1e, output, targets, labels, n, skip_saturated, alpha, exp_table, gradient, size):
    """``g = alpha (labels - sigmoid(neu1 Y^T))``, ``neu1e += g Y``, ``Y += g^T neu1`` for ``Y`` the rows ``targets[:n]``.

    ``skip_saturated`` is hierarchical softmax's rule (a zero gradient where
    ``|f| >= MAX_EXP``, as C skips the update); otherwise saturated outputs
    are clamped to 0 or 1, as C clamps them.
    """
    dots(neu1, 0, output, targets, n, gradient, size)
    for k in range(n):
        gradient[k] = output_gradient(gradient[k], labels[k], skip_saturated, alpha, exp_table)
    add_rows(neu1e, 0, output, targets, gradient, n, size)
    scatter_rows(output, targets, gradient, n, neu1, 0, size)
