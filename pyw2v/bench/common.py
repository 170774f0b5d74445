"""Paths, names and the log line shared by the harness's modules (standard library only)."""
import os
import sys

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # pyw2v/
REPO = os.path.dirname(PACKAGE_DIR)  # the checkout, when pyw2v is installed with -e
HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__main__.py")
BUNDLED_QUESTIONS = os.path.join(PACKAGE_DIR, "data", "questions-words.txt")
SHARED_DATA = os.path.join(os.path.dirname(REPO), "shared", "data")
DEFAULT_CORPUS = os.path.join(SHARED_DATA, "wiki100m.txt.gz")
_CHECKOUT_REPORTS = os.path.join(REPO, "reference_outputs", "bench")
DEFAULT_OUT_DIR = _CHECKOUT_REPORTS if os.path.isdir(_CHECKOUT_REPORTS) else os.getcwd()
DEFAULT_CACHE = os.path.join(os.environ.get("TMPDIR", "/tmp"), "pyw2v-bench")
# how the report names the command that made it (python -m pyw2v.bench sets it for its child)
PROG = os.environ.get("PYW2V_BENCH_PROG", "bin/bench")

ARCHS = ("sg-ns", "cbow-ns", "sg-hs", "cbow-hs")
SYSTEMS = ("pyw2v", "pyw2v-fast", "gensim", "c", "spark")
ACCURACY_THRESHOLD = 30000  # compute-accuracy's vocabulary cut-off
ONE_THREAD = "pyw2v-fast (1 thread)"
PAIR = "pyw2v-fast (2 × 1 thread side by side)"


def log(msg):
    """Progress message on stderr."""
    print("bench: " + msg, file=sys.stderr, flush=True)
