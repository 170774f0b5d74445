"""From a training file to what the kernels train on, reading the text once.

The first pass counts the vocabulary (C's LearnVocabFromTrainFile and
SortVocab) and keeps every token as the id of its table entry, in order of
first appearance. Once the vocabulary is sorted, those ids are re-encoded
with C's ids, dropping the words under ``-min-count``, into the varint
stream the kernels train on (:mod:`pyw2v.encoding`), and the byte offsets
where C's thread slices start are carried over. C reads the text a second
time instead; pyw2v does so only when the first pass cannot serve: with
``-read-vocab``, or when ReduceVocab pruned the table mid-pass (past 21
million distinct words) and so renumbered the ids already kept.
"""
import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from .corpus import REDUCE_THRESHOLD, corpus_size, is_plain_file, range_cuts, scan_corpus, show_word_count
from .encoding import StreamWriter, transcode, varint_lengths
from .errors import UserError
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
    """The corpus as a varint stream of word ids, and each thread slice's byte offset in it."""

    ids: np.ndarray
    starts: np.ndarray
    first_words: np.ndarray


@dataclass
class FirstPass:
    """The counting pass's tokens, per byte range, with ids in order of first appearance."""

    streams: list  # per range: varint ids of that range's own counting table
    table_ids: list  # per range: its table's id -> the merged table's id (None: the same)
    slice_parts: np.ndarray  # the range each thread slice starts in
    slice_offsets: np.ndarray  # and its byte offset in that range's stream
    first_words: np.ndarray  # C's id of the word a slice starting inside a word reads first, or -1
    new_ids: np.ndarray  # merged table id -> C's id, or -1 under -min-count


def prepare_corpus(options):
    """The vocabulary and the corpus as a varint id stream split into C's thread slices."""
    vocab, first_pass = prepare_vocabulary(options, keep_tokens=True)
    return vocab, encode_corpus(options, vocab, first_pass)


def prepare_vocabulary(options, keep_tokens=False):
    """C's vocabulary: counted from the text or read with ``-read-vocab``.

    With ``keep_tokens``, also the counting pass's tokens (a :class:`FirstPass`,
    or None when they cannot serve) for :func:`encode_corpus`.
    """
    if options.read_vocab:
        vocab, first_pass = read_vocab(options.read_vocab, options.min_count), None
    else:
        vocab, first_pass = _count_vocabulary(options, keep_tokens)
    _require_words(vocab, options)
    return vocab, first_pass


def _count_vocabulary(options, keep_tokens):
    """The first pass: C's LearnVocabFromTrainFile and SortVocab."""
    offsets = _slice_offsets(options) if keep_tokens else []
    table, parts, table_ids = _count_parts(options, offsets, keep_tokens)
    counts = table.counts[: table.meta[0]]
    order = sort_order(counts, options.min_count)
    vocab = Vocabulary(words_of(table, order), counts[order].copy())
    if not keep_tokens or parts[0][0].reduced:  # ReduceVocab renumbered the ids kept so far
        return vocab, None
    new_ids = np.full(len(counts), -1, dtype=np.int32)
    new_ids[order] = np.arange(len(order), dtype=np.int32)
    streams, slice_parts, slice_offsets, first_words = [], [], [], []
    for part, (scan, writer) in enumerate(parts):
        # Untrimmed: a varint id never takes more bytes than its word and
        # delimiter, so the buffer (the range's size) never grows, and its
        # untouched tail is address space, not memory.
        stream, starts = writer.finish(scan.probes.token_index, trim=False)
        streams.append(stream)
        slice_parts += [part] * len(starts)
        slice_offsets += list(starts)
        first_words += list(_first_words(table, scan.probes, new_ids))
    first_pass = FirstPass(
        streams, table_ids, np.array(slice_parts), np.array(slice_offsets, dtype=np.int64),
        np.array(first_words, dtype=np.int64), new_ids,
    )
    return vocab, first_pass


def _count_parts(options, offsets, keep_tokens):
    """Count the corpus; returns C's table, each part's ``(scan, stream writer)`` and table ids.

    A plain file is cut into byte ranges at delimiters, one per thread, each
    counted in its own table at the same time; merging the tables in file
    order gives C's table (words in order of first appearance, with their
    counts). Should the merged table pass ReduceVocab's limit, where C would
    have pruned it mid-pass, the file is counted again in one piece.
    """
    ranges = _count_ranges(options)
    if len(ranges) > 1:
        cancel = threading.Event()
        tallies = np.zeros(len(ranges), dtype=np.int64)
        with ThreadPoolExecutor(len(ranges)) as workers:
            futures = [
                workers.submit(_count_range, options, r, offsets, keep_tokens, cancel, 0, tallies[k : k + 1])
                for k, r in enumerate(ranges)
            ]
            try:
                shown, pending = 0, futures
                while pending:
                    done, pending = wait(futures, timeout=COUNT_LINE_SECONDS, return_when=FIRST_EXCEPTION)
                    if options.debug > 1:
                        shown = show_word_count(int(tallies.sum()), shown)
                    for future in done:
                        if future.exception() is not None:
                            future.result()  # a range failed: raise its error now, not after the others end
                parts = [future.result() for future in futures]
            except BaseException:
                cancel.set()  # Ctrl-C: the other ranges stop at their next chunk, not at their end
                raise
        table, table_ids = parts[0][0].table, [None]
        for scan, _ in parts[1:]:
            table, ids = merge_tables(table, scan.table)
            table_ids.append(ids)
        if table.meta[0] <= REDUCE_THRESHOLD and not any(scan.reduced for scan, _ in parts):
            return table, parts, table_ids
    parts = [_count_range(options, None, offsets, keep_tokens, debug=options.debug)]
    return parts[0][0].table, parts, [None]


def _count_ranges(options):
    """The byte ranges counted side by side: one per thread for a big plain file, else the whole input."""
    parts = options.threads
    if parts < 2 or not is_plain_file(options.train) or os.path.getsize(options.train) < parts * MIN_RANGE_BYTES:
        return [None]
    return range_cuts(options.train, parts)


def _count_range(options, byte_range, offsets, keep_tokens, cancel=None, debug=0, tally=None):
    """Count one byte range (or the whole input) into a fresh table; returns the scan and its stream writer."""
    start, end = byte_range or (0, None)
    first = start == 0
    inside = [offset for offset in offsets if offset >= start and (end is None or offset < end)]
    # C's vocabulary starts with </s> (count 0 until a newline is read).
    table = table_from_words([b"</s>"])[0] if first else new_table()
    writer = None
    if keep_tokens:
        plain = is_plain_file(options.train)
        writer = StreamWriter(end - start if end else os.path.getsize(options.train) if plain else GUESSED_STREAM_BYTES)
    scan = scan_corpus(options.train, table, False, inside, debug, writer, byte_range, cancel, tally)
    return scan, writer


def _slice_offsets(options):
    """Where C's threads start reading: ``file_size / threads * t``."""
    threads = options.threads
    file_size = corpus_size(options.train) if threads > 1 else 0
    return [file_size // threads * t for t in range(threads)]


def _first_words(table, probes, table_ids):
    """The id of the word a slice starting inside a word reads first, or -1."""
    first_words = np.full(len(probes.offsets), -1, dtype=np.int64)
    for t in np.flatnonzero(probes.partial_len):
        word = find_or_add(table, probes.partial[t], 0, probes.partial_len[t], False)
        if word >= 0:
            first_words[t] = table_ids[word]
    return first_words


def _require_words(vocab, options):
    if vocab.size < 2 or vocab.train_words == 0:
        source = options.read_vocab or options.train
        raise UserError(f"{source}: no word occurs at least {options.min_count} times (-min-count); nothing to train")


def encode_corpus(options, vocab, first_pass=None):
    """Final ids, and where each thread's slice starts (C's fseek offsets).

    From ``first_pass`` when there is one, else by a second pass over the text.
    """
    expected_bytes = (vocab.counts * varint_lengths(vocab.size)).sum()
    if first_pass is not None:
        ids = np.empty(expected_bytes, dtype=np.uint8)
        starts = np.empty(len(first_pass.slice_parts), dtype=np.int64)
        written = 0
        for part, stream in enumerate(first_pass.streams):
            mapping = first_pass.table_ids[part]
            new_ids = first_pass.new_ids if mapping is None else first_pass.new_ids[mapping]
            inside = first_pass.slice_parts == part
            count, moved = transcode(stream, new_ids, first_pass.slice_offsets[inside], ids[written:])
            starts[inside] = written + moved
            written += count
        assert written == expected_bytes
        return EncodedCorpus(ids, starts, first_pass.first_words)
    offsets = _slice_offsets(options)
    table, vocab_id = table_from_words(vocab.words)
    vocab_id = vocab_id.astype(np.int32)
    writer = StreamWriter(expected_bytes)
    scan = scan_corpus(options.train, table, True, offsets, 0, on_ids=lambda ids: writer(vocab_id[ids]))
    ids, starts = writer.finish(scan.probes.token_index)
    return EncodedCorpus(ids, starts, _first_words(table, scan.probes, vocab_id))
