"""Benchmark pyw2v against gensim (and optionally word2vec.c) on one corpus.

Every system trains on the same text with the same settings. Runs are
alternated round-robin (one run of every system/mode/architecture per
repetition), each job is its own process, and the table reports medians of
wall time, words/s and peak memory, plus analogy accuracy. The result is
printed and written as Markdown to ``reference_outputs/bench/<name>.md``,
with a picture of the wall times beside it (``<name>.png``, when matplotlib
is installed).

Run it as ``python -m pyw2v.bench`` or ``bin/bench`` (see
``docs/performance.md``)::

    bin/bench --prefix-bytes 2000000 --repeat 1
    bin/bench --c-binary /path/to/word2vec --arch sg-ns,cbow-ns --scaling

The harness's process imports nothing beyond the standard library, and
never runs in a process that imported pyw2v (whose Numba takes some
150 MiB): Linux charges a process's peak resident set to each child it
starts with vfork+exec, so a lean harness keeps the jobs' peak-memory
figures clean (its own peak is printed in the notes as the floor of every
figure). ``__main__.py`` therefore loads this folder as a package of its own;
the modules import only each other and the standard library.

Modules: ``options`` (command line), ``corpus`` (the training text and its
counts), ``jobs`` (each system's command), ``measure`` (running a job),
``accuracy`` (analogy evaluation), ``runs`` (the loop and medians),
``report`` (Markdown), ``chart`` (the picture), ``cli`` (the whole).
Hidden subcommands, used by the harness itself to run work in processes of
its own: ``_gensim-train``, ``_accuracy``, ``_corpus-stats``, ``_chart``.
"""
