"""Builders of the data-movement and creation operators (TVM
``python/tvm/relay/op/transform.py``): ``relay.reshape``, ``relay.take``, ``relay.split``,
``relay.full``... Shapes and axes are static: an expression where TVM would build a dynamic
operator raises DiagnosticError.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minitvm.relay.builder import const
from minitvm.relay.expr import Call, Constant, Expr, TupleWrapper
from minitvm.relay.op.arguments import axes_or_none, const_number, dtype_or_empty, int_of, ints
from minitvm.relay.op.define import make_call
from minitvm.relay.op.defs.create import ArangeAttrs, OneHotAttrs
from minitvm.relay.op.defs.index import GatherAttrs, GatherNDAttrs, StridedSliceAttrs, TakeAttrs
from minitvm.relay.op.defs.layout_transform import LayoutTransformAttrs
from minitvm.relay.op.defs.rearrange import (
    RepeatAttrs,
    ReshapeLikeAttrs,
    ReverseAttrs,
    ScanopAttrs,
    TileAttrs,
)
from minitvm.relay.op.defs.transform import (
    ExpandDimsAttrs,
    InitOpAttrs,
    ReshapeAttrs,
    SplitAttrs,
    SqueezeAttrs,
    TransposeAttrs,
)
from minitvm.relay.op.defs.unary import CastAttrs
from minitvm.runtime.dtype import check_dtype

__all__ = [
    "arange",
    "broadcast_to",
    "broadcast_to_like",
    "cast",
    "cast_like",
    "collapse_sum_like",
    "collapse_sum_to",
    "cumprod",
    "cumsum",
    "expand_dims",
    "full",
    "full_like",
    "gather",
    "gather_nd",
    "layout_transform",
    "one_hot",
    "reinterpret",
    "repeat",
    "reshape",
    "reshape_like",
    "reverse",
    "split",
    "squeeze",
    "strided_slice",
    "take",
    "tile",
    "transpose",
    "where",
]

Ints = int | Sequence[int] | Constant


def cast(data: Expr, dtype: str) -> Call:
    """Cast ``data`` to ``dtype`` elementwise."""
    return make_call("cast", [data], CastAttrs(check_dtype(dtype)))


def cast_like(data: Expr, dtype_like: Expr) -> Call:
    """Cast ``data`` to the dtype of ``dtype_like``."""
    return make_call("cast_like", [data, dtype_like])


def reinterpret(data: Expr, dtype: str) -> Call:
    """Reinterpret the bits of ``data`` as ``dtype`` (same bit width)."""
    return make_call("reinterpret", [data], CastAttrs(check_dtype(dtype)))


def expand_dims(data: Expr, axis: int, num_newaxis: int = 1) -> Call:
    attrs = ExpandDimsAttrs(int_of(axis, "axis"), int_of(num_newaxis, "num_newaxis"))
    return make_call("expand_dims", [data], attrs)


def transpose(data: Expr, axes: Sequence[int] | None = None) -> Call:
    """Permute the axes (reverse them when ``axes`` is None)."""
    return make_call("transpose", [data], TransposeAttrs(axes_or_none(axes, "axes")))


def squeeze(data: Expr, axis: Ints | None = None) -> Call:
    """Remove the listed unit axes (every unit axis when ``axis`` is None)."""
    return make_call("squeeze", [data], SqueezeAttrs(axes_or_none(axis)))


def reshape(data: Expr, newshape: Ints, allowzero: bool = False) -> Call:
    """Reshape with TVM's special values 0, -1, -2, -3, -4 (see SPEC OP clauses)."""
    return make_call("reshape", [data], ReshapeAttrs(ints(newshape, "newshape"), bool(allowzero)))


def take(
    data: Expr,
    indices: Expr,
    axis: int | None = None,
    batch_dims: int = 0,
    mode: str = "clip",
) -> Call:
    """Gather along ``axis`` (the flattened data when None); ``mode`` is clip, wrap or fast."""
    attrs = TakeAttrs(
        int_of(batch_dims, "batch_dims"), None if axis is None else int_of(axis, "axis"), mode
    )
    return make_call("take", [data, indices], attrs)


def full(fill_value: Expr, shape: Ints = (), dtype: str = "") -> Call:
    attrs = InitOpAttrs(ints(shape, "shape"), dtype_or_empty(dtype))
    return make_call("full", [fill_value], attrs)


def full_like(data: Expr, fill_value: Expr) -> Call:
    return make_call("full_like", [data, fill_value])


def arange(
    start: float | Expr,
    stop: float | Expr | None = None,
    step: float | Expr | None = None,
    dtype: str = "float32",
) -> Call:
    """``[start, stop)`` by ``step``; bounds are numbers or scalar constants."""
    dtype = check_dtype(dtype)
    if step is None:
        step = 1
    if stop is None:
        start, stop = 0, start
    values = [
        const_number(v, name) for v, name in ((start, "start"), (stop, "stop"), (step, "step"))
    ]
    args: list[Expr] = [const(np.asarray(v).astype(dtype), dtype) for v in values]
    return make_call("arange", args, ArangeAttrs(values[0], values[1], values[2], dtype))


def broadcast_to(data: Expr, shape: Ints) -> Call:
    return make_call("broadcast_to", [data], InitOpAttrs(ints(shape, "shape"), ""))


def broadcast_to_like(data: Expr, broadcast_type: Expr) -> Call:
    return make_call("broadcast_to_like", [data, broadcast_type])


def split(data: Expr, indices_or_sections: Ints, axis: int = 0) -> TupleWrapper:
    """Split into equal sections (an int) or at the given indices; a TupleWrapper."""
    ios: int | tuple[int, ...]
    if isinstance(indices_or_sections, int):
        ios = size = int_of(indices_or_sections, "indices_or_sections")
    else:
        ios = ints(indices_or_sections, "indices_or_sections")
        size = len(ios) + 1
    call = make_call("split", [data], SplitAttrs(ios, int_of(axis, "axis")))
    return TupleWrapper(call, size)


def _opt_bounds(values: Ints | Sequence[int | None], what: str) -> tuple[int | None, ...]:
    if isinstance(values, Sequence):
        return tuple(None if v is None else int_of(v, what) for v in values)
    return ints(values, what)


def strided_slice(
    data: Expr,
    begin: Ints | Sequence[int | None],
    end: Ints | Sequence[int | None],
    strides: Ints | None = None,
    axes: Sequence[int] | None = None,
    slice_mode: str = "end",
) -> Call:
    attrs = StridedSliceAttrs(
        _opt_bounds(begin, "begin"),
        _opt_bounds(end, "end"),
        ints(strides if strides else [1], "strides"),
        slice_mode,
        axes_or_none(axes, "axes"),
    )
    return make_call("strided_slice", [data], attrs)


def one_hot(
    indices: Expr, on_value: Expr, off_value: Expr, depth: int, axis: int, dtype: str
) -> Call:
    attrs = OneHotAttrs(int_of(depth, "depth"), int_of(axis, "axis"), check_dtype(dtype))
    return make_call("one_hot", [indices, on_value, off_value], attrs)


def reshape_like(
    data: Expr,
    shape_like: Expr,
    lhs_begin: int = 0,
    lhs_end: int | None = None,
    rhs_begin: int = 0,
    rhs_end: int | None = None,
) -> Call:
    """Reshape ``data[lhs_begin:lhs_end]``'s axes to ``shape_like``'s
    ``[rhs_begin:rhs_end]`` axes."""
    attrs = ReshapeLikeAttrs(
        int_of(lhs_begin, "lhs_begin"),
        None if lhs_end is None else int_of(lhs_end, "lhs_end"),
        int_of(rhs_begin, "rhs_begin"),
        None if rhs_end is None else int_of(rhs_end, "rhs_end"),
    )
    return make_call("reshape_like", [data, shape_like], attrs)


def gather(data: Expr, axis: int, indices: Expr) -> Call:
    """``out[..., i, ...] = data[..., indices[..., i, ...], ...]`` along ``axis``."""
    return make_call("gather", [data, indices], GatherAttrs(int_of(axis, "axis")))


def gather_nd(
    data: Expr, indices: Expr, batch_dims: int = 0, index_rank: int | None = None
) -> Call:
    """Gather with index tuples along the first axis of ``indices``."""
    attrs = GatherNDAttrs(
        int_of(batch_dims, "batch_dims"),
        None if index_rank is None else int_of(index_rank, "index_rank"),
    )
    return make_call("gather_nd", [data, indices], attrs)


def where(condition: Expr, x: Expr, y: Expr) -> Call:
    return make_call("where", [condition, x, y])


def tile(data: Expr, reps: Ints) -> Call:
    return make_call("tile", [data], TileAttrs(ints(reps, "reps")))


def repeat(data: Expr, repeats: int, axis: int) -> Call:
    attrs = RepeatAttrs(int_of(repeats, "repeats"), int_of(axis, "axis"))
    return make_call("repeat", [data], attrs)


def reverse(data: Expr, axis: int) -> Call:
    return make_call("reverse", [data], ReverseAttrs(int_of(axis, "axis")))


def _scan(
    name: str, data: Expr, axis: int | None, dtype: str | None, exclusive: bool | None
) -> Call:
    attrs = ScanopAttrs(
        None if axis is None else int_of(axis, "axis"),
        dtype_or_empty(dtype),
        bool(exclusive),
    )
    return make_call(name, [data], attrs)


def cumsum(
    data: Expr, axis: int | None = None, dtype: str | None = None, exclusive: bool | None = None
) -> Call:
    return _scan("cumsum", data, axis, dtype, exclusive)


def cumprod(
    data: Expr, axis: int | None = None, dtype: str | None = None, exclusive: bool | None = None
) -> Call:
    return _scan("cumprod", data, axis, dtype, exclusive)


def layout_transform(data: Expr, src_layout: str, dst_layout: str) -> Call:
    """Convert between layouts such as ``NCHW`` and ``NCHW4c``."""
    attrs = LayoutTransformAttrs(str(src_layout), str(dst_layout))
    return make_call("layout_transform", [data], attrs)


def collapse_sum_like(data: Expr, collapse_type: Expr) -> Call:
    """Sum ``data`` down to the shape of ``collapse_type`` (undoing a broadcast)."""
    return make_call("collapse_sum_like", [data, collapse_type])


def collapse_sum_to(data: Expr, shape: Ints) -> Call:
    """Sum ``data`` down to ``shape``; the shape is also passed as a constant input."""
    dims = ints(shape, "shape")
    return make_call(
        "collapse_sum_to", [data, const(np.array(dims, "int32"))], InitOpAttrs(dims, "")
    )
