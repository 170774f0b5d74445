"""An open-addressing hash table of byte strings, usable from Numba kernels.

It plays the part of word2vec.c's ``vocab`` array plus ``vocab_hash``: words
keep their order of first insertion (their id), each with a count. The hash
function is free to differ from C's ``GetWordHash``, since C's vocabulary
order depends only on insertion order and counts, never on hash positions.

Storage is a named tuple of arrays so that kernels take arrays, not objects:

* ``pool``: the bytes of all words, back to back;
* ``starts``/``lengths``: where word ``i`` lies in ``pool``;
* ``counts``: C's ``cn``;
* ``slots``: the hash table proper, ``-1`` for empty, else a word id;
* ``meta``: ``[number of words, bytes of pool used]``.
"""
from collections import namedtuple

import numpy as np
from numba import njit

from ..borrow import borrowed

WordTable = namedtuple("WordTable", "pool starts lengths counts slots meta")

FNV_OFFSET = np.uint64(14695981039346656037)  # the hash of the empty word
_FNV_PRIME = np.uint64(1099511628211)


def new_table(expected_words=1024, expected_bytes=8192):
    """An empty table with room for ``expected_words`` words."""
    slots = np.full(_slot_count(expected_words), -1, dtype=np.int32)
    return WordTable(
        pool=np.empty(max(expected_bytes, 256), dtype=np.uint8),
        starts=np.empty(expected_words, dtype=np.int64),
        lengths=np.empty(expected_words, dtype=np.int32),
        counts=np.zeros(expected_words, dtype=np.int64),
        slots=slots,
        meta=np.zeros(2, dtype=np.int64),
    )


def _slot_count(words):
    size = 1024
    while size < 2 * words:
        size *= 2
    return size


def reserve(table, more_words, more_bytes):
    """Return ``table`` (or a grown copy) with room for ``more_words`` new words.

    The word arrays grow to hold them all (untouched memory costs nothing);
    the hash slots grow only once they are half full, so that they stay small
    enough to sit in cache.
    """
    n_words, used = int(table.meta[0]), int(table.meta[1])
    pool, starts, lengths, counts, slots = table.pool, table.starts, table.lengths, table.counts, table.slots
    if used + more_bytes > len(pool):
        pool = _grown(pool, used, max(2 * len(pool), used + more_bytes))
    if n_words + more_words > len(starts):
        capacity = max(2 * len(starts), n_words + more_words)
        starts = _grown(starts, n_words, capacity)
        lengths = _grown(lengths, n_words, capacity)
        counts = _grown(counts, n_words, capacity)
    if 2 * (n_words + 8) > len(slots):
        slots = np.full(_slot_count(2 * n_words + 8), -1, dtype=np.int32)
        _rehash(pool, starts, lengths, n_words, slots)
    return WordTable(pool, starts, lengths, counts, slots, table.meta)


def _grown(array, used, capacity):
    bigger = np.empty(capacity, dtype=array.dtype)
    bigger[:used] = array[:used]
    return bigger


def words_of(table, ids=None):
    """The words of ``table`` as a list of ``bytes``, in id order or for ``ids``."""
    if ids is None:
        ids = range(int(table.meta[0]))
    pool = table.pool
    return [pool[table.starts[i] : table.starts[i] + table.lengths[i]].tobytes() for i in ids]


@njit(cache=True, inline="always")
def word_hash(buf, start, length):
    """64-bit FNV-1a of ``buf[start:start+length]``."""
    h = FNV_OFFSET
    for k in range(start, start + length):
        h = hash_byte(h, buf[k])
    return h


@njit(cache=True, inline="always")
def hash_byte(h, byte):
    """FNV-1a's step: the hash of a word from ``h``, its hash without its last byte ``byte``."""
    return (h ^ np.uint64(byte)) * _FNV_PRIME


@njit(cache=True)
def _rehash(pool, starts, lengths, n_words, slots):
    mask = np.uint64(len(slots) - 1)
    for word in range(n_words):
        slot = word_hash(pool, starts[word], lengths[word]) & mask
        while slots[slot] != -1:
            slot = (slot + np.uint64(1)) & mask
        slots[slot] = word


@njit(cache=True, inline="always")
def _same(pool, start, buf, bstart, length):
    for k in range(length):
        if pool[start + k] != buf[bstart + k]:
            return False
    return True


@njit(cache=True)
def find_or_add(table, buf, start, length, add):
    """The id of ``buf[start:start+length]``; added with count 0 if absent and ``add``.

    Returns -1 for an absent word when ``add`` is false. The caller must have
    reserved room (see :func:`reserve`) for one more word.
    """
    return find_or_add_hashed(table, buf, start, length, add, word_hash(buf, start, length))


@njit(cache=True, inline="always")
def find_or_add_hashed(table, buf, start, length, add, hash_):
    """:func:`find_or_add` given the word's :func:`word_hash`, ``hash_``.

    Inlined, for the tokenizer: it hashes each byte as it reads it, and a
    call per token passes the table's arrays one by one, which costs as
    much as the lookup (docs/performance.md).
    """
    pool, starts, lengths, slots, meta = table.pool, table.starts, table.lengths, table.slots, table.meta
    mask = np.uint64(len(slots) - 1)
    slot = hash_ & mask
    while True:
        word = slots[slot]
        if word == -1:
            break
        if lengths[word] == length and _same(pool, starts[word], buf, start, length):
            return word
        slot = (slot + np.uint64(1)) & mask
    if not add:
        return -1
    word = meta[0]
    used = meta[1]
    for k in range(length):
        pool[used + k] = buf[start + k]
    starts[word] = used
    lengths[word] = length
    table.counts[word] = 0
    slots[slot] = word
    meta[0] = word + 1
    meta[1] = used + length
    return word


@njit(cache=True)
def reduce_vocab(table, min_reduce):
    """C's ReduceVocab: drop words with count <= ``min_reduce``, keeping order.

    Returns the old-id to new-id map (-1 for dropped words). The bytes of
    dropped words stay in ``pool``; this only matters past 21M distinct words.
    """
    n_words = table.meta[0]
    remap = np.full(n_words, -1, dtype=np.int64)
    kept = np.int64(0)  # np.int64: a literal 0 would make Numba compile _rehash once more for that constant.
    for word in range(n_words):
        if table.counts[word] > min_reduce:
            table.starts[kept] = table.starts[word]
            table.lengths[kept] = table.lengths[word]
            table.counts[kept] = table.counts[word]
            remap[word] = kept
            kept += 1
    table.meta[0] = kept
    table.slots[:] = -1
    _rehash(table.pool, table.starts, table.lengths, kept, table.slots)
    return remap


def merge_tables(table, other):
    """Add ``other``'s words to ``table`` in ``other``'s id order, summing counts.

    Words new to ``table`` get the next ids, so merging the tables of
    consecutive parts of a corpus, in order, numbers the words by first
    appearance in the whole, as one table filled from the start would.
    Returns the (possibly grown) table and ``other``'s id -> ``table`` id.
    """
    n_other = int(other.meta[0])
    table = reserve(table, n_other, int(other.meta[1]))
    total = int(table.meta[0]) + n_other
    if 2 * (total + 8) > len(table.slots):
        slots = np.full(_slot_count(2 * total + 8), -1, dtype=np.int32)
        _rehash(table.pool, table.starts, table.lengths, int(table.meta[0]), slots)
        table = table._replace(slots=slots)
    ids = np.empty(n_other, dtype=np.int32)
    _merge_into(table, other, ids)
    return table, ids


@njit(cache=True)
def _merge_into(table, other, ids):
    table, other = borrowed(table), borrowed(other)  # uncounted in the per-word calls (pyw2v.borrow)
    for word in range(other.meta[0]):
        merged = find_or_add(table, other.pool, other.starts[word], other.lengths[word], np.bool_(True))
        table.counts[merged] += other.counts[word]
        ids[word] = merged


def table_from_words(words):
    """A table holding ``words``; returns it and each table id's first position in ``words``.

    A word listed twice keeps its first position, as C's hash lookup finds
    the lower index first.
    """
    lengths = np.array([len(word) for word in words], dtype=np.int64)
    pool = np.frombuffer(bytearray(b"".join(words)), dtype=np.uint8)  # writable, as the counting pass's pools
    starts = np.zeros(len(words), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    table = new_table(len(words) + 1, len(pool) + 1)
    first_position = _insert_all(table, pool, starts, lengths)
    return table, first_position


@njit(cache=True)
def _insert_all(table, pool, starts, lengths):
    table, pool = borrowed(table), borrowed(pool)  # uncounted in the per-word calls (pyw2v.borrow)
    first_position = np.empty(len(starts), dtype=np.int64)
    for position in range(len(starts)):
        before = table.meta[0]
        # np.bool_: a literal True would make Numba compile find_or_add once more for that constant.
        word = find_or_add(table, pool, starts[position], lengths[position], np.bool_(True))
        if table.meta[0] > before:
            first_position[word] = position
    return first_position[: table.meta[0]]
