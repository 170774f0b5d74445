"""Row arithmetic off C's exact path: dot products in SIMD lanes, row sums three rows per pass, prefetching.

C sums a dot product one element after another in float32
(:func:`pyw2v.training.outputs.dot_in_order`). :func:`dot_simd` lets the
compiler split the sum into SIMD lanes and fuse multiply-adds: the result
differs from C's by float32 rounding only, as C's own FMA build does.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

F0 = np.float32(0.0)


@njit(cache=True, fastmath=True)
def dot_simd(left, left_row, right, right_row, size):
    """Row dot product summed in SIMD lanes: fastmath, here only, lets LLVM reassociate the sum."""
    f = F0
    for c in range(size):
        f += left[left_row, c] * right[right_row, c]
    return f


@njit(cache=True, fastmath=True, inline="always")
def row_dots(x, x_row, y, rows, n, out, size):
    """``out[k] = x[x_row] . y[rows[k]]`` for ``k < n``, summed in SIMD lanes.

    Three rows per pass, then one pass of the last two or one: each pass
    loads ``x[x_row]`` once for three sums, and three independent sums hide
    each other's latency. Inlined into :func:`.outputs.train_row`, which
    calls no function (:func:`.outputs.train_block` says why); the steps
    call it through :func:`dots`.
    """
    k = 0
    while k < n:
        r0, r1, r2 = _last_rows(rows, k, n)
        f0 = F0
        f1 = F0
        f2 = F0
        for c in range(size):
            value = x[x_row, c]
            f0 += value * y[r0, c]
            f1 += value * y[r1, c]
            f2 += value * y[r2, c]
        out[k] = f0
        if k + 1 < n:
            out[k + 1] = f1
        if k + 2 < n:
            out[k + 2] = f2
        k += 3


@njit(cache=True, fastmath=True)
def dots(x, x_row, y, rows, n, out, size):
    """:func:`row_dots` compiled apart: several threads' C steps take a hidden row's dot products in one call."""
    row_dots(x, x_row, y, rows, n, out, size)


@njit(cache=True, inline="always")
def add_rows(dst, dst_row, y, rows, coefs, n, size):
    """``dst[dst_row] += sum(coefs[k] * y[rows[k]] for k < n)``, three rows per pass.

    One pass adds three rows, so ``dst[dst_row]`` is loaded and stored a
    third as often as with one axpy per row. Rows are added in groups, so the float sums differ from C's one-by-one
    order by rounding: only the non-exact paths use it.
    """
    k = 0
    while k + 3 <= n:
        g0, g1, g2 = coefs[k], coefs[k + 1], coefs[k + 2]
        row0, row1, row2 = rows[k], rows[k + 1], rows[k + 2]
        for c in range(size):
            dst[dst_row, c] += g0 * y[row0, c] + g1 * y[row1, c] + g2 * y[row2, c]
        k += 3
    while k < n:
        g = coefs[k]
        row = rows[k]
        for c in range(size):
            dst[dst_row, c] += g * y[row, c]
        k += 1


@njit(cache=True, inline="always")
def scatter_rows(dst, rows, coefs, n, x, x_row, size):
    """``dst[rows[k]] += coefs[k] * x[x_row]`` for ``k < n``, three rows per pass.

    The counterpart of :func:`add_rows`: ``x[x_row]`` is loaded once for
    three destination rows. A row named twice gets both additions (each
    element is read after the previous addition to it is stored).
    """
    k = 0
    while k + 3 <= n:
        g0, g1, g2 = coefs[k], coefs[k + 1], coefs[k + 2]
        row0, row1, row2 = rows[k], rows[k + 1], rows[k + 2]
        for c in range(size):
            value = x[x_row, c]
            dst[row0, c] += g0 * value
            dst[row1, c] += g1 * value
            dst[row2, c] += g2 * value
        k += 3
    while k < n:
        g = coefs[k]
        row = rows[k]
        for c in range(size):
            dst[row, c] += g * x[x_row, c]
        k += 1


@intrinsic
def prefetch(typingctx, array, row, column):
    """Ask the CPU to start loading the cache line of ``array[row, column]``.

    LLVM's ``llvm.prefetch`` (read, high locality, data cache): a hint with
    no effect on results. The kernels prefetch the rows of all the noise
    words a position has drawn before they train the first, so those cache
    misses overlap instead of stalling one after another.
    """
    if not (isinstance(array, types.Array) and array.ndim == 2):
        return None
    signature = types.void(array, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        data = context.make_array(array_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, array_type, data, [args[1], args[2]])
        byte_pointer = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        prefetch = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer, i32, i32, i32]), "llvm.prefetch.p0"
        )
        builder.call(prefetch, [builder.bitcast(pointer, byte_pointer), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return signature, codegen


@njit(cache=True)
def prefetch_row(array, row, size):
    """Prefetch the ``size`` floats of ``array[row]``: a cache line every 16 floats."""
    for column in range(0, size, 16):
        prefetch(array, row, column)


@njit(cache=True, fastmath=True, inline="always")
def block_dots(x, x_rows, m, y, y_rows, n, out, size):
    """``out[j, k] = x[x_rows[j]] . y[y_rows[k]]`` for ``j < m``, ``k < n``, summed in SIMD lanes.

    Two ``x`` rows by four ``y`` rows per pass, then one pass of the last
    three, two or one: six row loads feed eight multiply-adds, and eight
    independent sums hide each other's latency. An odd last ``x`` row is
    paired with itself (the copy's sums are not stored). Inlined, like
    :func:`block_sums`, into :func:`.outputs.train_block`, which compiles
    them with its ``fastmath``: the block then calls no function (see there).
    """
    j = 0
    while j < m:
        xa = x_rows[j]
        xb = x_rows[j + 1] if j + 1 < m else xa
        k = 0
        while k + 4 <= n:
            r0, r1, r2, r3 = y_rows[k], y_rows[k + 1], y_rows[k + 2], y_rows[k + 3]
            a0, a1, a2, a3, b0, b1, b2, b3 = F0, F0, F0, F0, F0, F0, F0, F0
            for c in range(size):
                u, v = x[xa, c], x[xb, c]
                w0, w1, w2, w3 = y[r0, c], y[r1, c], y[r2, c], y[r3, c]
                a0 += u * w0
                a1 += u * w1
                a2 += u * w2
                a3 += u * w3
                b0 += v * w0
                b1 += v * w1
                b2 += v * w2
                b3 += v * w3
            out[j, k], out[j, k + 1], out[j, k + 2], out[j, k + 3] = a0, a1, a2, a3
            if j + 1 < m:
                out[j + 1, k], out[j + 1, k + 1], out[j + 1, k + 2], out[j + 1, k + 3] = b0, b1, b2, b3
            k += 4
        if k < n:
            r0, r1, r2 = _last_rows(y_rows, k, n)
            a0, a1, a2, b0, b1, b2 = F0, F0, F0, F0, F0, F0
            for c in range(size):
                u, v = x[xa, c], x[xb, c]
                w0, w1, w2 = y[r0, c], y[r1, c], y[r2, c]
                a0 += u * w0
                a1 += u * w1
                a2 += u * w2
                b0 += v * w0
                b1 += v * w1
                b2 += v * w2
            _store_tail(out, j, k, n, a0, a1, a2)
            if j + 1 < m:
                _store_tail(out, j + 1, k, n, b0, b1, b2)
        j += 2


@njit(cache=True, inline="always")
def _store_tail(out, j, k, n, f0, f1, f2):
    """``out[j, k:k + 3] = f0, f1, f2``, stopping at ``n``."""
    out[j, k] = f0
    if k + 1 < n:
        out[j, k + 1] = f1
    if k + 2 < n:
        out[j, k + 2] = f2


@njit(cache=True, fastmath=True, inline="always")
def block_sums(dst, dst_rows, m, src, src_rows, n, coefs, size):
    """``dst[dst_rows[j]] += sum(coefs[j, k] * src[src_rows[k]] for k < n)`` for ``j < m``.

    Two destination rows per pass, with four source rows, then one pass of
    the last three, two or one: a pair of destination rows is read and
    written once for every four source rows, and six row loads feed eight
    multiply-adds whose eight coefficients stay in registers. An odd last
    destination row takes passes of three source rows alone. A destination
    row named twice gets both additions, and ``dst`` and ``src`` may be the
    same matrix only if no row is both read and written.
    """
    j = 0
    while j + 2 <= m:
        da, db = dst_rows[j], dst_rows[j + 1]
        k = 0
        while k + 4 <= n:
            s0, s1, s2, s3 = src_rows[k], src_rows[k + 1], src_rows[k + 2], src_rows[k + 3]
            ga0, ga1, ga2, ga3 = coefs[j, k], coefs[j, k + 1], coefs[j, k + 2], coefs[j, k + 3]
            gb0, gb1, gb2, gb3 = coefs[j + 1, k], coefs[j + 1, k + 1], coefs[j + 1, k + 2], coefs[j + 1, k + 3]
            for c in range(size):
                w0, w1, w2, w3 = src[s0, c], src[s1, c], src[s2, c], src[s3, c]
                dst[da, c] += (ga0 * w0 + ga1 * w1) + (ga2 * w2 + ga3 * w3)
                dst[db, c] += (gb0 * w0 + gb1 * w1) + (gb2 * w2 + gb3 * w3)
            k += 4
        if k < n:
            s0, s1, s2 = _last_rows(src_rows, k, n)
            ga0, ga1, ga2 = _last_coefs(coefs, j, k, n)
            gb0, gb1, gb2 = _last_coefs(coefs, j + 1, k, n)
            for c in range(size):
                w0, w1, w2 = src[s0, c], src[s1, c], src[s2, c]
                dst[da, c] += ga0 * w0 + ga1 * w1 + ga2 * w2
                dst[db, c] += gb0 * w0 + gb1 * w1 + gb2 * w2
        j += 2
    if j < m:
        da = dst_rows[j]
        k = 0
        while k < n:
            s0, s1, s2 = _last_rows(src_rows, k, n)
            ga0, ga1, ga2 = _last_coefs(coefs, j, k, n)
            for c in range(size):
                dst[da, c] += ga0 * src[s0, c] + ga1 * src[s1, c] + ga2 * src[s2, c]
            k += 3


@njit(cache=True, inline="always")
def _last_rows(rows, k, n):
    """``rows[k:k + 3]``, a missing row repeating ``rows[k]`` (its sum is not stored, or its coefficient is 0)."""
    r0 = rows[k]
    return r0, rows[k + 1] if k + 1 < n else r0, rows[k + 2] if k + 2 < n else r0


@njit(cache=True, inline="always")
def _last_coefs(coefs, j, k, n):
    """``coefs[j, k:k + 3]``, 0 past ``n``."""
    return coefs[j, k], coefs[j, k + 1] if k + 1 < n else F0, coefs[j, k + 2] if k + 2 < n else F0
