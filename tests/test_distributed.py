"""Training on Dask clusters of real processes: reproducible output, faults, security and bad input.

Every cluster here is started by the test (``pyw2v -workers``, or ``dask
scheduler`` / ``dask worker`` as a user starts them) and every process it
starts is killed at the end. The corpus is the lee corpus twice over, so
that a run lasts long enough to be disturbed.
"""
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

BIN = Path(sys.executable).parent
PYW2V = str(BIN / "pyw2v")
DASK = str(BIN / "dask")
MODE = ["-cbow", "0", "-negative", "5", "-size", "20", "-binary", "1"]
TRAINING = MODE + ["-iter", "3"]
OPTIONS = TRAINING + ["-debug", "2"]
# A run a test stops once its progress shows: three epochs end some 3 s later, which a loaded machine can
# let pass before the test's signal; forty cannot.
STOPPED = MODE + ["-iter", "40", "-debug", "2"]


@pytest.fixture(scope="module")
def corpus(lee_corpus, tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "lee2.txt"
    path.write_bytes(lee_corpus.read_bytes() * 2)
    return path


def run(args, cwd, **kw):
    return subprocess.run([PYW2V, *args], cwd=cwd, capture_output=True, text=True, timeout=400, **kw)


def kill_tree(process):
    """SIGKILL ``process`` and every process under it."""
    try:
        parent = psutil.Process(process.pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for p in family:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed once the socket is: nothing listens there


class Cluster:
    """``dask scheduler`` and ``dask worker`` processes, as a user starts them, on 127.0.0.1."""

    def __init__(self, directory):
        self.directory = directory
        self.processes = []
        scheduler_file = directory / "scheduler.json"
        self.scheduler = self._start(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)]
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.address = json.loads(scheduler_file.read_text())["address"]

    def _start(self, command):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.directory)
        self.processes.append(process)
        return process

    def add_worker(self, *extra):
        worker = self._start(
            [DASK, "worker", self.address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard",
             "--local-directory", str(self.directory), *extra]
        )
        self.wait_for_workers(len([p for p in self.processes if p is not self.scheduler and p.poll() is None]))
        return worker

    def wait_for_workers(self, count):
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(count, timeout=60)

    @property
    def workers(self):
        return [p for p in self.processes if p is not self.scheduler]

    def remove(self, worker):
        kill_tree(worker)
        self.processes.remove(worker)

    def close(self):
        for process in self.processes:
            kill_tree(process)


S3_ENV = dict(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, corpus):
    """Two workers, which with this process see moto's S3 server (a process: in-process mocks stay in-process)."""
    import boto3

    port = closed_port()
    endpoint = f"http://127.0.0.1:{port}"
    saved = dict(os.environ)
    os.environ.update(S3_ENV, AWS_ENDPOINT_URL_S3=endpoint)  # inherited by the workers started below
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.add_worker()
        c.add_worker()
        s3 = boto3.client("s3", endpoint_url=endpoint)
        s3.create_bucket(Bucket="corpus")
        s3.upload_file(str(corpus), "corpus", "lee2.txt")
        yield c
    finally:
        c.close()
        kill_tree(moto)
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory):
    """An undisturbed ``-workers 4`` run, and the single-process vocabulary.

    The single process runs first with two threads: a cluster's tasks run the
    loop of several threads, so its four workers then load that loop from
    the kernel cache instead of each compiling it at once.
    """
    out = tmp_path_factory.mktemp("reference")
    single = run(["-train", str(corpus), "-output", "single.bin", "-save-vocab", "single.txt", *TRAINING,
                  "-threads", "2", "-debug", "0"], out)
    assert single.returncode == 0, single.stderr
    done = run(
        ["-train", str(corpus), "-output", "vec.bin", "-save-vocab", "vocab.txt", "-workers", "4", *OPTIONS], out
    )
    assert done.returncode == 0, done.stderr
    assert "Dask dashboard: http://127.0.0.1:" in done.stdout
    return out


def test_save_vocab_is_the_single_process_file(reference):
    assert (reference / "vocab.txt").read_bytes() == (reference / "single.txt").read_bytes()


def test_same_bytes_on_a_cluster_started_with_the_dask_command(reference, corpus, cluster, tmp_path):
    done = run(["-train", str(corpus), "-output", "vec.bin", "-scheduler", cluster.address, *OPTIONS], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "vec.bin").read_bytes() == (reference / "vec.bin").read_bytes()


def test_same_vectors_through_the_api_from_an_s3_corpus(reference, cluster):
    from distributed import Client

    from pyw2v.model.vectors import read_vectors
    from pyw2v.train import train

    with Client(cluster.address, timeout=30) as client:
        result = train("s3://corpus/lee2.txt", client=client, debug=0, cbow=0, negative=5, size=20, iter=3)
        assert client.status == "running"  # a client given is left open
    words, vectors = read_vectors(reference / "vec.bin")[:2]
    assert result.vocab.words == list(words)
    np.testing.assert_array_equal(result.syn0, vectors)  # binary vectors are the float32s themselves


def _progress_started(process, seconds=400):
    """Read the run's stdout until its progress line appears (the slices are training); returns what was read."""
    seen = b""
    deadline = time.monotonic() + seconds
    os.set_blocking(process.stdout.fileno(), False)
    while time.monotonic() < deadline:
        seen += process.stdout.read() or b""
        if b"Progress: " in seen:
            time.sleep(0.5)
            return seen
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"the run never showed progress: {seen[-300:]!r}")


def test_a_worker_killed_mid_training_changes_nothing(reference, corpus, cluster, tmp_path):
    process = subprocess.Popen(
        [PYW2V, "-train", str(corpus), "-output", "vec.bin", "-scheduler", cluster.address, *OPTIONS],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        _progress_started(process)
        # The worker proper, under its nanny (which starts another one).
        worker = psutil.Process(cluster.workers[0].pid).children(recursive=True)
        assert worker, "no worker process found"
        worker[-1].send_signal(signal.SIGKILL)
        assert process.wait(timeout=400) == 0, process.stderr.read()
    finally:
        kill_tree(process)
    assert (tmp_path / "vec.bin").read_bytes() == (reference / "vec.bin").read_bytes()


@pytest.mark.parametrize("killed", [0, 1])
def test_cbow_with_rows_synced_in_rounds_is_the_in_process_bytes_after_a_worker_is_killed(corpus, cluster, tmp_path,
                                                                                          killed):
    """``-sync-rows``: the groups meet at a Dask actor after each part of a round. Killing a worker (the
    actor's or the other) mid-run gives up the round; it runs again, and the output is the bytes of the
    same run in this process (one group, no actor)."""
    from pyw2v.train import train

    synced = ["-cbow", "1", "-negative", "5", "-size", "20", "-iter", "6", "-sync-rows", "500", "-binary", "1"]
    with open(os.devnull, "w") as quiet:
        here = train(str(corpus), client=InProcessClient(), out=quiet, cbow=1, negative=5, size=20, iter=6,
                     sync_rows=500)
    process = subprocess.Popen(
        [PYW2V, "-train", str(corpus), "-output", "vec.bin", "-scheduler", cluster.address, *synced, "-debug", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        _progress_started(process)
        worker = psutil.Process(sorted(cluster.workers, key=lambda p: p.pid)[killed].pid).children(recursive=True)
        assert worker, "no worker process found"
        worker[-1].send_signal(signal.SIGKILL)
        assert process.wait(timeout=400) == 0, process.stderr.read()
    finally:
        kill_tree(process)
    np.testing.assert_array_equal(binary_vectors(tmp_path / "vec.bin"), here.syn0)
    cluster.wait_for_workers(2)  # the nanny's new worker, for the tests after this one


def test_sigterm_stops_the_run_and_its_local_cluster_of_loopback_workers_that_keep_freed_memory(corpus, tmp_path):
    from pyw2v.distributed.cluster import WORKER_MALLOC

    process = subprocess.Popen(
        [PYW2V, "-train", str(corpus), "-output", "vec.bin", "-workers", "2", *STOPPED],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        _progress_started(process)
        family = [psutil.Process(process.pid)] + psutil.Process(process.pid).children(recursive=True)
        listening = [
            c.laddr for p in family for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN
        ]
        assert len(listening) >= 3  # the scheduler, its dashboard, and each worker
        assert {address.ip for address in listening} == {"127.0.0.1"}
        keeping = [p for p in family[1:] if all(p.environ().get(k) == v for k, v in WORKER_MALLOC.items())]
        assert len(keeping) >= 2, "the workers run with Dask's malloc settings, not cluster.WORKER_MALLOC"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 128 + signal.SIGTERM
        gone, alive = psutil.wait_procs(family[1:], timeout=10)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        kill_tree(process)
    assert os.listdir(tmp_path) == []  # no output, no temporary file


def one_line_failure(done, tmp_path, *words):
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pyw2v: "), done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert os.listdir(tmp_path) == [], "an output or temporary file was left"


@pytest.mark.parametrize("count", ["0", "-2"])
def test_workers_must_be_positive(corpus, tmp_path, count):
    done = run(["-train", str(corpus), "-output", "vec.bin", "-workers", count], tmp_path)
    one_line_failure(done, tmp_path, "-workers")


@pytest.mark.parametrize("mib", ["0", "-1", "0.01"])
def test_round_mib_must_be_a_sixteenth_or_more(corpus, tmp_path, mib):
    done = run(["-train", str(corpus), "-output", "vec.bin", "-workers", "2", "-round-mib", mib], tmp_path)
    one_line_failure(done, tmp_path, "-round-mib", "0.0625")


def test_unreachable_scheduler(corpus, tmp_path):
    address = f"tcp://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    done = run(["-train", str(corpus), "-output", "vec.bin", "-scheduler", address], tmp_path)
    assert time.monotonic() - started < 30
    one_line_failure(done, tmp_path, address)


def test_a_corpus_the_workers_cannot_read(cluster, tmp_path):
    missing = str(tmp_path / "nowhere" / "corpus.txt")
    done = run(["-train", missing, "-output", "vec.bin", "-scheduler", cluster.address], tmp_path)
    one_line_failure(done, tmp_path, missing, "worker tcp://127.0.0.1:")


@pytest.mark.parametrize(
    "preload, words",
    [
        ("import pyw2v\npyw2v.__version__ = '0.0.1'\n", ["has pyw2v 0.0.1", "this is pyw2v"]),
        ("import sys\nsys.modules['pyw2v'] = None\n", ["cannot import pyw2v"]),
    ],
    ids=["other-version", "without-pyw2v"],
)
def test_workers_with_another_pyw2v_are_named(cluster, corpus, tmp_path, tmp_path_factory, preload, words):
    module = tmp_path_factory.mktemp("preload") / "w2v_preload.py"
    module.write_text(preload)
    worker = cluster.add_worker("--preload", str(module))
    try:
        done = run(["-train", str(corpus), "-output", "vec.bin", "-scheduler", cluster.address], tmp_path)
    finally:
        cluster.remove(worker)
    one_line_failure(done, tmp_path, "worker tcp://127.0.0.1:", *words)


def test_scheduler_killed_mid_training_is_one_line_within_60_s(cluster, corpus, tmp_path):
    # Last: it ends the module's cluster.
    process = subprocess.Popen(
        [PYW2V, "-train", str(corpus), "-output", "vec.bin", "-scheduler", cluster.address, *STOPPED],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=False,
    )
    try:
        _progress_started(process)
        cluster.scheduler.kill()
        killed = time.monotonic()
        status = process.wait(timeout=90)
        assert time.monotonic() - killed < 60
        stderr = process.stderr.read().decode()
    finally:
        kill_tree(process)
    done = subprocess.CompletedProcess(process.args, status, "", stderr)
    one_line_failure(done, tmp_path, "scheduler")


def test_without_dask_the_line_gives_the_install_command(corpus, tmp_path):
    code = (
        "import sys; sys.modules['distributed'] = None; from pyw2v.cli import main; "
        f"sys.exit(main(['-train', {str(corpus)!r}, '-output', 'vec.bin', '-workers', '2']))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    one_line_failure(done, tmp_path, 'pip install -e ".[distributed]"')


def test_a_single_process_run_imports_no_dask(lee_corpus, tmp_path):
    code = (
        "import sys; from pyw2v.train import train; "
        f"train({str(lee_corpus)!r}, iter=1, size=5, threads=1, debug=0); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_scheduler_and_workers_together_are_refused(corpus, tmp_path):
    done = run(["-train", str(corpus), "-workers", "2", "-scheduler", "tcp://127.0.0.1:1"], tmp_path)
    one_line_failure(done, tmp_path, "-scheduler", "-workers")


def test_deltas_are_the_changed_rows_and_merge_in_shard_order():
    from pyw2v.distributed import replica
    from pyw2v.distributed.rounds import combine_group, merge, projections_for
    from pyw2v.distributed.task import SliceResult
    from pyw2v.training.loop import Model

    rng = np.random.default_rng(0)
    old = rng.normal(size=(10, 4)).astype(np.float32)
    empty = np.zeros((0, 4), dtype=np.float32)
    replica.install("t", Model(old, empty, empty), 7)
    held = replica.held("t", 7)
    held.work.syn0[[2, 7]] += 0.5
    (rows, values), _, _ = replica.take_deltas(held)
    assert rows.tolist() == [2, 7] and values.shape == (2, 4)
    assert held.work.syn0.tobytes() == old.tobytes()  # the rows are put back for the next task
    held.work.syn0[:6] -= 0.25
    held.work.syn0[9] = -0.0  # bit for bit a change, though equal as a number only where it was 0
    (most_rows, most_values), _, _ = replica.take_deltas(held)
    assert most_rows.tolist() == [0, 1, 2, 3, 4, 5, 9]
    with pytest.raises(replica.ReplicaLost):
        replica.held("t", 8)
    results = [SliceResult(((rows, values), (np.zeros(0, np.int32), empty), (np.zeros(0, np.int32), empty)),
                           3, (0.5, 2.0)),
               SliceResult(((most_rows, most_values), (np.zeros(0, np.int32), empty),
                            (np.zeros(0, np.int32), empty)), 4, (0.25, 1.0))]
    cbow = projections_for(cbow=1)
    one_group = combine_group(cbow, *results)
    touched = [2, 7, 0, 1, 3, 4, 5, 9]  # in the order the chains first name them
    assert one_group.deltas[0][0].tolist() == touched
    merged = merge(cbow, one_group)
    two_groups = merge(cbow, combine_group(cbow, results[0]), combine_group(cbow, results[1]))
    assert [d[1].tobytes() for d in two_groups.deltas] == [d[1].tobytes() for d in merged.deltas]
    assert merged.stats[:2] == two_groups.stats[:2] == (7, (0.75, 3.0))
    replica.apply_merged("t", 7, merged)
    new = replica.held("t", 8).base.syn0
    # Row 2 both chains moved, by a = +0.5 and b = -0.25 in every column: a.b = -0.5, so it moves by
    # 1.25 a + 2 b = +0.125; every other row one chain moved, by its delta.
    expected = old + values_at(rows, values, old.shape) + values_at(most_rows, most_values, old.shape)
    expected[2] = old[2] + np.float32(0.125)
    np.testing.assert_allclose(new, expected, rtol=0, atol=1e-6)
    assert np.array_equal(new[[0, 1, 3, 4, 5, 7, 8, 9]], expected[[0, 1, 3, 4, 5, 7, 8, 9]])
    assert replica.held("t", 8).work.syn0.tobytes() == new.tobytes()
    replica.forget("t")


def test_chains_deltas_of_a_row_add_where_independent_and_average_where_they_agree():
    """Adasum: orthogonal moves are summed, equal ones averaged, opposite ones cancel; a row one chain moved
    keeps its delta; the groups' tree gives the bytes of the chains' tree; values match a float64 reference."""
    from pyw2v.distributed.rounds import combine

    def delta(rows, values):
        return np.array(rows, dtype=np.int32), np.array(values, dtype=np.float32)

    a, b = [3.0, 0.0, 0.0, 1.0], [0.0, 2.0, 0.0, 0.0]
    rows, values = combine([delta([5, 1], [a, a]), delta([1, 8], [b, a])])
    assert rows.tolist() == [5, 1, 8]
    assert values.tolist() == [a, [3.0, 2.0, 0.0, 1.0], a]  # row 1's moves are orthogonal: their sum
    rows, values = combine([delta([4], [a])] * 8)
    assert values.tolist() == [a]  # eight chains that agree move the row as one does
    rows, values = combine([delta([4], [a]), delta([4], [[-x for x in a]])])
    assert values.tolist() == [[0.0] * 4]

    def reference(pair):
        x, y = (v.astype(np.float64) for v in pair)
        dot, x_norm, y_norm = ((u * v).sum(axis=1, keepdims=True) for u, v in ((x, y), (x, x), (y, y)))
        return (1 - dot / (2 * x_norm)) * x + (1 - dot / (2 * y_norm)) * y

    rng = np.random.default_rng(4)
    common = rng.normal(size=(1, 6))
    chains = [delta(np.arange(10), common + rng.normal(scale=0.5, size=(10, 6))) for _ in range(6)]
    level = [values for _, values in chains]
    while len(level) > 1:  # ((0 1)(2 3))(4 5)
        level = [reference(level[i : i + 2]).astype(np.float32) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    whole = combine(chains)
    np.testing.assert_allclose(whole[1], level[0], rtol=1e-5, atol=1e-6)
    grouped = combine([combine(chains[:4]), combine(chains[4:])])  # the groups of GROUP_CHAINS = 4, then the merge
    assert grouped[0].tolist() == whole[0].tolist() and grouped[1].tobytes() == whole[1].tobytes()
    # Deltas of a row drawn around one common move: combined, nearer the mean's length than the sum's.
    assert np.linalg.norm(whole[1], axis=1).mean() < 2.5 * np.linalg.norm(common)


def test_a_larger_projection_shrinks_what_deltas_agree_on_and_skip_gram_uses_it_on_syn1neg_only():
    """Equal moves combine to (2 - p) a, orthogonal ones still to their sum; skip-gram's merge takes
    syn1neg's deltas with its projection, every other matrix's (and all of CBOW's) with Adasum's."""
    from pyw2v.distributed.rounds import SKIP_GRAM_SYN1NEG_PROJECTION, GroupDelta, combine, merge, projections_for

    a, b = [3.0, 0.0, 0.0, 1.0], [0.0, 2.0, 0.0, 0.0]
    row = np.array([4], dtype=np.int32)
    same = [(row, np.array([a], dtype=np.float32))] * 2
    np.testing.assert_allclose(combine(same, 1.5)[1], [[1.5, 0.0, 0.0, 0.5]], rtol=1e-6)
    orthogonal = [(row, np.array([a], dtype=np.float32)), (row, np.array([b], dtype=np.float32))]
    assert combine(orthogonal, 1.5)[1].tolist() == [[3.0, 2.0, 0.0, 1.0]]

    group = GroupDelta([same[0]] * 3, (1, (0.0, 0.0), 0))
    p = SKIP_GRAM_SYN1NEG_PROJECTION
    assert projections_for(cbow=1) == (1.0, 1.0, 1.0) and projections_for(cbow=0) == (1.0, 1.0, p) and p > 1
    skip_gram = merge(projections_for(cbow=0), group, group).deltas
    assert [values.tolist() for _, values in skip_gram[:2]] == [[a], [a]]
    np.testing.assert_allclose(skip_gram[2][1], [[(2 - p) * x for x in a]], rtol=1e-6)
    assert all(values.tolist() == [a] for _, values in merge(projections_for(cbow=1), group, group).deltas)


def values_at(rows, values, shape):
    full = np.zeros(shape, dtype=np.float32)
    full[rows] = values
    return full


def test_round_rates_follow_cs_schedule_and_seeds_differ():
    from pyw2v.distributed.rounds import chains, one_chain_bytes, round_alpha, round_bytes, round_count, seed
    from pyw2v.options import TrainOptions

    options = TrainOptions(train="x", cbow=0, iter=2)
    rates = [round_alpha(options, 1000, e, r, 4) for e in range(2) for r in range(4)]
    assert rates[0] == np.float32(0.025 * (1 - 125 / 2001))  # the middle of the first round
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert round_count(1) == 1 and round_count(16 << 20) == 1 and round_count((16 << 20) + 1) == 2
    assert round_bytes(TrainOptions(train="x", cbow=1)) == 16 << 20 and round_bytes(options) == 4 << 20
    assert round_bytes(TrainOptions(train="x", cbow=1, round_mib=2.5)) == 5 << 19
    # The run's first 16 MiB one chain, whatever the rounds' length; then 2 chains in the first epoch.
    assert [chains(0, r, 25, 8, 4 << 20) for r in range(6)] == [1, 1, 1, 1, 2, 2]
    assert [chains(0, r, 7, 8) for r in range(3)] == [1, 2, 2] and chains(1, 0, 7, 8) == 4
    # Skip-gram's start as one chain is 64 MiB: sixteen of its 4 MiB rounds.
    assert one_chain_bytes(options) == 64 << 20 and one_chain_bytes(TrainOptions(train="x", cbow=1)) == 16 << 20
    assert [chains(0, r, 25, 8, 4 << 20, 64 << 20) for r in range(15, 18)] == [1, 2, 2]
    seeds = {seed(e, r, s, 4, 8) for e in range(2) for r in range(4) for s in range(8)}
    assert len(seeds) == 64 and 0 not in seeds


class InProcessClient:
    """A stand-in for ``distributed.Client`` that runs each task at once, in this process, and records them."""

    status = "running"

    class Done:
        status = "finished"

        def __init__(self, value):
            self.value = value

        def done(self):
            return True

        def result(self):
            return self.value

    def __init__(self):
        self.tasks = {}  # key -> (the Done objects among its arguments, its own Done)
        self.all_arguments = {}  # key -> every argument as submitted
        self.scattered = []

    def scatter(self, values, broadcast=False):
        self.scattered += [self.Done(v) for v in values]
        return self.scattered[-len(values):]

    def scheduler_info(self):
        return {"workers": {"in-process": {}}}

    def submit(self, function, *arguments, key, **placement):
        done = self.Done(function(*(a.value if isinstance(a, self.Done) else a for a in arguments)))
        self.tasks[key] = ([a for a in arguments if isinstance(a, self.Done)], done)
        self.all_arguments[key] = arguments
        return done

    def run(self, function, *arguments):
        return {"in-process": function(*arguments)}

    def arguments(self, kind, *numbers):
        """Every argument of the task ``pyw2v-KIND-<run>-<epoch>-<round>[-<shard>]``, as submitted."""
        return self.all_arguments[self._key(kind, numbers)]

    def task(self, kind, *numbers):
        """(arguments, result) of the task ``pyw2v-KIND-<run>-<epoch>-<round>[-<shard>]``."""
        return self.tasks[self._key(kind, numbers)]

    def _key(self, kind, numbers):
        """The one key of a task of ``kind`` whose key ends in ``numbers``."""
        prefix, suffix = f"pyw2v-{kind}-", "-" + "-".join(map(str, numbers))
        (found,) = [key for key in self.tasks if key.startswith(prefix) and key.endswith(suffix)]
        return found


class KilledWorker(Exception):
    """Named as Dask's: the driver knows work lost with a worker by this name."""


class LosingClient(InProcessClient):
    """An :class:`InProcessClient` whose merge of ``lost_round`` is lost with its worker the first time."""

    class Lost:
        status = "error"

        def done(self):
            return True

        def exception(self):
            return KilledWorker("the worker running this task died")

        def result(self):
            raise self.exception()

    def __init__(self, lost_round):
        super().__init__()
        self.lost_round, self.lost = lost_round, False
        self.cancelled = []

    def submit(self, function, *arguments, key, **placement):
        if not self.lost and key.startswith("pyw2v-merge-") and key.endswith(self.lost_round):
            self.lost = True
            return self.Lost()
        if any(isinstance(a, self.Lost) for a in arguments):  # as Dask does: a task of lost inputs is lost
            return self.Lost()
        return super().submit(function, *arguments, key=key, **placement)

    def cancel(self, futures):
        self.cancelled += futures


@pytest.mark.parametrize("checkpoint_seconds", [0, 10**6])
def test_a_round_lost_with_its_worker_is_run_again_from_the_clients_checkpoint(corpus, monkeypatch, checkpoint_seconds):
    """The rounds after the client's last copy of the weights run again from it, its counters restored.

    With a copy after every round, the run goes back to the lost round;
    with none since the start, to the first round. Either way the vectors,
    each epoch's loss and the bytes reported moved (``-debug 3``) are those
    of an undisturbed run.
    """
    from pyw2v.distributed import driver
    from pyw2v.train import train

    def run(client):
        out = io.StringIO()
        result = train(str(corpus), client=client, out=out, cbow=1, negative=5, size=20, iter=3, shards=4, loss=1,
                       debug=3, sync_rows=0)  # the rounds' merge task, which -sync-rows' rounds do on every worker
        return result, re.search(r"deltas per round: \S+ MB  per epoch: \S+ MB", out.getvalue()).group()

    monkeypatch.setattr(driver, "CHECKPOINT_SECONDS", checkpoint_seconds)
    undisturbed, undisturbed_traffic = run(InProcessClient())
    client = LosingClient(lost_round="-1-0")  # epoch 1, round 0
    disturbed, disturbed_traffic = run(client)
    assert client.lost and client.cancelled
    rerun = [key.rsplit("-", 3)[1:] for key in client.tasks if key.startswith("pyw2v-merge-")]
    assert ["1", "1", "0"] in rerun  # restart 1, epoch 1, round 0: the lost round ran again
    assert (["1", "0", "0"] in rerun) == (checkpoint_seconds > 0)  # and epoch 0 again, without a copy since
    assert disturbed.syn0.tobytes() == undisturbed.syn0.tobytes()
    assert np.array_equal(disturbed.losses, undisturbed.losses)
    assert disturbed_traffic == undisturbed_traffic


class ExchangeLosingClient(InProcessClient):
    """Two workers, until the one chosen for ``-sync-rows``' exchange is lost while the actor is made."""

    def __init__(self):
        super().__init__()
        self.lost = False

    def scheduler_info(self):
        return {"workers": {"in-process": {}} if self.lost else {"in-process": {}, "lost": {}}}

    def submit(self, function, *arguments, key, **placement):
        if key.startswith("pyw2v-exchange-") and not self.lost:
            self.lost = True
            return LosingClient.Lost()
        return super().submit(function, *arguments, key=key, **placement)

    def cancel(self, futures):
        pass


def test_a_worker_lost_while_the_exchange_is_made_sends_the_run_back_to_its_start(corpus):
    """The actor of ``-sync-rows`` is made when every worker is given the weights; a worker lost then
    is lost work like any other: the weights are given again to the workers left, and the output is an
    undisturbed run's."""
    from pyw2v.train import train

    def run(client):
        with open(os.devnull, "w") as quiet:
            return train(str(corpus), client=client, out=quiet, cbow=1, negative=5, size=20, iter=3, sync_rows=200)

    client = ExchangeLosingClient()
    disturbed = run(client)
    assert client.lost
    assert sum(key.startswith("pyw2v-install-") for key in client.tasks) == 3  # two workers, then the one left
    assert disturbed.syn0.tobytes() == run(InProcessClient()).syn0.tobytes()


def test_the_frequent_rows_cut_into_blocks_give_the_bytes_of_one_block(corpus, monkeypatch):
    """``-sync-rows``' rows cross the exchange in blocks, each merged as it comes: a row's merge is the
    same whichever block holds it, so blocks of 7 rows give one block's bytes, and syncing moves them."""
    from pyw2v.distributed import hotrows
    from pyw2v.train import train

    def run(**settings):
        with open(os.devnull, "w") as quiet:
            return train(str(corpus), client=InProcessClient(), out=quiet, cbow=1, negative=5, size=20, iter=3,
                         **settings).syn0.tobytes()

    whole = run(sync_rows=200)
    monkeypatch.setattr(hotrows, "BLOCK_ROWS", 7)
    assert run(sync_rows=200) == whole
    assert run() != whole


def binary_vectors(path):
    """The rows of a ``-binary 1`` vector file, in file order."""
    data = Path(path).read_bytes()
    header_end = data.index(b"\n")
    words, size = map(int, data[:header_end].split())
    rows, at = [], header_end + 1
    for _ in range(words):
        at = data.index(b" ", at) + 1
        rows.append(np.frombuffer(data, dtype=np.float32, count=size, offset=at))
        at += 4 * size + 1
    return np.array(rows)


def test_rounds_train_chains_of_slices_and_in_process_tasks_give_the_clusters_bytes(reference, corpus):
    """A round of c chains is c tasks, each training a run of consecutive shards' slices (the shards cut
    into c such runs, in order) from the weights after the rounds before; the next round's weights are
    the last plus the merge of the round's c tasks, added on every worker. The same tasks run in this
    process give the vectors of the real 4-worker cluster."""
    from pyw2v.distributed.rounds import GROUP_CHAINS, chains
    from pyw2v.train import train

    client = InProcessClient()
    with open(os.devnull, "w") as quiet:
        result = train(str(corpus), client=client, out=quiet, cbow=0, negative=5, size=20, iter=3, shards=8)
    counts = [chains(epoch, 0, 1, 8) for epoch in range(3)]  # this corpus is one round an epoch
    assert counts == [1, 4, 8]
    for epoch, c in enumerate(counts):
        merge_arguments, merged = client.task("merge", epoch, 0)
        for chain in range(c):
            arguments, done = client.task("chain", epoch, 0, chain)
            _, version, _, links, *_ = client.arguments("chain", epoch, 0, chain)
            assert version == epoch, (epoch, chain)  # the weights after the rounds before: one an epoch here
            assert [shard for shard, _, _ in links] == [s for s in range(8) if s * c // 8 == chain], (epoch, chain)
            group_arguments = client.task("group", epoch, 0, chain - chain % GROUP_CHAINS)[0]
            assert group_arguments[chain % GROUP_CHAINS] is done
        groups = [client.task("group", epoch, 0, g)[1] for g in range(0, c, GROUP_CHAINS)]
        assert merge_arguments[-len(groups):] == groups
        apply_arguments = client.arguments("apply", epoch, 0, 0)
        assert apply_arguments[1] == epoch and apply_arguments[2] is merged
    np.testing.assert_array_equal(result.syn0, binary_vectors(reference / "vec.bin"))


def test_round_mib_sets_the_rounds_an_epoch_and_the_text_each_trains(corpus):
    """``-round-mib`` cuts every epoch into ceil(corpus bytes / round bytes) rounds of equal text."""
    from pyw2v.train import train

    size = corpus.stat().st_size
    round_mib = size / (1 << 20) / 2.5  # 2.5 rounds' text: three rounds
    client = InProcessClient()
    with open(os.devnull, "w") as quiet:
        train(str(corpus), client=client, out=quiet, cbow=1, negative=5, size=10, iter=1, shards=2,
              round_mib=round_mib)
    merges = sorted(key.rsplit("-", 2)[-2:] for key in client.tasks if key.startswith("pyw2v-merge-"))
    assert merges == [["0", "0"], ["0", "1"], ["0", "2"]]
    read = [sum(piece.end - piece.start for shard, pieces, _ in client.arguments("chain", 0, r, 0)[3]
                for piece in pieces) for r in range(3)]
    # The run's first 16 MiB are one chain: round r's one task reads both shards' r-th thirds.
    assert sum(read) == size and max(read) - min(read) <= 2, read


def test_the_placement_hint_is_one_dask_accepts_when_no_worker_is_known():
    # Once the scheduler is gone no worker is known; Dask refuses allow_other_workers without workers,
    # and a round submitted then ended in a traceback instead of the lost scheduler's one line.
    from distributed import Client, LocalCluster

    from pyw2v.distributed.driver import _placed

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as local, Client(local) as client:
        assert client.scheduler_info()["workers"] == {}
        for home in (None, ["inproc://127.0.0.1/1/1"]):
            future = client.submit(sum, [1, 2], key=f"placed-{home is None}", **_placed(home))
            assert future.key == f"placed-{home is None}"
            future.cancel()
