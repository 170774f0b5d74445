"""word2phrase: byte-identical to C's output and stdout."""
import gzip
import time

import numpy as np
import pytest
from conftest_tools import TOOLS_REFERENCE, run_tool, shared_file
from hypothesis import given
from hypothesis import strategies as st

from pyw2v.tools import word2phrase
from pyw2v.tools.phrase_kernels import learn_vocab, sort_vocab_like_c
from pyw2v.tools.phrase_table import entry_bytes


@pytest.mark.parametrize(
    "case, options",
    [("lee.phrase1", ["-threshold", "100", "-debug", "2"]),
     ("lee.phrase_mc2_t20", ["-min-count", "2", "-threshold", "20", "-debug", "2"])],
)
def test_lee_is_byte_identical_to_c(lee_corpus, tmp_path, monkeypatch, case, options):
    (tmp_path / "lee.txt").symlink_to(lee_corpus)  # C was given the bare name lee.txt
    monkeypatch.chdir(tmp_path)
    output = tmp_path / f"{case}.txt"
    status, out, err = run_tool(word2phrase.main, ["-train", "lee.txt", "-output", output, *options])
    assert (status, err) == (0, "")
    assert output.read_bytes() == (TOOLS_REFERENCE / f"{case}.txt").read_bytes()
    assert out == (TOOLS_REFERENCE / f"{case}.stdout").read_bytes()


def count_like_c(text, hash_size):
    """A plain-Python model of C's LearnVocabFromTrainFile for simple text (no CR, NUL, long words)."""
    tokens = []
    for number, line in enumerate(text.split(b"\n")):
        tokens += [b"\n"] * (number > 0) + line.split()
    if text and not text[-1:].isspace():
        tokens.pop()  # C drops the word that runs into the end of the file
    counts, last, min_reduce = {b"</s>": 0}, b"", 1
    for word in tokens:
        if word == b"\n":
            continue
        counts[word] = counts.get(word, 0) + 1
        pair = (last + b"_" + word)[:59]
        last = word
        counts[pair] = counts.get(pair, 0) + 1
        if len(counts) > hash_size * 0.7:
            counts = {k: v for k, v in counts.items() if v > min_reduce}
            min_reduce += 1
    return counts


@pytest.mark.parametrize("hash_size", [500_000_000, 20_000, 3_000])
def test_counting_and_pruning_follow_c(lee_corpus, hash_size):
    text = lee_corpus.read_bytes()
    table, train_words, _ = learn_vocab(np.frombuffer(text, np.uint8), hash_size, 0)
    entries = int(table[6][0])
    ours = {entry_bytes(table, e): int(table[3][e]) for e in range(entries)}
    expected = count_like_c(text, hash_size)
    assert ours == expected
    assert list(ours) == list(expected)  # insertion order matters to C's sort
    assert train_words == 59889


def test_pruned_run_differs_but_is_reproducible(lee_corpus, tmp_path):
    # Pruning changes counts and hence the output, as in C built with a small hash.
    outputs = []
    for hash_size in (word2phrase.C_HASH_SIZE, 20_000):
        path = tmp_path / f"out{hash_size}.txt"
        run_tool(
            lambda argv, h=hash_size: word2phrase.word2phrase(argv[0], argv[1], 5, 10.0, 0, h) or 0,
            [lee_corpus, path],
        )
        outputs.append(path.read_bytes())
    assert outputs[0] != outputs[1]
    assert outputs[0].replace(b"_", b" ") == outputs[1].replace(b"_", b" ")


@pytest.mark.parametrize(
    "threshold, expected",
    [  # both outputs are what word2phrase.c writes for this input
        ("0.5", b" ab c\n\n " + b"x" * 58 + b" a_b a b"),
        ("-1", b"_ab_c\n\n_" + b"x" * 58 + b"_a_b_a_b"),
    ],
)
def test_tokenizer_quirks(tmp_path, threshold, expected):
    # CR vanishes inside a word, a newline is echoed, every line starts with a
    # separator, long words keep 58 bytes, the unfinished last word is dropped;
    # with a negative threshold even unscored words (score 0) are joined.
    source = tmp_path / "in.txt"
    source.write_bytes(b"a\r\rb c\n\n" + b"x" * 70 + b" a_b a b\tlast")
    output = tmp_path / "out.txt"
    options = ["-min-count", "1", "-threshold", threshold, "-debug", "0"]
    status, out, _ = run_tool(word2phrase.main, ["-train", source, "-output", output, *options])
    assert status == 0
    assert out == b"Starting training using file %s\n" % str(source).encode()
    assert output.read_bytes() == expected


def test_two_pass_wiki10m_is_byte_identical_to_c(tmp_path):
    corpus = shared_file("data", "wiki100m.txt.gz")
    targets = [shared_file("parity", "tools", f"wiki10m.phrase{n}.txt.gz") for n in (1, 2)]
    with gzip.open(corpus, "rb") as stream:
        (tmp_path / "wiki10m.txt").write_bytes(stream.read(10_000_000))
    started = time.perf_counter()
    for number, threshold, source in ((1, "200", "wiki10m.txt"), (2, "100", "phrase1.txt")):
        output = tmp_path / f"phrase{number}.txt"
        status, _, err = run_tool(
            word2phrase.main,
            ["-train", tmp_path / source, "-output", output, "-threshold", threshold, "-debug", "0"],
        )
        assert (status, err) == (0, "")
        with gzip.open(targets[number - 1], "rb") as expected:
            assert output.read_bytes() == expected.read()
    assert time.perf_counter() - started < 120, "word2phrase should take seconds on 10 MB"


def c_sort_vocab(counts, min_count):
    """word2phrase.c's SortVocab written as C walks it: a stable sort of rows 1.., then one row at a time."""
    order = [0] + sorted(range(1, len(counts)), key=lambda row: -counts[row])
    kept, size, row = set(), len(counts), 0
    while row < size:
        if counts[order[row]] < min_count:
            size -= 1
        else:
            kept.add(order[row])
        row += 1
    return kept, size


@given(st.lists(st.integers(0, 6), min_size=1, max_size=40), st.integers(-1, 7))
def test_sort_vocab_walks_the_rows_as_c_does(counts, min_count):
    kept, size = sort_vocab_like_c(np.array(counts, dtype=np.int64), min_count)
    assert (set(np.flatnonzero(kept)), size) == c_sort_vocab(counts, min_count)
