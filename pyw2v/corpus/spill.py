"""The encoded corpus on disk, for a corpus over the memory budget.

Two streams are made in a run (:mod:`pyw2v.corpus.prepare`): the counting
pass's, with each part's own ids, and the final one, re-encoded with C's ids,
that the epochs read. Each is kept in memory while it fits the budget
(:mod:`pyw2v.corpus.budget`):

* the counting pass's writers share half the budget. Once the bytes they
  hold pass it, each writer writes what it holds, and from then on every
  block of :data:`BLOCK_BYTES`, to one temporary file, and frees its buffer.
  A block always ends where a chunk of the text ends, on an id's last byte;
* the final stream stays in memory if it fits the budget together with
  whatever the counting pass still holds; else it is written to a second
  file as it is made, and the epochs read that file through a memory map.

The files are anonymous (``O_TMPFILE``, or unlinked as soon as created): no
name is ever visible, and the system frees them when the process ends,
however it ends (an error, Ctrl-C, SIGTERM, even SIGKILL). :meth:`SpillFile.close`
frees one sooner. Written pages are synced every :data:`SYNC_BYTES`, so
that they are clean page cache: a cgroup's own reclaim does not write dirty
pages back (the system's flusher does, which cgroup v1 does not pace per
group), so unsynced they would count as held.

The map is private and writable (``ACCESS_COPY``): no byte is ever written
(the kernels only read ``ids``), but a writable array has the type of the
in-memory stream, so Numba runs the kernels it has compiled for that rather
than compiling a read-only variant.
"""
import errno
import mmap
import os
import shutil
import tempfile
import threading

import numpy as np

from ..errors import UserError
from ..memory import MIB
from .encoding import StreamWriter, _encode, skip_ids

BLOCK_BYTES = 4 << 20  # a spilled writer's buffer; also what is re-encoded into a file at a time
SYNC_BYTES = 32 << 20
MAX_VARINT = 5  # bytes of the longest id (below 2^35)


def require_space(directory, nbytes, what):
    """A :class:`UserError` unless ``directory``'s file system has ``nbytes`` free."""
    free = shutil.disk_usage(directory).free
    if nbytes > free:
        raise UserError(
            f"{what} needs {nbytes / MIB:.0f} MiB in {directory}, which has {free / MIB:.0f} MiB free: "
            "free some space, give -tmpdir on another disk, or raise -memory-budget"
        )


class SpillFile:
    """An anonymous temporary file that is appended to by several threads, then mapped.

    ``expected`` bytes, when given, must be free in ``directory`` before it is created.
    """

    def __init__(self, directory, what, expected=0):
        require_space(directory, expected, what)
        try:
            self.file = tempfile.TemporaryFile(dir=directory)
        except OSError as exc:
            raise UserError(f"cannot create a temporary file in {directory}: {exc.strerror}") from None
        self.directory, self.what = directory, what
        self.size = 0
        self.unsynced = 0
        self.lock = threading.Lock()
        self.mappings = []

    def append(self, data):
        """Write ``data`` (a uint8 array) at the end of the file; returns its offset."""
        view = memoryview(data)
        with self.lock:
            offset = self.size
            try:
                done = 0
                while done < len(view):
                    done += os.pwrite(self.file.fileno(), view[done:], offset + done)
                self.size += done
                self.unsynced += done
                if self.unsynced >= SYNC_BYTES:
                    os.fdatasync(self.file.fileno())
                    self.unsynced = 0
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise UserError(
                        f"{self.what}: no space left in {self.directory} after {self.size / MIB:.0f} MiB: "
                        "free some space, give -tmpdir on another disk, or raise -memory-budget"
                    ) from None
                raise
            return offset

    def array(self):
        """The whole file as a uint8 array (a private map; an empty array for an empty file).

        The file is mapped again if it grew since the last call; arrays of the
        earlier map stay valid.
        """
        if self.size == 0:
            return np.zeros(0, dtype=np.uint8)
        if not self.mappings or len(self.mappings[-1]) != self.size:
            os.fdatasync(self.file.fileno())
            mapping = mmap.mmap(self.file.fileno(), self.size, access=mmap.ACCESS_COPY)
            # Read in order (each slice or part from its start), and pages read need not stay:
            # readahead, and pages the group's reclaim may take first.
            mapping.madvise(mmap.MADV_SEQUENTIAL)
            self.mappings.append(mapping)
        return np.frombuffer(self.mappings[-1], dtype=np.uint8)

    def close(self):
        """Free the file now. Arrays still mapping it keep it until they go (it has no name either way)."""
        for mapping in self.mappings:
            try:
                mapping.close()
            except BufferError:
                pass  # an array still maps it: freed with the last one
        self.mappings = []
        self.file.close()


class CountingSpill:
    """The budget that the counting pass's writers share, and their file once they pass it."""

    def __init__(self, budget, directory, expected=0, what="the counting pass's stream"):
        self.threshold = budget
        self.directory = directory
        self.expected = expected
        self.what = what
        self.held = 0
        self.spilling = False
        self.file = None
        self.lock = threading.Lock()

    def writer(self, expected_bytes):
        return SpillingWriter(expected_bytes, self)

    def hold(self, nbytes):
        """Count ``nbytes`` more held in memory; returns whether the writers must spill."""
        with self.lock:
            self.held += nbytes
            if self.held > self.threshold:
                self.spilling = True
            return self.spilling

    def open(self):
        """The file, created on first use."""
        with self.lock:
            if self.file is None:
                self.file = SpillFile(self.directory, self.what, self.expected)
            return self.file

    def reset(self):
        """Forget the writers so far (their streams are dropped): a fresh budget, no file."""
        self.close()
        self.held = 0
        self.spilling = False

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


class SpillingWriter(StreamWriter):
    """A :class:`StreamWriter` that moves to its :class:`CountingSpill`'s file once the budget is passed.

    Its stream's byte offsets (its marks, the offsets :meth:`finish_blocks`
    returns) count the bytes written to the file and then those held.
    """

    def __init__(self, expected_bytes, spill):
        super().__init__(expected_bytes)
        self.spill = spill
        self.blocks = None  # once spilled: (stream offset, file offset, bytes) of each block written
        self.flushed = 0  # bytes of the stream in those blocks

    def __call__(self, ids):
        if self.blocks is None:
            before = self.used
            super().__call__(ids)
            if self.spill.hold(self.used - before):
                self.blocks = []
                self._flush()
                self.spill.hold(-self.flushed)
                self.data = np.empty(BLOCK_BYTES, dtype=np.uint8)  # the big buffer goes back to the system
            return
        if len(self.data) - self.used < MAX_VARINT * len(ids):
            self._flush()
            if len(self.data) < MAX_VARINT * len(ids):
                self.data = np.empty(MAX_VARINT * len(ids), dtype=np.uint8)
        self.used, _ = _encode(ids, 0, self.data, self.used)
        self.tokens += len(ids)
        self.marks.append((self.tokens, self.flushed + self.used))

    def _flush(self):
        if self.used:
            offset = self.spill.open().append(self.data[: self.used])
            self.blocks.append((self.flushed, offset, self.used))
            self.flushed += self.used
            self.used = 0

    @property
    def held(self):
        """Bytes of the stream held in memory."""
        return self.used if self.blocks is None else 0

    def finish_blocks(self, tokens):
        """The stream as consecutive arrays, and the byte offset of each token index in ``tokens``.

        Held in memory: one array, the untrimmed buffer (see
        :meth:`StreamWriter.finish`). Spilled: views of the mapped file, so
        call this only once every writer of the spill is done.
        """
        if self.blocks is None:
            data, offsets = self.finish(tokens, trim=False)
            return [data], offsets
        self._flush()
        self.data = None
        whole = self.spill.file.array() if self.spill.file is not None else np.zeros(0, dtype=np.uint8)
        blocks = [whole[offset : offset + size] for _, offset, size in self.blocks]
        block_starts = np.array([start for start, _, _ in self.blocks], dtype=np.int64)
        mark_tokens = np.array([mark[0] for mark in self.marks])
        offsets = []
        for token in tokens:
            if token >= self.tokens:
                offsets.append(self.flushed)
                continue
            mark = int(np.searchsorted(mark_tokens, token, side="right")) - 1
            base_tokens, base_bytes = self.marks[mark]
            if token == base_tokens:
                offsets.append(base_bytes)
                continue
            # A chunk never straddles two blocks, so the token is in the block where its chunk starts.
            block = int(np.searchsorted(block_starts, base_bytes, side="right")) - 1
            start = int(block_starts[block])
            offsets.append(start + skip_ids(blocks[block], base_bytes - start, token - base_tokens))
        return blocks, np.array(offsets, dtype=np.int64)


class MemorySink:
    """The final stream, in memory: each block re-encoded straight into its place."""

    piece_bytes = None  # no need to cut the blocks

    def __init__(self, size):
        self.ids = np.empty(size, dtype=np.uint8)
        self.written = 0

    def out(self, piece_bytes):
        return self.ids[self.written :]

    def advance(self, count):
        self.written += count

    def finish(self):
        return self.ids, None

    def close(self):
        self.ids = None


class FileSink:
    """The final stream, in a file: re-encoded a piece at a time into a buffer, then written."""

    piece_bytes = BLOCK_BYTES

    def __init__(self, size, directory, widest):
        self.file = SpillFile(directory, "the encoded corpus", size)
        self.buffer = np.empty(BLOCK_BYTES * widest, dtype=np.uint8)
        self.widest = widest
        self.written = 0

    def out(self, piece_bytes):
        if len(self.buffer) < piece_bytes * self.widest:  # a piece has at most as many ids as bytes
            self.buffer = np.empty(piece_bytes * self.widest, dtype=np.uint8)
        return self.buffer

    def advance(self, count):
        self.file.append(self.buffer[:count])
        self.written += count

    def finish(self):
        self.buffer = None
        return self.file.array(), self.file

    def close(self):
        self.file.close()


def pieces(block, piece_bytes):
    """``(offset, piece)`` cutting ``block`` into pieces of about ``piece_bytes``, each ending on an id's last byte."""
    if piece_bytes is None or len(block) <= piece_bytes:
        yield 0, block
        return
    start = 0
    while start < len(block):
        end = min(start + piece_bytes, len(block))
        while end < len(block) and block[end - 1] >= 128:
            end -= 1
        yield start, block[start:end]
        start = end
