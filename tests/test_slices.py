"""C's slices: each thread reads its own range of the corpus every epoch, as TrainModelThread does."""
import threading

import numpy as np
import pytest
from helpers import decode_ids
from numba import njit

from pyw2v.corpus.prepare import prepare_corpus
from pyw2v.options import TrainOptions
from pyw2v.train import corpus_settings
from pyw2v.training import driver, loop
from pyw2v.training.atomics import fetch_add
from pyw2v.training.driver import initial_syn0
from pyw2v.training.loop import DONE, MAX_SENTENCE_LENGTH


def _slice_words(corpus, t, share):
    """Words thread ``t`` reads an epoch, by C's rule: whole sentences from its start until more than ``share``.

    Without subsampling a sentence ends at ``</s>`` or after MAX_SENTENCE_LENGTH words.
    """
    words = decode_ids(corpus.ids, corpus.starts[t])
    if corpus.first_words[t] >= 0:
        words.insert(0, corpus.first_words[t])
    read = length = 0
    for word in words:
        read += 1
        if word != 0:
            length += 1
        if word == 0 or length >= MAX_SENTENCE_LENGTH:
            length = 0
            if read > share:
                return read
    return read


def _inputs(corpus_path, threads, iterations):
    options = TrainOptions(
        train=str(corpus_path), threads=threads, iter=iterations, size=20, cbow=0, negative=5, debug=0, fast=1,
        sample=0,
    ).validate()
    vocab, corpus = prepare_corpus(options.train, corpus_settings(options))
    return vocab, corpus, driver.loop_inputs(options, vocab, corpus, driver.new_model(options, vocab.size))


def _run_parallel(inputs):
    """Each thread's loop in its own operating-system thread, as the driver runs them."""
    count = inputs.settings.num_threads
    threads = [threading.Thread(target=loop.run_thread, args=(t, inputs)) for t in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_each_thread_reads_its_slice_every_epoch(lee_corpus, threads):
    vocab, corpus, inputs = _inputs(lee_corpus, threads, 3)
    assert corpus.starts[0] == 0 and np.all(np.diff(corpus.starts) > 0)
    _run_parallel(inputs)
    control = inputs.control
    assert control.cursors[:, DONE].all()
    share = vocab.train_words // threads
    expected = [3 * _slice_words(corpus, t, share) for t in range(threads)]
    # A thread that skipped its epochs' restarts, kept its counters across them, or read
    # another's slice would count a different number of words.
    assert list(control.words_done) == expected
    assert all(words > 3 * share for words in expected[:-1])  # the last slice ends at the corpus's end
    moved = np.linalg.norm(inputs.model.syn0[: vocab.size] - initial_syn0(vocab.size, 20), axis=1) > 1e-4
    assert moved[1:].mean() > 0.99


def test_stop_flag_ends_the_loop_unfinished(lee_corpus):
    vocab, _, inputs = _inputs(lee_corpus, 1, 1)
    inputs.control.stop[0] = 1
    loop.run_thread(0, inputs)
    assert inputs.control.words_done.sum() == 0 and not inputs.control.cursors[:, DONE].any()
    assert np.array_equal(inputs.model.syn0[: vocab.size], initial_syn0(vocab.size, 20))


@njit(nogil=True)
def _claim_all(counter, owner, t):
    while True:
        item = fetch_add(counter, 0, 1)
        if item >= len(owner):
            break
        owner[item] += t + 1


def test_fetch_add_hands_out_each_item_exactly_once():
    # The ticket lock of the hot rows' merges (pyw2v.training.atomics) stands on this.
    counter = np.zeros(1, dtype=np.int64)
    owner = np.zeros(2_000_000, dtype=np.int64)
    _claim_all(counter, np.zeros(0, dtype=np.int64), 0)  # compiled before the threads start
    counter[0] = 0
    # Two operating-system threads, as the training threads run (the function releases the GIL).
    threads = [threading.Thread(target=_claim_all, args=(counter, owner, t)) for t in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A plain read-then-write counter would hand some items to both threads (3) or skip some (0).
    assert set(np.unique(owner)) <= {1, 2}
    assert counter[0] == len(owner) + 2  # one failed claim per thread
