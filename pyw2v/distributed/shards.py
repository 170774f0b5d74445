"""The corpus functions the driver and the tasks call (:mod:`pyw2v.distributed.corpus`), in one place."""
try:
    from .corpus import count_pieces, cut_rounds, cut_shards, encode_pieces, list_files, merge_counts, vocabulary_index
except ImportError:  # PROVISIONAL until the corpus module is merged
    from ._provisional_corpus import (  # noqa: F401
        count_pieces,
        cut_rounds,
        cut_shards,
        encode_pieces,
        list_files,
        merge_counts,
        vocabulary_index,
    )

__all__ = [
    "count_pieces", "cut_rounds", "cut_shards", "encode_pieces", "list_files", "merge_counts", "vocabulary_index",
]
