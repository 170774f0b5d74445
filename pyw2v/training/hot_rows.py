"""Several threads: each trains its own copies of the rows that every thread writes all the time.

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

Those are the frequent words' rows with ``-fast 1``. With ``-hs 1`` (and
any ``-fast``) they are also the ``hot_nodes`` top nodes of the Huffman
tree, the last CreateBinaryTree made (ids from ``vocab_size - 1 -
hot_nodes`` to the root, ``vocab_size - 2``): every path starts at the
root, so they are on most paths (on wiki100m the top 1024 take 80 % of the
path steps of the words subsampling keeps). ``syn1`` keeps their copies the same way.
"""
import numpy as np
from numba import njit

# 400 KB per matrix and thread at size 100: a thread's copies fit its core's L2 cache.
HOT_WORDS = 1024
# A merge waits for the rows the other thread's merge wrote: merges must be rare (docs/performance.md).
MERGE_WORDS = 100_000
MERGES_PER_EPOCH = 64
NO_OWN_ROWS = (np.int64(0), np.int64(0))
# The Huffman nodes whose rows of syn1 each thread copies.
HOT_NODES = 1024


def hot_words_for(threads, fast, vocab_size):
    """How many words get per-thread rows: none with one thread or without ``-fast``."""
    return min(HOT_WORDS, vocab_size) if fast and threads > 1 else 0


def hot_nodes_for(threads, hs, vocab_size):
    """How many of the top Huffman nodes get per-thread rows: none with one thread or without ``-hs``."""
    return min(HOT_NODES, vocab_size - 1) if hs and threads > 1 else 0


def merge_words_for(train_words, threads):
    """Words a thread reads between merges: :data:`MERGE_WORDS`, or fewer on a small corpus."""
    # At least MERGES_PER_EPOCH merges an epoch: copies that drift apart for an epoch overshoot when added.
    return max(1, min(MERGE_WORDS, train_words // (threads * MERGES_PER_EPOCH)))


def extra_rows(threads, hot_words):
    """Rows after the vocabulary's: each thread's working copy and snapshot."""
    return 2 * threads * hot_words


def copy_hot_rows(matrix, vocab_size, threads, hot, first=0):
    """Fill every thread's working copy and snapshot from the shared rows ``[first, first + hot)``."""
    for copy in range(2 * threads):
        start = vocab_size + copy * hot
        matrix[start : start + hot] = matrix[first : first + hot]


def first_hot_node(vocab_size, hot_nodes):
    """The lowest node id with per-thread rows; ``vocab_size - 1`` (no node) when none has."""
    return vocab_size - 1 - hot_nodes


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


@njit(cache=True, inline="always")
def own_nodes(t, settings):
    """Thread ``t``'s node map: (the first copied node, the row of its copy of that node)."""
    first = settings.vocab_size - 1 - settings.hot_nodes
    return np.int64(first), np.int64(settings.vocab_size + t * settings.hot_nodes)


@njit(cache=True, inline="always")
def node_row(node, nodes):
    """The row of ``syn1`` a thread trains for ``node``: its own copy for the top nodes, else the shared row."""
    if node >= nodes[0]:
        return nodes[1] + (node - nodes[0])
    return node


@njit(cache=True)
def merge_hot_rows(matrix, first, hot, t, settings):
    """Add thread ``t``'s change to shared rows ``[first, first + hot)`` since its last merge; restart its copies."""
    vocab_size, threads = settings.vocab_size, settings.num_threads
    working = vocab_size + t * hot
    snapshot = vocab_size + (threads + t) * hot
    size = matrix.shape[1]
    for k in range(hot):
        row = first + k
        for c in range(size):
            own, last, shared = matrix[working + k, c], matrix[snapshot + k, c], matrix[row, c]
            # Exact whenever only one side moved: a lone thread's value is its own copy, an idle one's the shared.
            shared = own if shared == last else shared + (own - last)
            matrix[row, c] = shared
            matrix[working + k, c] = shared
            matrix[snapshot + k, c] = shared


@njit(cache=True, nogil=True)
def merge_thread_copies(t, model, settings):
    """Thread ``t``'s merge of its copies in ``syn0``, ``syn1neg`` and ``syn1``; nothing where none are kept."""
    hot = settings.hot_words
    if hot > 0:
        merge_hot_rows(model.syn0, 0, hot, t, settings)
        if settings.negative > 0:
            merge_hot_rows(model.syn1neg, 0, hot, t, settings)
    if settings.hot_nodes > 0:
        merge_hot_rows(model.syn1, own_nodes(t, settings)[0], settings.hot_nodes, t, settings)


@njit(cache=True)
def merge_when_due(t, model, settings, word_count, merged_at):
    """Merge thread ``t``'s copies ``merge_words`` words after ``merged_at``; returns the last merge's word count."""
    # A count below merged_at is a new epoch of C's slices (their counters restart): it merges at once.
    if merged_at <= word_count < merged_at + settings.merge_words:
        return merged_at
    merge_thread_copies(t, model, settings)
    return word_count
