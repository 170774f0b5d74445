"""The rounds of a run: how many, each one's learning rate and seeds, and the merge of its deltas.

Every epoch, each of the S shards is cut into R consecutive round slices
(R from the corpus size alone). Round r of epoch e trains the S slices r
from the same weights, one task each, and the new weights are the old plus
the S tasks' deltas added in shard order. Nothing here depends on the
workers, so neither does the output.
"""
import numpy as np

from ..training.state import Model

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


def seed(epoch, round_, shard, rounds, shards):
    """The random seed of a slice: a function of (epoch, round, shard) only, never zero."""
    k = (epoch * rounds + round_) * shards + shard + 1
    z = (k * _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) or 1


def merge(weights, *results):
    """The weights after a round: ``weights`` plus each slice's row deltas, added in shard order."""
    merged = [matrix.copy() for matrix in weights]
    for result in results:
        for matrix, (rows, values) in zip(merged, result.deltas):
            if rows is None:
                matrix += values
            else:
                matrix[rows] += values  # rows are distinct within one delta
    return Model(*merged)


def delta_bytes(result):
    """Bytes of one slice's deltas as sent over the network (rows and values)."""
    return sum((0 if rows is None else rows.nbytes) + values.nbytes for rows, values in result.deltas)


def slice_stats(result):
    """What the driver needs of a slice's result: (words read, (loss, words trained), delta bytes)."""
    return result.words, result.loss, delta_bytes(result)
