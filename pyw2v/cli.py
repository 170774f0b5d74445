"""The ``pyw2v`` command: word2vec.c's command line."""
import ctypes
import gc
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter


def _return_big_blocks_to_the_system():
    """Have glibc serve every block of 128 KiB or more by mmap, for the whole process.

    By default glibc raises this threshold (up to 32 MiB) each time a big
    block is freed, after which buffers of that size come from its heaps and
    may stay resident when freed, under the weights, for the whole run. The
    corpus passes allocate and free many such buffers. Done here, before
    Numba and NumPy load (importing the package loads neither), because it is
    a choice for the whole process, which the command owns and the library
    does not.
    """
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to tune


_return_big_blocks_to_the_system()


def start_numba_without_scipy():
    """Start Numba's CPU target with scipy.linalg out of sight, so that it does not import it.

    The first kernel a process runs loads Numba's implementations, among
    them ``numba.np.arraymath``, which imports scipy.linalg (when scipy is
    installed, as gensim installs it) only to learn whether ``np.dot`` may
    call a BLAS. No kernel of pyw2v calls one, and the import is a sizeable
    part of a short job's start (docs/performance.md).
    Done by the commands that train (this one and the compiling process of
    :mod:`pyw2v.compile_ahead`), which own their process; the library
    leaves Numba as it finds it. Should Numba's internals change, this
    does nothing and Numba starts as usual.
    """
    if "scipy.linalg" in sys.modules or "numba.np.arraymath" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # ``import scipy.linalg`` raises ImportError while this is here
    try:
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
    except Exception:  # noqa: BLE001, S110 - Numba then starts itself, with the probe
        pass
    finally:
        del sys.modules["scipy.linalg"]


# After the allocator is set:
from .errors import run_command  # noqa: E402 (deliberately late: the allocator is tuned first)


def main(argv=None, owns_process=False):
    """Entry point of ``pyw2v``; returns the exit status.

    ``owns_process``: called as the command (:mod:`pyw2v.scripts`), whose
    process this is. Numba's objects are then frozen out of the cycle
    collector's passes once it has loaded (:func:`gc.freeze`): a first run
    compiles for seconds, and each full pass would scan its hundred thousand
    objects again. A caller from Python keeps its collector as it was.
    """
    argv = sys.argv[1:] if argv is None else argv

    def body():
        # Imported here, so that a signal during the seconds Numba takes to load ends in one line too.
        from . import compile_ahead
        from .options import parse_arguments, usage_text

        if not argv:
            print(usage_text())
            return 0
        options = parse_arguments(argv)
        # Before Numba loads here: on a first run, the compiling process loads it on the other core meanwhile.
        early = compile_ahead.start_early(options)
        with early or compile_ahead.NOTHING:
            # First: importing the kernels' modules sets up pyw2v.jit_cache, which defers a stop signal
            # received while Numba compiles, as it does when its start compiles its runtime.
            from .train import run

            start_numba_without_scipy()
            if owns_process:
                gc.freeze()
            run(options, ahead=early)
        return 0

    return run_command("pyw2v", body)


if __name__ == "__main__":
    sys.exit(main())
