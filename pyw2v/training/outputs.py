"""The output maths: C's sigmoid table, the gradient of an output, its update, and the optional loss.

A step trains hidden rows ``x`` (CBOW's context mean ``neu1``, or a
skip-gram context row of ``syn0``) against output rows ``y``: the centre
word's Huffman path in ``syn1`` (label ``1 - code``) and/or, for negative
sampling, the centre word's row of ``syn1neg`` (label 1) and its noise
words' (label 0). With ``alpha`` the learning rate, C's update of a pair is::

    f = x . y      g = alpha (label - sigmoid(f))      neu1e += g y      y += g x

``sigmoid`` is read from C's table (:func:`exp_table`) at C's index
(:func:`sigmoid_index`). An output is *saturated* when ``|f| >= MAX_EXP``
(:func:`saturated`): hierarchical softmax skips it, negative sampling clamps
its sigmoid to 0 or 1. :func:`update_pair` is C's pair update, element by
element; :func:`train_block` applies the same gradient to all pairs of ``m``
hidden and ``n`` output rows from the old rows (the block steps)::

    G = alpha (labels - sigmoid(X Y^T))     X_err += G Y      Y += G^T X

The loss (``-loss 1``) is ``-log sigmoid(f)`` for label 1 and
``-log sigmoid(-f)`` for label 0, summed over the outputs trained into the
thread's ``loss`` pair (loss, words), None when it is not counted.
"""
from collections import namedtuple

import numpy as np
from numba import njit

from .simd import add_rows, block_dots, block_sums, row_dots, scatter_rows

EXP_TABLE_SIZE = 1000
MAX_EXP = 6
# C writes EXP_TABLE_SIZE / MAX_EXP / 2 in integer arithmetic: 83, not 83.33.
EXP_INDEX_SCALE = EXP_TABLE_SIZE // MAX_EXP // 2

F0 = np.float32(0.0)
F1 = np.float32(1.0)
FMAX = np.float32(MAX_EXP)
FSCALE = np.float32(EXP_INDEX_SCALE)


def exp_table():
    """C's expTable: ``e / (e + 1)`` with ``e = exp((i / 1000 * 2 - 1) * 6)``, C's float/double mix."""
    f32 = np.float32
    index = np.arange(EXP_TABLE_SIZE, dtype=np.float32)
    x = (index / f32(EXP_TABLE_SIZE) * f32(2) - f32(1)) * f32(MAX_EXP)
    e = np.exp(x.astype(np.float64)).astype(np.float32)
    return e / (e + f32(1))


def loss_table():
    """``-log sigmoid(z)`` (row 1, label 1) and ``-log sigmoid(-z)`` (row 0) at C's index points ``z``."""
    z = np.arange(2 * MAX_EXP * EXP_INDEX_SCALE + 1) / EXP_INDEX_SCALE - MAX_EXP
    return np.stack([np.log1p(np.exp(z)), np.log1p(np.exp(-z))])


@njit(cache=True, inline="always")
def sigmoid_index(f):
    """C's ``(int)((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2))``."""
    return np.int64((f + FMAX) * FSCALE)


@njit(cache=True, inline="always")
def saturated(f):
    """C's test for an output outside the table: ``f <= -MAX_EXP || f >= MAX_EXP``."""
    return f <= -FMAX or f >= FMAX


@njit(cache=True)
def dot_in_order(left, left_row, right, right_row, size):
    """Row dot product summed one element after another in float32, as C does."""
    f = F0
    for c in range(size):
        f += left[left_row, c] * right[right_row, c]
    return f


@njit(cache=True)
def dots_in_order(x, x_row, y, rows, n, out, size):
    """``out[k] = x[x_row] . y[rows[k]]`` for ``k < n``, each summed as :func:`dot_in_order` sums it.

    Six rows per pass (then three, then one): each sum keeps C's order, so
    the values are C's to the bit, while six independent sums hide each
    other's latency (a float add waits for the last; two can start per cycle).
    """
    k = 0
    while k + 6 <= n:
        r0, r1, r2, r3, r4, r5 = rows[k], rows[k + 1], rows[k + 2], rows[k + 3], rows[k + 4], rows[k + 5]
        f0, f1, f2, f3, f4, f5 = F0, F0, F0, F0, F0, F0
        for c in range(size):
            value = x[x_row, c]
            f0 += value * y[r0, c]
            f1 += value * y[r1, c]
            f2 += value * y[r2, c]
            f3 += value * y[r3, c]
            f4 += value * y[r4, c]
            f5 += value * y[r5, c]
        out[k], out[k + 1], out[k + 2], out[k + 3], out[k + 4], out[k + 5] = f0, f1, f2, f3, f4, f5
        k += 6
    while k + 3 <= n:
        r0, r1, r2 = rows[k], rows[k + 1], rows[k + 2]
        f0, f1, f2 = F0, F0, F0
        for c in range(size):
            value = x[x_row, c]
            f0 += value * y[r0, c]
            f1 += value * y[r1, c]
            f2 += value * y[r2, c]
        out[k], out[k + 1], out[k + 2] = f0, f1, f2
        k += 3
    while k < n:
        out[k] = dot_in_order(x, x_row, y, rows[k], size)
        k += 1


# A step's dot products: ``dot(x, x_row, y, y_row, size)`` for one pair of rows, ``dots(x, x_row, y,
# rows, n, out, size)`` for one row against several. C's exact steps take dot_in_order and
# dots_in_order, several threads' the SIMD kernels of pyw2v.training.simd.
Sums = namedtuple("Sums", "dot dots")


@njit(cache=True, inline="always")
def output_gradient(f, label, skip_saturated, alpha, exp_table):
    """C's ``g = (label - sigmoid(f)) * alpha``; a saturated output gets 0 if ``skip_saturated``, else a clamp."""
    if skip_saturated and saturated(f):
        return F0
    if f > FMAX:
        return (label - F1) * alpha
    if f < -FMAX:
        return label * alpha
    return (label - exp_table[sigmoid_index(f)]) * alpha


@njit(cache=True, inline="always")
def update_pair(g, output, target, hidden, hidden_row, neu1e, size):
    """C's update of one (hidden row, output row) pair: ``neu1e += g y``, then ``y += g x``."""
    for c in range(size):
        neu1e[c] += g * output[target, c]
    for c in range(size):
        output[target, c] += g * hidden[hidden_row, c]


@njit(cache=True, inline="always")
def output_loss(f, label, skip_saturated, table):
    """``-log sigmoid(z)``, ``z = f`` for label 1 else ``-f``, within 0.013; 0 for a skipped output."""
    # The table at C's index of f (clamped), plus the linear part -z beyond MAX_EXP; no unpredictable branch.
    clamped = FMAX if f > FMAX else (-FMAX if f < -FMAX else f)
    z = f if label > F0 else -f
    value = table[np.int64(label), sigmoid_index(clamped)] + max(np.float64(-FMAX - z), 0.0)
    return 0.0 if skip_saturated and saturated(f) else value


@njit(cache=True)
def add_output_loss(loss, total, f, label, skip_saturated, table):
    """``total`` plus one output's :func:`output_loss`; ``total`` itself when the loss is not counted.

    ``loss`` is None when it is not counted: Numba then compiles this
    function (and :func:`store_loss`, :func:`add_word`) to nothing, so a run
    without ``-loss`` compiles and runs no loss code.
    """
    if loss is None:
        return total
    return total + output_loss(f, label, skip_saturated, table)


@njit(cache=True)
def store_loss(loss, total):
    """Add ``total`` to the thread's loss sum ``loss[0]``, once per step or block (a store per output would wait)."""
    if loss is not None:
        loss[0] += total


@njit(cache=True)
def add_word(loss):
    """Count one position trained in ``loss[1]``, the loss's denominator."""
    if loss is not None:
        loss[1] += 1.0


def loss_sums(threads, iterations, counted):
    """Each thread's and epoch's (loss, words trained), padded against false sharing; None if not ``counted``."""
    if not counted:
        return None
    return np.zeros((threads, iterations, 2 + 128 // 8))


# A block's hidden rows X: rows ``index[:count]`` of ``matrix``.
Rows = namedtuple("Rows", "matrix index count")
# A block's output rows Y: rows ``index[:count]`` of ``matrix``, their ``labels``, and whether
# saturated outputs are skipped (HS) or clamped (NS). A run-time value in the tuple, so that
# train_block is compiled once for both.
Outputs = namedtuple("Outputs", "matrix index count labels skip_saturated")
# A block's working arrays: the m x n gradients G and their transpose, X_err (CBOW's neu1e is its
# row 0), and the row numbers 0, 1, 2, ... of X_err.
BlockWork = namedtuple("BlockWork", "gradient gradient_t update update_rows")


@njit(cache=True)
def path_outputs(word, tree, targets, labels):
    """``word``'s Huffman path into ``targets[:n]``, labels ``1 - code``; returns ``n``."""
    n = tree.lengths[word]
    for d in range(n):
        targets[d] = tree.points[word, d]
        labels[d] = F1 - np.float32(tree.codes[word, d])
    return np.int64(n)


@njit(cache=True)
def negative_outputs(word, noise, negative, targets, labels):
    """``word`` (label 1) and its noise words ``noise[:negative]`` (label 0), less those equal to ``word`` as in C."""
    targets[0] = word
    labels[0] = F1
    n = 1
    for d in range(negative):
        if noise[d] != word:
            targets[n] = noise[d]
            labels[n] = F0
            n += 1
    return n


@njit(cache=True, inline="always")
def output_gradients(gradient, m, n, output, alpha, tables, loss):
    """``gradient[:m, :n]``, the dot products ``X Y^T``, becomes ``G``; the outputs' loss is stored."""
    total = 0.0
    for j in range(m):
        for k in range(n):
            f = gradient[j, k]
            total = add_output_loss(loss, total, f, output.labels[k], output.skip_saturated, tables.loss_table)
            gradient[j, k] = output_gradient(f, output.labels[k], output.skip_saturated, alpha, tables.exp_table)
    store_loss(loss, total)


@njit(cache=True, fastmath=True)
def train_row(hidden, output, alpha, tables, work, loss):
    """:func:`train_block` for one hidden row (CBOW's ``neu1``), three output rows per pass.

    The same sums as C's pair updates taken one by one; compiled apart so that
    a CBOW run compiles none of the block kernels, and like :func:`train_block`
    with ``fastmath`` and its row kernels inlined: it calls no function.
    """
    size = output.matrix.shape[1]  # not hidden's: CBOW's neu1 is a padded scratch row
    n, g = output.count, work.gradient[0]
    row_dots(hidden.matrix, hidden.index[0], output.matrix, output.index, n, g, size)
    output_gradients(work.gradient, 1, n, output, alpha, tables, loss)
    add_rows(work.update, 0, output.matrix, output.index, g, n, size)
    scatter_rows(output.matrix, output.index, g, n, hidden.matrix, hidden.index[0], size)


@njit(cache=True, fastmath=True)
def train_block(hidden, output, alpha, tables, work, loss):
    """``G = alpha (labels - sigmoid(X Y^T))``, then ``X_err += G Y`` and ``Y += G^T X``.

    ``hidden`` is :class:`Rows`, ``output`` :class:`Outputs`, ``work``
    :class:`BlockWork` (``X_err`` is rows ``0 .. m-1`` of ``work.update``),
    ``tables`` the run's sigmoid and loss tables. Two hidden by four output
    rows per pass (:func:`.simd.block_dots`, :func:`.simd.block_sums`);
    ``G^T`` is copied into ``work.gradient_t`` so that both sums are one
    :func:`.simd.block_sums`. Any ``m`` works; CBOW's one row takes
    :func:`train_row`, which compiles none of the block kernels.

    Compiled apart from the steps (one call per block), with ``fastmath``
    and the row kernels inlined, so that the block calls no function: around
    a call, Numba updates the reference count of every array it passes, an
    atomic instruction each, and the calls to the kernels compiled apart
    cost a tenth of the block's time. ``fastmath`` lets LLVM split the dot
    products into SIMD lanes and fuse multiply-adds, so the dot products
    differ from C's by float32 rounding, as the block's order already makes
    them, and a sigmoid's table index may differ by one at a step's edge.
    """
    m, n = hidden.count, output.count
    size = output.matrix.shape[1]
    gradient, gradient_t = work.gradient, work.gradient_t
    block_dots(hidden.matrix, hidden.index, m, output.matrix, output.index, n, gradient, size)
    output_gradients(gradient, m, n, output, alpha, tables, loss)
    for j in range(m):
        for k in range(n):
            gradient_t[k, j] = gradient[j, k]
    block_sums(work.update, work.update_rows, m, output.matrix, output.index, n, gradient, size)
    block_sums(output.matrix, output.index, n, hidden.matrix, hidden.index, m, gradient_t, size)
