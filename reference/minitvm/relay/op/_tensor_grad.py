"""Gradients of Relay operators (TVM ``python/tvm/relay/op/_tensor_grad.py``).

Each operator's gradient is its ``FPrimalGradient`` attribute: ``grad_fn(orig, grad)`` takes
the forward call ``orig`` (its arguments carry their types: typed variables or typed nodes)
and the gradient flowing into its result, and returns one gradient expression per argument.
Both automatic differentiation passes (``transform/higher_order_gradient.py`` and
``transform/first_order_gradient.py``) read this attribute.

Broadcasting operators undo the broadcast with ``collapse_sum_like``, as TVM does. A
gradient may use ``orig`` itself (``sigmoid``, ``tanh``, ``softmax``): the forward value is
recomputed where the gradient is evaluated, as in TVM.

Deliberate differences from TVM: ``clip`` compares against its float bounds (TVM reads them
as integers); ``maximum``, ``minimum`` and ``power`` have gradients (TVM registers none);
``maximum``/``minimum`` send the gradient of a tie to the left operand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from minitvm.error import DiagnosticError
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.builder import const
from minitvm.relay.expr import Call, Constant, Expr, Var
from minitvm.relay.op.defs.nn import BiasAddAttrs, SoftmaxAttrs
from minitvm.relay.op.defs.reduce import ReduceAttrs
from minitvm.relay.op.defs.transform import ConcatenateAttrs, ExpandDimsAttrs, TransposeAttrs
from minitvm.relay.op.defs.unary import ClipAttrs
from minitvm.relay.op.nn.nn import dense
from minitvm.relay.op.op import register_gradient
from minitvm.relay.op.reduce import sum as _sum
from minitvm.relay.op.tensor import (
    divide,
    exp,
    greater_equal,
    less,
    less_equal,
    log,
    multiply,
    negative,
    ones_like,
    power,
    subtract,
    zeros_like,
)
from minitvm.relay.op.transform import (
    broadcast_to_like,
    cast_like,
    collapse_sum_like,
    expand_dims,
    reshape_like,
    split,
    squeeze,
    transpose,
    where,
)

__all__ = ["tuple_type_of", "type_of"]

A = TypeVar("A")


def _known_type(expr: Expr) -> Type | None:
    ty = expr.checked_type_
    if ty is None and isinstance(expr, Var):
        ty = expr.type_annotation
    if ty is None and isinstance(expr, Constant):
        data = expr.data.numpy()
        ty = TensorType(data.shape, str(data.dtype))
    return ty


def type_of(expr: Expr) -> TensorType:
    """The tensor type of a forward value: a typed variable, a constant or a typed node."""
    ty = _known_type(expr)
    if not isinstance(ty, TensorType):
        raise DiagnosticError(
            f"a gradient needs the tensor type of {type(expr).__name__} {expr}, got {ty}; "
            "run InferType first"
        )
    return ty


def tuple_type_of(expr: Expr) -> TupleType:
    """The tuple type of a forward value (``concatenate``'s operand)."""
    ty = _known_type(expr)
    if not isinstance(ty, TupleType):
        raise DiagnosticError(
            f"a gradient needs the tuple type of {type(expr).__name__} {expr}, got {ty}"
        )
    return ty


def _attrs(orig: Call, kind: type[A]) -> A:
    attrs = orig.attrs
    if not isinstance(attrs, kind):
        raise DiagnosticError(
            f"gradient of {orig.op}: expected {kind.__name__}, got {type(attrs).__name__}"
        )
    return attrs


def _scalar(value: float, like: Expr) -> Constant:
    return const(value, type_of(like).dtype)


# --- elementwise ----------------------------------------------------------------------------


@register_gradient("add")
def add_grad(orig: Call, grad: Expr) -> list[Expr]:
    x, y = orig.args
    return [collapse_sum_like(grad, x), collapse_sum_like(grad, y)]


@register_gradient("subtract")
def subtract_grad(orig: Call, grad: Expr) -> list[Expr]:
    x, y = orig.args
    return [collapse_sum_like(grad, x), collapse_sum_like(negative(grad), y)]


@register_gradient("multiply")
def multiply_grad(orig: Call, grad: Expr) -> list[Expr]:
    x, y = orig.args
    return [collapse_sum_like(multiply(grad, y), x), collapse_sum_like(multiply(grad, x), y)]


@register_gradient("divide")
def divide_grad(orig: Call, grad: Expr) -> list[Expr]:
    x, y = orig.args
    return [
        collapse_sum_like(divide(grad, y), x),
        collapse_sum_like(negative(divide(multiply(grad, orig), y)), y),
    ]


@register_gradient("power")
def power_grad(orig: Call, grad: Expr) -> list[Expr]:
    """d(x^y)/dx = y * x^(y-1); d(x^y)/dy = x^y * log(x) (NaN where x <= 0)."""
    x, y = orig.args
    dx = multiply(multiply(grad, y), power(x, subtract(y, ones_like(y))))
    dy = multiply(multiply(grad, orig), log(x))
    return [collapse_sum_like(dx, x), collapse_sum_like(dy, y)]


def _select_grad(orig: Call, grad: Expr, left_wins: Callable[[Expr, Expr], Call]) -> list[Expr]:
    x, y = orig.args
    mask = left_wins(x, y)
    zeros = zeros_like(grad)
    return [
        collapse_sum_like(where(mask, grad, zeros), x),
        collapse_sum_like(where(mask, zeros, grad), y),
    ]


@register_gradient("maximum")
def maximum_grad(orig: Call, grad: Expr) -> list[Expr]:
    return _select_grad(orig, grad, greater_equal)


@register_gradient("minimum")
def minimum_grad(orig: Call, grad: Expr) -> list[Expr]:
    return _select_grad(orig, grad, less_equal)


@register_gradient("negative")
def negative_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [negative(grad)]


@register_gradient("exp")
def exp_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [multiply(grad, exp(orig.args[0]))]


@register_gradient("log")
def log_grad(orig: Call, grad: Expr) -> list[Expr]:
    x = orig.args[0]
    return [divide(multiply(grad, ones_like(x)), x)]


@register_gradient("sqrt")
def sqrt_grad(orig: Call, grad: Expr) -> list[Expr]:
    x = orig.args[0]
    half = _scalar(0.5, x)
    return [multiply(multiply(grad, half), power(x, negative(half)))]


@register_gradient("sigmoid")
def sigmoid_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [multiply(multiply(grad, orig), subtract(ones_like(orig), orig))]


@register_gradient("tanh")
def tanh_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [multiply(grad, subtract(ones_like(orig), multiply(orig, orig)))]


@register_gradient("nn.relu")
def relu_grad(orig: Call, grad: Expr) -> list[Expr]:
    x = orig.args[0]
    zeros = zeros_like(x)
    return [where(less(x, zeros), zeros, multiply(ones_like(x), grad))]


@register_gradient("clip")
def clip_grad(orig: Call, grad: Expr) -> list[Expr]:
    x = orig.args[0]
    attrs = _attrs(orig, ClipAttrs)
    lo = broadcast_to_like(_scalar(attrs.a_min, x), x)
    hi = broadcast_to_like(_scalar(attrs.a_max, x), x)
    zeros = zeros_like(x)
    return [where(less(x, lo), zeros, where(less(hi, x), zeros, multiply(ones_like(x), grad)))]


@register_gradient("copy")
def copy_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [grad]


@register_gradient("cast")
def cast_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [cast_like(grad, orig.args[0])]


# --- creation and broadcasting --------------------------------------------------------------


@register_gradient("zeros")
def zeros_grad(orig: Call, grad: Expr) -> list[Expr]:
    return []


@register_gradient("ones")
def ones_grad(orig: Call, grad: Expr) -> list[Expr]:
    return []


@register_gradient("zeros_like")
def zeros_like_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [orig]


@register_gradient("ones_like")
def ones_like_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [zeros_like(orig.args[0])]


@register_gradient("collapse_sum_like")
def collapse_sum_like_grad(orig: Call, grad: Expr) -> list[Expr]:
    x, y = orig.args
    return [broadcast_to_like(grad, x), zeros_like(y)]


@register_gradient("broadcast_to")
def broadcast_to_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [collapse_sum_like(grad, orig.args[0])]


@register_gradient("broadcast_to_like")
def broadcast_to_like_grad(orig: Call, grad: Expr) -> list[Expr]:
    x, y = orig.args
    return [collapse_sum_like(grad, x), zeros_like(y)]


# --- shape ----------------------------------------------------------------------------------


@register_gradient("reshape")
def reshape_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [reshape_like(grad, orig.args[0])]


@register_gradient("squeeze")
def squeeze_grad(orig: Call, grad: Expr) -> list[Expr]:
    return [reshape_like(grad, orig.args[0])]


@register_gradient("expand_dims")
def expand_dims_grad(orig: Call, grad: Expr) -> list[Expr]:
    attrs = _attrs(orig, ExpandDimsAttrs)
    axis = attrs.axis if attrs.axis >= 0 else attrs.axis + len(type_of(orig.args[0]).shape) + 1
    return [squeeze(grad, axis=list(range(axis, axis + attrs.num_newaxis)))]


@register_gradient("transpose")
def transpose_grad(orig: Call, grad: Expr) -> list[Expr]:
    attrs = _attrs(orig, TransposeAttrs)
    if not attrs.axes:
        return [transpose(grad)]
    rank = len(attrs.axes)
    inverse = [0] * rank
    for i, axis in enumerate(attrs.axes):
        inverse[axis % rank] = i
    return [transpose(grad, inverse)]


@register_gradient("concatenate")
def concatenate_grad(orig: Call, grad: Expr) -> list[Expr]:
    """The output gradient split back into the operands' extents along the axis."""
    attrs = _attrs(orig, ConcatenateAttrs)
    fields = [t for t in tuple_type_of(orig.args[0]).fields if isinstance(t, TensorType)]
    axis = attrs.axis % len(fields[0].shape)
    splits: list[int] = []
    for field in fields[:-1]:
        splits.append((splits[-1] if splits else 0) + field.shape[axis])
    return [split(grad, splits, axis).astuple()]


# --- reductions -----------------------------------------------------------------------------


def _reduce_axes(orig: Call) -> list[int]:
    """The reduced axes as sorted non-negative integers (every axis when ``axis`` is None)."""
    attrs = _attrs(orig, ReduceAttrs)
    rank = len(type_of(orig.args[0]).shape)
    if attrs.axis is None:
        return list(range(rank))
    axes = sorted({a % rank for a in attrs.axis}) if rank else []
    if attrs.exclude:
        axes = [a for a in range(rank) if a not in axes]
    return axes


def _unreduce(orig: Call, grad: Expr) -> Expr:
    """``grad`` with the reduced axes put back (as size 1) when the reduction dropped them."""
    attrs = orig.attrs
    if isinstance(attrs, ReduceAttrs) and not attrs.keepdims:
        for axis in _reduce_axes(orig):
            grad = expand_dims(grad, axis)
    return grad


@register_gradient("sum")
def sum_grad(orig: Call, grad: Expr) -> list[Expr]:
    data = orig.args[0]
    return [broadcast_to_like(_unreduce(orig, grad), data)]


@register_gradient("mean")
def mean_grad(orig: Call, grad: Expr) -> list[Expr]:
    data = orig.args[0]
    shape = type_of(data).shape
    count = 1
    for axis in _reduce_axes(orig):
        count *= shape[axis]
    scale = _scalar(1.0 / max(count, 1), data)
    return [broadcast_to_like(multiply(_unreduce(orig, grad), scale), data)]


# --- neural network -------------------------------------------------------------------------


@register_gradient("nn.softmax")
def softmax_grad(orig: Call, grad: Expr) -> list[Expr]:
    attrs = _attrs(orig, SoftmaxAttrs)
    return [multiply(subtract(grad, _sum(multiply(grad, orig), attrs.axis, True)), orig)]


@register_gradient("nn.log_softmax")
def log_softmax_grad(orig: Call, grad: Expr) -> list[Expr]:
    attrs = _attrs(orig, SoftmaxAttrs)
    return [subtract(grad, multiply(_sum(grad, attrs.axis, True), exp(orig)))]


@register_gradient("nn.bias_add")
def bias_add_grad(orig: Call, grad: Expr) -> list[Expr]:
    attrs = _attrs(orig, BiasAddAttrs)
    data = orig.args[0]
    return [collapse_sum_like(grad, data), _sum(grad, attrs.axis, keepdims=False, exclude=True)]


@register_gradient("nn.dense")
def dense_grad(orig: Call, grad: Expr) -> list[Expr]:
    data, weight = orig.args
    data_t, weight_t = type_of(data), type_of(weight)
    return [
        collapse_sum_like(dense(grad, transpose(weight), units=weight_t.shape[1]), data),
        collapse_sum_like(dense(transpose(grad), transpose(data), units=data_t.shape[1]), weight),
    ]
