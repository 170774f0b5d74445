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
from dataclasses import dataclass

import numpy as np

from .corpus import corpus_size, scan_corpus
from .encoding import StreamWriter, transcode, varint_lengths
from .errors import UserError
from .vocab import Vocabulary, read_vocab, sort_order
from .wordtable import find_or_add, table_from_words, words_of

# Compressed input of unknown size: where the first pass's stream starts.
GUESSED_STREAM_BYTES = 64 << 20


@dataclass
class EncodedCorpus:
    """The corpus as a varint stream of word ids, and each thread slice's byte offset in it."""

    ids: np.ndarray
    starts: np.ndarray
    first_words: np.ndarray


@dataclass
class FirstPass:
    """The counting pass's tokens, with ids in order of first appearance."""

    stream: np.ndarray  # varint ids of the counting table's entries
    starts: np.ndarray  # each thread slice's byte offset in ``stream``
    first_words: np.ndarray  # C's id of the word a slice starting inside a word reads first, or -1
    new_ids: np.ndarray  # table entry -> C's id, or -1 under -min-count


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
    # C's vocabulary starts with </s> (count 0 until a newline is read).
    table, _ = table_from_words([b"</s>"])
    if keep_tokens:
        offsets, file_size = _slice_offsets(options)
        writer = StreamWriter(file_size or GUESSED_STREAM_BYTES)
        scan = scan_corpus(options.train, table, False, offsets, options.debug, on_ids=writer)
    else:
        scan = scan_corpus(options.train, table, False, debug=options.debug)
    table = scan.table
    counts = table.counts[: table.meta[0]]
    order = sort_order(counts, options.min_count)
    vocab = Vocabulary(words_of(table, order), counts[order].copy())
    if not keep_tokens or scan.reduced:
        return vocab, None
    # The stream is untrimmed: a varint id never takes more bytes than the
    # word and its delimiter, so the buffer (the file's size) never grows,
    # and its untouched tail is address space, not memory.
    stream, starts = writer.finish(scan.probes.token_index, trim=False)
    new_ids = np.full(len(counts), -1, dtype=np.int32)
    new_ids[order] = np.arange(len(order), dtype=np.int32)
    first_words = _first_words(table, scan.probes, new_ids)
    return vocab, FirstPass(stream, starts, first_words, new_ids)


def _slice_offsets(options):
    """Where C's threads start reading (``file_size / threads * t``), and the file size (0 if one thread)."""
    threads = options.threads
    file_size = corpus_size(options.train) if threads > 1 else 0
    return [file_size // threads * t for t in range(threads)], file_size


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
        written, starts = transcode(first_pass.stream, first_pass.new_ids, first_pass.starts, ids)
        assert written == expected_bytes
        return EncodedCorpus(ids, starts, first_pass.first_words)
    offsets, _ = _slice_offsets(options)
    table, vocab_id = table_from_words(vocab.words)
    vocab_id = vocab_id.astype(np.int32)
    writer = StreamWriter(expected_bytes)
    scan = scan_corpus(options.train, table, True, offsets, 0, on_ids=lambda ids: writer(vocab_id[ids]))
    ids, starts = writer.finish(scan.probes.token_index)
    return EncodedCorpus(ids, starts, _first_words(table, scan.probes, vocab_id))
