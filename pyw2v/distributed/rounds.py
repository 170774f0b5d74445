"""The rounds of a run: how many, each one's learning rate and seeds, and the merge of its deltas.

Every epoch, each of the S shards is cut into R consecutive round slices
(R from the corpus size alone). Round r of epoch e trains the S slices r
from the same weights, one task each, and the new weights are the old plus
the S tasks' deltas added in shard order (summed in fixed groups of
consecutive shards first). In the first epochs the shards are grouped into
chains (:func:`chains`), each one task training its slices one after
another. Nothing here depends on the workers, so neither does the output.
"""
from collections import namedtuple

import numpy as np

from ..training.loop import Model

# Corpus bytes trained per round, over all shards (some 2.7 million words of
# Wikipedia text): the staleness every shard's delta is computed with.
ROUND_BYTES = 16 << 20
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def round_count(total_bytes, round_bytes=ROUND_BYTES):
    """R: the rounds per epoch for a corpus of ``total_bytes``."""
    return max(1, -(-int(total_bytes) // round_bytes))


def round_alpha(options, train_words, epoch, round_, rounds):
    """C's linear rate at the middle of the round, as a float32 (C's floor at 1e-4 of the start included).

    A round's words lie, in every shard, at the same fraction of the epoch:
    ``(round + 1/2) / rounds``.
    """
    start = np.float32(options.starting_alpha)
    done = train_words * (epoch + (round_ + 0.5) / rounds)
    alpha = start * (np.float32(1) - np.float32(done) / np.float32(options.iter * train_words + 1))
    return max(alpha, np.float32(np.float64(start) * 0.0001))


def chains(epoch, round_, rounds, shards):
    """How many chains round ``round_`` of epoch ``epoch`` trains side by side: 1, then 2, 4, ... up to ``shards``.

    A chain is a run of consecutive shards whose slices are trained one
    after another, each from the weights the previous one left; the
    chains' deltas are merged as the slices' are when every slice is its
    own chain. The run's first round is one chain; after it, epoch e has
    min(shards, 2^(e+1)) chains. From C's random start, slices trained side
    by side break its symmetry each their own way (their deltas agree with
    a sequential run's no better than two runs with other seeds do), and
    the merge of deltas from the same weights loses more the more there
    are; the chains give the model its shape before the shards go their
    own ways. A function of (epoch, round, shards) only, like the rest.
    """
    if epoch == 0 and round_ == 0:
        return 1
    return min(shards, 2 ** (epoch + 1))


def seed(epoch, round_, shard, rounds, shards):
    """The random seed of a slice: a function of (epoch, round, shard) only, never zero."""
    k = (epoch * rounds + round_) * shards + shard + 1
    z = (k * _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) or 1


# A round's chain results are summed in groups of this many consecutive chains, each group on the
# worker that trained its first chain, and the groups' sums added by the merge: the deltas mostly
# stay where they were made, and the summing is shared by the workers. Fixed, so the order in which
# floats are added never depends on the workers.
GROUP_CHAINS = 4

# The sum of a group's deltas, per matrix: (total float32, touched int32: how many chains changed each row).
GroupSum = namedtuple("GroupSum", "totals touched")


def group_sum(weights, *results):
    """The :class:`GroupSum` of ``results`` (a group of consecutive chains' deltas), added in chain order."""
    totals, touched = [], []
    for m, matrix in enumerate(weights):
        total = np.zeros_like(matrix)
        count = np.zeros(len(matrix), dtype=np.int32)
        for result in results if len(matrix) else ():
            rows, values = result.deltas[m]
            if rows is None:
                total += values
                count += values.any(axis=1)
            else:
                total[rows] += values  # rows are distinct within one delta
                count[rows] += 1
        totals.append(total)
        touched.append(count)
    return GroupSum(totals, touched)


def merge(weights, hot, *groups):
    """The weights after a round: ``weights`` plus the chains' deltas (summed in :class:`GroupSum` s, in order).

    A row's deltas are summed (the parameter-server rule: a row one shard
    touched moves as on one machine), except a *hot* row (``hot``, one mask
    per matrix) that several chains touched: it gets their mean. Summed, the
    shards' moves of a row that each of them saturated overshoot by the
    number of shards, and the weights diverge.
    """
    merged = []
    for m, matrix in enumerate(weights):
        if not len(matrix):
            merged.append(matrix.copy())
            continue
        total = groups[0].totals[m].copy()
        touched = groups[0].touched[m].copy()
        for group in groups[1:]:
            total += group.totals[m]
            touched += group.touched[m]
        shared = hot[m] & (touched > 1)
        total[shared] /= touched[shared, None].astype(np.float32)
        total += matrix
        merged.append(total)
    return Model(*merged)


def hot_rows(shares, alpha, slice_words):
    """Rows a slice is expected to saturate: ``alpha`` times their expected updates in a slice is 1 or more.

    ``shares``: per matrix, each row's expected updates per word trained.
    """
    return tuple(np.float64(alpha) * slice_words * share >= 1.0 for share in shares)


def update_shares(counts, negative, hs, tree, cbow, window):
    """Per matrix (syn0, syn1, syn1neg), each row's expected updates per word of the corpus.

    syn0: the word's own frequency; syn1neg: the target's row, plus
    ``negative`` draws from the unigram^0.75 distribution; syn1: every node
    on the target's Huffman path. Skip-gram makes every update once per
    (word, context word) pair, and a word has ``window + 1`` context words
    on average (C draws ``b`` from 0 to window - 1 and takes window - b on
    each side), so its shares are that many times CBOW's. (CBOW also adds
    its ``neu1e`` to every context row, but counting that made more rows
    hot and cost accuracy: 6.85 % against 8.07 % on the 30 MB sample of
    docs/distributed.md; skip-gram's count took sg-ns from 4.96 % to 7.57 %.)
    """
    per_word = 1.0 if cbow else window + 1.0
    counts = np.asarray(counts, dtype=np.float64)
    frequency = counts / counts.sum()
    syn1 = np.zeros(0)
    if hs:
        inside = np.arange(tree.points.shape[1]) < tree.lengths[:, None]
        syn1 = np.zeros(len(counts))
        np.add.at(syn1, tree.points[inside], np.repeat(frequency, tree.lengths))
        syn1 *= per_word
    syn1neg = np.zeros(0)
    if negative:
        power = counts**0.75
        syn1neg = per_word * (frequency + negative * power / power.sum())
    frequency = per_word * frequency
    return frequency, syn1, syn1neg


def delta_bytes(result):
    """Bytes of one chain's deltas (a slice's, in the usual chain of one) as sent over the network."""
    return sum((0 if rows is None else rows.nbytes) + values.nbytes for rows, values in result.deltas)


def slice_stats(result):
    """What the driver needs of a chain's result: (words read, (loss, words trained), delta bytes)."""
    return result.words, result.loss, delta_bytes(result)
