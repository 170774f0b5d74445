"""The training text: unpacked, cut to a prefix, and its words counted (in a child process)."""
import collections
import gzip
import json
import os
import shutil
import subprocess
import sys

from .common import HARNESS, log


def prepare_corpus(corpus, prefix_bytes, cache_dir):
    """Return the path of the plain-text training file, creating it if needed.

    A .gz corpus is unpacked once into cache_dir; with prefix_bytes the first
    N bytes are cut into their own file (a text8-style one-line corpus, so a
    plain byte cut, as the parity bundle's wiki10m was made).
    """
    os.makedirs(cache_dir, exist_ok=True)
    base = os.path.basename(corpus)
    if base.endswith(".gz"):
        plain = os.path.join(cache_dir, base[:-3])
        if not _fresh(plain, corpus):
            log("unpacking %s -> %s" % (corpus, plain))
            with gzip.open(corpus, "rb") as src, open(plain + ".part", "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
            os.replace(plain + ".part", plain)
    else:
        plain = os.path.abspath(corpus)
    if not prefix_bytes or prefix_bytes >= os.path.getsize(plain):
        return plain
    stem, ext = os.path.splitext(os.path.basename(plain))
    cut = os.path.join(cache_dir, "%s.first%d%s" % (stem, prefix_bytes, ext))
    if not _fresh(cut, plain):
        with open(plain, "rb") as src, open(cut + ".part", "wb") as dst:
            dst.write(src.read(prefix_bytes))
        os.replace(cut + ".part", cut)
    return cut


def _fresh(path, source):
    """True if path exists and is not older than source."""
    return (os.path.exists(path)
            and os.path.getmtime(path) >= os.path.getmtime(source))


def corpus_stats(path, min_count, cache_dir):
    """Token and vocabulary counts of the training file (cached as JSON).

    Counted in a child process so that the parent stays small (see the
    module docstring). train_words is the number of tokens whose word occurs
    at least min_count times: what word2vec.c reports as "Words in train
    file" and what one epoch processes before subsampling.
    """
    st = os.stat(path)
    key = "%s|%d|%d|%d" % (os.path.abspath(path), st.st_size,
                           int(st.st_mtime), min_count)
    cache = os.path.join(cache_dir, "corpus-stats.json")
    table = {}
    if os.path.exists(cache):
        with open(cache) as f:
            table = json.load(f)
    if key not in table:
        log("counting words in %s" % path)
        out = subprocess.run([sys.executable, HARNESS,
                              "_corpus-stats", path, str(min_count)],
                             check=True, capture_output=True, text=True).stdout
        table[key] = json.loads(out)
        with open(cache + ".part", "w") as f:
            json.dump(table, f, indent=1)
        os.replace(cache + ".part", cache)
    return table[key]


def count_words_main(argv):
    """Hidden subcommand: print token/vocab counts of a file as JSON."""
    path, min_count = argv[0], int(argv[1])
    counts = collections.Counter()
    tail = b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 24)
            if not chunk:
                break
            chunk = tail + chunk
            cut = max(chunk.rfind(b" "), chunk.rfind(b"\n"), chunk.rfind(b"\t"))
            if cut < 0:
                tail = chunk
                continue
            counts.update(chunk[:cut].split())
            tail = chunk[cut:]
    counts.update(tail.split())
    kept = [c for c in counts.values() if c >= min_count]
    print(json.dumps({"tokens": sum(counts.values()), "distinct": len(counts),
                      "vocab": len(kept), "train_words": sum(kept)}))
