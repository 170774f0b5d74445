"""Several threads: each trains its own copies of the rows that every thread writes all the time.

With Hogwild, a row two threads write at once bounces between their
caches. Rare words' rows seldom are; the most frequent words' rows (ids
below ``hot_words``: the vocabulary is sorted by count) are at every word,
as context and as noise. So each thread trains copies of those rows of
``syn0`` and ``syn1neg``, kept after the vocabulary's rows::

    [0, V)                      the shared rows (the trained model)
    [V + t K, V + (t + 1) K)    thread t's working copy of rows [0, K)
    [V + (T + t) K, ...)        thread t's copy as it was at its last merge

Every ``MERGE_WORDS`` words a thread adds what it learnt since its last
merge (working copy less snapshot) to the shared rows and restarts both
copies from the result: Hogwild's gradient, each thread seeing the others'
steps on these rows some 100,000 words late. A merge is exact where only
one side moved, so a thread that trains alone learns exactly what it would
on the shared rows (tests/test_hot_rows.py).

Merges take turns (a ticket lock, :mod:`.atomics`). Two merges at once
would both add their change to the same old shared value, and one thread's
learning of a whole interval on every hot row would be lost. That is not
rare: threads that read at the same speed reach their merge points
together, and on wiki100m the lost merges cost ``-fast`` CBOW NS about
half an analogy point (docs/performance.md). The word rows' merge is a few
hundred microseconds every tenth of a second or so, the 64 nodes' a few
microseconds every millisecond or two: the wait is short and seldom.

With ``-hs`` and several threads (``-fast`` or not) the same is done for
the top nodes of the Huffman tree, the last CreateBinaryTree made (ids
from ``vocab_size - 1 - nodes`` to the root, ``vocab_size - 2``): every
path starts at the root, so they are on most paths (the top 64 take about
half of the path steps of the words wiki100m keeps, the top 1024 four
fifths). ``syn1`` keeps their copies after its shared rows in the same
layout. Every thread moves the ``HOT_NODES`` topmost at every word, and
two copies that each moved a row for a while overshoot when their changes
are added: they are merged every ``NODE_MERGE_WORDS`` words, checked at
each sentence's start. ``-fast`` skip-gram copies ``WINDOW_HOT_NODES``
nodes: the ones below the topmost are on fewer paths each, so they are
merged every ``LOWER_NODE_MERGE_WORDS``, ten times as seldom.
"""
from collections import namedtuple

import numpy as np
from numba import njit
from numba.extending import register_jitable

from .atomics import acquire, new_lock, release

# 400 KB per matrix and thread at size 100: a thread's copies fit its core's L2 cache.
HOT_WORDS = 1024
# A merge waits for the rows the other thread's merge wrote: merges must be rare (docs/performance.md).
MERGE_WORDS = 100_000
MERGES_PER_EPOCH = 64
NO_OWN_ROWS = (np.int64(0), np.int64(0))
# The hot words' first row: np.int64, as a literal 0 would make Numba compile merge_hot_rows once more for it.
FIRST_WORD = np.int64(0)
# The top Huffman nodes whose rows of syn1 each thread copies and merges every NODE_MERGE_WORDS (-hs with
# several threads): the root's neighbourhood, where the cores fought over cache lines.
HOT_NODES = 64
# -fast skip-gram copies this many top nodes, the HOT_NODES topmost merged as above and the rest every
# LOWER_NODE_MERGE_WORDS: while the host keeps the two vCPUs far apart, the shared rows below the topmost
# cost its two threads a fifth of their speed (docs/performance.md).
WINDOW_HOT_NODES = 1024
# The copied nodes below the top HOT_NODES merge at every learning-rate step: merged only with the word
# copies (every 100,000 words) they cost a one-epoch run of 30 MB half a point, at the same speed.
LOWER_NODE_MERGE_WORDS = 10_000
# The top nodes are on nearly every path: their copies must not drift far. 1024 nodes merged every 100,000
# words cost 1-2 analogy points, every 10,000 about half a point (wiki100m, skip-gram HS); 64 nodes every
# 1,000 words are within C's spread at the same speed (docs/performance.md).
NODE_MERGE_WORDS = 1_000


# A run's per-thread rows: the ``words`` most frequent words' rows of syn0 and syn1neg (-fast), merged every
# ``word_merge_words`` words a thread reads, and the ``nodes`` top Huffman nodes' rows of syn1 (-hs), of
# which the ``top_nodes`` topmost are merged every ``node_merge_words`` and the rest every
# ``lower_node_merge_words``; one merge at a time (``lock``). A run with one thread has None instead, and
# compiles no merge.
HotRows = namedtuple("HotRows", "words nodes top_nodes word_merge_words node_merge_words lower_node_merge_words lock")


def hot_rows_for(threads, fast, hs, vocab_size, train_words, window_at_once=False):
    """The run's :class:`HotRows`: None with one thread, or with neither ``-fast`` nor ``-hs``.

    ``window_at_once`` (``-fast`` skip-gram) copies :data:`WINDOW_HOT_NODES` nodes, else :data:`HOT_NODES`.
    """
    if threads < 2 or not (fast or hs):
        return None
    words = min(HOT_WORDS, vocab_size) if fast else 0
    nodes = min(WINDOW_HOT_NODES if window_at_once else HOT_NODES, vocab_size - 1) if hs else 0
    # At least MERGES_PER_EPOCH merges an epoch: copies that drift apart for an epoch overshoot when added.
    most = max(1, train_words // (threads * MERGES_PER_EPOCH))
    return HotRows(
        words=words, nodes=nodes, top_nodes=min(HOT_NODES, nodes), word_merge_words=min(MERGE_WORDS, most),
        node_merge_words=min(NODE_MERGE_WORDS, most), lower_node_merge_words=min(LOWER_NODE_MERGE_WORDS, most),
        lock=new_lock(),
    )


def extra_rows(threads, count):
    """Rows after the vocabulary's for ``count`` copied rows: each thread's working copy and snapshot."""
    return 2 * threads * count


def copy_hot_rows(matrix, vocab_size, threads, count, first=0):
    """Fill every thread's working copy and snapshot from the shared rows ``[first, first + count)``."""
    for copy in range(2 * threads):
        start = vocab_size + copy * count
        matrix[start : start + count] = matrix[first : first + count]


@register_jitable
def first_hot_node(vocab_size, nodes):
    """The lowest node id copied per thread: CreateBinaryTree makes the root last, ``vocab_size - 2``."""
    return vocab_size - 1 - nodes


@njit(cache=True)
def own_rows(t, hot, vocab_size):
    """Thread ``t``'s row map: (how many words are copied, the row of its copy of word 0)."""
    if hot is None:
        return NO_OWN_ROWS
    return np.int64(hot.words), np.int64(vocab_size + t * hot.words)


@njit(cache=True)
def row_of(word, own):
    """The row a thread trains for ``word``: its own copy for the hot words, else the shared row."""
    if word < own[0]:
        return own[1] + word
    return word


@njit(cache=True)
def own_nodes(t, hot, vocab_size):
    """Thread ``t``'s node map: (the first copied node, the row of ``syn1`` holding its copy of it)."""
    if hot is None:
        return np.int64(vocab_size), np.int64(0)  # no node is copied
    return np.int64(first_hot_node(vocab_size, hot.nodes)), np.int64(vocab_size + t * hot.nodes)


@njit(cache=True)
def node_row(node, nodes):
    """The row of ``syn1`` a thread trains for ``node``: its own copy for the top nodes, else the shared row."""
    if node >= nodes[0]:
        return nodes[1] + (node - nodes[0])
    return node


@njit(cache=True)
def merge_hot_rows(matrix, t, first, count, settings, start):
    """Add thread ``t``'s change to shared rows ``[first + start, first + count)`` since its last merge.

    The thread copies rows ``[first, first + count)``; ``start`` > 0 merges
    the top of them only. The merged rows' copies restart from the result.
    """
    vocab_size, threads = settings.vocab_size, settings.num_threads
    working = vocab_size + t * count
    snapshot = vocab_size + (threads + t) * count
    size = matrix.shape[1]
    for k in range(start, count):
        row = first + k
        for c in range(size):
            own, last, shared = matrix[working + k, c], matrix[snapshot + k, c], matrix[row, c]
            # Exact whenever only one side moved: a lone thread's value is its own copy, an idle one's the shared.
            shared = own if shared == last else shared + (own - last)
            matrix[row, c] = shared
            matrix[working + k, c] = shared
            matrix[snapshot + k, c] = shared


@njit(cache=True, nogil=True)
def merge_thread_copies(t, hot, model, settings, with_words, with_lower_nodes):
    """Thread ``t``'s merge, in its turn, of its top nodes' copies in syn1, and of the others if asked.

    ``with_words``: its word copies in syn0 and syn1neg; ``with_lower_nodes``:
    its copies of the nodes below the top. Nothing if ``hot`` is None.
    """
    if hot is None:
        return
    acquire(hot.lock)
    if with_words and hot.words > 0:
        merge_hot_rows(model.syn0, t, FIRST_WORD, hot.words, settings, FIRST_WORD)
        if settings.negative > 0:
            merge_hot_rows(model.syn1neg, t, FIRST_WORD, hot.words, settings, FIRST_WORD)
    if hot.nodes > 0:
        merged_from = np.int64(0) if with_lower_nodes else np.int64(hot.nodes - hot.top_nodes)
        merge_hot_rows(model.syn1, t, first_hot_node(settings.vocab_size, hot.nodes), hot.nodes, settings, merged_from)
    release(hot.lock)


@njit(cache=True)
def merge_when_due(t, hot, model, settings, word_count, merged_at):
    """Merge thread ``t``'s copies when due since the last merge at ``merged_at``; returns the last merge's count.

    The top nodes are due ``hot.node_merge_words`` words after it, the
    words (alone, without nodes) ``hot.word_merge_words``; with nodes, the
    words are merged with the top nodes' merge that passes a multiple of
    ``hot.word_merge_words``, and the nodes below the top with the one that
    passes a multiple of ``hot.lower_node_merge_words``. Called at each
    sentence's start: a merge is at most a sentence late. A count below
    ``merged_at`` is a new epoch of C's slices (their counters restart):
    everything is merged at once.
    """
    if hot is None:
        return merged_at
    interval = hot.node_merge_words if hot.nodes > 0 else hot.word_merge_words
    if merged_at <= word_count < merged_at + interval:
        return merged_at
    new_epoch = word_count < merged_at
    with_words = new_epoch or word_count // hot.word_merge_words != merged_at // hot.word_merge_words
    lower = hot.lower_node_merge_words
    with_lower_nodes = with_words or word_count // lower != merged_at // lower
    merge_thread_copies(t, hot, model, settings, with_words, with_lower_nodes)
    return word_count
