"""Huffman codes, the unigram table mapping, the sigmoid table and the LCG."""
import numpy as np
import pytest
from numba import njit

from pyw2v.training.driver import initial_syn0
from pyw2v.training.exact_steps import draw_word
from pyw2v.training.huffman import build_tree
from pyw2v.training.outputs import EXP_INDEX_SCALE, exp_table
from pyw2v.training.tables import full_unigram_table, keep_thresholds, unigram_table


def test_huffman_codes_of_a_known_distribution():
    # Worked by hand from C's merge: leaves 3+2 -> node 4 (3), node 4 wins the
    # tie with leaf 1 (3 < 3 is false) -> node 5 (6), leaf 0 + node 5 -> root.
    tree = build_tree(np.array([4, 3, 2, 1]))
    codes = ["".join(str(b) for b in tree.codes[w, : tree.lengths[w]]) for w in range(4)]
    assert codes == ["0", "11", "101", "100"]
    points = [tree.points[w, : tree.lengths[w]].tolist() for w in range(4)]
    assert points == [[2], [2, 1], [2, 1, 0], [2, 1, 0]]


def test_huffman_codes_are_prefix_free_and_frequent_words_short():
    counts = np.array(sorted(np.random.default_rng(1).integers(1, 1000, 300), reverse=True))
    tree = build_tree(counts)
    codes = ["".join(map(str, tree.codes[w, : tree.lengths[w]])) for w in range(len(counts))]
    assert len(set(codes)) == len(codes)
    assert not any(a != b and b.startswith(a) for a in codes for b in codes)
    assert np.all(np.diff(tree.lengths) >= 0)


@njit
def _draw_all(starts, buckets, slots):
    return np.array([draw_word(starts, buckets, s) for s in slots])


@pytest.mark.parametrize(
    "counts, table_size",
    [
        ([300, 50, 50, 20, 7, 7, 3, 1], 1000),
        (list(range(400, 0, -1)), 5000),
        ([10**6] + [1] * 500, 2000),  # more words than slots: the tail is never drawn
    ],
)
def test_compact_unigram_table_draws_what_c_table_holds(counts, table_size):
    full = full_unigram_table(counts, table_size)
    compact = unigram_table(counts, table_size)
    np.testing.assert_array_equal(_draw_all(compact.starts, compact.buckets, np.arange(table_size)), full)


def test_exp_table_is_the_sigmoid_and_indexed_with_integer_scale():
    table = exp_table()
    x = (np.arange(1000) / 1000 * 2 - 1) * 6
    np.testing.assert_allclose(table, 1 / (1 + np.exp(-x)), rtol=1e-6)
    assert EXP_INDEX_SCALE == 83  # C's 1000 / 6 / 2 in integers, not 83.33


def lcg_reference(seed, steps):
    values, state = [], seed
    for _ in range(steps):
        state = (state * 25214903917 + 11) % 2**64
        values.append(state)
    return values


def test_initial_weights_follow_c_lcg_from_seed_one():
    size = 7
    syn0 = initial_syn0(50, size)  # 350 draws: the state wraps past 2**64 early on
    expected = [np.float32(((v & 0xFFFF) / 65536 - 0.5) / size) for v in lcg_reference(1, 350)]
    np.testing.assert_array_equal(syn0.ravel(), np.array(expected, dtype=np.float32))


def test_subsampling_threshold_matches_c_formula():
    counts = np.array([100, 3000, 17, 5])
    ran = keep_thresholds(counts, 1e-3, 3122)
    st = np.float32(1e-3) * np.float32(3122)
    # The ratio is a float, but C's sqrt works in double (np.sqrt of a float32 would not).
    expected = [np.float32((np.sqrt(np.float64(np.float32(c) / st)) + 1) * np.float64(st) / c) for c in counts]
    np.testing.assert_array_equal(ran, expected)
    assert np.isinf(keep_thresholds(counts, 0, 3122)).all()
