"""Running one job (or two side by side) and measuring its wall time and peak memory."""
import os
import re
import signal
import subprocess
import threading
import time


def run_measured(cmd, log_prefix, timeout):
    """Run cmd as a child; return (status, wall seconds, peak RSS MiB, error).

    Wall time runs from the spawn to the child's exit, so it includes start-up,
    vocabulary building and saving. The peak resident set is the child's own
    ru_maxrss from os.wait4 (per child, unlike RUSAGE_CHILDREN deltas).
    stdout/stderr go to log_prefix + '.out' / '.err'. error is None on
    success, else a one-line reason.
    """
    with open(log_prefix + ".out", "wb") as out, \
            open(log_prefix + ".err", "wb") as err:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err,
                                    stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as e:
            return "failed", None, None, "cannot start: %s" % e
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mib = usage.ru_maxrss / 1024.0  # Linux: KiB
    if timed_out.is_set():
        return "failed", wall, peak_mib, "timed out after %gs" % timeout
    if proc.returncode != 0:
        return "failed", wall, peak_mib, "exit %d: %s" % (
            proc.returncode, last_line(log_prefix + ".err"))
    return "ok", wall, peak_mib, None


def run_pair(cmds, log_prefixes, timeout):
    """Start both commands at once; (status, slower wall, larger peak, error).

    Two independent 1-thread jobs share nothing but the machine, so the
    work they finish together is the most a 2-thread split could get from
    these two vCPUs at that moment.
    """
    results = [None, None]

    def run(i):
        results[i] = run_measured(cmds[i], log_prefixes[i], timeout)
    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    error = next((r[3] for r in results if r[3]), None)
    walls = [r[1] for r in results if r[1] is not None]
    peaks = [r[2] for r in results if r[2] is not None]
    return ("failed" if error else "ok", max(walls) if walls else None,
            max(peaks) if peaks else None, error)


def last_line(path, width=120):
    """Last non-empty line of a log file (progress '\\r' lines split too)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 65536))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    lines = [piece.strip() for piece in re.split(r"[\r\n]+", text) if piece.strip()]
    line = lines[-1] if lines else "(no stderr output)"
    return line if len(line) <= width else line[:width - 3] + "..."
