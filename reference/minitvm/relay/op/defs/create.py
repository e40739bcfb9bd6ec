"""Tensor creation (TVM ``src/relay/op/tensor/transform.cc``: ``zeros ones full full_like
arange one_hot``; ``topi/transform.h``).

``arange`` keeps TVM's three scalar inputs (start, stop, step), but minitvm has only static
shapes, so ``ArangeAttrs`` records their values as numbers when the call is built: the
relation and the kernel read the attrs, and the builder requires constant bounds. Element
``i`` is ``start + step * i`` computed in the output dtype; the length
``ceil((stop - start) / step)`` must be positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Value, define_op, tensor_type, tensor_value
from minitvm.relay.op.defs.transform import InitOpAttrs
from minitvm.relay.op.relation import (
    check_dtype_attr,
    expect_integral,
    int_attr,
    int_tuple,
    tensor_arg,
)

__all__ = ["ArangeAttrs", "OneHotAttrs", "arange_length"]


@dataclass(frozen=True, slots=True)
class ArangeAttrs(Attrs):
    start: float
    stop: float
    step: float
    dtype: str = "float32"


@dataclass(frozen=True, slots=True)
class OneHotAttrs(Attrs):
    depth: int = 1
    axis: int = -1
    dtype: str = ""


def _init_type(attrs: InitOpAttrs, default_dtype: str = "") -> TensorType:
    if attrs.shape is None:
        raise DiagnosticError("the shape is missing")
    shape = int_tuple(attrs.shape, "shape", minimum=0)
    dtype = attrs.dtype or default_dtype
    return TensorType(shape, check_dtype_attr(dtype))


def _init_rel(arg_types: list[Type], attrs: InitOpAttrs) -> Type:
    return _init_type(attrs)


def _zeros_kernel(attrs: InitOpAttrs, args: list[Value], out_type: Type) -> Value:
    ty = tensor_type(out_type)
    return np.zeros(ty.shape, ty.dtype)


def _ones_kernel(attrs: InitOpAttrs, args: list[Value], out_type: Type) -> Value:
    ty = tensor_type(out_type)
    return np.ones(ty.shape, ty.dtype)


def _scalar_fill(arg_types: list[Type], index: int) -> TensorType:
    fill = tensor_arg(arg_types, index, "fill_value")
    if fill.ndim != 0:
        raise DiagnosticError(f"fill_value must be a scalar, got {fill}")
    return fill


def _full_rel(arg_types: list[Type], attrs: InitOpAttrs) -> Type:
    fill = _scalar_fill(arg_types, 0)
    return _init_type(attrs, fill.dtype)


def _fill(shape: tuple[int, ...], dtype: str, value: Value) -> Value:
    v = tensor_value(value)
    cast = np.not_equal(v, 0) if dtype == "bool" else v.astype(dtype)
    return np.full(shape, cast, dtype)


def _full_kernel(attrs: InitOpAttrs, args: list[Value], out_type: Type) -> Value:
    ty = tensor_type(out_type)
    return _fill(ty.shape, ty.dtype, args[0])


def _full_like_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    _scalar_fill(arg_types, 1)
    return data


def _full_like_kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
    ty = tensor_type(out_type)
    return _fill(ty.shape, ty.dtype, args[1])


def arange_length(attrs: ArangeAttrs) -> int:
    for name in ("start", "stop", "step"):
        v = getattr(attrs, name)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise DiagnosticError(f"{name} must be a finite number, got {v!r}")
    if attrs.step == 0:
        raise DiagnosticError("step must be nonzero")
    n = math.ceil((attrs.stop - attrs.start) / attrs.step)
    if n <= 0:
        raise DiagnosticError(
            f"start={attrs.start}, stop={attrs.stop}, step={attrs.step} give no elements"
        )
    return n


def _arange_rel(arg_types: list[Type], attrs: ArangeAttrs) -> Type:
    dtype = check_dtype_attr(attrs.dtype)
    scalar = TensorType((), dtype)
    for i, name in enumerate(("start", "stop", "step")):
        got = tensor_arg(arg_types, i, name)
        if got != scalar:
            raise DiagnosticError(f"{name} must be a {dtype} scalar, got {got}")
    return TensorType((arange_length(attrs),), dtype)


def _arange_kernel(attrs: ArangeAttrs, args: list[Value], out_type: Type) -> Value:
    ty = tensor_type(out_type)
    start = np.asarray(attrs.start).astype(ty.dtype)
    step = np.asarray(attrs.step).astype(ty.dtype)
    return np.asarray(start + step * np.arange(ty.shape[0]).astype(ty.dtype))


def _one_hot_rel(arg_types: list[Type], attrs: OneHotAttrs) -> Type:
    indices = tensor_arg(arg_types, 0, "indices")
    expect_integral(indices, "indices")
    on = _scalar_fill(arg_types, 1)
    off = _scalar_fill(arg_types, 2)
    dtype = check_dtype_attr(attrs.dtype or on.dtype)
    if on.dtype != dtype or off.dtype != dtype:
        raise DiagnosticError(f"on_value and off_value must be {dtype} scalars, got {on}, {off}")
    depth = int_attr(attrs.depth, "depth", 0)
    ndim = indices.ndim
    axis = int_attr(attrs.axis, "axis", -1, ndim)
    axis = ndim if axis == -1 else axis
    return TensorType((*indices.shape[:axis], depth, *indices.shape[axis:]), dtype)


def _one_hot_kernel(attrs: OneHotAttrs, args: list[Value], out_type: Type) -> Value:
    idx = tensor_value(args[0])
    on, off = tensor_value(args[1]), tensor_value(args[2])
    hot = idx[..., None] == np.arange(attrs.depth)
    out = np.where(hot, on, off)
    axis = idx.ndim if attrs.axis == -1 else attrs.axis
    return np.moveaxis(out, -1, axis)


def _register() -> None:
    ew = OpPattern.ELEMWISE
    define_op("zeros", _init_rel, _zeros_kernel, attrs_type=InitOpAttrs, num_inputs=0, pattern=ew)
    define_op("ones", _init_rel, _ones_kernel, attrs_type=InitOpAttrs, num_inputs=0, pattern=ew)
    define_op("full", _full_rel, _full_kernel, attrs_type=InitOpAttrs, pattern=ew)
    define_op("full_like", _full_like_rel, _full_like_kernel, num_inputs=2, pattern=ew)
    define_op(
        "arange",
        _arange_rel,
        _arange_kernel,
        attrs_type=ArangeAttrs,
        num_inputs=3,
        pattern=OpPattern.OPAQUE,
    )
    define_op(
        "one_hot",
        _one_hot_rel,
        _one_hot_kernel,
        attrs_type=OneHotAttrs,
        num_inputs=3,
        pattern=OpPattern.OUT_ELEMWISE_FUSABLE,
    )


_register()
