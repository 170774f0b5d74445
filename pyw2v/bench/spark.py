"""Spark MLlib's Word2Vec as a system of the benchmark: its corpus of sentences and its command.

Spark's users give Word2Vec a DataFrame of sentences, one a line of text. A
text8-style corpus is one line of millions of words, so the harness first cuts
it into sentences of at most 1,000 words (word2vec.c's MAX_SENTENCE_LENGTH),
once, into the cache (outside the jobs' time). The job itself
(``spark_job.py``) runs in the interpreter given by ``--spark-python``, an
environment with pyspark, never pyw2v's.
"""
import os
import subprocess

from .common import log

SENTENCE_WORDS = 1000  # word2vec.c's MAX_SENTENCE_LENGTH
JOB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spark_job.py")
_SPACE = b" \t\n\r\x0b\x0c"  # what bytes.split() splits on


def cut_sentences(src, dst, max_words=SENTENCE_WORDS, chunk=1 << 22):
    """Copy the words of binary stream ``src`` to ``dst``, at most ``max_words`` a line.

    Words are what ``bytes.split()`` gives (runs of ASCII whitespace). An end of
    line in ``src`` ends a sentence; a line of more than ``max_words`` words is
    cut into sentences of ``max_words`` and a shorter last one. Lines without
    words are dropped. Words are joined by one space and each sentence ends
    with ``\\n``. Returns the number of sentences written.
    """
    pending = []  # words of the open sentence
    written = 0
    tail = b""
    while True:
        block = src.read(chunk)
        data = tail + block
        if block:
            # the last word may go on in the next block: keep it for then
            end = max(data.rfind(bytes([c])) for c in _SPACE)
            if end < 0:
                tail = data
                continue
            data, tail = data[:end + 1], data[end + 1:]
        for index, line in enumerate(data.split(b"\n")):
            if index:
                written += _flush(dst, pending)
                pending = []
            words = line.split()
            start = 0
            while start < len(words):
                room = max_words - len(pending)
                pending.extend(words[start:start + room])
                start += room
                if len(pending) == max_words:
                    written += _flush(dst, pending)
                    pending = []
        if not block:
            return written + _flush(dst, pending)


def _flush(dst, words):
    if not words:
        return 0
    dst.write(b" ".join(words) + b"\n")
    return 1


def sentence_file(train, cache_dir, max_words=SENTENCE_WORDS):
    """The path of ``train`` cut into sentences (see :func:`cut_sentences`), made once in ``cache_dir``."""
    stem, ext = os.path.splitext(os.path.basename(train))
    path = os.path.join(cache_dir, "%s.sentences%d%s" % (stem, max_words, ext or ".txt"))
    if not (os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(train)):
        log("cutting %s into sentences of at most %d words -> %s" % (train, max_words, path))
        with open(train, "rb") as src, open(path + ".part", "wb") as dst:
            cut_sentences(src, dst, max_words)
        os.replace(path + ".part", path)
    return path


def spark_command(args, partitions, sentences, output):
    """The argv of one Spark job: local[--threads], ``partitions`` partitions."""
    return [args.spark_python, JOB, "--train", sentences, "--output", output,
            "--cores", str(args.threads), "--partitions", str(partitions),
            "--size", str(args.size), "--window", str(args.window),
            "--min-count", str(args.min_count), "--iter", str(args.iter),
            "--memory", args.spark_memory]


def spark_versions(python):
    """(pyspark version, Java version) as the job's interpreter sees them, or why not."""
    try:
        done = subprocess.run([python, JOB, "--versions"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "unknown (%s)" % exc, "unknown"
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or len(lines) != 2:
        err = done.stderr.strip().splitlines()
        return "unknown (%s)" % (err[-1] if err else "exit %d" % done.returncode), "unknown"
    return lines[0], lines[1]
