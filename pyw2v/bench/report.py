"""The Markdown report: settings, machine, medians, notes and every run."""
import importlib.metadata
import os
import platform
import re
import resource
import shlex
import subprocess
import time

from .common import ONE_THREAD, PAIR, PROG, REPO
from .jobs import job_list


def machine_description():
    """CPU, cores, memory, OS and library versions, as (key, value) pairs."""
    cpu, physical = platform.processor() or "unknown", None
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        m = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
        cpu = m.group(1).strip() if m else cpu
        m = re.search(r"^cpu cores\s*:\s*(\d+)$", info, re.M)
        physical = int(m.group(1)) if m else None
    except OSError:
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"^MemTotal:\s*(\d+) kB", f.read(), re.M)
        mem = "%.1f GiB" % (int(m.group(1)) / 1024 ** 2) if m else mem
    except OSError:
        pass
    cores = "%s logical" % os.cpu_count()
    if physical:
        cores += ", %d per socket (cpuinfo 'cpu cores')" % physical
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if affinity and affinity != os.cpu_count():
        cores += ", %d usable" % affinity
    return [("CPU", cpu), ("cores", cores), ("memory", mem),
            ("OS", "%s %s" % (platform.system(), platform.release())),
            ("python", platform.python_version()),
            ("numpy", package_version("numpy")),
            ("numba", package_version("numba")),
            ("gensim", package_version("gensim")),
            ("pyw2v", pyw2v_revision())]


def package_version(name):
    """Installed version of a distribution, without importing it."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pyw2v_revision():
    """Git commit of this checkout, marked '+dirty' with local changes."""
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def harness_peak_mib():
    """The peak resident set of this process's memory map, in MiB: what vfork+exec charges a child.

    /proc's VmHWM rather than ru_maxrss: ``python -m pyw2v.bench`` starts this
    process from one that had loaded Numba, and ru_maxrss keeps that peak
    across exec while the children are charged only this map's.
    """
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"^VmHWM:\s*(\d+) kB", f.read(), re.M)
        if m:
            return int(m.group(1)) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fmt(value, pattern):
    """Format a number, or '–' for None."""
    return "–" if value is None else pattern % value


def render_report(args, argv, train, stats, rows, runs, evaluator, started,
                  picture=None, no_picture=None):
    """The Markdown report: settings, machine, summary table, picture, notes, runs.

    ``picture`` is the name of the PNG beside the report, or None, and then
    ``no_picture`` says why there is none.
    """
    gensim_wall = {r["arch"]: r.get("wall") for r in rows
                   if r["system"] == "gensim"}
    out = ["# pyw2v benchmark: %s" % args.name, ""]
    out.append("Command: `%s`" % " ".join([PROG, shlex.join(argv)]).strip())
    out.append("")
    out.append("Date: %s; finished after %.0f s."
               % (started.strftime("%Y-%m-%d %H:%M %Z"),
                  time.time() - started.timestamp()))
    out.append("")
    out.append("## Settings")
    out.append("")
    corpus = args.corpus + (" (first %d bytes)" % args.prefix_bytes
                            if args.prefix_bytes else "")
    out.append("- corpus: `%s`: %s bytes, %s tokens, %s distinct words; "
               "%s words with min-count %d, %s training words per epoch"
               % (corpus, f"{os.path.getsize(train):,}", f"{stats['tokens']:,}",
                  f"{stats['distinct']:,}", f"{stats['vocab']:,}",
                  args.min_count, f"{stats['train_words']:,}"))
    out.append("- -size %d -window %d -iter %d -sample %s -negative %d "
               "(0 for -hs) -min-count %d -threads %d -binary 1; alpha is "
               "word2vec.c's default (0.025 sg, 0.05 cbow) everywhere"
               % (args.size, args.window, args.iter, args.sample,
                  args.negative, args.min_count, args.threads))
    out.append("- systems: %s" % ", ".join(
        "`%s`" % s for s in [j[0] for j in job_list(args)]))
    if "c" in args.systems:
        out.append("- c: `%s`" % args.c_binary)
    if "spark" in args.systems:
        out.extend(spark_settings(args))
    if args.pyw2v_workers:
        out.append("- pyw2v -workers N: `%s` with `-workers N -threads 1` (a local "
                   "Dask cluster of N worker processes, one training thread each)"
                   % args.pyw2v_cmd)
    out.append("- repetitions: %d, round-robin" % args.repeat)
    out.append("")
    out.append("## Machine")
    out.append("")
    for k, v in machine_description():
        out.append("- %s: %s" % (k, v))
    out.append("")
    out.append("## Results (medians)")
    out.append("")
    out.append("| system/mode | arch | runs | wall s | words/s | peak MiB "
               "| accuracy % | speed vs gensim |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if not r["runs"]:
            out.append("| %s | %s | 0 | failed: %s | | | | |"
                       % (r["system"], r["arch"],
                          (r["error"] or "").replace("|", "\\|")))
            continue
        gw = gensim_wall.get(r["arch"])
        ratio = "%.2f×" % (gw / r["wall"]) if gw and r["system"] != PAIR else "–"
        wall = "%.1f" % r["wall"]
        if r["runs"] > 1:
            wall += " (%.1f–%.1f)" % (r["wall_min"], r["wall_max"])
        out.append("| %s | %s | %d | %s | %s | %.0f | %s | %s |"
                   % (r["system"], r["arch"], r["runs"], wall,
                      f"{r['words_s']:,.0f}", r["peak_mib"],
                      fmt(r["accuracy"], "%.2f"), ratio))
    out.append("")
    if picture:
        out.append("![median wall time of each system](%s)" % picture)
    else:
        out.append("No picture: %s." % no_picture)
    out.append("")
    out.extend(scaling_lines(args, rows))
    out.append("Notes:")
    out.append("")
    out.append("- wall s: median, from the start of the process to its exit "
               "(start-up, vocabulary, training and saving), min–max in "
               "brackets. Each pyw2v job first ran once, untimed, on the "
               "corpus's first MiB, so its kernels load from the cache.")
    out.append("- words/s: iter × training words per epoch (%s, tokens of "
               "words kept by min-count, before subsampling) / median wall "
               "time; the whole job's time, so lower than the trainer's own "
               "progress figure." % f"{stats['train_words']:,}")
    out.append("- peak MiB: median of each job's own ru_maxrss (os.wait4). "
               "Linux counts the spawning process's peak in a child started "
               "by vfork+exec, so %.0f MiB (this harness's own peak) is a "
               "floor under every figure."
               % harness_peak_mib())
    out.append("- accuracy %%: median over runs, by %s." % evaluator.describe())
    out.append("- speed vs gensim: gensim's median wall time / this row's "
               "(above 1 = faster than gensim).")
    if args.ceiling:
        out.append("- %s: two copies of the 1-thread job started together, "
                   "sharing nothing but the machine; wall s is the later "
                   "one's, words/s counts both, accuracy is not measured."
                   % PAIR)
    if "spark" in args.systems:
        out.append("- spark: wall s runs from the start of its Python driver to "
                   "its exit, so it includes the JVM's start and stop, and the "
                   "counting of the words (Spark returns no counts) that orders "
                   "the vector file by frequency; peak MiB is the larger of the "
                   "JVM's and the driver's, which waits for the JVM to exit.")
    out.append("- gensim: Word2Vec(sentences=Text8Corpus(file), "
               "workers=threads, alpha as above, min_alpha=alpha·1e-4, "
               "cbow_mean=1), saved with save_word2vec_format(binary=True). "
               "Text8Corpus cuts the text into 10,000-word sentences, "
               "word2vec.c into 1,000-word ones.")
    out.append("")
    out.append("## Individual runs")
    out.append("")
    out.append("The load is the machine's 1-minute load average as the run began "
               "(%d logical CPUs): above that, other processes shared them."
               % (os.cpu_count() or 0))
    out.append("")
    out.append("| rep | system/mode | arch | status | wall s | peak MiB "
               "| accuracy % | questions seen | load |")
    out.append("|---:|---|---|---|---:|---:|---:|---:|---:|")
    for r in runs:
        status = r["status"] if not r["error"] else "failed: %s" % r["error"]
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s |"
                   % (r["rep"], r["system"], r["arch"],
                      status.replace("|", "\\|"), fmt(r["wall"], "%.2f"),
                      fmt(r["peak_mib"], "%.0f"),
                      ("failed: %s" % r["accuracy_error"].replace("|", "\\|")
                       if r.get("accuracy_error")
                       else fmt(r["accuracy"], "%.2f")),
                      fmt(r["seen"], "%d"), fmt(r.get("load"), "%.1f")))
    out.append("")
    return "\n".join(out)


def spark_settings(args):
    """The report's lines about the Spark jobs: interpreter, versions, parameters, corpus."""
    pyspark, java = getattr(args, "spark_versions", ("unknown", "unknown"))
    return [
        "- spark: `%s` (pyspark %s; %s): `pyspark.ml.feature.Word2Vec(vectorSize=%d, "
        "windowSize=%d, minCount=%d, maxIter=%d, numPartitions=P, stepSize=0.025, "
        "maxSentenceLength=1000, seed=1)` in `local[%d]` with spark.driver.memory %s, "
        "on 127.0.0.1 without its web UI"
        % (args.spark_python, pyspark, java, args.size, args.window, args.min_count,
           args.iter, args.threads, args.spark_memory),
        "- spark's corpus: the same text cut into sentences of at most 1,000 words "
        "(word2vec.c's MAX_SENTENCE_LENGTH), one a line, read with `spark.read.text` "
        "and split on spaces (cut once by the harness, outside the jobs' time); "
        "Spark has no subsampling, hence -sample 0 for every system",
    ]


def scaling_lines(args, rows):
    """'pyw2v 1 -> N threads' speed-ups, when --scaling ran."""
    if not args.scaling or args.threads == 1:
        return []
    walls = {(r["system"], r["arch"]): r.get("wall") for r in rows}
    lines = []
    for arch in args.archs:
        one = walls.get((ONE_THREAD, arch))
        many = walls.get(("pyw2v-fast", arch))
        pair = walls.get((PAIR, arch))
        if one and many:
            lines.append("- pyw2v -fast 1 %s, 1 → %d threads: %.2f× faster "
                         "(%.1f s → %.1f s)" % (arch, args.threads,
                                                one / many, one, many))
            if pair:
                lines.append(
                    "- the host's ceiling for %s: two 1-thread jobs side by "
                    "side finished twice the work in %.1f s, %.2f× the rate "
                    "of one alone" % (arch, pair, 2 * one / pair))
        elif arch.endswith("-hs"):
            continue
        else:
            lines.append("- pyw2v %s, 1 → %d threads: not measured "
                         "(a run failed)" % (arch, args.threads))
    return ["Thread scaling (median wall times):", ""] + lines + [""]
