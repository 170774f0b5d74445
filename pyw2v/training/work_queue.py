"""``-fast 1`` scheduling: the epochs cut into parts, handed to whichever thread is free.

C gives each thread a fixed slice (a ``1/threads`` share of the file) for
all its epochs, so the job lasts as long as the slowest slice. Slices differ
in work (subsampling keeps more of some text than of other text) and, on a
virtual machine, the CPUs differ in speed from minute to minute: on wiki100m
with two threads one slice ended 2.6-3.5 s before the other (of 95 s).

Here the encoded corpus is cut into parts of about :data:`PART_BYTES` at id
boundaries, and the parts into one *lane* per thread (C's slices). The work
items are (epoch, part), ordered so that consecutive items come from
different lanes: the parts trained at the same moment are as far apart in
the text as C's slices, which keeps the threads off each other's topical
rows. A thread takes the next item with an atomic fetch-and-add on one
shared counter, trains it sentence by sentence, and takes another, so the
threads finish within one part of each other. Each thread keeps C's thread-local state (its LCG seeded
with its number, its word counters, its learning rate from the shared word
count), so this is C's training loop except in three details: who trains which
part; sentences also end at part boundaries, and the sentence being read
when a part ends is trained (C drops the one during which a slice reaches
its end or the end of the file); an empty sentence draws no window. With one thread there is one lane and
the items run in reading order: C's order, and deterministic. With several,
each thread trains its own copies of the most frequent words' rows and
merges them into the shared ones every ``MERGE_WORDS`` words and at
its end (:mod:`pyw2v.training.hot_rows`).
"""
from collections import namedtuple

import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..borrow import borrowed
from ..corpus.encoding import read_id
from .hot_rows import merge_thread_copies, merge_when_due
from .kernels import ALPHA_UPDATE_WORDS, DONE, MAX_SENTENCE_LENGTH, _learning_rate, _twin, train_position
from .simd import F65536, LOW16
from .tables import lcg_next

# About 160k words of Wikipedia text: some 0.2 s of one thread's work, so
# the threads' finishing times differ by about that, and a part boundary
# (which ends a sentence early) comes once per 160 of C's 1000-word sentences.
PART_BYTES = 1 << 18

# offsets: the parts' byte offsets in the stream, and its length last;
# lanes: how many lanes the parts form, each a run of consecutive parts;
# next_item: the one shared counter the threads take items from.
WorkQueue = namedtuple("WorkQueue", "offsets lanes next_item")


def new_work_queue(ids, threads, part_bytes=PART_BYTES):
    """The parts of stream ``ids`` in one lane per thread, each part about ``part_bytes``."""
    per_lane = max(1, -(-len(ids) // (threads * part_bytes)))
    return WorkQueue(part_offsets(ids, threads * per_lane), threads, np.zeros(1, dtype=np.int64))


@njit(cache=True, inline="always")
def item_part(item, parts, lanes):
    """The part trained by ``item``: items cycle through the lanes, each lane in reading order."""
    step = item % parts
    return (step % lanes) * (parts // lanes) + step // lanes


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


@njit(cache=True, nogil=True)
def run_parts(t, model, tree, tables, settings, stream, state, queue):
    """Thread ``t`` trains items from ``queue`` until none is left or ``state.stop[0]`` is set."""
    sen = state.sen[t]
    next_random = state.rng[t]
    alpha = state.alpha[t]
    ids = stream.ids
    parts = len(queue.offsets) - 1
    items = parts * settings.iterations
    word_count = 0
    last_word_count = 0
    merged_at = 0
    finished = 1
    while True:
        if state.stop[0]:
            finished = 0
            break
        item = fetch_add(queue.next_item, 0, 1)
        if item >= items:
            break
        part = item_part(item, parts, queue.lanes)
        pos, end = queue.offsets[part], queue.offsets[part + 1]
        while pos < end and state.stop[0] == 0:
            if word_count - last_word_count > ALPHA_UPDATE_WORDS:
                state.words_done[t] += word_count - last_word_count
                last_word_count = word_count
                alpha = _learning_rate(settings, state.words_done)
                merged_at = merge_when_due(t, model, settings, word_count, merged_at)
            length = 0
            while pos < end:
                word, pos = read_id(ids, pos)
                word_count += 1
                if word == 0:
                    break
                if settings.sample > 0:
                    next_random = lcg_next(next_random)
                    if tables.keep[word] < np.float32(next_random & LOW16) / F65536:
                        continue
                sen[length] = word
                length += 1
                if length >= MAX_SENTENCE_LENGTH:
                    break
            for position in range(length):
                # C checks before every word; the first word's check came before the read.
                if position > 0 and word_count - last_word_count > ALPHA_UPDATE_WORDS:
                    state.words_done[t] += word_count - last_word_count
                    last_word_count = word_count
                    alpha = _learning_rate(settings, state.words_done)
                    merged_at = merge_when_due(t, model, settings, word_count, merged_at)
                next_random = train_position(
                    t, sen, position, length, alpha, next_random, model, tree, tables, settings, state
                )
        if state.stop[0]:
            finished = 0
            break
    state.words_done[t] += word_count - last_word_count
    merge_thread_copies(t, model, settings)
    state.counters[t, DONE] = finished
    state.rng[t] = next_random
    state.alpha[t] = alpha


def _run_all_parts(model, tree, tables, settings, stream, state, queue):
    """One loop per thread, each taking items from the shared queue, its arrays uncounted (:mod:`pyw2v.borrow`)."""
    for t in prange(settings.num_threads):
        run_parts(
            t, borrowed(model), borrowed(tree), borrowed(tables), settings, borrowed(stream), borrowed(state),
            borrowed(queue),
        )


# nogil: the driver runs these in a worker thread and reports progress meanwhile.
run_parts_serial = _twin(_run_all_parts, "_serial", nogil=True)
run_parts_parallel = _twin(_run_all_parts, "_parallel", parallel=True, nogil=True)
