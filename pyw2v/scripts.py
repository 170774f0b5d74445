"""The console scripts: each command's ``main``, then an exit without Python's last collections.

At exit the interpreter runs its cycle collector over every object left,
Numba's hundred thousand among them, before the process frees them all
anyway: a third of a second of a short command (docs/performance.md).
Frozen objects are left out of those collections. Done here only, in a
process that the command owns: a caller of a ``main`` from Python keeps
its collector as it was.
"""
import gc
import sys


def _exit_after(main):
    status = main()
    gc.freeze()
    sys.exit(status)


def pyw2v():
    """``pyw2v`` (and ``python -m pyw2v``)."""
    from .cli import main  # first: it sets the allocator before Numba and NumPy load

    _exit_after(main)


def distance():
    from .tools.distance import main

    _exit_after(main)


def word_analogy():
    from .tools.analogy import main

    _exit_after(main)


def compute_accuracy():
    from .tools.accuracy import main

    _exit_after(main)


def word2phrase():
    from .tools.word2phrase import main

    _exit_after(main)


def plot():
    from .tools.plot import main

    _exit_after(main)
