"""Atomic operations on int64 arrays for the training threads, which share memory without the GIL.

:func:`fetch_add` is LLVM's sequentially consistent ``atomicrmw add``.
The ticket lock built on it (:func:`acquire`, :func:`release`) guards the
rare writes that must not interleave (:mod:`.hot_rows`' merges); the hot
path never takes it.
"""
import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# A ticket lock: [next ticket, ticket being served], its own cache line apart.
TICKET, SERVING = 0, 8


def new_lock():
    """An unlocked ticket lock for :func:`acquire` and :func:`release`."""
    return np.zeros(16, dtype=np.int64)


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
def acquire(lock):
    """Wait for ``lock``'s next turn (first come, first served) and take it."""
    ticket = fetch_add(lock, TICKET, 1)
    # An atomic read (adding 0): a plain load could be hoisted out of the loop.
    while fetch_add(lock, SERVING, 0) != ticket:
        pass


@njit(cache=True, nogil=True)
def release(lock):
    """Hand ``lock`` to the next ticket."""
    fetch_add(lock, SERVING, 1)
