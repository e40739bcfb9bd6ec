"""Rearranging and selecting operators (TVM ``src/relay/op/tensor/transform.cc``,
``topi/transform.h``): reshape_like, tile, repeat, reverse, where, collapse_sum_like/to
(the reverse of broadcasting, used by gradients) and the scans cumsum and cumprod.

``where(condition, x, y)`` broadcasts all three operands (condition is true where nonzero).
``tile`` follows numpy: reps shorter than the rank are padded with 1 on the left, longer reps
add leading axes. Scans accumulate in the output dtype (wrapping for integers); with
``axis=None`` they run over the flattened data; ``exclusive`` shifts by one, starting at the
identity (0 for cumsum, 1 for cumprod).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_type, tensor_value
from minitvm.relay.op.defs.transform import InitOpAttrs
from minitvm.relay.op.relation import (
    broadcast_shapes,
    check_dtype_attr,
    int_attr,
    int_tuple,
    normalize_axis,
    prod,
    tensor_arg,
)

__all__ = ["RepeatAttrs", "ReshapeLikeAttrs", "ReverseAttrs", "ScanopAttrs", "TileAttrs"]


@dataclass(frozen=True, slots=True)
class ReshapeLikeAttrs(Attrs):
    lhs_begin: int = 0
    lhs_end: int | None = None
    rhs_begin: int = 0
    rhs_end: int | None = None


@dataclass(frozen=True, slots=True)
class TileAttrs(Attrs):
    reps: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RepeatAttrs(Attrs):
    repeats: int
    axis: int | None = None


@dataclass(frozen=True, slots=True)
class ReverseAttrs(Attrs):
    axis: int | None = None


@dataclass(frozen=True, slots=True)
class ScanopAttrs(Attrs):
    axis: int | None = None
    dtype: str = ""
    exclusive: bool = False


def _span(begin: object, end: object, ndim: int, what: str) -> tuple[int, int]:
    """A ``[begin, end)`` range of axes, negative values counting from the end."""
    b = int_attr(begin, f"{what}_begin")
    e = ndim if end is None else int_attr(end, f"{what}_end")
    b = b + ndim if b < 0 else b
    e = e + ndim if e < 0 else e
    if not 0 <= b <= e <= ndim:
        raise DiagnosticError(f"{what}_begin/{what}_end select no valid range of {ndim} axes")
    return b, e


def _reshape_like_rel(arg_types: list[Type], attrs: ReshapeLikeAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    like = tensor_arg(arg_types, 1, "shape_like")
    lb, le = _span(attrs.lhs_begin, attrs.lhs_end, data.ndim, "lhs")
    rb, re_ = _span(attrs.rhs_begin, attrs.rhs_end, like.ndim, "rhs")
    shape = (*data.shape[:lb], *like.shape[rb:re_], *data.shape[le:])
    if prod(shape) != prod(data.shape):
        raise DiagnosticError(f"cannot reshape {data.shape} to {shape}")
    return TensorType(shape, data.dtype)


def _reshape_kernel(attrs: object, args: list[Value], out_type: Type) -> Value:
    return tensor_value(args[0]).reshape(tensor_type(out_type).shape)


def _tile_rel(arg_types: list[Type], attrs: TileAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    reps = int_tuple(attrs.reps, "reps", minimum=1)
    n = max(data.ndim, len(reps))
    dims = (1,) * (n - data.ndim) + data.shape
    full = (1,) * (n - len(reps)) + reps
    return TensorType([d * r for d, r in zip(dims, full, strict=True)], data.dtype)


def _tile_kernel(attrs: TileAttrs, args: list[Value], out_type: Type) -> Value:
    return np.tile(tensor_value(args[0]), attrs.reps)


def _repeat_rel(arg_types: list[Type], attrs: RepeatAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    repeats = int_attr(attrs.repeats, "repeats", 1)
    if attrs.axis is None:
        raise DiagnosticError("axis must be given")
    axis = normalize_axis(attrs.axis, data.ndim)
    shape = list(data.shape)
    shape[axis] *= repeats
    return TensorType(shape, data.dtype)


def _repeat_kernel(attrs: RepeatAttrs, args: list[Value], out_type: Type) -> Value:
    return np.repeat(tensor_value(args[0]), attrs.repeats, axis=attrs.axis)


def _reverse_rel(arg_types: list[Type], attrs: ReverseAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if attrs.axis is None:
        raise DiagnosticError("axis must be given")
    normalize_axis(attrs.axis, data.ndim)
    return data


def _reverse_kernel(attrs: ReverseAttrs, args: list[Value], out_type: Type) -> Value:
    return np.flip(tensor_value(args[0]), axis=attrs.axis)


def _where_rel(arg_types: list[Type], attrs: None) -> Type:
    cond = tensor_arg(arg_types, 0, "condition")
    x = tensor_arg(arg_types, 1, "x")
    y = tensor_arg(arg_types, 2, "y")
    if x.dtype != y.dtype:
        raise DiagnosticError(f"x and y must have the same dtype, got {x.dtype} and {y.dtype}")
    shape = broadcast_shapes(cond.shape, broadcast_shapes(x.shape, y.shape))
    return TensorType(shape, x.dtype)


def _where_kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
    cond, x, y = (tensor_value(a) for a in args)
    return np.where(cond != 0, x, y)


# --- collapse_sum ----------------------------------------------------------------------------


def _collapse_type(data: TensorType, shape: tuple[int, ...]) -> TensorType:
    """The reverse of broadcasting: ``data`` must be the broadcast of ``shape``."""
    if broadcast_shapes(data.shape, shape) != data.shape:
        raise DiagnosticError(f"{data.shape} is not a broadcast of {shape}")
    return TensorType(shape, data.dtype)


def _collapse_sum_like_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    like = tensor_arg(arg_types, 1, "collapse_type")
    if like.dtype != data.dtype:
        raise DiagnosticError(f"dtypes differ: {data.dtype} vs {like.dtype}")
    return _collapse_type(data, like.shape)


def _collapse_sum_to_rel(arg_types: list[Type], attrs: InitOpAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    shape_arg = tensor_arg(arg_types, 1, "shape")
    if attrs.shape is None:
        raise DiagnosticError("the target shape must be a constant")
    shape = int_tuple(attrs.shape, "shape", minimum=0)
    if shape_arg.shape != (len(shape),):
        raise DiagnosticError(f"the shape argument {shape_arg} does not hold {len(shape)} dims")
    return _collapse_type(data, shape)


def _collapse_sum_kernel(attrs: object, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    shape = tensor_type(out_type).shape
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and x.shape[lead + i] != 1
    )
    return np.sum(x, axis=axes, dtype=x.dtype).reshape(shape)


# --- scans --------------------------------------------------------------------------------------


def _scan_rel(arg_types: list[Type], attrs: ScanopAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    dtype = check_dtype_attr(attrs.dtype) if attrs.dtype else data.dtype
    if attrs.axis is None:
        return TensorType((prod(data.shape),), dtype)
    normalize_axis(attrs.axis, data.ndim)
    return TensorType(data.shape, dtype)


ScanFn = Callable[..., Array]


def _scan_kernel(fn: ScanFn, identity: int) -> Callable[[ScanopAttrs, list[Value], Type], Value]:
    def kernel(attrs: ScanopAttrs, args: list[Value], out_type: Type) -> Value:
        dtype = tensor_type(out_type).dtype
        x = tensor_value(args[0]).astype(dtype, copy=False)
        axis = 0 if attrs.axis is None else normalize_axis(attrs.axis, x.ndim)
        if attrs.axis is None:
            x = x.reshape(-1)
        out = np.asarray(fn(x, axis=axis, dtype=dtype))
        if attrs.exclusive and x.shape[axis] > 0:
            head = np.full_like(np.take(out, [0], axis=axis), identity)
            body = np.take(out, np.arange(x.shape[axis] - 1), axis=axis)
            out = np.concatenate([head, body], axis=axis)
        return out

    return kernel


def _register() -> None:
    define_op(
        "reshape_like",
        _reshape_like_rel,
        _reshape_kernel,
        attrs_type=ReshapeLikeAttrs,
        num_inputs=2,
        pattern=OpPattern.INJECTIVE,
    )
    define_op("tile", _tile_rel, _tile_kernel, attrs_type=TileAttrs, pattern=OpPattern.BROADCAST)
    define_op(
        "repeat", _repeat_rel, _repeat_kernel, attrs_type=RepeatAttrs, pattern=OpPattern.BROADCAST
    )
    define_op(
        "reverse",
        _reverse_rel,
        _reverse_kernel,
        attrs_type=ReverseAttrs,
        pattern=OpPattern.INJECTIVE,
    )
    define_op("where", _where_rel, _where_kernel, num_inputs=3, pattern=OpPattern.BROADCAST)
    define_op(
        "collapse_sum_like",
        _collapse_sum_like_rel,
        _collapse_sum_kernel,
        num_inputs=2,
        pattern=OpPattern.COMM_REDUCE,
    )
    define_op(
        "collapse_sum_to",
        _collapse_sum_to_rel,
        _collapse_sum_kernel,
        attrs_type=InitOpAttrs,
        num_inputs=2,
        pattern=OpPattern.COMM_REDUCE,
    )
    define_op(
        "cumsum",
        _scan_rel,
        _scan_kernel(np.cumsum, 0),
        attrs_type=ScanopAttrs,
        pattern=OpPattern.OPAQUE,
    )
    define_op(
        "cumprod",
        _scan_rel,
        _scan_kernel(np.cumprod, 1),
        attrs_type=ScanopAttrs,
        pattern=OpPattern.OPAQUE,
    )


_register()
