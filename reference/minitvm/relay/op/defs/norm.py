"""Normalization layers (TVM ``src/relay/op/nn/nn.cc``; ``topi/nn/batch_norm``,
``layer_norm.h``, ``group_norm.h``, ``instance_norm.h``, ``local_response_norm.h``).

``nn.batch_norm`` is the inference form: it normalizes with the given moving statistics and
returns ``(out, moving_mean, moving_var)``. ``layer_norm``, ``group_norm`` and
``instance_norm`` compute the statistics of the data, with TVM's formulation of the variance,
``E[x^2] - E[x]^2``. ``center``/``scale`` switch ``beta``/``gamma`` on or off.
``nn.lrn`` is ``x / (bias + alpha / size * sum of x^2 over a centred window of size)^beta``
with zero padding; the window size must be odd.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_value
from minitvm.relay.op.relation import (
    expect_float,
    float_attr,
    int_attr,
    normalize_axis,
    tensor_arg,
)

__all__ = [
    "BatchNormAttrs",
    "GroupNormAttrs",
    "InstanceNormAttrs",
    "LRNAttrs",
    "LayerNormAttrs",
]


@dataclass(frozen=True, slots=True)
class BatchNormAttrs(Attrs):
    axis: int = 1
    epsilon: float = 1e-5
    center: bool = True
    scale: bool = True


@dataclass(frozen=True, slots=True)
class LayerNormAttrs(Attrs):
    axis: int = -1
    epsilon: float = 1e-5
    center: bool = True
    scale: bool = True


@dataclass(frozen=True, slots=True)
class InstanceNormAttrs(Attrs):
    axis: int = 1
    epsilon: float = 1e-5
    center: bool = True
    scale: bool = True


@dataclass(frozen=True, slots=True)
class GroupNormAttrs(Attrs):
    num_groups: int = 0
    axis: int = 1
    epsilon: float = 1e-5
    center: bool = True
    scale: bool = True


@dataclass(frozen=True, slots=True)
class LRNAttrs(Attrs):
    size: int = 5
    axis: int = 1
    bias: float = 2.0
    alpha: float = 0.0001
    beta: float = 0.75


NormAttrs = BatchNormAttrs | LayerNormAttrs | InstanceNormAttrs | GroupNormAttrs


def _channel_params(
    arg_types: list[Type], attrs: NormAttrs, names: tuple[str, ...]
) -> tuple[TensorType, int]:
    """Check data and its per-channel parameters (gamma, beta, ...), all ``(C,)``."""
    data = tensor_arg(arg_types, 0)
    expect_float(data)
    axis = normalize_axis(attrs.axis, data.ndim)
    want = TensorType((data.shape[axis],), data.dtype)
    for i, name in enumerate(names, start=1):
        got = tensor_arg(arg_types, i, name)
        if got != want:
            raise DiagnosticError(f"{name} must be {want} for axis {axis} of {data}, got {got}")
    float_attr(attrs.epsilon, "epsilon", 0.0)
    return data, axis


def _along(vec: Array, axis: int, ndim: int) -> Array:
    shape = [1] * ndim
    shape[axis] = vec.shape[0]
    return vec.reshape(shape)


def _affine(y: Array, gamma: Array, beta: Array, axis: int, attrs: NormAttrs) -> Array:
    if attrs.scale:
        y = y * _along(gamma, axis, y.ndim)
    if attrs.center:
        y = y + _along(beta, axis, y.ndim)
    return y


def _normalize(x: Array, axes: tuple[int, ...], epsilon: float) -> Array:
    n = x.dtype.type(int(np.prod([x.shape[a] for a in axes], dtype=np.int64)))
    mean = np.sum(x, axis=axes, keepdims=True) / n
    var = np.sum(x * x, axis=axes, keepdims=True) / n - mean * mean
    return np.asarray((x - mean) / np.sqrt(var + x.dtype.type(epsilon)))


# --- batch_norm ---------------------------------------------------------------------------------


def _batch_norm_rel(arg_types: list[Type], attrs: BatchNormAttrs) -> Type:
    names = ("gamma", "beta", "moving_mean", "moving_var")
    data, axis = _channel_params(arg_types, attrs, names)
    vec = TensorType((data.shape[axis],), data.dtype)
    return TupleType([data, vec, vec])


def _batch_norm_kernel(attrs: BatchNormAttrs, args: list[Value], out_type: Type) -> Value:
    x, gamma, beta, mean, var = (tensor_value(a) for a in args)
    axis = normalize_axis(attrs.axis, x.ndim)
    eps = x.dtype.type(attrs.epsilon)
    y = (x - _along(mean, axis, x.ndim)) / np.sqrt(_along(var, axis, x.ndim) + eps)
    return (_affine(y, gamma, beta, axis, attrs), mean.copy(), var.copy())


# --- layer_norm, instance_norm, group_norm --------------------------------------------------


def _stats_rel(arg_types: list[Type], attrs: NormAttrs) -> Type:
    data, _ = _channel_params(arg_types, attrs, ("gamma", "beta"))
    return data


def _layer_norm_kernel(attrs: LayerNormAttrs, args: list[Value], out_type: Type) -> Value:
    x, gamma, beta = (tensor_value(a) for a in args)
    axis = normalize_axis(attrs.axis, x.ndim)
    return _affine(_normalize(x, (axis,), attrs.epsilon), gamma, beta, axis, attrs)


def _instance_norm_rel(arg_types: list[Type], attrs: InstanceNormAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if data.ndim < 3:
        raise DiagnosticError(f"data must have rank >= 3 (batch, channel, spatial), got {data}")
    return _stats_rel(arg_types, attrs)


def _instance_norm_kernel(attrs: InstanceNormAttrs, args: list[Value], out_type: Type) -> Value:
    x, gamma, beta = (tensor_value(a) for a in args)
    axis = normalize_axis(attrs.axis, x.ndim)
    axes = tuple(a for a in range(1, x.ndim) if a != axis)
    return _affine(_normalize(x, axes, attrs.epsilon), gamma, beta, axis, attrs)


def _group_norm_rel(arg_types: list[Type], attrs: GroupNormAttrs) -> Type:
    data, axis = _channel_params(arg_types, attrs, ("gamma", "beta"))
    groups = int_attr(attrs.num_groups, "num_groups", 1)
    if data.shape[axis] % groups:
        raise DiagnosticError(
            f"num_groups={groups!r} must be a positive divisor of the {data.shape[axis]} channels"
        )
    if axis == 0:
        raise DiagnosticError("the channel axis cannot be the batch axis 0")
    return data


def _group_norm_kernel(attrs: GroupNormAttrs, args: list[Value], out_type: Type) -> Value:
    x, gamma, beta = (tensor_value(a) for a in args)
    axis = normalize_axis(attrs.axis, x.ndim)
    g = attrs.num_groups
    grouped = x.reshape((*x.shape[:axis], g, x.shape[axis] // g, *x.shape[axis + 1 :]))
    # Statistics over the channels of a group and every later axis (TVM's SimplifyInference
    # rewrite, the op's only realization in TVM); axes between the batch and the channels are
    # not reduced.
    axes = tuple(range(axis + 1, grouped.ndim))
    y = _normalize(grouped, axes, attrs.epsilon).reshape(x.shape)
    return _affine(y, gamma, beta, axis, attrs)


# --- lrn ----------------------------------------------------------------------------------------


def _lrn_rel(arg_types: list[Type], attrs: LRNAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    expect_float(data)
    normalize_axis(attrs.axis, data.ndim)
    for name in ("bias", "alpha", "beta"):
        float_attr(getattr(attrs, name), name)
    if int_attr(attrs.size, "size", 1) % 2 == 0:
        raise DiagnosticError(f"size must be a positive odd integer, got {attrs.size!r}")
    return data


def _lrn_kernel(attrs: LRNAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    axis = normalize_axis(attrs.axis, x.ndim)
    if x.shape[axis] == 0:  # no windows (a window would not fit the empty padded axis)
        return x.copy()
    half = attrs.size // 2
    pad = [(0, 0)] * x.ndim
    pad[axis] = (half, half)
    sq = np.pad(x * x, pad)
    window = np.lib.stride_tricks.sliding_window_view(sq, attrs.size, axis=axis).sum(
        axis=-1, dtype=x.dtype
    )
    t = x.dtype.type
    denom = np.power(t(attrs.bias) + t(attrs.alpha) * window / t(attrs.size), t(attrs.beta))
    return np.asarray(x / denom)


def _register() -> None:
    fusable = OpPattern.OUT_ELEMWISE_FUSABLE
    define_op(
        "nn.batch_norm",
        _batch_norm_rel,
        _batch_norm_kernel,
        attrs_type=BatchNormAttrs,
        num_inputs=5,
        pattern=fusable,
    )
    # TVM registers no fusion pattern for these three, which makes them opaque.
    define_op(
        "nn.layer_norm",
        _stats_rel,
        _layer_norm_kernel,
        attrs_type=LayerNormAttrs,
        num_inputs=3,
    )
    define_op(
        "nn.instance_norm",
        _instance_norm_rel,
        _instance_norm_kernel,
        attrs_type=InstanceNormAttrs,
        num_inputs=3,
    )
    define_op(
        "nn.group_norm",
        _group_norm_rel,
        _group_norm_kernel,
        attrs_type=GroupNormAttrs,
        num_inputs=3,
    )
    define_op("nn.lrn", _lrn_rel, _lrn_kernel, attrs_type=LRNAttrs, pattern=OpPattern.OPAQUE)


_register()
