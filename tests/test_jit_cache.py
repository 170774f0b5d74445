"""pyw2v.jit_cache: Numba's cache stays in step with every source file of the package."""
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from pyw2v import jit_cache

CALLEE = """
from numba import njit

@njit(cache=True, inline="always")
def value():
    return {value}
"""
CALLER = """
from numba import njit
from .callee import value

@njit(cache=True)
def caller():
    return value()
"""
INIT = """
import os
from pathlib import Path
if os.environ.get("REFRESH") == "1":
    from pyw2v import jit_cache
    jit_cache.refresh(Path(__file__).parent)
"""


def _package(root, value):
    package = root / "inlined"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(INIT)
    (package / "callee.py").write_text(CALLEE.format(value=value))
    (package / "caller.py").write_text(CALLER)
    return package


def _run(root, code, refresh=True):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(Path(jit_cache.__file__).parents[1])]))
    env["REFRESH"] = "1" if refresh else "0"
    env.pop("NUMBA_CACHE_DIR", None)
    command = [sys.executable, "-c", "import inlined; " + code]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return int(result.stdout)


def _call(root, refresh):
    return _run(root, "from inlined.caller import caller; print(caller())", refresh)


def test_an_edited_callee_in_another_file_reaches_its_cached_caller(tmp_path):
    _package(tmp_path, 1)
    assert _call(tmp_path, refresh=True) == 1
    _package(tmp_path, 2)  # only callee.py changes; caller.py's own hash does not
    assert _call(tmp_path, refresh=True) == 2


def test_without_the_refresh_numba_runs_the_stale_callee(tmp_path):
    # The hazard this module exists for: if Numba ever tracks callees itself, this fails and the module can go.
    _package(tmp_path, 1)
    assert _call(tmp_path, refresh=False) == 1
    _package(tmp_path, 2)
    assert _call(tmp_path, refresh=False) == 1


def test_an_edit_leaves_the_cache_of_modules_that_do_not_import_it(tmp_path):
    package = _package(tmp_path, 1)
    (package / "other.py").write_text("from numba import njit\n\n@njit(cache=True)\ndef other():\n    return 7\n")
    code = "from inlined.other import other; other(); print(other.stats.cache_hits.total())"
    assert _run(tmp_path, code) == 0  # compiled and cached
    assert _run(tmp_path, code) == 1  # loaded
    _package(tmp_path, 2)  # callee.py: other.py does not import it
    assert _run(tmp_path, code) == 1
    (package / "other.py").write_text((package / "other.py").read_text().replace("7", "8"))
    assert _run(tmp_path, code) == 0


def test_a_stale_module_loses_its_kernels_and_keeps_other_files(tmp_path):
    for name in ("a.f-3.py311.nbi", "a.f-3.py311.1.nbc", "ab.g-1.py311.nbi", "a.cpython-311.pyc"):
        (tmp_path / name).write_bytes(b"x")
    assert jit_cache.clear_if_stale(tmp_path, "a", "old") == 2
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == ["a.cpython-311.pyc", "a" + jit_cache.STAMP_SUFFIX, "ab.g-1.py311.nbi"]
    (tmp_path / "a.h-9.py311.nbi").write_bytes(b"x")
    assert jit_cache.clear_if_stale(tmp_path, "a", "old") == 0
    assert (tmp_path / "a.h-9.py311.nbi").exists()
    assert jit_cache.clear_if_stale(tmp_path, "a", "new") == 1


def test_a_modules_digest_follows_what_it_imports_and_nothing_else(tmp_path):
    package = _package(tmp_path, 1)
    (package / "other.py").write_text("x = 1\n")
    first = jit_cache.dependency_digests(package)
    caller, callee, other = package / "caller.py", package / "callee.py", package / "other.py"
    assert jit_cache.dependency_digests(package) == first
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.nbi").write_bytes(b"cache files do not count")
    assert jit_cache.dependency_digests(package) == first
    _package(tmp_path, 2)
    edited = jit_cache.dependency_digests(package)
    assert edited[callee] != first[callee] and edited[caller] != first[caller]  # caller imports callee
    assert edited[other] == first[other]


def _parsed_imports(name, path, modules):
    """What :func:`jit_cache.direct_imports` reads as text, found by parsing the module instead."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_bytes())):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)]
            target = ".".join(base + (node.module.split(".") if node.module else []))
            found |= {target} | {f"{target}.{alias.name}".lstrip(".") for alias in node.names}
    return found & set(modules)


def test_imports_read_as_text_are_the_parsed_imports(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    for module in ("__init__", "a", "b", "c", "d", "sub/__init__", "sub/e"):
        (package / f"{module}.py").write_text("x = 1\n")
    (package / "sub" / "f.py").write_text(
        "from .. import (a,  # the first\n    b as bee,\n)\n"
        "def g():\n    from ..c import x\n    from . import e\n"
        "from .. import \\\n    d\n"
    )
    modules = jit_cache.package_modules(package)
    tricky = jit_cache.direct_imports("sub.f", package / "sub" / "f.py", modules)
    assert tricky == {"", "a", "b", "c", "d", "sub", "sub.e"}  # "" and "sub": the packages' __init__
    assert tricky == _parsed_imports("sub.f", package / "sub" / "f.py", modules)
    real = jit_cache.package_modules()
    for name, path in real.items():
        assert jit_cache.direct_imports(name, path, real) == _parsed_imports(name, path, real), name


def test_the_package_cache_is_stamped_with_its_sources():
    jit_cache.prepare()  # done by the first import of a module that defines kernels
    digests = jit_cache.dependency_digests()
    loop = jit_cache.PACKAGE_DIR / "training" / "loop.py"
    stamp = jit_cache.cache_dir_for(loop) / ("loop" + jit_cache.STAMP_SUFFIX)
    assert stamp.read_text().strip() == digests[loop]
    # The loop's stamp covers the steps it compiles in place.
    blocks = jit_cache.PACKAGE_DIR / "training" / "block_steps.py"
    assert digests[loop] != digests[blocks]


TINY = b"a b c a b a\nb c a\n"
PACKAGE = Path(jit_cache.__file__).parent


def _installed_copy(root):
    """A copy of the package in ``root``, and an environment that imports it, with no cache location set."""
    shutil.copytree(PACKAGE, root / "pyw2v", ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
    for name in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME"):
        env.pop(name, None)
    return env


def _command(module, args, cwd, env, stdin=b""):
    """``main(args)`` of ``module``, as its console script runs it."""
    code = f"import sys; from {module} import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, timeout=600, check=False)


def _tree(root):
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_importing_the_package_writes_nothing(tmp_path):
    env = _installed_copy(tmp_path / "site")
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    (tmp_path / "cache").mkdir()
    before = _tree(tmp_path)
    loaded = subprocess.run([sys.executable, "-c", "import sys, pyw2v; print(pyw2v.__file__, 'numba' in sys.modules)"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert loaded.stdout.split() == [str(tmp_path / "site" / "pyw2v" / "__init__.py"), "False"]
    assert _tree(tmp_path) == before


def test_no_writable_cache_location_compiles_in_memory(tmp_path):
    # A read-only install and home, NUMBA_CACHE_DIR unset (docker run --read-only). As root,
    # permissions do not stop a write, so every place Numba would try is taken by a file.
    site = tmp_path / "site"
    env = _installed_copy(site)
    for directory in [site / "pyw2v", *(path for path in (site / "pyw2v").rglob("*") if path.is_dir())]:
        (directory / "__pycache__").write_bytes(b"")
    (tmp_path / "home").write_bytes(b"")
    env["HOME"] = str(tmp_path / "home")
    for path in [site, *site.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    work = tmp_path / "work"
    work.mkdir()
    (work / "tiny.txt").write_bytes(TINY)
    from pyw2v.model.vectors import write_vectors

    write_vectors(work / "v.bin", [b"</s>", b"a", b"b"], np.eye(3, dtype=np.float32), True)
    runs = [
        _command("pyw2v.cli", [], work, env),
        _command("pyw2v.cli", ["-train", "tiny.txt", "-save-vocab", "vocab.txt", "-min-count", "1"], work, env),
        _command("pyw2v.tools.distance", ["v.bin"], work, env, b"a\nEXIT\n"),
    ]
    for result in runs:
        assert result.returncode == 0, result.stderr
        assert len(result.stderr.splitlines()) <= 1 and b"Traceback" not in result.stderr, result.stderr
    assert b"compiled in memory" in runs[1].stderr
    assert (work / "vocab.txt").read_bytes() == b"</s> 2\na 4\nb 3\nc 2\n"
    assert b"a\t\t" not in runs[2].stdout and b"b\t\t" in runs[2].stdout


def test_unreadable_cache_entries_are_compiled_again_and_replaced(tmp_path):
    # Empty .nbi and .nbc files, as a crash or a full disk after Numba's rename leaves them.
    env = _installed_copy(tmp_path / "site")
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "cache")
    (tmp_path / "tiny.txt").write_bytes(TINY)
    args = ["-train", "tiny.txt", "-save-vocab", "vocab.txt", "-min-count", "1", "-threads", "1"]
    assert _command("pyw2v.cli", args, tmp_path, env).returncode == 0
    expected = (tmp_path / "vocab.txt").read_bytes()
    entries = [path for path in (tmp_path / "cache").rglob("*") if path.suffix in (".nbi", ".nbc")]
    assert any(path.suffix == ".nbi" for path in entries) and any(path.suffix == ".nbc" for path in entries)
    for path in entries:
        path.write_bytes(b"")
    (tmp_path / "vocab.txt").unlink()
    result = _command("pyw2v.cli", args, tmp_path, env)
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    assert (tmp_path / "vocab.txt").read_bytes() == expected
    assert all(path.stat().st_size > 0 for path in entries)  # replaced, not left to fail again
