"""PROVISIONAL stand-in for :mod:`pyw2v.distributed.corpus` (the corpus helper's), same names and contract.

Local plain files only, no fsspec; dropped once the real module is merged.
"""
import glob
import os
from collections import namedtuple

import numpy as np

from ..corpus.encoding import StreamWriter
from ..corpus.reader import scan_bytes
from ..corpus.wordtable import new_table, table_from_words, words_of
from ..errors import UserError

Piece = namedtuple("Piece", "url start end")
_DELIMITERS = b" \t\n"


def list_files(train):
    paths = sorted(glob.glob(train)) if any(c in train for c in "*?[") else [train]
    files = [(p, os.path.getsize(p), False) for p in paths if os.path.isfile(p) and os.access(p, os.R_OK)]
    if not files:
        raise UserError(f"cannot read {train}: no such file")
    return files


def cut_shards(files, shards):
    total = sum(size for _, size, _ in files)
    out = [[] for _ in range(shards)]
    base = 0
    for url, size, _ in files:
        for s in range(shards):
            lo, hi = max(total * s // shards - base, 0), min(total * (s + 1) // shards - base, size)
            if hi > lo:
                out[s].append(Piece(url, lo, hi))
        base += size
    return out


def cut_rounds(pieces, rounds):
    total = sum(p.end - p.start for p in pieces)
    out = [[] for _ in range(rounds)]
    base = 0
    for p in pieces:
        size = p.end - p.start
        for r in range(rounds):
            lo, hi = max(total * r // rounds - base, 0), min(total * (r + 1) // rounds - base, size)
            if hi > lo:
                out[r].append(Piece(p.url, p.start + lo, p.start + hi))
        base += size
    return out


def _piece_bytes(piece):
    with open(piece.url, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        f.seek(max(piece.start - 1, 0))
        data = f.read(piece.end - piece.start + (piece.start > 0))
        if piece.start > 0:
            if data[:1] in (b" ", b"\t", b"\n"):
                data = data[1:]
            else:
                cuts = [i for i in (data.find(b" "), data.find(b"\t"), data.find(b"\n")) if i >= 0]
                data = data[min(cuts):] if cuts else b""
        if piece.end < size and data and data[-1:] not in (b" ", b"\t", b"\n"):
            rest = f.read(200)
            cuts = [i for i in (rest.find(b" "), rest.find(b"\t"), rest.find(b"\n")) if i >= 0]
            data += (rest[: min(cuts)] if cuts else rest) + b" "
    return data


def count_pieces(pieces):
    table = new_table()
    for piece in pieces:
        table = scan_bytes(_piece_bytes(piece), 0, table, False).table
    n = table.meta[0]
    return words_of(table), table.counts[:n].copy()


def merge_counts(per_shard):
    index, words, counts = {}, [], []
    for shard_words, shard_counts in per_shard:
        for word, count in zip(shard_words, shard_counts.tolist()):
            if word in index:
                counts[index[word]] += count
            else:
                index[word] = len(words)
                words.append(word)
                counts.append(count)
    return words, np.array(counts, dtype=np.int64)


def vocabulary_index(words):
    table, ids = table_from_words(words)
    return table, ids.astype(np.int32)


def encode_pieces(pieces, index):
    table, ids = index
    writer = StreamWriter(1 << 16)
    for piece in pieces:
        scan_bytes(_piece_bytes(piece), 0, table, True, on_ids=lambda found: writer(ids[found]))
    return writer.finish([])[0]
