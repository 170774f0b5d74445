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


@njit(cache=True, fastmath=True)
def _dots3(x, x_row, y, row0, row1, row2, size):
    f0 = F0
    f1 = F0
    f2 = F0
    for c in range(size):
        value = x[x_row, c]
        f0 += value * y[row0, c]
        f1 += value * y[row1, c]
        f2 += value * y[row2, c]
    return f0, f1, f2


@njit(cache=True, inline="always")
def dots(x, x_row, y, rows, n, out, size):
    """``out[k] = x[x_row] . y[rows[k]]`` for ``k < n``, summed in SIMD lanes.

    Three rows per pass: each pass loads ``x[x_row]`` once for three sums, and
    three independent sums hide each other's latency.
    """
    k = 0
    while k + 3 <= n:
        out[k], out[k + 1], out[k + 2] = _dots3(x, x_row, y, rows[k], rows[k + 1], rows[k + 2], size)
        k += 3
    while k < n:
        out[k] = dot_simd(x, x_row, y, rows[k], size)
        k += 1


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


@njit(cache=True, fastmath=True)
def block_dots(x, x_rows, m, y, y_rows, n, out, size):
    """``out[j, k] = x[x_rows[j]] . y[y_rows[k]]`` for ``j < m``, ``k < n``, summed in SIMD lanes.

    Two ``x`` rows by three ``y`` rows per pass: five row loads feed six
    multiply-adds (one ``x`` row by three: four loads for three), and six
    independent sums hide each other's latency. An odd last ``x`` row goes
    through :func:`dots`.
    """
    j = 0
    while j + 2 <= m:
        xa, xb = x_rows[j], x_rows[j + 1]
        k = 0
        while k + 3 <= n:
            r0, r1, r2 = y_rows[k], y_rows[k + 1], y_rows[k + 2]
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
            out[j, k], out[j, k + 1], out[j, k + 2] = a0, a1, a2
            out[j + 1, k], out[j + 1, k + 1], out[j + 1, k + 2] = b0, b1, b2
            k += 3
        while k < n:
            r0 = y_rows[k]
            a0, b0 = F0, F0
            for c in range(size):
                w0 = y[r0, c]
                a0 += x[xa, c] * w0
                b0 += x[xb, c] * w0
            out[j, k], out[j + 1, k] = a0, b0
            k += 1
        j += 2
    if j < m:
        dots(x, x_rows[j], y, y_rows, n, out[j], size)


@njit(cache=True, fastmath=True)
def block_sums(dst, dst_rows, m, src, src_rows, n, coefs, size):
    """``dst[dst_rows[j]] += sum(coefs[j, k] * src[src_rows[k]] for k < n)`` for ``j < m``.

    Two destination rows per pass, with six source rows (then three, two,
    one): a pair of destination rows is read and written once for every six
    source rows, and eight row loads feed twelve multiply-adds. A destination
    row named twice gets both additions, and ``dst`` and ``src`` may be the
    same matrix only if no row is both read and written.
    """
    j = 0
    while j + 2 <= m:
        da, db = dst_rows[j], dst_rows[j + 1]
        k = 0
        while k + 6 <= n:
            _sums_2x6(dst, da, db, src, src_rows, coefs, j, k, size)
            k += 6
        if k + 3 <= n:
            s0, s1, s2 = src_rows[k], src_rows[k + 1], src_rows[k + 2]
            ga0, ga1, ga2 = coefs[j, k], coefs[j, k + 1], coefs[j, k + 2]
            gb0, gb1, gb2 = coefs[j + 1, k], coefs[j + 1, k + 1], coefs[j + 1, k + 2]
            for c in range(size):
                w0, w1, w2 = src[s0, c], src[s1, c], src[s2, c]
                dst[da, c] += ga0 * w0 + ga1 * w1 + ga2 * w2
                dst[db, c] += gb0 * w0 + gb1 * w1 + gb2 * w2
            k += 3
        if k + 2 <= n:
            s0, s1 = src_rows[k], src_rows[k + 1]
            ga0, ga1, gb0, gb1 = coefs[j, k], coefs[j, k + 1], coefs[j + 1, k], coefs[j + 1, k + 1]
            for c in range(size):
                w0, w1 = src[s0, c], src[s1, c]
                dst[da, c] += ga0 * w0 + ga1 * w1
                dst[db, c] += gb0 * w0 + gb1 * w1
            k += 2
        if k < n:
            s0 = src_rows[k]
            ga0, gb0 = coefs[j, k], coefs[j + 1, k]
            for c in range(size):
                w0 = src[s0, c]
                dst[da, c] += ga0 * w0
                dst[db, c] += gb0 * w0
        j += 2
    if j < m:
        add_rows(dst, dst_rows[j], src, src_rows, coefs[j], n, size)


@njit(cache=True, fastmath=True, inline="always")
def _sums_2x6(dst, da, db, src, src_rows, coefs, j, k, size):
    """:func:`block_sums`' pass of two destination rows by source rows ``src_rows[k:k + 6]``."""
    s0, s1, s2 = src_rows[k], src_rows[k + 1], src_rows[k + 2]
    s3, s4, s5 = src_rows[k + 3], src_rows[k + 4], src_rows[k + 5]
    ga0, ga1, ga2 = coefs[j, k], coefs[j, k + 1], coefs[j, k + 2]
    ga3, ga4, ga5 = coefs[j, k + 3], coefs[j, k + 4], coefs[j, k + 5]
    gb0, gb1, gb2 = coefs[j + 1, k], coefs[j + 1, k + 1], coefs[j + 1, k + 2]
    gb3, gb4, gb5 = coefs[j + 1, k + 3], coefs[j + 1, k + 4], coefs[j + 1, k + 5]
    for c in range(size):
        w0, w1, w2, w3, w4, w5 = src[s0, c], src[s1, c], src[s2, c], src[s3, c], src[s4, c], src[s5, c]
        dst[da, c] += (ga0 * w0 + ga1 * w1 + ga2 * w2) + (ga3 * w3 + ga4 * w4 + ga5 * w5)
        dst[db, c] += (gb0 * w0 + gb1 * w1 + gb2 * w2) + (gb3 * w3 + gb4 * w4 + gb5 * w5)
