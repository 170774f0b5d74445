"""The classic word2vec vector files, read and written by every pyw2v tool.

Layout (what word2vec.c writes and distance.c / gensim read):

* header ``"<words> <size>\\n"``;
* binary (``-binary 1``): per word ``word``, one space, ``size`` raw
  little-endian float32 values, then ``\\n``;
* text (``-binary 0``): per word ``word``, one space, each value as C's
  ``"%lf "`` (six decimals and a trailing space), then ``\\n``.

Words are bytes and are never decoded. The reader accepts both layouts
whichever the file is (C's tools read only binary; see :func:`parse_vectors`
for how the layout is told), binary rows without the trailing newline, as
gensim writes them, and text rows ending in CRLF.
"""
import numpy as np

from ..errors import UserError, open_input
from ..output_files import OutputFile
from .text_format import format_text_rows

# formatted a block at a time so that a large vocabulary's text stays small in memory
_TEXT_ROWS_PER_BLOCK = 8192
_TEXT_BYTES = frozenset(b"0123456789.-+eE \t\r\nnaifNAIF")


def write_vectors(path, words, syn0, binary):
    """Write ``words`` (bytes) and their rows of ``syn0`` atomically to ``path``."""
    with OutputFile(path) as out:
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


def parse_vectors(data, name="<vectors>", finite=True):
    """Parse the bytes of a vector file; see :func:`read_vectors`.

    The layout is decided by reading, not by a guess from a sample: the
    text layout is taken when the whole body reads as ``count`` text rows of
    a word and ``size`` numbers, with nothing after them; otherwise the
    binary layout, when every row reads as one (a word without a newline, a
    space, ``4 * size`` bytes) and nothing but whitespace follows the last.
    A text file of short numbers can line up as binary rows, but a binary
    file of float32 values never reads as text, so text is tried first.

    Text rows may end in CRLF, the last row of either layout may lack its
    newline, and words are bytes without space or newline. With ``finite``,
    a NaN or infinite value is a :class:`UserError` naming its word.
    """
    newline = data.find(b"\n")
    header = (data[:newline] if newline >= 0 else data).split()
    if len(header) != 2 or not all(field.isdigit() for field in header):
        raise UserError(f"{name} is not a word2vec vector file (bad header)")
    body_start = newline + 1 if newline >= 0 else len(data)
    body = len(data) - body_start
    count, size = int(header[0]), int(header[1])
    if size == 0 or (count == 0 and data[body_start:].strip()):
        raise UserError(f"{name} has a nonsense header: {count} words of size {size}")
    if count * size > body:  # every value takes at least a byte, in either layout
        raise UserError(f"{name} is truncated: its header promises {count} vectors of size {size}, "
                        f"more than its {body} bytes can hold")
    try:
        words, matrix = _parse_text(data, body_start, count, size, name)
    except UserError as text_error:
        binary = _parse_binary(data, body_start, count, size)
        if binary.complete:
            words, matrix = binary.words, binary.matrix
        elif binary.rows and not binary.could_be_text and not isinstance(text_error, _TextTruncated):
            raise UserError(f"{name} is truncated: {binary.rows} of {count} vectors present") from None
        else:
            raise
    if finite:
        _require_finite(words, matrix, name)
    return words, matrix


class _TextTruncated(UserError):
    """Every row read as text, and they ended before the header's count: a text file, cut short."""


class _BinaryReading:
    """What reading the body as binary rows gave: ``complete`` when all ``count`` rows and
    nothing but whitespace after them; ``could_be_text`` when every value byte read is a text byte."""

    def __init__(self, words, matrix, rows, complete, could_be_text):
        self.words, self.matrix, self.rows = words, matrix, rows
        self.complete, self.could_be_text = complete, could_be_text


def _parse_binary(data, pos, count, size):
    row_bytes = 4 * size
    end = len(data)
    words, offsets = [], []
    could_be_text = True
    complete = False
    for _ in range(count):
        while pos < end and data[pos] == 10:  # C's rows end in a newline, gensim's do not
            pos += 1
        space = data.find(b" ", pos)
        if space < 0 or space + 1 + row_bytes > end or b"\n" in data[pos:space]:
            break
        words.append(data[pos:space])
        offsets.append(space + 1)
        pos = space + 1 + row_bytes
        could_be_text = could_be_text and set(data[space + 1 : pos]) <= _TEXT_BYTES
    else:
        complete = not data[pos:].strip(b" \t\r\n")
    matrix = None
    if complete:
        matrix = np.empty((count, size), dtype=np.float32)
        for index, offset in enumerate(offsets):
            matrix[index] = np.frombuffer(data, dtype="<f4", count=size, offset=offset)
    return _BinaryReading(words, matrix, len(words), complete, could_be_text)


def _parse_text(data, pos, count, size, name):
    """``count`` rows of a word, a space and ``size`` numbers, then nothing; read a line at a time,
    so that a binary file fails at its first row without the whole file being split."""
    words = []
    matrix = np.empty((count, size), dtype=np.float32)
    end = len(data)
    number = 1
    while len(words) < count:
        if pos >= end:
            raise _TextTruncated(f"{name} is truncated: {len(words)} of {count} vectors present")
        newline = data.find(b"\n", pos)
        newline = end if newline < 0 else newline
        line, pos = data[pos:newline], newline + 1
        number += 1
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip():
            continue
        word, space, values = line.partition(b" ")
        fields = values.split()
        if not space or len(fields) != size:
            raise UserError(f"{name}: line {number} has {len(fields)} values, the header says {size}")
        try:
            with np.errstate(over="ignore"):  # past float32's range: reported as not finite
                matrix[len(words)] = np.array(fields, dtype=np.float64)
        except ValueError:
            raise UserError(f"{name}: line {number} is not a word followed by numbers") from None
        words.append(word)
    if data[pos:].strip():
        raise UserError(f"{name} has more rows than the {count} its header promises")
    return words, matrix


def _require_finite(words, matrix, name):
    finite = np.isfinite(matrix).all(axis=1)
    if not finite.all():
        row = int(np.argmin(finite))
        raise UserError(f"{name}: the vector of {words[row].decode('utf-8', 'replace')!r} (row {row + 1}) "
                        f"has a value that is not a finite number")
