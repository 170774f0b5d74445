"""Spark MLlib's Word2Vec on a file of sentences, saved as a word2vec text vector file.

The benchmark runs this file as a script with the interpreter of an environment
that has pyspark (``--spark-python``), never inside pyw2v's::

    PYTHON spark_job.py --train SENTENCES --output VEC --cores N --partitions P \\
        --size 100 --window 5 --min-count 5 --iter 1

SENTENCES has one sentence a line, words separated by single spaces (the
harness cuts the corpus so, see ``spark.py``); each line becomes one row of
words (``spark.read.text`` then ``split`` on spaces), as Spark's users feed
Word2Vec. Spark runs in ``local[N]`` and listens on 127.0.0.1 only, without its
web UI. The vectors are written in word2vec.c's text layout (``-binary 0``:
header ``"<words> <size>"``, then per word ``word`` and each value as
``"%lf "``), most frequent word first, as word2vec.c orders its vocabulary, so
that ``pyw2v-compute-accuracy VEC 30000`` takes the same top words of every
system. Spark does not return its counts, so the job counts the words of the
file itself, after training (inside the job's wall time).

Only the standard library is imported at module level: pyw2v's tests check
the parts below without pyspark.
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import time

SEED = 1  # Spark's own default is a hash of the class name; fixed here so that runs repeat


def parse_args(argv):
    """The job's options: the corpus, the output and Word2Vec's parameters."""
    p = argparse.ArgumentParser(prog="spark_job.py", description=__doc__.splitlines()[0])
    p.add_argument("--versions", action="store_true",
                   help="print the versions of pyspark and Java, one a line, and exit")
    p.add_argument("--train", help="sentences, one a line, words separated by spaces")
    p.add_argument("--output", help="word2vec text vector file to write")
    p.add_argument("--cores", type=int, default=2, help="N of Spark's master local[N]")
    p.add_argument("--partitions", type=int, default=1, help="Word2Vec numPartitions")
    p.add_argument("--size", type=int, default=100, help="vectorSize")
    p.add_argument("--window", type=int, default=5, help="windowSize")
    p.add_argument("--min-count", type=int, default=5, help="minCount")
    p.add_argument("--iter", type=int, default=1, help="maxIter")
    p.add_argument("--alpha", type=float, default=0.025, help="stepSize")
    p.add_argument("--max-sentence", type=int, default=1000, help="maxSentenceLength")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--memory", default="4g", help="spark.driver.memory (local mode: the whole JVM)")
    args = p.parse_args(argv)
    if not args.versions:
        if not args.train or not args.output:
            p.error("--train and --output are required")
        for name in ("cores", "partitions", "size", "window", "min_count", "iter", "max_sentence"):
            if getattr(args, name) < 1:
                p.error("--%s must be at least 1" % name.replace("_", "-"))
    return args


def count_words(path):
    """Count the space-separated words of a sentence file; a Counter in order of first appearance."""
    counts = collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            counts.update(w for w in line.rstrip("\n").split(" ") if w)
    return counts


def frequency_order(words, counts):
    """``words`` most frequent first; ties in ``counts``' order (first appearance), unknown words last."""
    rank = {w: i for i, w in enumerate(counts)}
    return sorted(words, key=lambda w: (-counts.get(w, 0), rank.get(w, len(rank)), w))


def write_text_vectors(stream, words, vectors, size):
    """Write word2vec.c's text layout to a binary ``stream``: ``"%lf "`` per value, C's ``fprintf``.

    ``vectors[word]`` is a sequence of ``size`` floats (Spark hands float32
    values widened to double, so ``%f`` prints what C prints of the float).
    """
    stream.write(b"%d %d\n" % (len(words), size))
    for word in words:
        values = vectors[word]
        if len(values) != size:
            raise ValueError("vector of %r has %d values, not %d" % (word, len(values), size))
        stream.write(word.encode("utf-8") + b" "
                     + "".join("%f " % v for v in values).encode("ascii") + b"\n")


def save_vectors(path, words, vectors, size):
    """Write the text file next to ``path`` and rename it into place: never a half-written file."""
    part = path + ".part"
    with open(part, "wb") as f:
        write_text_vectors(f, words, vectors, size)
    os.replace(part, path)


def spark_conf(cores, memory, scratch):
    """SparkSession settings: local[N], loopback only, no web UI, scratch files in ``scratch``."""
    return {
        "spark.master": "local[%d]" % cores,
        "spark.app.name": "pyw2v-bench-word2vec",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": memory,
        "spark.local.dir": scratch,
        "spark.sql.warehouse.dir": os.path.join(scratch, "warehouse"),
        "spark.driver.extraJavaOptions": "-Djava.io.tmpdir=" + scratch,
    }


def versions():
    """pyspark's version and the first line of ``java -version``."""
    import pyspark
    java = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        java_version = out.strip().splitlines()[0] if out.strip() else "unknown"
    except OSError as exc:
        java_version = "not found (%s)" % exc
    return [pyspark.__version__, java_version]


def log(msg):
    print("spark_job: " + msg, file=sys.stderr, flush=True)


def train(args, scratch):
    """Fit Word2Vec; returns ({word: vector}, the phases' seconds)."""
    from pyspark.ml.feature import Word2Vec
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import col, split

    times = {}
    t0 = time.perf_counter()
    builder = SparkSession.builder
    for key, value in spark_conf(args.cores, args.memory, scratch).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    times["start"] = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        sentences = spark.read.text(args.train).select(split(col("value"), " ").alias("words"))
        word2vec = Word2Vec(vectorSize=args.size, windowSize=args.window, minCount=args.min_count,
                            maxIter=args.iter, numPartitions=args.partitions, stepSize=args.alpha,
                            maxSentenceLength=args.max_sentence, seed=args.seed,
                            inputCol="words", outputCol="vector")
        model = word2vec.fit(sentences)
        times["fit"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        vectors = {row["word"]: row["vector"].toArray().tolist() for row in model.getVectors().collect()}
        times["vectors"] = time.perf_counter() - t0
    finally:
        t0 = time.perf_counter()
        stop(spark)
        times["stop"] = time.perf_counter() - t0
    return vectors, times


def stop(spark):
    """Stop Spark and wait for its JVM to exit, so that the job's time and peak memory include it."""
    gateway = spark.sparkContext._gateway
    spark.stop()
    proc = getattr(gateway, "proc", None)
    try:
        gateway.shutdown()
    except Exception:  # noqa: BLE001 - the JVM may have gone already; the wait below is what matters
        pass
    if proc is not None:
        if proc.stdin:
            proc.stdin.close()  # the gateway exits when its stdin closes
        proc.wait(timeout=60)


def main(argv):
    args = parse_args(argv)
    if args.versions:
        print("\n".join(versions()))
        return 0
    with tempfile.TemporaryDirectory(prefix="pyw2v-spark-") as scratch:
        vectors, times = train(args, scratch)
    t0 = time.perf_counter()
    counts = count_words(args.train)
    words = frequency_order(list(vectors), counts)
    save_vectors(args.output, words, vectors, args.size)
    times["count+write"] = time.perf_counter() - t0
    log("%d words; seconds: %s" % (len(words), ", ".join("%s %.1f" % kv for kv in times.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
