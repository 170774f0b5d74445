"""The local cluster's workers, each on a core of its own, as MPI binds its ranks.

The workers of ``-sync-rows`` wait for each other after every part, so
each waits for the other's delays; a worker that the system moves to
another core leaves its cache behind and takes a core another worker
trains on (docs/distributed.md, *Speed and traffic*). Only ``-workers``
pins its workers: a cluster of one's own is the user's to place.
"""
import contextlib
import os

from distributed import WorkerPlugin


class CorePinning(WorkerPlugin):
    """Every thread of a local worker process on the core that its name (0, 1, ...) picks from ``cores``
    (worker i on core i mod their count). A worker the nanny starts again is pinned too."""

    def __init__(self, cores):
        self.cores = cores

    def setup(self, worker):
        if not isinstance(worker.name, int):
            return
        core = {self.cores[worker.name % len(self.cores)]}
        for thread in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                os.sched_setaffinity(int(thread), core)
