"""pyw2v: word2vec.c's behaviour, options and file formats, reimplemented with Numba."""
__version__ = "0.1.0"
