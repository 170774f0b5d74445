"""What the training loops read and write, grouped in small named tuples.

* :class:`Model`: C's three weight matrices.
* :class:`Tables`: C's precomputed tables (sigmoid, unigram, subsampling).
* :class:`Settings`: the scalars of a run.
* :class:`Scratch`: every thread's working arrays, one row (or block) per
  thread; :func:`thread_scratch` gives thread ``t``'s views by name.
* :class:`Control`: what the driver and the threads share: each thread's
  cursor (its place in the corpus, C's thread-local counters), its random
  stream, learning rate and words read, the stop flag and the loss sums.

Races: the threads share ``syn0``, ``syn1`` and ``syn1neg`` and update them
without locks, exactly as C's threads do (Hogwild). Two threads rarely touch
the same row at the same moment, and a lost update is one small gradient
step: the accepted trade that makes word2vec scale. Each thread writes only
its own entries of :class:`Control`; reading the others' ``words_done`` for
the learning rate is a benign race (C shares one counter the same way).
"""
from collections import namedtuple

import numpy as np

from .huffman import MAX_CODE_LENGTH

MAX_SENTENCE_LENGTH = 1000

Model = namedtuple("Model", "syn0 syn1 syn1neg")
# Flat on purpose: Numba's parallel lowering cannot pass a tuple nested in a tuple.
Tables = namedtuple("Tables", "exp_table unigram_starts unigram_buckets unigram_size keep")
Settings = namedtuple(
    "Settings",
    "hs negative window sample vocab_size train_words iterations num_threads "
    "starting_alpha budget hot_words merge_words",
)
# Per thread: sen, C's sentence; neu1/neu1e, C's hidden layer and its error (one row);
# negatives, a position's noise words (C's order); context, the window's rows;
# targets/labels, the output rows of a step and their labels; gradient, the block's
# gradients; context_update, the window's errors; column, one column of the gradient
# (or CBOW's coefficients of 1); shrinks/planned_noise, a sentence's draws made at its start;
# hidden_rows, the row of neu1 a CBOW block trains (always 0).
Scratch = namedtuple(
    "Scratch",
    "sen neu1 neu1e negatives context targets labels gradient context_update column shrinks planned_noise hidden_rows",
)
Control = namedtuple("Control", "cursors rng alpha words_done stop")
# What a step reads besides its thread's scratch; loss is a marker (pyw2v.training.variants).
Job = namedtuple("Job", "model tree tables settings loss")
# A thread's cursor: where it is in its source, and C's thread-local counters.
Cursor = namedtuple(
    "Cursor", "pos end word_count last_word_count epoch sentence_length sentence_position first_pending done merged_at"
)
CURSOR_FIELDS = len(Cursor._fields)
DONE = Cursor._fields.index("done")
EPOCH = Cursor._fields.index("epoch")


def thread_rows(threads, shape, dtype):
    """Zeroed per-thread arrays of ``shape``, the last axis padded by 128 bytes.

    The padding keeps two threads' rows out of one cache line (false
    sharing); kernels index these arrays with explicit sizes, never their shape.
    """
    padded = shape[:-1] + (shape[-1] + 128 // np.dtype(dtype).itemsize,)
    return np.zeros((threads,) + padded, dtype=dtype)


def new_scratch(threads, window, negative, size):
    """Every thread's :class:`Scratch`."""
    outputs = max(negative + 1, MAX_CODE_LENGTH)
    context = 2 * window
    shapes = dict(
        sen=((MAX_SENTENCE_LENGTH + 1,), np.int32),
        neu1=((1, size), np.float32),
        neu1e=((1, size), np.float32),
        negatives=((context * max(negative, 1),), np.int64),
        context=((context,), np.int64),
        targets=((outputs,), np.int64),
        labels=((outputs,), np.float32),
        gradient=((context, outputs), np.float32),
        context_update=((context, size), np.float32),
        column=((context,), np.float32),
        shrinks=((MAX_SENTENCE_LENGTH,), np.int64),
        planned_noise=((MAX_SENTENCE_LENGTH, max(negative, 1)), np.int64),
        hidden_rows=((1,), np.int64),
    )
    return Scratch(**{name: thread_rows(threads, shape, dtype) for name, (shape, dtype) in shapes.items()})


def new_control(threads, starting_alpha, cursors):
    """Fresh :class:`Control`: C's thread-local variables at thread start (random stream seeded with the thread id)."""
    return Control(
        cursors=cursors,
        rng=np.arange(threads, dtype=np.uint64),
        alpha=np.full(threads, starting_alpha, dtype=np.float32),
        words_done=np.zeros(threads, dtype=np.int64),
        stop=np.zeros(1, dtype=np.int64),
    )


def thread_scratch(scratch, t):
    """Thread ``t``'s views of every :class:`Scratch` array."""
    return Scratch(*(array[t] for array in scratch))
