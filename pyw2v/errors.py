"""User-facing errors and the one-line failure contract shared by every command.

Every command-line entry point runs through :func:`run_command`: an error the
user can cause (bad option, missing file, empty corpus, unwritable output)
raises :class:`UserError`, which ends as one line on stderr and exit status 1,
never a traceback.
"""
import contextlib
import os
import signal
import sys


class UserError(Exception):
    """An error caused by the user's input; its message is the whole report."""


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, handled wherever Ctrl-C is: the work stops and temporary files go."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


# Signals that end a command as Ctrl-C does, unless the command was started
# with them ignored (``nohup`` ignores SIGHUP, and that choice is kept).
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _raise_stopped(signum, frame):
    raise Stopped(signum)


@contextlib.contextmanager
def _stop_signals_as_interrupts():
    saved = {}
    for signum in STOP_SIGNALS:
        try:
            if signal.getsignal(signum) == signal.SIG_DFL:
                saved[signum] = signal.signal(signum, _raise_stopped)
        except ValueError:  # not the main thread: signals stay as they are
            pass
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def run_command(prog, body):
    """Run ``body()`` and turn user errors into one stderr line and exit 1.

    Ctrl-C exits with 130; SIGTERM and SIGHUP are taken like Ctrl-C and
    exit with 128 + the signal's number, as a shell reports a killed command.
    An ``OSError`` no code turned into a :class:`UserError` still ends in
    one line (the system's message names the file).
    """
    try:
        with _stop_signals_as_interrupts():
            status = body()
    except UserError as exc:
        print(f"{prog}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Stopped as exc:
        print(f"{prog}: stopped by {signal.Signals(exc.signum).name}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more to say.
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")
        return 0
    except OSError as exc:
        print(f"{prog}: {_one_line(exc)}", file=sys.stderr)
        return 1
    return status or 0


def _one_line(exc):
    """The message with line breaks (from a file name, say) shown escaped, so it stays one line."""
    return str(exc).replace("\r", "\\r").replace("\n", "\\n")


def open_input(path, mode="rb"):
    """Open a local path, compressed file or URL through smart_open.

    Missing, unreadable and directory paths become a :class:`UserError`.
    """
    from smart_open import open as smart_open

    if "://" not in str(path):
        if not os.path.exists(path):
            raise UserError(f"cannot read {path}: no such file")
        if os.path.isdir(path):
            raise UserError(f"cannot read {path}: it is a directory")
        if not os.access(path, os.R_OK):
            raise UserError(f"cannot read {path}: permission denied")
    try:
        return smart_open(path, mode)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path}: {exc}") from None


def AtomicOutput(path, mode="wb"):  # noqa: N802 (the class's old name)
    """An output file: see :class:`pyw2v.output_files.OutputFile` (binary mode only)."""
    from .output_files import OutputFile

    return OutputFile(path)
