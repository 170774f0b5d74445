"""pyw2v: word2vec.c's behaviour, options and file formats, reimplemented with Numba."""
from . import jit_cache

__version__ = "0.1.0"

# Before any kernel loads: Numba's cache only knows each function's own file (pyw2v.jit_cache).
jit_cache.refresh()
