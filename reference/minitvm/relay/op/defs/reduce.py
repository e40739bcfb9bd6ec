"""Reductions (TVM ``src/relay/op/tensor/reduce.cc``, ``topi/reduction.h``).

Axes follow TVM's ``GetReduceAxes``: ``axis=None`` or an empty list reduces every axis;
negative axes count from the end; ``exclude=True`` reduces every axis *not* listed;
``keepdims`` keeps reduced axes with extent 1. The result of a full reduction without
keepdims is a rank-0 tensor.

Kernels accumulate in the data's dtype, as TVM's generated code does: integer sums and
products wrap, a bool ``sum`` is a parity (1-bit addition), ``mean`` of integers truncates.
``max``/``min`` of an empty reduction give the dtype's lowest/highest finite value (TVM's
reducer identities) and ``argmax``/``argmin`` of one give -1. ``argmax``/``argmin`` return
int32 and pick the first extremum unless ``select_last_index``.
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
from minitvm.relay.op.defs.binary import int_div_trunc
from minitvm.relay.op.relation import int_tuple, normalize_axes, prod, tensor_arg
from minitvm.runtime.dtype import is_bool, is_float

__all__ = ["ArgReduceAttrs", "ReduceAttrs", "VarianceAttrs", "reduce_axes"]


@dataclass(frozen=True, slots=True)
class ReduceAttrs(Attrs):
    axis: tuple[int, ...] | None = None
    keepdims: bool = False
    exclude: bool = False


@dataclass(frozen=True, slots=True)
class ArgReduceAttrs(Attrs):
    axis: tuple[int, ...] | None = None
    keepdims: bool = False
    select_last_index: bool = False
    exclude: bool = False


@dataclass(frozen=True, slots=True)
class VarianceAttrs(Attrs):
    axis: tuple[int, ...] | None = None
    keepdims: bool = False
    exclude: bool = False
    unbiased: bool = False


AnyReduceAttrs = ReduceAttrs | ArgReduceAttrs | VarianceAttrs


def reduce_axes(ndim: int, attrs: AnyReduceAttrs) -> tuple[int, ...]:
    """The reduced axes, sorted (TVM's ``GetReduceAxes``)."""
    if attrs.axis is None:
        return tuple(range(ndim))
    given = int_tuple(attrs.axis, "axis")
    if not given:
        return tuple(range(ndim))
    listed = sorted(normalize_axes(given, ndim))
    if attrs.exclude:
        return tuple(a for a in range(ndim) if a not in listed)
    return tuple(listed)


def _reduced_shape(data: TensorType, attrs: AnyReduceAttrs) -> list[int]:
    axes = set(reduce_axes(data.ndim, attrs))
    if attrs.keepdims:
        return [1 if i in axes else d for i, d in enumerate(data.shape)]
    return [d for i, d in enumerate(data.shape) if i not in axes]


def _reduce_rel(arg_types: list[Type], attrs: ReduceAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    return TensorType(_reduced_shape(data, attrs), data.dtype)


def _numeric_reduce_rel(arg_types: list[Type], attrs: ReduceAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if is_bool(data.dtype):
        raise DiagnosticError("data must be numeric, got bool")
    return _reduce_rel(arg_types, attrs)


def _bool_reduce_rel(arg_types: list[Type], attrs: ReduceAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if not is_bool(data.dtype):
        raise DiagnosticError(f"data must have dtype bool, got {data.dtype}")
    return _reduce_rel(arg_types, attrs)


def _arg_reduce_rel(arg_types: list[Type], attrs: ArgReduceAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    return TensorType(_reduced_shape(data, attrs), "int32")


ReduceFn = Callable[[Array, tuple[int, ...]], Array]


def _sum(x: Array, axes: tuple[int, ...]) -> Array:
    if x.dtype == np.bool_:
        return np.asarray(np.logical_xor.reduce(x, axis=axes))
    return np.asarray(np.sum(x, axis=axes, dtype=x.dtype))


def _prod(x: Array, axes: tuple[int, ...]) -> Array:
    return np.asarray(np.prod(x, axis=axes, dtype=x.dtype))


def _limits(dtype: np.dtype[np.generic]) -> tuple[float | int, float | int]:
    if np.issubdtype(dtype, np.floating):
        info = np.finfo(dtype.name)
        return float(info.min), float(info.max)
    if dtype == np.bool_:
        return False, True
    iinfo = np.iinfo(dtype.name)
    return int(iinfo.min), int(iinfo.max)


def _max(x: Array, axes: tuple[int, ...]) -> Array:
    return np.asarray(np.max(x, axis=axes, initial=_limits(x.dtype)[0]))


def _min(x: Array, axes: tuple[int, ...]) -> Array:
    return np.asarray(np.min(x, axis=axes, initial=_limits(x.dtype)[1]))


def _all(x: Array, axes: tuple[int, ...]) -> Array:
    return np.asarray(np.all(x, axis=axes))


def _any(x: Array, axes: tuple[int, ...]) -> Array:
    return np.asarray(np.any(x, axis=axes))


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return prod([shape[a] for a in axes])


def _mean(x: Array, axes: tuple[int, ...]) -> Array:
    total = _sum(x, axes)
    n = _count(x.shape, axes)
    if is_float(str(x.dtype)):
        return np.asarray(total / x.dtype.type(n)) if n else np.full(total.shape, np.nan, x.dtype)
    return int_div_trunc(total.astype(np.int64), np.asarray(n, np.int64)).astype(x.dtype)


def _reduce_kernel(fn: ReduceFn) -> Callable[[AnyReduceAttrs, list[Value], Type], Value]:
    def kernel(attrs: AnyReduceAttrs, args: list[Value], out_type: Type) -> Value:
        x = tensor_value(args[0])
        out = fn(x, reduce_axes(x.ndim, attrs))
        return out.reshape(tensor_type(out_type).shape).astype(x.dtype, copy=False)

    return kernel


def _arg_kernel(is_max: bool) -> Callable[[ArgReduceAttrs, list[Value], Type], Value]:
    def kernel(attrs: ArgReduceAttrs, args: list[Value], out_type: Type) -> Value:
        x = tensor_value(args[0])
        axes = reduce_axes(x.ndim, attrs)
        keep = [a for a in range(x.ndim) if a not in axes]
        # Move the reduced axes last and flatten them: the index is into their row-major
        # flattening, as TVM's argmax over several axes computes it.
        moved = np.transpose(x, (*keep, *axes))
        reduced = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
        flat = moved.reshape((*[x.shape[a] for a in keep], reduced))
        shape = tensor_type(out_type).shape
        if flat.shape[-1] == 0:
            return np.full(shape, -1, np.int32)
        if attrs.select_last_index:
            rev = flat[..., ::-1]
            idx = np.argmax(rev, axis=-1) if is_max else np.argmin(rev, axis=-1)
            idx = flat.shape[-1] - 1 - idx
        else:
            idx = np.argmax(flat, axis=-1) if is_max else np.argmin(flat, axis=-1)
        return np.asarray(idx).astype(np.int32).reshape(shape)

    return kernel


def _variance_rel(arg_types: list[Type], attrs: VarianceAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    mean = tensor_arg(arg_types, 1, "mean")
    if data.ndim == 0:
        raise DiagnosticError("data must have rank at least 1")
    if mean.ndim != data.ndim or mean.dtype != data.dtype:
        raise DiagnosticError(
            f"mean must have the rank and dtype of data {data}, got {mean} "
            "(compute it with keepdims=True)"
        )
    expected = [1 if i in reduce_axes(data.ndim, attrs) else d for i, d in enumerate(data.shape)]
    if list(mean.shape) != expected:
        raise DiagnosticError(f"mean must have shape {tuple(expected)}, got {mean.shape}")
    if not is_float(data.dtype):
        raise DiagnosticError(f"data must have a float dtype, got {data.dtype}")
    return TensorType(_reduced_shape(data, attrs), data.dtype)


def _variance_kernel(attrs: VarianceAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    mean = tensor_value(args[1])
    axes = reduce_axes(x.ndim, attrs)
    diff = x - mean
    total = _sum(diff * diff, axes)
    n = _count(x.shape, axes) - (1 if attrs.unbiased else 0)
    out = total / x.dtype.type(n)
    return np.asarray(out).reshape(tensor_type(out_type).shape).astype(x.dtype, copy=False)


def _register() -> None:
    table: list[tuple[str, Callable[[list[Type], ReduceAttrs], Type], ReduceFn]] = [
        ("sum", _reduce_rel, _sum),
        ("prod", _reduce_rel, _prod),
        ("max", _reduce_rel, _max),
        ("min", _reduce_rel, _min),
        ("mean", _numeric_reduce_rel, _mean),
        ("all", _bool_reduce_rel, _all),
        ("any", _bool_reduce_rel, _any),
    ]
    for name, rel, fn in table:
        define_op(
            name, rel, _reduce_kernel(fn), attrs_type=ReduceAttrs, pattern=OpPattern.COMM_REDUCE
        )
    for name, is_max in (("argmax", True), ("argmin", False)):
        define_op(
            name,
            _arg_reduce_rel,
            _arg_kernel(is_max),
            attrs_type=ArgReduceAttrs,
            pattern=OpPattern.COMM_REDUCE,
        )
    define_op(
        "variance",
        _variance_rel,
        _variance_kernel,
        attrs_type=VarianceAttrs,
        num_inputs=2,
        pattern=OpPattern.COMM_REDUCE,
    )


_register()
