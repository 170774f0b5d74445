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


def _run(root, code, refresh=True):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(Path(jit_cache.__file__).parents[1])]))
    env["REFRESH"] = "1" if refresh else "0"
    env.pop("NUMBA_CACHE_DIR", None)
    result = subprocess.run([sys.executable, "-c", "import inlined; " + code], env=env, capture_output=True, text=True, check=True)
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


def test_the_package_cache_is_stamped_with_its_sources():
    digests = jit_cache.dependency_digests()
    loop = jit_cache.PACKAGE_DIR / "training" / "loop.py"
    stamp = jit_cache.cache_dir_for(loop) / ("loop" + jit_cache.STAMP_SUFFIX)
    assert stamp.read_text().strip() == digests[loop]
    # The loop's stamp covers the steps it compiles in place.
    blocks = jit_cache.PACKAGE_DIR / "training" / "blocks.py"
    assert digests[loop] != digests[blocks]
