"""Multi-threaded training learns sane vectors: four slices (C's split and seeds), two ``-fast`` threads
each with its own copies of the hot rows (pyw2v.training.hot_rows), and two slices with hierarchical softmax."""
import os

import numpy as np
import pytest

from pyw2v.train import train
from pyw2v.training.driver import initial_syn0
from pyw2v.training.loop import DONE

# Pairs that stand side by side throughout the lee news corpus.
RELATED = [
    ("bin", "Laden"), ("Prime", "Minister"), ("South", "Africa"), ("Al", "Qaeda"), ("Gaza", "Strip"),
    ("New", "York"), ("United", "States"), ("West", "Bank"), ("Yasser", "Arafat"),
]
MARGIN = 0.08  # related pairs beat random pairs' mean cosine by at least this
TOP_FRACTION = 0.05  # and each partner is among the 5% nearest words


@pytest.fixture(
    scope="module",
    params=[dict(threads=4), dict(threads=2, fast=1), dict(threads=2, hs=1, negative=0)],
    ids=["c-slices", "fast-hot-rows", "c-slices-hs"],
)
def threaded_model(lee_corpus, request):
    return train(str(lee_corpus), cbow=0, size=50, iter=20, debug=0, **request.param)


def test_related_words_are_nearer_than_random_ones(threaded_model):
    vocab = threaded_model.vocab
    index = {word.decode(): i for i, word in enumerate(vocab.words)}
    unit = threaded_model.syn0 / np.linalg.norm(threaded_model.syn0, axis=1, keepdims=True)
    rng = np.random.default_rng(0)
    left, right = rng.integers(1, vocab.size, (2, 5000))
    random_mean = float((unit[left] * unit[right]).sum(1).mean())
    for a, b in RELATED:
        cosines = unit @ unit[index[a]]
        assert cosines[index[b]] >= random_mean + MARGIN, (a, b, cosines[index[b]], random_mean)
        rank = int((cosines > cosines[index[b]]).sum())  # the word itself ranks first
        assert rank <= TOP_FRACTION * vocab.size, (a, b, rank)


def test_every_slice_trains(threaded_model):
    # A slice that never ran would leave the words only it reads at their initial values.
    start = initial_syn0(threaded_model.vocab.size, 50)
    moved = np.linalg.norm(threaded_model.syn0 - start, axis=1) > 1e-3
    assert moved[1:].mean() > 0.99


def test_slices_outnumbering_the_cores_advance_together(lee_corpus, monkeypatch):
    # C's threads beyond the cores are time-sliced by the OS, so the slices a
    # core shares end together, at the same learning rate. One slice after
    # another, a core's first slice would end halfway, at half the rate, and
    # its last one at the end.
    from pyw2v.training import driver

    cores = len(os.sched_getaffinity(0))
    seen = {}

    def spy(*arguments):
        inputs = loop_inputs(*arguments)
        seen["control"] = inputs.control
        return inputs

    loop_inputs = driver.loop_inputs
    monkeypatch.setattr(driver, "loop_inputs", spy)
    # 20 epochs: a thread recomputes its rate every 10,000 of its words, here 5 % of its share.
    model = train(str(lee_corpus), threads=cores + 2, cbow=0, size=16, iter=20, debug=0)
    control = seen["control"]
    assert control.cursors[:, DONE].all() and len(control.alpha) == cores + 2
    assert control.alpha.max() - control.alpha.min() < 0.2 * 0.025, control.alpha
    assert np.isfinite(model.syn0).all()
