"""Numba's on-disk cache kept in step with the whole package's sources.

Numba stamps each cached function with a hash of its own source file only.
The kernels inline functions from other modules (``work_queue.run_parts``
inlines ``kernels.train_position``, which inlines ``window_batch``,
``simd`` and more), so after an edit, or an upgrade that changes only a
callee's file, the caller's cached machine code still passes as fresh and
runs the old callee. pip leaves these runtime files behind on an upgrade.
This happened: with only ``kernels.py`` edited, ``run_parts`` kept loading
its old code.

So each of the package's cache directories carries a stamp, the hash of
all the package's sources, and :func:`refresh` (called when the package is
imported, before any kernel loads) empties a directory whose stamp differs.
The kernels then compile once and are cached again. Two processes started
together just after an edit may both recompile; one may also find a file
gone that it was about to load, and Numba then compiles that function.
"""
import hashlib
import os
import tempfile
from pathlib import Path

from numba.core.caching import FunctionCache

PACKAGE_DIR = Path(__file__).resolve().parent
STAMP_NAME = "pyw2v-sources.sha256"
CACHE_SUFFIXES = (".nbi", ".nbc")


def sources_digest(package_dir=PACKAGE_DIR):
    """The sha256 of every ``.py`` file under ``package_dir``: relative paths and contents, in path order."""
    digest = hashlib.sha256()
    for path in sorted(Path(package_dir).rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_dir_for(source_file):
    """The directory where Numba caches functions defined in ``source_file``.

    Numba chooses it (next to the file when writable, else under the user's
    cache or ``NUMBA_CACHE_DIR``); it is asked about a stand-in function
    that claims to come from that file.
    """
    code = compile("def stand_in():\n    pass\n", str(source_file), "exec")
    namespace = {}
    exec(code, namespace)
    return Path(FunctionCache(namespace["stand_in"]).cache_path)


def clear_if_stale(cache_dir, digest):
    """Delete the cached kernels in ``cache_dir`` unless its stamp is ``digest``; then stamp it.

    Returns the number of files deleted.
    """
    cache_dir = Path(cache_dir)
    stamp = cache_dir / STAMP_NAME
    try:
        if stamp.read_text().strip() == digest:
            return 0
    except OSError:
        pass
    deleted = 0
    for path in cache_dir.iterdir():
        if path.suffix in CACHE_SUFFIXES:
            try:
                path.unlink()
                deleted += 1
            except FileNotFoundError:
                pass  # another process cleared it first
    with tempfile.NamedTemporaryFile("w", dir=cache_dir, delete=False, suffix=".tmp") as new_stamp:
        new_stamp.write(digest + "\n")
    os.replace(new_stamp.name, stamp)
    return deleted


def refresh(package_dir=PACKAGE_DIR):
    """Bring every cache directory of the package's modules in step with its sources.

    A cache that cannot be read or written is left to Numba, which then
    compiles in memory as it always does.
    """
    digest = sources_digest(package_dir)
    module_dirs = sorted({path.parent for path in Path(package_dir).rglob("*.py")})
    for module_dir in module_dirs:
        try:
            clear_if_stale(cache_dir_for(next(module_dir.glob("*.py"))), digest)
        except (OSError, RuntimeError):
            continue
