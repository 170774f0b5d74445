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
import numpy as np
from numba import njit

# 400 KB per matrix and thread at size 100: a thread's copies fit its core's L2 cache.
HOT_WORDS = 1024
# A merge waits for the rows the other thread's merge wrote: merges must be rare (docs/performance.md).
MERGE_WORDS = 100_000
MERGES_PER_EPOCH = 64
NO_OWN_ROWS = (np.int64(0), np.int64(0))


def hot_words_for(threads, fast, vocab_size):
    """How many words get per-thread rows: none with one thread or without ``-fast``."""
    return min(HOT_WORDS, vocab_size) if fast and threads > 1 else 0


def merge_words_for(train_words, threads):
    """Words a thread reads between merges: :data:`MERGE_WORDS`, or fewer on a small corpus."""
    # At least MERGES_PER_EPOCH merges an epoch: copies that drift apart for an epoch overshoot when added.
    return max(1, min(MERGE_WORDS, train_words // (threads * MERGES_PER_EPOCH)))


def extra_rows(threads, hot_words):
    """Rows after the vocabulary's: each thread's working copy and snapshot."""
    return 2 * threads * hot_words


def copy_hot_rows(matrix, vocab_size, threads, hot_words):
    """Fill every thread's working copy and snapshot from the shared rows."""
    for copy in range(2 * threads):
        first = vocab_size + copy * hot_words
        matrix[first : first + hot_words] = matrix[:hot_words]


@njit(cache=True, inline="always")
def own_rows(t, settings):
    """Thread ``t``'s row map: (how many words are copied, the row of its copy of word 0)."""
    return np.int64(settings.hot_words), np.int64(settings.vocab_size + t * settings.hot_words)


@njit(cache=True, inline="always")
def row_of(word, own):
    """The row a thread trains for ``word``: its own copy for the hot words, else the shared row."""
    if word < own[0]:
        return own[1] + word
    return word


@njit(cache=True)
def merge_hot_rows(matrix, t, settings):
    """Add thread ``t``'s change since its last merge to the shared rows; restart its copies from them."""
    hot, vocab_size, threads = settings.hot_words, settings.vocab_size, settings.num_threads
    working = vocab_size + t * hot
    snapshot = vocab_size + (threads + t) * hot
    size = matrix.shape[1]
    for word in range(hot):
        for c in range(size):
            own, last, shared = matrix[working + word, c], matrix[snapshot + word, c], matrix[word, c]
            # Exact whenever only one side moved: a lone thread's value is its own copy, an idle one's the shared.
            shared = own if shared == last else shared + (own - last)
            matrix[word, c] = shared
            matrix[working + word, c] = shared
            matrix[snapshot + word, c] = shared


@njit(cache=True, nogil=True)
def merge_thread_copies(t, model, settings):
    """Thread ``t``'s merge of its copies in ``syn0`` and ``syn1neg``; nothing when no words are copied."""
    if settings.hot_words == 0:
        return
    merge_hot_rows(model.syn0, t, settings)
    if settings.negative > 0:
        merge_hot_rows(model.syn1neg, t, settings)


@njit(cache=True)
def merge_when_due(t, model, settings, word_count, merged_at):
    """Merge thread ``t``'s copies if ``settings.merge_words`` words were read since ``merged_at``.

    Returns the word count of the last merge: ``word_count`` if it merged now.
    """
    if word_count - merged_at < settings.merge_words:
        return merged_at
    merge_thread_copies(t, model, settings)
    return word_count
