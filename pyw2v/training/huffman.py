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
    codes = np.zeros((vocab_size, MAX_CODE_LENGTH), dtype=np.uint8)
    points = np.zeros((vocab_size, MAX_CODE_LENGTH), dtype=np.int32)
    lengths = np.zeros(vocab_size, dtype=np.int32)
    if not _fill_tree(counts, codes, points, lengths):
        raise UserError(f"a Huffman code is longer than {MAX_CODE_LENGTH} bits; use -negative instead of -hs")
    return HuffmanTree(codes, points, lengths)


@njit(cache=True)
def _fill_tree(counts, codes, points, lengths):
    vocab_size = len(counts)
    count = np.empty(2 * vocab_size + 1, dtype=np.int64)
    count[:vocab_size] = counts
    count[vocab_size:] = 10**15
    branch = np.zeros(2 * vocab_size + 1, dtype=np.int64)
    parent = np.zeros(2 * vocab_size + 1, dtype=np.int64)
    pos1 = vocab_size - 1
    pos2 = vocab_size
    for a in range(vocab_size - 1):
        smallest = np.empty(2, dtype=np.int64)
        for k in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                smallest[k] = pos1
                pos1 -= 1
            else:
                smallest[k] = pos2
                pos2 += 1
        count[vocab_size + a] = count[smallest[0]] + count[smallest[1]]
        parent[smallest[0]] = vocab_size + a
        parent[smallest[1]] = vocab_size + a
        branch[smallest[1]] = 1
    root = 2 * vocab_size - 2
    code = np.empty(MAX_CODE_LENGTH + 1, dtype=np.uint8)
    path = np.empty(MAX_CODE_LENGTH + 1, dtype=np.int64)
    for word in range(vocab_size):
        node = word
        depth = 0
        while True:
            if depth >= MAX_CODE_LENGTH:
                return False
            code[depth] = branch[node]
            path[depth] = node
            depth += 1
            node = parent[node]
            if node == root:
                break
        lengths[word] = depth
        # C also stores points[depth] (the word's own leaf); no kernel reads it.
        points[word, 0] = vocab_size - 2
        for b in range(depth):
            codes[word, depth - b - 1] = code[b]
            if depth - b < MAX_CODE_LENGTH:
                points[word, depth - b] = path[b] - vocab_size
    return True
