"""C's noise words for negative sampling, drawn several at a time.

C draws each noise word just before its update, and nothing else draws in
between, so the words a position needs (C's CBOW on the parity path, or
skip-gram's pairs without ``-fast``) can be drawn first: they are C's words
in C's order. Drawn first, their rows of ``syn1neg`` can be prefetched
together, so the cache misses overlap where C's loop meets them one after
another. CBOW off the parity path and the
``-fast`` skip-gram block go further and draw a whole sentence's words at
its first position (:func:`pyw2v.training.sentence_plan.plan_sentence`).
"""
from numba import njit

from .simd import prefetch_row
from .tables import draw_negative


@njit(cache=True, inline="always")
def draw_negatives(next_random, tables, settings, negatives, count, syn1neg):
    """``count`` of C's noise-word draws into ``negatives``, their rows prefetched; returns the random state."""
    size = syn1neg.shape[1]
    for d in range(count):
        word, next_random = draw_negative(
            next_random, tables.unigram_starts, tables.unigram_buckets, tables.unigram_size, settings.vocab_size
        )
        negatives[d] = word
        prefetch_row(syn1neg, word, size)
    return next_random
