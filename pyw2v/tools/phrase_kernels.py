"""word2phrase.c's two passes over the training text, compiled with Numba.

Pass one (:func:`learn_vocab`) counts every word and every pair of
neighbouring words; :func:`sort_vocab_like_c` applies C's ``SortVocab``;
pass two (:func:`write_phrases`) joins a pair with ``_`` when its score
beats the threshold. All of it works on the raw bytes of the file.
"""
import numpy as np
from numba import njit

from .phrase_table import ENTRIES, add, copy_items, find, hash_bytes, new_table, prune

MAX_STRING = 60  # C's buffer size: words keep at most MAX_STRING - 2 bytes, pairs MAX_STRING - 1
WORD, NEWLINE, END = 0, 1, 2
_PROGRESS_EVERY = 1_000_000


@njit(cache=True)
def read_word(data, pos, word):
    """C's ``ReadWord``: the next token of ``data`` from ``pos`` into ``word``.

    Returns ``(pos, length, kind)``. Space, tab and newline separate words; a
    newline is a token of its own; carriage returns vanish, even inside a
    word; a long word keeps its first 58 bytes. ``END`` means the input ran
    out, and C then drops the partial word it was reading. As C treats the
    word as a C string, it ends at its first NUL byte.
    """
    size = data.shape[0]
    length = 0
    while True:
        if pos >= size:
            return pos, length, END
        ch = data[pos]
        pos += 1
        if ch == 13:
            continue
        if ch == 32 or ch == 9 or ch == 10:
            if length > 0:
                if ch == 10:
                    pos -= 1  # C's ungetc: the newline is the next token
                break
            if ch == 10:
                return pos, 0, NEWLINE
            continue
        word[length] = ch
        length += 1
        if length >= MAX_STRING - 1:
            length -= 1
    for i in range(length):
        if word[i] == 0:
            return pos, i, WORD
    return pos, length, WORD


@njit(cache=True)
def join_pair(first, first_length, second, second_length, pair):
    """C's ``last_word + "_" + word``, cut to ``MAX_STRING - 1`` bytes; returns its length."""
    copy_items(pair, 0, first, first_length)
    pair[first_length] = 95  # "_"
    copy_items(pair, first_length + 1, second, second_length)
    return min(first_length + 1 + second_length, MAX_STRING - 1)


@njit(cache=True)
def _count(table, buffer, length):
    hashed = hash_bytes(buffer, length)
    entry = find(table, buffer, length, hashed)
    if entry == -1:
        table, entry = add(table, buffer, length, hashed)
    table[3][entry] += 1
    return table


@njit(cache=True)
def learn_vocab(data, hash_size, debug):
    """C's ``LearnVocabFromTrainFile``: returns ``(table, train_words, progress)``.

    ``progress`` holds, per million words, the vocabulary size C printed then.
    Quirks kept from C: pairs are counted across line ends (C's ``start``
    flag never skips one), the pair before the first word is ``"_" + word``
    (C leaves that buffer uninitialised; here it is empty), and when the
    vocabulary passes 0.7 of ``hash_size`` entries the rarest are pruned.
    """
    table = new_table(data.shape[0] // 8)
    word = np.empty(MAX_STRING, dtype=np.uint8)
    last = np.empty(MAX_STRING, dtype=np.uint8)
    pair = np.empty(2 * MAX_STRING, dtype=np.uint8)
    sos = np.frombuffer(b"</s>", dtype=np.uint8)
    table, _ = add(table, sos, 4, hash_bytes(sos, 4))  # row 0, count 0, like C
    last_length = 0
    train_words = 0
    min_reduce = 1
    progress = []
    pos = 0
    while True:
        pos, length, kind = read_word(data, pos, word)
        if kind == END:
            break
        if kind == NEWLINE:
            continue
        train_words += 1
        if debug > 1 and train_words % _PROGRESS_EVERY == 0:
            progress.append(table[6][ENTRIES])
        table = _count(table, word, length)
        pair_length = join_pair(last, last_length, word, length, pair)
        copy_items(last, 0, word, length)
        last_length = length
        table = _count(table, pair, pair_length)
        if table[6][ENTRIES] > hash_size * 0.7:
            prune(table, min_reduce)
            min_reduce += 1
    return table, train_words, np.array(progress, dtype=np.int64)


def sort_vocab_like_c(counts, min_count):
    """C's ``SortVocab``: which entries stay findable, and the size C reports.

    C sorts all but row 0 by count (descending; glibc's qsort is a stable
    merge sort here), then walks the rows: a row under ``min_count`` shrinks
    the vocabulary by one instead of being kept, and the walk stops where
    the shrinking size meets it. So the reported size also counts rare rows
    the walk never reached, and if row 0 is rare while no other row is, the
    last row is lost. Both are C's arithmetic, kept on purpose.

    Row ``r`` is walked while ``r`` is below the size left, ``rows - rare
    rows before r``; ``r + rare rows before r`` grows with ``r``, so the
    walked rows are a prefix. Plain NumPy, so word2phrase compiles no sort.
    """
    rows = counts.shape[0]
    order = np.concatenate(([0], np.argsort(-counts[1:], kind="stable") + 1))
    rare = counts[order] < min_count
    rare_before = np.cumsum(rare) - rare
    walked = np.arange(rows) + rare_before < rows
    kept = np.zeros(rows, dtype=np.bool_)
    kept[order[walked & ~rare]] = True
    return kept, rows - int(np.count_nonzero(rare[walked]))


@njit(cache=True, error_model="numpy")
def write_phrases(data, table, kept, train_words, min_count, threshold):
    """C's ``TrainModel`` output pass: returns ``(output bytes, words written)``.

    Each word is written after a space, or after ``_`` when the pair it
    ends scores above ``threshold``. The score is C's float arithmetic:
    ``(pab - min_count) / (float)pa / (float)pb * (float)train_words``.
    """
    counts = table[3]
    # A word costs at most one byte more than it took (its separator).
    out = np.empty(2 * data.shape[0] + 2, dtype=np.uint8)
    used = 0
    word = np.empty(MAX_STRING, dtype=np.uint8)
    last = np.empty(MAX_STRING, dtype=np.uint8)
    pair = np.empty(2 * MAX_STRING, dtype=np.uint8)
    length = 0
    pa = pb = pab = 0
    previous = -1
    written = 0
    threshold = np.float32(threshold)
    pos = 0
    while True:
        copy_items(last, 0, word, length)
        last_length = length
        pos, length, kind = read_word(data, pos, word)
        if kind == END:
            break
        if kind == NEWLINE:
            out[used] = 10
            used += 1
            word[0] = 10  # C's word is now "\n", so the next pair starts "\n_"
            length = 1
            continue
        written += 1
        unknown = False
        entry = _find_kept(table, kept, word, length)
        if entry == -1:
            unknown = True
        else:
            pb = counts[entry]
        if previous == -1:
            unknown = True
        previous = entry
        pair_length = join_pair(last, last_length, word, length, pair)
        entry = _find_kept(table, kept, pair, pair_length)
        if entry == -1:
            unknown = True
        else:
            pab = counts[entry]
        if pa < min_count or pb < min_count:
            unknown = True
        score = np.float32(0.0)
        if not unknown:
            score = (
                np.float32(pab - min_count) / np.float32(pa) / np.float32(pb) * np.float32(train_words)
            )
        if score > threshold:
            out[used] = 95  # "_"
            pb = 0  # a joined word cannot start the next pair
        else:
            out[used] = 32
        copy_items(out, used + 1, word, length)
        used += 1 + length
        pa = pb
    return out[:used], written


@njit(cache=True)
def _find_kept(table, kept, buffer, length):
    entry = find(table, buffer, length, hash_bytes(buffer, length))
    if entry == -1 or not kept[entry]:
        return -1
    return entry
