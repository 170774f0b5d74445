"""The tables the driver builds from the vocabulary: C's unigram table and subsampling thresholds.

* :func:`unigram_table`: C's InitUnigramTable without its 400 MB array. C
  fills ``table_size = 1e8`` slots with word ids, moving to the next word
  after slot ``a`` once ``a / table_size`` exceeds the cumulative share of
  ``count ** 0.75``. The table is non-decreasing, so the first slot of each
  word describes it; :func:`pyw2v.training.exact_steps.draw_word` finds a
  slot's word by a binary search bounded by buckets of ``2 ** BUCKET_SHIFT`` slots.
* :func:`keep_thresholds`: C's subsampling ``ran`` per word, as a float.
"""
from collections import namedtuple

import numpy as np
from numba import njit

UNIGRAM_TABLE_SIZE = 100_000_000
UNIGRAM_POWER = 0.75
BUCKET_SHIFT = 12

UnigramTable = namedtuple("UnigramTable", "starts buckets size")


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

