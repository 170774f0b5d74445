"""The precomputed tables and the random stream of word2vec.c.

* :func:`exp_table`: C's sigmoid table, ``EXP_TABLE_SIZE`` entries over
  ``[-MAX_EXP, MAX_EXP)``, computed with C's float/double mix.
* :func:`unigram_starts`: C's InitUnigramTable without its 400 MB table.
  C fills ``table_size = 1e8`` slots with word ids, moving to the next word
  after slot ``a`` once ``a / table_size`` exceeds the cumulative share of
  ``count ** 0.75`` so far. The table is non-decreasing, so it is fully
  described by the first slot of each word; a draw then finds its word by a
  bucketed binary search over those starts (:func:`draw_word`), picking
  exactly the word C's table holds at that slot.
* :func:`keep_thresholds`: C's subsampling ``ran`` per word, as a float.
* :func:`lcg_next`: C's 64-bit linear congruential generator.
"""
from collections import namedtuple

import numpy as np
from numba import njit

EXP_TABLE_SIZE = 1000
MAX_EXP = 6
# C writes EXP_TABLE_SIZE / MAX_EXP / 2 in integer arithmetic: 1000 / 6 / 2 == 83,
# not 83.33, and that integer scale is what maps f to a table index.
EXP_INDEX_SCALE = EXP_TABLE_SIZE // MAX_EXP // 2
UNIGRAM_TABLE_SIZE = 100_000_000
UNIGRAM_POWER = 0.75
BUCKET_SHIFT = 12

UnigramTable = namedtuple("UnigramTable", "starts buckets size")


def exp_table():
    """C's expTable: ``e / (e + 1)`` with ``e = exp((i / 1000 * 2 - 1) * 6)``."""
    f32 = np.float32
    index = np.arange(EXP_TABLE_SIZE, dtype=np.float32)
    x = (index / f32(EXP_TABLE_SIZE) * f32(2) - f32(1)) * f32(MAX_EXP)
    e = np.exp(x.astype(np.float64)).astype(np.float32)
    return e / (e + f32(1))


def loss_table():
    """Each label's ``-log sigmoid`` in double at ``z = i / EXP_INDEX_SCALE - MAX_EXP``, the points C's index maps to.

    Row 1 holds label 1's loss ``-log sigmoid(z)``, row 0 label 0's
    ``-log sigmoid(-z)``. Read at C's sigmoid index of ``f``, as the sigmoid
    is, its error is at most a step of ``1 / EXP_INDEX_SCALE`` in ``z``
    (the loss's slope is below 1): below 0.013 per output
    (:func:`pyw2v.training.outputs.output_loss`).
    """
    z = np.arange(2 * MAX_EXP * EXP_INDEX_SCALE + 1) / EXP_INDEX_SCALE - MAX_EXP
    return np.stack([np.log1p(np.exp(z)), np.log1p(np.exp(-z))])


@njit(cache=True, inline="always")
def lcg_next(state):
    """One step of C's generator: ``state * 25214903917 + 11`` modulo 2**64."""
    return state * np.uint64(25214903917) + np.uint64(11)


@njit(cache=True)
def _unigram_starts(counts, table_size):
    vocab_size = len(counts)
    total = 0.0
    for word in range(vocab_size):
        total += counts[word] ** UNIGRAM_POWER
    starts = np.full(vocab_size + 1, table_size, dtype=np.int64)
    starts[0] = 0
    share = counts[0] ** UNIGRAM_POWER / total
    first_slot = 0
    for word in range(vocab_size - 1):
        # The first slot a with a / table_size > share (C's double division).
        last = np.int64(share * table_size)
        while last > 0 and (last - 1) / table_size > share:
            last -= 1
        while not (last / table_size > share):
            last += 1
        last = max(last, first_slot)
        first_slot = last + 1
        if first_slot >= table_size:
            break
        starts[word + 1] = first_slot
        share += counts[word + 1] ** UNIGRAM_POWER / total
    return starts


def unigram_table(counts, table_size=UNIGRAM_TABLE_SIZE):
    """The compact form of C's unigram table for ``counts`` in C's order."""
    counts = np.asarray(counts, dtype=np.float64)
    starts = _unigram_starts(counts, table_size)
    slots = np.arange(0, table_size, 1 << BUCKET_SHIFT, dtype=np.int64)
    buckets = (np.searchsorted(starts, slots, side="right") - 1).astype(np.int64)
    buckets = np.append(buckets, len(counts) - 1)
    return UnigramTable(starts, buckets, table_size)


@njit(cache=True, inline="always")
def draw_word(starts, buckets, slot):
    """The word C's ``table[slot]`` holds, given a :class:`UnigramTable`'s arrays."""
    bucket = slot >> BUCKET_SHIFT
    low = buckets[bucket]
    high = buckets[bucket + 1]
    while low < high:
        middle = (low + high + 1) >> 1
        if starts[middle] <= slot:
            low = middle
        else:
            high = middle - 1
    return low


def unused_unigram_table():
    """A placeholder for runs without negative sampling (nothing is drawn)."""
    return UnigramTable(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), 1)


def full_unigram_table(counts, table_size):
    """C's InitUnigramTable, slot by slot; for testing :func:`unigram_table`."""
    counts = np.asarray(counts, dtype=np.float64)
    vocab_size = len(counts)
    total = 0.0
    for count in counts:
        total += count**UNIGRAM_POWER
    table = np.empty(table_size, dtype=np.int64)
    word = 0
    share = counts[0] ** UNIGRAM_POWER / total
    for slot in range(table_size):
        table[slot] = word
        if slot / table_size > share:
            word += 1
            if word < vocab_size:
                share += counts[word] ** UNIGRAM_POWER / total
        if word >= vocab_size:
            word = vocab_size - 1
    return table


def keep_thresholds(counts, sample, train_words):
    """C's subsampling ``ran`` for each word, with C's float/double mix.

    C keeps a word when ``ran >= (next_random & 0xFFFF) / 65536``.
    ``sample * train_words`` is a float product (train_words rounded to
    float first), the ratio is a float, the square root and the rest are
    double, and the result is stored as float.
    """
    f32 = np.float32
    if sample <= 0:  # C does not subsample (nor draw) at all
        return np.full(len(counts), np.inf, dtype=np.float32)
    scaled = f32(sample) * f32(train_words)
    counts = np.asarray(counts, dtype=np.int64)
    # A count of 0 (</s> in a one-line corpus) gives inf, as in C; that word
    # is never subsampled anyway.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = counts.astype(np.float32) / scaled
        ran = (np.sqrt(ratio.astype(np.float64)) + 1.0) * np.float64(scaled) / counts.astype(np.float64)
    return ran.astype(np.float32)


@njit(cache=True, inline="always")
def draw_negative(next_random, starts, buckets, table_size, vocab_size):
    """One of C's negative draws; returns ``(word, advanced random state)``.

    The slot is ``(next_random >> 16) % table_size``; a draw of word 0
    (``</s>``) is replaced by ``next_random % (vocab_size - 1) + 1``.
    """
    next_random = lcg_next(next_random)
    slot = np.int64((next_random >> np.uint64(16)) % np.uint64(table_size))
    word = draw_word(starts, buckets, slot)
    if word == 0:
        word = np.int64(next_random % np.uint64(vocab_size - 1)) + 1
    return word, next_random
