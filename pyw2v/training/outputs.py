"""The output rows a step trains, their shared update, and the optional loss.

A step trains hidden rows ``X`` (CBOW's average of the context, one row;
or a skip-gram window's context rows of ``syn0``) against output rows ``Y``:
the centre word's Huffman path in ``syn1`` (label ``1 - code``) and/or, for
negative sampling, the centre word's row of ``syn1neg`` (label 1) and its
noise words (label 0). With ``alpha`` the learning rate, C's update of one
(hidden row, output row) pair is::

    g = alpha (label - sigmoid(x . y))      x_err += g y      y += g x

:func:`block_gradient` and :func:`update_block` apply it to all pairs of
``m`` hidden rows and ``n`` output rows at once, from the old rows
(pWord2Vec's window block)::

    G = alpha (labels - sigmoid(X Y^T))     X_err += G Y      Y += G^T X

That is C's gradient applied in a different order (C changes ``y`` before
the next hidden row sees it). It is the one update of every path but C's
exact one; CBOW is its ``m = 1`` case. Saturated outputs (``|f| >= MAX_EXP``)
get no update with hierarchical softmax and a clamped sigmoid with negative
sampling, as in C (:func:`output_gradient`).
"""
from collections import namedtuple

import numpy as np
from numba import njit

from .dispatch import by_marker
from .simd import F0, F1, FMAX, add_rows, dots, scatter_rows, sigmoid_index
from .variants import CountLoss, NoLoss


@njit(cache=True, inline="always")
def output_gradient(f, label, skip_saturated, alpha, exp_table):
    """C's ``g = (label - sigmoid(f)) * alpha`` from the table.

    Where ``|f|`` reaches ``MAX_EXP``, hierarchical softmax
    (``skip_saturated``) makes no update and negative sampling clamps the
    sigmoid to 0 or 1, as C does.
    """
    if skip_saturated and (f <= -FMAX or f >= FMAX):
        return F0
    if f > FMAX:
        return (label - F1) * alpha
    if f < -FMAX:
        return label * alpha
    return (label - exp_table[sigmoid_index(f)]) * alpha


@njit(cache=True)
def path_outputs(word, tree, targets, labels):
    """``word``'s Huffman path into ``targets[:n]`` and ``labels[:n]``; returns ``n``."""
    n = tree.lengths[word]
    for d in range(n):
        targets[d] = tree.points[word, d]
        labels[d] = F1 - np.float32(tree.codes[word, d])
    return np.int64(n)


@njit(cache=True)
def negative_outputs(word, noise, negative, targets, labels):
    """``word`` and its noise words ``noise[:negative]`` into ``targets[:n]`` and ``labels[:n]``; returns ``n``.

    C skips a noise word equal to the centre word; it is left out here.
    """
    targets[0] = word
    labels[0] = F1
    n = 1
    for d in range(negative):
        if noise[d] != word:
            targets[n] = noise[d]
            labels[n] = F0
            n += 1
    return n


# A block's hidden rows X: rows ``index[:count]`` of ``matrix``.
Rows = namedtuple("Rows", "matrix index count")
# A block's output rows Y: rows ``index[:count]`` of ``matrix`` with their ``labels``, and
# hierarchical softmax's rule ``skip_saturated`` (:func:`output_gradient`). Held in the
# tuple, the rule is a run-time value: a literal True or False argument would have
# train_block compiled once for each.
Outputs = namedtuple("Outputs", "matrix index count labels skip_saturated")
# A block's working arrays: gradient, the m x n gradients G; column, one column of G;
# update, the hidden rows' errors X_err (CBOW's neu1e is its row 0).
BlockWork = namedtuple("BlockWork", "gradient column update")


@njit(cache=True)
def train_block(hidden, output, alpha, exp_table, work, loss):
    """One block's update: :func:`block_gradient`, then :func:`update_block`.

    ``hidden`` is a :class:`Rows`, ``output`` an :class:`Outputs` and ``work``
    a :class:`BlockWork`. Compiled apart from the steps,
    with the row sums inlined into it: one call per block instead of one per
    row sum, and one compiled copy for hierarchical softmax and negative
    sampling, CBOW and skip-gram alike.
    """
    block_gradient(hidden, output, alpha, exp_table, work.gradient, loss)
    update_block(hidden, output, work)


@njit(cache=True, inline="always")
def block_gradient(hidden, output, alpha, exp_table, gradient, loss):
    """``G = alpha (labels - sigmoid(X Y^T))`` into ``gradient[:m, :n]``.

    The outputs' loss is counted from ``X Y^T`` as it becomes ``G``
    (:func:`output_loss`, at the sigmoid's index).
    """
    labels, skip_saturated = output.labels, output.skip_saturated
    size = output.matrix.shape[1]  # not hidden's: CBOW's neu1 is a padded scratch row
    m, n = hidden.count, output.count
    for j in range(m):
        dots(hidden.matrix, hidden.index[j], output.matrix, output.index, n, gradient[j], size)
    total = 0.0
    for j in range(m):
        for k in range(n):
            f = gradient[j, k]
            total = add_output_loss(loss, total, f, labels[k], skip_saturated)
            gradient[j, k] = output_gradient(f, labels[k], skip_saturated, alpha, exp_table)
    store_loss(loss, total)


@njit(cache=True, inline="always")
def update_block(hidden, output, work):
    """``X_err += G Y``; ``Y += G^T X``, with ``G`` from :func:`block_gradient`.

    With ``m = 1`` the output rows are updated three per pass
    (:func:`scatter_rows`), the same sums as one by one.
    """
    size = output.matrix.shape[1]
    m, n = hidden.count, output.count
    gradient, column, update = work.gradient, work.column, work.update
    for j in range(m):
        add_rows(update, j, output.matrix, output.index, gradient[j], n, size)
    if m == 1:
        scatter_rows(output.matrix, output.index, gradient[0], n, hidden.matrix, hidden.index[0], size)
        return
    for k in range(n):
        for j in range(m):
            column[j] = gradient[j, k]
        add_rows(output.matrix, output.index[k], hidden.matrix, hidden.index, column, m, size)


@njit(cache=True)
def _no_loss(loss, f, label, skip_saturated):
    pass


@njit(cache=True, inline="always")
def output_loss(f, label, skip_saturated, table):
    """``-log sigmoid(z)``, ``z = f`` for label 1 and ``-f`` for label 0; 0 for an output HS skips as saturated.

    An output hierarchical softmax skips is not trained and not counted.
    Inside ``[-MAX_EXP, MAX_EXP]`` the value is ``table[label]`` at C's
    sigmoid index of ``f`` (:func:`pyw2v.training.tables.loss_table`), the
    index the gradient reads the sigmoid at. Beyond, ``-log sigmoid(z)`` is
    ``-z`` (for ``z < -MAX_EXP``) or 0 to within ``log1p(exp(-MAX_EXP))``
    (0.0025): the table's end value plus the linear part. Written without
    branches: an unpredictable branch per output cost three times as much.
    """
    clamped = FMAX if f > FMAX else (-FMAX if f < -FMAX else f)
    z = f if label > F0 else -f
    value = table[np.int64(label), sigmoid_index(clamped)] + max(np.float64(-FMAX - z), 0.0)
    return 0.0 if skip_saturated and (f <= -FMAX or f >= FMAX) else value


@njit(cache=True)
def _no_output_loss(loss, total, f, label, skip_saturated):
    return total


@njit(cache=True)
def _add_output_loss(loss, total, f, label, skip_saturated):
    return total + output_loss(f, label, skip_saturated, loss.table)


@njit(cache=True)
def _no_store(loss, total):
    pass


@njit(cache=True)
def _store(loss, total):
    loss.sums[0] += total


@njit(cache=True)
def _no_word(loss):
    pass


@njit(cache=True)
def _count_word(loss):
    loss.sums[1] += 1.0


@njit(cache=True)
def _no_view(loss, t, epoch):
    return loss


@njit(cache=True)
def _epoch_view(loss, t, epoch):
    return CountLoss(loss.sums[t, epoch], loss.table)


# add_output_loss(loss, total, f, label, skip_saturated) -> total plus one output's loss; total for NoLoss.
# Small enough for LLVM to inline into the step: no call per output.
add_output_loss = by_marker("add_output_loss", {NoLoss: _no_output_loss, CountLoss: _add_output_loss})
# store_loss(loss, total): the thread's sum += total, once per step or block (a store per output would
# wait on the one before); nothing for NoLoss.
store_loss = by_marker("store_loss", {NoLoss: _no_store, CountLoss: _store})
# add_word(loss): one position trained, the loss's denominator.
add_word = by_marker("add_word", {NoLoss: _no_word, CountLoss: _count_word})
# loss_view(loss, t, epoch): the (loss, words) pair thread t adds to in this epoch.
loss_view = by_marker("loss_view", {NoLoss: _no_view, CountLoss: _epoch_view})
