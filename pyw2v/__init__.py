"""pyw2v: word2vec.c's behaviour, options and file formats, reimplemented with Numba.

Importing the package loads neither Numba nor NumPy. Before the first module
that may define a kernel is imported, :func:`pyw2v.jit_cache.prepare` brings
Numba's cache in step with the sources.
"""
import sys

__version__ = "0.1.0"

# The modules that define no kernel and load no Numba: pyw2v.cli tunes the allocator before the rest, and
# starts pyw2v.compile_ahead's process from the parsed options before Numba loads.
_NO_KERNELS = {
    f"{__name__}.{name}"
    for name in ("cli", "compile_ahead", "errors", "jit_cache", "options", "training", "training.variants")
}


class _CacheFirst:
    """A finder that finds nothing: it calls :func:`~pyw2v.jit_cache.prepare` once."""

    prepared = False

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if not cls.prepared and name.startswith(__name__ + ".") and name not in _NO_KERNELS:
            cls.prepared = True
            from . import jit_cache

            jit_cache.prepare()


sys.meta_path.insert(0, _CacheFirst)
