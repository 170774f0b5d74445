"""``-fast 1`` with several threads: each thread's own copy of the most frequent words' rows.

Hogwild (C's threads updating one model without locks) costs almost
nothing for a rare word's row, which two threads seldom touch at once. It
costs a great deal for the rows of the most frequent words. Noise words are
drawn by ``count^0.75``: on wiki100m the 1024 most frequent words are 38 % of
all noise draws, and 58 % of the context words that subsampling keeps.
Every write to such a row by one thread evicts it from the other thread's
cache, so each thread misses on rows it would otherwise always find there.

So with ``-fast 1`` and several threads, the rows of the ``hot_words`` most
frequent words (the vocabulary is sorted by count, so ids below
``hot_words``) of ``syn0`` and ``syn1neg`` are trained in a copy per thread.
The model's arrays carry them after the vocabulary's rows::

    [0, V)                      the shared rows (the trained model)
    [V + t K, V + (t + 1) K)    thread t's working copy of rows [0, K)
    [V + (T + t) K, ...)        thread t's copy as it was at its last merge

Every :data:`MERGE_WORDS` words (at the first learning-rate step past
them) a thread merges: it adds what it has learnt since its last merge
(working copy less the snapshot) to the shared rows, and restarts both
copies from the result, which also holds what the other threads have merged
meanwhile. This is the gradient Hogwild follows, with each thread seeing
the others' steps on these rows some hundred thousand words late instead of
at once; over millions of words that is negligible (README, *Speed*: two
threads' analogy accuracy stays at one thread's). Two merges of one row at
the same moment may lose one thread's change to it: Hogwild's own race, at
a far lower rate (a merge takes a fraction of a millisecond every tenth of
a second or so).
A merge is exact where only one side moved (:func:`merge_hot_rows`), so a
thread that trains alone learns exactly what it would on the shared rows.

The measurements behind this design are in ``docs/performance.md``.

Hierarchical softmax's ``syn1`` is not copied: its hottest rows are the
nodes near the root of the tree, not the frequent words.
"""
import numpy as np
from numba import njit

# The words whose rows each thread copies: 400 KB per matrix and thread at
# size 100, so a thread's copies fit its core's 2 MB L2 cache.
HOT_WORDS = 1024
# Words a thread reads between two merges of its copies. A merge reads the
# shared rows the other thread's merge last wrote, so it waits on their
# transfer between cores: merging at every 10,000-word learning-rate step
# cost more than it gained.
MERGE_WORDS = 100_000
MERGES_PER_EPOCH = 64
NO_OWN_ROWS = (np.int64(0), np.int64(0))


def hot_words_for(threads, fast, vocab_size):
    """How many words get per-thread rows: none with one thread or without ``-fast``."""
    return min(HOT_WORDS, vocab_size) if fast and threads > 1 else 0


def merge_words_for(train_words, threads):
    """Words a thread reads between merges: :data:`MERGE_WORDS`, or fewer on a small corpus.

    Each thread merges at least :data:`MERGES_PER_EPOCH` times an epoch: on a
    corpus of a few hundred thousand words, 100,000 words would let the
    threads' copies drift apart for whole epochs, and adding two long drifts
    overshoots (the related words of the lee corpus no longer stood out).
    """
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
