"""The ``pyw2v`` command: word2vec.c's command line."""
import ctypes
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

# After the allocator is set:
from .errors import run_command  # noqa: E402 (deliberately late: the allocator is tuned first)


def main(argv=None):
    """Entry point of ``pyw2v``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv

    def body():
        # Imported here, so that a signal during the seconds Numba takes to load ends in one line too.
        from .options import parse_arguments, usage_text
        from .train import run

        if not argv:
            print(usage_text())
            return 0
        run(parse_arguments(argv))
        return 0

    return run_command("pyw2v", body)


if __name__ == "__main__":
    sys.exit(main())
