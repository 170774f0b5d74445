"""End-to-end training on a text8-style corpus: one line, no newline, so </s> never occurs."""
import numpy as np
import pytest

from pyw2v.train import train
from pyw2v.training.driver import initial_syn0


@pytest.fixture(scope="module")
def one_line_corpus(tmp_path_factory, lee_corpus):
    path = tmp_path_factory.mktemp("text8") / "one-line.txt"
    path.write_bytes(lee_corpus.read_bytes().replace(b"\n", b" "))
    return path


@pytest.mark.parametrize(
    "settings",
    [dict(hs=1, negative=0, cbow=0), dict(hs=1, negative=0, cbow=1), dict(negative=5, cbow=0, fast=1),
     dict(hs=1, negative=0, cbow=0, fast=1), dict(hs=1, negative=3, cbow=0, fast=1), dict(negative=5, cbow=1)],
)
def test_one_line_corpus_trains(one_line_corpus, settings):
    model = train(str(one_line_corpus), size=16, iter=1, threads=2, debug=0, **settings)
    assert model.vocab.words[0] == b"</s>" and model.vocab.counts[0] == 0
    start = initial_syn0(model.vocab.size, 16)
    assert np.isfinite(model.syn0).all()
    moved = np.linalg.norm(model.syn0 - start, axis=1) > 1e-4
    assert moved[1:].mean() > 0.95  # every word but </s> was trained
    assert not moved[0]  # </s> never occurs, so C never touches its vector


def test_without_output_only_the_vocabulary_is_built(one_line_corpus, tmp_path, capsys):
    from pyw2v.cli import main

    vocab = tmp_path / "vocab.txt"
    assert main(["-train", str(one_line_corpus), "-save-vocab", str(vocab), "-debug", "1"]) == 0
    assert [line.split()[0] for line in vocab.read_bytes().splitlines()[:2]] == [b"</s>", b"the"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vocab.txt"]
    assert "Words in train file:" in capsys.readouterr().out


def test_progress_line_is_not_repeated_while_no_word_is_trained():
    """Kernels compiling on a cold cache train nothing for seconds; a log gets one line, not one per tick."""
    import io
    from types import SimpleNamespace

    from pyw2v.progress import Progress

    out = io.StringIO()
    progress = Progress(SimpleNamespace(debug=2, iter=1, starting_alpha=0.025, loss=0), 1000, out, None)
    state = SimpleNamespace(words_done=np.zeros(2, dtype=np.int64))
    for _ in range(5):
        progress.report(state)
    assert out.getvalue().count("Alpha:") == 1
    state.words_done[0] = 500
    progress.report(state)
    assert out.getvalue().count("Alpha:") == 2
    assert "Progress: 49.95%" in out.getvalue()
    progress.finish(state)
    assert out.getvalue().endswith("\n")


def test_progress_past_the_end_leaves_no_time():
    """The word count can pass iter × train words (C's does too); the ETA is then 0, not negative."""
    import io
    from types import SimpleNamespace

    from pyw2v.progress import Progress

    out = io.StringIO()
    progress = Progress(SimpleNamespace(debug=2, iter=1, starting_alpha=0.025, loss=0), 1000, out, None)
    progress.report(SimpleNamespace(words_done=np.array([520, 510], dtype=np.int64)))
    assert "Progress: 102.90%" in out.getvalue()
    assert out.getvalue().rstrip().endswith("ETA: 0:00:00")
