"""Sorting (TVM ``src/relay/op/algorithm/{sort,argsort,topk}.cc``, ``topi/sort.py``).

Sorts are stable: equal elements keep their index order, in descending sorts too (TVM's CPU
kernels use ``std::stable_sort``). ``topk`` with ``k < 1`` keeps the whole axis; its
``ret_type`` is ``"both"`` (a tuple of values and indices), ``"values"`` or ``"indices"``.
All three are ``OPAQUE``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_value
from minitvm.relay.op.relation import check_dtype_attr, int_attr, normalize_axis, tensor_arg
from minitvm.runtime.dtype import is_float

__all__ = ["ArgsortAttrs", "TopKAttrs", "stable_argsort"]


@dataclass(frozen=True, slots=True)
class ArgsortAttrs(Attrs):
    axis: int = -1
    is_ascend: bool = True
    dtype: str = ""


@dataclass(frozen=True, slots=True)
class TopKAttrs(Attrs):
    k: int | None = None
    axis: int = -1
    ret_type: str = "both"
    is_ascend: bool = False
    dtype: str = ""


def stable_argsort(x: Array, axis: int, ascend: bool) -> Array:
    """Indices that sort ``x`` along ``axis``; ties keep ascending index order either way."""
    if ascend:
        return np.argsort(x, axis=axis, kind="stable")
    n = x.shape[axis]
    flipped = np.argsort(np.flip(x, axis=axis), axis=axis, kind="stable")
    return np.asarray((n - 1) - np.flip(flipped, axis=axis))


def _index_dtype(dtype: str) -> str:
    out = check_dtype_attr(dtype or "int32")
    if is_float(out) or out == "bool":
        raise DiagnosticError(f"dtype must be an integer type, got {out}")
    return out


def _sort_rel(arg_types: list[Type], attrs: ArgsortAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    normalize_axis(attrs.axis, data.ndim)
    return data


def _sort_kernel(attrs: ArgsortAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    idx = stable_argsort(x, attrs.axis, bool(attrs.is_ascend))
    return np.take_along_axis(x, idx, axis=attrs.axis)


def _argsort_rel(arg_types: list[Type], attrs: ArgsortAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    normalize_axis(attrs.axis, data.ndim)
    return TensorType(data.shape, _index_dtype(attrs.dtype))


def _argsort_kernel(attrs: ArgsortAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    return stable_argsort(x, attrs.axis, bool(attrs.is_ascend)).astype(_index_dtype(attrs.dtype))


def _topk_rel(arg_types: list[Type], attrs: TopKAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    axis = normalize_axis(attrs.axis, data.ndim)
    k = 0 if attrs.k is None else int_attr(attrs.k, "k")
    shape = list(data.shape)
    if k >= 1:
        if k > data.shape[axis]:
            raise DiagnosticError(f"k={k} exceeds the axis extent {data.shape[axis]}")
        shape[axis] = k
    values = TensorType(shape, data.dtype)
    indices = TensorType(shape, _index_dtype(attrs.dtype))
    if attrs.ret_type == "both":
        return TupleType([values, indices])
    if attrs.ret_type == "values":
        return values
    if attrs.ret_type == "indices":
        return indices
    raise DiagnosticError(f"ret_type must be 'both', 'values' or 'indices', got {attrs.ret_type!r}")


def _topk_kernel(attrs: TopKAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    axis = normalize_axis(attrs.axis, x.ndim)
    k = 0 if attrs.k is None else attrs.k
    idx = stable_argsort(x, axis, bool(attrs.is_ascend))
    if k >= 1:
        idx = np.take(idx, np.arange(k), axis=axis)
    values = np.take_along_axis(x, idx, axis=axis)
    indices = idx.astype(_index_dtype(attrs.dtype))
    if attrs.ret_type == "both":
        return (values, indices)
    return values if attrs.ret_type == "values" else indices


def _register() -> None:
    opaque = OpPattern.OPAQUE
    define_op("sort", _sort_rel, _sort_kernel, attrs_type=ArgsortAttrs, pattern=opaque)
    define_op("argsort", _argsort_rel, _argsort_kernel, attrs_type=ArgsortAttrs, pattern=opaque)
    define_op("topk", _topk_rel, _topk_kernel, attrs_type=TopKAttrs, pattern=opaque)


_register()
