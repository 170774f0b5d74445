"""compute-accuracy.c's reading of questions-words.txt, as a stream of events.

C reads whitespace-separated tokens with ``scanf("%s")`` and tests ``feof``
after each read; a section ends at a ``:`` token, an ``EXIT`` token or the
end of input. Reproducing that loop token for token keeps C's quirks: an
empty section still reports ``(0 / 1)``, the section name itself is not
upper-cased, and a failed read leaves the previous token in its buffer.

word2vec's two question sets ship with pyw2v as package data
(``pyw2v/data``, Apache-2.0, see the README there).
"""
import re
from importlib import resources

BUNDLED = ("questions-words.txt", "questions-phrases.txt")

_TOKEN = re.compile(rb"\S+")


class _TokenReader:
    """``scanf("%s", buffer)`` plus ``feof(stdin)`` over bytes already read."""

    def __init__(self, data):
        self._tokens = [(m.group(), m.end()) for m in _TOKEN.finditer(data)]
        self._size = len(data)
        self._next = 0
        self._buffers = {}
        self.eof = False

    def read(self, buffer):
        if self._next < len(self._tokens):
            token, end = self._tokens[self._next]
            self._next += 1
            # scanf stops at the whitespace after a token; only a token that
            # runs into the end of the input sets the end-of-file flag.
            self.eof = self.eof or end == self._size
            self._buffers[buffer] = token
        else:
            self.eof = True
        return self._buffers.get(buffer, b"")


def question_events(data):
    """Yield ``("end",)``, ``("section", name)`` and ``("question", w1, w2, w3, w4)``.

    Question words are upper-cased (ASCII only, like C's ``toupper``). The
    stream stops after an ``("end",)`` for which no further section name could
    be read.
    """
    reader = _TokenReader(data)
    while True:
        first = reader.read(1).upper()
        if first in (b":", b"EXIT") or reader.eof:
            yield ("end",)
            name = reader.read(1)
            if reader.eof:
                return
            yield ("section", name)
            continue
        rest = [reader.read(n).upper() for n in (2, 3, 4)]
        yield ("question", first, *rest)


def bundled_questions(name="questions-words.txt"):
    """The path of one of word2vec's question files installed with pyw2v."""
    if name not in BUNDLED:
        raise ValueError(f"no bundled question file {name!r} (there are {', '.join(BUNDLED)})")
    return resources.files("pyw2v").joinpath("data", name)
