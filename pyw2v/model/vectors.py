"""The classic word2vec vector files, read and written by every pyw2v tool.

Layout (what word2vec.c writes and distance.c / gensim read):

* header ``"<words> <size>\\n"``;
* binary (``-binary 1``): per word ``word``, one space, ``size`` raw
  little-endian float32 values, then ``\\n``;
* text (``-binary 0``): per word ``word``, one space, each value as C's
  ``"%lf "`` (six decimals and a trailing space), then ``\\n``.

Words are bytes and are never decoded. The reader accepts both layouts
whichever the file is (C's tools read only binary), and binary rows without
the trailing newline, as gensim writes them.
"""
import numpy as np

from ..errors import AtomicOutput, UserError, open_input
from .text_format import format_text_rows

# formatted a block at a time so that a large vocabulary's text stays small in memory
_TEXT_ROWS_PER_BLOCK = 8192
_TEXT_BYTES = frozenset(b"0123456789.-+eE \t\r\nnaifNAIF")


def write_vectors(path, words, syn0, binary):
    """Write ``words`` (bytes) and their rows of ``syn0`` atomically to ``path``."""
    with AtomicOutput(path) as out:
        write_vectors_to(out.file, words, syn0, binary)


def write_vectors_to(stream, words, syn0, binary):
    """Write the vector file body to an open binary ``stream`` (C's TrainModel output)."""
    syn0 = np.ascontiguousarray(syn0, dtype="<f4")
    count, size = syn0.shape
    stream.write(b"%d %d\n" % (count, size))
    if binary:
        for word, row in zip(words, syn0):
            stream.write(word + b" " + row.tobytes() + b"\n")
        return
    for first in range(0, count, _TEXT_ROWS_PER_BLOCK):
        block = slice(first, first + _TEXT_ROWS_PER_BLOCK)
        stream.write(format_text_rows(words[block], syn0[block]))


def read_vectors(path):
    """Read a vector file in either layout; returns ``(words, float32 matrix)``.

    Raises :class:`UserError` for a missing file, a file that is not a vector
    file, a header with nonsense numbers, or a truncated body.
    """
    with open_input(path) as stream:
        try:
            data = stream.read()
        except (OSError, EOFError) as exc:
            raise UserError(f"cannot read {path}: {exc}") from None
    return parse_vectors(data, path)


def parse_vectors(data, name="<vectors>"):
    """Parse the bytes of a vector file; see :func:`read_vectors`."""
    newline = data.find(b"\n")
    header = data[:newline].split() if newline >= 0 else []
    if len(header) != 2 or not all(field.isdigit() for field in header):
        raise UserError(f"{name} is not a word2vec vector file (bad header)")
    count, size = int(header[0]), int(header[1])
    if size == 0 or (count == 0 and len(data) > newline + 1):
        raise UserError(f"{name} has a nonsense header: {count} words of size {size}")
    body_start = newline + 1
    if count and _looks_binary(data, body_start, size):
        return _parse_binary(data, body_start, count, size, name)
    return _parse_text(data, body_start, count, size, name)


def _looks_binary(data, start, size):
    space = data.find(b" ", start)
    if space < 0:
        return False
    sample = data[space + 1 : space + 1 + 4 * size]
    return not set(sample) <= _TEXT_BYTES


def _parse_binary(data, pos, count, size, name):
    words = []
    matrix = np.empty((count, size), dtype=np.float32)
    row_bytes = 4 * size
    end = len(data)
    for index in range(count):
        while pos < end and data[pos] in b" \t\r\n":
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > end:
            raise UserError(f"{name} is truncated: {index} of {count} vectors present")
        words.append(data[pos:space])
        matrix[index] = np.frombuffer(data, dtype="<f4", count=size, offset=space + 1)
        pos = space + 1 + row_bytes
    return words, matrix


def _parse_text(data, pos, count, size, name):
    lines = data[pos:].split(b"\n")
    rows = [line for line in lines if line.strip()]
    if len(rows) < count:
        raise UserError(f"{name} is truncated: {len(rows)} of {count} vectors present")
    words = []
    matrix = np.empty((count, size), dtype=np.float32)
    for index, line in enumerate(rows[:count]):
        fields = line.split()
        if len(fields) != size + 1:
            raise UserError(
                f"{name}: line {index + 2} has {len(fields) - 1} values, the header says {size}"
            )
        words.append(fields[0])
        try:
            matrix[index] = np.array(fields[1:], dtype=np.float64)
        except ValueError:
            raise UserError(f"{name}: line {index + 2} is not a word followed by numbers") from None
    return words, matrix
