"""A byte-string counting table for word2phrase, usable inside Numba code.

word2phrase.c keeps unigrams and bigrams in one vocabulary addressed by an
open-addressing hash of 500M slots. Only which strings it holds and their
counts affect the output, so this table uses its own hash and grows as
needed; :func:`prune` reproduces the effect of C's ``ReduceVocab``.

The table is a tuple of arrays ``(arena, starts, lengths, counts, hashes,
slots, state)``; ``state`` holds the entry count and the arena fill. Entries
keep their insertion order, which C's sort of the vocabulary depends on.
Each slot holds ``(entry + 1, hash)`` side by side (0 = empty), so a probe
costs one memory access.
"""
import numpy as np
from numba import njit

from ..corpus.wordtable import word_hash

ENTRIES, ARENA_USED = 0, 1  # indexes into ``state``


@njit(cache=True, inline="always")
def copy_items(dst, at, src, count):
    """``dst[at : at + count] = src[:count]`` as a loop: a slice assignment compiles its shape check's message."""
    for i in range(count):
        dst[at + i] = src[i]


@njit(cache=True)
def new_table(expected_entries):
    """An empty table sized for about ``expected_entries`` strings."""
    capacity = max(1024, int(expected_entries))
    slots = np.zeros((_slot_count(capacity), 2), dtype=np.uint64)
    return (
        np.empty(capacity * 16, dtype=np.uint8),
        np.empty(capacity, dtype=np.int64),
        np.empty(capacity, dtype=np.int32),
        np.zeros(capacity, dtype=np.int64),
        np.empty(capacity, dtype=np.uint64),
        slots,
        np.zeros(2, dtype=np.int64),
    )


@njit(cache=True)
def _slot_count(capacity):
    size = 1
    while size < 2 * capacity:
        size *= 2
    return size


@njit(cache=True)
def hash_bytes(buffer, length):
    """The hash of ``buffer[:length]``: the vocabulary's FNV-1a (:func:`pyw2v.corpus.wordtable.word_hash`)."""
    return word_hash(buffer, 0, length)


@njit(cache=True)
def find(table, buffer, length, hashed):
    """Entry id of ``buffer[:length]``, or -1 (C's ``SearchVocab``)."""
    arena, starts, lengths, _, _, slots, _ = table
    mask = slots.shape[0] - 1
    slot = np.int64(hashed & np.uint64(mask))
    while slots[slot, 0] != 0:
        entry = np.int64(slots[slot, 0]) - 1
        if slots[slot, 1] == hashed and lengths[entry] == length:
            start = starts[entry]
            same = True
            for i in range(length):
                if arena[start + i] != buffer[i]:
                    same = False
                    break
            if same:
                return entry
        slot = (slot + 1) & mask
    return -1


@njit(cache=True)
def add(table, buffer, length, hashed):
    """Append ``buffer[:length]`` with count 0; returns ``(table, entry id)`` (C's ``AddWordToVocab``)."""
    table = _make_room(table, length)
    arena, starts, lengths, counts, hashes, slots, state = table
    entry = state[ENTRIES]
    used = state[ARENA_USED]
    copy_items(arena, used, buffer, length)
    starts[entry], lengths[entry], hashes[entry] = used, length, hashed
    counts[entry] = 0  # the row may be reused after a prune
    state[ENTRIES] = entry + 1
    state[ARENA_USED] = used + length
    _place(slots, hashed, entry)
    return table, entry


@njit(cache=True)
def _place(slots, hashed, entry):
    mask = slots.shape[0] - 1
    slot = np.int64(hashed & np.uint64(mask))
    while slots[slot, 0] != 0:
        slot = (slot + 1) & mask
    slots[slot, 0] = np.uint64(entry + 1)
    slots[slot, 1] = hashed


@njit(cache=True)
def _make_room(table, length):
    arena, starts, lengths, counts, hashes, slots, state = table
    entries, used = state[ENTRIES], state[ARENA_USED]
    if used + length > arena.shape[0]:
        arena = _grown(arena, 2 * arena.shape[0] + length)
    if entries == starts.shape[0]:
        capacity = 2 * entries
        starts, lengths = _grown(starts, capacity), _grown(lengths, capacity)
        counts, hashes = _grown(counts, capacity), _grown(hashes, capacity)
        slots = np.zeros((_slot_count(capacity), 2), dtype=np.uint64)
        for entry in range(entries):
            _place(slots, hashes[entry], entry)
    return arena, starts, lengths, counts, hashes, slots, state


@njit(cache=True)
def _grown(array, size):
    bigger = np.zeros(size, dtype=array.dtype)
    copy_items(bigger, 0, array, array.shape[0])
    return bigger


@njit(cache=True)
def prune(table, min_reduce):
    """Drop every entry counted ``min_reduce`` times or fewer, keeping order (C's ``ReduceVocab``).

    The dropped strings' bytes stay in the arena unused; C frees them.
    """
    _, starts, lengths, counts, hashes, slots, state = table
    kept = 0
    for entry in range(state[ENTRIES]):
        if counts[entry] > min_reduce:
            starts[kept], lengths[kept] = starts[entry], lengths[entry]
            counts[kept], hashes[kept] = counts[entry], hashes[entry]
            kept += 1
    state[ENTRIES] = kept
    slots[:] = 0
    for entry in range(kept):
        _place(slots, hashes[entry], entry)


def entry_bytes(table, entry):
    """The string of one entry (for tests and debugging)."""
    arena, starts, lengths = table[0], table[1], table[2]
    return arena[starts[entry] : starts[entry] + lengths[entry]].tobytes()
