"""Values past what the kernels, the file formats or the machine can hold: one line each, never a traceback."""
import re
import subprocess
import sys

import numpy as np
import pytest

from pyw2v.cli import main
from pyw2v.model.kmeans import kmeans_classes
from pyw2v.tools import word2phrase

CORPUS = b"a b c a b a\nb c a\n"
SMALL = ["-size", "8", "-iter", "1", "-threads", "1", "-min-count", "1", "-debug", "0"]


def with_small(args):
    given = set(args[::2])
    return args + [item for flag, value in zip(SMALL[::2], SMALL[1::2]) if flag not in given for item in (flag, value)]


def one_line_failure(status, stderr):
    assert status == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    (tmp_path / "tiny.txt").write_bytes(CORPUS)
    (tmp_path / "many.txt").write_bytes(b" ".join(b"w%d" % i for i in range(2000)) + b"\n")
    (tmp_path / "huge-count.vocab").write_bytes(b"</s> 1\na 99999999999999999999\n")
    (tmp_path / "sum-past-64-bits.vocab").write_bytes(b"</s> 1\na 9223372036854775807\nb 9223372036854775807\n")
    (tmp_path / "big-counts.vocab").write_bytes(b"</s> 1\na 1099511627776\nb 1099511627776\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["-iter", "99999999999999999999"],
            "-iter must be a positive integer up to 2147483647, not 99999999999999999999",
        ),
        (["-size", "99999999999999999999"], "-size must be a positive integer up to 2147483647"),
        (["-window", "99999999999999999999"], "-window must be a positive integer up to 2147483647"),
        (["-threads", "99999999999999999999"], "-threads must be a positive integer up to 65536"),
        (["-negative", "4294967296"], "-negative must be from 0 to 2147483647"),
        (["-classes", "1" + "0" * 5000], "-classes must be from 0 to 2147483647, not 10000000000000000000...00000"),
        (["-debug", "-2147483649"], "-debug must be from -2147483648 to 2147483647"),
        (["-size", "1_000"], "-size needs an integer, not '1_000'"),
        (["-sample", "nan"], "-sample needs a number, not 'nan'"),
        (["-alpha", "inf"], "-alpha needs a number, not 'inf'"),
        (["-alpha", "1e39"], "-alpha must be at most 3.40282e+38, not 1e+39"),
        (["-sample", "1e400"], "-sample must be a finite number, not 1e400"),
        (
            ["-read-vocab", "huge-count.vocab"],
            "vocabulary huge-count.vocab, line 2: the count is larger than 64 bits hold",
        ),
        (
            ["-read-vocab", "sum-past-64-bits.vocab"],
            "vocabulary sum-past-64-bits.vocab: the counts add up to more than 64 bits hold",
        ),
        (["-read-vocab", "big-counts.vocab", "-iter", "2147483647"], "more words than the training counters hold"),
    ],
)
def test_out_of_range_values_are_one_line(workdir, capsys, args, message):
    status = main(with_small(["-train", "tiny.txt", "-output", "v.txt"] + args))
    line = one_line_failure(status, capsys.readouterr().err)
    assert line.startswith("pyw2v: ") and message in line, line
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith(("v.txt", ".v.txt"))) == []


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["-size", "100000000"],
         r"-size 100000000 needs \d+ GiB for the weights of 2001 words; [\d.]+ [GM]iB available"),
        (["-window", "2147483647"],
         r"-threads 1 -window 2147483647 -negative 5 need \d+ GiB for the threads' buffers; [\d.]+ [GM]iB available"),
    ],
)
def test_a_model_larger_than_memory_is_refused_before_allocating(workdir, args, pattern):
    """Run as a command, so that a failed allocation cannot take the test's process with it."""
    command = [sys.executable, "-m", "pyw2v.cli", *with_small(["-train", "many.txt", "-output", "v.txt"] + args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    line = one_line_failure(result.returncode, result.stderr)
    assert re.fullmatch("pyw2v: " + pattern, line), line
    assert not (workdir / "v.txt").exists()


def c_kmeans(syn0, classes):
    """word2vec.c's k-means written plainly with float32 and C's division by zero (NaN, never a winner)."""
    rows, size = syn0.shape
    labels = [a % classes for a in range(rows)]
    one = np.float32
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(10):
            centroids = np.zeros((classes, size), dtype=np.float32)
            members = [1] * classes
            for word in range(rows):
                for c in range(size):
                    centroids[labels[word], c] += syn0[word, c]
                members[labels[word]] += 1
            for label in range(classes):
                norm = one(0)
                for c in range(size):
                    centroids[label, c] /= one(members[label])
                    norm += centroids[label, c] * centroids[label, c]
                norm = one(np.sqrt(np.float64(norm)))
                for c in range(size):
                    centroids[label, c] /= norm
            for word in range(rows):
                best, best_label = one(-10), 0
                for label in range(classes):
                    x = one(0)
                    for c in range(size):
                        x += centroids[label, c] * syn0[word, c]
                    if x > best:
                        best, best_label = x, label
                labels[word] = best_label
    return labels


@pytest.mark.parametrize(
    "syn0, classes",
    [
        (np.random.default_rng(1).standard_normal((7, 3)).astype(np.float32), 12),  # more classes than words
        (np.ones((6, 4), dtype=np.float32), 3),  # every word joins class 0: the others empty out
        (np.random.default_rng(2).standard_normal((9, 5)).astype(np.float32), 9),
    ],
)
def test_kmeans_matches_c_when_classes_empty_out(syn0, classes):
    assert kmeans_classes(syn0, classes).tolist() == c_kmeans(syn0, classes)


def test_more_classes_than_words_writes_c_classes(workdir, capsys):
    assert main(with_small(["-train", "tiny.txt", "-output", "classes.txt", "-classes", "1000000"])) == 0
    lines = (workdir / "classes.txt").read_bytes().splitlines()
    assert [line.split()[0] for line in lines] == [b"</s>", b"a", b"b", b"c"]
    assert all(0 <= int(line.split()[1]) < 4 for line in lines)


@pytest.mark.parametrize(
    "args, message",
    [
        (["-min-count", "99999999999999999999"], "-min-count must be from -2147483648 to 2147483647"),
        (["-debug", "99999999999999999999"], "-debug must be from -2147483648 to 2147483647"),
        (["-threshold", "nan"], "-threshold needs a number, not 'nan'"),
        (["-threshold", "1e39"], "-threshold must be at most 3.40282e+38, not 1e+39"),
    ],
)
def test_word2phrase_out_of_range_values_are_one_line(workdir, capsys, args, message):
    status = word2phrase.main(["-train", "tiny.txt", "-output", "p.txt"] + args)
    line = one_line_failure(status, capsys.readouterr().err)
    assert line.startswith(f"pyw2v-word2phrase: {message}"), line
    assert not (workdir / "p.txt").exists()
