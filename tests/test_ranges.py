"""Corpus sources: ``-fast 1``'s parts at id boundaries, every item once, and C's slice loop with one thread."""
import threading

import numpy as np
import pytest
from numba import njit

from pyw2v.corpus.encoding import StreamWriter, read_id
from pyw2v.corpus.prepare import prepare_corpus
from pyw2v.options import TrainOptions
from pyw2v.train import corpus_settings
from pyw2v.training import driver, loop
from pyw2v.training.atomics import fetch_add
from pyw2v.training.driver import initial_syn0
from pyw2v.training.loop import DONE


@njit
def _decode(ids, start, end):
    out = []
    while start < end:
        word, start = read_id(ids, start)
        out.append(word)
    return out


@pytest.mark.parametrize("parts", [1, 2, 7, 64, 500])
def test_parts_start_at_ids_and_cover_the_stream(parts):
    rng = np.random.default_rng(parts)
    words = rng.choice([0, 5, 127, 128, 300, 20_000, 3_000_000], size=200)  # 1 to 4 bytes each
    writer = StreamWriter(16)
    writer(words)
    ids, _ = writer.finish([])
    offsets = driver.part_offsets(ids, parts)
    assert len(offsets) == parts + 1 and offsets[0] == 0 and offsets[-1] == len(ids)
    assert np.all(np.diff(offsets) >= 0)
    assert all(o == 0 or ids[o - 1] < 128 for o in offsets)  # never inside an id
    decoded = [w for p in range(parts) for w in _decode(ids, offsets[p], offsets[p + 1])]
    assert decoded == list(words)


@pytest.mark.parametrize("parts, lanes", [(1, 1), (6, 1), (6, 2), (12, 3), (2, 2)])
def test_items_visit_every_part_once_an_epoch_alternating_lanes(parts, lanes):
    per_lane = parts // lanes
    for epoch in range(2):
        order = [loop.item_part(epoch * parts + step, parts, lanes) for step in range(parts)]
        assert sorted(order) == list(range(parts))
        lane_of = [part // per_lane for part in order]
        assert all(lane_of[k] != lane_of[k + 1] for k in range(parts - 1)) or lanes == 1
        for lane in range(lanes):  # each lane in reading order
            assert [p for p in order if p // per_lane == lane] == list(range(lane * per_lane, (lane + 1) * per_lane))


@njit(nogil=True)
def _claim_all(counter, owner, t):
    while True:
        item = fetch_add(counter, 0, 1)
        if item >= len(owner):
            break
        owner[item] += t + 1


def test_fetch_add_hands_out_each_item_exactly_once():
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


def _inputs(corpus_path, threads, iterations):
    """The vocabulary, the corpus, and a function that makes -fast's loop inputs with a source of one's choice."""
    options = TrainOptions(
        train=str(corpus_path), threads=threads, iter=iterations, size=20, cbow=0, negative=5, debug=0, fast=1
    ).validate()
    vocab, corpus = prepare_corpus(options.train, corpus_settings(options))

    def inputs(shared_queue, part_bytes=driver.PART_BYTES):
        fresh = driver.loop_inputs(options, vocab, corpus, driver.new_model(options, vocab.size))
        source, cursors = driver.corpus_source(corpus, threads, shared_queue, part_bytes)
        return fresh._replace(source=source, control=fresh.control._replace(cursors=cursors))

    return vocab, corpus, inputs


def _run_serial(inputs):
    """Each thread's loop to its end, one after another: thread 0 takes every item it can first."""
    for t in range(inputs.settings.num_threads):
        loop.run_thread(t, inputs)


def _run_parallel(inputs):
    """Each thread's loop in its own operating-system thread, as the driver runs them."""
    count = inputs.settings.num_threads
    threads = [threading.Thread(target=loop.run_thread, args=(t, inputs)) for t in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture(scope="module")
def one_line_corpus(tmp_path_factory, lee_corpus):
    path = tmp_path_factory.mktemp("queue") / "one-line.txt"
    # One newline, at the end: C then trains the last sentence rather than dropping it at end of file.
    path.write_bytes(lee_corpus.read_bytes().replace(b"\n", b" ") + b"\n")
    return path


def test_one_part_one_thread_is_c_slice_loop(one_line_corpus):
    # No blank sentence in one line, no sentence cut at the end: with one part only the scheduler differs.
    _, corpus, inputs = _inputs(one_line_corpus, 1, 1)
    by_slice = inputs(shared_queue=False)
    assert by_slice.source.queue.lanes == 0  # C's slices
    _run_serial(by_slice)
    by_queue = inputs(shared_queue=True, part_bytes=len(corpus.ids) + 1)
    assert len(by_queue.source.queue.offsets) == 2
    _run_serial(by_queue)
    assert by_slice.control.cursors[:, DONE].all() and by_queue.control.cursors[:, DONE].all()
    assert np.array_equal(by_queue.model.syn0, by_slice.model.syn0)
    assert np.array_equal(by_queue.model.syn1neg, by_slice.model.syn1neg)


@pytest.mark.parametrize("threads", [1, 2])
def test_every_word_of_every_epoch_is_read_once(lee_corpus, threads):
    vocab, corpus, inputs = _inputs(lee_corpus, threads, 3)
    queue = inputs(shared_queue=True, part_bytes=331)  # ~200 parts of the 65 KB stream
    assert len(queue.source.queue.offsets) - 1 >= 190
    run = _run_parallel if threads > 1 else _run_serial
    run(queue)
    model, control = queue.model, queue.control
    assert control.words_done.sum() == 3 * vocab.train_words
    assert control.cursors[:, DONE].all()
    assert np.isfinite(model.syn0).all()
    moved = np.linalg.norm(model.syn0[: vocab.size] - initial_syn0(vocab.size, 20), axis=1) > 1e-4
    assert moved[1:].mean() > 0.99
    if threads > 1:
        assert (control.words_done > 0).all()  # both threads took items


def test_stop_flag_ends_the_queue_unfinished(lee_corpus):
    vocab, corpus, inputs = _inputs(lee_corpus, 1, 1)
    queue = inputs(shared_queue=True)
    model, control = queue.model, queue.control
    control.stop[0] = 1
    _run_serial(queue)
    assert control.words_done.sum() == 0 and not control.cursors[:, DONE].any()
    assert np.array_equal(model.syn0, initial_syn0(vocab.size, 20))
