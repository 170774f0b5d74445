"""Numba's on-disk cache kept in step with the sources each module depends on.

Numba stamps each cached function with its own source file only. A cached
function also holds the machine code of everything it calls from other
modules (LLVM inlines the callees, and each variant's loop has its step
inlined, :mod:`pyw2v.training.loop`), so after an edit of a
callee's file, or an upgrade that changes only that file, the caller's
cached code still passes as fresh and runs the old callee. pip leaves these
runtime files behind on an upgrade.

So each module's cached functions carry a second stamp: the hash of the
module's own source and of every package module it imports, directly or
through others (read from its ``import`` statements). :func:`refresh`,
called when the package is imported and before any kernel loads, deletes the
cached functions of each module whose stamp differs. An edit thus
recompiles the functions of the edited module and of the modules that
import it, and nothing else. Two processes started together just after an
edit may both recompile; one may also find a file gone that it was about to
load, and Numba then compiles that function.

:func:`prepare` also makes two faults of the cache cost time, never a run:
with no writable place for it (a read-only install and home, no
``NUMBA_CACHE_DIR``), kernels are compiled in memory, and one line says so;
an entry that cannot be read (an empty ``.nbi`` or ``.nbc`` left by a crash
or a full disk) is a miss, and the compiled kernel replaces it. It is called
before the first module that defines a kernel is imported (``pyw2v/__init__``).
"""
import functools
import hashlib
import os
import re
import sys
import tempfile
from pathlib import Path

from numba.core import event
from numba.core.caching import FunctionCache, IndexDataCacheFile
from numba.core.dispatcher import Dispatcher

from . import errors

PACKAGE_DIR = Path(__file__).resolve().parent
STAMP_SUFFIX = ".pyw2v-sources.sha256"
CACHE_SUFFIXES = (".nbi", ".nbc")


def package_modules(package_dir=PACKAGE_DIR):
    """``{dotted name: path}`` of every ``.py`` file under ``package_dir`` (``__init__`` named by its package)."""
    package_dir = Path(package_dir)
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


# ``from .x import a, b as c``, its names possibly in brackets over several lines. Read as text, not parsed:
# parsing every module took most of a run's start-up. A match inside a string or comment only adds a dependency.
RELATIVE_IMPORT = re.compile(
    rb"^[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import[ \t]*(\([^)]*\)|(?:[^\n]*\\\n)*[^\n]*)", re.M
)
COMMENT = re.compile(rb"#[^\n]*")


def direct_imports(name, path, modules):
    """The package modules that module ``name`` imports (relative imports, and ``from . import x`` of modules)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for dots, module, imported in RELATIVE_IMPORT.findall(path.read_bytes()):
        level = len(dots)
        base = package[: len(package) - (level - 1)] if level > 1 else package
        target = ".".join(base + (module.decode().split(".") if module else []))
        names = COMMENT.sub(b"", imported).replace(b"\\", b" ").strip(b"() \t\n").split(b",")
        aliases = [part.split()[0].decode() for part in names if part.strip()]
        for candidate in [target] + [f"{target}.{alias}".lstrip(".") for alias in aliases]:
            if candidate in modules:
                found.add(candidate)
    return found


def dependency_digests(package_dir=PACKAGE_DIR):
    """``{path: sha256}``: each module's source and those of every package module it imports, transitively."""
    modules = package_modules(package_dir)
    imports = {name: direct_imports(name, path, modules) for name, path in modules.items()}
    sources = {name: path.read_bytes() for name, path in modules.items()}
    digests = {}
    for name, path in modules.items():
        closure, pending = {name}, [name]
        while pending:
            for imported in imports[pending.pop()]:
                if imported not in closure:
                    closure.add(imported)
                    pending.append(imported)
        digest = hashlib.sha256()
        for member in sorted(closure):
            digest.update(member.encode() + b"\0" + sources[member] + b"\0")
        digests[path] = digest.hexdigest()
    return digests


def cache_dir_for(source_file):
    """The directory where Numba caches the functions of ``source_file``: as Numba chooses it for a stand-in."""
    code = compile("def stand_in():\n    pass\n", str(source_file), "exec")
    namespace = {}
    exec(code, namespace)  # noqa: S102 - our own two-line source
    return Path(FunctionCache(namespace["stand_in"]).cache_path)


def clear_if_stale(cache_dir, stem, digest):
    """Delete the cached functions of module ``stem`` in ``cache_dir`` unless its stamp is ``digest``; then stamp it.

    Numba names a function's cache files ``<stem>.<function>-<line>.py<version>...``.
    Returns the number of files deleted.
    """
    cache_dir = Path(cache_dir)
    stamp = cache_dir / (stem + STAMP_SUFFIX)
    try:
        if stamp.read_text().strip() == digest:
            return 0
    except OSError:
        pass
    deleted = 0
    for path in cache_dir.glob(stem + ".*"):
        if path.suffix in CACHE_SUFFIXES:
            try:
                path.unlink()
                deleted += 1
            except FileNotFoundError:
                pass  # another process cleared it first
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=cache_dir, delete=False, suffix=".tmp") as new_stamp:
        new_stamp.write(digest + "\n")
    os.replace(new_stamp.name, stamp)
    return deleted


def refresh(package_dir=PACKAGE_DIR):
    """Bring the cached functions of every module of the package in step with the sources it depends on.

    A cache that cannot be read or written is left to Numba, which then
    compiles in memory as it always does.
    """
    for path, digest in dependency_digests(package_dir).items():
        try:
            clear_if_stale(cache_dir_for(path), path.stem, digest)
        except (OSError, RuntimeError):
            continue


def prepare(package_dir=PACKAGE_DIR):
    """Once per process, before any kernel is defined: the faults above handled, signals deferred, :func:`refresh`."""
    if getattr(Dispatcher.enable_caching, "pyw2v_prepared", False):
        return
    Dispatcher.enable_caching = _cache_or_compile_in_memory(Dispatcher.enable_caching)
    IndexDataCacheFile._load_index = _unreadable_as_missing(IndexDataCacheFile._load_index, dict)
    IndexDataCacheFile.load = _unreadable_as_missing(IndexDataCacheFile.load, lambda: None)
    event.register("numba:compiler_lock", _Compiling())
    refresh(package_dir)


def _cache_or_compile_in_memory(enable_caching):
    said = []

    @functools.wraps(enable_caching)
    def cache_or_compile_in_memory(dispatcher):
        try:
            enable_caching(dispatcher)
        except RuntimeError as exc:
            if "no locator available" not in str(exc):
                raise
            if not said:  # the dispatcher keeps its NullCache: compiled in memory
                said.append(True)
                print(
                    "pyw2v: no writable directory for the kernel cache (set NUMBA_CACHE_DIR): "
                    "kernels are compiled in memory, which takes longer", file=sys.stderr, flush=True,
                )

    cache_or_compile_in_memory.pyw2v_prepared = True
    return cache_or_compile_in_memory


def _unreadable_as_missing(read, missing):
    @functools.wraps(read)
    def read_or_missing(self, *args):
        try:
            return read(self, *args)
        except Exception:  # noqa: BLE001 - any entry that does not load is compiled again and replaced
            return missing()

    return read_or_missing


class _Compiling(event.Listener):
    """Tells :mod:`pyw2v.errors` when a thread holds Numba's compiler lock, so that a signal waits for its end."""

    def on_start(self, event):
        errors.compile_started()

    def on_end(self, event):
        errors.compile_ended()
