"""Which training loop a run uses, from its options alone: imported before Numba loads (:mod:`pyw2v.compile_ahead`)."""
from collections import namedtuple

# The loop (a key of pyw2v.training.loop.LOOPS), and -fast's two effects (README):
# window_at_once, thread_hot_rows.
Variant = namedtuple("Variant", "loop window_at_once thread_hot_rows")
# The loops that call kernels compiled apart (pyw2v.training.block_steps) rather than inlining their steps whole.
BLOCK_LOOPS = ("skipgram_window", "cbow_block")


def choose_variant(cbow, threads, fast):
    """The loop and ``-fast``'s effects: one thread without ``-fast`` keeps C's exact arithmetic.

    Several threads race anyway: they sum in SIMD lanes, and CBOW updates a
    position's output rows together. Every variant reads C's slices: a
    shared queue of parts cost ``-fast`` CBOW NS and skip-gram HS 0.7-0.8
    analogy points on wiki100m and gained no speed (docs/performance.md).
    """
    if fast:
        name = "cbow_block" if cbow else "skipgram_window"
    elif threads == 1:
        name = "cbow_exact" if cbow else "skipgram_exact"
    else:
        name = "cbow_block" if cbow else "skipgram_pairs"
    return Variant(name, window_at_once=bool(fast and not cbow), thread_hot_rows=bool(fast and threads > 1))
