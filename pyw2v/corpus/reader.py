"""Reading a corpus into word ids, byte for byte as word2vec.c's ReadWord does.

C's tokenizer (ReadWord), reproduced by :func:`_scan_bytes`:

* space, tab and newline end a word; a carriage return (13) is skipped
  everywhere, even inside a word;
* a newline is itself the word ``</s>`` (C pushes it back and returns
  ``</s>`` on the next call);
* a word longer than ``MAX_STRING - 2`` = 98 bytes keeps its first 98: C
  writes each further byte into slot 98, which its terminator then
  overwrites (``if (a >= MAX_STRING - 1) a--``);
* the token that runs into end of file is dropped, even if complete;
* a word is a C string: it ends at its first NUL byte, and a word whose
  first byte is NUL is the empty word (C counts it like any other).

The corpus is streamed in chunks through smart_open, so ``.gz``/``.bz2``
files and URLs behave like the plain file. Words are bytes, never decoded.

Thread slices: C's thread ``t`` starts reading at byte
``file_size / threads * t``, possibly inside a word, and then reads the same
words as everyone else. A *probe* at that offset records which token the
thread's stream starts at and, when it starts inside a word, the tail of that
word as the thread reads it (its *partial* first word).
"""
from collections import namedtuple

import numpy as np
from numba import njit

from ..borrow import borrowed
from ..errors import UserError, open_input
from .wordtable import (
    FNV_OFFSET,
    find_or_add,
    find_or_add_hashed,
    hash_byte,
    new_table,
    reduce_vocab,
    reserve,
    word_hash,
)

MAX_STRING = 100
CHUNK_BYTES = 1 << 20
WORD_COUNT_STEP = 100_000  # C's LearnVocabFromTrainFile prints its count this often
# C's vocab_hash_size * 0.7: past this many distinct words ReduceVocab prunes.
REDUCE_THRESHOLD = 21_000_000

# Indices into the scanner's int64 state array.
_WORD_LEN, _TOKENS, _MIN_REDUCE, _ACTIVE_PROBES, _NEXT_PROBE, _NUL_AT = range(6)

Probes = namedtuple("Probes", "offsets token_index partial partial_len active")
# reduced: ReduceVocab pruned the table, so the ids emitted before it are stale;
# end: the byte offset after the last byte scanned.
ScanResult = namedtuple("ScanResult", "table probes reduced end")


def new_probes(offsets):
    """Probe state for the sorted byte ``offsets`` where thread slices start."""
    count = len(offsets)
    return Probes(
        offsets=np.asarray(offsets, dtype=np.int64),
        token_index=np.zeros(count, dtype=np.int64),
        partial=np.zeros((count, MAX_STRING), dtype=np.uint8),
        partial_len=np.zeros(count, dtype=np.int64),
        active=np.zeros(count, dtype=np.uint8),
    )


@njit(cache=True, inline="always")
def _append_byte(buf, length, byte):
    """Store ``byte`` at ``buf[length]``; returns the new length, cut like C."""
    buf[length] = byte
    length += 1
    if length >= MAX_STRING - 1:
        length -= 1
    return length


@njit(cache=True, inline="always")
def _emit(table, word, frozen, out_ids, n_out, state):
    """Count (or, when ``frozen``, only keep) the token ``word`` (-1: not in the table); returns the new ``n_out``."""
    if frozen:
        if word < 0:
            return n_out
    else:
        table.counts[word] += 1
    out_ids[n_out] = word
    state[_TOKENS] += 1
    return n_out + 1


@njit(cache=True, nogil=True)
def _scan_bytes(chunk, start, base_offset, state, word_buf, eos, table, frozen, out_ids, n_out, probes, word_limit):
    """Tokenize ``chunk[start:]``, carrying a word in progress over in ``word_buf``.

    Appends token ids to ``out_ids`` from ``n_out`` on. In counting mode
    every token is added to ``table`` and counted; in ``frozen`` mode only
    words already in ``table`` are emitted (C's ReadWordIndex skipping -1).
    Returns the new ``n_out`` and where it stopped: the end of the chunk, or
    as soon as the table holds more than ``word_limit`` words, for the
    caller to grow the hash slots or prune the table (:func:`scan_chunks`)
    before the next token is added, as C's AddWordToVocab does.

    A word's hash is made as its bytes are read (the bytes C keeps: up to
    its first NUL and its 98th byte), so each byte is read once.
    """
    # Lent uncounted to the lookup, which every token makes (pyw2v.borrow).
    table, word_buf, eos = borrowed(table), borrowed(word_buf), borrowed(eos)
    length = state[_WORD_LEN]
    # Where the word's first NUL is (it ends the word as C's string), or -1.
    nul_at = state[_NUL_AT]
    hash_ = word_hash(word_buf, 0, length if nul_at < 0 else nul_at)  # of a word carried over from the last chunk
    add = not frozen
    n_probes = len(probes.offsets)
    active_probes = state[_ACTIVE_PROBES]
    no_probe = base_offset + len(chunk)
    next_probe = probes.offsets[state[_NEXT_PROBE]] if state[_NEXT_PROBE] < n_probes else no_probe
    stop = len(chunk)
    for i in range(start, len(chunk)):
        byte = chunk[i]
        if base_offset + i == next_probe:
            while state[_NEXT_PROBE] < n_probes and probes.offsets[state[_NEXT_PROBE]] == next_probe:
                probe = state[_NEXT_PROBE]
                if length > 0:
                    probes.active[probe] = 1
                    active_probes += 1
                else:
                    probes.token_index[probe] = state[_TOKENS]
                state[_NEXT_PROBE] += 1
            next_probe = probes.offsets[state[_NEXT_PROBE]] if state[_NEXT_PROBE] < n_probes else no_probe
        if byte == 13:
            continue
        if byte == 32 or byte == 9 or byte == 10:
            if length > 0:
                word = find_or_add_hashed(table, word_buf, np.int64(0), length if nul_at < 0 else nul_at, add, hash_)
                n_out = _emit(table, word, frozen, out_ids, n_out, state)
                length = 0
                nul_at = -1
                hash_ = FNV_OFFSET
                if table.meta[0] > word_limit:
                    # Stop before the rest of this byte (a newline's </s>): the call after reads it again,
                    # with no word in progress, and does only that rest.
                    stop = i
                    break
            if active_probes > 0:
                # A slice started inside the word just ended: it starts after it.
                for probe in range(n_probes):
                    if probes.active[probe]:
                        probes.active[probe] = 0
                        probes.token_index[probe] = state[_TOKENS]
                active_probes = 0
            if byte == 10:
                # A call, not the inlined lookup: one copy of it is enough, and newlines are rarer than words.
                # np.int64: a literal 0 would make Numba compile find_or_add once more for that constant.
                n_out = _emit(table, find_or_add(table, eos, np.int64(0), len(eos), add), frozen, out_ids, n_out, state)
            if table.meta[0] > word_limit:
                stop = i + 1
                break
        else:
            if active_probes > 0:
                # A slice started inside this word: collect its tail as the slice reads it.
                for probe in range(n_probes):
                    if probes.active[probe]:
                        probes.partial_len[probe] = _append_byte(
                            probes.partial[probe], probes.partial_len[probe], byte
                        )
            if nul_at < 0 and length < MAX_STRING - 2:  # bytes past the 98th never reach C's word
                if byte == 0:
                    nul_at = length
                else:
                    hash_ = hash_byte(hash_, byte)
            length = _append_byte(word_buf, length, byte)
    # At a stop no word is in progress (length 0, nul_at -1): the next call starts clean.
    state[_WORD_LEN] = length
    state[_NUL_AT] = nul_at
    state[_ACTIVE_PROBES] = active_probes
    return n_out, stop


def show_word_count(words, shown):
    """C's ``-debug 2`` count line, ``<thousands>K`` and a carriage return, every 100,000 words.

    Printed between chunks, so only the last multiple of 100,000 that
    ``words`` passed since the count ``shown`` is printed; returns the new ``shown``.
    """
    mark = words // WORD_COUNT_STEP * WORD_COUNT_STEP
    if mark > shown:
        print("%dK" % (mark // 1000), end="\r", flush=True)
        return mark
    return shown


def scan_corpus(path, table, frozen, probe_offsets=(), debug=0, on_ids=None, byte_range=None, cancel=None, tally=None):
    """Stream ``path`` through the tokenizer; returns a :class:`ScanResult`.

    ``table`` is a :class:`~pyw2v.corpus.wordtable.WordTable`: filled and counted
    when not ``frozen``, only looked up when ``frozen``. ``on_ids`` receives
    each chunk's token ids (a transient array) in order. ``byte_range``
    ``(start, end)`` of a plain file scans those bytes alone, as if they
    were the whole file; the probes must lie in it. Once ``cancel`` (a
    :class:`threading.Event`) is set, the scan stops at the next chunk and
    its result is meaningless. ``tally[0]``, when given, holds the tokens
    read so far (for a progress line printed by another thread).
    """
    offset, end = byte_range or (0, None)
    with open_input(path) as stream:
        if offset:
            stream.seek(offset)
        chunks = _file_chunks(stream, path, offset, end, cancel)
        return scan_chunks(chunks, offset, table, frozen, probe_offsets, debug, on_ids, tally)


def scan_bytes(data, offset, table, frozen, probe_offsets=(), on_ids=None, cancel=None, tally=None):
    """:func:`scan_corpus` over ``data``, bytes of the corpus that start at byte ``offset``."""
    return scan_chunks(_pieces(data, cancel), offset, table, frozen, probe_offsets, 0, on_ids, tally)


def _pieces(data, cancel):
    """``data`` in chunks of the size a file is read in, until ``cancel`` is set."""
    for start in range(0, len(data), CHUNK_BYTES):
        if cancel is not None and cancel.is_set():
            return
        yield data[start : start + CHUNK_BYTES]


def scan_chunks(
    chunks, offset, table, frozen, probe_offsets=(), debug=0, on_ids=None, tally=None, reduce_at=REDUCE_THRESHOLD
):
    """The tokenizer over ``chunks``, consecutive bytes of the corpus from byte ``offset`` on.

    Counting, it prunes the table as C's ReduceVocab does whenever it holds
    more than ``reduce_at`` words: between two tokens, with the threshold
    one higher each time. The pruning is compiled only when a corpus needs it.
    """
    state = np.zeros(6, dtype=np.int64)
    state[_MIN_REDUCE] = 1
    state[_NUL_AT] = -1
    word_buf = np.zeros(MAX_STRING, dtype=np.uint8)
    eos = np.frombuffer(b"</s>", dtype=np.uint8).copy()
    probes = new_probes(probe_offsets)
    shown = 0
    for data in chunks:
        chunk = np.frombuffer(data, dtype=np.uint8)
        ids = np.empty(len(chunk) + 2, dtype=np.int32)
        count = position = 0
        while position < len(chunk):
            if not frozen:
                table = reserve(table, len(chunk) - position + 2, len(chunk) - position + MAX_STRING)
            limit = len(table.slots) if frozen else min(len(table.slots) // 2 - 4, reduce_at)
            count, position = _scan_bytes(
                chunk, position, offset, state, word_buf, eos, table, frozen, ids, count, probes, limit
            )
            if not frozen and table.meta[0] > reduce_at:
                reduce_vocab(table, state[_MIN_REDUCE])
                state[_MIN_REDUCE] += 1
        if on_ids is not None:
            on_ids(ids[:count])
        offset += len(chunk)
        if tally is not None:
            tally[0] = state[_TOKENS]
        if debug > 1:
            shown = show_word_count(state[_TOKENS], shown)
    # A thread that starts inside the word cut off by end of file reads nothing.
    for probe in np.flatnonzero(probes.active):
        probes.token_index[probe] = state[_TOKENS]
        probes.partial_len[probe] = 0
    return ScanResult(table, probes, state[_MIN_REDUCE] > 1, offset)


def table_with_eos():
    """C's vocabulary before its first word: ``</s>`` alone, with count 0.

    Added by the tokenizer reading a newline (C's ``</s>``), with its count
    set back to 0: on a first run no other kernel compiles for it.
    """
    table = scan_chunks([b"\n"], 0, new_table(), False).table
    table.counts[0] = 0
    return table


def read_input(stream, path, size):
    """Up to ``size`` bytes of an open input; a read error becomes a :class:`UserError`."""
    try:
        return stream.read(size) if size > 0 else b""
    except (OSError, EOFError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None


def _file_chunks(stream, path, offset, end, cancel):
    """The chunks of an open input from ``offset`` to ``end`` (None: its end), until ``cancel`` is set."""
    while cancel is None or not cancel.is_set():
        data = read_input(stream, path, CHUNK_BYTES if end is None else min(CHUNK_BYTES, end - offset))
        if not data:
            return
        offset += len(data)
        yield data


def range_cuts(path, parts):
    """Byte offsets that split a plain file into about ``parts`` ranges, each cut just after a delimiter.

    A range that starts right after a space, tab or newline starts with a
    fresh word, so scanning the ranges apart reads exactly the tokens of the
    whole file (only the last range can end inside a word).
    """
    import os

    size = os.path.getsize(path)
    cuts = [0]
    with open(path, "rb") as stream:
        for part in range(1, parts):
            position = max(size * part // parts, cuts[-1] + 1)
            stream.seek(position)
            while True:
                block = stream.read(1 << 16)
                found = [i for i in (block.find(b" "), block.find(b"\t"), block.find(b"\n")) if i >= 0]
                if found or not block:
                    break
                position += len(block)
            if not found:
                break
            cuts.append(position + min(found) + 1)
    return [(start, end) for start, end in zip(cuts, cuts[1:] + [size]) if end > start]


def corpus_size(path):
    """The corpus size in bytes as the tokenizer sees it (decompressed)."""
    import os

    if is_plain_file(path):
        return os.path.getsize(path)
    total = 0
    with open_input(path) as stream:
        while True:
            data = stream.read(CHUNK_BYTES)
            if not data:
                return total
            total += len(data)


# Corpus files read whole, decompressed (any case); on a cluster too (pyw2v.distributed.corpus), where
# fsspec decompresses them under these names (zstd and lz4 need their packages; without one, reading says so).
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd", ".lzma": "lzma", ".lz4": "lz4"}
COMPRESSED_SUFFIXES = tuple(COMPRESSIONS)


def is_plain_file(path):
    """A local, uncompressed file: its bytes are the corpus and can be read from any offset."""
    import os

    path = str(path)
    compressed = path.lower().endswith(COMPRESSED_SUFFIXES)
    return "://" not in path and os.path.isfile(path) and not compressed
