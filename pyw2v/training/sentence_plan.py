"""A sentence's draws made at its first position, and its rows prefetched ahead.

Off the parity path, CBOW and the ``-fast`` skip-gram block draw in one
fixed pattern between two sentences: for each position the window shrink,
then ``negative`` noise words (none in a one-word sentence, which has no
context and so trains nothing). Nothing else draws in between, so the whole
sentence's draws are made at its first position (:func:`plan_sentence`):
C's words in C's order, the stream left where C leaves it.

Known in advance, the rows a position will train are prefetched
``LOOKAHEAD`` positions before it (:func:`prefetch_ahead`): its centre
word's and noise words' output rows and the context row that enters the
window there. Their cache misses are then served while earlier positions
train, instead of stalling each step when its noise words have just been
drawn. C's exact paths (one thread, skip-gram pair by pair) keep C's loop.

The callers are the block steps (:mod:`pyw2v.training.block_steps`).
"""
import numpy as np
from numba import njit

from .exact_steps import draw_negative, lcg_next
from .hot_rows import row_of
from .simd import prefetch_row

# Positions between a prefetch and the step that uses it: time for a miss to memory,
# with the rows in flight (some 56, 22 KB) well inside the L2 cache.
LOOKAHEAD = 8


@njit(cache=True)
def plan_sentence(next_random, length, settings, tables, shrinks, noise, own):
    """C's draws for a sentence of ``length`` words; returns the random state after them.

    Position ``p``'s window shrink goes to ``shrinks[p]``, its noise words'
    rows (under the thread's row map ``own``, :mod:`pyw2v.training.hot_rows`) to
    ``noise[p, :negative]``. Every position of a sentence of two words or
    more has a context word (the shrink is below ``window``), so it draws.
    """
    for p in range(length):
        next_random = lcg_next(next_random)
        shrinks[p] = np.int64(next_random % np.uint64(settings.window))
        if length > 1:
            for d in range(settings.negative):
                word, next_random = draw_negative(next_random, tables, settings.vocab_size)
                noise[p, d] = row_of(word, own)
    return next_random


@njit(cache=True, inline="always")
def prefetch_ahead(sen, ahead, length, model, settings, noise, own):
    """Prefetch position ``ahead``'s negative-sampling rows and the context row entering its window."""
    if ahead >= length:
        return
    size = model.syn0.shape[1]
    if ahead + settings.window < length:
        prefetch_row(model.syn0, row_of(np.int64(sen[ahead + settings.window]), own), size)
    if settings.negative > 0:
        prefetch_row(model.syn1neg, row_of(np.int64(sen[ahead]), own), size)
        for d in range(settings.negative):
            prefetch_row(model.syn1neg, noise[ahead, d], size)
