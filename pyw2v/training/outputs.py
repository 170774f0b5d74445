"""The output rows a training step updates, as lists of rows and labels.

A step trains hidden rows (CBOW's average of the context, or a skip-gram
window's context rows with ``-fast 1``) against output rows: the centre
word's Huffman path in ``syn1`` (label ``1 - code``), and/or, for negative
sampling, the centre word's row of ``syn1neg`` (label 1) and C's
``negative`` noise words (label 0), drawn by the caller. C skips a noise
word equal to the centre word; these lists leave it out.
"""
import numpy as np
from numba import njit

from .simd import F0, F1


@njit(cache=True, inline="always")
def path_outputs(word, tree, targets, labels):
    """``word``'s Huffman path into ``targets[:n]`` and ``labels[:n]``; returns ``n``."""
    n = tree.lengths[word]
    for d in range(n):
        targets[d] = tree.points[word, d]
        labels[d] = F1 - np.float32(tree.codes[word, d])
    return n


@njit(cache=True, inline="always")
def negative_outputs(word, noise, negative, targets, labels):
    """``word`` and its noise words ``noise[:negative]`` into ``targets[:n]`` and ``labels[:n]``; returns ``n``.

    ``noise`` may be ``targets[1:]`` itself: the list is compacted in place.
    """
    targets[0] = word
    labels[0] = F1
    n = 1
    for d in range(negative):
        if noise[d] != word:
            targets[n] = noise[d]
            labels[n] = F0
            n += 1
    return n
