"""SIMD dot products against C's sequential one and numpy; the block steps against numpy and against C's steps."""
import re

import numpy as np
import pytest
from numba import jit, njit

from pyw2v.training import driver, loop
from pyw2v.training.block_steps import cbow_block, skipgram_window
from pyw2v.training.exact_steps import cbow_in_order, draw_negative, lcg_next, skipgram_in_order
from pyw2v.training.hot_rows import NO_OWN_ROWS
from pyw2v.training.huffman import build_tree
from pyw2v.training.loop import DONE, Job, Model, Settings, Tables
from pyw2v.training.outputs import (
    BlockWork,
    Outputs,
    Rows,
    Sums,
    dot_in_order,
    dots_in_order,
    exp_table,
    loss_table,
    train_block,
    train_row,
)
from pyw2v.training.sentence_plan import plan_sentence
from pyw2v.training.simd import add_rows, block_dots, block_sums, dot_simd, dots, scatter_rows
from pyw2v.training.tables import unigram_table


def _epoch_loss():
    """A thread's (loss, words) of an epoch: every step below is compiled once, with the loss counted."""
    return np.zeros(2)


@njit
def _dots(left, right, exact):
    out = np.empty(left.shape[0], dtype=np.float32)
    for row in range(left.shape[0]):
        if exact:
            out[row] = dot_in_order(left, row, right, row, left.shape[1])
        else:
            out[row] = dot_simd(left, row, right, row, left.shape[1])
    return out


@pytest.mark.parametrize("size", [1, 7, 8, 17, 100, 300])
def test_lane_dot_agrees_with_sequential_dot(size):
    rng = np.random.default_rng(size)
    left, right = rng.normal(size=(2, 50, size)).astype(np.float32)
    sequential = _dots(left, right, True)
    for row in range(3):  # C's order, element after element, in float32
        total = np.float32(0)
        for c in range(size):
            total = np.float32(total + left[row, c] * right[row, c])
        assert sequential[row] == total
    lanes = _dots(left, right, False)
    exact = (left.astype(np.float64) * right).sum(1)
    scale = np.abs(left.astype(np.float64) * right).sum(1)
    assert np.all(np.abs(lanes - exact) <= 1e-6 * scale + 1e-7)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 9, 40])
def test_a_paths_dot_products_in_order_are_cs_to_the_bit(n):
    # C's exact steps take a path's dot products six, then three rows per pass, then one: each must be
    # C's sum, bit for bit (the -threads 1 parity rests on it), every pass's and the tail's alike.
    rng = np.random.default_rng(n)
    x = rng.normal(size=(3, 100)).astype(np.float32)
    y = rng.normal(size=(50, 100)).astype(np.float32)
    rows = rng.choice(50, n, replace=False)
    out = np.full(n, np.nan, dtype=np.float32)
    dots_in_order(x, 1, y, rows, n, out, 100)
    for k in range(n):
        total = np.float32(0)
        for c in range(100):
            total = np.float32(total + x[1, c] * y[rows[k], c])
        assert out[k] == total, k


@njit
def _three_row_passes(x, x_row, y, rows, coefs, n, dst):
    out = np.zeros(n, dtype=np.float32)
    dots(x, x_row, y, rows, n, out, x.shape[1])
    add_rows(dst, 1, y, rows, coefs, n, y.shape[1])
    scatter_rows(y, rows, coefs, n, x, x_row, x.shape[1])
    return out


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("size", [5, 16, 100])
def test_three_row_passes_agree_with_numpy(n, size):
    rng = np.random.default_rng(n * 1000 + size)
    x = rng.normal(size=(4, size)).astype(np.float32)
    y = rng.normal(size=(12, size)).astype(np.float32)
    rows = rng.integers(0, 12, n)
    rows[-1] = rows[0]  # a row named twice is used twice
    coefs = rng.normal(size=n).astype(np.float32)
    dst = rng.normal(size=(3, size)).astype(np.float32)
    expected_dst = dst.astype(np.float64)
    expected_dst[1] += coefs.astype(np.float64) @ y[rows]
    expected_y = y.astype(np.float64)
    np.add.at(expected_y, rows, np.outer(coefs, x[2]))  # scatter_rows runs after add_rows has read y
    before_y = y.copy()
    out = _three_row_passes(x, 2, y, rows, coefs, n, dst)
    products = before_y[rows].astype(np.float64) * x[2]
    assert np.all(np.abs(out - products.sum(1)) <= 1e-6 * np.abs(products).sum(1) + 1e-7)
    np.testing.assert_allclose(dst, expected_dst, rtol=0, atol=1e-5)
    assert (dst[[0, 2]] == expected_dst[[0, 2]]).all()  # the other rows are untouched
    np.testing.assert_allclose(y, expected_y, rtol=0, atol=1e-5)
    untouched = np.setdiff1d(np.arange(12), rows)
    assert (y[untouched] == before_y[untouched]).all()


@njit(fastmath=True)  # the kernels inlined with fastmath, as outputs.train_block compiles them
def _blocks(x, x_rows, y, y_rows, coefs, dst, dst_rows):
    m, n, size = len(x_rows), len(y_rows), x.shape[1]
    out = np.zeros((m, n), dtype=np.float32)
    block_dots(x, x_rows, m, y, y_rows, n, out, size)
    block_sums(dst, dst_rows, m, y, y_rows, n, coefs, size)
    block_sums(y, y_rows, n, x, x_rows, m, coefs.T, size)
    return out


@pytest.mark.parametrize("m", [1, 2, 3, 5, 6, 8])
@pytest.mark.parametrize("n", [1, 2, 4, 6, 7, 11])
@pytest.mark.parametrize("size", [5, 100])
def test_window_blocks_agree_with_numpy(m, n, size):
    """The window's kernels: ``X Y^T``, ``X_err += G Y``, ``Y += G^T X``, within float32 rounding.

    An output row named twice gets both updates, each from the old rows (Y is read by the first
    two before the third writes it). A kernel that dropped a row of a pass, or a pass's last rows,
    would be off by a whole product, far outside the tolerance.
    """
    rng = np.random.default_rng(m * 100 + n * 10 + size)
    x = rng.normal(size=(12, size)).astype(np.float32)
    y = rng.normal(size=(12, size)).astype(np.float32)
    x_rows = rng.choice(12, m, replace=False)
    y_rows = rng.integers(0, 12, n)
    y_rows[-1] = y_rows[0]
    coefs = rng.normal(size=(m, n)).astype(np.float32)
    dst = rng.normal(size=(12, size)).astype(np.float32)
    dst_rows = np.arange(12)[2 : 2 + m]
    expected_out = x[x_rows].astype(np.float64) @ y[y_rows].T.astype(np.float64)
    expected_dst = dst.astype(np.float64)
    expected_dst[dst_rows] += coefs.astype(np.float64) @ y[y_rows]
    expected_y = y.astype(np.float64)
    np.add.at(expected_y, y_rows, coefs.T.astype(np.float64) @ x[x_rows])
    out = _blocks(x, x_rows, y, y_rows, coefs, dst, dst_rows)
    scale = np.sqrt(size) * m * n
    np.testing.assert_allclose(out, expected_out, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(dst, expected_dst, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(y, expected_y, rtol=0, atol=1e-6 * scale)


@njit
def _cbow_exact(job, scratch, length, position, alpha, next_random):
    return cbow_in_order(Sums(dot_in_order, dots_in_order), 0, job, scratch, length, position, alpha, next_random)


@njit
def _cbow_block(job, scratch, length, position, alpha, next_random):
    return cbow_block(Sums(dot_simd, dots), 0, job, scratch, length, position, alpha, next_random)


@njit
def _skipgram_exact(job, scratch, length, position, alpha, next_random):
    return skipgram_in_order(Sums(dot_in_order, dots_in_order), 0, job, scratch, length, position, alpha, next_random)


@njit
def _skipgram_pairs(job, scratch, length, position, alpha, next_random):
    return skipgram_in_order(Sums(dot_simd, dots), 0, job, scratch, length, position, alpha, next_random)


@njit
def _skipgram_window(job, scratch, length, position, alpha, next_random):
    return skipgram_window(Sums(dot_simd, dots), 0, job, scratch, length, position, alpha, next_random)


def _one_step(step, job, scratch, length, position, alpha, next_random):
    """One position of ``step`` (one of the runners above), as its training loop runs it, on thread 0's scratch."""
    thread_scratch = loop.Scratch(*(array[0] for array in scratch))
    return step(job, thread_scratch, length, position, alpha, next_random)


def _scratch(sen, window, negative, size, position=None, shrink=None, noise=None):
    """One thread's scratch with ``sen`` as its sentence and, at ``position``, the planned shrink and noise."""
    scratch = driver.new_scratch(1, window, negative, size)
    scratch.sen[0, : len(sen)] = sen
    if position is not None:
        scratch.shrinks[0, position] = shrink
        scratch.planned_noise[0, position, : len(noise)] = noise
    return scratch


@njit
def _draws(seed, tables, vocab_size, count):
    out = np.empty(count, dtype=np.int64)
    for k in range(count):
        out[k], seed = draw_negative(seed, tables, vocab_size)
    return out


def _batch_expectation(x, y, labels, alpha, hs):
    """The window's gradient block from float64 rows, with C's saturation rules."""
    logits = (x @ y.T).astype(np.float32)
    sigmoid = exp_table()[np.clip(((logits + 6) * 83).astype(np.int64), 0, 999)]
    gradient = alpha * (labels - np.where(logits > 6, 1.0, np.where(logits < -6, 0.0, sigmoid)))
    if hs:  # hierarchical softmax skips saturated outputs instead of clamping them
        gradient = np.where(np.abs(logits) >= 6, 0.0, gradient)
    return gradient


def _expected_loss(x, y, labels, hs):
    """Summed ``-log sigmoid(z)``: ``z`` the logit for label 1, minus it for 0; softmax skips saturated outputs."""
    logits = x @ y.T
    z = np.where(labels == 1.0, logits, -logits)
    loss = np.log1p(np.exp(-z))
    if hs:
        loss = np.where(np.abs(logits) >= 6, 0.0, loss)
    return loss.sum(), logits.size


def _toy_inputs(rng, window, hs, negative, alpha):
    """A 40-word vocabulary's Huffman tree, unigram and kernel tables, and settings for one hand-checked step."""
    vocab_size = 40
    counts = np.sort(rng.integers(1, 100, vocab_size))[::-1]
    unigram = unigram_table(counts, 10_000)
    keep = np.ones(vocab_size, np.float32)
    tables = Tables(exp_table(), loss_table(), unigram.starts, unigram.buckets, unigram.size, keep)
    settings = Settings(
        hs=hs, negative=negative, window=window, sample=0.0, vocab_size=vocab_size, train_words=1000,
        iterations=1, num_threads=1, starting_alpha=np.float32(alpha), turn_words=1,
    )
    return build_tree(counts), unigram, tables, settings


@pytest.mark.parametrize("kernel", [train_block, train_row], ids=["train_block", "train_row"])
def test_the_block_kernels_call_no_compiled_function(kernel):
    """The blocks have their row kernels inlined: around a call to a function compiled apart, Numba
    updates every array argument's reference count atomically, which cost a block a tenth of its time.

    Compiled afresh with the kernel's own options (cached code cannot be inspected); a row kernel
    made a function of its own again would show as a call in the block's LLVM IR.
    """
    options = {key: value for key, value in kernel.targetoptions.items() if key != "cache"}
    block = jit(**options)(kernel.py_func)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 8)).astype(np.float32), rng.normal(size=(6, 8)).astype(np.float32)
    rows, labels = np.arange(3), np.ones(3, dtype=np.float32)
    tables = Tables(exp_table(), loss_table(), None, None, None, None)
    work = BlockWork(np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), np.zeros((4, 8), np.float32), rows)
    block(Rows(x, rows, 1), Outputs(y, rows, 3, labels, True), np.float32(0.025), tables, work, None)
    (result,) = block.overloads.values()
    (llvm,) = block.inspect_llvm().values()
    definition = re.search(rf'^define [^\n]*@"?{re.escape(result.fndesc.llvm_func_name)}"?\(.*?^}}', llvm, re.M | re.S)
    called = set(re.findall(r'call [^\n]*?@"?(_ZN[^"(\s]*)', definition.group(0)))
    assert not called, called


@pytest.mark.parametrize("hs, negative", [(0, 4), (1, 0), (1, 4)])
def test_window_update_is_the_batched_gradient(hs, negative):
    rng = np.random.default_rng(3 + hs)
    size, window = 16, 3
    tree, unigram, tables, settings = _toy_inputs(rng, window, hs=hs, negative=negative, alpha=0.025)
    vocab_size = settings.vocab_size
    syn0 = rng.normal(scale=0.5, size=(vocab_size, size)).astype(np.float32)
    syn0[9] *= 8  # some of this row's outputs saturate: clamped (negative sampling) or skipped (softmax)
    syn1, syn1neg = rng.normal(scale=0.5, size=(2, vocab_size, size)).astype(np.float32)
    sen = np.array([5, 9, 12, 9, 30, 7], dtype=np.int32)
    position, shrink, alpha = 2, 1, np.float32(0.025)
    draws = _draws(np.uint64(77), tables, vocab_size, max(negative, 1))
    word = int(sen[position])
    context = [int(sen[c]) for c in range(position - 2, position + 3) if c != position and 0 <= c < len(sen)]
    x = syn0[context].astype(np.float64)
    expected_syn0 = syn0.astype(np.float64)
    expected_syn1, expected_syn1neg = syn1.astype(np.float64), syn1neg.astype(np.float64)
    expected_loss, outputs = 0.0, 0
    if hs:
        path = list(tree.points[word, : tree.lengths[word]])
        labels = 1.0 - tree.codes[word, : len(path)]
        gradient = _batch_expectation(x, syn1[path].astype(np.float64), labels, alpha, True)
        expected_loss, outputs = _expected_loss(x, syn1[path].astype(np.float64), labels, True)
        assert (gradient == 0).any() and (gradient != 0).any()
        np.add.at(expected_syn0, context, gradient @ syn1[path].astype(np.float64))
        np.add.at(expected_syn1, path, gradient.T @ x)
    if negative:
        targets = [word] + [w for w in draws if w != word]
        labels = np.array([1.0] + [0.0] * (len(targets) - 1))
        gradient = _batch_expectation(x, syn1neg[targets].astype(np.float64), labels, alpha, False)
        np.add.at(expected_syn0, context, gradient @ syn1neg[targets].astype(np.float64))
        np.add.at(expected_syn1neg, targets, gradient.T @ x)
        loss, count = _expected_loss(x, syn1neg[targets].astype(np.float64), labels, False)
        expected_loss, outputs = expected_loss + loss, outputs + count

    # At a position past 0 the block step trains with the shrink and noise planned for it.
    scratch = _scratch(sen, window, negative, size, position, shrink, draws[:negative])
    loss = _epoch_loss()
    job = Job(Model(syn0, syn1, syn1neg), tree, tables, settings, loss, None)
    before = syn0.copy()
    after = _one_step(_skipgram_window, job, scratch, len(sen), position, alpha, np.uint64(5))
    assert after == 5  # nothing is drawn past a sentence's first position
    assert loss[1] == 1.0  # one position trained
    assert abs(loss[0] - expected_loss) <= 0.013 * outputs  # the loss table's step, per output
    np.testing.assert_allclose(syn0, expected_syn0, rtol=0, atol=1e-6)
    np.testing.assert_allclose(syn1, expected_syn1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(syn1neg, expected_syn1neg, rtol=0, atol=1e-6)
    assert np.abs(syn0 - before).max() > 1e-3  # the update is far larger than the tolerance
    moved = np.flatnonzero(np.abs(syn0 - before).sum(1) > 0)
    assert set(moved) <= set(context)


@pytest.mark.parametrize("hs, negative", [(0, 4), (1, 0), (1, 4)])
def test_cbow_step_updates_outputs_from_the_old_rows(hs, negative):
    rng = np.random.default_rng(11)
    size, window = 16, 3
    tree, unigram, tables, settings = _toy_inputs(rng, window, hs=hs, negative=negative, alpha=0.05)
    vocab_size = settings.vocab_size
    syn0, syn1, syn1neg = rng.normal(scale=0.5, size=(3, vocab_size, size)).astype(np.float32)
    sen = np.array([5, 9, 12, 9, 30, 7], dtype=np.int32)  # word 9 twice in the window
    position, shrink, alpha = 2, 0, np.float32(0.05)
    draws = _draws(np.uint64(1), tables, vocab_size, negative)
    word = int(sen[position])
    context = [int(sen[c]) for c in range(position - 3, position + 4) if c != position and 0 <= c < len(sen)]
    hidden = syn0[context].astype(np.float64).mean(0, keepdims=True)
    syn1[tree.points[word, 0]] = hidden[0] * (10 / (hidden[0] @ hidden[0]))  # f = 10: softmax skips this node
    expected_syn0 = syn0.astype(np.float64)
    expected_syn1, expected_syn1neg = syn1.astype(np.float64), syn1neg.astype(np.float64)
    error = np.zeros((1, size))
    expected_loss, outputs = 0.0, 0
    if hs:
        path = list(tree.points[word, : tree.lengths[word]])
        labels = 1.0 - tree.codes[word, : len(path)]
        gradient = _batch_expectation(hidden, syn1[path].astype(np.float64), labels, alpha, True)
        expected_loss, outputs = _expected_loss(hidden, syn1[path].astype(np.float64), labels, True)
        assert gradient[0, 0] == 0 and (gradient != 0).any()
        error += gradient @ syn1[path].astype(np.float64)
        np.add.at(expected_syn1, path, gradient.T @ hidden)
    if negative:
        assert word in draws and len(set(draws)) < len(draws)  # C skips the centre word; one word drawn twice
        targets = [word] + [w for w in draws if w != word]
        labels = np.array([1.0] + [0.0] * (len(targets) - 1))
        gradient = _batch_expectation(hidden, syn1neg[targets].astype(np.float64), labels, alpha, False)
        error += gradient @ syn1neg[targets].astype(np.float64)
        np.add.at(expected_syn1neg, targets, gradient.T @ hidden)  # a word drawn twice: both from the old row
        loss, count = _expected_loss(hidden, syn1neg[targets].astype(np.float64), labels, False)
        expected_loss, outputs = expected_loss + loss, outputs + count
    np.add.at(expected_syn0, context, np.repeat(error, len(context), 0))

    scratch = _scratch(sen, window, negative, size, position, shrink, draws)
    loss = _epoch_loss()
    job = Job(Model(syn0, syn1, syn1neg), tree, tables, settings, loss, None)
    before = syn0.copy()
    _one_step(_cbow_block, job, scratch, len(sen), position, alpha, np.uint64(5))
    assert loss[1] == 1.0 and abs(loss[0] - expected_loss) <= 0.013 * outputs  # the loss table's step, per output
    assert scratch.hidden_rows[0, 0] == 0
    # The block's hidden row and its error.
    neu1, neu1e = scratch.neu1[0, :, :size], scratch.context_update[0, :1, :size]
    np.testing.assert_allclose(neu1[0], hidden[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(neu1e, error, rtol=0, atol=1e-6)
    np.testing.assert_allclose(syn0, expected_syn0, rtol=0, atol=1e-6)
    np.testing.assert_allclose(syn1, expected_syn1, rtol=0, atol=1e-6)
    np.testing.assert_allclose(syn1neg, expected_syn1neg, rtol=0, atol=1e-6)
    assert np.abs(syn0[9] - before[9]).max() > 1e-3  # the update is far larger than the tolerance
    assert set(np.flatnonzero(np.abs(syn0 - before).sum(1) > 0)) == set(context)


@pytest.mark.parametrize("hs, negative", [(0, 5), (1, 0), (1, 5)])
def test_cbow_block_is_cs_cbow_step_up_to_rounding(hs, negative):
    # From the same random state at a sentence's first position, C's CBOW step
    # draws the shrink and then the noise words; the block plans the sentence
    # there, the same draws first, so both train the same outputs. Only the
    # order of the float sums differs.
    rng = np.random.default_rng(23)
    size, window = 16, 3
    tree, unigram, tables, settings = _toy_inputs(rng, window, hs=hs, negative=negative, alpha=0.05)
    weights = rng.normal(scale=0.5, size=(3, settings.vocab_size, size)).astype(np.float32)
    sen = np.array([5, 9, 12, 9, 30, 7], dtype=np.int32)
    alpha, seed = np.float32(0.05), np.uint64(1)
    # A noise word drawn twice is the one case where the two differ by more than rounding
    # (C's second update reads the first one's row): start where the first position's noise words are distinct.
    while True:
        draws = _draws(np.uint64(lcg_next(seed)), tables, settings.vocab_size, 5)
        if len(set(draws)) == 5:
            break
        seed = np.uint64(seed + np.uint64(1))
    results = []
    for step in (_cbow_exact, _cbow_block):
        syn0, syn1, syn1neg = weights.copy()
        scratch = _scratch(sen, window, negative, size)
        job = Job(Model(syn0, syn1, syn1neg), tree, tables, settings, _epoch_loss(), None)
        _one_step(step, job, scratch, len(sen), 0, alpha, seed)
        results.append((Model(syn0, syn1, syn1neg), scratch))
    (exact, exact_scratch), (block, block_scratch) = results
    assert np.array_equal(exact_scratch.context, block_scratch.context)  # the same shrink
    if negative:
        noise = block_scratch.planned_noise[0, 0, :negative]
        assert np.array_equal(exact_scratch.negatives[0, :negative], noise)
        assert list(noise) == list(draws)
    for ours, theirs in zip(block, exact):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    assert np.abs(exact.syn0 - weights[0]).max() > 1e-3  # the update is far larger than the tolerance


@pytest.mark.parametrize("hs, negative", [(0, 5), (1, 0), (1, 5)])
def test_skipgram_pairs_are_cs_skipgram_step_up_to_rounding(hs, negative):
    # Several threads' skip-gram is C's step with its dot products summed in SIMD lanes: C's draws at
    # C's points (the shrink, then every pair's noise words), C's values up to rounding. Distinct noise
    # words per pair keep the comparison free of the one order-dependent case. The centre word's path
    # runs through the root for every pair, so a stale output row would show far above rounding.
    rng = np.random.default_rng(31)
    size, window = 16, 3
    tree, unigram, tables, settings = _toy_inputs(rng, window, hs=hs, negative=negative, alpha=0.025)
    weights = rng.normal(scale=0.5, size=(3, settings.vocab_size, size)).astype(np.float32)
    sen = np.array([5, 9, 12, 9, 30, 7], dtype=np.int32)
    alpha, seed = np.float32(0.025), np.uint64(1)
    while True:
        draws = _draws(np.uint64(lcg_next(seed)), tables, settings.vocab_size, 30)
        if all(len(set(draws[k : k + 5])) == 5 for k in range(0, 30, 5)):
            break
        seed = np.uint64(seed + np.uint64(1))
    results = []
    for step in (_skipgram_exact, _skipgram_pairs):
        syn0, syn1, syn1neg = weights.copy()
        scratch = _scratch(sen, window, negative, size)
        job = Job(Model(syn0, syn1, syn1neg), tree, tables, settings, _epoch_loss(), None)
        after = _one_step(step, job, scratch, len(sen), 2, alpha, seed)
        results.append((Model(syn0, syn1, syn1neg), scratch, after))
    (exact, exact_scratch, exact_after), (pairs, pairs_scratch, pairs_after) = results
    assert exact_after == pairs_after  # the same draws
    assert np.array_equal(exact_scratch.context, pairs_scratch.context)
    assert np.array_equal(exact_scratch.negatives, pairs_scratch.negatives)
    for ours, theirs in zip(pairs, exact):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)
    assert np.abs(exact.syn0 - weights[0]).max() > 1e-3  # the update is far larger than the tolerance


@pytest.mark.parametrize("step", [_cbow_exact, _cbow_block], ids=["exact", "block"])
def test_cbow_steps_use_only_the_models_columns(step):
    # CBOW's hidden row is scratch.neu1, padded past the model's size (thread_rows): a step that
    # read its padding would also read and write past the end of output rows. Two spare rows after
    # the model's keep any such overrun inside the buffer compared here.
    rng = np.random.default_rng(29)
    size, window = 16, 3
    tree, _, tables, settings = _toy_inputs(rng, window, hs=1, negative=5, alpha=0.05)
    weights = rng.normal(scale=0.5, size=(3, settings.vocab_size + 2, size)).astype(np.float32)
    sen = np.array([5, 9, 12, 9, 30, 7], dtype=np.int32)
    results = []
    for padding in (0.0, 1.0):
        buffers = weights.copy()
        scratch = _scratch(sen, window, 5, size)
        scratch.neu1[0, :, size:] = padding
        model = Model(*(matrix[: settings.vocab_size] for matrix in buffers))
        job = Job(model, tree, tables, settings, _epoch_loss(), None)
        _one_step(step, job, scratch, len(sen), 0, np.float32(0.05), np.uint64(1))
        results.append(buffers)
    assert not np.array_equal(results[0], weights)  # the step trained
    assert np.array_equal(results[0], results[1])


@njit
def _plan(seed, length, settings, tables, shrinks, noise):
    return plan_sentence(seed, length, settings, tables, shrinks, noise, NO_OWN_ROWS)


@pytest.mark.parametrize("length", [1, 2, 7])
def test_sentence_plan_is_cs_draws_in_cs_order(length):
    rng = np.random.default_rng(5)
    window, negative = 4, 3
    _, unigram, tables, settings = _toy_inputs(rng, window, hs=0, negative=negative, alpha=0.025)
    shrinks = np.full(10, -1, np.int64)
    noise = np.full((10, negative), -1, np.int64)
    after = _plan(np.uint64(99), length, settings, tables, shrinks, noise)
    # C's order, one position after another: the window shrink, then (with a context word) the noise words.
    state = np.uint64(99)
    for p in range(length):
        state = np.uint64(lcg_next(state))  # kept uint64: numba types a Python int as int64
        assert shrinks[p] == int(state) % window
        if length > 1:
            expected = _draws(state, tables, settings.vocab_size, negative)
            assert list(noise[p]) == list(expected)
            for _ in range(negative):
                state = np.uint64(lcg_next(state))
    assert np.uint64(after) == state
    if length == 1:  # a one-word sentence has no context, so no noise words are drawn
        assert (noise == -1).all()
    assert (shrinks[length:] == -1).all() and (noise[length:] == -1).all()


def _lee_inputs(lee_corpus, **settings):
    """A one-thread run's loop inputs on the lee corpus."""
    from pyw2v.corpus.prepare import prepare_corpus
    from pyw2v.options import TrainOptions
    from pyw2v.train import corpus_settings

    options = TrainOptions(train=str(lee_corpus), threads=1, size=16, iter=2, debug=0, **settings).validate()
    vocab, corpus = prepare_corpus(options.train, corpus_settings(options))
    return driver.loop_inputs(options, vocab, corpus, driver.new_model(options, vocab.size))


def _run_threads(inputs):
    """Each thread's loop once, one after another (thread 0 first)."""
    for t in range(inputs.settings.num_threads):
        loop.run_thread(t, inputs)


@pytest.mark.parametrize("cbow", [0, 1])
def test_pausing_and_resuming_changes_nothing(lee_corpus, cbow):
    whole = _lee_inputs(lee_corpus, cbow=cbow, hs=1)
    _run_threads(whole)
    paused = _lee_inputs(lee_corpus, cbow=cbow, hs=1)
    paused = paused._replace(settings=paused.settings._replace(turn_words=777))
    control = paused.control
    calls = 0
    while not control.cursors[:, DONE].all():
        _run_threads(paused)
        calls += 1
    assert calls > 50
    for ours, theirs in zip(paused.model, whole.model):
        np.testing.assert_array_equal(ours, theirs)


def test_stop_flag_ends_the_run_at_once(lee_corpus):
    inputs = _lee_inputs(lee_corpus)
    model, control = inputs.model, inputs.control
    before = model.syn0.copy()
    control.stop[0] = 1
    _run_threads(inputs)
    assert not control.cursors[:, DONE].any()
    np.testing.assert_array_equal(model.syn0, before)
