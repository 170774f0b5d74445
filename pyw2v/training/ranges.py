"""Where a thread's next words come from: C's fixed slices, or a shared queue of parts.

:class:`~.variants.FixedSlices` is C's scheme: thread ``t`` reads from byte
``starts[t]`` (the varint stream's image of C's ``file_size / threads * t``)
until it has read more than ``train_words / threads`` words or reaches the
end, drops the sentence it was reading then, and starts its next epoch at
the same place. Its word counters restart with each epoch, as C's do.

:class:`~.variants.SharedQueue` (``-fast 1``) cuts the stream into parts of
about :data:`PART_BYTES` at id boundaries, and the parts into one *lane* per
thread (C's slices). The work items are (epoch, part), ordered so that
consecutive items come from different lanes: the parts trained at the same
moment are as far apart in the text as C's slices. A thread takes the next
item with an atomic fetch-and-add, so the threads finish within one part of
each other instead of waiting for the slowest slice. A part's last sentence
is trained (it ends at the part's end), its word counters run on across
parts, and an empty sentence draws nothing. With one thread the items run
in reading order, deterministically.
"""
import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .dispatch import by_marker
from .state import CURSOR_FIELDS, Cursor, thread_rows
from .tables import lcg_next
from .variants import FixedSlices, SharedQueue

# About 160k words of Wikipedia text, some 0.2 s of one thread's work: the
# threads' finishing times differ by about that, and a part boundary (which
# ends a sentence early) comes once per 160 of C's 1000-word sentences.
PART_BYTES = 1 << 18


def new_cursors(threads):
    """Every thread's :class:`~pyw2v.training.state.Cursor`, zero, each on cache lines of its own."""
    return thread_rows(threads, (CURSOR_FIELDS,), np.int64)


def fixed_slices(stream, threads):
    """C's slices of ``stream`` (ids, starts, first_words), and each thread's cursor at its start."""
    cursors = new_cursors(threads)
    cursors[:, Cursor._fields.index("pos")] = stream.starts
    cursors[:, Cursor._fields.index("end")] = len(stream.ids)
    cursors[:, Cursor._fields.index("first_pending")] = stream.first_words >= 0
    return FixedSlices(stream.ids, stream.starts, stream.first_words), cursors


def shared_queue(ids, threads, part_bytes=PART_BYTES):
    """The parts of stream ``ids`` in one lane per thread, and cursors that hold no part yet."""
    per_lane = max(1, -(-len(ids) // (threads * part_bytes)))
    queue = SharedQueue(ids, part_offsets(ids, threads * per_lane), threads, np.zeros(1, dtype=np.int64))
    return queue, new_cursors(threads)


@njit(cache=True)
def part_offsets(ids, parts):
    """``parts + 1`` nondecreasing offsets, each the start of an id (or the end)."""
    offsets = np.empty(parts + 1, dtype=np.int64)
    for part in range(parts + 1):
        position = len(ids) * part // parts
        # A byte follows a complete id when the byte before it has no continuation bit.
        while 0 < position < len(ids) and ids[position - 1] >= 128:
            position += 1
        offsets[part] = position
    return offsets


@njit(cache=True)
def item_part(item, parts, lanes):
    """The part trained by ``item``: items cycle through the lanes, each lane in reading order."""
    step = item % parts
    return (step % lanes) * (parts // lanes) + step // lanes


@intrinsic
def fetch_add(typingctx, array, index, value):
    """Atomically add ``value`` to ``array[index]`` (int64) and return the old value."""
    if not (isinstance(array, types.Array) and array.dtype == types.int64):
        return None
    signature = types.int64(array, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, data, [args[1]])
        return builder.atomic_rmw("add", pointer, args[2], "seq_cst")

    return signature, codegen


@njit(cache=True)
def _slice_exhausted(source, pos, end):
    return False  # a slice ends by its word count or at the stream's end (ends_range)


@njit(cache=True)
def _part_exhausted(source, pos, end):
    return pos >= end


@njit(cache=True)
def _next_epoch(source, t, settings, epoch):
    following = epoch + 1
    return following < settings.iterations, source.starts[t], len(source.ids), np.int64(source.first_words[t] >= 0), following


@njit(cache=True)
def _next_item(source, t, settings, epoch):
    parts = len(source.offsets) - 1
    item = fetch_add(source.next_item, 0, 1)
    part = item_part(item, parts, source.lanes)
    if item >= parts * settings.iterations:
        return False, np.int64(0), np.int64(0), np.int64(0), epoch
    return True, source.offsets[part], source.offsets[part + 1], np.int64(0), item // parts


@njit(cache=True)
def _slice_first_word(source, t):
    return np.int64(source.first_words[t])


@njit(cache=True)
def _no_first_word(source, t):
    return np.int64(-1)


@njit(cache=True)
def _slice_ends(source, at_end, word_count, share):
    return at_end or word_count > share


@njit(cache=True)
def _part_never_ends(source, at_end, word_count, share):
    return False


@njit(cache=True)
def _draw_stale_window(source, next_random):
    # C goes on to "train" the stale sen[0] of an empty sentence: no context
    # word exists, so all that happens is the window draw.
    return lcg_next(next_random)


@njit(cache=True)
def _no_draw(source, next_random):
    return next_random


# range_exhausted(source, pos, end): must the thread take a new range before reading?
range_exhausted = by_marker("range_exhausted", {FixedSlices: _slice_exhausted, SharedQueue: _part_exhausted})
# next_range(source, t, settings, epoch) -> (found, pos, end, first_pending, epoch)
next_range = by_marker("next_range", {FixedSlices: _next_epoch, SharedQueue: _next_item})
# first_word(source, t): the word read before the stream when a range starts inside a word, or -1.
first_word = by_marker("first_word", {FixedSlices: _slice_first_word, SharedQueue: _no_first_word})
# ends_range(source, at_end, word_count, share): C's end of a slice's epoch, the sentence just read dropped.
ends_range = by_marker("ends_range", {FixedSlices: _slice_ends, SharedQueue: _part_never_ends})
# empty_sentence(source, next_random): the random state after a sentence that kept no word.
empty_sentence = by_marker("empty_sentence", {FixedSlices: _draw_stale_window, SharedQueue: _no_draw})
