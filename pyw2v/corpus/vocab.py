"""The vocabulary: C's LearnVocabFromTrainFile, SortVocab, SaveVocab and ReadVocab.

Order (SortVocab): the word at id 0 (``</s>``, inserted first) stays first;
the others are sorted by count, descending. glibc's ``qsort`` is a stable
merge sort for arrays of this size, so ties keep their order of first
appearance; ``numpy.argsort(kind="stable")`` does the same. Words counted
fewer than ``min_count`` times are then dropped, except id 0, and
``train_words`` is the sum of the counts kept.
"""
import re
from dataclasses import dataclass

import numpy as np

from ..errors import UserError, open_input
from ..output_files import OutputFile
from .reader import MAX_STRING

MAX_COUNT = 2**63 - 1  # C's long long
_FIELD_SEPARATORS = re.compile(rb"[ \t]+")


@dataclass
class Vocabulary:
    """Words (bytes) in C's order, with their counts."""

    words: list
    counts: np.ndarray

    @property
    def size(self):
        return len(self.words)

    @property
    def train_words(self):
        return int(self.counts.sum())


def sort_order(counts, min_count):
    """Ids in C's SortVocab order, with the words below ``min_count`` removed."""
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.concatenate(([0], 1 + np.argsort(-counts[1:], kind="stable")))
    keep = counts[order] >= min_count
    keep[0] = True
    return order[keep]


def sorted_vocabulary(words, counts, min_count):
    """A :class:`Vocabulary` from unsorted ``words``/``counts`` and the id order used."""
    order = sort_order(counts, min_count)
    return Vocabulary([words[i] for i in order], np.asarray(counts, dtype=np.int64)[order]), order


def save_vocab(path, vocab):
    """C's SaveVocab: ``word count`` lines."""
    with OutputFile(path) as out:
        out.file.write(
            b"".join(b"%s %d\n" % (word, count) for word, count in zip(vocab.words, vocab.counts.tolist()))
        )


def cut_word(word):
    """A word as C keeps it: at most ``MAX_STRING - 2`` bytes (ReadWord), up to its first NUL (a C string)."""
    return word[: MAX_STRING - 2].split(b"\0", 1)[0]


def read_vocab(path, min_count):
    """C's ReadVocab: ``word count`` lines, then SortVocab (sort and min-count again).

    Fields are separated by spaces and tabs, as C's ReadWord separates them
    (not by every byte Python calls whitespace); carriage returns vanish.
    Unlike C, a line that is not a word and a non-negative integer count,
    and counts past 64 bits or adding up past them, are errors rather than
    silently misread entries.
    """
    with open_input(path) as stream:
        try:
            data = stream.read()
        except (OSError, EOFError) as exc:
            raise UserError(f"cannot read vocabulary {path}: {exc}") from None
    words, counts = [], []
    for number, line in enumerate(data.replace(b"\r", b"").split(b"\n"), start=1):
        if not line.strip(b" \t"):
            continue
        fields = [field for field in _FIELD_SEPARATORS.split(line) if field]
        if len(fields) != 2 or not fields[1].isdigit():
            raise UserError(f"vocabulary {path}, line {number}: expected 'word count'")
        count = int(fields[1]) if len(fields[1]) <= 20 else MAX_COUNT + 1
        if count > MAX_COUNT:
            raise UserError(f"vocabulary {path}, line {number}: the count is larger than 64 bits hold")
        words.append(cut_word(fields[0]))
        counts.append(count)
    if not words:
        raise UserError(f"vocabulary {path} is empty")
    if sum(counts) > MAX_COUNT:
        raise UserError(f"vocabulary {path}: the counts add up to more than 64 bits hold")
    return sorted_vocabulary(words, counts, min_count)[0]
