"""Property-based tests: parsers and readers against small models of C, on inputs hypothesis makes up.

Each model is written from word2vec.c's and word2phrase.c's behaviour, plainly,
byte by byte; the tests compare pyw2v's compiled readers with them on random
bytes that lean on the edge cases (CR, tab, NUL, long words, no final newline).
"""
import os
import tempfile

import numpy as np
from helpers import c_read_words
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pyw2v.corpus.reader import scan_chunks
from pyw2v.corpus.vocab import Vocabulary, read_vocab, save_vocab
from pyw2v.corpus.wordtable import find_or_add, table_from_words, words_of
from pyw2v.errors import UserError
from pyw2v.model.vectors import parse_vectors, write_vectors_to
from pyw2v.options import parse_arguments
from pyw2v.tools import phrase_kernels
from pyw2v.tools.word2phrase import parse_options

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Bytes that lean on the tokenizer's cases: separators, CR, NUL, a high byte, and a few letters.
corpus_bytes = st.lists(
    st.one_of(
        st.sampled_from([b" ", b"\t", b"\n", b"\r", b"\0", b"\r\n", b"\xff", b"a", b"b", b"</s>"]),
        st.binary(max_size=4),
        st.integers(90, 130).map(lambda n: b"w" * n),  # around the 98-byte cut
    ),
    max_size=60,
).map(b"".join)


@SETTINGS
@given(data=corpus_bytes, cuts=st.lists(st.integers(0, 400), max_size=4))
@example(data=b"ab\0cd x\n", cuts=[])
@example(data=b"\0x y\n", cuts=[3])
def test_tokenizer_matches_c_readword(data, cuts):
    """The word2vec tokenizer, fed in chunks cut anywhere, reads C's tokens, each word once in the table.

    The tokenizer hashes a word as it reads its bytes; the table's own
    lookup (:func:`find_or_add`) must find every word it added, or a word
    would be counted under two ids.
    """
    bounds = sorted({cut for cut in cuts if cut < len(data)} | {0, len(data)})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    table, _ = table_from_words([b"</s>"])
    ids = []
    scan = scan_chunks(chunks, 0, table, False, on_ids=lambda part: ids.extend(part.tolist()))
    words = words_of(scan.table)
    assert [words[i] for i in ids] == c_read_words(data, 100)
    found = [find_or_add(scan.table, np.frombuffer(word, np.uint8), 0, len(word), False) for word in words]
    assert found == list(range(len(words)))


def c_learn_vocab(tokens, reduce_at):
    """C's LearnVocabFromTrainFile: ``</s>`` first, each token counted, ReduceVocab past ``reduce_at`` words.

    Returns the words, their counts, and whether ReduceVocab ran.
    """
    words, counts, min_reduce = [b"</s>"], [0], 1
    for token in tokens:
        if token in words:
            counts[words.index(token)] += 1
        else:
            words.append(token)
            counts.append(1)
        if len(words) > reduce_at:
            kept = [(word, count) for word, count in zip(words, counts) if count > min_reduce]
            words, counts = [word for word, _ in kept], [count for _, count in kept]
            min_reduce += 1
    return words, counts, min_reduce > 1


@SETTINGS
@given(data=corpus_bytes, cuts=st.lists(st.integers(0, 400), max_size=4), reduce_at=st.integers(1, 8))
@example(data=b"a b\nc d\n", cuts=[], reduce_at=3)
def test_tokenizer_prunes_the_table_as_c_reducevocab(data, cuts, reduce_at):
    """Counting past the ReduceVocab threshold (21 million words; a few here) prunes as C does, token by token.

    A pruning one token late or early (a newline's ``</s>`` counted before it,
    say) keeps other words or other counts.
    """
    bounds = sorted({cut for cut in cuts if cut < len(data)} | {0, len(data)})
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:])]
    table, _ = table_from_words([b"</s>"])
    scan = scan_chunks(chunks, 0, table, False, reduce_at=reduce_at)
    words, counts, reduced = c_learn_vocab(c_read_words(data, 100), reduce_at)
    assert words_of(scan.table) == words
    assert scan.table.counts[: len(words)].tolist() == counts
    assert scan.reduced == reduced


@SETTINGS
@given(data=corpus_bytes)
@example(data=b"ab\0cd x\n")
def test_word2phrase_reader_matches_c_readword(data):
    """word2phrase's ReadWord (MAX_STRING 60) reads C's tokens, a newline as its own token."""
    array = np.frombuffer(data, dtype=np.uint8)
    buffer = np.zeros(phrase_kernels.MAX_STRING, dtype=np.uint8)
    tokens, pos = [], 0
    while True:
        pos, length, kind = phrase_kernels.read_word(array, pos, buffer)
        if kind == phrase_kernels.END:
            break
        tokens.append(b"</s>" if kind == phrase_kernels.NEWLINE else buffer[:length].tobytes())
    assert tokens == c_read_words(data, phrase_kernels.MAX_STRING)


# A word of a vocabulary or vector file: any bytes but the separators (and NUL, which ends a C string).
vocab_word = st.binary(min_size=1, max_size=98).filter(
    lambda w: not any(b in w for b in (b" ", b"\t", b"\n", b"\r", b"\0"))
)


@SETTINGS
@given(entries=st.dictionaries(vocab_word, st.integers(0, 2**40), min_size=1, max_size=20))
def test_vocab_file_round_trip(entries):
    """-save-vocab then -read-vocab gives back every word and count (min-count 0)."""
    words, counts = list(entries), np.array(list(entries.values()), dtype=np.int64)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "vocab.txt")
        save_vocab(path, Vocabulary(words, counts))
        vocab = read_vocab(path, 0)
    assert sorted(zip(vocab.words, vocab.counts.tolist())) == sorted(entries.items())


@SETTINGS
@given(data=st.binary(max_size=200) | corpus_bytes)
@example(data=b"a 99999999999999999999\n")
@example(data=b"a 9223372036854775807\nb 1\n")
def test_vocab_reader_gives_a_vocabulary_or_one_line_error(data):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "vocab.txt")
        with open(path, "wb") as handle:
            handle.write(data)
        try:
            vocab = read_vocab(path, 0)
        except UserError as exc:
            assert "\n" not in str(exc)
            return
    assert vocab.counts.dtype == np.int64 and (vocab.counts >= 0).all()
    assert len(vocab.words) == len(vocab.counts) and vocab.train_words >= 0


# Vector-file words: any bytes but space and newline (the empty word too: C writes it as it is).
vector_word = st.binary(max_size=12).filter(lambda w: b" " not in w and b"\n" not in w)


@st.composite
def vector_files(draw):
    size = draw(st.integers(1, 6))
    words = draw(st.lists(vector_word, min_size=1, max_size=8))
    values = draw(
        st.lists(
            st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=size, max_size=size),
            min_size=len(words),
            max_size=len(words),
        )
    )
    return words, np.array(values, dtype=np.float32).reshape(len(words), size)


def written(words, matrix, binary):
    class Sink:
        data = b""

        def write(self, chunk):
            Sink.data += chunk

    write_vectors_to(Sink(), words, matrix, binary)
    return Sink.data


@SETTINGS
@given(model=vector_files(), binary=st.booleans())
@example(model=([b"w1", b"w2", b"w3"], np.array([[1, 2, 3], [1, 1, 1], [3, 2, 1]], np.float32)), binary=False)
@example(model=([b"a", b"b"], np.array([[1.5], [2.5]], np.float32)), binary=False)
@example(model=([b"\ta", b"\rb"], np.array([[1.0], [2.0]], np.float32)), binary=True)
def test_vector_file_round_trip(model, binary):
    """What the writer writes, the reader reads back, whichever layout it has to tell."""
    words, matrix = model
    data = written(words, matrix, binary)
    read_words, read_matrix = parse_vectors(data)
    assert read_words == words
    if binary:
        np.testing.assert_array_equal(read_matrix, matrix)
    else:  # C's "%lf": six decimals
        np.testing.assert_allclose(read_matrix, matrix, rtol=1e-6, atol=5.1e-7)


@SETTINGS
@given(model=vector_files(), binary=st.booleans(), crlf=st.booleans(), final_newline=st.booleans())
@example(model=([b"\r", b"a\r"], np.zeros((2, 1), np.float32)), binary=False, crlf=True, final_newline=False)
def test_vector_reader_takes_crlf_and_a_missing_final_newline(model, binary, crlf, final_newline):
    words, matrix = model
    data = written(words, matrix, binary)
    if not binary and crlf:  # a CR inside a word stays: only the one ending a line goes
        data = data.replace(b"\n", b"\r\n")
    if not final_newline:
        data = data.rstrip(b"\r\n") if not binary else data[:-1]
    read_words, read_matrix = parse_vectors(data)
    assert read_words == words
    np.testing.assert_allclose(read_matrix, matrix, rtol=1e-6, atol=5.1e-7)


@SETTINGS
@given(data=st.binary(max_size=120) | st.builds(lambda m, b: written(*m, b), vector_files(), st.booleans()).flatmap(
    lambda d: st.integers(0, len(d)).map(lambda cut: d[:cut])))
@example(data=b"99999999999 9999\nw \xff\xff\xff\xff")  # a header promising more than memory holds
@example(data=b"1 2\nw nan 1e39\n")  # values that are not finite numbers (1e39 overflows float32)
def test_vector_reader_gives_vectors_or_one_line_error(data):
    """Any bytes (including cut-off vector files) read as vectors or end in one line, never a traceback."""
    try:
        words, matrix = parse_vectors(data)
    except UserError as exc:
        assert "\n" not in str(exc)
        return
    assert matrix.shape[0] == len(words) and np.isfinite(matrix).all()


argv_items = st.one_of(
    st.sampled_from(["-train", "-output", "-size", "-window", "-sample", "-hs", "-negative", "-threads", "-iter",
                     "-min-count", "-alpha", "-classes", "-debug", "-binary", "-save-vocab", "-read-vocab", "-cbow",
                     "-fast", "-threshold", "0", "1", "-1", "5", "1e-3", "nan", "inf", "-inf", "1e400",
                     "99999999999999999999", "2147483648", "9" * 5000, "x.txt", "", "\0", "٣", "1_000", " 5"]),
    st.text(max_size=8),
)


@SETTINGS
@given(argv=st.lists(argv_items, max_size=10))
def test_option_parser_gives_options_or_one_line_error(argv):
    try:
        options = parse_arguments(argv)
    except UserError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    assert options.size >= 1 and options.window >= 1 and options.iter >= 1 and 1 <= options.threads
    assert np.isfinite(options.sample) and np.isfinite(np.float32(options.starting_alpha))


@SETTINGS
@given(argv=st.lists(argv_items, max_size=10))
def test_word2phrase_option_parser_gives_options_or_one_line_error(argv):
    try:
        options = parse_options(argv)
    except UserError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    assert np.isfinite(np.float32(options["-threshold"]))
    assert -(2**31) <= options["-min-count"] < 2**31 and -(2**31) <= options["-debug"] < 2**31
