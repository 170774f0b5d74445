"""Vocabulary order, min-count, the ReduceVocab rule and the vocab file format."""
import numpy as np
import pytest

from pyw2v.corpus.vocab import Vocabulary, read_vocab, save_vocab, sort_order
from pyw2v.corpus.wordtable import reduce_vocab, table_from_words, words_of
from pyw2v.errors import UserError


def test_sort_keeps_first_word_then_count_descending_with_stable_ties():
    counts = np.array([0, 2, 5, 2, 5, 1, 2])
    assert sort_order(counts, 1).tolist() == [0, 2, 4, 1, 3, 6, 5]


def test_min_count_drops_rare_words_but_never_the_first():
    counts = np.array([0, 2, 5, 1])
    assert sort_order(counts, 2).tolist() == [0, 2, 1]


def test_reduce_vocab_drops_words_at_or_below_the_threshold_in_order():
    table, _ = table_from_words([b"</s>", b"a", b"b", b"c", b"d"])
    table.counts[:5] = [1, 3, 1, 2, 4]
    remap = reduce_vocab(table, 1)
    assert words_of(table) == [b"a", b"c", b"d"]
    assert remap.tolist() == [-1, 0, -1, 1, 2]


def test_save_then_read_round_trips_and_resorts(tmp_path):
    vocab = Vocabulary([b"</s>", b"the", b"caf\xe9", b"x"], np.array([3, 9, 4, 1]))
    path = tmp_path / "vocab.txt"
    save_vocab(path, vocab)
    assert path.read_bytes() == b"</s> 3\nthe 9\ncaf\xe9 4\nx 1\n"
    again = read_vocab(path, min_count=2)
    assert again.words == [b"</s>", b"the", b"caf\xe9"]
    assert again.train_words == 16


@pytest.mark.parametrize("content", [b"", b"word\n", b"word many\n", b"a 1 2\n"])
def test_malformed_vocab_is_a_user_error(tmp_path, content):
    path = tmp_path / "vocab.txt"
    path.write_bytes(content)
    with pytest.raises(UserError):
        read_vocab(path, min_count=1)
