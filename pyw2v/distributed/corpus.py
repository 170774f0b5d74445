"""The corpus seen from the workers: files cut into byte ranges, counted and encoded where they are read.

A corpus is a path, an fsspec URL (``s3://bucket/key``) or a glob of
either; the files of a glob are one corpus, in sorted order of their URLs.
It is cut into shards (:func:`cut_shards`), and a shard into rounds
(:func:`cut_rounds`), by byte counts alone: a cut may fall anywhere, even
inside a word, because a :class:`Piece` is read by these rules:

* a token belongs to the piece its first byte lies in (a newline is the
  first and only byte of ``</s>``; a carriage return, which C's ReadWord
  skips everywhere, is the first byte of no token);
* a piece that starts inside a token skips that token;
* a piece reads its last token to its end, even past the piece's end.

Within those rules each piece is read by the single-process tokenizer
(:func:`pyw2v.corpus.reader.scan_chunks`, C's ReadWord), so for ANY cut the
pieces read in order give exactly the tokens of each file read whole, and
:func:`merge_counts` of the shards' :func:`count_pieces` gives the
single-process counts in order of first appearance.

At a file's end: each file is read as C reads its one file, so a token that
runs into the end of its file is dropped (a file that does not end with a
space, tab or newline loses its last word), and the next file of a glob
starts with a fresh word.

A compressed file (see :data:`pyw2v.corpus.reader.COMPRESSED_SUFFIXES`) can only be read from
its start: it is one piece, ``Piece(url, 0, None)``, never cut, placed
whole in the shard (and the round) that holds its middle byte, counting
its compressed size.

Plain functions of picklable arguments and results, run inside Dask tasks
(no Dask here). A file is read in chunks of ``CHUNK_BYTES``, so a task
holds its vocabulary table and one chunk, never its share of the corpus
(:func:`encode_pieces` also holds the stream it returns). Local plain files
are read with ``open``, local compressed ones with smart_open as on one
machine, URLs with fsspec (s3fs for ``s3://``, read ahead by 8 MiB).
"""
import glob
import os
import re
from bisect import bisect_right
from collections import namedtuple

import numpy as np

from ..corpus.encoding import StreamWriter
from ..corpus.reader import CHUNK_BYTES, COMPRESSED_SUFFIXES, COMPRESSIONS, scan_chunks
from ..corpus.wordtable import find_or_add, merge_tables, new_table, table_from_words, words_of
from ..errors import UserError, open_input

# Bytes [start, end) of one file; a compressed file is one piece, (url, 0, None).
Piece = namedtuple("Piece", "url start end")

_DELIMITER = re.compile(rb"[ \t\n]")
_DELIMITERS = b" \t\n"
_GLOB_CHARS = re.compile(r"[*?\[]")
# First read of the token that runs past a piece's end: most are a few bytes.
_TAIL_BYTES = 4096
# A URL's reads ahead (s3fs's default, 50 MiB, would be most of a count task's memory).
_REMOTE_BLOCK_BYTES = 8 << 20
# url -> size of the files list_files and cut_shards have seen, so cut_rounds need not ask again.
_sizes = {}


class VocabularyIndex(namedtuple("VocabularyIndex", "table ids")):
    """Word bytes -> vocabulary id: a frozen word table and each table entry's vocabulary id."""

    __slots__ = ()

    def get(self, word):
        """The id of ``word`` (bytes), or -1 when it is not in the vocabulary."""
        buf = np.frombuffer(bytearray(word), dtype=np.uint8)  # writable: the type the kernels were compiled for
        entry = find_or_add(self.table, buf, np.int64(0), np.int64(len(buf)), np.bool_(False))
        return int(self.ids[entry]) if entry >= 0 else -1


def list_files(train):
    """``(url, size, compressed)`` of each file of ``train`` (path, URL or glob), sorted by url.

    Local files are named by their absolute path, so that workers started
    elsewhere find them on a shared filesystem. Raises one
    :class:`~pyw2v.errors.UserError` naming ``train`` when nothing matches, or
    naming the file that cannot be read.
    """
    train = str(train)
    is_glob = bool(_GLOB_CHARS.search(train))
    found = _local_files(train, is_glob) if "://" not in train else _url_files(train, is_glob)
    if not found:
        raise UserError(f"cannot read {train}: " + ("no file matches" if is_glob else "no such file"))
    files = sorted((url, size, url.lower().endswith(COMPRESSED_SUFFIXES)) for url, size in found)
    _sizes.update((url, size) for url, size, _ in files)
    return files


def _local_files(train, is_glob):
    """``(absolute path, size)`` of the regular files that ``train`` names or matches."""
    found = []
    for path in glob.glob(train, recursive=True) if is_glob else [train]:
        path = os.path.abspath(path)
        if os.path.isdir(path):
            if is_glob:
                continue
            raise UserError(f"cannot read {train}: it is a directory")
        try:
            size = os.path.getsize(path)
        except OSError as exc:
            if is_glob or not isinstance(exc, FileNotFoundError):
                raise UserError(f"cannot read {path}: {_reason(exc)}") from None
            return []
        if not os.access(path, os.R_OK):
            raise UserError(f"cannot read {path}: permission denied")
        found.append((path, size))
    return found


def _url_files(train, is_glob):
    """``(url, size)`` of the files that the fsspec URL ``train`` names or matches."""
    fs, root = _filesystem(train)
    try:
        found = fs.glob(root, detail=True) if is_glob else {root: fs.info(root)}
    except FileNotFoundError:
        return []
    except Exception as exc:  # noqa: BLE001 - the filesystem's own errors (credentials, network) name no file: we do
        raise UserError(f"cannot read {train}: {_reason(exc)}") from None
    files = []
    for path, info in found.items():
        if info.get("type") != "file":
            if not is_glob:
                raise UserError(f"cannot read {train}: it is a directory")
            continue
        files.append((fs.unstrip_protocol(path), int(info["size"])))
    return files


def cut_shards(files, shards):
    """``shards`` lists of pieces of about equal bytes, in corpus order, from ``list_files``'s result.

    A function of ``files`` and ``shards`` alone. Some shards are empty when
    the corpus has fewer bytes than shards, or few, big compressed files.
    """
    _sizes.update((url, size) for url, size, _ in files)
    return _cut([(url, 0, size, compressed) for url, size, compressed in files], shards)


def cut_rounds(pieces, rounds):
    """One shard's ``pieces`` cut into ``rounds`` consecutive lists of about equal bytes.

    A compressed piece weighs its compressed size, as :func:`cut_shards` or
    :func:`list_files` saw it in this process (else asked of its storage).
    """
    units = [
        (piece.url, 0, _compressed_size(piece.url), True) if piece.end is None
        else (piece.url, piece.start, piece.end - piece.start, False)
        for piece in pieces
    ]
    return _cut(units, rounds)


def _cut(units, parts):
    """``units`` (url, start, bytes, compressed) cut at ``bytes total * k // parts``, k = 1 .. parts - 1."""
    if parts < 1:
        raise ValueError(f"cannot cut a corpus into {parts} parts")
    total = sum(size for _, _, size, _ in units)
    bounds = [total * k // parts for k in range(parts + 1)]
    cut = [[] for _ in range(parts)]
    offset = 0
    for url, start, size, compressed in units:
        if compressed:
            # The part holding the middle byte: parts stay in corpus order.
            part = min(bisect_right(bounds, offset + size // 2) - 1, parts - 1)
            cut[part].append(Piece(url, 0, None))
        else:
            for part in range(bisect_right(bounds, offset) - 1, parts):
                low, high = max(bounds[part], offset), min(bounds[part + 1], offset + size)
                if low >= offset + size:
                    break
                if high > low:
                    cut[part].append(Piece(url, start + low - offset, start + high - offset))
        offset += size
    return cut


def count_pieces(pieces):
    """The words of the tokens that start in ``pieces``, in order of first appearance, and their counts (int64).

    C's LearnVocabFromTrainFile over those tokens, less the ``</s>`` that
    C puts first (:func:`merge_counts` puts it). Below ReduceVocab's
    threshold (21 million distinct words) the merged counts are C's; past
    it a task prunes its own table, not at the point where C prunes, so
    they are not.
    """
    table = new_table()
    for piece in pieces:
        table = scan_chunks(_piece_chunks(piece), 0, table, False).table
    size = int(table.meta[0])
    return words_of(table), table.counts[:size].copy()


def merge_counts(per_shard):
    """``(words, counts)`` of shards merged in shard order: words in corpus order of first appearance.

    ``</s>`` comes first, as in C's vocabulary (count 0 when the corpus has
    no newline). Each shard's words must be distinct, as :func:`count_pieces` gives them.
    """
    table = table_from_words([b"</s>"])[0]
    for words, counts in per_shard:
        if len(words) == 0:
            continue
        shard_table, _ = table_from_words(list(words))
        shard_table.counts[: len(words)] = counts
        table, _ = merge_tables(table, shard_table)
    size = int(table.meta[0])
    return words_of(table), table.counts[:size].copy()


def vocabulary_index(words):
    """The :class:`VocabularyIndex` of ``words`` in vocabulary order (a word listed twice keeps its first id)."""
    table, first_position = table_from_words(list(words))
    return VocabularyIndex(table, first_position.astype(np.int32))


def encode_pieces(pieces, index):
    """The varint id stream (pyw2v.corpus.encoding) of the tokens of ``pieces`` in ``index``'s vocabulary.

    Tokens not in the vocabulary are skipped, as C's ReadWordIndex returns
    -1 for them; concatenated in order, the streams of a corpus's pieces are
    the stream the single-process pyw2v.corpus.prepare makes.
    """
    # An id never takes more bytes than its word and delimiter; a compressed piece's size is a guess.
    expected = sum(CHUNK_BYTES if piece.end is None else piece.end - piece.start + 8 for piece in pieces)
    writer = StreamWriter(expected)
    for piece in pieces:
        scan_chunks(_piece_chunks(piece), 0, index.table, True, on_ids=lambda ids: writer(index.ids[ids]))
    stream, used = writer.data, writer.used
    writer.data = None
    # Shrunk in place (realloc), not copied: the buffer's untouched tail was never memory, and
    # a copy would double the task's peak. No view of the buffer is left to dangle.
    stream.resize(used, refcheck=False)
    return stream


def _piece_chunks(piece):
    """The bytes the tokenizer reads for ``piece``, in chunks.

    Its own bytes, less those of a token that started before it; then, when
    it ends inside a token, the token's rest up to the delimiter that ends
    it, and a space in the delimiter's place (a newline there is the next
    piece's ``</s>``). At end of file the token is left unfinished, so the
    tokenizer drops it.
    """
    url, start, end = piece
    if end is None:
        with _open(url, compressed=True) as stream:
            while data := _read(stream, url, CHUNK_BYTES):
                yield data
        return
    with _open(url, compressed=False) as stream:
        position = start
        if start > 0 and _starts_inside_token(stream, url, start):
            position = _next_delimiter(stream, url, start, end)
        if position >= end:
            return
        _seek(stream, url, position)
        in_token = False
        while position < end:
            data = _read(stream, url, min(CHUNK_BYTES, end - position))
            if not data:  # the file is shorter than the piece: it ended
                return
            position += len(data)
            seen = data.rstrip(b"\r")
            if seen:
                in_token = seen[-1] not in _DELIMITERS
            yield data
        block = _TAIL_BYTES
        while in_token:
            data = _read(stream, url, block)
            if not data:
                return
            found = _DELIMITER.search(data)
            if found:
                yield data[: found.start()]
                yield b" "
                return
            yield data
            block = min(2 * block, CHUNK_BYTES)


def _starts_inside_token(stream, url, start):
    """Whether the last byte before ``start`` that is not a carriage return belongs to a word."""
    position = start
    while position > 0:
        back = max(0, position - 64)
        _seek(stream, url, back)
        data = _read(stream, url, position - back).rstrip(b"\r")
        if data:
            return data[-1] not in _DELIMITERS
        position = back
    return False


def _next_delimiter(stream, url, start, end):
    """The offset of the first space, tab or newline at or after ``start``; ``end`` if none lies before it."""
    _seek(stream, url, start)
    position = start
    while position < end:
        data = _read(stream, url, min(CHUNK_BYTES, end - position))
        if not data:
            break
        found = _DELIMITER.search(data)
        if found:
            return position + found.start()
        position += len(data)
    return end


def _open(url, compressed):
    """``url`` opened for reading bytes (decompressed when ``compressed``); errors name it."""
    if "://" not in url:
        if compressed:
            return open_input(url)
        try:
            return open(url, "rb")
        except OSError as exc:
            raise UserError(f"cannot read {url}: {_reason(exc)}") from None
    fs, path = _filesystem(url)
    suffix = os.path.splitext(url)[1].lower()
    try:
        compression = COMPRESSIONS[suffix] if compressed else None
        return fs.open(path, "rb", block_size=_REMOTE_BLOCK_BYTES, compression=compression)
    except Exception as exc:  # noqa: BLE001 - the filesystem's own errors (credentials, network) name no file: we do
        raise UserError(f"cannot read {url}: {_reason(exc)}") from None


def _read(stream, url, size):
    """Up to ``size`` bytes of ``stream``; any failure of the storage is one error naming ``url``."""
    try:
        return stream.read(size)
    except Exception as exc:  # noqa: BLE001 - s3fs and botocore raise more than OSError (credentials, connections)
        raise UserError(f"cannot read {url}: {_reason(exc)}") from None


def _seek(stream, url, position):
    try:
        stream.seek(position)
    except Exception as exc:  # noqa: BLE001 - as in _read: storage errors of any type, named by the file
        raise UserError(f"cannot read {url}: {_reason(exc)}") from None


def _filesystem(url):
    """fsspec's filesystem for ``url`` and the path in it."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise UserError('reading a corpus on a cluster needs fsspec: pip install -e ".[distributed]"') from None
    try:
        return url_to_fs(url)
    except (ImportError, ValueError) as exc:  # an unknown protocol, or its package (s3fs) missing
        raise UserError(f"cannot read {url}: {_reason(exc)}") from None


def _compressed_size(url):
    """A compressed file's size as :func:`list_files` or :func:`cut_shards` saw it here, else asked of its storage."""
    if url not in _sizes:
        try:
            if "://" in url:
                fs, path = _filesystem(url)
                _sizes[url] = int(fs.info(path)["size"])
            else:
                _sizes[url] = os.path.getsize(url)
        except Exception as exc:  # noqa: BLE001 - as in _read: storage errors of any type, named by the file
            raise UserError(f"cannot read {url}: {_reason(exc)}") from None
    return _sizes[url]


def _reason(exc):
    text = str(exc).strip()
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return text.splitlines()[0] if text else type(exc).__name__
