"""Writing a command's outputs without destroying what they replace.

What an output path names decides how it is written:

* a regular file, or a path that does not exist yet: the data goes to a
  temporary file beside it, renamed over the path once complete, so an
  interrupted or failed run leaves the old file (or nothing) in place;
* a symbolic link to such a path: the same, at the link's final target, so
  the link stays a link;
* one of this process's open descriptors named through ``/proc``
  (``/dev/stdout`` is a link to ``/proc/self/fd/1``): written to that
  descriptor, where the process already writes, never reopened or truncated;
* anything else (a character device such as ``/dev/null``, a FIFO, a link to
  one): opened when the first byte is written and written as a stream, since
  renaming a file over it would replace the device or the pipe itself.

Every ``OSError`` while writing becomes a :class:`~pyw2v.errors.UserError`
naming the file and the system's reason, after the temporary file is
removed. An output that is the same regular file as one of the command's
inputs is refused by :func:`refuse_outputs_over_inputs` before any work.
"""
import contextlib
import os
import re
import stat
import sys
import tempfile

from .errors import CLOSED_AT_START, UserError

_MAX_LINKS = 40  # as the kernel's ELOOP limit


def _final_target(path):
    """Follow the links of ``path``; returns ``(own descriptor or None, final path)``.

    A hop through ``/proc/self/fd/N`` (or this process's pid) names the open
    descriptor ``N`` rather than a path, even when its link text looks like one.
    """
    own_descriptor = re.compile(rf"/proc/(?:self|thread-self|{os.getpid()}(?:/task/\d+)?)/fd/(\d+)")
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        canonical = os.path.join(os.path.realpath(os.path.dirname(current)), os.path.basename(current))
        match = own_descriptor.fullmatch(canonical)
        if match:
            return int(match.group(1)), canonical
        if not os.path.islink(canonical):
            return None, canonical
        current = os.path.join(os.path.dirname(canonical), os.readlink(canonical))
    raise UserError(f"cannot write {path}: too many levels of symbolic links")


def _reason(exc):
    return exc.strerror or str(exc)


class OutputFile:
    """One output of a command; see the module's docstring for how each kind is written.

    Created before any long computation, so that an unwritable destination is
    reported at once. ``write`` adds bytes; ``commit`` finishes the file
    (renames the temporary file into place); ``discard`` (or leaving the
    ``with`` block on an exception) removes the temporary file. Both are
    idempotent.
    """

    def __init__(self, path):
        self.path = path
        self.tmp_path = None
        self._stream = None
        self._descriptor, target = _final_target(path)
        self._target = target
        if self._descriptor is not None:
            if self._descriptor in CLOSED_AT_START:  # it holds /dev/null in its place (pyw2v.errors)
                raise UserError(f"cannot write {path}: Bad file descriptor")
            try:
                os.fstat(self._descriptor)
            except OSError as exc:
                raise UserError(f"cannot write {path}: {_reason(exc)}") from None
            return
        try:
            mode = os.stat(target).st_mode
        except FileNotFoundError:
            mode = None
        except OSError as exc:
            raise UserError(f"cannot write {path}: {_reason(exc)}") from None
        if mode is not None and stat.S_ISDIR(mode):
            raise UserError(f"cannot write {path}: it is a directory")
        if mode is not None and not stat.S_ISREG(mode):
            if not os.access(target, os.W_OK):
                raise UserError(f"cannot write {path}: permission denied")
            return  # a device or a FIFO: opened as a stream by the first write
        directory = os.path.dirname(target)
        if not os.path.isdir(directory):
            raise UserError(f"cannot write {path}: directory {directory} does not exist")
        try:
            fd, self.tmp_path = tempfile.mkstemp(
                prefix="." + os.path.basename(target) + ".", suffix=".part", dir=directory
            )
        except OSError as exc:
            raise UserError(f"cannot write {path}: {_reason(exc)}") from None
        self._stream = os.fdopen(fd, "wb")

    @property
    def file(self):
        """The object to write to (this one): it has ``write``."""
        return self

    @property
    def replaces_atomically(self):
        return self.tmp_path is not None

    def _open_stream(self):
        if self._stream is None:
            if self._descriptor is not None:
                sys.stdout.flush()  # what the command printed comes first
                self._stream = os.fdopen(os.dup(self._descriptor), "wb")
            else:
                self._stream = open(self._target, "wb")  # noqa: SIM115 - closed by commit or discard
        return self._stream

    def write(self, data):
        try:
            self._open_stream().write(data)
        except OSError as exc:
            self._fail(exc)

    def commit(self):
        """Flush and close; a temporary file is moved to its real name."""
        try:
            self._open_stream().close()
            if self.tmp_path is not None:
                os.chmod(self.tmp_path, 0o666 & ~_umask())
                os.replace(self.tmp_path, self._target)
                self.tmp_path = None
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc):
        self.discard()
        raise UserError(f"cannot write {self.path}: {_reason(exc)}") from None

    def discard(self):
        """Close without finishing and delete the temporary file, if any."""
        if self._stream is not None:
            with contextlib.suppress(OSError):
                self._stream.close()
        if self.tmp_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp_path)
            self.tmp_path = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.discard()
        return False


def refuse_outputs_over_inputs(outputs, inputs):
    """Refuse, in one line, an output that is the same regular file as an input.

    ``outputs`` and ``inputs`` map option names (``-output``) to paths; empty
    paths and URLs are skipped. Same means :func:`os.path.samefile`, so
    ``./x``, hard links and symbolic links count. Only a regular file is at
    stake: a device or a FIFO is written as a stream and not replaced.
    """
    for out_flag, out_path in outputs.items():
        if not out_path or not os.path.isfile(out_path):
            continue
        for in_flag, in_path in inputs.items():
            if not in_path or "://" in str(in_path):
                continue
            with contextlib.suppress(OSError, ValueError):
                if os.path.samefile(out_path, in_path):
                    raise UserError(
                        f"{out_flag} {out_path} is the same file as {in_flag} {in_path}; "
                        "refusing to overwrite an input"
                    )


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
