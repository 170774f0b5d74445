"""The rounds of a run: how many, each one's learning rate and seeds, and the merge of its deltas.

Every epoch, each of the S shards is cut into R consecutive round slices
(R from the corpus size alone). Round r of epoch e trains the S slices r
from the same weights, one task each, and the new weights are the old plus
the S tasks' sparse deltas combined in shard order (in fixed groups of
consecutive shards first; a row several tasks moved moves by their sum
where the moves are independent, by their mean where they agree:
:func:`merge`).
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
# Skip-gram's: its compute per word leaves the cluster time to spare, and a longer start as one chain
# is what its merge lacks (wiki100m, sg-ns, 5 epochs, 8 shards: 34.60 % at 16 MiB, 35.72 % at 64 MiB;
# docs/distributed.md).
SKIP_GRAM_ONE_CHAIN_BYTES = 64 << 20
_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def round_bytes(options):
    """The corpus bytes of a round, over all shards: ``-round-mib``, else :data:`ROUND_BYTES`
    (CBOW) or :data:`SKIP_GRAM_ROUND_BYTES`.

    Shorter rounds merge deltas computed from fresher weights: more
    accurate with negative sampling, and a round's fixed cost (its merge,
    and the wait for it) paid more often (docs/distributed.md).
    """
    if options.round_mib is not None:
        return max(1, int(options.round_mib * (1 << 20)))
    return ROUND_BYTES if options.cbow else SKIP_GRAM_ROUND_BYTES


def one_chain_bytes(options):
    """The corpus bytes at the run's start trained as one chain: :data:`ONE_CHAIN_BYTES` (CBOW) or
    :data:`SKIP_GRAM_ONE_CHAIN_BYTES`."""
    return ONE_CHAIN_BYTES if options.cbow else SKIP_GRAM_ONE_CHAIN_BYTES


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


def chains(epoch, round_, rounds, shards, round_bytes=ROUND_BYTES, one_chain_bytes=ONE_CHAIN_BYTES):
    """How many chains round ``round_`` of epoch ``epoch`` trains side by side: 1, then 2, 4, ... up to ``shards``.

    A chain is a run of consecutive shards whose slices are trained one
    after another, each from the weights the previous one left; the
    chains' deltas are merged as the slices' are when every slice is its
    own chain. The run's first ``one_chain_bytes`` of text (:func:`one_chain_bytes`;
    at least its first round) is one chain; after it, epoch e has
    min(shards, 2^(e+1)) chains. From C's random start, slices trained side
    by side break its symmetry each their own way (their deltas agree with
    a sequential run's no better than two runs with other seeds do), and
    the merge of deltas from the same weights loses more the more there
    are; the chains give the model its shape before the shards go their
    own ways. A function of (epoch, round, rounds, shards, the rounds' and the one chain's bytes)
    only, like the rest.
    """
    if epoch == 0 and round_ < max(1, min(rounds, one_chain_bytes // round_bytes)):
        return 1
    return min(shards, 2 ** (epoch + 1))


def seed(epoch, round_, shard, rounds, shards):
    """The random seed of a slice: a function of (epoch, round, shard) only, never zero."""
    k = (epoch * rounds + round_) * shards + shard + 1
    z = (k * _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) or 1


# A round's chain results are combined in groups of this many consecutive chains, each group on the
# worker that trained its first chain, and the groups' results by the merge: the deltas mostly stay
# where they were made, and the work is shared by the workers. A power of two, so that the groups are
# subtrees of the round's one tree (:func:`combine`); fixed, so the tree never depends on the workers.
GROUP_CHAINS = 4

# How much of what two deltas of a row agree on :func:`_adasum` takes out of their sum: 1 is Adasum's
# rule. Skip-gram's syn1neg takes out more: its rows are trained once per context word, and two chains'
# moves of the noise words' rows compound less than Adasum assumes (sg-ns on wiki100m, 5 epochs,
# 8 shards: 33.65 % at 1, 34.60 / 34.37 / 34.25 % at 1.25 / 1.5 / 1.75; CBOW's syn1neg gains nothing
# from it, 32.66 % against 32.52 / 32.42 % at 1.25 / 1.5: docs/distributed.md).
SKIP_GRAM_SYN1NEG_PROJECTION = 1.25

# Per matrix, (rows int32 in the order the chains first name them, values float32 [len(rows), size]):
# the group's chains combined; stats: the chains' (words read, (loss, words trained), delta bytes), summed.
GroupDelta = namedtuple("GroupDelta", "deltas stats")
# A round's merged delta: per matrix, (rows, values) to add to the weights; stats: GroupDelta's, and the
# merged delta's bytes (what every worker receives).
Merged = namedtuple("Merged", "deltas stats")


def projections_for(cbow):
    """Per matrix of the Model (syn0, syn1, syn1neg), the projection its deltas are combined with."""
    return (1.0, 1.0, 1.0) if cbow else (1.0, 1.0, SKIP_GRAM_SYN1NEG_PROJECTION)


def combine_group(projections, *results):
    """The :class:`GroupDelta` of ``results``, a group of consecutive chains' deltas :func:`combine` d in order.

    ``projections``: per matrix, the run's :func:`projections_for`.
    """
    deltas = _combined(projections, [result.deltas for result in results])
    return GroupDelta(deltas, summed_stats(slice_stats(result) for result in results))


def merge(projections, *groups):
    """A round's :class:`Merged` delta: the groups' results :func:`combine` d in order, as the chains' would be.

    ``projections``: per matrix, the run's :func:`projections_for`.
    """
    deltas = tuple(_combined(projections, [group.deltas for group in groups]))
    return Merged(deltas, (*summed_stats(group.stats for group in groups), delta_bytes(deltas)))


def _combined(projections, parts):
    """Per matrix, its deltas in ``parts`` (per-matrix tuples, in order) :func:`combine` d with its projection."""
    return [combine(list(matrix), projection) for matrix, projection in zip(zip(*parts), projections)]


def combine(deltas, projection=1.0):
    """One matrix's sparse deltas (rows, values), combined pairwise in order by :func:`_adasum`: one tree.

    Level by level, item 2i is combined with item 2i + 1 (an odd last item
    goes up alone): for 8 chains ((0 1)(2 3))((4 5)(6 7)). Combining the
    groups' results (each a subtree of :data:`GROUP_CHAINS` chains) the
    same way gives the same tree, so the same bytes, as combining the
    chains' at once.
    """
    while len(deltas) > 1:
        deltas = [_sparse_adasum(*deltas[i : i + 2], projection) if i + 1 < len(deltas) else deltas[i]
                  for i in range(0, len(deltas), 2)]
    return deltas[0]


def _sparse_adasum(first, second, projection):
    """:func:`_adasum` of two sparse deltas: their rows in the order they first name them."""
    (first_rows, first_values), (second_rows, second_values) = first, second
    slot = np.full(max([int(r.max()) + 1 for r in (first_rows, second_rows) if len(r)], default=0), -1, np.int32)
    most = min(len(first_rows) + len(second_rows), len(slot))  # each one's rows are distinct and below len(slot)
    rows = np.empty(most, dtype=np.int32)
    values = np.empty((most, first_values.shape[1]), dtype=np.float32)
    count = _adasum(slot, first_rows, first_values, second_rows, second_values, rows, values, projection)
    return rows[:count], values[:count]


@njit(cache=True, nogil=True)
def _adasum(slot, first_rows, first, second_rows, second, rows, values, projection):
    """Two chains' deltas of the same weights, combined row by row (Adasum, Maleki et al. 2021); returns the rows.

    A row only one of them moved keeps its delta, as on one machine. A row
    both moved, by a and b, moves by

        (1 - p a.b / (2 |a|^2)) a + (1 - p a.b / (2 |b|^2)) b

    with p = ``projection``. At Adasum's p = 1 that is the sum where the
    two moves are orthogonal (independent steps, as a word's rows get from
    different text), their mean where they are equal (both went the same
    way to where their updates pull the row: the most frequent words'
    rows, and the noise words' rows of syn1neg, which every chain moves
    thousands of times), and between them by how far they agree; a larger
    p shrinks what they agree on further (equal moves give (2 - p) a). So
    the rows that the sum would move too far (and diverge) move about as
    far as one chain, without a model of how many updates saturate a row;
    the dot products are float64, the result float32 (``values``).
    """
    size = first.shape[1]
    count = 0
    for j in range(len(first_rows)):
        slot[first_rows[j]] = count
        rows[count] = first_rows[j]
        for c in range(size):
            values[count, c] = first[j, c]
        count += 1
    for j in range(len(second_rows)):
        row = second_rows[j]
        at = slot[row]
        if at < 0:
            slot[row] = count
            rows[count] = row
            for c in range(size):
                values[count, c] = second[j, c]
            count += 1
            continue
        adasum_row(values[at], second[j], projection)
    return count


@njit(cache=True, nogil=True)
def adasum_row(first, second, projection):
    """One row's two moves combined into ``first`` by :func:`_adasum`'s rule (dot products in float64)."""
    dot, first_norm, second_norm = 0.0, 0.0, 0.0
    for c in range(first.shape[0]):
        a, b = np.float64(first[c]), np.float64(second[c])
        dot += a * b
        first_norm += a * a
        second_norm += b * b
    keep_first = 1.0 - projection * dot / (2.0 * first_norm) if first_norm > 0.0 else 0.0
    keep_second = 1.0 - projection * dot / (2.0 * second_norm) if second_norm > 0.0 else 0.0
    for c in range(first.shape[0]):
        first[c] = np.float32(keep_first * first[c] + keep_second * second[c])


def summed_stats(stats):
    """Chains' or groups' (words read, (loss, words trained), delta bytes), summed in order."""
    words, loss, loss_words, delta = 0, 0.0, 0.0, 0
    for (slice_words, (slice_loss, slice_loss_words), slice_delta) in stats:
        words, loss, loss_words = words + slice_words, loss + slice_loss, loss_words + slice_loss_words
        delta += slice_delta
    return words, (loss, loss_words), delta


def delta_bytes(deltas):
    """Bytes of per-matrix sparse deltas (a chain's, or a round's merged) as sent over the network."""
    return sum(rows.nbytes + values.nbytes for rows, values in deltas)


def slice_stats(result):
    """What the driver reports of a chain's result: (words read, (loss, words trained), delta bytes)."""
    return result.words, result.loss, delta_bytes(result.deltas)
