"""The training loop compiled by a second process (pyw2v.compile_ahead): the right loop, loaded, never left running."""
import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace

import numpy as np
import pytest
from numba import typeof

from pyw2v import compile_ahead
from pyw2v import train as train_module
from pyw2v.errors import UserError
from pyw2v.model.vectors import read_vectors
from pyw2v.options import TrainOptions
from pyw2v.training import driver, loop

MODES = [
    dict(cbow=cbow, threads=threads, fast=fast, loss=loss, **outputs)
    for cbow in (0, 1)
    for threads, fast in ((1, 0), (2, 0), (2, 1), (3, 1))
    for loss in (0, 1)
    for outputs in (dict(hs=1, negative=0), dict(hs=0, negative=5))
]


class Captured(Exception):
    pass


@pytest.mark.parametrize("mode", MODES, ids=lambda mode: "-".join(f"{k}{v}" for k, v in mode.items()))
def test_stand_in_inputs_have_the_types_of_a_run(lee_corpus, monkeypatch, mode):
    # The second process compiles the loop for the stand-in's types, made from a one-word
    # vocabulary without -hs or -negative: a type that depended on those would make it
    # compile a loop the run never uses.
    monkeypatch.setenv(compile_ahead.ENVIRONMENT_SWITCH, "0")
    seen = {}

    def capture(inputs):
        seen["inputs"] = inputs
        raise Captured

    monkeypatch.setattr(loop, "load_loop", capture)
    options = TrainOptions(train=str(lee_corpus), size=12, iter=2, debug=0, **mode).validate()
    with pytest.raises(Captured):
        train_module._train(options, open(os.devnull, "w"))
    stand_in = driver.stand_in_inputs(options)
    assert stand_in.variant == seen["inputs"].variant
    assert typeof(loop.thread_inputs(stand_in, 0)) == typeof(loop.thread_inputs(seen["inputs"], 0))


def test_reading_numbas_cache_index_still_works():
    # is_cached reads Numba internals; a Numba release that changes them must fail here, loudly.
    dispatcher = loop.LOOPS["cbow_exact"]
    signature = loop._signature(driver.stand_in_inputs(TrainOptions(train="x", threads=1, cbow=1)))
    index = dispatcher._cache._cache_file._load_index()
    key = dispatcher._cache._index_key(signature, dispatcher.targetctx.codegen())
    assert isinstance(index, dict) and isinstance(key, tuple)


def test_unreadable_cache_index_means_not_cached(monkeypatch):
    # ... and should they change anyway, the run compiles the loop as usual.
    inputs = driver.stand_in_inputs(TrainOptions(train="x", threads=2, cbow=0, fast=1))
    dispatcher = loop.LOOPS[inputs.variant]
    monkeypatch.setattr(dispatcher, "overloads", {})
    monkeypatch.setattr(dispatcher, "_cache", object())
    assert loop.is_cached(inputs) is False


def test_leaving_early_stops_the_second_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with pytest.raises(KeyboardInterrupt):
        with compile_ahead.LoopAhead(process):
            raise KeyboardInterrupt
    assert process.poll() is not None


FIRST_RUN = textwrap.dedent(
    """
    import sys
    from pyw2v.train import run
    from pyw2v.options import TrainOptions
    from pyw2v.training import loop
    from pyw2v.training.driver import stand_in_inputs
    options = TrainOptions(train=sys.argv[1], output=sys.argv[2], size=20, iter=1, threads=1, cbow=1, debug=0,
                           binary=1)
    cached_before = loop.is_cached(stand_in_inputs(options))
    run(options)
    dispatcher = loop.LOOPS[stand_in_inputs(options).variant]
    print(cached_before, sum(dispatcher.stats.cache_hits.values()), sum(dispatcher.stats.cache_misses.values()))
    """
)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the loop is compiled ahead only beside a second core")
def test_a_first_run_trains_with_the_loop_the_second_process_compiled(lee_corpus, tmp_path):
    environment = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    environment.pop(compile_ahead.ENVIRONMENT_SWITCH, None)
    ahead, alone = tmp_path / "ahead.bin", tmp_path / "alone.bin"
    report = subprocess.run(
        [sys.executable, "-c", FIRST_RUN, str(lee_corpus), str(ahead)],
        env=environment, capture_output=True, text=True, check=True,
    ).stdout.split()[-3:]  # after C's "Starting training using file ..."
    # Empty cache at the start; the loop then came from the cache (a hit), not from this process's compiler.
    assert report == ["False", "1", "0"]
    environment[compile_ahead.ENVIRONMENT_SWITCH] = "0"
    subprocess.run([sys.executable, "-c", FIRST_RUN, str(lee_corpus), str(alone)], env=environment, check=True)
    (words_ahead, vectors_ahead), (words_alone, vectors_alone) = read_vectors(ahead), read_vectors(alone)
    assert words_ahead == words_alone
    assert np.array_equal(vectors_ahead, vectors_alone)  # one thread: C's order, so the very same vectors


COMMAND_RUN = textwrap.dedent(
    """
    import sys
    from pyw2v import compile_ahead
    launched = []  # per launch of the second process: whether this one had loaded Numba by then
    launch = compile_ahead._launch
    def recording(*args, **keywords):
        launched.append("numba" in sys.modules)
        return launch(*args, **keywords)
    compile_ahead._launch = recording
    from pyw2v.cli import main
    status = main(sys.argv[1:])
    from pyw2v.training import loop
    dispatcher = loop.LOOPS["cbow_block"]
    print(status, launched, sum(dispatcher.stats.cache_hits.values()), sum(dispatcher.stats.cache_misses.values()))
    """
)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the loop is compiled ahead only beside a second core")
def test_the_command_starts_the_second_process_before_numba_loads_on_a_first_run_only(lee_corpus, tmp_path):
    environment = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    environment.pop(compile_ahead.ENVIRONMENT_SWITCH, None)
    command = [sys.executable, "-c", COMMAND_RUN, "-train", str(lee_corpus), "-output", str(tmp_path / "v.bin"),
               "-size", "10", "-iter", "1", "-cbow", "1", "-threads", "2", "-debug", "0"]

    def report():
        return subprocess.run(command, env=environment, capture_output=True, text=True, check=True).stdout

    # Empty cache: launched once, before Numba loaded here; the loop then came from the cache it wrote.
    assert report().splitlines()[-1] == "0 [False] 1 0"
    # The loop's files are in the cache now (where compile_ahead looks for them): nothing is launched.
    assert report().splitlines()[-1] == "0 [] 1 0"


def test_waiting_for_an_early_process_stops_it_when_the_cache_has_the_loop(monkeypatch):
    # Started early because no file of the loop was where compile_ahead looked; the cache had it elsewhere.
    monkeypatch.setattr(compile_ahead, "_is_cached", lambda options: True)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with compile_ahead.LoopAhead(process, TrainOptions(train="x")) as ahead:
        ahead.wait()
        assert process.poll() is not None


def test_the_kernels_the_loop_calls_are_compiled_here_unless_the_loop_is_cached(lee_corpus, tmp_path, monkeypatch):
    compiled = []
    monkeypatch.setattr(
        "pyw2v.training.block_steps.kernels_called", lambda variant, inputs, loss: compiled.append(variant) or []
    )
    options = TrainOptions(train=str(lee_corpus), cbow=0, threads=2, fast=1)
    monkeypatch.setattr(compile_ahead, "_is_cached", lambda options: True)
    ahead = compile_ahead.start(options)
    compile_ahead.compile_kernels_called(options, ahead)
    assert compiled == []
    # Not cached, and no second process (the switch): this process compiles the loop, its kernels first.
    monkeypatch.setattr(compile_ahead, "_is_cached", lambda options: False)
    monkeypatch.setenv(compile_ahead.ENVIRONMENT_SWITCH, "0")
    ahead = compile_ahead.start(options)
    assert ahead.process is None
    compile_ahead.compile_kernels_called(options, ahead)
    assert compiled == ["skipgram_window"]
    # A corpus whose pass would outlast the loop's compiling: nothing is compiled before it.
    large = tmp_path / "large.txt"
    with open(large, "wb") as file:
        file.truncate(compile_ahead.SHORT_CORPUS_BYTES + 1)  # sparse: no bytes written
    for path in (large, str(lee_corpus) + ".gz", "s3://bucket/corpus.txt"):
        compile_ahead.compile_kernels_called(replace(options, train=str(path)), ahead)
    # A loop that inlines its steps whole: the second process compiles all of it.
    compile_ahead.compile_kernels_called(replace(options, fast=0), ahead)
    assert compiled == ["skipgram_window"]


@pytest.mark.parametrize("flag", ["train", "read_vocab"])
def test_a_missing_input_is_reported_before_the_kernels_compile(lee_corpus, tmp_path, monkeypatch, flag):
    def compiling(options, ahead):
        raise AssertionError("compiled before the input was checked")

    monkeypatch.setattr(compile_ahead, "compile_kernels_called", compiling)
    inputs = dict(dict(train=str(lee_corpus)), **{flag: str(tmp_path / "missing")})
    options = TrainOptions(output=str(tmp_path / "v.bin"), debug=0, **inputs).validate()
    with pytest.raises(UserError, match="cannot read .*missing: no such file"):
        train_module._train(options, open(os.devnull, "w"), ahead=compile_ahead.NOTHING)


def test_the_second_process_compiles_the_loops_callees_only_once_the_pipe_closes():
    # Reaching them first, it waits for the training process instead of compiling them a second time.
    from numba import njit

    @njit
    def double(x):
        return 2 * x

    compiling = []
    compile_now = double.compile
    double.compile = lambda signature: compiling.append(signature) or compile_now(signature)
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as ready:
        compile_ahead._after_training_process([(double, (typeof(np.int64(0)),))], ready)
        result = []
        caller = threading.Thread(target=lambda: result.append(double(np.int64(3))), daemon=True)
        caller.start()
        caller.join(1)
        assert caller.is_alive() and compiling == []
        os.close(write_end)
        caller.join(30)
    assert result == [6] and len(compiling) == 1


def test_the_training_process_closes_the_pipe_once_the_callees_are_compiled_or_before_it_waits(lee_corpus, monkeypatch):
    monkeypatch.setattr("pyw2v.training.block_steps.kernels_called", lambda variant, inputs, loss: [])
    options = TrainOptions(train=str(lee_corpus), cbow=0, threads=2, fast=1)
    for finish in (lambda ahead: compile_ahead.compile_kernels_called(options, ahead), lambda ahead: ahead.wait()):
        process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
        with compile_ahead.LoopAhead(process) as ahead:
            waiter = threading.Thread(target=finish, args=(ahead,), daemon=True)
            waiter.start()
            waiter.join(30)
            assert not waiter.is_alive() and process.wait(30) == 0
