"""``-fast 1`` threads' own copies of the hot rows: the row map, the merge, and training through them."""
import threading

import numpy as np
import pytest
from numba import njit

from pyw2v.corpus.prepare import prepare_corpus
from pyw2v.options import TrainOptions
from pyw2v.train import corpus_settings
from pyw2v.training import driver, loop
from pyw2v.training.atomics import new_lock
from pyw2v.training.hot_rows import (
    NO_OWN_ROWS,
    HotRows,
    copy_hot_rows,
    first_hot_node,
    hot_rows_for,
    merge_hot_rows,
    merge_thread_copies,
    merge_when_due,
    own_rows,
    row_of,
)
from pyw2v.training.loop import Model, Settings


@njit
def _rows(words, t, hot, vocab_size):
    own = own_rows(t, hot, vocab_size)
    return [row_of(np.int64(word), own) for word in words]


@njit
def _unmapped(words):
    return [row_of(np.int64(word), NO_OWN_ROWS) for word in words]


def _settings(vocab_size, threads):
    fields = dict.fromkeys(Settings._fields, 0)
    fields.update(vocab_size=vocab_size, num_threads=threads)
    return Settings(**fields)


def test_hot_words_map_to_the_threads_own_rows():
    hot = HotRows(
        words=4, nodes=0, top_nodes=0, word_merge_words=1,
        node_merge_words=1, lower_node_merge_words=1, lock=new_lock(),
    )
    words = np.arange(10)
    assert _rows(words, 0, hot, 10) == [10, 11, 12, 13, 4, 5, 6, 7, 8, 9]
    assert _rows(words, 2, hot, 10) == [18, 19, 20, 21, 4, 5, 6, 7, 8, 9]
    assert _rows(words, 2, None, 10) == list(range(10))  # no hot rows: every word its shared row
    assert _unmapped(words) == list(range(10))


@njit
def _merge(matrix, t, hot_words, settings):
    merge_hot_rows(matrix, t, 0, hot_words, settings, 0)


def test_merges_add_every_threads_change_to_the_shared_rows():
    vocab_size, threads, hot, size = 6, 2, 2, 3
    rng = np.random.default_rng(1)
    matrix = np.zeros((vocab_size + 2 * threads * hot, size), dtype=np.float32)
    matrix[:vocab_size] = rng.normal(size=(vocab_size, size))
    copy_hot_rows(matrix, vocab_size, threads, hot)
    start = matrix.copy()
    change = rng.normal(size=(threads, hot, size)).astype(np.float32)
    for t in range(threads):
        matrix[vocab_size + t * hot : vocab_size + (t + 1) * hot] += change[t]
    settings = _settings(vocab_size, threads)
    _merge(matrix, 0, hot, settings)
    _merge(matrix, 1, hot, settings)
    np.testing.assert_allclose(matrix[:hot], start[:hot] + change[0] + change[1], rtol=0, atol=1e-6)
    assert np.array_equal(matrix[hot:vocab_size], start[hot:vocab_size])  # cold rows are nobody's copy
    # Thread 1 merged last: both its copies restart from the final shared rows, thread 0's from its own merge.
    working_1, snapshot_1 = vocab_size + hot, vocab_size + 3 * hot
    assert np.array_equal(matrix[working_1 : working_1 + hot], matrix[:hot])
    assert np.array_equal(matrix[snapshot_1 : snapshot_1 + hot], matrix[:hot])
    np.testing.assert_allclose(matrix[vocab_size : vocab_size + hot], start[:hot] + change[0], rtol=0, atol=1e-6)
    # A merge with nothing learnt since the last one changes nothing.
    before = matrix.copy()
    _merge(matrix, 1, hot, settings)
    assert np.array_equal(matrix, before)


@njit
def _merge_when_due(t, hot, model, settings, word_count, merged_at):
    return merge_when_due(t, hot, model, settings, word_count, merged_at)


@njit(nogil=True)
def _learn_and_merge(t, hot, model, settings, merges):
    """Thread ``t`` adds 1 to every element of its working copies, then merges; ``merges`` times."""
    working = settings.vocab_size + t * hot.words
    for _ in range(merges):
        for matrix in (model.syn0, model.syn1neg):
            for k in range(hot.words):
                for c in range(matrix.shape[1]):
                    matrix[working + k, c] += 1.0
        merge_thread_copies(t, hot, model, settings, True, True)


def test_merges_at_the_same_moment_lose_no_threads_change():
    # Two operating-system threads, as training runs them, merging as fast as they can: without
    # merges taking turns, both would add their change to the same old shared value and some
    # changes would be lost (the shared rows would end below 2 x merges).
    vocab_size, threads, hot, size, merges = 2048, 2, 1024, 16, 5000
    rows = vocab_size + 2 * threads * hot
    unused = np.zeros((0, size), np.float32)
    model = Model(np.zeros((rows, size), np.float32), unused, np.zeros((rows, size), np.float32))
    settings = _settings(vocab_size, threads)._replace(negative=5)
    hot_rows = HotRows(
        words=hot, nodes=0, top_nodes=0, word_merge_words=1,
        node_merge_words=1, lower_node_merge_words=1, lock=new_lock(),
    )
    _learn_and_merge(0, hot_rows, model, settings, 0)  # compiled before the threads start
    workers = [
        threading.Thread(target=_learn_and_merge, args=(t, hot_rows, model, settings, merges)) for t in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for matrix in (model.syn0, model.syn1neg):
        assert (matrix[:hot] == threads * merges).all()  # small integers: exact in float32
        assert not matrix[hot:vocab_size].any()


def test_a_thread_merges_only_once_merge_words_have_passed():
    vocab_size, threads, hot, size = 6, 2, 2, 3
    matrices = []
    for _ in range(2):
        matrix = np.zeros((vocab_size + 2 * threads * hot, size), dtype=np.float32)
        copy_hot_rows(matrix, vocab_size, threads, hot)
        matrix[vocab_size : vocab_size + hot] += 1.0  # thread 0 has learnt something
        matrices.append(matrix)
    model = Model(matrices[0], np.zeros((0, size), np.float32), matrices[1])
    settings = _settings(vocab_size, threads)._replace(negative=5)
    rows = HotRows(
        words=hot, nodes=0, top_nodes=0, word_merge_words=100,
        node_merge_words=10, lower_node_merge_words=10, lock=new_lock(),
    )
    assert _merge_when_due(0, rows, model, settings, 1_099, 1_000) == 1_000  # 99 words since: not yet
    assert not model.syn0[:hot].any() and not model.syn1neg[:hot].any()
    assert _merge_when_due(0, None, model, settings, 5_000, 1_000) == 1_000  # no hot rows: never
    assert not model.syn0[:hot].any() and not model.syn1neg[:hot].any()
    assert _merge_when_due(0, rows, model, settings, 1_100, 1_000) == 1_100
    assert (model.syn0[:hot] == 1).all() and (model.syn1neg[:hot] == 1).all()
    assert not model.syn0[hot:vocab_size].any()


def test_word_copies_merge_with_the_node_merge_that_passes_their_interval():
    # -fast with -hs: the top nodes merge every node_merge_words, the word rows only with the node
    # merge that passes a multiple of word_merge_words (merging them as often would cost speed).
    vocab_size, threads, hot, size = 6, 2, 2, 3
    syn0, syn1 = (np.zeros((vocab_size + 2 * threads * hot, size), dtype=np.float32) for _ in range(2))
    copy_hot_rows(syn0, vocab_size, threads, hot)
    copy_hot_rows(syn1, vocab_size, threads, hot, first_hot_node(vocab_size, hot))
    for matrix in (syn0, syn1):
        matrix[vocab_size : vocab_size + hot] += 1.0  # thread 0 has learnt something
    model = Model(syn0, syn1, np.zeros((0, size), np.float32))
    settings = _settings(vocab_size, threads)._replace(hs=1)
    rows = HotRows(
        words=hot, nodes=hot, top_nodes=hot, word_merge_words=100,
        node_merge_words=10, lower_node_merge_words=10, lock=new_lock(),
    )
    nodes = slice(first_hot_node(vocab_size, hot), first_hot_node(vocab_size, hot) + hot)
    assert _merge_when_due(0, rows, model, settings, 1_005, 1_000) == 1_000  # nothing due
    assert not syn1[nodes].any() and not syn0[:hot].any()
    assert _merge_when_due(0, rows, model, settings, 1_010, 1_000) == 1_010  # the nodes only
    assert (syn1[nodes] == 1).all() and not syn0[:hot].any()
    assert _merge_when_due(0, rows, model, settings, 1_100, 1_090) == 1_100  # 1,100 passed: the words too
    assert (syn0[:hot] == 1).all()
    assert not syn0[hot:vocab_size].any() and not syn1[: nodes.start].any()


def test_nodes_below_the_top_merge_less_often():
    # -fast skip-gram copies more nodes than the topmost: those below merge every lower_node_merge_words
    # (and with the word rows), while the topmost merge every node_merge_words.
    vocab_size, threads, hot, nodes, top, size = 12, 2, 2, 6, 2, 3
    syn0 = np.zeros((vocab_size + 2 * threads * hot, size), dtype=np.float32)
    syn1 = np.zeros((vocab_size + 2 * threads * nodes, size), dtype=np.float32)
    copy_hot_rows(syn0, vocab_size, threads, hot)
    copy_hot_rows(syn1, vocab_size, threads, nodes, first_hot_node(vocab_size, nodes))
    syn0[vocab_size : vocab_size + hot] += 1.0  # thread 0 has learnt something
    syn1[vocab_size : vocab_size + nodes] += 1.0
    model = Model(syn0, syn1, np.zeros((0, size), np.float32))
    settings = _settings(vocab_size, threads)._replace(hs=1)
    rows = HotRows(
        words=hot, nodes=nodes, top_nodes=top, word_merge_words=1_000, node_merge_words=10,
        lower_node_merge_words=100, lock=new_lock(),
    )
    first = first_hot_node(vocab_size, nodes)
    topmost, below = slice(first + nodes - top, first + nodes), slice(first, first + nodes - top)
    assert topmost.stop - 1 == vocab_size - 2  # the root is among the topmost
    assert _merge_when_due(0, rows, model, settings, 1_010, 1_000) == 1_010  # the topmost nodes only
    assert (syn1[topmost] == 1).all() and not syn1[below].any() and not syn0[:hot].any()
    assert _merge_when_due(0, rows, model, settings, 1_100, 1_090) == 1_100  # 1,100 passed: the nodes below
    assert (syn1[below] == 1).all() and not syn0[:hot].any()
    assert not syn1[:first].any()
    syn0[vocab_size : vocab_size + hot] += 1.0
    assert _merge_when_due(0, rows, model, settings, 2_000, 1_990) == 2_000  # 2,000 passed: the words too
    assert (syn0[:hot] == 2).all()  # both of thread 0's lessons, the first kept in its copy till now
    # The node copies restarted from the merged rows: merging them again added nothing.
    assert (syn1[first : first + nodes] == 1).all()


def test_small_corpora_merge_more_often():
    # wiki100m (16.7M words an epoch) merges every 100,000 words; the lee
    # corpus (about 60,000) at every learning-rate step, as often as it can.
    def merge_words(train_words, threads):
        return hot_rows_for(threads, 1, 0, 50_000, train_words).word_merge_words

    assert merge_words(16_694_605, threads=2) == 100_000
    assert merge_words(60_000, threads=2) * 2 * 64 <= 60_000
    assert merge_words(10, threads=4) == 1
    # The top Huffman nodes, on nearly every path, merge every 1,000 words.
    assert hot_rows_for(2, 0, 1, 50_000, 16_694_605).node_merge_words == 1_000


def test_hot_copies_only_with_several_fast_threads():
    def hot(threads, fast, hs, vocab_size=50_000):
        return hot_rows_for(threads, fast, hs, vocab_size, 10**6)

    assert hot(threads=2, fast=1, hs=0).words > 0 and hot(threads=2, fast=1, hs=0).nodes == 0
    assert hot(threads=1, fast=1, hs=1) is None
    assert hot(threads=4, fast=0, hs=0) is None
    assert hot(threads=2, fast=1, hs=0, vocab_size=30).words == 30
    # -hs with several threads, -fast or not: the top nodes, and no word rows without -fast.
    assert hot(threads=2, fast=0, hs=1).words == 0 and hot(threads=2, fast=0, hs=1).nodes == 64
    assert hot(threads=2, fast=1, hs=1, vocab_size=30).nodes == 29
    # -fast skip-gram copies 1024 nodes, the top 64 of them merged as often as the default's.
    window = hot_rows_for(2, 1, 1, 50_000, 16_694_605, window_at_once=True)
    assert (window.nodes, window.top_nodes, window.lower_node_merge_words) == (1024, 64, 10_000)
    assert (hot(threads=2, fast=1, hs=1).nodes, hot(threads=2, fast=1, hs=1).top_nodes) == (64, 64)
    assert hot_rows_for(2, 1, 1, 30, 10**6, window_at_once=True).top_nodes == 29


@pytest.mark.parametrize("cbow", [0, 1])
def test_one_thread_training_through_its_copies_is_the_shared_training(lee_corpus, cbow):
    # Thread 0 of two trains the whole corpus alone (its slice stretched to the end
    # by doubling train_words, which moves the learning rate alike in both runs):
    # through its own copies of the hot rows and the top Huffman nodes, merged every
    # few hundred words, it must learn what it learns on the shared rows. A wrong row
    # for any context, centre, noise word or path node would differ at once.
    options = TrainOptions(
        train=str(lee_corpus), threads=2, iter=2, size=16, cbow=cbow, fast=1, hs=1, negative=5, debug=0
    ).validate()
    vocab, corpus = prepare_corpus(options.train, corpus_settings(options))
    results = []
    for hot_words, hot_nodes in ((0, 0), (200, 60)):
        model = driver.new_model(options, vocab.size)
        inputs = driver.loop_inputs(options, vocab, corpus, model)
        assert inputs.hot.words > 0 and len(model.syn0) == vocab.size + 4 * inputs.hot.words
        assert inputs.hot.nodes > 0 and len(model.syn1) == vocab.size + 4 * inputs.hot.nodes
        inputs = inputs._replace(settings=inputs.settings._replace(train_words=2 * vocab.train_words))
        inputs = inputs._replace(hot=inputs.hot._replace(words=hot_words, nodes=hot_nodes))
        for matrix in (model.syn0, model.syn1neg):  # the copies' layout for this many hot words
            copy_hot_rows(matrix, vocab.size, 2, hot_words)
        copy_hot_rows(model.syn1, vocab.size, 2, hot_nodes, first_hot_node(vocab.size, hot_nodes))
        loop.run_thread(0, inputs)
        assert inputs.control.words_done[0] == options.iter * vocab.train_words  # every word, every epoch
        results.append(tuple(matrix[: vocab.size].copy() for matrix in model))
    shared, own = results
    # With no other thread merging, a merge hands the shared row the copy itself.
    assert np.abs(shared[0]).max() > 0.1 and np.abs(shared[1]).max() > 0.01
    for own_matrix, shared_matrix in zip(own, shared):
        assert np.array_equal(own_matrix, shared_matrix)
