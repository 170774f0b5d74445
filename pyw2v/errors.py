"""User-facing errors and the one-line failure contract shared by every command.

Every command-line entry point runs through :func:`run_command`: an error the
user can cause (bad option, missing file, empty corpus, unwritable output)
raises :class:`UserError`, which ends as one line on stderr and exit status 1,
never a traceback.

Signals: SIGINT, SIGTERM and SIGHUP stop a command (unless it was started
with them ignored, as ``nohup`` does). The handler raises at once, except
while the main thread compiles a kernel: an exception raised inside Numba's
compiler can surface in one of LLVM's callbacks, where it is lost or leaves
the compiler's state broken. There the handler only notes the signal, and it
is raised when the compilation ends (:func:`compile_started`,
:func:`compile_ended`, called by :mod:`pyw2v.jit_cache`).
"""
import codecs
import contextlib
import io
import os
import signal
import sys
import threading


class UserError(Exception):
    """An error caused by the user's input; its message is the whole report."""


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled wherever Ctrl-C is: the work stops and temporary files go."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# The standard descriptors that were closed when the command started (``>&-``); they now hold /dev/null.
CLOSED_AT_START = set()


class _Deferred:
    compiling = 0  # nesting depth of the main thread's compilations
    pending = None  # a stop signal received meanwhile


def _raise_stop(signum):
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


def _on_stop_signal(signum, frame):
    if _Deferred.compiling:
        _Deferred.pending = _Deferred.pending or signum
        return
    _raise_stop(signum)


def compile_started():
    """The calling thread starts compiling (or loading) a kernel."""
    if threading.current_thread() is threading.main_thread():
        _Deferred.compiling += 1


def compile_ended():
    """The calling thread's compilation ended; a stop signal received meanwhile is raised now."""
    if threading.current_thread() is not threading.main_thread() or not _Deferred.compiling:
        return
    _Deferred.compiling -= 1
    signum = _Deferred.pending
    if signum is not None and not _Deferred.compiling:
        _Deferred.pending = None
        _raise_stop(signum)


@contextlib.contextmanager
def _stop_signals_handled():
    saved = {}
    for signum in STOP_SIGNALS:
        default = signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL
        try:
            if signal.getsignal(signum) == default:
                saved[signum] = signal.signal(signum, _on_stop_signal)
        except ValueError:  # not the main thread: signals stay as they are
            pass
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)
        _Deferred.pending = None


def _as_bytes(error):
    """Encoding error handler: the characters that do not encode are written as the bytes they were read from.

    Command-line arguments (file names) are decoded with the file system's
    encoding; encoding them back gives the bytes C would print.
    """
    if isinstance(error, UnicodeEncodeError):
        return os.fsencode(error.object[error.start : error.end]), error.end
    raise error


codecs.register_error("pyw2v.bytes", _as_bytes)


def _usable_standard_streams():
    """Give a closed standard descriptor /dev/null, and print any file name, whatever the streams' encoding.

    A descriptor closed at start (``>&-``) would otherwise be taken by the
    next file opened, and Python leaves its stream None.
    """
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            CLOSED_AT_START.add(fd)
            if getattr(sys, name) is None:
                setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115 - for the process
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(Exception):
                stream.reconfigure(errors="pyw2v.bytes")


def _say(line):
    """Print the command's last line on stderr; a closed stderr cannot make it a traceback."""
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def _silence_stdout():
    """Point the stdout descriptor at /dev/null, so that flushing what is buffered at exit cannot fail."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def run_command(prog, body):
    """Run ``body()`` and turn user errors into one stderr line and exit 1.

    Ctrl-C exits with 130; SIGTERM and SIGHUP exit with 128 + the signal's
    number, as a shell reports a killed command. A stdout whose reader went
    away (``| head``) ends the command as C's SIGPIPE does, with status 141
    (and here one line saying so): the run stops, and its outputs are not
    written. An ``OSError`` no code turned into a :class:`UserError` still
    ends in one line (the system's message names the file).
    """
    try:
        _usable_standard_streams()
        with _stop_signals_handled():
            status = body()
            sys.stdout.flush()  # a closed pipe is found here, not at exit
    except UserError as exc:
        _say(f"{prog}: {_one_line(exc)}")
        return 1
    except Stopped as exc:
        _say(f"{prog}: stopped by {signal.Signals(exc.signum).name}")
        return 128 + exc.signum
    except KeyboardInterrupt:
        _say(f"{prog}: interrupted")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        _say(f"{prog}: standard output closed by its reader (broken pipe)")
        return 128 + signal.SIGPIPE
    except OSError as exc:
        _say(f"{prog}: {_one_line(exc)}")
        return 1
    return status or 0


def _one_line(exc):
    """The message with line breaks (from a file name, say) shown escaped, so it stays one line."""
    return str(exc).replace("\r", "\\r").replace("\n", "\\n")


# The suffixes smart_open decompresses by, in any case (smart_open.compression.get_supported_extensions()):
# smart_open's list, not pyw2v.corpus.reader.COMPRESSED_SUFFIXES, since it decides who opens the file.
SMART_OPEN_COMPRESSIONS = (".bz2", ".gz", ".lz4", ".xz", ".zst")
# Decompressed by smart_open only with a package pyw2v does not require: the package a user installs.
OPTIONAL_DECOMPRESSORS = {".lz4": "lz4", ".zst": "backports.zstd"}


def check_readable(path):
    """A missing, unreadable or directory local path is a :class:`UserError`; returns whether ``path`` is local.

    Nothing is opened: a pipe is read by its one reader only.
    """
    local = "://" not in str(path)
    if local:
        if not os.path.exists(path):
            raise UserError(f"cannot read {path}: no such file")
        if os.path.isdir(path):
            raise UserError(f"cannot read {path}: it is a directory")
        if not os.access(path, os.R_OK):
            raise UserError(f"cannot read {path}: permission denied")
    return local


def open_input(path, mode="rb"):
    """Open a local path, compressed file or URL; missing, unreadable and directory paths are a :class:`UserError`.

    URLs and compressed files go through smart_open. A plain local file is
    opened with ``open``, which is what smart_open would do with it, so a
    command on local files never imports smart_open (nor boto3, which it imports where installed).
    """
    local = check_readable(path)
    name = os.fsdecode(path).lower()
    try:
        if name.endswith(".lzma"):
            return _open_lzma(path, local, mode)
        if local and not name.endswith(SMART_OPEN_COMPRESSIONS):
            return open(path, mode)
        from smart_open import open as smart_open

        return smart_open(path, mode)
    except ImportError as exc:
        suffix = os.path.splitext(name)[1]
        package = OPTIONAL_DECOMPRESSORS.get(suffix)
        need = f"the Python package {package} (pip install {package})" if package else f"the module {exc.name}"
        raise UserError(f"cannot read {path}: {suffix} files need {need}") from None
    except (OSError, ValueError, EOFError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None


def _open_lzma(path, local, mode):
    """A ``.lzma`` file (LZMA "alone", or xz), decompressed: smart_open knows neither that suffix nor the format."""
    import lzma

    if local:
        return lzma.open(path, mode)
    from smart_open import open as smart_open

    return lzma.open(smart_open(path, "rb", compression="disable"), mode)
