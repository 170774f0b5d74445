"""Borrowed arrays: the same memory, shape and strides, with no reference count."""
from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from pyw2v.borrow import borrowed

Pair = namedtuple("Pair", "matrix scale column")


@intrinsic
def _counted(typingctx, array):
    """Whether ``array`` carries a reference count (a non-null meminfo)."""

    def codegen(context, builder, signature, args):
        meminfo = context.make_array(signature.args[0])(context, builder, args[0]).meminfo
        return cgutils.is_not_null(builder, meminfo)

    return types.boolean(array), codegen


@njit
def _fill_borrowed(pair, extra):
    lent = borrowed((pair, extra))
    lent_pair, (lent_extra, label) = lent
    rows, columns = lent_pair.matrix.shape
    for i in range(rows):
        for j in range(columns):
            lent_pair.matrix[i, j] = 10 * i + j
    for k in range(lent_pair.column.shape[0]):
        lent_pair.column[k] = k * lent_pair.scale
    lent_extra[:] = label
    counted = (
        _counted(pair.matrix), _counted(lent_pair.matrix), _counted(lent_pair.column), _counted(lent_extra)
    )
    return counted, lent_pair.scale, lent_pair.matrix.shape, lent_pair.column.strides


def test_borrowed_arrays_are_the_callers_arrays_without_a_count():
    matrix = np.zeros((3, 5), dtype=np.float32)
    backing = np.zeros((4, 6), dtype=np.float64)
    column = backing[:, 2]  # strided: the strides must come across too
    extra = np.zeros(7, dtype=np.int64)
    counted, scale, shape, strides = _fill_borrowed(Pair(matrix, 2.5, column), (extra, 9))
    assert counted == (True, False, False, False)
    assert scale == 2.5 and shape == (3, 5) and strides == (48,)
    np.testing.assert_array_equal(matrix, 10 * np.arange(3)[:, None] + np.arange(5))
    np.testing.assert_array_equal(column, 2.5 * np.arange(4))
    assert np.count_nonzero(backing) == 3  # only the column (its first value is 0) was written
    np.testing.assert_array_equal(extra, 9)
