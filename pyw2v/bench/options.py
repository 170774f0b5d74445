"""The benchmark's command line."""
import argparse
import os

from .common import ACCURACY_THRESHOLD, ARCHS, DEFAULT_CACHE, DEFAULT_CORPUS, DEFAULT_OUT_DIR, PROG, SYSTEMS


def parse_args(argv):
    """Parse the benchmark's own options."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Train pyw2v, gensim and optionally word2vec.c on the "
                    "same corpus; report median wall time, words/s, peak "
                    "memory and analogy accuracy as a Markdown table.")
    p.add_argument("--corpus", default=DEFAULT_CORPUS,
                   help="training text, plain or .gz (default: %(default)s)")
    p.add_argument("--prefix-bytes", type=int, default=0, metavar="N",
                   help="train on the first N bytes only (0 = whole corpus)")
    p.add_argument("--arch", default="sg-ns,cbow-ns",
                   help="comma list of %s (default: %%(default)s)"
                        % ",".join(ARCHS))
    p.add_argument("--systems", default=None,
                   help="comma list of %s (default: pyw2v,pyw2v-fast,gensim, "
                        "plus c when --c-binary is given)" % ",".join(SYSTEMS))
    p.add_argument("--c-binary", default=None, metavar="PATH",
                   help="a word2vec.c binary to run as system 'c' "
                        "(never built by this script)")
    p.add_argument("--pyw2v-cmd", default="pyw2v", metavar="CMD",
                   help="command that runs the pyw2v trainer "
                        "(default: %(default)s)")
    p.add_argument("--pyw2v-workers", default=None, metavar="LIST",
                   help="comma list of worker counts: also run pyw2v with "
                        "-workers N (a local Dask cluster) for each N")
    p.add_argument("--spark-python", default=os.environ.get("PYW2V_SPARK_PYTHON"),
                   metavar="PATH",
                   help="system 'spark': the python of an environment with "
                        "pyspark that runs Spark MLlib's Word2Vec "
                        "(default: $PYW2V_SPARK_PYTHON)")
    p.add_argument("--spark-partitions", default="1", metavar="LIST",
                   help="system 'spark': comma list of Word2Vec numPartitions, "
                        "one job each, all in local[--threads] "
                        "(default: %(default)s)")
    p.add_argument("--spark-memory", default="4g", metavar="SIZE",
                   help="system 'spark': spark.driver.memory, the JVM's heap "
                        "in local mode (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=3, metavar="N",
                   help="repetitions of every job (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--iter", type=int, default=5)
    p.add_argument("--sample", default="1e-3")
    p.add_argument("--negative", type=int, default=5,
                   help="negative samples for the -ns architectures "
                        "(the -hs ones use 0)")
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--scaling", action="store_true",
                   help="also run pyw2v with 1 thread and report the "
                        "1 -> --threads speed-up")
    p.add_argument("--ceiling", action="store_true",
                   help="with --scaling and 2 threads: also run two 1-thread "
                        "jobs side by side and report the speed-up two "
                        "independent jobs get, the host's ceiling for the "
                        "1 -> 2 thread speed-up")
    p.add_argument("--accuracy-cmd", default="pyw2v-compute-accuracy",
                   metavar="CMD",
                   help="compute-accuracy style command, run as "
                        "'CMD VEC %d < questions'; when it fails, gensim's "
                        "evaluate_word_analogies is used instead "
                        "(default: %%(default)s)" % ACCURACY_THRESHOLD)
    p.add_argument("--no-accuracy", action="store_true",
                   help="skip the analogy evaluation")
    p.add_argument("--questions", default=None,
                   help="analogy questions (default: the questions-words.txt "
                        "bundled with pyw2v)")
    p.add_argument("--timeout", type=float, default=7200, metavar="S",
                   help="kill a training job after S seconds "
                        "(default: %(default)s)")
    p.add_argument("--name", default=None,
                   help="report name (default: from arch, prefix, threads)")
    p.add_argument("--out-dir", default=DEFAULT_OUT_DIR,
                   help="where the Markdown report and its picture go "
                        "(default: %(default)s)")
    p.add_argument("--cache-dir", default=DEFAULT_CACHE,
                   help="unpacked corpus, vectors and logs "
                        "(default: %(default)s)")
    p.add_argument("--redraw", default=None, metavar="REPORT.md",
                   help="run nothing: draw the picture of an existing report "
                        "(REPORT.png beside it)")
    p.add_argument("--keep-vectors", action="store_true",
                   help="keep every run's vector file in the cache dir")
    args = p.parse_args(argv)

    args.archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    for a in args.archs:
        if a not in ARCHS:
            p.error("unknown --arch %r (choose from %s)" % (a, ", ".join(ARCHS)))
    if args.systems is None:
        args.systems = ["pyw2v", "pyw2v-fast", "gensim"]
        if args.c_binary:
            args.systems.append("c")
    else:
        args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    for s in args.systems:
        if s not in SYSTEMS:
            p.error("unknown system %r (choose from %s)" % (s, ", ".join(SYSTEMS)))
    if "c" in args.systems:
        if not args.c_binary:
            p.error("system 'c' needs --c-binary PATH")
        args.c_binary = os.path.abspath(args.c_binary)
        if not os.access(args.c_binary, os.X_OK):
            p.error("--c-binary %s is not an executable file" % args.c_binary)
    args.pyw2v_workers = counts_list(p, "--pyw2v-workers", args.pyw2v_workers or "")
    args.spark_partitions = counts_list(p, "--spark-partitions", args.spark_partitions)
    if "spark" in args.systems:
        if not args.spark_python:
            p.error("system 'spark' needs --spark-python PATH (or $PYW2V_SPARK_PYTHON)")
        if args.archs != ["sg-hs"]:
            p.error("system 'spark' runs --arch sg-hs only (Spark MLlib has skip-gram "
                    "with hierarchical softmax and nothing else)")
        if _number(args.sample) != 0:
            p.error("system 'spark' has no subsampling: give --sample 0")
        if not args.spark_partitions:
            p.error("system 'spark' needs at least one --spark-partitions count")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.ceiling and not (args.scaling and args.threads == 2):
        p.error("--ceiling needs --scaling and --threads 2")
    if args.name is None:
        args.name = "%s-%s-t%d" % ("_".join(args.archs),
                                   prefix_label(args.prefix_bytes), args.threads)
    return args


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


def counts_list(parser, option, text):
    """A comma list of positive integers, in the order given; a parser error otherwise."""
    counts = []
    for item in text.split(","):
        if not item.strip():
            continue
        try:
            count = int(item)
        except ValueError:
            count = 0
        if count < 1:
            parser.error("%s takes positive whole numbers, not %r" % (option, item.strip()))
        counts.append(count)
    return counts


def prefix_label(nbytes):
    """Short label for a corpus prefix: 'full', '10MB', '123456B'."""
    if not nbytes:
        return "full"
    if nbytes % 1000000 == 0:
        return "%dMB" % (nbytes // 1000000)
    return "%dB" % nbytes
