"""C's CreateBinaryTree: the Huffman tree for hierarchical softmax.

The counts are sorted descending, so the two-pointer merge of C finds the
two smallest nodes without a heap: ``pos1`` walks the leaves from the rarest
word up, ``pos2`` walks the inner nodes in creation order. On a tie the inner
node is taken (C compares with ``<``). The second node taken is the ``1``
branch. Codes are stored root first; ``points[w, d]`` is the inner node (a row
of ``syn1``) whose output decides bit ``d`` of word ``w``.
"""
from collections import namedtuple

import numpy as np
from numba import njit

from ..errors import UserError

MAX_CODE_LENGTH = 40

HuffmanTree = namedtuple("HuffmanTree", "codes points lengths")


def build_tree(counts):
    """The :class:`HuffmanTree` of a vocabulary whose ``counts`` are in C's order."""
    counts = np.asarray(counts, dtype=np.int64)
    vocab_size = len(counts)
    tree = empty_tree(vocab_size)
    if vocab_size == 0:  # no -hs: nothing to fill, and nothing to compile
        return tree
    work = np.zeros((3, 2 * vocab_size + 1), dtype=np.int64)
    if not _fill_tree(counts, tree.codes, tree.points, tree.lengths, work):
        raise UserError(f"a Huffman code is longer than {MAX_CODE_LENGTH} bits; use -negative instead of -hs")
    return tree


def empty_tree(vocab_size):
    """A :class:`HuffmanTree` of ``vocab_size`` words with every code empty."""
    codes = np.zeros((vocab_size, MAX_CODE_LENGTH), dtype=np.uint8)
    points = np.zeros((vocab_size, MAX_CODE_LENGTH), dtype=np.int32)
    lengths = np.zeros(vocab_size, dtype=np.int32)
    return HuffmanTree(codes, points, lengths)


@njit(cache=True)
def _fill_tree(counts, codes, points, lengths, work):
    """Fill ``codes``, ``points`` and ``lengths``; ``work`` is three zeroed rows of ``2 V + 1``.

    Returns false when a code would exceed ``MAX_CODE_LENGTH``. No array
    is allocated here, which keeps the first run's compile short.
    """
    vocab_size = len(counts)
    count, branch, parent = work[0], work[1], work[2]
    for word in range(vocab_size):
        count[word] = counts[word]
    for node in range(vocab_size, 2 * vocab_size + 1):
        count[node] = 10**15
    pos1 = vocab_size - 1
    pos2 = vocab_size
    for a in range(vocab_size - 1):
        first = second = 0
        for k in range(2):  # the two smallest nodes left: a leaf unless an inner node is smaller
            if pos1 >= 0 and count[pos1] < count[pos2]:
                node = pos1
                pos1 -= 1
            else:
                node = pos2
                pos2 += 1
            if k == 0:
                first = node
            else:
                second = node
        count[vocab_size + a] = count[first] + count[second]
        parent[first] = vocab_size + a
        parent[second] = vocab_size + a
        branch[second] = 1
    root = 2 * vocab_size - 2
    for word in range(vocab_size):
        # The walk from the leaf to the root gives the code backwards: count it first.
        node = word
        depth = 0
        while True:
            if depth >= MAX_CODE_LENGTH:
                return False
            depth += 1
            node = parent[node]
            if node == root:
                break
        lengths[word] = depth
        # C also stores points[depth] (the word's own leaf); no kernel reads it.
        points[word, 0] = vocab_size - 2
        node = word
        for b in range(depth):
            codes[word, depth - b - 1] = branch[node]
            if depth - b < MAX_CODE_LENGTH:
                points[word, depth - b] = node - vocab_size
            node = parent[node]
    return True
