"""The training variants, as markers, and the choice among them.

Each class below names one way to train a position (:mod:`.in_order`,
:mod:`.blocks`); each source names one way to hand out the corpus
(:mod:`.ranges`). They carry no data: their *type* selects the code
(:mod:`.dispatch`), so only the chosen variant is compiled.

``-fast 1`` has three effects, each named here and in the README:

* ``window_at_once``: skip-gram trains a window at a time (:class:`SkipgramWindow`);
* ``shared_queue``: the threads take the epochs' parts from one queue
  (:class:`SharedQueue`) instead of C's fixed slices;
* ``thread_hot_rows``: with several threads, each trains its own copies of
  the most frequent words' rows (:mod:`.hot_rows`).
"""
from collections import namedtuple

# C's order, C's float arithmetic: one thread without -fast (the parity path).
SkipgramExact = namedtuple("SkipgramExact", "")
CbowExact = namedtuple("CbowExact", "")
# C's order with SIMD dot products: skip-gram with several threads, without -fast.
SkipgramPairs = namedtuple("SkipgramPairs", "")
# A position's output rows updated together: CBOW off the parity path.
CbowBlock = namedtuple("CbowBlock", "")
# -fast skip-gram: a window's context rows against one set of outputs.
SkipgramWindow = namedtuple("SkipgramWindow", "")

# Corpus sources. FixedSlices: C's slice per thread, every epoch.
FixedSlices = namedtuple("FixedSlices", "ids starts first_words")
# SharedQueue: parts of the stream taken by whichever thread is free (offsets: the
# parts' byte offsets and the stream's end; lanes: one per thread; next_item: the counter).
SharedQueue = namedtuple("SharedQueue", "ids offsets lanes next_item")

# The loss: NoLoss compiles to nothing; CountLoss adds -log sigmoid(+-f) to the thread's sum
# (sums: per thread and epoch, the loss and the words trained in its first two slots, padded against
# false sharing; table: pyw2v.training.tables.loss_table).
NoLoss = namedtuple("NoLoss", "")
CountLoss = namedtuple("CountLoss", "sums table")

Variant = namedtuple("Variant", "step window_at_once shared_queue thread_hot_rows")


def choose_variant(cbow, threads, fast):
    """The step and ``-fast``'s three effects for these options.

    One thread without ``-fast`` keeps C's exact arithmetic: its output is
    byte-identical to word2vec.c's. Several threads race anyway, so they
    sum in SIMD lanes, and CBOW updates its output rows together.
    """
    if fast:
        step = CbowBlock() if cbow else SkipgramWindow()
    elif threads == 1:
        step = CbowExact() if cbow else SkipgramExact()
    else:
        step = CbowBlock() if cbow else SkipgramPairs()
    return Variant(step, window_at_once=bool(fast and not cbow), shared_queue=bool(fast),
                   thread_hot_rows=bool(fast and threads > 1))
