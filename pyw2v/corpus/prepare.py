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
"""
import os
import threading
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from itertools import chain

import numpy as np

from .reader import REDUCE_THRESHOLD, corpus_size, is_plain_file, range_cuts, scan_bytes, scan_corpus, show_word_count
from .budget import check_budget_options, corpus_budget, spill_directory
from .encoding import StreamWriter, transcode, varint_lengths
from ..errors import UserError
from ..memory import MIB
from .segments import size_hint, stream_segments
from .spill import CountingSpill, FileSink, MemorySink, pieces
from .vocab import Vocabulary, read_vocab, sort_order
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
    held: int = 0  # bytes of the streams held in memory; the others are views of spill's file
    spill: CountingSpill = None

    def close(self):
        """Free the streams and their file (:func:`encode_corpus` does, once it is done with them)."""
        self.streams = None
        if self.spill is not None:
            self.spill.close()


def prepare_corpus(options):
    """The vocabulary and the corpus as a varint id stream split into C's thread slices."""
    vocab, first_pass = prepare_vocabulary(options, keep_tokens=True)
    return vocab, encode_corpus(options, vocab, first_pass)


def prepare_vocabulary(options, keep_tokens=False):
    """C's vocabulary: counted from the text or read with ``-read-vocab``.

    With ``keep_tokens``, also the counting pass's tokens (a :class:`FirstPass`,
    or None when they cannot serve) for :func:`encode_corpus`.
    """
    check_budget_options(options)  # before any work
    if options.read_vocab:
        vocab, first_pass = read_vocab(options.read_vocab, options.min_count), None
    else:
        vocab, first_pass = _count_vocabulary(options, keep_tokens)
    _require_words(vocab, options)
    return vocab, first_pass


def _count_vocabulary(options, keep_tokens):
    """The first pass: C's LearnVocabFromTrainFile and SortVocab.

    With ``keep_tokens``, the tokens are kept in memory up to half the
    budget, and beyond it in a temporary file (:mod:`pyw2v.corpus.spill`).
    """
    size, offsets, spill = 0, [], None
    if keep_tokens:
        size = size_hint(options.train) if options.threads > 1 else 0
        if size is None:  # neither a plain nor a local gzip file: read it through once
            size = corpus_size(options.train)
        offsets = _slice_offsets(options, size)
        spill = _counting_spill(options)
    try:
        table, parts, table_ids = _count_parts(options, offsets, spill)
        read = parts[-1][0].end
        if keep_tokens and options.threads > 1 and read != size:
            # A gzip trailer's size was not the whole's (several members, or 4 GiB
            # and more): the slices start elsewhere, so count again knowing it.
            spill.close()
            spill, parts = _counting_spill(options), None
            table, parts, table_ids = _count_parts(options, _slice_offsets(options, read), spill)
        counts = table.counts[: table.meta[0]]
        order = sort_order(counts, options.min_count)
        vocab = Vocabulary(words_of(table, order), counts[order].copy())
        if not keep_tokens or parts[0][0].reduced:  # ReduceVocab renumbered the ids kept so far
            if spill is not None:
                spill.close()
            return vocab, None
        new_ids = np.full(len(counts), -1, dtype=np.int32)
        new_ids[order] = np.arange(len(order), dtype=np.int32)
        return vocab, _first_pass(table, parts, table_ids, new_ids, spill)
    except BaseException:
        if spill is not None:
            spill.close()
        raise


def _first_pass(table, parts, table_ids, new_ids, spill):
    """The counted parts' streams, and where C's thread slices start in them."""
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
        np.array(first_words, dtype=np.int64), new_ids, held, spill,
    )


def _counting_spill(options):
    """The counting pass's share of the budget: half, the other half being for the final stream.

    The free space asked for before the file is made is a guess: about 2
    bytes a token, at about 5 bytes of text a token.
    """
    size = size_hint(options.train)
    expected = size * 2 // 5 if size else 0
    return CountingSpill(corpus_budget(options) // 2, spill_directory(options), expected)


def _count_parts(options, offsets, spill):
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
    jobs = _part_jobs(options, offsets, spill)
    if jobs is not None:
        parts, table_ids = [], [None]
        for scan, writer in _side_by_side(options, jobs):
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
    scan, writer = _count_part(options, offsets, spill, debug=options.debug)
    return scan.table, [(scan, writer)], [None]


def _part_jobs(options, offsets, spill):
    """The parts counted side by side, as calls taking ``(cancel, tally)``; None to count in one piece."""
    if options.threads < 2:
        return None
    if not is_plain_file(options.train):
        segments = stream_segments(options.train)
        return (partial(_count_part, options, offsets, spill, data=data, start=start) for start, data in segments)
    if os.path.getsize(options.train) < options.threads * MIN_RANGE_BYTES:
        return None
    ranges = range_cuts(options.train, options.threads)
    return [partial(_count_part, options, offsets, spill, byte_range=r) for r in ranges]


def _side_by_side(options, jobs):
    """Run ``jobs`` on one worker per thread; yields their results in order.

    The jobs are made as they are needed (making a segment's reads it), with
    at most one per worker waiting or done and not yet taken, so the parts
    held in memory at once stay few.
    """
    cancel = threading.Event()
    pending = deque()  # (future, tally) of the parts not yet taken, in order
    counted = shown = 0  # tokens in the parts taken; the last count line printed
    with ThreadPoolExecutor(options.threads) as workers:
        try:
            for job in chain(jobs, [None]):
                if job is not None:
                    tally = np.zeros(1, dtype=np.int64)
                    pending.append((workers.submit(job, cancel=cancel, tally=tally), tally))
                held = options.threads if job is not None else 0
                while True:
                    while pending and pending[0][0].done():
                        future, tally = pending.popleft()
                        counted += int(tally[0])
                        yield future.result()
                    if len(pending) <= held:
                        break
                    futures = [future for future, _ in pending]
                    done, _ = wait(futures, timeout=COUNT_LINE_SECONDS, return_when=FIRST_COMPLETED)
                    if options.debug > 1:
                        shown = show_word_count(counted + int(sum(tally[0] for _, tally in pending)), shown)
                    for future in done:
                        if future.exception() is not None:
                            future.result()  # a part failed: raise its error now, not after the others end
            if options.debug > 1:
                show_word_count(counted, shown)
        except BaseException:
            cancel.set()  # an error or Ctrl-C: the other parts stop at their next chunk, not at their end
            raise


def _count_part(options, offsets, spill, byte_range=None, data=None, start=0, cancel=None, debug=0, tally=None):
    """Count one part into a fresh table; returns the scan and its stream writer.

    The part is a plain file's ``byte_range``, or ``data``, the bytes of the
    corpus from ``start`` on; without either, the whole input.
    """
    if byte_range is not None:
        start, end = byte_range
    else:
        end = None if data is None else start + len(data)
    inside = [offset for offset in offsets if offset >= start and (end is None or offset < end)]
    # C's vocabulary starts with </s> (count 0 until a newline is read).
    table = table_from_words([b"</s>"])[0] if start == 0 else new_table()
    writer = None
    if spill is not None:
        plain = is_plain_file(options.train)
        writer = spill.writer(end - start if end is not None else os.path.getsize(options.train) if plain else GUESSED_STREAM_BYTES)
    if data is not None:
        return scan_bytes(data, start, table, False, inside, writer, cancel, tally), writer
    scan = scan_corpus(options.train, table, False, inside, debug, writer, byte_range, cancel, tally)
    return scan, writer


def _slice_offsets(options, size=None):
    """Where C's threads start reading: ``size / threads * t``, the size read from the input if not given."""
    threads = options.threads
    if size is None:
        size = corpus_size(options.train) if threads > 1 else 0
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


def _require_words(vocab, options):
    if vocab.size < 2 or vocab.train_words == 0:
        source = options.read_vocab or options.train
        raise UserError(f"{source}: no word occurs at least {options.min_count} times (-min-count); nothing to train")


def encode_corpus(options, vocab, first_pass=None):
    """Final ids, and where each thread's slice starts (C's fseek offsets).

    From ``first_pass`` when there is one (which is then closed), else by a
    second pass over the text. The stream is made in memory if it fits the
    budget with what the first pass holds, else in a temporary file
    (:mod:`pyw2v.corpus.spill`).
    """
    widths = varint_lengths(vocab.size)
    expected_bytes = int((vocab.counts * widths).sum())
    budget = corpus_budget(options)
    if first_pass is not None:
        try:
            sink = _sink(options, expected_bytes, budget - first_pass.held, int(widths[-1]))
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
    offsets = _slice_offsets(options)
    table, vocab_id = table_from_words(vocab.words)
    vocab_id = vocab_id.astype(np.int32)
    # -read-vocab's counts need not be this text's (nor fit in memory): the text holds at most a token a byte.
    most_tokens = os.path.getsize(options.train) if is_plain_file(options.train) else GUESSED_STREAM_BYTES
    expected_bytes = min(expected_bytes, most_tokens * int(widths.max(initial=1)))
    if expected_bytes <= budget:
        writer, spill = StreamWriter(expected_bytes), None
    else:
        _announce(options, expected_bytes, budget)
        spill = CountingSpill(0, spill_directory(options), expected_bytes, "the encoded corpus")
        writer = spill.writer(expected_bytes)
    try:
        scan = scan_corpus(options.train, table, True, offsets, 0, on_ids=lambda ids: writer(vocab_id[ids]))
        if spill is None:
            ids, starts = writer.finish(scan.probes.token_index)
        else:
            _, starts = writer.finish_blocks(scan.probes.token_index)
            # The writer's blocks, back to back: the file is its alone.
            ids = spill.file.array() if spill.file is not None else np.zeros(0, dtype=np.uint8)
    except BaseException:
        if spill is not None:
            spill.close()
        raise
    return EncodedCorpus(ids, starts, _first_words(table, scan.probes, vocab_id), spill)


def _sink(options, expected_bytes, room, widest):
    """Where the final stream is made: in memory if it fits ``room``, else in a file."""
    if expected_bytes <= room:
        return MemorySink(expected_bytes)
    _announce(options, expected_bytes, room)
    return FileSink(expected_bytes, spill_directory(options), widest)


def _announce(options, expected_bytes, room):
    if options.debug > 0:
        print(
            f"Encoded corpus: {expected_bytes / MIB:.1f} MiB, over the memory budget "
            f"({max(room, 0) / MIB:.1f} MiB left): read from a temporary file in {spill_directory(options)}",
            flush=True,
        )


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
