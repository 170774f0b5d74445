"""A corpus over the memory budget: encoded to a temporary file, read through a memory map.

The disk path must give the stream the memory path gives, byte for byte
(so the same vectors with -threads 1), whatever the input's packing, the
threads and where the budget is passed; its files must have no name and be
gone when the run ends, however it ends.
"""
import bz2
import errno
import gzip
import os

import numpy as np
import pytest

from pyw2v.cli import main
from pyw2v.corpus import budget, prepare, reader, segments, spill
from pyw2v.errors import UserError
from pyw2v.options import TrainOptions, parse_arguments
from pyw2v.train import corpus_settings


@pytest.fixture
def small_pieces(monkeypatch):
    """Parts, chunks, segments, blocks and pieces small enough for a 400 KB corpus to have many of each."""
    monkeypatch.setattr(reader, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(prepare, "MIN_RANGE_BYTES", 1000)
    monkeypatch.setattr(segments, "SEGMENT_BYTES", 5000)
    monkeypatch.setattr(spill, "BLOCK_BYTES", 3000)
    monkeypatch.setattr(spill.FileSink, "piece_bytes", 2000)


def packed(lee_corpus, tmp_path, packing, copies=3):
    text = lee_corpus.read_bytes() * copies
    compress = {"plain": bytes, "gz": gzip.compress, "bz2": bz2.compress}[packing]
    path = tmp_path / ("corpus.txt" + ("" if packing == "plain" else "." + packing))
    path.write_bytes(compress(text))
    return path


def encode(path, tmp_path, threads, memory_budget, **settings):
    options = TrainOptions(
        train=str(path), threads=threads, debug=0, memory_budget=memory_budget, tmpdir=str(tmp_path), **settings
    )
    settings = corpus_settings(options)
    vocab, first_pass = prepare.prepare_vocabulary(options.train, settings, options.read_vocab, keep_tokens=True)
    if first_pass is None:
        first_pass = prepare._read_again(options.train, vocab, settings)
    spilled = first_pass.spill.spilling
    return prepare.encode_corpus(vocab, first_pass, settings), spilled


def files_open_in(directory):
    """This process's open files in ``directory`` (an anonymous file shows as ``directory/#inode (deleted)``)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(directory) + "/"):
            found.append(target)
    return found


@pytest.mark.parametrize("packing", ["plain", "gz", "bz2"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_disk_path_encodes_what_memory_path_does(lee_corpus, tmp_path, small_pieces, packing, threads):
    path = packed(lee_corpus, tmp_path, packing)
    in_memory, spilled = encode(path, tmp_path, threads, None)
    assert in_memory.storage is None and not spilled
    stream_mib = len(in_memory.ids) / 2**20
    # 0: everything on disk; a third of the stream: the counting pass spills part of the way in,
    # and the final stream goes to disk or stays in memory depending on what the first pass holds.
    for memory_budget in (0, stream_mib / 3, stream_mib * 1.2):
        corpus, spilled = encode(path, tmp_path, threads, memory_budget)
        assert spilled
        if memory_budget == 0:
            assert corpus.storage is not None
        np.testing.assert_array_equal(corpus.ids, in_memory.ids)
        np.testing.assert_array_equal(corpus.starts, in_memory.starts)
        np.testing.assert_array_equal(corpus.first_words, in_memory.first_words)
        corpus.close()
    if threads > 1:
        assert in_memory.starts[-1] > 0  # the slices really start inside the corpus


def test_second_pass_to_disk_encodes_what_memory_path_does(lee_corpus, tmp_path, small_pieces):
    # With -read-vocab there is no first pass: the text is read again, straight into the file.
    vocab_file = tmp_path / "vocab.txt"
    main(["-train", str(lee_corpus), "-save-vocab", str(vocab_file), "-debug", "0"])
    in_memory, _ = encode(lee_corpus, tmp_path, 3, None, read_vocab=str(vocab_file))
    on_disk, _ = encode(lee_corpus, tmp_path, 3, 0, read_vocab=str(vocab_file))
    assert in_memory.storage is None and on_disk.storage is not None
    ours_arrays = (on_disk.ids, on_disk.starts, on_disk.first_words)
    theirs_arrays = (in_memory.ids, in_memory.starts, in_memory.first_words)
    for ours, theirs in zip(ours_arrays, theirs_arrays):
        np.testing.assert_array_equal(ours, theirs)


def test_temporary_files_have_no_name_and_go_with_the_corpus(lee_corpus, tmp_path, small_pieces):
    spill_dir = tmp_path / "spill"
    spill_dir.mkdir()
    corpus, spilled = encode(lee_corpus, spill_dir, 2, 0)
    assert spilled and os.listdir(spill_dir) == []
    assert len(set(files_open_in(spill_dir))) == 1  # the final stream's (and its map's); the counting pass's is closed
    with corpus:
        assert corpus.ids.sum() > 0  # still readable through the map
    assert files_open_in(spill_dir) == []


def test_interrupted_spill_leaves_no_file(lee_corpus, tmp_path, small_pieces, monkeypatch):
    written = []
    real_append = spill.SpillFile.append

    def append_then_interrupt(self, data):
        written.append(len(data))
        if len(written) == 3:
            raise KeyboardInterrupt
        return real_append(self, data)

    monkeypatch.setattr(spill.SpillFile, "append", append_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        encode(lee_corpus, tmp_path, 2, 0)
    assert len(written) >= 3  # the other part may write a block or two before it stops
    assert files_open_in(tmp_path) == [] and sorted(os.listdir(tmp_path)) == []


def test_short_of_disk_space_is_one_line(lee_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(spill.shutil, "disk_usage", lambda _: _Usage(10_000))
    output = tmp_path / "vectors.txt"
    status = main(["-train", str(lee_corpus), "-output", str(output), "-memory-budget", "0", "-tmpdir", str(tmp_path)])
    error = capsys.readouterr().err
    assert status == 1 and error.count("\n") == 1
    assert error.startswith("pyw2v: ") and "MiB free" in error and "-tmpdir" in error
    assert not output.exists() and files_open_in(tmp_path) == []


def test_disk_full_while_writing_is_one_line(lee_corpus, tmp_path, monkeypatch, capsys):
    def full(*_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(spill.os, "pwrite", full)
    output = tmp_path / "vectors.txt"
    status = main(["-train", str(lee_corpus), "-output", str(output), "-memory-budget", "0", "-tmpdir", str(tmp_path)])
    error = capsys.readouterr().err
    assert status == 1 and error.count("\n") == 1 and "no space left" in error
    assert not output.exists() and files_open_in(tmp_path) == []


class _Usage:
    def __init__(self, free):
        self.total, self.used, self.free = 1 << 40, 0, free


def test_options(tmp_path, lee_corpus):
    options = parse_arguments(["-train", "x", "-memory-budget", "12.5", "-tmpdir", str(tmp_path)])
    assert options.memory_budget == 12.5 and options.tmpdir == str(tmp_path)
    assert corpus_settings(options).memory == int(12.5 * 2**20)
    assert TrainOptions().memory_budget is None and TrainOptions().tmpdir == ""
    refused = (
        (["-memory-budget", "-1"], "must not be negative"),
        (["-memory-budget", "nan"], "needs a number"),
        (["-tmpdir", str(tmp_path / "nowhere")], "no such directory"),
    )
    for bad, message in refused:
        with pytest.raises(UserError, match=message):
            corpus_settings(parse_arguments(["-train", str(lee_corpus)] + bad))


def test_default_budget_is_a_quarter_of_the_memory_available(monkeypatch):
    monkeypatch.setattr(budget, "available_memory", lambda: 1000 << 20)
    assert budget.corpus_budget() == 250 << 20
    assert budget.corpus_budget(0) == 0


def test_unknown_memory_available_keeps_the_corpus_in_memory(monkeypatch):
    monkeypatch.setattr(budget, "available_memory", lambda: None)
    assert budget.corpus_budget() == budget.UNBOUNDED > 1 << 50


def test_disk_path_trains_the_same_vectors_with_one_thread(lee_corpus, tmp_path):
    from pyw2v.train import train

    settings = {
        "size": 20, "iter": 2, "threads": 1, "debug": 0, "cbow": 0, "hs": 1, "negative": 3, "tmpdir": str(tmp_path),
    }
    in_memory = train(str(lee_corpus), **settings)
    on_disk = train(str(lee_corpus), memory_budget=0, **settings)
    pairs = ((on_disk.syn0, in_memory.syn0), (on_disk.syn1, in_memory.syn1), (on_disk.syn1neg, in_memory.syn1neg))
    for ours, theirs in pairs:
        assert ours.tobytes() == theirs.tobytes()
    assert files_open_in(tmp_path) == []


@pytest.mark.parametrize("fast", [0, 1])
def test_disk_path_trains_with_threads_from_gzip(lee_corpus, tmp_path, fast):
    # Several threads race (Hogwild), so their vectors are compared by what they learnt, not bit for bit.
    from pyw2v.train import train

    path = packed(lee_corpus, tmp_path, "gz", copies=1)
    settings = {
        "size": 20, "iter": 3, "threads": 2, "debug": 0, "cbow": 1, "negative": 5, "fast": fast,
        "tmpdir": str(tmp_path),
    }
    in_memory = train(str(path), **settings)
    on_disk = train(str(path), memory_budget=0, **settings)
    assert on_disk.vocab.words == in_memory.vocab.words
    assert np.isfinite(on_disk.syn0).all()
    # Three epochs of lee leave the vectors close to one common direction: compare what is
    # left without it. Each word's two vectors then agree (0.89 measured for both modes),
    # while different words' do not (about 0): a stream misread on disk would not agree.
    frequent = slice(1, 201)
    centred = [m[frequent] - m[frequent].mean(axis=0) for m in (on_disk.syn0, in_memory.syn0)]
    ours, theirs = (m / np.linalg.norm(m, axis=1, keepdims=True) for m in centred)
    similarity = ours @ theirs.T
    same_word = np.median(np.diag(similarity))
    other_words = np.median((similarity.sum(axis=1) - np.diag(similarity)) / (len(similarity) - 1))
    assert same_word > 0.6 and other_words < 0.2
    assert files_open_in(tmp_path) == []
