"""Helpers shared by several test files (imported, not a pytest conftest)."""
import signal
import subprocess
import sys
import time

from numba import njit

from pyw2v.corpus.encoding import read_id


def c_read_words(data, max_string=100, start=0):
    """C's ReadWord called from byte ``start`` until end of file, each word taken as the C string it is.

    Space, tab and newline end a word, a newline is also the token ``</s>``
    (C pushes it back after a word), CR is skipped, a word keeps its first
    ``max_string - 2`` bytes, the word that runs into end of file is
    dropped, and a word ends at its first NUL.
    """
    tokens, word, pos = [], [], start
    while True:
        if pos == len(data):
            return tokens
        ch = data[pos]
        pos += 1
        if ch == 13:
            continue
        if ch in (32, 9, 10):
            if word:
                tokens.append(bytes(word).split(b"\0")[0])
                word = []
                if ch == 10:
                    pos -= 1  # ungetc
            elif ch == 10:
                tokens.append(b"</s>")
            continue
        if len(word) < max_string - 2:
            word.append(ch)


def _default_signals():
    """Give the child the default SIGINT, SIGTERM and SIGHUP: a shell starts background jobs with SIGINT ignored.

    Python keeps an inherited SIG_IGN (so ``pyw2v ... &`` ignores Ctrl-C, as a
    C program would); run from such a job, a signal test would time out
    instead of testing anything.
    """
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def start_long_training(corpus, directory):
    """``pyw2v`` training for hours on ``corpus`` in ``directory``, returned a second after its training began.

    The caller signals it, and kills it in a ``finally``: a child that
    ignored the signal would train on.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "pyw2v.cli", "-train", str(corpus), "-output", "v.bin", "-threads", "2",
         "-iter", "100000", "-size", "8", "-debug", "1"],
        cwd=directory, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_signals,
    )
    try:
        while "Words in train file" not in process.stdout.readline():  # training is about to start
            assert process.poll() is None
        time.sleep(1.0)
    except BaseException:
        process.kill()
        raise
    return process


@njit
def decode_ids(stream, start=0):
    """The ids of the varint stream from byte ``start`` (an id's first byte) to its end, as a list."""
    out = []
    position = start
    while position < len(stream):
        value, position = read_id(stream, position)
        out.append(value)
    return out
