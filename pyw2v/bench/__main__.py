"""The harness's entry point: ``python -m pyw2v.bench``, ``bin/bench`` and its own child jobs.

Run as a module, this process has imported pyw2v and so Numba (some
150 MiB, which Linux would charge to every job it starts; see the package's
docstring): it runs this file as a script in a fresh interpreter and
returns its exit status. Run as a script, it loads this folder as the
stand-alone package ``pyw2v_bench``, with the standard library only, and
runs the harness.
"""
import importlib
import importlib.util
import os
import subprocess
import sys

STANDALONE = "pyw2v_bench"


def load_standalone():
    """This folder imported as the package ``pyw2v_bench``, without pyw2v's ``__init__``."""
    folder = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        STANDALONE, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[STANDALONE] = package
    spec.loader.exec_module(package)
    return importlib.import_module(STANDALONE + ".cli")


if __name__ == "__main__":
    if __package__:
        env = dict(os.environ, PYW2V_BENCH_PROG="python -m pyw2v.bench")
        sys.exit(subprocess.call([sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env=env))
    del sys.path[0]  # this folder: its modules are not top-level names
    sys.exit(load_standalone().main(sys.argv[1:]))
