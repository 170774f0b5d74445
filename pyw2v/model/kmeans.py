"""C's ``-classes`` k-means over the word vectors.

Reproduced from TrainModel: word ``a`` starts in class ``a % K``; each of
the 10 iterations sums the members of every class (counts start at 1, not
0), divides, normalises the centroid to unit length, and moves every word to
the centroid with the largest dot product (first on ties; -10 is below any
reachable value). All arithmetic is float32 in C's order; the square root is
C's double ``sqrt`` of a float.

A class left without members has a zero centroid, which C normalises to
NaN (0/0); a NaN dot product never wins, so no word joins that class again.
The same float arithmetic is kept here (``error_model="numpy"``: no
ZeroDivisionError). With more classes than words, word ``a`` starts alone
in class ``a`` and the classes from the vocabulary size on never gain a
member, so C's labels are those of ``K = vocab size``: computed so, without
allocating the centroids of classes that stay empty.
"""
import numpy as np
from numba import njit

KMEANS_ITERATIONS = 10


def kmeans_classes(syn0, classes):
    """Class labels (int32) of the rows of ``syn0``: C's, in ``[0, min(classes, rows))``."""
    return _kmeans(syn0, max(1, min(classes, len(syn0))))


@njit(cache=True, error_model="numpy")
def _kmeans(syn0, classes):
    vocab_size, size = syn0.shape
    labels = np.empty(vocab_size, dtype=np.int32)
    for word in range(vocab_size):
        labels[word] = word % classes
    centroids = np.zeros((classes, size), dtype=np.float32)
    members = np.empty(classes, dtype=np.int64)
    for _ in range(KMEANS_ITERATIONS):
        centroids[:, :] = np.float32(0.0)
        members[:] = 1
        for word in range(vocab_size):
            label = labels[word]
            for c in range(size):
                centroids[label, c] += syn0[word, c]
            members[label] += 1
        for label in range(classes):
            norm = np.float32(0.0)
            for c in range(size):
                centroids[label, c] /= np.float32(members[label])
                norm += centroids[label, c] * centroids[label, c]
            norm = np.float32(np.sqrt(np.float64(norm)))
            for c in range(size):
                centroids[label, c] /= norm
        for word in range(vocab_size):
            best = np.float32(-10.0)
            best_label = 0
            for label in range(classes):
                x = np.float32(0.0)
                for c in range(size):
                    x += centroids[label, c] * syn0[word, c]
                if x > best:
                    best = x
                    best_label = label
            labels[word] = best_label
    return labels
