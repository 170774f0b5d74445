"""C's schedule: the learning rate, the sentences, and the window around a word.

These are the pieces every variant shares: one learning-rate step, one
sentence reader and one window walk.
"""
import numpy as np
from numba import njit

from ..corpus.encoding import read_id
from .hot_rows import row_of
from .simd import F1, F65536, LOW16
from .state import MAX_SENTENCE_LENGTH
from .tables import lcg_next

# C recomputes the learning rate after each 10,000 words a thread reads.
ALPHA_UPDATE_WORDS = 10000


@njit(cache=True)
def learning_rate(settings, words_done):
    """C's linear decay ``alpha0 (1 - done / (iter * train_words + 1))`` in float, floored at ``1e-4 alpha0``.

    The floor is compared in double, as in C.
    """
    done = 0
    for thread_words in words_done:
        done += thread_words
    actual = np.float32(done)
    total = np.float32(settings.iterations * settings.train_words + 1)
    alpha = np.float32(settings.starting_alpha) * (F1 - actual / total)
    floor = np.float64(np.float32(settings.starting_alpha)) * 0.0001
    if alpha < floor:
        alpha = np.float32(floor)
    return alpha


@njit(cache=True, inline="always")
def read_sentence(ids, pos, end, first_word, sen, keep, sample, next_random):
    """C's sentence: ids from ``pos`` up to ``</s>`` (0), ``end`` or ``MAX_SENTENCE_LENGTH`` kept words.

    ``first_word`` (if not -1) is read before the stream (a slice that
    starts inside a word). Subsampling draws once per word read when
    ``sample > 0``: C keeps a word when ``keep[word] >= (r & 0xFFFF) / 65536``.
    Returns ``(length, pos, words_read, next_random, at_end)``; ``at_end``
    means the stream ran out before the sentence ended.
    """
    length = 0
    words_read = 0
    at_end = False
    while True:
        if first_word >= 0:
            word = first_word
            first_word = -1
        elif pos < end:
            word, pos = read_id(ids, pos)
        else:
            at_end = True
            break
        words_read += 1
        if word == 0:
            break
        if sample > 0:
            next_random = lcg_next(next_random)
            if keep[word] < np.float32(next_random & LOW16) / F65536:
                continue
        sen[length] = word
        length += 1
        if length >= MAX_SENTENCE_LENGTH:
            break
    return length, pos, words_read, next_random, at_end


@njit(cache=True)
def window_words(sen, position, length, shrink, window, context, own):
    """The rows of the words around ``sen[position]`` within ``window - shrink``, in C's order, into ``context``.

    C's window: offsets ``a`` from ``shrink`` to ``2 window - shrink``, the
    centre and positions outside the sentence left out. Returns how many.
    ``own`` is the thread's row map (:mod:`pyw2v.training.hot_rows`).
    """
    m = 0
    for a in range(shrink, 2 * window + 1 - shrink):
        c = position - window + a
        if a == window or c < 0 or c >= length:
            continue
        context[m] = row_of(np.int64(sen[c]), own)
        m += 1
    return m
