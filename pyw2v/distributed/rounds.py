"""The rounds of a run: how many, each one's learning rate and seeds, and the merge of its deltas.

Every epoch, each of the S shards is cut into R consecutive round slices
(R from the corpus size alone). Round r of epoch e trains the S slices r
from the same weights, one task each, and the new weights are the old plus
the S tasks' sparse deltas added in shard order (summed in fixed groups of
consecutive shards first; a row several tasks moved moves by their sum
scaled to what the tasks in sequence would have moved it: :func:`merge`).
In the first epochs the shards are grouped into chains (:func:`chains`),
each one task training its slices one after another. Nothing here depends
on the workers, so neither does the output.
"""
from collections import namedtuple

import numpy as np
from numba import njit

# Corpus bytes trained per round, over all shards (some 2.7 million words of
# Wikipedia text): the staleness every shard's delta is computed with.
ROUND_BYTES = 16 << 20
# Skip-gram's rounds: it trains each word window + 1 times (once per context word), so a quarter of
# CBOW's text is still more compute a round, and its merge loses more to the staleness (wiki100m,
# sg-ns: 31.00 % at 16 MiB, 32.84 % at 4 MiB, 33.89 % at 2 MiB; docs/distributed.md).
SKIP_GRAM_ROUND_BYTES = 4 << 20
# The text at the run's start trained as one chain (:func:`chains`), whatever the rounds' length.
ONE_CHAIN_BYTES = 16 << 20
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def round_bytes(cbow):
    """The corpus bytes of a round, over all shards: :data:`ROUND_BYTES`, or :data:`SKIP_GRAM_ROUND_BYTES`."""
    return ROUND_BYTES if cbow else SKIP_GRAM_ROUND_BYTES


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


def chains(epoch, round_, rounds, shards, round_bytes=ROUND_BYTES):
    """How many chains round ``round_`` of epoch ``epoch`` trains side by side: 1, then 2, 4, ... up to ``shards``.

    A chain is a run of consecutive shards whose slices are trained one
    after another, each from the weights the previous one left; the
    chains' deltas are merged as the slices' are when every slice is its
    own chain. The run's first :data:`ONE_CHAIN_BYTES` of text (its first
    round, when rounds are that long) is one chain; after it, epoch e has
    min(shards, 2^(e+1)) chains. From C's random start, slices trained side
    by side break its symmetry each their own way (their deltas agree with
    a sequential run's no better than two runs with other seeds do), and
    the merge of deltas from the same weights loses more the more there
    are; the chains give the model its shape before the shards go their
    own ways. A function of (epoch, round, rounds, shards, the rounds' bytes) only, like the rest.
    """
    if epoch == 0 and round_ < max(1, min(rounds, ONE_CHAIN_BYTES // round_bytes)):
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

# Per matrix, (rows int32 in the order the chains first name them, total float32 [len(rows), size],
# touched int32: how many chains changed each row); stats: the chains' (words read, (loss, words
# trained), delta bytes), summed.
GroupSum = namedtuple("GroupSum", "totals stats")
# A round's merged delta: per matrix, (rows, values) to add to the weights; stats: GroupSum's, and the
# merged delta's bytes (what every worker receives).
Merged = namedtuple("Merged", "deltas stats")


def group_sum(*results):
    """The :class:`GroupSum` of ``results`` (a group of consecutive chains' deltas), added in chain order."""
    totals = [
        _sparse_sum([(rows, values, 1) for rows, values in deltas])
        for deltas in zip(*(result.deltas for result in results))
    ]
    return GroupSum(totals, _summed_stats(slice_stats(result) for result in results))


def merge(saturation, *groups):
    """A round's :class:`Merged` delta: the chains' deltas (summed in :class:`GroupSum` s, in order).

    A row one chain touched moves by its delta, as on one machine (the
    parameter-server rule). A row that k > 1 chains touched moves by the sum
    of their deltas times :func:`sequential_scale` (k, its ``saturation``
    x, one array per matrix): what k chains run one after another would
    have moved it, if each moves a row the fraction 1 - e^(-x) of the way
    to where its updates pull it. A plain sum of such moves overshoots by
    up to k (at 4 or more chains the weights diverge); their mean loses
    the progress of every row that is still far from there.
    """
    deltas = []
    for m, parts in enumerate(zip(*(group.totals for group in groups))):
        rows, total, touched = _sparse_sum(parts)
        shared = np.flatnonzero(touched > 1)
        scale = sequential_scale(touched[shared].astype(np.float64), saturation[m][rows[shared]].astype(np.float64))
        _scale_rows(total, shared, scale.astype(np.float32))
        deltas.append((rows, total))
    merged_bytes = sum(rows.nbytes + values.nbytes for rows, values in deltas)
    return Merged(tuple(deltas), (*_summed_stats(group.stats for group in groups), merged_bytes))


def _sparse_sum(parts):
    """(rows, total, touched) of ``parts``, each (rows, values, touched), their values added in order.

    The rows of one part are distinct. A row's total is the float32 sum of
    its parts' values in the parts' order, as adding them to a matrix of
    zeros would give, and ``touched`` the sum of its parts' counts; rows
    come in the order the parts first name them.
    """
    slot = np.full(max([int(part[0].max()) + 1 for part in parts if len(part[0])], default=0), -1, dtype=np.int32)
    most = min(sum(len(part[0]) for part in parts), len(slot))  # the rows are distinct and below len(slot)
    size = parts[0][1].shape[1]
    rows = np.empty(most, dtype=np.int32)
    total = np.empty((most, size), dtype=np.float32)
    touched = np.empty(most, dtype=np.int32)
    count = 0
    for part_rows, values, part_touched in parts:
        counts = np.broadcast_to(np.asarray(part_touched, dtype=np.int32), part_rows.shape)
        count = _add_part(slot, rows, total, touched, count, part_rows, values, np.ascontiguousarray(counts))
    return rows[:count], total[:count], touched[:count]


@njit(cache=True)
def _add_part(slot, rows, total, touched, count, part_rows, values, part_touched):
    """Add one part's rows into (rows, total, touched)[:count], ``slot`` mapping a row to its place; the new count."""
    for j in range(len(part_rows)):
        row = part_rows[j]
        at = slot[row]
        if at < 0:
            at = count
            slot[row] = at
            rows[at] = row
            touched[at] = 0
            for c in range(total.shape[1]):
                total[at, c] = 0.0
            count += 1
        touched[at] += part_touched[j]
        for c in range(total.shape[1]):
            total[at, c] += values[j, c]
    return count


@njit(cache=True)
def _scale_rows(total, rows, scale):
    """``total[rows[j]] *= scale[j]``, in place."""
    for j in range(len(rows)):
        for c in range(total.shape[1]):
            total[rows[j], c] *= scale[j]


def _summed_stats(stats):
    words, loss, loss_words, delta = 0, 0.0, 0.0, 0
    for (slice_words, (slice_loss, slice_loss_words), slice_delta) in stats:
        words, loss, loss_words = words + slice_words, loss + slice_loss, loss_words + slice_loss_words
        delta += slice_delta
    return words, (loss, loss_words), delta


def sequential_scale(k, x):
    """(1 - e^(-kx)) / (k (1 - e^(-x))): the factor that turns k chains' summed moves of a row into a sequence's.

    Model: each of a chain's updates of a row pulls it a little towards a
    target, so a chain's text moves it the fraction 1 - r of the way, with
    r = e^(-x). k chains from the same start each move it 1 - r of the
    way; k chains one after another would have moved it 1 - r^k of it.
    So the sum is scaled by (1 - r^k) / (k (1 - r)): 1 as x goes to 0 (a
    row few updates touch: the sum), 1/k as x grows (a saturated row: the
    mean), and never more than the whole way for any x.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.expm1(-k * x) / (k * np.expm1(-x))
    return np.where(x > 0, scale, 1.0)


# How much of the way to its target one update at rate alpha moves a row, per unit of alpha: the
# rows' contraction is alpha x sigmoid' x the other side's squared norm, which grows with training;
# one constant fitted on the 30 MB sample of docs/distributed.md (cbow-ns at 8 shards: 0.1, 0.3 and
# 1.0 gave 8.28, 8.79 and 7.60 %; the former rule, the mean for rows saturated at 1.0: 8.08 %).
CONTRACTION = 0.3


def saturation(shares, alpha, chain_words):
    """Per matrix, each row's x of :func:`sequential_scale`: :data:`CONTRACTION` x ``alpha`` x its expected updates.

    ``shares``: per matrix, each row's expected updates per word trained
    (:func:`update_shares`); ``chain_words``: the words of one chain's text.
    """
    return tuple((CONTRACTION * np.float64(alpha) * chain_words * share).astype(np.float32) for share in shares)


def update_shares(counts, negative, hs, tree, cbow, window):
    """Per matrix (syn0, syn1, syn1neg), each row's expected updates per word of the corpus.

    syn0: the word's own frequency; syn1neg: the target's row, plus
    ``negative`` draws from the unigram^0.75 distribution; syn1: every node
    on the target's Huffman path. Skip-gram makes every update once per
    (word, context word) pair, and a word has ``window + 1`` context words
    on average (C draws ``b`` from 0 to window - 1 and takes window - b on
    each side), so its shares are that many times CBOW's. (CBOW also adds
    its ``neu1e`` to every context row, but counting that cost accuracy
    under the merge's former rule: 6.85 % against 8.07 % on the 30 MB
    sample of docs/distributed.md; skip-gram's count took sg-ns from 4.96 %
    to 7.57 %.)
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
    return sum(rows.nbytes + values.nbytes for rows, values in result.deltas)


def slice_stats(result):
    """What the driver reports of a chain's result: (words read, (loss, words trained), delta bytes)."""
    return result.words, result.loss, delta_bytes(result)
