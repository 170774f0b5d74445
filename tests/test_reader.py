"""The tokenizer against an independent, byte-at-a-time model of C's ReadWord (helpers.c_read_words)."""
import bz2
import gzip
import lzma
import re

import numpy as np
import pytest
from helpers import c_read_words

from pyw2v.corpus import reader as corpus
from pyw2v.corpus.prepare import prepare_corpus
from pyw2v.corpus.reader import scan_corpus
from pyw2v.corpus.wordtable import find_or_add, table_from_words, words_of
from pyw2v.options import TrainOptions
from pyw2v.train import corpus_settings

TRICKY = (
    b"alpha beta\tgamma\r\ndelta  \n\n\xff\xfe caf\xc3\xa9 x\ry "
    + b"L" * 150
    + b" end\r\n\t tail\nlast word dropped"
)


def scan_tokens(data, tmp_path, probe_offsets=()):
    path = tmp_path / "corpus.txt"
    path.write_bytes(data)
    table, _ = table_from_words([b"</s>"])
    chunks = []
    scan = scan_corpus(str(path), table, False, probe_offsets, on_ids=lambda ids: chunks.append(ids.copy()))
    words = words_of(scan.table)
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
    return [words[i] for i in ids], scan


def test_tricky_bytes_tokenize_like_c(tmp_path):
    tokens, _ = scan_tokens(TRICKY, tmp_path)
    assert tokens == c_read_words(TRICKY)
    assert b"</s>" in tokens and b"xy" in tokens and b"\xff\xfe" in tokens
    assert b"L" * 98 in tokens and b"dropped" not in tokens and b"word" in tokens


def test_counts_follow_first_appearance(tmp_path):
    _, scan = scan_tokens(b"b a b c a b\n", tmp_path)
    words = words_of(scan.table)
    assert words == [b"</s>", b"b", b"a", b"c"]
    assert scan.table.counts[:4].tolist() == [1, 3, 2, 1]


def test_chunk_boundaries_do_not_change_tokens(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "CHUNK_BYTES", 7)
    tokens, _ = scan_tokens(TRICKY, tmp_path)
    assert tokens == c_read_words(TRICKY)


@pytest.mark.parametrize("offset", range(0, len(TRICKY), 3))
def test_thread_start_inside_any_byte(tmp_path, monkeypatch, offset):
    """A slice starting at any byte reads exactly what C's fseek + ReadWord reads."""
    monkeypatch.setattr(corpus, "CHUNK_BYTES", 16)
    tokens, scan = scan_tokens(TRICKY, tmp_path, [offset])
    probes = scan.probes
    stream = []
    if probes.partial_len[0]:
        stream.append(probes.partial[0, : probes.partial_len[0]].tobytes())
    stream += tokens[probes.token_index[0] :]
    assert stream == c_read_words(TRICKY, start=offset)


COMPRESSORS = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".lzma": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),  # smart_open does not know this one
    ".LZMA": lambda data: lzma.compress(data, format=lzma.FORMAT_ALONE),
}


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_compressed_corpus_encodes_like_plain(lee_corpus, tmp_path, suffix):
    packed = tmp_path / f"lee.txt{suffix}"
    packed.write_bytes(COMPRESSORS[suffix](lee_corpus.read_bytes()))
    encoded = []
    for path in (lee_corpus, packed):
        options = TrainOptions(train=str(path), threads=3, debug=0)
        vocab, stream = prepare_corpus(options.train, corpus_settings(options))
        encoded.append((vocab.words, vocab.counts.tolist(), stream.ids, stream.starts, stream.first_words))
    plain, compressed = encoded
    assert plain[:2] == compressed[:2]
    for ours, theirs in zip(plain[2:], compressed[2:]):
        np.testing.assert_array_equal(ours, theirs)
    assert plain[3][1] > 0  # slices really start inside the corpus


@pytest.mark.parametrize("packing", ["plain", "gzip", "gzip in two members"])
@pytest.mark.parametrize("threads", [1, 2, 3, 5, 7])
def test_one_pass_in_parts_equals_one_table_and_a_second_pass(tmp_path, monkeypatch, threads, packing):
    # Rare words (dropped by -min-count 2) sit next to the slice starts, and
    # slices start inside words. Counted in parts (a plain file's byte range
    # per thread, a compressed one's segments), merged, and re-encoded, the
    # first pass must give the vocabulary of one table over the whole file
    # and the stream a second pass over the text gives. Two gzip members:
    # the trailer's size is the second's alone, so the slices must still
    # start where the whole file's size puts them.
    from pyw2v.corpus import prepare, segments

    rng = np.random.default_rng(threads)
    common = [b"w%d" % k for k in range(60)] + [TRICKY]
    tokens = [common[k] for k in rng.integers(0, len(common), 3000)]
    for k in range(40):  # each once, so under -min-count 2
        tokens.insert(int(rng.integers(0, len(tokens))), b"rare%d" % k)
    text = b" ".join(tokens) + b"\nend "
    path = tmp_path / "mixed.txt"
    if packing == "plain":
        path.write_bytes(text)
    else:
        path = tmp_path / "mixed.txt.gz"
        cut = len(text) // 3 if packing == "gzip in two members" else len(text)
        path.write_bytes(gzip.compress(text[:cut]) + (gzip.compress(text[cut:]) if cut < len(text) else b""))
    settings = corpus_settings(TrainOptions(threads=threads, min_count=2, debug=0))
    whole_vocab, _ = prepare.prepare_vocabulary(path, settings)  # a small file is counted in one piece
    second_pass = prepare.encode_corpus(whole_vocab, prepare._read_again(path, whole_vocab, settings), settings)

    monkeypatch.setattr(prepare, "MIN_RANGE_BYTES", 64)
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 500)
    vocab, first_pass = prepare.prepare_vocabulary(path, settings, keep_tokens=True)
    expected_parts = 1 if threads == 1 else threads if packing == "plain" else len(text) // 500
    assert len(first_pass.streams) >= expected_parts > 0
    assert np.any(first_pass.new_ids < 0)  # some words really are dropped
    assert vocab.words == whole_vocab.words
    np.testing.assert_array_equal(vocab.counts, whole_vocab.counts)
    one_pass = prepare.encode_corpus(vocab, first_pass, settings)
    np.testing.assert_array_equal(one_pass.ids, second_pass.ids)
    np.testing.assert_array_equal(one_pass.starts, second_pass.starts)
    np.testing.assert_array_equal(one_pass.first_words, second_pass.first_words)
    if threads > 1:
        assert second_pass.starts[-1] > 0


def test_interrupting_one_range_cancels_the_others(tmp_path, monkeypatch):
    # Ctrl-C reaches the main thread while the ranges are being counted: the
    # other ranges must stop at their next chunk instead of reading to their end.
    from pyw2v.corpus import prepare

    path = tmp_path / "words.txt"
    path.write_bytes(b"alpha beta gamma delta " * 400)
    monkeypatch.setattr(prepare, "MIN_RANGE_BYTES", 64)
    seen = []

    def count_part(train, offsets, spill, byte_range=None, cancel=None, tally=None, **_):
        if byte_range[1] == path.stat().st_size:  # the last range, while the others are being counted
            raise KeyboardInterrupt
        seen.append(cancel.wait(timeout=10))
        return prepare.scan_corpus(train, prepare.new_table(), False, byte_range=byte_range, cancel=cancel), None

    monkeypatch.setattr(prepare, "_count_part", count_part)
    with pytest.raises(KeyboardInterrupt):
        prepare.prepare_vocabulary(path, corpus_settings(TrainOptions(threads=3, debug=0)))
    assert seen == [True, True]


def test_the_main_thread_sleeps_while_a_later_range_waits_for_the_first(tmp_path, monkeypatch):
    # The last range is counted at once, the first takes half a second: the main thread, which
    # takes the ranges in order, must wait for the first, not wake again and again for the one
    # already done (it spun at every wait, taking a core from the counting threads).
    import threading

    from pyw2v.corpus import prepare

    path = tmp_path / "words.txt"
    path.write_bytes(b"alpha beta gamma delta " * 400)
    monkeypatch.setattr(prepare, "MIN_RANGE_BYTES", 64)
    last_done = threading.Event()

    def count_part(train, offsets, spill, byte_range=None, cancel=None, tally=None, **_):
        scan = prepare.scan_corpus(train, prepare.new_table(), False, byte_range=byte_range, cancel=cancel)
        if byte_range[1] == path.stat().st_size:
            last_done.set()
        else:
            last_done.wait(timeout=10)
            cancel.wait(timeout=0.5)
        return scan, None

    waits = []
    real_wait = prepare.wait

    def counted_wait(*args, **kwargs):
        waits.append(1)
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(prepare, "_count_part", count_part)
    monkeypatch.setattr(prepare, "wait", counted_wait)
    vocab, _ = prepare.prepare_vocabulary(path, corpus_settings(TrainOptions(threads=2, debug=0)))
    assert vocab.train_words == 1600  # both ranges were counted, and merged
    # At most one wait per COUNT_LINE_SECONDS (0.1 s) of the half second, with a margin for a slow machine.
    assert len(waits) <= 20, len(waits)


def test_a_cancelled_scan_reads_nothing_more(tmp_path):
    import threading

    path = tmp_path / "words.txt"
    path.write_bytes(b"alpha beta gamma delta " * 400)
    cancel = threading.Event()
    cancel.set()
    table, _ = table_from_words([b"</s>"])
    chunks = []
    scan_corpus(str(path), table, False, on_ids=chunks.append, cancel=cancel)
    assert chunks == [] and table.meta[0] == 1
    scan = scan_corpus(str(path), table, False, on_ids=chunks.append)  # the same scan, not cancelled
    assert sum(len(chunk) for chunk in chunks) == 1600 and scan.table.meta[0] == 5


@pytest.mark.parametrize("packing", ["plain", "gzip"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_debug_2_count_line_is_cs_for_the_whole_file(tmp_path, monkeypatch, capsys, threads, packing):
    # C prints "<thousands>K\r" every 100,000 words; with ranges or segments
    # the line must count the whole file, not the first part alone.
    from pyw2v.corpus import prepare, segments

    text = b"alpha beta gamma delta\n" * 62_600  # 313,000 words, counting each line's </s>
    path = tmp_path / "words.txt"
    if packing == "gzip":
        path = tmp_path / "words.txt.gz"
        text = gzip.compress(text)
    path.write_bytes(text)
    monkeypatch.setattr(prepare, "MIN_RANGE_BYTES", 64)
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 100_000)
    prepare.prepare_vocabulary(path, corpus_settings(TrainOptions(threads=threads, debug=2)))
    shown = [int(k) for k in re.findall(r"(\d+)K\r", capsys.readouterr().out)]
    assert shown and shown[-1] == 300
    assert all(k % 100 == 0 for k in shown) and shown == sorted(set(shown))


def _feed(path, data):
    """Write ``data`` to the FIFO ``path`` from another thread (opening a FIFO waits for its reader)."""
    import threading

    def write():
        with open(path, "wb") as fifo:
            fifo.write(data)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("read_vocab", [False, True])
def test_a_fifo_encodes_like_the_file_it_carries(lee_corpus, tmp_path, threads, read_vocab):
    # A pipe can be read once: C's slices (which need the size first) and -read-vocab's
    # second pass are cut from the one read. It used to be read to its end and opened again.
    import os

    from pyw2v.corpus.vocab import save_vocab

    settings = corpus_settings(TrainOptions(threads=threads, debug=0))
    vocab_file = ""
    if read_vocab:
        vocab_file = str(tmp_path / "vocab.txt")
        save_vocab(vocab_file, prepare_corpus(lee_corpus, settings, encode=False)[0])
    expected_vocab, expected = prepare_corpus(lee_corpus, settings, vocab_file)
    fifo = tmp_path / "corpus.fifo"
    os.mkfifo(fifo)
    writer = _feed(fifo, lee_corpus.read_bytes())
    vocab, corpus = prepare_corpus(str(fifo), settings, vocab_file)
    writer.join(timeout=60)
    assert vocab.words == expected_vocab.words and vocab.counts.tolist() == expected_vocab.counts.tolist()
    for ours, theirs in ((corpus.ids, expected.ids), (corpus.starts, expected.starts),
                         (corpus.first_words, expected.first_words)):
        np.testing.assert_array_equal(ours, theirs)
    if threads > 1:
        assert corpus.starts[-1] > 0
    assert [name for name in os.listdir(tmp_path) if name not in ("corpus.fifo", "vocab.txt")] == []


@pytest.mark.parametrize("how", ["fifo", "/dev/stdin", "process substitution"])
def test_a_pipe_trains_like_the_file_with_any_thread_count(lee_corpus, tmp_path, how):
    # With -threads 2 a FIFO hung and process substitution found no word; with -threads 1
    # the vectors must be the file's, byte for byte.
    import os
    import subprocess
    import sys

    args = ["-size", "8", "-iter", "1", "-debug", "0", "-binary", "1", "-save-vocab", "vocab.txt"]
    command = [sys.executable, "-m", "pyw2v.cli"]
    subprocess.run(command + ["-train", str(lee_corpus), "-output", "file.bin", "-threads", "1"] + args,
                   cwd=tmp_path, check=True, capture_output=True)
    expected_vocab = (tmp_path / "vocab.txt").read_bytes()
    for threads in ("1", "2"):
        rest, text = ["-output", f"pipe{threads}.bin", "-threads", threads, *args], None
        if how == "fifo":
            os.mkfifo(tmp_path / "corpus.fifo")
            writer = _feed(tmp_path / "corpus.fifo", lee_corpus.read_bytes())
            run = [*command, "-train", "corpus.fifo", *rest]
        elif how == "/dev/stdin":
            run, text = [*command, "-train", "/dev/stdin", *rest], lee_corpus.read_bytes()
        else:
            run = ["bash", "-c", " ".join(command) + f' -train <(cat {lee_corpus}) "$@"', "bash", *rest]
        result = subprocess.run(run, input=text, cwd=tmp_path, capture_output=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "vocab.txt").read_bytes() == expected_vocab
        if how == "fifo":
            writer.join(timeout=60)
            os.unlink(tmp_path / "corpus.fifo")
    assert (tmp_path / "pipe1.bin").read_bytes() == (tmp_path / "file.bin").read_bytes()
    assert (tmp_path / "pipe2.bin").stat().st_size == (tmp_path / "file.bin").stat().st_size


def test_the_vocabulary_starts_as_cs_with_eos_alone_at_count_0():
    table = corpus.table_with_eos()
    assert words_of(table) == [b"</s>"] and table.counts[0] == 0
    eos = np.frombuffer(b"</s>", dtype=np.uint8)
    assert find_or_add(table, eos, 0, len(eos), False) == 0
    # A newline is then counted on that id, not added again.
    scanned = corpus.scan_chunks([b"\n"], 0, table, False).table
    assert words_of(scanned) == [b"</s>"] and scanned.counts[0] == 1
