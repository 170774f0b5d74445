"""From a training file to what the kernels train on: C's two passes over the text.

The first pass counts the vocabulary (C's LearnVocabFromTrainFile and
SortVocab; skipped with ``-read-vocab``). The second encodes the kept words
as a varint id stream (:mod:`pyw2v.encoding`) and finds where each of C's
thread slices starts in it.
"""
from dataclasses import dataclass

import numpy as np

from .corpus import corpus_size, scan_corpus
from .encoding import StreamWriter, varint_lengths
from .errors import UserError
from .vocab import Vocabulary, read_vocab, sort_order
from .wordtable import find_or_add, table_from_words, words_of


@dataclass
class EncodedCorpus:
    """The corpus as a varint stream of final word ids, and each thread slice's byte offset in it."""

    ids: np.ndarray
    starts: np.ndarray
    first_words: np.ndarray


def prepare_corpus(options):
    """The vocabulary and the corpus as a varint id stream split into C's thread slices."""
    vocab = prepare_vocabulary(options)
    return vocab, encode_corpus(options, vocab)


def prepare_vocabulary(options):
    """C's vocabulary: counted from the text (first pass) or read with ``-read-vocab``."""
    if options.read_vocab:
        vocab = read_vocab(options.read_vocab, options.min_count)
    else:
        vocab = _count_vocabulary(options)
    _require_words(vocab, options)
    return vocab


def _count_vocabulary(options):
    """First pass: C's LearnVocabFromTrainFile and SortVocab.

    A function of its own so that the table of every distinct word is freed
    before the second pass allocates the id stream.
    """
    # C's vocabulary starts with </s> (count 0 until a newline is read).
    table, _ = table_from_words([b"</s>"])
    table = scan_corpus(options.train, table, False, debug=options.debug).table
    counts = table.counts[: table.meta[0]]
    order = sort_order(counts, options.min_count)
    return Vocabulary(words_of(table, order), counts[order].copy())


def _require_words(vocab, options):
    if vocab.size < 2 or vocab.train_words == 0:
        source = options.read_vocab or options.train
        raise UserError(f"{source}: no word occurs at least {options.min_count} times (-min-count); nothing to train")


def encode_corpus(options, vocab):
    """Second pass: final ids, and where each thread's slice starts (C's fseek offsets)."""
    threads = options.threads
    file_size = corpus_size(options.train) if threads > 1 else 0
    probe_offsets = [file_size // threads * t for t in range(threads)]
    table, vocab_id = table_from_words(vocab.words)
    vocab_id = vocab_id.astype(np.int32)
    writer = StreamWriter((vocab.counts * varint_lengths(vocab.size)).sum())
    scan = scan_corpus(options.train, table, True, probe_offsets, 0, on_ids=lambda ids: writer(vocab_id[ids]))
    ids, starts = writer.finish(scan.probes.token_index)
    probes = scan.probes
    first_words = np.full(threads, -1, dtype=np.int64)
    for t in np.flatnonzero(probes.partial_len):
        word = find_or_add(table, probes.partial[t], 0, probes.partial_len[t], False)
        if word >= 0:
            first_words[t] = vocab_id[word]
    return EncodedCorpus(ids, starts, first_words)
