"""Arrays handed to the training loops without reference counting.

Numba counts references to every array it passes around: each time a loop
takes a row view, binds an array to a new name or hands a tuple of arrays to
a function, it adds one to the array's count, and later subtracts it. Each
count is an atomic ``lock inc``/``lock dec`` on one shared word, tens of
times a word trained: most of a training loop's time when they run (see
``docs/performance.md``). They are gone for an array whose count pointer
(its *meminfo*) is null: Numba's increment and decrement test for null and
return. That is how Numba's own parallel loops see their arrays.

:func:`borrowed` gives a loop such arrays. The caller still holds the real
arrays, with their counts, for the whole call, so borrowing is safe as long
as no borrowed array outlives the call or is returned from it.
"""
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _borrow(context, builder, value_type, value):
    if isinstance(value_type, types.Array):
        array = context.make_array(value_type)(context, builder, value)
        array.meminfo = cgutils.get_null_value(array.meminfo.type)
        array.parent = cgutils.get_null_value(array.parent.type)
        return array._getvalue()
    if isinstance(value_type, types.BaseTuple):
        for index, member_type in enumerate(value_type.types):
            member = builder.extract_value(value, index)
            value = builder.insert_value(value, _borrow(context, builder, member_type, member), index)
    return value


@intrinsic
def borrowed(typingctx, value):
    """``value`` with every array in it (itself, or a member of a (named) tuple) no longer counted.

    Only for arguments of a call that the caller outlives: a borrowed array
    does not keep its memory alive.
    """

    def codegen(context, builder, signature, args):
        result = _borrow(context, builder, signature.args[0], args[0])
        # The result is a new reference for Numba, which would count it: with null meminfos that is a no-op.
        return result

    return value(value), codegen
