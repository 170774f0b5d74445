"""The corpus functions the driver and the tasks call (:mod:`pyw2v.distributed.corpus`), in one place."""
from .corpus import count_pieces, cut_rounds, cut_shards, encode_pieces, list_files, merge_counts, vocabulary_index

__all__ = [
    "count_pieces", "cut_rounds", "cut_shards", "encode_pieces", "list_files", "merge_counts", "vocabulary_index",
]
