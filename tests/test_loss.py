"""-loss 1: the mean per-word loss of each epoch, printed and returned; -loss 0 changes nothing."""
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from pyw2v.train import train
from pyw2v.training.outputs import MAX_EXP, loss_table, output_loss


def _train(lee_corpus, **settings):
    out = io.StringIO()
    result = train(str(lee_corpus), out=out, size=20, iter=5, min_count=5, **settings)
    return result, out.getvalue()


@pytest.mark.parametrize("cbow, hs, negative", [(0, 0, 5), (1, 1, 0), (1, 1, 5)])
def test_the_loss_falls_from_the_first_epoch_to_the_last(lee_corpus, cbow, hs, negative):
    result, printed = _train(lee_corpus, cbow=cbow, hs=hs, negative=negative, threads=1, loss=1, debug=1)
    losses = result.losses
    assert len(losses) == 5 and all(np.isfinite(losses)) and min(losses) > 0
    assert losses[-1] < 0.99 * losses[0]  # the first epoch starts from random vectors
    lines = [line for line in printed.splitlines() if line.startswith("Epoch:")]
    assert lines == ["Epoch: %d  Loss: %.4f" % (n + 1, loss) for n, loss in enumerate(losses)]


def test_one_thread_loss_is_deterministic_and_costs_the_vectors_nothing(lee_corpus):
    first, _ = _train(lee_corpus, cbow=0, negative=5, threads=1, loss=1, debug=0)
    second, _ = _train(lee_corpus, cbow=0, negative=5, threads=1, loss=1, debug=0)
    silent, printed = _train(lee_corpus, cbow=0, negative=5, threads=1, loss=0, debug=0)
    assert first.losses == second.losses
    np.testing.assert_array_equal(first.syn0, silent.syn0)  # counting the loss changes no weight
    assert silent.losses is None and "Loss" not in printed


def test_the_progress_line_shows_the_recent_loss(lee_corpus):
    # The loop of the first test above; the block steps' loss is checked in tests/test_kernels.py.
    _, printed = _train(lee_corpus, cbow=0, negative=5, threads=1, loss=1, debug=2)
    progress = [line for line in printed.replace("\r", "\n").splitlines() if line.startswith("Alpha:")]
    assert progress and "Loss: " in progress[-1]
    value = float(progress[-1].split("Loss: ")[1].split()[0])
    assert 0 < value < 50


# No deadline: the first example compiles _output_loss, some 0.2-2 s by the machine's load, against
# hypothesis's default of 200 ms; a deadline exceeded on the first call only is reported as flaky.
@settings(deadline=None)
@given(
    f=st.floats(-40, 40, width=32),
    label=st.sampled_from([0.0, 1.0]),
    skip_saturated=st.booleans(),
)
def test_an_outputs_loss_is_minus_log_sigmoid_within_a_table_step(f, label, skip_saturated):
    # The table is read at C's sigmoid index: within one step of 1/83 in z, and the loss's slope is below 1.
    value = _output_loss(np.float32(f), np.float32(label), skip_saturated, loss_table())
    if skip_saturated and abs(np.float32(f)) >= MAX_EXP:
        assert value == 0.0  # hierarchical softmax does not train a saturated output
        return
    z = float(np.float32(f)) if label == 1.0 else -float(np.float32(f))
    exact = np.logaddexp(0.0, -z)
    assert abs(value - exact) <= 1.0 / 83 + 1e-9, (value, exact)


@njit
def _output_loss(f, label, skip_saturated, table):
    return output_loss(f, label, skip_saturated, table)
