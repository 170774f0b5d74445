"""``-fast 1`` with several threads: each thread trains its own copy of the most frequent words' rows.

With Hogwild, a row two threads write at once bounces between their
caches. Rare words' rows seldom are; the most frequent words' rows (ids
below ``hot_words``: the vocabulary is sorted by count) are at every word,
as context and as noise. So each thread trains copies of those rows of
``syn0`` and ``syn1neg``, kept after the vocabulary's rows::

    [0, V)                      the shared rows (the trained model)
    [V + t K, V + (t + 1) K)    thread t's working copy of rows [0, K)
    [V + (T + t) K, ...)        thread t's copy as it was at its last merge

Every ``merge_words`` words a thread adds what it learnt since its last
merge (working copy less snapshot) to the shared rows and restarts both
copies from the result: Hogwild's gradient, each thread seeing the others'
steps on these rows some 100,000 words late. Two merges of one row at the
same moment may lose one thread's change: Hogwild's own race, far rarer.
A merge is exact where only one side moved, so a thread that trains alone
learns exactly what it would on the shared rows (tests/test_hot_rows.py).
"""
from collections import namedtuple

import numpy as np
from numba import njit

# 400 KB per matrix and thread at size 100: a thread's copies fit its core's L2 cache.
HOT_WORDS = 1024
# A merge waits for the rows the other thread's merge wrote: merges must be rare (docs/performance.md).
MERGE_WORDS = 100_000
MERGES_PER_EPOCH = 64
NO_OWN_ROWS = (np.int64(0), np.int64(0))


# A run's per-thread rows: the ``words`` most frequent words' rows copied per thread, merged every
# ``merge_words`` words a thread reads. A run without them has None instead, and compiles no merge.
HotRows = namedtuple("HotRows", "words merge_words")


def hot_rows_for(threads, fast, vocab_size, train_words):
    """The run's :class:`HotRows`: None with one thread or without ``-fast``."""
    if not (fast and threads > 1):
        return None
    # At least MERGES_PER_EPOCH merges an epoch: copies that drift apart for an epoch overshoot when added.
    merge_words = max(1, min(MERGE_WORDS, train_words // (threads * MERGES_PER_EPOCH)))
    return HotRows(words=min(HOT_WORDS, vocab_size), merge_words=merge_words)


def extra_rows(threads, hot):
    """Rows after the vocabulary's: each thread's working copy and snapshot."""
    return 0 if hot is None else 2 * threads * hot.words


def copy_hot_rows(matrix, vocab_size, threads, hot_words):
    """Fill every thread's working copy and snapshot from the shared rows."""
    for copy in range(2 * threads):
        first = vocab_size + copy * hot_words
        matrix[first : first + hot_words] = matrix[:hot_words]


@njit(cache=True)
def own_rows(t, hot, vocab_size):
    """Thread ``t``'s row map: (how many words are copied, the row of its copy of word 0)."""
    if hot is None:
        return NO_OWN_ROWS
    return np.int64(hot.words), np.int64(vocab_size + t * hot.words)


@njit(cache=True, inline="always")
def row_of(word, own):
    """The row a thread trains for ``word``: its own copy for the hot words, else the shared row."""
    if word < own[0]:
        return own[1] + word
    return word


@njit(cache=True)
def merge_hot_rows(matrix, t, hot_words, settings):
    """Add thread ``t``'s change since its last merge to the shared rows; restart its copies from them."""
    vocab_size, threads = settings.vocab_size, settings.num_threads
    working = vocab_size + t * hot_words
    snapshot = vocab_size + (threads + t) * hot_words
    size = matrix.shape[1]
    for word in range(hot_words):
        for c in range(size):
            own, last, shared = matrix[working + word, c], matrix[snapshot + word, c], matrix[word, c]
            # Exact whenever only one side moved: a lone thread's value is its own copy, an idle one's the shared.
            shared = own if shared == last else shared + (own - last)
            matrix[word, c] = shared
            matrix[working + word, c] = shared
            matrix[snapshot + word, c] = shared


@njit(cache=True, nogil=True)
def merge_thread_copies(t, hot, model, settings):
    """Thread ``t``'s merge of its copies in ``syn0`` and ``syn1neg``; nothing when ``hot`` is None."""
    if hot is None:
        return
    merge_hot_rows(model.syn0, t, hot.words, settings)
    if settings.negative > 0:
        merge_hot_rows(model.syn1neg, t, hot.words, settings)


@njit(cache=True)
def merge_when_due(t, hot, model, settings, word_count, merged_at):
    """Merge thread ``t``'s copies if ``hot.merge_words`` words were read since ``merged_at``.

    Returns the word count of the last merge: ``word_count`` if it merged now.
    """
    if hot is None:
        return merged_at
    if word_count - merged_at < hot.merge_words:
        return merged_at
    merge_thread_copies(t, hot, model, settings)
    return word_count
