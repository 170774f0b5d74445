"""The Dask cluster of a run: started on this machine (``-workers``) or joined (``-scheduler``), and checked.

A local cluster has ``workers`` processes of one thread each, and all it
opens (scheduler, workers, nannies, dashboard) listens on 127.0.0.1 only.
It is closed on every exit, Ctrl-C and SIGTERM included. Before any work
every worker is asked for its pyw2v version, which must be this one.
"""
import contextlib
import logging
import os

from ..errors import UserError

INSTALL = 'pip install -e ".[distributed]"'
CONNECT_SECONDS = 10
HOST = "127.0.0.1"

# Sent by value (its module cannot be imported on a worker), so that it runs where pyw2v is missing.
_PROBE_SOURCE = """
def probe():
    try:
        import pyw2v
    except Exception as error:
        return "missing: %s" % (error,)
    return getattr(pyw2v, "__version__", "unknown")
"""


def import_distributed():
    """The ``distributed`` module, or one line that says how to install it."""
    try:
        import distributed
    except ImportError:
        raise UserError(f"-scheduler and -workers need Dask: {INSTALL}") from None
    return distributed


@contextlib.contextmanager
def connect(options, client=None):
    """A checked :class:`distributed.Client` for ``options`` (or ``client``, left open at the end)."""
    if client is not None:
        check_workers(client)
        _small_pages(client)
        yield client
        return
    distributed = import_distributed()
    with _quiet_logs():
        if options.scheduler:
            stack = contextlib.ExitStack()
            try:
                client = stack.enter_context(distributed.Client(options.scheduler, timeout=CONNECT_SECONDS))
            except (OSError, TimeoutError, ValueError) as error:
                raise UserError(
                    f"cannot reach the Dask scheduler at {options.scheduler}: {first_line(error)}"
                ) from None
        else:
            stack = contextlib.ExitStack()
            with _worker_settings():
                cluster = stack.enter_context(distributed.LocalCluster(
                    n_workers=options.workers, threads_per_worker=1, processes=True, host=HOST,
                    dashboard_address=f"{HOST}:0", worker_dashboard_address=f"{HOST}:0", scheduler_port=0,
                    silence_logs=logging.CRITICAL,
                ))
            client = stack.enter_context(distributed.Client(cluster))
            _pin_to_cores(client)
        with stack:
            if not client.scheduler_info().get("workers"):
                client.wait_for_workers(1, timeout=CONNECT_SECONDS * 3)
            check_workers(client)
            _small_pages(client)
            yield client


# glibc's settings for the local cluster's workers. Dask starts its workers with
# MALLOC_TRIM_THRESHOLD_=65536, which hands every freed block of the heap's top back to the system;
# a round's large arrays (a chain's copy of the weights, its deltas, the sums, the merged weights
# received) were then fresh pages each time, faulted in one by one: 55 ms per 54 MB on the
# development host, where a copy into memory already mapped takes 12 ms. Kept, they are reused.
# Arrays above glibc's largest mmap threshold (32 MiB: a matrix of 84,000 words at -size 100) are
# mapped afresh whatever these say.
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(32 << 20)}


# Dask's configuration for the local cluster's workers (their nannies pass them the client's). The
# statistical profiler samples every thread's stack every 10 ms, which on a host whose cores all train
# takes them from the training threads at random: with -sync-rows, whose workers wait for each other
# after every part, that jitter is waited for (docs/distributed.md, *Speed and traffic*).
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


@contextlib.contextmanager
def _worker_settings():
    """Dask's configuration, while a local cluster starts, with :data:`WORKER_MALLOC` in its workers'
    environment and :data:`WORKER_CONFIG`."""
    import dask

    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_MALLOC}
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ, **WORKER_CONFIG}):
        yield


def _pin_to_cores(client):
    """Each local worker process on a core of its own, where the host supports it (:mod:`.pinning`)."""
    if hasattr(os, "sched_setaffinity"):
        from .pinning import CorePinning

        client.register_plugin(CorePinning(sorted(os.sched_getaffinity(0))), name="pyw2v-core-pinning")


def _small_pages(client):
    from .task import small_pages

    client.run(small_pages)


def check_workers(client):
    """Refuse workers that lack pyw2v or have another version (one line naming the mismatch)."""
    from .. import __version__

    namespace = {"__name__": "pyw2v_probe"}
    exec(compile(_PROBE_SOURCE, "<pyw2v probe>", "exec"), namespace)  # noqa: S102 - our own constant source
    try:
        versions = client.run(namespace["probe"])
    except Exception as error:  # noqa: BLE001 - any failure to reach the workers is the user's cluster
        raise UserError(f"cannot ask the Dask workers for their pyw2v: {first_line(error)}") from None
    if not versions:
        raise UserError("the Dask cluster has no workers")
    for address, version in sorted(versions.items()):
        if version.startswith("missing"):
            raise UserError(f"worker {address} cannot import pyw2v ({version[9:]}): install pyw2v {__version__} there")
        if version != __version__:
            raise UserError(
                f"worker {address} has pyw2v {version}, this is pyw2v {__version__}: install the same version"
            )


def dashboard(client):
    """The address of Dask's dashboard, or None when the scheduler runs none."""
    try:
        has_one = "dashboard" in client.scheduler_info().get("services", {})
    except Exception:  # noqa: BLE001 - no dashboard to show is no reason to stop
        return None
    return client.dashboard_link if has_one else None


def first_line(error):
    text = str(error) or type(error).__name__
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


@contextlib.contextmanager
def _quiet_logs():
    """Dask's own log lines (worker start/stop, lost connections) would bury pyw2v's one line."""
    names = ["distributed", "distributed.client", "distributed.scheduler", "distributed.nanny", "distributed.worker",
             "distributed.core", "distributed.comm", "distributed.batched", "tornado", "bokeh"]
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
