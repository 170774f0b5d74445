"""The benchmark loop: every job round-robin, then the medians."""
import collections
import os
import re
import shlex
import statistics

from .common import log
from .jobs import job_command, job_list
from .measure import run_measured, run_pair
from .report import fmt

# The corpus prefix each pyw2v job first trains on, untimed: enough for a vocabulary at any -min-count used here.
WARM_UP_BYTES = 1 << 20


def run_benchmark(args, train, run_dir, evaluator):
    """Run every job round-robin, --repeat times; return the list of runs.

    Each repetition runs every (arch, system) once; the order of systems
    rotates between repetitions so no system always runs first. A job that
    fails is not repeated. Every pyw2v job has first run once, untimed
    (:func:`warm_up`).
    """
    jobs = job_list(args)
    warm_up(args, jobs, train, run_dir)
    runs, failed = [], set()
    for rep in range(args.repeat):
        order = jobs[rep % len(jobs):] + jobs[:rep % len(jobs)]
        for arch in args.archs:
            for label, mode, threads in order:
                if (label, arch) in failed:
                    continue
                tag = "%s-%s-r%d" % (re.sub(r"\W+", "_", label), arch, rep + 1)
                vec = os.path.join(run_dir, tag + ".bin")
                cmd = job_command(args, mode, arch, threads, train, vec)
                log("[%d/%d] %-18s %-8s ..." % (rep + 1, args.repeat, label,
                                                arch))
                load = os.getloadavg()[0]  # how busy the shared machine was as the job began
                copies = 2 if mode.endswith("-pair") else 1
                if copies == 2:
                    vec_b = vec[:-len(".bin")] + "-b.bin"
                    cmd_b = job_command(args, mode, arch, threads, train, vec_b)
                    status, wall, peak, err = run_pair(
                        [cmd, cmd_b], [os.path.join(run_dir, tag),
                                       os.path.join(run_dir, tag + "-b")],
                        args.timeout)
                    if os.path.exists(vec_b):
                        os.remove(vec_b)
                else:
                    status, wall, peak, err = run_measured(
                        cmd, os.path.join(run_dir, tag), args.timeout)
                if status == "ok" and not os.path.exists(vec):
                    status, err = "failed", "no output file %s" % vec
                run = {"system": label, "mode": mode, "arch": arch,
                       "threads": threads, "copies": copies,
                       "rep": rep + 1, "status": status,
                       "wall": wall, "peak_mib": peak, "error": err,
                       "accuracy": None, "seen": None,
                       "load": load, "cmd": shlex.join(cmd)}
                if status == "ok":
                    if not args.no_accuracy and copies == 1:
                        run["accuracy"], run["seen"], acc_err = evaluator(vec)
                        if acc_err:
                            run["accuracy_error"] = acc_err
                            log("      accuracy failed: %s" % acc_err)
                    log("      %.1f s, %.0f MiB, accuracy %s"
                        % (wall, peak, fmt(run["accuracy"], "%.2f %%")))
                else:
                    failed.add((label, arch))
                    log("      failed: %s" % err)
                if not args.keep_vectors and os.path.exists(vec):
                    os.remove(vec)
                runs.append(run)
    return runs


def warm_up(args, jobs, train, run_dir):
    """Run each pyw2v job once on the first MiB of ``train``, untimed and unreported.

    A job's first run on a cold kernel cache includes Numba compiling its
    training loop (seconds); after this one, every timed repetition loads
    it from the cache, as a user's second run does. A warm-up that fails
    only leaves that job's first repetition compiling.
    """
    pyw2v_jobs = [job for job in jobs if job[1].startswith("pyw2v")]
    if not pyw2v_jobs:
        return
    sample = os.path.join(run_dir, "warm-up.txt")
    with open(train, "rb") as source:
        head = source.read(WARM_UP_BYTES)
    with open(sample, "wb") as out:
        out.write(head[: head.rfind(b" ") + 1] or head)  # whole words only
    vec = os.path.join(run_dir, "warm-up.bin")
    for arch in args.archs:
        for label, mode, threads in pyw2v_jobs:
            log("warm-up %-18s %-8s ..." % (label, arch))
            tag = "warm-up-%s-%s" % (re.sub(r"\W+", "_", label), arch)
            run_measured(job_command(args, mode, arch, threads, sample, vec), os.path.join(run_dir, tag),
                         args.timeout)
            if os.path.exists(vec):
                os.remove(vec)
    os.remove(sample)


def summarize(runs, train_words, iters):
    """Median figures per (system, arch), in the order they first ran.

    words/s = copies * iter * train_words / median wall time, where copies
    is 2 for the side-by-side pair of jobs.
    """
    groups = collections.OrderedDict()
    for r in runs:
        groups.setdefault((r["system"], r["arch"]), []).append(r)
    rows = []
    for (system, arch), rs in groups.items():
        ok = [r for r in rs if r["status"] == "ok"]
        row = {"system": system, "arch": arch, "runs": len(ok),
               "threads": rs[0]["threads"],
               "error": next((r["error"] for r in rs if r["error"]), None)}
        if ok:
            row["wall"] = statistics.median(r["wall"] for r in ok)
            row["wall_min"] = min(r["wall"] for r in ok)
            row["wall_max"] = max(r["wall"] for r in ok)
            row["words_s"] = rs[0]["copies"] * iters * train_words / row["wall"]
            row["peak_mib"] = statistics.median(r["peak_mib"] for r in ok)
            accs = [r["accuracy"] for r in ok if r["accuracy"] is not None]
            row["accuracy"] = statistics.median(accs) if accs else None
        rows.append(row)
    return rows
