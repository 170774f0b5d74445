"""The console scripts: each command's ``main``, then an exit without Python's last collections.

At exit the interpreter runs its cycle collector over every object left,
Numba's hundred thousand among them, before the process frees them all
anyway: a third of a second of a short command (docs/performance.md).
Frozen objects are left out of those collections. Done here only, in a
process that the command owns: a caller of a ``main`` from Python keeps
its collector as it was.
"""
import gc
import importlib
import sys


def _script(module, **arguments):
    """The console script: ``module.main(**arguments)``, then an exit with its status, the last collections skipped."""

    def run():
        status = importlib.import_module(module).main(**arguments)
        gc.freeze()
        sys.exit(status)

    return run


# pyw2v.cli is the first module of pyw2v a command imports: it sets the allocator before Numba and NumPy load.
pyw2v = _script("pyw2v.cli", owns_process=True)  # also ``python -m pyw2v``
distance = _script("pyw2v.tools.distance")
word_analogy = _script("pyw2v.tools.analogy")
compute_accuracy = _script("pyw2v.tools.accuracy")
word2phrase = _script("pyw2v.tools.word2phrase")
plot = _script("pyw2v.tools.plot")
