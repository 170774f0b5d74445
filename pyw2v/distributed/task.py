"""What a worker does in one round: encode a chain's slices, train them on one thread, return the deltas.

:func:`train_chain` is a pure function of (the weights after the rounds
before, which every worker keeps: :mod:`.replica`; the slices with their
seeds; the round's learning rate): on whichever worker it runs, and run
again after a worker died, its result is the same bytes.
:func:`train_ids` is the only place that calls into :mod:`pyw2v.training`.
"""
import os
from collections import namedtuple
from types import SimpleNamespace

import numpy as np

from ..errors import UserError
from ..options import TrainOptions
from ..training import driver, loop
from ..training.variants import choose_variant
from . import replica
from .shards import count_pieces, encode_pieces, list_files, vocabulary_index

# The loop's own decay over this many words is below float32's resolution: a round keeps its one rate.
NO_DECAY_WORDS = 2**61

# What every task of a run shares, scattered to the workers once. options: a dict of
# TrainOptions' training fields; words (packed by :func:`pack_words`)/counts: the vocabulary in C's order.
RunData = namedtuple("RunData", "token options words counts")
# Deltas: per matrix of the Model, (rows int32, values float32 [len(rows), size]): the rows a chain changed.
SliceResult = namedtuple("SliceResult", "deltas words loss")

_PREPARED = {}  # token -> ((tree, tables), vocabulary, index): built once per worker and run


def _prepared(run):
    if run.token not in _PREPARED:
        _PREPARED.clear()  # one run at a time per worker; a finished run's tables go
        vocab = SimpleNamespace(counts=run.counts, size=len(run.counts), train_words=int(run.counts.sum()))
        tree_and_tables = driver.vocabulary_tables(TrainOptions(**run.options), vocab)
        _PREPARED[run.token] = (tree_and_tables, vocab, vocabulary_index(unpack_words(run.words)))
    return _PREPARED[run.token]


def train_chain(run, version, round_, links, alpha, *after):
    """Train a chain's round slices one after another from the weights after ``version`` rounds: a :class:`SliceResult`.

    ``links``: (shard, pieces, seed) per slice, in shard order; each slice
    starts from the weights the one before it left. The usual chain is one
    slice (:func:`~.rounds.chains`). It trains this worker's working copy
    of the weights in place and puts it back (:mod:`.replica`); ``after``:
    the tasks that must have run on this worker first (none is read).
    """
    small_pages()  # a worker that joined after the run started
    held = replica.held(run.token, version)
    done = NOTHING_DONE
    with held.lock:
        for shard, pieces, seed in links:
            done = train_slice(run, f"{shard}-{round_}", pieces, held.work, alpha, seed, done)
        deltas = replica.take_deltas(held)
    return SliceResult(deltas, *done)


# (words read, (loss, words trained)) before any slice: what :func:`train_slice` adds to.
NOTHING_DONE = (0, (0.0, 0.0))


def train_slice(run, name, pieces, model, alpha, seed, done):
    """Train the slice ``name`` (its ``pieces``, encoded once per worker) into ``model``; returns ``done``,
    (words read, (loss, words trained)), with the slice's added."""
    tree_and_tables, vocab, index = _prepared(run)
    ids = _encoded(run, name, pieces, index)
    words, loss = train_ids(ids, model, tree_and_tables, vocab, run.options, alpha, seed)
    return done[0] + words, (done[1][0] + loss[0], done[1][1] + loss[1])


def small_pages():
    """Turn NumPy's huge-page hint off in this worker process (run on every worker, and by each chain task).

    On hosts that defragment memory for huge pages on request
    (``/sys/kernel/mm/transparent_hugepage/defrag`` = ``madvise``), the hint
    made every fresh array of a round (a task's copy of the weights, its
    deltas, the sums) stall in the kernel's compaction: a 27 MB copy took
    110 ms instead of 6 ms. It is a private NumPy switch, hence the guard;
    it only changes how memory is paged, never a value.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:
        return
    _set_madvise_hugepage(False)


def train_ids(ids, model, tree_and_tables, vocab, fields, alpha, seed):
    """The single-machine loop on one thread over the id stream ``ids``, at the constant rate ``alpha``.

    ``Settings.train_words`` is :data:`NO_DECAY_WORDS`, so the loop neither
    decays the rate nor ends the slice early; the subsampling thresholds
    use the corpus's real word count. The step is the one C's several
    threads use (or ``-fast``'s). Returns (words read, (loss, words trained)).
    """
    options = TrainOptions(**fields, threads=1, iter=1)
    starts = np.zeros(1, dtype=np.int64)
    stream = SimpleNamespace(ids=ids, starts=starts, first_words=starts - 1)
    inputs = driver.loop_inputs(options, vocab, stream, model, NO_DECAY_WORDS, tree_and_tables)
    several_threads = choose_variant(options.cbow, 2, options.fast).loop
    settings = inputs.settings._replace(train_words=NO_DECAY_WORDS, starting_alpha=np.float32(alpha))
    inputs = inputs._replace(variant=several_threads, settings=settings)
    inputs.control.rng[0] = np.uint64(seed)
    inputs.control.alpha[0] = settings.starting_alpha
    loop.run_thread(0, inputs)
    sums = (float(inputs.loss[0, 0, 0]), float(inputs.loss[0, 0, 1])) if options.loss else (0.0, 0.0)
    return int(inputs.control.words_done[0]), sums


def initial_model(options, vocab_size):
    """C's initial weights for a run on the cluster (one thread's: no per-thread hot rows)."""
    from dataclasses import replace

    return driver.new_model(replace(options, threads=1, fast=0), vocab_size)


def _encoded(run, name, pieces, index):
    """The id stream of the slice ``name``, cached in the worker's local directory (the same every epoch)."""
    directory = _cache_directory(run.token)
    path = os.path.join(directory, f"{name}.ids") if directory else None
    if path and os.path.exists(path):
        return np.fromfile(path, dtype=np.uint8)
    ids = _naming_the_worker(encode_pieces, pieces, index)
    if path:
        partial = f"{path}.{os.getpid()}.part"
        ids.tofile(partial)
        os.replace(partial, path)
    return ids


def _cache_directory(token):
    try:
        from distributed import get_worker

        base = get_worker().local_directory
    except (ImportError, ValueError):
        return None
    directory = os.path.join(base, f"pyw2v-{token}")
    os.makedirs(directory, exist_ok=True)
    return directory


def _worker_address():
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def list_corpus(train):
    """The corpus files as a worker sees them (a task); an unreadable corpus names the worker."""
    return _naming_the_worker(list_files, train)


def count_slice(shard, pieces):
    """The shard's vocabulary counts (a task), its words packed; an unreadable corpus names the worker."""
    words, counts = _naming_the_worker(count_pieces, pieces)
    return pack_words(words), counts


def pack_words(words):
    """``words`` as one newline-joined bytes object, the form they cross the network in.

    Dask serializes a list element by element: 70,000 words took 4 s to
    reach the client as a list, and milliseconds as one bytes object. A
    word never contains a newline (it ends a token).
    """
    return b"\n".join(words)


def unpack_words(packed):
    """The list :func:`pack_words` packed."""
    return packed.split(b"\n") if packed else []


def _naming_the_worker(function, *arguments):
    try:
        return function(*arguments)
    except (OSError, UserError) as error:
        raise UserError(f"worker {_worker_address()}: {error}") from None


def forget_run(token):
    """Drop a finished run's tables and cached slices on this worker (run on every worker at the end)."""
    import shutil

    _PREPARED.pop(token, None)
    replica.forget(token)
    directory = _cache_directory(token)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
