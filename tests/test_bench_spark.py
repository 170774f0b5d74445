"""The benchmark's Spark MLlib system (pyw2v/bench/spark.py, spark_job.py): its parts without Spark,
a whole harness run with a stand-in interpreter, and one real Spark job when pyspark and Java are there."""
import importlib.util
import io
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_bench import bench

from pyw2v.bench import spark, spark_job
from pyw2v.bench.jobs import job_command, job_list
from pyw2v.bench.options import parse_args
from pyw2v.model.vectors import read_vectors, write_vectors_to

JOB = Path(spark.JOB)


def model_sentences(data, max_words):
    """What cut_sentences must write: each line's words, in runs of max_words."""
    out = []
    for line in data.split(b"\n"):
        words = line.split()
        out.extend(words[i:i + max_words] for i in range(0, len(words), max_words))
    return b"".join(b" ".join(s) + b"\n" for s in out), len(out)


text_bytes = st.lists(st.sampled_from([b"a", b"bb", b"\xc3\xa9", b" ", b"  ", b"\t", b"\n", b"\r\n", b"\n\n"]),
                      max_size=300).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(data=text_bytes, max_words=st.integers(1, 7), chunk=st.integers(1, 40))
def test_cut_sentences_equals_the_model_for_any_block_size(data, max_words, chunk):
    """A word cut by a block boundary stays whole; a newline ends a sentence; no line exceeds max_words."""
    dst = io.BytesIO()
    written = spark.cut_sentences(io.BytesIO(data), dst, max_words, chunk=chunk)
    expected, count = model_sentences(data, max_words)
    assert dst.getvalue() == expected
    assert written == count


def test_a_one_line_corpus_is_cut_into_sentences_of_1000_words(tmp_path):
    corpus = tmp_path / "text8"
    corpus.write_bytes(b" " + b" ".join(b"w%d" % i for i in range(2500)))  # text8 starts with a space
    path = spark.sentence_file(str(corpus), str(tmp_path))
    lines = Path(path).read_bytes().split(b"\n")
    assert [len(line.split(b" ")) for line in lines[:-1]] == [1000, 1000, 500] and lines[-1] == b""
    assert lines[2].split(b" ")[-1] == b"w2499"
    # made once: a second call keeps the file
    os.utime(path, (1e10, 1e10))
    assert spark.sentence_file(str(corpus), str(tmp_path)) == path and os.path.getmtime(path) == 1e10


def test_the_text_writer_writes_what_pyw2v_writes_with_binary_0():
    """The same bytes as word2vec.c's '%lf ' text layout (pyw2v's writer), from the float32 values widened."""
    rng = np.random.default_rng(3)
    matrix = (rng.standard_normal((5, 4)) * [1, 1e-7, 30, 1e3]).astype(np.float32)
    matrix[0, 0], matrix[1, 1] = -0.0, -4e-7  # printf prints the sign of both
    words = ["the", "of", "caf\u00e9", "b", "a"]
    ours = io.BytesIO()
    spark_job.write_text_vectors(ours, words, {w: row.astype(np.float64).tolist() for w, row in zip(words, matrix)}, 4)
    theirs = io.BytesIO()
    write_vectors_to(theirs, [w.encode() for w in words], matrix, binary=False)
    assert ours.getvalue() == theirs.getvalue()
    assert ours.getvalue().startswith(b"5 4\nthe -0.000000 ")


def test_the_text_writer_refuses_a_vector_of_the_wrong_size():
    with pytest.raises(ValueError, match="has 3 values, not 4"):
        spark_job.write_text_vectors(io.BytesIO(), ["a"], {"a": [1.0, 2.0, 3.0]}, 4)


def test_vectors_are_ordered_most_frequent_first_ties_by_first_appearance(tmp_path):
    sentences = tmp_path / "s.txt"
    sentences.write_text("c b a b\nd a b e\nc\n")
    counts = spark_job.count_words(str(sentences))
    assert counts == {"b": 3, "a": 2, "c": 2, "d": 1, "e": 1}
    # Spark hands its vectors in hash order; "x" is a word the count did not see
    assert spark_job.frequency_order(["x", "e", "a", "d", "c", "b"], counts) == ["b", "c", "a", "d", "e", "x"]


def test_the_job_refuses_missing_and_nonsense_options(capsys):
    with pytest.raises(SystemExit):
        spark_job.parse_args(["--train", "t"])
    assert "--train and --output are required" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        spark_job.parse_args(["--train", "t", "--output", "o", "--partitions", "0"])
    assert "--partitions must be at least 1" in capsys.readouterr().err


def test_spark_listens_on_loopback_only_without_ui():
    conf = spark_job.spark_conf(2, "1g", "/tmp/x")
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.ui.enabled"] == "false"


def spark_args(*extra):
    return ["--systems", "pyw2v,spark", "--arch", "sg-hs", "--sample", "0", "--spark-python", "/py", *extra]


def test_options_give_one_spark_job_per_partition_count(monkeypatch):
    monkeypatch.delenv("PYW2V_SPARK_PYTHON", raising=False)
    args = parse_args(spark_args("--spark-partitions", "1,2,4", "--iter", "1", "--threads", "2",
                                 "--pyw2v-workers", "2"))
    args.spark_sentences = "/c/s.txt"
    jobs = job_list(args)
    assert [label for label, _, _ in jobs] == ["pyw2v", "spark, 1 partition", "spark, 2 partitions",
                                               "spark, 4 partitions", "pyw2v -workers 2"]
    cmd = job_command(args, jobs[3][1], "sg-hs", jobs[3][2], "/c/train.txt", "/o/v.txt")
    assert cmd == ["/py", str(JOB), "--train", "/c/s.txt", "--output", "/o/v.txt", "--cores", "2",
                   "--partitions", "4", "--size", "100", "--window", "5", "--min-count", "5",
                   "--iter", "1", "--memory", "4g"]
    workers = job_command(args, jobs[4][1], "sg-hs", jobs[4][2], "/c/train.txt", "/o/v.bin")
    assert workers[-2:] == ["-workers", "2"] and workers[workers.index("-threads") + 1] == "1"
    assert workers[workers.index("-hs") + 1] == "1" and workers[workers.index("-negative") + 1] == "0"


def test_the_spark_python_defaults_to_the_environment(monkeypatch):
    monkeypatch.setenv("PYW2V_SPARK_PYTHON", "/env/python")
    args = parse_args(["--systems", "spark", "--arch", "sg-hs", "--sample", "0"])
    assert args.spark_python == "/env/python" and args.spark_partitions == [1]


@pytest.mark.parametrize("argv, message", [
    (["--systems", "spark", "--arch", "sg-hs", "--sample", "0"], "needs --spark-python PATH"),
    (spark_args()[:3] + ["sg-ns,sg-hs"] + spark_args()[4:], "runs --arch sg-hs only"),
    (spark_args()[:5] + ["1e-3"] + spark_args()[6:], "has no subsampling: give --sample 0"),
    (spark_args("--spark-partitions", "1,two"), "positive whole numbers, not 'two'"),
    (spark_args("--pyw2v-workers", "0"), "positive whole numbers, not '0'"),
])
def test_options_that_cannot_run_spark_end_with_one_line(argv, message, monkeypatch, capsys):
    monkeypatch.delenv("PYW2V_SPARK_PYTHON", raising=False)
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err.strip().splitlines()[-1]


STAND_IN_SPARK = r"""#!/bin/sh
# stands in for the python of a Spark environment: --versions, or write a vector file where --output says
if [ "$2" = "--versions" ]; then echo 9.9.9; echo 'openjdk version "17.0.0"'; exit 0; fi
while [ "$#" -gt 0 ]; do
  case "$1" in
    --output) out="$2"; shift ;;
    --train) echo "$2" > "$(dirname "$0")/train-seen" ;;
  esac
  shift
done
printf '0 2\n' > "$out"
"""


def test_a_harness_run_with_spark_systems_writes_their_rows(tmp_path):
    python = tmp_path / "spark-python"
    python.write_text(STAND_IN_SPARK)
    python.chmod(0o755)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(" ".join(["the cat sat on the mat"] * 400))
    stand_in = "import sys; open(sys.argv[sys.argv.index('-output') + 1], 'wb').write(b'0 1\\n')"
    argv = ["--systems", "pyw2v,spark", "--arch", "sg-hs", "--sample", "0", "--spark-python", python,
            "--spark-partitions", "1,4", "--repeat", "1", "--iter", "1", "--no-accuracy", "--corpus", corpus,
            "--pyw2v-cmd", shlex.join([sys.executable, "-c", stand_in]),
            "--cache-dir", tmp_path / "cache", "--out-dir", tmp_path / "out", "--name", "sp"]
    status, out, err = bench(argv, tmp_path, blocked=["matplotlib"])
    assert status == 0, err
    report = (tmp_path / "out" / "sp.md").read_text()
    assert "| spark, 1 partition | sg-hs | 1 |" in report and "| spark, 4 partitions | sg-hs | 1 |" in report
    assert "(pyspark 9.9.9; openjdk version \"17.0.0\")" in report
    # every run says how busy the shared machine was as it began
    runs = report.split("## Individual runs")[1]
    first_rows = [line for line in runs.splitlines() if line.startswith("| 1 |")]
    assert "| questions seen | load |" in runs and len(first_rows) == 3
    # the job got the corpus cut into sentences, 1,000 words a line (2,400 words here)
    seen = Path((tmp_path / "train-seen").read_text().strip())
    assert seen.parent == tmp_path / "cache"
    assert [len(line.split()) for line in seen.read_text().splitlines()] == [1000, 1000, 400]


def spark_python():
    """An interpreter that has pyspark: this one, else $PYW2V_SPARK_PYTHON; None if neither."""
    if importlib.util.find_spec("pyspark") is not None:
        return sys.executable
    return os.environ.get("PYW2V_SPARK_PYTHON")


@pytest.mark.skipif(spark_python() is None,
                    reason="needs pyspark: in this environment, or the python of one given as $PYW2V_SPARK_PYTHON")
@pytest.mark.skipif(shutil.which("java") is None and not os.environ.get("JAVA_HOME"),
                    reason="needs Java for Spark (java on PATH or $JAVA_HOME)")
def test_a_real_spark_job_writes_a_vector_file_pyw2v_reads(tmp_path, lee_corpus):
    sentences = tmp_path / "lee.sentences"
    with open(lee_corpus, "rb") as src, open(sentences, "wb") as dst:
        spark.cut_sentences(src, dst)
    output = tmp_path / "vec.txt"
    done = subprocess.run([spark_python(), str(JOB), "--train", str(sentences), "--output", str(output),
                           "--cores", "1", "--partitions", "2", "--size", "12", "--min-count", "5",
                           "--iter", "1", "--memory", "1g"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    words, matrix = read_vectors(str(output))
    counts = spark_job.count_words(str(sentences))
    kept = [w for w, c in counts.items() if c >= 5]
    assert sorted(words) == sorted(w.encode() for w in kept)
    assert [counts[w.decode()] for w in words] == sorted((counts[w] for w in kept), reverse=True)
    assert matrix.shape == (len(kept), 12) and np.isfinite(matrix).all() and np.abs(matrix).max() > 0
    assert not output.with_name("vec.txt.part").exists()
    assert sorted(os.listdir(tmp_path)) == ["lee.sentences", "vec.txt"]  # no spark-warehouse, no scratch left
