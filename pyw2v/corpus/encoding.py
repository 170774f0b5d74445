"""The corpus held in memory as a varint byte stream of word ids.

C re-reads the text file every epoch. pyw2v reads it once, counting the
vocabulary and keeping each token's id in order of first appearance, then
re-encodes that stream with C's ids (:func:`transcode`) and trains from it: each
id is stored in 7-bit groups, low group first, with the high bit set on all
but the last byte. Words are in C's order, most frequent first, so the most
frequent 127 words take one byte, the next 16,257 two: about 1.6 bytes a
token on Wikipedia text instead of 4, which keeps the peak memory of a
100 MB corpus well under C's. A corpus over the memory budget is kept in a
memory-mapped temporary file instead (:mod:`pyw2v.corpus.spill`).
"""
import numpy as np
from numba import njit


def varint_lengths(vocab_size):
    """Bytes taken by each id below ``vocab_size``."""
    ids = np.arange(vocab_size, dtype=np.int64)
    lengths = np.ones(vocab_size, dtype=np.int64)
    for groups in range(1, 5):
        lengths += ids >= (1 << (7 * groups))
    return lengths


class StreamWriter:
    """Accumulates the encoded ids of a corpus, chunk after chunk."""

    def __init__(self, expected_bytes):
        self.data = np.empty(max(int(expected_bytes), 16), dtype=np.uint8)
        self.used = 0
        self.tokens = 0
        self.marks = [(0, 0)]  # (tokens before, bytes before) at each chunk

    def __call__(self, ids):
        done = 0
        while True:
            self.used, done = _encode(ids, done, self.data, self.used)
            if done == len(ids):
                break
            # Only when the expected size was a guess: -read-vocab counts, or a compressed corpus.
            grown = np.empty(2 * len(self.data), dtype=np.uint8)
            grown[: self.used] = self.data[: self.used]
            self.data = grown
        self.tokens += len(ids)
        self.marks.append((self.tokens, self.used))

    def finish(self, tokens, trim=True):
        """The stream and the byte offset of each token index in ``tokens``.

        Without ``trim`` the stream is a view of the writer's buffer, whose
        unused tail costs address space but no memory (it is never touched).
        """
        data = self.data[: self.used]
        if trim and self.used < len(self.data):
            data = data.copy()
        self.data = None
        mark_tokens = np.array([mark[0] for mark in self.marks])
        offsets = []
        for token in tokens:
            if token >= self.tokens:
                offsets.append(self.used)
                continue
            mark = int(np.searchsorted(mark_tokens, token, side="right")) - 1
            base_tokens, base_bytes = self.marks[mark]
            offsets.append(skip_ids(data, base_bytes, token - base_tokens))
        return data, np.array(offsets, dtype=np.int64)


@njit(cache=True, nogil=True)
def _encode(ids, start, out, position):
    """Encode ``ids[start:]`` at ``out[position:]``; stops early when ``out`` is full.

    Returns the new position and how many ids are done.
    """
    for k in range(start, len(ids)):
        value = ids[k]
        width = 1
        while value >= (np.int64(1) << (7 * width)):
            width += 1
        if position + width > len(out):
            return position, k
        position = write_id(out, position, value)
    return position, len(ids)


@njit(cache=True)
def skip_ids(stream, position, count):
    """The byte offset ``count`` ids after ``position``."""
    for _ in range(count):
        while stream[position] >= 128:
            position += 1
        position += 1
    return position


@njit(cache=True, inline="always")
def write_id(out, position, value):
    """Store id ``value`` at byte ``position`` of ``out``; returns the position after it."""
    while value >= 128:
        out[position] = (value & 127) | 128
        value >>= 7
        position += 1
    out[position] = value
    return position + 1


@njit(cache=True, inline="always")
def read_id(stream, position):
    """The id at byte ``position`` of ``stream`` and the position after it."""
    byte = np.int64(stream[position])
    value = byte & 127
    shift = 7
    while byte >= 128:
        position += 1
        byte = np.int64(stream[position])
        value |= (byte & 127) << shift
        shift += 7
    return value, position + 1


@njit(cache=True, nogil=True)
def transcode(stream, new_ids, marks, out):
    """Re-encode ``stream`` into ``out`` with each id replaced by ``new_ids[id]``.

    Ids mapped to -1 are dropped (words under -min-count, which C's training
    skips). ``marks`` are nondecreasing byte offsets of tokens in ``stream``;
    returns the bytes written and each mark's offset in ``out``.
    """
    moved = np.empty(len(marks), dtype=np.int64)
    mark = 0
    position = 0
    written = 0
    while position < len(stream):
        while mark < len(marks) and marks[mark] == position:
            moved[mark] = written
            mark += 1
        old, position = read_id(stream, position)
        value = np.int64(new_ids[old])
        if value >= 0:
            written = write_id(out, written, value)
    while mark < len(marks):
        moved[mark] = written
        mark += 1
    return written, moved
