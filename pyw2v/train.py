"""The training driver: C's TrainModel, from corpus to vectors, as a Python API.

:func:`train` owns the orchestration (vocabulary, tables, initial weights,
the epoch loop and progress) and leaves the word-by-word work to the Numba
kernels in :mod:`pyw2v.training`. :func:`run` is what the ``pyw2v`` command
does: train, then write the vectors or the ``-classes`` list.
"""
import sys
from dataclasses import dataclass

import numpy as np

from . import compile_ahead
from .corpus.budget import corpus_budget, spill_directory
from .corpus.prepare import CorpusSettings, prepare_corpus
from .corpus.vocab import Vocabulary, save_vocab
from .errors import check_readable
from .memory import check_model_fits
from .model.kmeans import kmeans_classes
from .model.text_format import format_text_rows
from .model.vectors import write_vectors_to
from .options import TrainOptions, check_words_to_train
from .output_files import OutputFile, refuse_outputs_over_inputs
from .training.driver import train_epochs


@dataclass
class TrainResult:
    """A trained model: the vocabulary in C's order and C's three weight matrices."""

    vocab: Vocabulary
    syn0: np.ndarray
    syn1: np.ndarray
    syn1neg: np.ndarray
    # With loss=1: each epoch's mean loss per word trained (pyw2v.progress); else None.
    losses: list = None


def train(train_file, out=None, **settings):
    """A :class:`TrainResult` from ``train_file`` with word2vec.c's settings; C's stdout goes to ``out``."""
    client = settings.pop("client", None)
    options = TrainOptions(train=train_file, **settings).validate()
    return _train(options, out or sys.stdout, client=client)


def run(options, out=None, ahead=None):
    """The ``pyw2v`` command: train and write what ``-output`` asks for.

    Outputs are written by :class:`~pyw2v.output_files.OutputFile`, and an
    output that is the same file as an input is refused before any work.
    ``ahead``: the process compiling the loop that the command started
    (:func:`pyw2v.compile_ahead.start_early`), or None to start one here.
    """
    refuse_outputs_over_inputs(
        {"-output": options.output, "-save-vocab": options.save_vocab},
        {"-train": options.train, "-read-vocab": options.read_vocab},
    )
    # Fail now, not after hours of work, if an output cannot be written.
    if options.save_vocab:
        OutputFile(options.save_vocab).discard()
    if not options.output:
        # Like C, a run without -output only builds (and saves) the vocabulary.
        _train(options, out or sys.stdout, fit=False)
        return
    with OutputFile(options.output) as output:
        result = _train(options, out or sys.stdout, ahead=ahead)
        if options.classes:
            labels = kmeans_classes(result.syn0, options.classes)
            lines = zip(result.vocab.words, labels.tolist())
            output.write(b"".join(b"%s %d\n" % line for line in lines))
        else:
            write_vectors_to(output, result.vocab.words, result.syn0, options.binary)


def _load_output_kernel(options):
    """Compile (or load) the output's kernel on a one-row stand-in, while another process compiles the loop."""
    stand_in = np.zeros((1, options.size), dtype=np.float32)
    if options.classes:
        kmeans_classes(stand_in, 1)
    elif not options.binary:
        format_text_rows([b"</s>"], stand_in)


def _train(options, out, fit=True, client=None, ahead=None):
    """C's TrainModel up to the output; without ``fit`` it stops after saving the vocabulary.

    A fitting run first has its training loop compiled by another process,
    if the cache lacks it, while this one reads the corpus (:mod:`pyw2v.compile_ahead`).
    """
    print(f"Starting training using file {options.train}", file=out, flush=True)
    if options.distributed or client is not None:
        from .distributed.driver import train_distributed

        return train_distributed(options, out, fit, client)
    if ahead is not None:
        return _train_with(options, out, fit, ahead)
    with compile_ahead.start(options) if fit else compile_ahead.NOTHING as ahead:
        return _train_with(options, out, fit, ahead)


def corpus_settings(options):
    """What the corpus pass (:mod:`pyw2v.corpus.prepare`) reads of ``options``; a bad ``-tmpdir`` is refused now."""
    if options.tmpdir:
        spill_directory(options.tmpdir)
    return CorpusSettings(
        min_count=options.min_count, threads=options.threads, memory=corpus_budget(options.memory_budget),
        tmpdir=options.tmpdir, debug=options.debug,
    )


def report_vocabulary(options, vocab, out):
    """C's two vocabulary lines (``-debug 1`` and up), and the ``-save-vocab`` file."""
    if options.debug > 0:
        print(f"Vocab size: {vocab.size}", file=out)
        print(f"Words in train file: {vocab.train_words}", file=out, flush=True)
    if options.save_vocab:
        save_vocab(options.save_vocab, vocab)


def check_trainable(options, vocab):
    """Refuse, before any weight is allocated, a run whose word count or model would not fit."""
    check_words_to_train(options, vocab.train_words)
    check_model_fits(options, vocab.size)


def _train_with(options, out, fit, ahead):
    settings = corpus_settings(options)
    if fit:
        # Seconds of compiling on a first run: not before a missing input's one line.
        for path in filter(None, (options.train, options.read_vocab)):
            check_readable(path)
        compile_ahead.compile_kernels_called(options, ahead)
    vocab, corpus = prepare_corpus(options.train, settings, options.read_vocab, encode=fit)
    report_vocabulary(options, vocab, out)
    if not fit:
        return None
    with corpus:  # a corpus over the memory budget maps a temporary file, freed at the end
        check_trainable(options, vocab)
        if options.output:
            _load_output_kernel(options)
        model, losses = train_epochs(options, vocab, corpus, out, ahead)
    return TrainResult(vocab, model.syn0[: vocab.size], model.syn1[: vocab.size], model.syn1neg[: vocab.size], losses)
