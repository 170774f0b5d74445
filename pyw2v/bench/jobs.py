"""The command line of every job: pyw2v, word2vec.c and gensim (run through the harness)."""
import argparse
import shlex
import sys

from .common import HARNESS, ONE_THREAD, PAIR, PROG
from .spark import spark_command


def w2v_options(args, arch, threads, train, output):
    """word2vec.c options shared by pyw2v and the C binary."""
    sg, hs = arch.startswith("sg"), arch.endswith("hs")
    return ["-train", train, "-output", output,
            "-cbow", "0" if sg else "1",
            "-negative", "0" if hs else str(args.negative),
            "-size", str(args.size), "-window", str(args.window),
            "-sample", str(args.sample), "-hs", "1" if hs else "0",
            "-threads", str(threads), "-iter", str(args.iter),
            "-binary", "1", "-min-count", str(args.min_count), "-debug", "2"]


def job_list(args):
    """The (system label, mode, threads) triples to run for each arch.

    Spark runs one job per --spark-partitions count (mode ``spark:P``), and
    pyw2v one per --pyw2v-workers count (mode ``pyw2v-workers:N``: N worker
    processes of one thread each). The 1-thread scaling run uses the fastest
    mode, the one the scaling target is about. The ceiling run starts two copies of that 1-thread job
    at once (mode ``pyw2v-fast-pair``).
    """
    jobs = []
    for s in args.systems:
        if s == "spark":
            jobs.extend((spark_label(n), "spark:%d" % n, args.threads)
                        for n in args.spark_partitions)
        else:
            jobs.append((s, s, args.threads))
    jobs.extend(("pyw2v -workers %d" % n, "pyw2v-workers:%d" % n, 1)
                for n in args.pyw2v_workers)
    if args.scaling and args.threads != 1:
        jobs.append((ONE_THREAD, "pyw2v-fast", 1))
    if args.ceiling:
        jobs.append((PAIR, "pyw2v-fast-pair", 1))
    return jobs


def spark_label(partitions):
    """The report's name of the Spark job with ``partitions`` partitions."""
    return "spark, %d partition%s" % (partitions, "s"[:partitions != 1])


def job_command(args, mode, arch, threads, train, output):
    """The argv of one training job."""
    if mode == "pyw2v":
        return shlex.split(args.pyw2v_cmd) + w2v_options(args, arch, threads,
                                                         train, output)
    if mode in ("pyw2v-fast", "pyw2v-fast-pair"):
        return (shlex.split(args.pyw2v_cmd)
                + w2v_options(args, arch, threads, train, output)
                + ["-fast", "1"])
    if mode.startswith("pyw2v-workers:"):
        return (shlex.split(args.pyw2v_cmd)
                + w2v_options(args, arch, 1, train, output)
                + ["-workers", mode.split(":")[1]])
    if mode.startswith("spark:"):
        return spark_command(args, int(mode.split(":")[1]), args.spark_sentences,
                             output)
    if mode == "c":
        return [args.c_binary] + w2v_options(args, arch, threads, train, output)
    if mode == "gensim":
        return [sys.executable, HARNESS, "_gensim-train",
                "--train", train, "--output", output, "--arch", arch,
                "--threads", str(threads), "--size", str(args.size),
                "--window", str(args.window), "--iter", str(args.iter),
                "--sample", str(args.sample), "--negative", str(args.negative),
                "--min-count", str(args.min_count)]
    raise ValueError(mode)


def gensim_train_main(argv):
    """Hidden subcommand: train gensim Word2Vec like word2vec.c would.

    Text8Corpus streams the file (corpus_file mode fails on a one-line
    corpus); alpha is word2vec.c's default for the architecture and decays
    linearly to alpha * 1e-4, as in word2vec.c.
    """
    p = argparse.ArgumentParser(prog=PROG + " _gensim-train")
    for opt in ("--train", "--output", "--arch"):
        p.add_argument(opt, required=True)
    for opt in ("--threads", "--size", "--window", "--iter", "--negative",
                "--min-count"):
        p.add_argument(opt, type=int, required=True)
    p.add_argument("--sample", type=float, required=True)
    a = p.parse_args(argv)

    import logging
    logging.basicConfig(format="%(asctime)s %(levelname)s %(message)s",
                        level=logging.INFO)
    from gensim.models import Word2Vec
    from gensim.models.word2vec import Text8Corpus

    sg, hs = a.arch.startswith("sg"), a.arch.endswith("hs")
    alpha = 0.025 if sg else 0.05
    model = Word2Vec(sentences=Text8Corpus(a.train),
                     vector_size=a.size, window=a.window,
                     min_count=a.min_count, sample=a.sample,
                     sg=int(sg), hs=int(hs), negative=0 if hs else a.negative,
                     cbow_mean=1, workers=a.threads, epochs=a.iter,
                     alpha=alpha, min_alpha=alpha * 1e-4)
    model.wv.save_word2vec_format(a.output, binary=True)
