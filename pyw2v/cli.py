"""The ``pyw2v`` command: word2vec.c's command line."""
import sys

from .errors import run_command
from .options import parse_arguments, usage_text
from .train import run


def main(argv=None):
    """Entry point of ``pyw2v``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv

    def body():
        if not argv:
            print(usage_text())
            return 0
        run(parse_arguments(argv))
        return 0

    return run_command("pyw2v", body)


if __name__ == "__main__":
    sys.exit(main())
