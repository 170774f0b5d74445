"""-classes: C's k-means, including a class that loses all its words."""
import numpy as np
import pytest

from pyw2v.model.kmeans import KMEANS_ITERATIONS, kmeans_classes


def kmeans_like_c(syn0, classes):
    """C's loop in plain Python over float32 scalars, with IEEE division: an empty class's centroid is 0/0 = NaN."""
    f32 = np.float32
    vocab_size, size = syn0.shape
    labels = [word % classes for word in range(vocab_size)]
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(KMEANS_ITERATIONS):
            centroids = np.zeros((classes, size), dtype=f32)
            members = [1] * classes
            for word in range(vocab_size):
                centroids[labels[word]] += syn0[word]
                members[labels[word]] += 1
            for label in range(classes):
                norm = f32(0)
                for c in range(size):
                    centroids[label, c] = centroids[label, c] / f32(members[label])
                    norm = f32(norm + centroids[label, c] * centroids[label, c])
                norm = f32(np.sqrt(np.float64(norm)))
                for c in range(size):
                    centroids[label, c] = centroids[label, c] / norm
            for word in range(vocab_size):
                best, best_label = f32(-10), 0
                for label in range(classes):
                    x = f32(0)
                    for c in range(size):
                        x = f32(x + centroids[label, c] * syn0[word, c])
                    if x > best:
                        best, best_label = x, label
                labels[word] = best_label
    return np.array(labels, dtype=np.int32)


def two_clusters():
    # six words in two tight groups; three classes, so one class ends up with no word
    return np.array(
        [[1, 0], [0, 1], [1, 0.01], [0.01, 1], [1, 0.02], [0.02, 1]], dtype=np.float32
    )


def test_an_emptied_class_is_never_chosen_again():
    syn0 = two_clusters()
    labels = kmeans_classes(syn0, 3)
    assert len(set(labels.tolist())) == 2, labels
    assert labels[0] == labels[2] == labels[4] != labels[1] == labels[3] == labels[5]
    np.testing.assert_array_equal(labels, kmeans_like_c(syn0, 3))


@pytest.mark.parametrize("seed", range(3))
def test_random_vectors_match_cs_loop(seed):
    rng = np.random.default_rng(seed)
    syn0 = rng.integers(-4, 5, size=(40, 4)).astype(np.float32)  # small integers: every sum is exact
    np.testing.assert_array_equal(kmeans_classes(syn0, 7), kmeans_like_c(syn0, 7))
