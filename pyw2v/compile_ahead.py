"""The training loop compiled in a second process while the first reads the corpus.

On an empty cache a run spends most of its time in Numba's compiler: the
corpus kernels, then the variant's training loop (:mod:`pyw2v.training.loop`).
One process compiles one function at a time, but the loop's argument *types*
follow from the options alone, not from the corpus
(:func:`pyw2v.training.driver.stand_in_inputs`). So when the cache lacks the loop,
:func:`start` launches ``python -m pyw2v.compile_ahead`` with the options; it
compiles the loop for stand-in arguments of those types into Numba's cache on
another core, while this process counts and encodes the corpus. Before it
trains, the driver waits for it (:meth:`LoopAhead.wait`) and loads the loop
from the cache.

A block loop's typing reaches the largest kernels it calls seconds in
(:func:`.training.block_steps.kernels_called`). When the corpus is short,
the training process compiles those first, before it reads the corpus, and
the second process loads them from the cache when it gets there
(:func:`compile_kernels_called`). Should it get there first, it waits for
the training process to close the pipe it reads as stdin, which that
process does once they are compiled (or by ending), rather than compile
them a second time (:func:`_after_training_process`).

The command (:mod:`pyw2v.cli`) starts the second process as soon as it has
parsed the options, before it loads Numba itself, when the cache holds no
file of the variant's loop (:func:`start_early`): the two processes then
load Numba side by side. Otherwise it asks the cache once Numba is loaded
(:func:`start`). So this module imports no Numba.

Nothing here can change what runs: the loop is the one this process would
have compiled, validated by Numba's cache and :mod:`pyw2v.jit_cache`. If the
second process fails, or is killed, the driver compiles the loop itself.
Numba writes a cache entry to a temporary file and renames it, so the two
processes never see half an entry.
"""
import ctypes
import dataclasses
import gc
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from .training.variants import BLOCK_LOOPS, choose_variant

# Set to 0 to compile in the training process only (as on a single core).
ENVIRONMENT_SWITCH = "PYW2V_COMPILE_AHEAD"
PR_SET_PDEATHSIG = 1  # Linux's prctl option


class LoopAhead:
    """The second process compiling the loop, or none: a context manager that never leaves it running.

    ``options``: those of a process started early, whose loop :meth:`wait` looks for in the cache first.
    ``loop_cached``: no process because the cache has the loop.
    """

    def __init__(self, process=None, options=None, loop_cached=False):
        self.process = process
        self.options = options
        self.loop_cached = loop_cached

    def callees_compiled(self):
        """Tell the second process that the loop's callees are in the cache: close its stdin."""
        if self.process is not None and self.process.stdin is not None:
            self.process.stdin.close()

    def wait(self):
        """Return once the loop is in the cache (or the second process has failed, or never ran)."""
        if self.process is None:
            return
        self.callees_compiled()  # it may be waiting for them: never wait for each other
        if self.options is not None and self.process.poll() is None and _is_cached(self.options):
            # Started early, on no file of the loop in the places looked at: the cache had it elsewhere.
            self.process.kill()
        self.process.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()  # the run failed or was interrupted before its training
            self.process.wait()
        return False


NOTHING = LoopAhead()
CACHED = LoopAhead(loop_cached=True)


def start(options):
    """Start compiling the loop for ``options`` (:func:`~pyw2v.training.driver.stand_in_inputs`) in another process.

    Returns :data:`CACHED` when the loop is cached or compiled already, and
    :data:`NOTHING` (this process compiles it) when one core is all this
    process may use (nothing would run beside it), or when
    :data:`ENVIRONMENT_SWITCH` is ``0``.
    """
    if _is_cached(options):
        return CACHED
    if not _compiling_ahead_allowed():
        return NOTHING
    return _launch(options)


def start_early(options):
    """:func:`start` before Numba loads, for a command that will train; None: call :func:`start` later.

    Launches only when no index file of the variant's loop is in the
    places Numba's cache puts it (``NUMBA_CACHE_DIR``, or ``__pycache__``
    beside the sources): without Numba, the cache cannot be asked for the
    loop's types. The second process asks it before it compiles.
    """
    if not options.output or options.distributed or not _compiling_ahead_allowed() or _loop_files(options):
        return None
    return _launch(options, check_first=options)


# Plain text up to this size is counted and encoded in about a second (30 MB: 0.5-1 s on 2 cores); a larger
# corpus keeps the training process busy until the second process has compiled the loop anyway.
SHORT_CORPUS_BYTES = 32 << 20


def compile_kernels_called(options, ahead):
    """Compile here the kernels that the loop calls last, for ``options``' types, when that pays (below).

    The training process does this first, while the second process compiles
    the loop (:func:`.training.block_steps.kernels_called`): the second
    process then loads them from the cache instead of compiling them on the
    first run's longest path, and this one reads the corpus after. That
    pays when the corpus pass is short; a longer one, which outlasts the
    loop's compiling, would be delayed by this one's (hence
    :data:`SHORT_CORPUS_BYTES`). Without a second process, this compiles
    them before the loop instead of with it. Should the second process get
    there first, it waits until this one has compiled them.
    """
    if ahead.loop_cached or not _compiles_callees_first(options):
        return
    for kernel, types in _kernels_called(options):
        kernel.compile(types)
    ahead.callees_compiled()


def _kernels_called(options):
    from .training.block_steps import kernels_called
    from .training.driver import stand_in_inputs
    from .training.loop import loss_type, thread_inputs

    inputs = stand_in_inputs(options)
    return kernels_called(inputs.variant, thread_inputs(inputs, 0), loss_type(inputs))


def _after_training_process(kernels, ready):
    """Have ``kernels`` (:func:`_kernels_called`) compile, or load, only once ``ready`` is at its end.

    ``ready`` is the second process's stdin, which the training process
    closes once it has compiled them (:meth:`LoopAhead.callees_compiled`),
    or by ending. The loop's typing asks for them seconds in: waiting for
    the rest of the training process's compiling costs less than compiling
    them again, and the second process then loads them from the cache.
    """
    for kernel, _ in kernels:
        def compile_after_wait(signature, compile_now=kernel.compile):
            ready.read()  # at its end already, this returns at once
            return compile_now(signature)

        kernel.compile = compile_after_wait  # this process only: it compiles the loop and ends


def _compiles_callees_first(options):
    """Whether the training process compiles the loop's callees first: a block loop, and a short corpus."""
    return choose_variant(options.cbow, options.threads, options.fast).loop in BLOCK_LOOPS and _short_corpus(
        options.train
    )


def _short_corpus(path):
    """A plain local file of at most :data:`SHORT_CORPUS_BYTES` (a pipe, URL or compressed file is not)."""
    from .corpus.reader import is_plain_file

    try:
        return is_plain_file(path) and os.path.getsize(path) <= SHORT_CORPUS_BYTES
    except OSError:
        return False


def _compiling_ahead_allowed():
    """Not switched off (:data:`ENVIRONMENT_SWITCH`), and a second core for the second process to run on."""
    return os.environ.get(ENVIRONMENT_SWITCH, "1") != "0" and len(os.sched_getaffinity(0)) >= 2


def _is_cached(options):
    from .training import loop
    from .training.driver import stand_in_inputs

    return loop.is_cached(stand_in_inputs(options))


def _loop_files(options):
    """Index files of Numba's cache for the variant's loop, of any types: ``loop.train_<variant>-<line>.*.nbi``."""
    name = f"loop.train_{choose_variant(options.cbow, options.threads, options.fast).loop}-*.nbi"
    training = Path(__file__).resolve().parent / "training"
    places = [training / "__pycache__"]
    if os.environ.get("NUMBA_CACHE_DIR"):
        places.append(Path(os.environ["NUMBA_CACHE_DIR"]))  # Numba's subfolder per source folder, one level down
        name = f"*/{name}"
    return [path for place in places for path in place.glob(name)]


def _launch(options, check_first=None):
    """The second process for ``options``; ``check_first``: the options :meth:`LoopAhead.wait` asks the cache for."""
    fields = json.dumps(dataclasses.asdict(options))
    # A pipe when this process compiles the loop's callees first, closed when they are (LoopAhead.callees_compiled).
    ready = subprocess.PIPE if _compiles_callees_first(options) else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, fields, str(os.getpid())],
        stdin=ready, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return LoopAhead(process, check_first)


def _end_with(parent):
    """Have the system kill this process when ``parent`` ends, even by SIGKILL, which no handler sees."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return  # not Linux: the parent's own cleanup is all there is
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(1)


def _compile(fields):
    from .cli import start_numba_without_scipy
    from .options import TrainOptions

    start_numba_without_scipy()
    from .training import loop
    from .training.driver import stand_in_inputs

    # What is loaded so far lives as long as the process: the cycle collector need not scan it
    # again at each of its full passes while the loop compiles.
    gc.freeze()
    options = TrainOptions(**json.loads(fields))
    inputs = stand_in_inputs(options)
    if not loop.is_cached(inputs):  # started early, before the training process could ask
        if _compiles_callees_first(options):
            _after_training_process(_kernels_called(options), sys.stdin.buffer)
        loop.load_loop(inputs)


if __name__ == "__main__":
    _end_with(int(sys.argv[2]))
    _compile(sys.argv[1])
    # The cache entry is written and renamed; tearing down the interpreter would only delay the
    # training process, which waits for this one to end.
    os._exit(0)
