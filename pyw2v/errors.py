"""User-facing errors and the one-line failure contract shared by every command.

Every command-line entry point runs through :func:`run_command`: an error the
user can cause (bad option, missing file, empty corpus, unwritable output)
raises :class:`UserError`, which ends as one line on stderr and exit status 1,
never a traceback.
"""
import contextlib
import os
import sys
import tempfile


class UserError(Exception):
    """An error caused by the user's input; its message is the whole report."""


def run_command(prog, body):
    """Run ``body()`` and turn user errors into one stderr line and exit 1."""
    try:
        status = body()
    except UserError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing more to say.
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")
        return 0
    return status or 0


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


class AtomicOutput:
    """A file written under a temporary name and renamed over ``path`` on commit.

    Created before any long computation so that an unwritable destination is
    reported at once; an interrupted run removes the temporary file and never
    leaves a truncated output behind.
    """

    def __init__(self, path, mode="wb"):
        self.path = path
        directory = os.path.dirname(os.path.abspath(path)) or "."
        if not os.path.isdir(directory):
            raise UserError(f"cannot write {path}: directory {directory} does not exist")
        if os.path.isdir(path):
            raise UserError(f"cannot write {path}: it is a directory")
        try:
            fd, self.tmp_path = tempfile.mkstemp(
                prefix="." + os.path.basename(path) + ".", suffix=".part", dir=directory
            )
        except OSError as exc:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        self.file = os.fdopen(fd, mode)

    def commit(self):
        """Flush and move the finished file to its real name."""
        self.file.close()
        os.chmod(self.tmp_path, 0o666 & ~_umask())
        os.replace(self.tmp_path, self.path)

    def discard(self):
        """Close and delete the temporary file (idempotent)."""
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.tmp_path)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            self.discard()
        return False


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
