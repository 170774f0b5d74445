"""A first run compiles each of pyw2v's kernels once.

Numba compiles a callee once more for each literal argument it sees while
typing its caller (a ``Literal[int](0)`` before the variable settles on
``int64``): the same machine code, made twice, on the first run's critical
path (docs/performance.md, *First run*). The run is a child process with an
empty cache, compiling everything itself, so that every kernel it uses was
compiled here and shows its signatures. It compiles the kernels that the
loop calls before the loop, for stand-in arguments
(pyw2v.training.block_steps.kernels_called): stand-ins of other types than
the loop's would show here as a second signature.
"""
import os
import subprocess
import sys

import pytest

REPORT = """
import gc, sys
from numba.core.dispatcher import Dispatcher
from pyw2v.cli import main
status = main(sys.argv[1:])
ours = [d for d in gc.get_objects() if isinstance(d, Dispatcher) and d.py_func.__module__.startswith("pyw2v")]
twice = sorted(f"{d.py_func.__module__}.{d.py_func.__qualname__}" for d in ours if len(d.signatures) > 1)
print(status, sum(1 for d in ours if d.signatures), *twice)
"""

# Between them: the corpus kernels, the text output, both block loops with hierarchical softmax and
# negative sampling, with and without the loss, and the hot rows' merges.
MODES = [
    ["-cbow", "0", "-hs", "1", "-negative", "5", "-threads", "2", "-fast", "1"],
    ["-cbow", "1", "-hs", "1", "-negative", "5", "-threads", "2", "-loss", "1"],
]


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: "".join(mode))
def test_a_first_run_compiles_each_kernel_once(lee_corpus, tmp_path, mode):
    environment = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYW2V_COMPILE_AHEAD="0")
    command = [sys.executable, "-c", REPORT, "-train", str(lee_corpus), "-output", str(tmp_path / "v"),
               "-size", "10", "-iter", "1", "-debug", "0", *mode]
    report = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    status, compiled, *twice = report.stdout.splitlines()[-1].split()
    assert status == "0"
    assert int(compiled) > 10  # the report did find the run's kernels
    assert twice == []
