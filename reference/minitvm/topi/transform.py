"""Injective transforms: layout, indexing and selection (TVM's ``include/tvm/topi/transform.h``).

Shapes are static where the semantics need sizes (``reshape``, ``split``, ``strided_slice``).
Indices read from tensors (``take``, ``gather``, ``gather_nd``, ``one_hot``) may be out of
range: ``take`` with ``mode="clip"`` clamps, ``"wrap"`` wraps (floor modulo), and ``"fast"``
reads the raw index, which minitvm's loads define as clamped into range -- so ``"fast"``
equals ``"clip"`` here where TVM's generated code would read out of bounds. ``take``'s default
mode is ``"clip"``, Relay's default in TVM v0.14 (TVM 0.27's TOPI defaults to ``"fast"``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import check_dtype, is_bool
from minitvm.te.operation import reduce_axis
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import ExprLike, PrimExpr, Select, Var, const
from minitvm.tir.op import convert
from minitvm.topi.broadcast import broadcast_shape
from minitvm.topi.utils import compute, get_const_int, get_const_tuple, normalize_axis, simplify

__all__ = [
    "arange",
    "concatenate",
    "expand_dims",
    "flip",
    "gather",
    "gather_nd",
    "matmul",
    "one_hot",
    "repeat",
    "reshape",
    "split",
    "squeeze",
    "stack",
    "strided_slice",
    "take",
    "tile",
    "transpose",
    "where",
]


def transpose(a: Tensor, axes: Sequence[int] | None = None) -> Tensor:
    """``out.shape[i] = a.shape[axes[i]]``; ``axes=None`` reverses the dimensions."""
    n = a.ndim
    perm = (
        list(range(n))[::-1]
        if axes is None
        else [normalize_axis(int(x), n, "transpose") for x in axes]
    )
    if sorted(perm) != list(range(n)):
        raise DiagnosticError(
            f"transpose: axes {list(axes or [])} are not a permutation of {n} axes"
        )

    def body(ax: list[Var]) -> PrimExpr:
        idx: list[PrimExpr] = [convert(0)] * n
        for i, p in enumerate(perm):
            idx[p] = ax[i]
        return a(*idx)

    return compute([a.shape[p] for p in perm], body, "T_transpose", "injective")


def _unravel(flat: PrimExpr, shape: Sequence[int]) -> list[PrimExpr]:
    idx: list[PrimExpr] = []
    for k in range(len(shape) - 1, -1, -1):
        idx.append(simplify(tir_op.floormod(flat, shape[k])) if k > 0 else flat)
        flat = simplify(tir_op.floordiv(flat, shape[k]))
    return idx[::-1]


def _ravel(ax: Sequence[PrimExpr], shape: Sequence[int]) -> PrimExpr:
    flat: PrimExpr = convert(0)
    for i, n in zip(ax, shape, strict=True):
        flat = flat * n + i
    return simplify(flat)


def reshape(a: Tensor, newshape: Sequence[int]) -> Tensor:
    """The elements of ``a`` in row-major order laid out as ``newshape`` (one -1 is inferred)."""
    old = get_const_tuple(a.shape)
    total = 1
    for d in old:
        total *= d
    dims = [int(d) for d in newshape]
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        raise DiagnosticError(f"reshape: invalid new shape {dims}")
    if -1 in dims:
        known = 1
        for d in dims:
            known *= d if d != -1 else 1
        dims[dims.index(-1)] = total // known if known else 0
    size = 1
    for d in dims:
        size *= d
    if size != total:
        raise DiagnosticError(f"reshape: cannot reshape {old} ({total} elements) to {dims}")
    if len(old) == 0:
        return compute(dims, lambda ax: a(), "T_reshape", "injective")

    def body(ax: list[Var]) -> PrimExpr:
        flat = _ravel(ax, dims) if dims else convert(0)
        return a(*_unravel(flat, old))

    return compute(dims, body, "T_reshape", "injective")


def concatenate(a_tuple: Sequence[Tensor], axis: int = 0) -> Tensor:
    """The tensors joined along ``axis``."""
    if not a_tuple:
        raise DiagnosticError("concatenate needs at least one tensor")
    first = a_tuple[0]
    axis = normalize_axis(axis, first.ndim, "concatenate")
    sizes = [t.shape[axis] for t in a_tuple]
    total: PrimExpr = sizes[0]
    for s in sizes[1:]:
        total = total + s
    shape = [*first.shape[:axis], simplify(total), *first.shape[axis + 1 :]]

    def body(ax: list[Var]) -> PrimExpr:
        result: PrimExpr = first(*ax)
        ind: PrimExpr = ax[axis]
        for size, t in zip(sizes[:-1], a_tuple[1:], strict=True):
            ind = simplify(ind - size)
            idx = [*ax[:axis], ind, *ax[axis + 1 :]]
            result = tir_op.if_then_else(tir_op.greater_equal(ind, 0), t(*idx), result)
        return result

    return compute(shape, body, "T_concat", "injective")


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """The tensors stacked along a new axis ``axis``."""
    if not tensors:
        raise DiagnosticError("stack needs at least one tensor")
    first = tensors[0]
    axis = normalize_axis(axis, first.ndim + 1, "stack")
    shape = [*first.shape[:axis], convert(len(tensors)), *first.shape[axis:]]

    def body(ax: list[Var]) -> PrimExpr:
        idx = [*ax[:axis], *ax[axis + 1 :]]
        result: PrimExpr = tensors[0](*idx)
        for k, t in enumerate(tensors[1:], start=1):
            result = tir_op.if_then_else(tir_op.equal(ax[axis], k), t(*idx), result)
        return result

    return compute(shape, body, "T_stack", "injective")


def split(ary: Tensor, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Pieces of ``ary`` along ``axis``: ``n`` equal sections, or cut at the given indices."""
    axis = normalize_axis(axis, ary.ndim, "split")
    n = get_const_int(ary.shape[axis])
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0 or n % sections:
            raise DiagnosticError(f"split: {n} elements do not split into {sections} sections")
        points = [n // sections * k for k in range(1, sections)]
    else:
        points = [int(p) for p in indices_or_sections]
    bounds = [0, *points, n]
    outs: list[Tensor] = []
    for lo, hi in itertools.pairwise(bounds):
        lo_c = min(max(lo, 0), n)
        size = max(min(hi, n) - lo_c, 0)
        shape = [*ary.shape[:axis], convert(size), *ary.shape[axis + 1 :]]

        def body(ax: list[Var], lo_c: int = lo_c) -> PrimExpr:
            return ary(*ax[:axis], ax[axis] + lo_c, *ax[axis + 1 :])

        outs.append(compute(shape, body, "T_split", "injective"))
    return outs


def _clamp_index(idx: PrimExpr, n: PrimExpr, mode: str) -> PrimExpr:
    size = tir_op.cast(n, idx.dtype)
    if mode == "wrap":
        return tir_op.floormod(idx, size)
    if mode in ("clip", "fast"):
        # "fast" reads the raw index; out-of-range loads are clamped by definition
        if mode == "fast":
            return idx
        return tir_op.min(tir_op.max(idx, const(0, idx.dtype)), size - 1)
    raise DiagnosticError(f"take: mode must be 'clip', 'wrap' or 'fast', got {mode!r}")


def take(
    a: Tensor,
    indices: Tensor | int,
    axis: int | None = None,
    batch_dims: int = 0,
    mode: str = "clip",
) -> Tensor:
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened ``a`` if None)."""
    if isinstance(indices, int):
        from minitvm.topi.tensor import full

        indices = full((), "int32", indices)
    if axis is None:
        flat = reshape(a, [-1])
        return take(flat, indices, 0, 0, mode)
    axis = normalize_axis(axis, a.ndim, "take")
    b = normalize_axis(batch_dims, indices.ndim + 1, "take") if batch_dims else 0
    extra = indices.ndim - b
    shape = [*a.shape[:axis], *indices.shape[b:], *a.shape[axis + 1 :]]

    def body(ax: list[Var]) -> PrimExpr:
        ind_idx = [*ax[:b], *ax[axis : axis + extra]]
        idx = _clamp_index(indices(*ind_idx), a.shape[axis], mode)
        return a(*ax[:axis], idx, *ax[axis + extra :])

    return compute(shape, body, "T_take", "injective")


def gather(data: Tensor, axis: int, indices: Tensor) -> Tensor:
    """``out[i][j][k] = data[i][indices[i][j][k]][k]`` for ``axis=1`` (numpy's take_along_axis)."""
    axis = normalize_axis(axis, data.ndim, "gather")
    if indices.ndim != data.ndim:
        raise DiagnosticError("gather: data and indices must have the same rank")

    def body(ax: list[Var]) -> PrimExpr:
        return data(*ax[:axis], indices(*ax), *ax[axis + 1 :])

    return compute(indices.shape, body, "T_gather", "injective")


def gather_nd(a: Tensor, indices: Tensor, batch_dims: int = 0) -> Tensor:
    """``indices`` has shape ``(M, ...)``: each column picks a point in ``a``'s first M axes."""
    m = get_const_int(indices.shape[0])
    shape = [*indices.shape[1:], *a.shape[m + batch_dims :]]
    nd_i = indices.ndim

    def body(ax: list[Var]) -> PrimExpr:
        real: list[PrimExpr] = list(ax[:batch_dims])
        for k in range(m):
            real.append(indices(const(k), *ax[: nd_i - 1]))
        real.extend(ax[nd_i - 1 :])
        return a(*real)

    return compute(shape, body, "T_gather_nd", "injective")


def _slice_axis(n: int, b: int | None, e: int | None, s: int) -> tuple[int, int]:
    """numpy's slice canonicalisation: (begin, length). A range running against the
    stride's direction is an error, as in TVM."""
    if s == 0:
        raise DiagnosticError("strided_slice: a stride cannot be 0")
    if s > 0:
        lo = 0 if b is None else min(max(b + n if b < 0 else b, 0), n)
        hi = n if e is None else min(max(e + n if e < 0 else e, 0), n)
        length = -(-(hi - lo) // s)
    else:
        lo = n - 1 if b is None else min(max(b + n if b < 0 else b, -1), n - 1)
        hi = -1 if e is None else min(max(e + n if e < 0 else e, -1), n - 1)
        length = -(-(lo - hi) // -s)
    if length < 0:
        raise DiagnosticError(f"strided_slice: begin {b} and end {e} run against the stride {s}")
    return lo, length


def strided_slice(
    a: Tensor,
    begin: Sequence[int | None],
    end: Sequence[int | None],
    strides: Sequence[int] | None = None,
    axes: Sequence[int] | None = None,
    slice_mode: str = "end",
) -> Tensor:
    """numpy slicing ``a[b0:e0:s0, ...]``; ``slice_mode="size"`` reads ``end`` as sizes
    (-1: to the end) with unit strides."""
    shape = get_const_tuple(a.shape)
    sel = (
        list(range(len(begin)))
        if axes is None
        else [normalize_axis(int(x), a.ndim, "strided_slice") for x in axes]
    )
    starts = [0] * a.ndim
    steps = [1] * a.ndim
    lengths = list(shape)
    for k, ax in enumerate(sel):
        b = begin[k]
        e = end[k] if k < len(end) else None
        s = int(strides[k]) if strides is not None and k < len(strides) else 1
        if slice_mode == "size":
            s = 1
            if e is not None and e >= 0:
                b0 = 0 if b is None else (b + shape[ax] if b < 0 else b)
                e = b0 + e
            else:
                e = None
        elif slice_mode != "end":
            raise DiagnosticError(
                f"strided_slice: slice_mode must be 'end' or 'size', got {slice_mode!r}"
            )
        starts[ax], lengths[ax] = _slice_axis(shape[ax], b, e, s)
        steps[ax] = s

    def body(ax: list[Var]) -> PrimExpr:
        return a(*[simplify(i * st + lo) for i, st, lo in zip(ax, steps, starts, strict=True)])

    return compute(lengths, body, "T_strided_slice", "injective")


def where(condition: Tensor, x: Tensor | ExprLike, y: Tensor | ExprLike) -> Tensor:
    """``x`` where ``condition`` is non-zero, else ``y``; the three broadcast."""
    from minitvm.topi.broadcast import _index

    dtype = x.dtype if isinstance(x, Tensor) else y.dtype if isinstance(y, Tensor) else None
    if dtype is None:
        raise DiagnosticError("where: x or y must be a tensor")
    shape = list(condition.shape)
    for t in (x, y):
        if isinstance(t, Tensor):
            shape = broadcast_shape(shape, t.shape, "where")
    if isinstance(x, Tensor) and isinstance(y, Tensor) and x.dtype != y.dtype:
        raise DiagnosticError(f"where: x and y dtypes differ: {x.dtype} vs {y.dtype}")

    def value(t: Tensor | ExprLike, ax: list[Var]) -> PrimExpr:
        return _index(t, ax) if isinstance(t, Tensor) else tir_op.cast(convert(t), dtype)

    def body(ax: list[Var]) -> PrimExpr:
        c = _index(condition, ax)
        if not is_bool(c.dtype):
            c = tir_op.not_equal(c, const(0, c.dtype))
        return Select(c, value(x, ax), value(y, ax))

    return compute(shape, body, "T_where", "broadcast")


def expand_dims(a: Tensor, axis: int, num_newaxis: int = 1) -> Tensor:
    """``a`` with ``num_newaxis`` dimensions of size 1 inserted at ``axis``."""
    axis = normalize_axis(axis, a.ndim + 1, "expand_dims")
    shape = [*a.shape[:axis], *([convert(1)] * num_newaxis), *a.shape[axis:]]

    def body(ax: list[Var]) -> PrimExpr:
        return a(*ax[:axis], *ax[axis + num_newaxis :])

    return compute(shape, body, "T_expand_dims", "broadcast")


def squeeze(a: Tensor, axis: int | Sequence[int] | None = None) -> Tensor:
    """``a`` without the given dimensions of size 1 (all of them if ``axis`` is None)."""
    shape = get_const_tuple(a.shape)
    if axis is None:
        drop = [k for k, d in enumerate(shape) if d == 1]
    else:
        items = [axis] if isinstance(axis, int) else list(axis)
        drop = sorted({normalize_axis(int(x), a.ndim, "squeeze") for x in items})
        for k in drop:
            if shape[k] != 1:
                raise DiagnosticError(f"squeeze: dimension {k} has size {shape[k]}, not 1")
    keep = [k for k in range(a.ndim) if k not in drop]

    def body(ax: list[Var]) -> PrimExpr:
        idx: list[PrimExpr] = [const(0, a.shape[k].dtype) for k in range(a.ndim)]
        for i, k in enumerate(keep):
            idx[k] = ax[i]
        return a(*idx)

    return compute([a.shape[k] for k in keep], body, "T_squeeze", "injective")


def tile(a: Tensor, reps: Sequence[int]) -> Tensor:
    """numpy's ``tile``: ``a`` repeated ``reps[k]`` times along each axis."""
    shape = get_const_tuple(a.shape)
    r = [int(x) for x in reps]
    nd = max(len(shape), len(r))
    full_shape = [1] * (nd - len(shape)) + list(shape)
    full_reps = [1] * (nd - len(r)) + r
    out = [d * k for d, k in zip(full_shape, full_reps, strict=True)]
    offset = nd - len(shape)

    def body(ax: list[Var]) -> PrimExpr:
        return a(*[tir_op.floormod(ax[offset + k], shape[k]) for k in range(len(shape))])

    return compute(out, body, "T_tile", "injective")


def repeat(a: Tensor, repeats: int, axis: int) -> Tensor:
    """Each element repeated ``repeats`` times along ``axis``."""
    if repeats < 1:
        raise DiagnosticError(f"repeat: repeats must be positive, got {repeats}")
    axis = normalize_axis(axis, a.ndim, "repeat")
    shape = [*a.shape[:axis], simplify(a.shape[axis] * repeats), *a.shape[axis + 1 :]]

    def body(ax: list[Var]) -> PrimExpr:
        return a(*ax[:axis], tir_op.floordiv(ax[axis], repeats), *ax[axis + 1 :])

    return compute(shape, body, "T_repeat", "broadcast")


def flip(a: Tensor, axis: int = 0) -> Tensor:
    """``a`` reversed along ``axis``."""
    axis = normalize_axis(axis, a.ndim, "flip")

    def body(ax: list[Var]) -> PrimExpr:
        return a(*ax[:axis], simplify(a.shape[axis] - 1 - ax[axis]), *ax[axis + 1 :])

    return compute(a.shape, body, "T_reverse_sequence", "injective")


def one_hot(
    indices: Tensor, on_value: ExprLike, off_value: ExprLike, depth: int, axis: int, dtype: str
) -> Tensor:
    """``on_value`` where the new axis (of size ``depth``, at ``axis``; -1 is last) equals the
    index, ``off_value`` elsewhere."""
    dtype = check_dtype(dtype)
    axis = indices.ndim if axis == -1 else normalize_axis(axis, indices.ndim + 1, "one_hot")
    shape = [*indices.shape[:axis], convert(depth), *indices.shape[axis:]]
    on = tir_op.cast(convert(on_value), dtype)
    off = tir_op.cast(convert(off_value), dtype)

    def body(ax: list[Var]) -> PrimExpr:
        idx = indices(*ax[:axis], *ax[axis + 1 :])
        hit = tir_op.equal(idx, tir_op.cast(ax[axis], idx.dtype))
        return tir_op.if_then_else(hit, on, off)

    return compute(shape, body, "T_one_hot", "injective")


def matmul(a: Tensor, b: Tensor, transp_a: bool = False, transp_b: bool = False) -> Tensor:
    """The 2-d matrix product ``op(a) @ op(b)`` (``tvm.topi.matmul``)."""
    if a.ndim != 2 or b.ndim != 2:
        raise DiagnosticError("matmul expects two 2-d tensors")
    n, ka = (a.shape[1], a.shape[0]) if transp_a else (a.shape[0], a.shape[1])
    kb, m = (b.shape[1], b.shape[0]) if transp_b else (b.shape[0], b.shape[1])
    if get_const_int(ka) != get_const_int(kb):
        raise DiagnosticError(f"matmul: inner dimensions differ: {ka} vs {kb}")
    k = reduce_axis((0, ka), name="k")

    def body(ax: list[Var]) -> PrimExpr:
        i, j = ax
        x = a(k.var, i) if transp_a else a(i, k.var)
        y = b(j, k.var) if transp_b else b(k.var, j)
        return te_sum(x * y, axis=k)

    return compute([n, m], body, "T_matmul", "matmul")


def arange(
    start: int | float,
    stop: int | float | None = None,
    step: int | float = 1,
    dtype: str = "float32",
) -> Tensor:
    """``start, start + step, ...`` below ``stop`` (numpy's arange), in ``dtype``."""
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise DiagnosticError("arange: step cannot be 0")
    n = max(0, math.ceil((stop - start) / step))
    dtype = check_dtype(dtype)
    begin, delta = tir_op.cast(convert(start), dtype), tir_op.cast(convert(step), dtype)

    def body(ax: list[Var]) -> PrimExpr:
        return begin + tir_op.cast(ax[0], dtype) * delta

    return compute([n], body, "T_arange", "elemwise")
