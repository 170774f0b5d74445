"""pyw2v.jit_cache: Numba's cache stays in step with every source file of the package."""
import os
import subprocess
import sys
from pathlib import Path

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


def _call(root, refresh):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(Path(jit_cache.__file__).parents[1])]))
    env["REFRESH"] = "1" if refresh else "0"
    env.pop("NUMBA_CACHE_DIR", None)
    code = "from inlined.caller import caller; print(caller())"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return int(result.stdout)


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


def test_a_stale_directory_loses_its_kernels_and_keeps_other_files(tmp_path):
    for name in ("a.py311.nbi", "a-12.py311.1.nbc", "module.cpython-311.pyc"):
        (tmp_path / name).write_bytes(b"x")
    assert jit_cache.clear_if_stale(tmp_path, "old") == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["module.cpython-311.pyc", jit_cache.STAMP_NAME]
    (tmp_path / "b.py311.nbi").write_bytes(b"x")
    assert jit_cache.clear_if_stale(tmp_path, "old") == 0
    assert (tmp_path / "b.py311.nbi").exists()
    assert jit_cache.clear_if_stale(tmp_path, "new") == 1


def test_the_digest_follows_every_source_file(tmp_path):
    package = _package(tmp_path, 1)
    first = jit_cache.sources_digest(package)
    assert jit_cache.sources_digest(package) == first
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.nbi").write_bytes(b"cache files do not count")
    assert jit_cache.sources_digest(package) == first
    _package(tmp_path, 2)
    edited = jit_cache.sources_digest(package)
    assert edited != first
    (package / "sub").mkdir()
    (package / "sub" / "more.py").write_text("x = 1\n")
    assert jit_cache.sources_digest(package) not in (first, edited)


def test_the_package_cache_is_stamped_with_its_sources():
    stamp = jit_cache.cache_dir_for(jit_cache.PACKAGE_DIR / "kernels.py") / jit_cache.STAMP_NAME
    assert stamp.read_text().strip() == jit_cache.sources_digest()
