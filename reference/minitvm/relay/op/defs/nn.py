"""Dense layers, activations, softmax, dropout (TVM ``src/relay/op/nn/nn.cc``, ``nn.h``).

Matrix products compute in ``out_dtype`` (the data's dtype by default): both operands are
cast to it first, so ``int8 x int8 -> int32`` accumulates in int32 as TVM does.

``nn.dropout`` is stateful and returns ``(out, mask)``; its reference kernel is inference
mode: ``out`` is the input and ``mask`` is all ones (nothing is dropped), which is what
``SimplifyInference`` makes of it in TVM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_type, tensor_value
from minitvm.relay.op.relation import (
    check_dtype_attr,
    float_attr,
    normalize_axis,
    prod,
    tensor_arg,
)
from minitvm.runtime.dtype import is_bool

__all__ = [
    "BatchMatmulAttrs",
    "BiasAddAttrs",
    "DenseAttrs",
    "DropoutAttrs",
    "LeakyReluAttrs",
    "MatmulAttrs",
    "PReluAttrs",
    "SoftmaxAttrs",
    "out_dtype_of",
]


@dataclass(frozen=True, slots=True)
class DenseAttrs(Attrs):
    units: int | None = None
    out_dtype: str = ""


@dataclass(frozen=True, slots=True)
class MatmulAttrs(Attrs):
    units: int | None = None
    out_dtype: str = ""
    transpose_a: bool = False
    transpose_b: bool = False


@dataclass(frozen=True, slots=True)
class BatchMatmulAttrs(Attrs):
    out_dtype: str = ""
    transpose_a: bool = False
    transpose_b: bool = True


@dataclass(frozen=True, slots=True)
class BiasAddAttrs(Attrs):
    axis: int = 1


@dataclass(frozen=True, slots=True)
class SoftmaxAttrs(Attrs):
    axis: int = -1


@dataclass(frozen=True, slots=True)
class DropoutAttrs(Attrs):
    rate: float = 0.5


@dataclass(frozen=True, slots=True)
class LeakyReluAttrs(Attrs):
    alpha: float = 0.25


@dataclass(frozen=True, slots=True)
class PReluAttrs(Attrs):
    axis: int = 1


def out_dtype_of(out_dtype: str, a: TensorType, b: TensorType) -> str:
    """The result dtype of a product: ``out_dtype``, else the data's dtype (TVM's rule, which
    lets the weight's dtype differ)."""
    if out_dtype:
        return check_dtype_attr(out_dtype, "out_dtype")
    return a.dtype


# --- relu family ------------------------------------------------------------------------------


def _numeric_identity_rel(arg_types: list[Type], attrs: object) -> TensorType:
    data = tensor_arg(arg_types, 0)
    if is_bool(data.dtype):
        raise DiagnosticError("data must be numeric, got bool")
    return data


def _relu_kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    return np.asarray(np.maximum(x, x.dtype.type(0)))


def _leaky_relu_rel(arg_types: list[Type], attrs: LeakyReluAttrs) -> Type:
    float_attr(attrs.alpha, "alpha", 0.0)
    return _numeric_identity_rel(arg_types, attrs)


def _leaky_relu_kernel(attrs: LeakyReluAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    if np.issubdtype(x.dtype, np.floating):
        scaled = x * x.dtype.type(attrs.alpha)
    else:
        scaled = (x.astype(np.float64) * float(attrs.alpha)).astype(x.dtype)
    return np.where(x < 0, scaled, x)


def _prelu_rel(arg_types: list[Type], attrs: PReluAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    alpha = tensor_arg(arg_types, 1, "alpha")
    _numeric_identity_rel(arg_types, attrs)
    axis = normalize_axis(attrs.axis, data.ndim)
    want = TensorType((data.shape[axis],), data.dtype)
    if alpha != want:
        raise DiagnosticError(f"alpha must be {want} for axis {axis} of {data}, got {alpha}")
    return data


def _along(vec: Array, axis: int, ndim: int) -> Array:
    """A 1-D array shaped to broadcast along ``axis`` of an ``ndim``-rank tensor."""
    shape = [1] * ndim
    shape[axis] = vec.shape[0]
    return vec.reshape(shape)


def _prelu_kernel(attrs: PReluAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    alpha = _along(tensor_value(args[1]), normalize_axis(attrs.axis, x.ndim), x.ndim)
    return np.where(x < 0, (x * alpha).astype(x.dtype), x)


# --- dense, matmul, batch_matmul, bias_add ----------------------------------------------------


def _matmul_shapes(
    a: TensorType, b: TensorType, transpose_a: bool, transpose_b: bool, units: int | None
) -> list[int]:
    if a.ndim < (2 if transpose_a else 1):
        raise DiagnosticError(f"tensor_a must have rank >= {2 if transpose_a else 1}, got {a}")
    if b.ndim != 2:
        raise DiagnosticError(f"the weight must be a matrix, got {b}")
    k_a = a.shape[-2] if transpose_a else a.shape[-1]
    k_b = b.shape[1] if transpose_b else b.shape[0]
    n = b.shape[0] if transpose_b else b.shape[1]
    if k_a != k_b:
        raise DiagnosticError(f"reduction dimensions differ: {a} vs {b} ({k_a} != {k_b})")
    if units is not None and units != n:
        raise DiagnosticError(f"units={units} does not match the weight {b}")
    out = list(a.shape)
    if transpose_a:
        out[-2] = a.shape[-1]
    out[-1] = n
    return out


def _dense_rel(arg_types: list[Type], attrs: DenseAttrs) -> Type:
    a = tensor_arg(arg_types, 0)
    w = tensor_arg(arg_types, 1, "weight")
    shape = _matmul_shapes(a, w, False, True, attrs.units)
    return TensorType(shape, out_dtype_of(attrs.out_dtype, a, w))


def _dense_kernel(attrs: DenseAttrs, args: list[Value], out_type: Type) -> Value:
    dtype = tensor_type(out_type).dtype
    x = tensor_value(args[0]).astype(dtype, copy=False)
    w = tensor_value(args[1]).astype(dtype, copy=False)
    return np.asarray(np.matmul(x, w.T))


def _matmul_rel(arg_types: list[Type], attrs: MatmulAttrs) -> Type:
    a = tensor_arg(arg_types, 0, "tensor_a")
    b = tensor_arg(arg_types, 1, "tensor_b")
    shape = _matmul_shapes(a, b, bool(attrs.transpose_a), bool(attrs.transpose_b), attrs.units)
    return TensorType(shape, out_dtype_of(attrs.out_dtype, a, b))


def _matmul_kernel(attrs: MatmulAttrs, args: list[Value], out_type: Type) -> Value:
    dtype = tensor_type(out_type).dtype
    a = tensor_value(args[0]).astype(dtype, copy=False)
    b = tensor_value(args[1]).astype(dtype, copy=False)
    if attrs.transpose_a:
        a = np.swapaxes(a, -1, -2)
    return np.asarray(np.matmul(a, b.T if attrs.transpose_b else b))


def _batch_matmul_rel(arg_types: list[Type], attrs: BatchMatmulAttrs) -> Type:
    x = tensor_arg(arg_types, 0, "tensor_a")
    y = tensor_arg(arg_types, 1, "tensor_b")
    if x.ndim != 3 or y.ndim != 3:
        raise DiagnosticError(f"both operands must have rank 3, got {x} and {y}")
    xb, xi, xk = x.shape[0], *(x.shape[2:0:-1] if attrs.transpose_a else x.shape[1:])
    yb, yk, yj = y.shape[0], *(y.shape[2:0:-1] if attrs.transpose_b else y.shape[1:])
    if not (xb == yb or xb == 1 or yb == 1):
        raise DiagnosticError(f"batch dimensions differ: {x} vs {y}")
    if xk != yk:
        raise DiagnosticError(f"reduction dimensions differ: {x} vs {y} ({xk} != {yk})")
    return TensorType((max(xb, yb), xi, yj), out_dtype_of(attrs.out_dtype, x, y))


def _batch_matmul_kernel(attrs: BatchMatmulAttrs, args: list[Value], out_type: Type) -> Value:
    dtype = tensor_type(out_type).dtype
    a = tensor_value(args[0]).astype(dtype, copy=False)
    b = tensor_value(args[1]).astype(dtype, copy=False)
    if attrs.transpose_a:
        a = np.swapaxes(a, 1, 2)
    if attrs.transpose_b:
        b = np.swapaxes(b, 1, 2)
    return np.asarray(np.matmul(a, b))


def _bias_add_rel(arg_types: list[Type], attrs: BiasAddAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    bias = tensor_arg(arg_types, 1, "bias")
    axis = normalize_axis(attrs.axis, data.ndim)
    want = TensorType((data.shape[axis],), data.dtype)
    if bias != want:
        raise DiagnosticError(f"bias must be {want} for axis {axis} of {data}, got {bias}")
    return data


def _bias_add_kernel(attrs: BiasAddAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    return x + _along(tensor_value(args[1]), normalize_axis(attrs.axis, x.ndim), x.ndim)


def _batch_flatten_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    if data.ndim == 0:
        raise DiagnosticError("data must have rank at least 1")
    return TensorType((data.shape[0], prod(data.shape[1:])), data.dtype)


def _batch_flatten_kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
    return tensor_value(args[0]).reshape(tensor_type(out_type).shape)


# --- softmax, dropout ---------------------------------------------------------------------------


def _softmax_rel(arg_types: list[Type], attrs: SoftmaxAttrs) -> Type:
    data = _numeric_identity_rel(arg_types, attrs)
    normalize_axis(attrs.axis, data.ndim)
    return data


def _float_input(x: Array) -> Array:
    """Softmax of an integer tensor is computed in float64 and truncated back."""
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _softmax_kernel(attrs: SoftmaxAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    xf = _float_input(x)
    e = np.exp(xf - np.max(xf, axis=attrs.axis, keepdims=True, initial=-np.inf))
    return np.asarray(e / np.sum(e, axis=attrs.axis, keepdims=True)).astype(x.dtype)


def _log_softmax_kernel(attrs: SoftmaxAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    xf = _float_input(x)
    shifted = xf - np.max(xf, axis=attrs.axis, keepdims=True, initial=-np.inf)
    out = shifted - np.log(np.sum(np.exp(shifted), axis=attrs.axis, keepdims=True))
    return np.asarray(out).astype(x.dtype)


def _dropout_rel(arg_types: list[Type], attrs: DropoutAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if float_attr(attrs.rate, "rate", 0.0) > 1:
        raise DiagnosticError(f"rate must be in [0, 1], got {attrs.rate}")
    return TupleType([data, data])


def _dropout_kernel(attrs: DropoutAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    return (x.copy(), np.ones_like(x))


def _register() -> None:
    ew = OpPattern.ELEMWISE
    fusable = OpPattern.OUT_ELEMWISE_FUSABLE
    define_op("nn.relu", _numeric_identity_rel, _relu_kernel, pattern=ew)
    define_op(
        "nn.leaky_relu",
        _leaky_relu_rel,
        _leaky_relu_kernel,
        attrs_type=LeakyReluAttrs,
        pattern=ew,
    )
    define_op(
        "nn.prelu",
        _prelu_rel,
        _prelu_kernel,
        attrs_type=PReluAttrs,
        num_inputs=2,
        pattern=OpPattern.BROADCAST,
    )
    define_op(
        "nn.dense",
        _dense_rel,
        _dense_kernel,
        attrs_type=DenseAttrs,
        num_inputs=2,
        pattern=fusable,
    )
    define_op(
        "nn.matmul",
        _matmul_rel,
        _matmul_kernel,
        attrs_type=MatmulAttrs,
        num_inputs=2,
        pattern=fusable,
    )
    define_op(
        "nn.batch_matmul",
        _batch_matmul_rel,
        _batch_matmul_kernel,
        attrs_type=BatchMatmulAttrs,
        num_inputs=2,
        pattern=fusable,
    )
    define_op(
        "nn.bias_add",
        _bias_add_rel,
        _bias_add_kernel,
        attrs_type=BiasAddAttrs,
        num_inputs=2,
        pattern=OpPattern.BROADCAST,
    )
    define_op(
        "nn.batch_flatten",
        _batch_flatten_rel,
        _batch_flatten_kernel,
        pattern=OpPattern.INJECTIVE,
        reshape_only=True,
    )
    for name, kernel in (
        ("nn.softmax", _softmax_kernel),
        ("nn.fast_softmax", _softmax_kernel),
        ("nn.log_softmax", _log_softmax_kernel),
    ):
        define_op(name, _softmax_rel, kernel, attrs_type=SoftmaxAttrs, pattern=fusable)
    define_op(
        "nn.dropout",
        _dropout_rel,
        _dropout_kernel,
        attrs_type=DropoutAttrs,
        pattern=OpPattern.OPAQUE,
        stateful=True,
    )


_register()
