"""From a training file to what the kernels train on, reading the text once.

The first pass counts the vocabulary (C's LearnVocabFromTrainFile and
SortVocab) and keeps every token as the id of its table entry, in order of
first appearance. Once the vocabulary is sorted, those ids are re-encoded
with C's ids, dropping the words under ``-min-count``, into the varint
stream the kernels train on (:mod:`pyw2v.corpus.encoding`), and the byte offsets
where C's thread slices start are carried over. C reads the text a second
time instead; pyw2v does so only when the first pass cannot serve: with
``-read-vocab``, or when ReduceVocab pruned the table mid-pass (past 21
million distinct words) and so renumbered the ids already kept.

Either stream is held in memory while it fits the memory budget
(:mod:`pyw2v.corpus.budget`), and written to a temporary file beyond it
(:mod:`pyw2v.corpus.spill`); the final one is then read through a memory map.

The functions take the text's path and a :class:`CorpusSettings`, never the
run's options. A text that can be read only once (a pipe) is copied once to
a temporary file when several threads need its size before counting, or
``-read-vocab`` a second pass.
"""
import contextlib
import os
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import NamedTuple

import numpy as np

from ..errors import UserError, open_input
from ..memory import MIB
from .budget import spill_directory
from .encoding import transcode, varint_lengths
from .reader import (
    CHUNK_BYTES,
    REDUCE_THRESHOLD,
    corpus_size,
    is_plain_file,
    range_cuts,
    read_input,
    scan_bytes,
    scan_corpus,
    show_word_count,
    table_with_eos,
)
from .segments import size_hint, stream_segments
from .spill import CountingSpill, FileSink, MemorySink, SpillFile, pieces
from .vocab import Vocabulary, sort_order
from .vocab import read_vocab as read_vocab_file
from .wordtable import find_or_add, merge_tables, new_table, table_from_words, words_of

# Compressed input of unknown size: where the first pass's stream starts.
GUESSED_STREAM_BYTES = 64 << 20
# Below this many bytes a thread, the first pass counts in one piece.
MIN_RANGE_BYTES = 4 << 20
# How often the ranged count's -debug 2 line is brought up to date.
COUNT_LINE_SECONDS = 0.1


@dataclass
class EncodedCorpus:
    """The corpus as a varint stream of word ids, and each thread slice's byte offset in it.

    ``storage``: the temporary file that ``ids`` maps when the stream is over
    the memory budget (:mod:`pyw2v.corpus.spill`), else None. Used as a
    context manager, the corpus frees that file at the end of the block.
    """

    ids: np.ndarray
    starts: np.ndarray
    first_words: np.ndarray
    storage: object = None

    def close(self):
        self.ids = None
        if self.storage is not None:
            self.storage.close()
            self.storage = None

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


@dataclass
class FirstPass:
    """The counting pass's tokens, per byte range, with ids in order of first appearance."""

    streams: list  # per range: varint ids of that range's own counting table, as consecutive arrays
    table_ids: list  # per range: its table's id -> the merged table's id (None: the same)
    slice_parts: np.ndarray  # the range each thread slice starts in
    slice_offsets: np.ndarray  # and its byte offset in that range's stream
    first_words: np.ndarray  # C's id of the word a slice starting inside a word reads first, or -1
    new_ids: np.ndarray  # merged table id -> C's id, or -1 under -min-count
    final_bytes: int  # of the stream re-encoded with C's ids
    held: int = 0  # bytes of the streams held in memory; the others are views of spill's file
    spill: CountingSpill = None

    def close(self):
        """Free the streams and their file (:func:`encode_corpus` does, once it is done with them)."""
        self.streams = None
        if self.spill is not None:
            self.spill.close()


class CorpusSettings(NamedTuple):
    """What the corpus pass reads of a run's options (built by :func:`pyw2v.train.corpus_settings`)."""

    min_count: int
    threads: int  # C's threads, whose slices the stream is cut into; also the counting pass's workers
    memory: int  # bytes of encoded corpus that may be held in memory (pyw2v.corpus.budget)
    tmpdir: str  # -tmpdir, or "" for the system's temporary directory
    debug: int


def prepare_corpus(train, settings, read_vocab="", encode=True):
    """The vocabulary, and the corpus as a varint id stream split into C's thread slices (None without ``encode``).

    ``read_vocab``: a vocabulary file to read (C's ``-read-vocab``) instead
    of counting the text. A text that cannot be read twice (a pipe, a FIFO,
    a device) is read once, into a temporary file, when it has to be.
    """
    with _readable_twice(train, settings, spooled=encode and (settings.threads > 1 or bool(read_vocab))) as text:
        vocab, first_pass = prepare_vocabulary(text, settings, read_vocab, keep_tokens=encode)
        _require_words(vocab, read_vocab or train, settings.min_count)
        if not encode:
            return vocab, None
        if first_pass is None:  # -read-vocab, or ReduceVocab renumbered the ids kept: the text again
            if _read_once(text):
                raise UserError(
                    f"{train}: over {REDUCE_THRESHOLD} distinct words, read from a pipe with -threads 1: "
                    "the text must be read twice; give it as a file, or -threads 2 or more"
                )
            first_pass = _read_again(text, vocab, settings)
        return vocab, encode_corpus(vocab, first_pass, settings)


@contextlib.contextmanager
def _readable_twice(train, settings, spooled):
    """``train``, or with ``spooled`` and a text that can be read only once, a temporary copy of it.

    Several threads need the text's size before it is counted, and
    ``-read-vocab`` reads it after the vocabulary; a pipe gives its bytes
    once. Its copy is the decompressed text, so it is plain.
    """
    if not spooled or not _read_once(train):
        yield train
        return
    copy = SpillFile(spill_directory(settings.tmpdir), f"the text read from {train}")
    try:
        with open_input(train) as stream:
            while True:
                data = read_input(stream, train, CHUNK_BYTES)
                if not data:
                    break
                copy.append(np.frombuffer(data, dtype=np.uint8))
        copy.file.flush()
        yield f"/proc/self/fd/{copy.file.fileno()}"
    finally:
        copy.close()


def _read_once(path):
    """Whether ``path`` names a local pipe, FIFO or device: its bytes can be read once."""
    return "://" not in str(path) and os.path.exists(path) and not os.path.isfile(path) and not os.path.isdir(path)


def prepare_vocabulary(train, settings, read_vocab="", keep_tokens=False):
    """C's vocabulary: counted from the text or read with ``read_vocab``.

    With ``keep_tokens``, also the counting pass's tokens (a :class:`FirstPass`,
    or None when they cannot serve) for :func:`encode_corpus`.
    """
    if read_vocab:
        return read_vocab_file(read_vocab, settings.min_count), None
    return _count_vocabulary(train, settings, keep_tokens)


def _count_vocabulary(train, settings, keep_tokens):
    """The first pass: C's LearnVocabFromTrainFile and SortVocab.

    With ``keep_tokens``, the tokens are kept in memory up to half the
    memory limit, and beyond it in a temporary file (:mod:`pyw2v.corpus.spill`).
    """
    size, offsets, spill = 0, [], None
    threads = settings.threads
    if keep_tokens:
        size = size_hint(train) if threads > 1 else 0
        if size is None:  # neither a plain nor a local gzip file: read it through once
            size = corpus_size(train)
        offsets = _slice_offsets(size, threads)
        spill = _counting_spill(train, settings)
    try:
        table, parts, table_ids = _count_parts(train, settings, offsets, spill)
        read = parts[-1][0].end
        if keep_tokens and threads > 1 and read != size:
            # A gzip trailer's size was not the whole's (several members, or 4 GiB
            # and more): the slices start elsewhere, so count again knowing it.
            spill.close()
            spill, parts = _counting_spill(train, settings), None
            table, parts, table_ids = _count_parts(train, settings, _slice_offsets(read, threads), spill)
        counts = table.counts[: table.meta[0]]
        order = sort_order(counts, settings.min_count)
        vocab = Vocabulary(words_of(table, order), counts[order].copy())
        if not keep_tokens or parts[0][0].reduced:  # ReduceVocab renumbered the ids kept so far
            if spill is not None:
                spill.close()
            return vocab, None
        new_ids = np.full(len(counts), -1, dtype=np.int32)
        new_ids[order] = np.arange(len(order), dtype=np.int32)
        return vocab, _first_pass(table, parts, table_ids, new_ids, counts, spill)
    except BaseException:
        if spill is not None:
            spill.close()
        raise


def _read_again(train, vocab, settings):
    """The text's tokens with the words of ``vocab`` only, as a :class:`FirstPass` whose ids map to C's.

    C's second pass (ReadWordIndex, skipping unknown words), for when the
    counting pass kept no tokens that can serve.
    """
    threads = settings.threads
    table, vocab_id = table_from_words(vocab.words)
    widths = varint_lengths(vocab.size)
    # -read-vocab's counts need not be this text's: the text holds at most a token a byte.
    most_tokens = os.path.getsize(train) if is_plain_file(train) else GUESSED_STREAM_BYTES
    expected = min(int((vocab.counts * widths).sum()), most_tokens * int(widths.max(initial=1)))
    spill = CountingSpill(settings.memory // 2, spill_directory(settings.tmpdir), expected, "the encoded corpus")
    token_counts = np.zeros(len(vocab_id), dtype=np.int64)

    def keep(ids):
        writer(ids)
        token_counts[:] += np.bincount(ids, minlength=len(token_counts))

    try:
        writer = spill.writer(expected)
        offsets = _slice_offsets(corpus_size(train) if threads > 1 else 0, threads)
        scan = scan_corpus(train, table, True, offsets, 0, on_ids=keep)
        return _first_pass(table, [(scan, writer)], [None], vocab_id.astype(np.int32), token_counts, spill)
    except BaseException:
        spill.close()
        raise


def _first_pass(table, parts, table_ids, new_ids, token_counts, spill):
    """The counted parts' streams, and where C's thread slices start in them.

    ``token_counts``: the tokens of each (merged) table id in the streams.
    """
    streams, slice_parts, slice_offsets, first_words = [], [], [], []
    held = sum(writer.held for _, writer in parts)
    for part, (scan, writer) in enumerate(parts):
        # Held in memory, untrimmed: a varint id never takes more bytes than
        # its word and delimiter, so the buffer (the range's size) never
        # grows, and its untouched tail is address space, not memory.
        blocks, starts = writer.finish_blocks(scan.probes.token_index)
        streams.append(blocks)
        slice_parts += [part] * len(starts)
        slice_offsets += list(starts)
        first_words += list(_first_words(table, scan.probes, new_ids))
    return FirstPass(
        streams, table_ids, np.array(slice_parts), np.array(slice_offsets, dtype=np.int64),
        np.array(first_words, dtype=np.int64), new_ids, _final_bytes(new_ids, token_counts), held, spill,
    )


def _final_bytes(new_ids, token_counts):
    kept = new_ids >= 0
    widths = varint_lengths(int(new_ids.max(initial=-1)) + 1)
    return int((token_counts[kept] * widths[new_ids[kept]]).sum())


def _counting_spill(train, settings):
    """The counting pass's share of the memory limit: half, the other half being for the final stream.

    The free space asked for before the file is made is a guess: about 2
    bytes a token, at about 5 bytes of text a token.
    """
    size = size_hint(train)
    expected = size * 2 // 5 if size else 0
    return CountingSpill(settings.memory // 2, spill_directory(settings.tmpdir), expected)


def _count_parts(train, settings, offsets, spill):
    """Count the corpus; returns C's table, each part's ``(scan, stream writer)`` and table ids.

    The writers keep the tokens within ``spill``'s budget (none without ``spill``).

    With several threads the corpus is cut into parts: a big plain file into
    one byte range per thread, a compressed one into segments as it is read
    (:mod:`pyw2v.corpus.segments`). The parts are counted side by side, each in its
    own table; merging the tables in file order gives C's table (words in
    order of first appearance, with their counts). Should the merged table
    pass ReduceVocab's limit, where C would have pruned it mid-pass, the
    file is counted again in one piece.
    """
    jobs = _part_jobs(train, settings.threads, offsets, spill)
    if jobs is not None:
        parts, table_ids, table = [], [None], None
        for scan, writer in _side_by_side(settings, jobs):
            if parts:
                table, ids = merge_tables(table, scan.table)
                table_ids.append(ids)
            else:
                table = scan.table
            parts.append((scan._replace(table=None), writer))  # its words are in the merged table now
        if parts and table.meta[0] <= REDUCE_THRESHOLD and not any(scan.reduced for scan, _ in parts):
            return table, parts, table_ids
    parts = None
    if spill is not None:
        spill.reset()  # the parts' streams are dropped
    scan, writer = _count_part(train, offsets, spill, debug=settings.debug)
    return scan.table, [(scan, writer)], [None]


def _part_jobs(train, threads, offsets, spill):
    """The parts counted side by side, as calls taking ``(cancel, tally)``; None to count in one piece."""
    if threads < 2:
        return None
    if not is_plain_file(train):
        segments = stream_segments(train)
        return (partial(_count_part, train, offsets, spill, data=data, start=start) for start, data in segments)
    if os.path.getsize(train) < threads * MIN_RANGE_BYTES:
        return None
    return [partial(_count_part, train, offsets, spill, byte_range=r) for r in range_cuts(train, threads)]


def _side_by_side(settings, jobs):
    """Run ``jobs`` on one worker per thread; yields their results in order.

    The jobs are made as they are needed (making a segment's reads it), with
    at most one per worker waiting or done and not yet taken, so the parts
    held in memory at once stay few.
    """
    cancel = threading.Event()
    pending = deque()  # (future, tally) of the parts not yet taken, in order
    counted = shown = 0  # tokens in the parts taken; the last count line printed
    with ThreadPoolExecutor(settings.threads) as workers:
        try:
            for job in chain(jobs, [None]):
                if job is not None:
                    tally = np.zeros(1, dtype=np.int64)
                    pending.append((workers.submit(job, cancel=cancel, tally=tally), tally))
                held = settings.threads if job is not None else 0
                while True:
                    while pending and pending[0][0].done():
                        future, tally = pending.popleft()
                        counted += int(tally[0])
                        yield future.result()
                    if len(pending) <= held:
                        break
                    for future, _ in pending:
                        if future.done() and future.exception() is not None:
                            future.result()  # a part failed: raise its error now, not after the others end
                    # Only the parts still running: a later part done before the first would end
                    # every wait at once, and this thread would spin beside the counting threads.
                    running = [future for future, _ in pending if not future.done()]
                    wait(running, timeout=COUNT_LINE_SECONDS, return_when=FIRST_COMPLETED)
                    if settings.debug > 1:
                        shown = show_word_count(counted + int(sum(tally[0] for _, tally in pending)), shown)
            if settings.debug > 1:
                show_word_count(counted, shown)
        except BaseException:
            cancel.set()  # an error or Ctrl-C: the other parts stop at their next chunk, not at their end
            raise


def _count_part(train, offsets, spill, byte_range=None, data=None, start=0, cancel=None, debug=0, tally=None):
    """Count one part of the text ``train`` into a fresh table; returns the scan and its stream writer.

    The part is a plain file's ``byte_range``, or ``data``, the bytes of the
    text from ``start`` on; without either, the whole text.
    """
    if byte_range is not None:
        start, end = byte_range
    else:
        end = None if data is None else start + len(data)
    inside = [offset for offset in offsets if offset >= start and (end is None or offset < end)]
    table = table_with_eos() if start == 0 else new_table()
    writer = None
    if spill is not None:
        plain = is_plain_file(train)
        expected = end - start if end is not None else os.path.getsize(train) if plain else GUESSED_STREAM_BYTES
        writer = spill.writer(expected)
    if data is not None:
        return scan_bytes(data, start, table, False, inside, writer, cancel, tally), writer
    scan = scan_corpus(train, table, False, inside, debug, writer, byte_range, cancel, tally)
    return scan, writer


def _slice_offsets(size, threads):
    """Where C's threads start reading a text of ``size`` bytes: ``size / threads * t``."""
    return [size // threads * t for t in range(threads)]


def _first_words(table, probes, table_ids):
    """The id of the word a slice starting inside a word reads first, or -1."""
    first_words = np.full(len(probes.offsets), -1, dtype=np.int64)
    for t in np.flatnonzero(probes.partial_len):
        tail = probes.partial[t, : probes.partial_len[t]]
        nuls = np.flatnonzero(tail == 0)  # the word ends at its first NUL, as C's string does
        word = find_or_add(table, tail, 0, nuls[0] if len(nuls) else len(tail), False)
        if word >= 0:
            first_words[t] = table_ids[word]
    return first_words


def _require_words(vocab, source, min_count):
    # C keeps </s> whatever its count: it alone is a word to train (a text of newlines) if it reaches -min-count.
    if vocab.size == 0 or vocab.size == 1 and vocab.counts[0] < max(min_count, 1):
        raise UserError(f"{source}: no word occurs at least {min_count} times (-min-count); nothing to train")


def encode_corpus(vocab, first_pass, settings):
    """Final ids, and where each thread's slice starts (C's fseek offsets), from ``first_pass`` (then closed).

    The stream is made in memory if it fits the memory limit with what the
    first pass holds, else in a temporary file (:mod:`pyw2v.corpus.spill`).
    """
    expected_bytes = first_pass.final_bytes
    try:
        sink = _sink(settings, expected_bytes, settings.memory - first_pass.held, int(varint_lengths(vocab.size)[-1]))
        try:
            starts = _transcode_parts(first_pass, sink)
            assert sink.written == expected_bytes
            ids, storage = sink.finish()
        except BaseException:
            sink.close()
            raise
    finally:
        first_pass.close()
    return EncodedCorpus(ids, starts, first_pass.first_words, storage)


def _sink(settings, expected_bytes, room, widest):
    """Where the final stream is made: in memory if it fits ``room``, else in a file."""
    if expected_bytes <= room:
        return MemorySink(expected_bytes)
    directory = spill_directory(settings.tmpdir)
    if settings.debug > 0:
        print(
            f"Encoded corpus: {expected_bytes / MIB:.1f} MiB, over the memory budget "
            f"({max(room, 0) / MIB:.1f} MiB left): read from a temporary file in {directory}",
            flush=True,
        )
    return FileSink(expected_bytes, directory, widest)


def _transcode_parts(first_pass, sink):
    """Re-encode the first pass's streams, part after part, into ``sink``; returns the slices' starts."""
    starts = np.empty(len(first_pass.slice_parts), dtype=np.int64)
    for part, blocks in enumerate(first_pass.streams):
        mapping = first_pass.table_ids[part]
        new_ids = first_pass.new_ids if mapping is None else first_pass.new_ids[mapping]
        inside = np.flatnonzero(first_pass.slice_parts == part)
        marks = first_pass.slice_offsets[inside]
        block_start = 0
        for block in blocks:
            for offset, piece in pieces(block, sink.piece_bytes):
                piece_start = block_start + offset
                here = (marks >= piece_start) & (marks < piece_start + len(piece))
                count, moved = transcode(piece, new_ids, marks[here] - piece_start, sink.out(len(piece)))
                starts[inside[here]] = sink.written + moved
                sink.advance(count)
            block_start += len(block)
        starts[inside[marks >= block_start]] = sink.written  # slices that start at the part's end
    return starts
