"""Skip-gram with negative samples shared across a window (``-fast 1``).

C's skip-gram treats each (context word, centre word) pair on its own: for
every context word it draws ``negative`` fresh noise words and updates the
context row against the centre word's and the noise words' output rows, one
pair after another. pWord2Vec (Ji et al., 2016, github IntelLabs/pWord2Vec)
draws the noise words once per centre word and updates the whole window at
once. With ``X`` the ``m`` context rows of ``syn0``, ``Y`` the ``n`` output
rows of ``syn1neg`` (the centre word, label 1, then the noise words, label
0) and ``alpha`` the learning rate::

    G = alpha * (labels - sigmoid(X Y^T))       (m x n, C's clamped sigmoid)
    X += G Y        Y += G^T X                  (both from the old X and Y)

This is the same gradient C follows, but (a) one set of noise words serves
all context words of a window instead of one set per pair, and (b) a
window's updates are applied together rather than pair by pair. Each output
row is loaded once per window instead of once per pair, and there are
``2 * window`` times fewer draws, which is where the speed comes from. The
accuracy cost is small (see README, *Speed*). The window shrink, the
subsampling, the sentences and the thread slices are C's, and the random
stream is C's LCG; only the number and use of the negative draws differ.
"""
import numpy as np
from numba import njit

from .simd import F0, FMAX, dot, sigmoid_index
from .tables import draw_negative


@njit(cache=True, inline="always")
def skipgram_window(sen, position, length, shrink, window, word, alpha, next_random, model, tables, settings, scratch):
    """Train centre word ``sen[position]`` against its window; returns the random state."""
    syn0, syn1neg = model.syn0, model.syn1neg
    size = syn0.shape[1]
    context, targets, gradient, context_update = scratch
    m = 0
    for a in range(shrink, 2 * window + 1 - shrink):
        c = position - window + a
        if a == window or c < 0 or c >= length:
            continue
        context[m] = sen[c]
        m += 1
    if m == 0:
        return next_random
    targets[0] = word
    n = 1
    for _ in range(settings.negative):
        target, next_random = draw_negative(
            next_random, tables.unigram_starts, tables.unigram_buckets, tables.unigram_size, settings.vocab_size
        )
        if target != word:
            targets[n] = target
            n += 1
    exp_table = tables.exp_table
    for j in range(m):
        for k in range(n):
            f = dot(syn0, context[j], syn1neg, targets[k], size, False)
            label = np.float32(1.0) if k == 0 else F0
            if f > FMAX:
                gradient[j, k] = (label - np.float32(1.0)) * alpha
            elif f < -FMAX:
                gradient[j, k] = label * alpha
            else:
                gradient[j, k] = (label - exp_table[sigmoid_index(f)]) * alpha
    for j in range(m):
        for c in range(size):
            context_update[j, c] = F0
        for k in range(n):
            g = gradient[j, k]
            row = targets[k]
            for c in range(size):
                context_update[j, c] += g * syn1neg[row, c]
    for k in range(n):
        row = targets[k]
        for j in range(m):
            g = gradient[j, k]
            source = context[j]
            for c in range(size):
                syn1neg[row, c] += g * syn0[source, c]
    for j in range(m):
        row = context[j]
        for c in range(size):
            syn0[row, c] += context_update[j, c]
    return next_random


def scratch_shapes(window, negative, size):
    """Per-slice scratch: context ids, target ids, the gradient block, the context updates."""
    return dict(
        context=((2 * window,), np.int64),
        targets=((negative + 1,), np.int64),
        gradient=((2 * window, negative + 1), np.float32),
        context_update=((2 * window, size), np.float32),
    )
