"""pyw2v against word2vec.c's reference outputs on the lee corpus, case by case.

The targets in reference_outputs/parity come from the original program built
with and without fused multiply-add (fma/, nofma/). Every case runs with
``-threads 1``, and the README promises byte-identical output to the build
without FMA: the vector (or class) file, the vocabulary file and C's debug
lines must be exactly nofma's.
"""
import shlex

import numpy as np
import pytest
from conftest import REFERENCE

from pyw2v.model.vectors import read_vectors
from pyw2v.options import parse_arguments
from pyw2v.train import run

PARITY = REFERENCE / "parity"
COMMANDS = dict(
    line.split(": ", 1) for line in (PARITY / "fma" / "lee.commands.txt").read_text().splitlines() if line
)


def run_case(name, corpus, workdir, capsys):
    """Run a case's C command line with pyw2v in ``workdir``; returns the printed text."""
    args = shlex.split(COMMANDS[name])[1:]
    args[args.index("-train") + 1] = str(corpus)
    if "-read-vocab" in args:
        at = args.index("-read-vocab") + 1
        args[at] = str(PARITY / "fma" / args[at])
    for flag in ("-output", "-save-vocab"):
        if flag in args:
            at = args.index(flag) + 1
            args[at] = str(workdir / args[at])
    capsys.readouterr()
    run(parse_arguments(args))
    return capsys.readouterr().out


def debug_lines(text):
    return [line for line in text.splitlines() if line.startswith(("Vocab size:", "Words in train file:"))]


def matrix_distance(mine, reference):
    relative_l2 = np.linalg.norm(mine - reference) / np.linalg.norm(reference)
    cosines = (mine * reference).sum(1) / (np.linalg.norm(mine, axis=1) * np.linalg.norm(reference, axis=1))
    return relative_l2, cosines.min()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_case_is_byte_identical_to_c(name, lee_corpus, tmp_path, capsys):
    printed = run_case(name, lee_corpus, tmp_path, capsys)
    assert "-threads 1" in COMMANDS[name]  # the README's promise is for one thread
    vocab_name = f"lee.{name}.vocab"
    if (tmp_path / vocab_name).exists():
        assert (tmp_path / vocab_name).read_bytes() == (PARITY / "nofma" / vocab_name).read_bytes()
    assert debug_lines(printed) == debug_lines((PARITY / "nofma" / f"lee.{name}.stdout").read_text())
    assert len(debug_lines(printed)) == 2
    out_name = f"lee.{name}.out"
    mine, theirs = (tmp_path / out_name).read_bytes(), (PARITY / "nofma" / out_name).read_bytes()
    if mine != theirs and "-classes" not in COMMANDS[name]:
        # Say how far off it is: rounding (an FMA-like change) or behaviour.
        (_, vectors), (_, reference) = read_vectors(tmp_path / out_name), read_vectors(PARITY / "nofma" / out_name)
        pytest.fail(f"{name}: not byte-identical; relative L2 and lowest cosine {matrix_distance(vectors, reference)}")
    assert mine == theirs
