"""Builders of the elementwise, broadcasting and creation operators (TVM
``python/tvm/relay/op/tensor.py``): ``relay.add``, ``relay.exp``, ``relay.zeros``...

Each returns a ``Call`` of the operator; types are checked when InferType runs.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from minitvm.relay.expr import Call, Constant, Expr
from minitvm.relay.op.arguments import int_of, ints
from minitvm.relay.op.define import make_call, tuple_expr
from minitvm.relay.op.defs.transform import ConcatenateAttrs, InitOpAttrs, StackAttrs
from minitvm.relay.op.defs.unary import ClipAttrs, NdarraySizeAttrs, ShapeOfAttrs
from minitvm.runtime.dtype import check_dtype

__all__ = [
    "abs",
    "acos",
    "acosh",
    "add",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "ceil",
    "clip",
    "concatenate",
    "copy",
    "cos",
    "cosh",
    "divide",
    "equal",
    "erf",
    "exp",
    "fast_erf",
    "fast_exp",
    "fast_tanh",
    "floor",
    "floor_divide",
    "floor_mod",
    "greater",
    "greater_equal",
    "isfinite",
    "isinf",
    "isnan",
    "left_shift",
    "less",
    "less_equal",
    "log",
    "log10",
    "log2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "ndarray_size",
    "negative",
    "not_equal",
    "ones",
    "ones_like",
    "power",
    "right_shift",
    "round",
    "rsqrt",
    "shape_of",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "stack",
    "subtract",
    "tan",
    "tanh",
    "trunc",
    "trunc_divide",
    "trunc_mod",
    "zeros",
    "zeros_like",
]


# --- elementwise unary -----------------------------------------------------------------------


def log(data: Expr) -> Call:
    return make_call("log", [data])


def log2(data: Expr) -> Call:
    return make_call("log2", [data])


def log10(data: Expr) -> Call:
    return make_call("log10", [data])


def tan(data: Expr) -> Call:
    return make_call("tan", [data])


def cos(data: Expr) -> Call:
    return make_call("cos", [data])


def cosh(data: Expr) -> Call:
    return make_call("cosh", [data])


def sin(data: Expr) -> Call:
    return make_call("sin", [data])


def sinh(data: Expr) -> Call:
    return make_call("sinh", [data])


def acos(data: Expr) -> Call:
    return make_call("acos", [data])


def acosh(data: Expr) -> Call:
    return make_call("acosh", [data])


def asin(data: Expr) -> Call:
    return make_call("asin", [data])


def asinh(data: Expr) -> Call:
    return make_call("asinh", [data])


def atan(data: Expr) -> Call:
    return make_call("atan", [data])


def atanh(data: Expr) -> Call:
    return make_call("atanh", [data])


def exp(data: Expr) -> Call:
    return make_call("exp", [data])


def fast_exp(data: Expr) -> Call:
    return make_call("fast_exp", [data])


def erf(data: Expr) -> Call:
    return make_call("erf", [data])


def fast_erf(data: Expr) -> Call:
    return make_call("fast_erf", [data])


def sqrt(data: Expr) -> Call:
    return make_call("sqrt", [data])


def rsqrt(data: Expr) -> Call:
    return make_call("rsqrt", [data])


def sigmoid(data: Expr) -> Call:
    return make_call("sigmoid", [data])


def floor(data: Expr) -> Call:
    return make_call("floor", [data])


def ceil(data: Expr) -> Call:
    return make_call("ceil", [data])


def trunc(data: Expr) -> Call:
    return make_call("trunc", [data])


def round(data: Expr) -> Call:
    return make_call("round", [data])


def abs(data: Expr) -> Call:
    return make_call("abs", [data])


def sign(data: Expr) -> Call:
    return make_call("sign", [data])


def tanh(data: Expr) -> Call:
    return make_call("tanh", [data])


def fast_tanh(data: Expr) -> Call:
    return make_call("fast_tanh", [data])


def negative(data: Expr) -> Call:
    return make_call("negative", [data])


def logical_not(data: Expr) -> Call:
    return make_call("logical_not", [data])


def bitwise_not(data: Expr) -> Call:
    return make_call("bitwise_not", [data])


def isnan(data: Expr) -> Call:
    return make_call("isnan", [data])


def isfinite(data: Expr) -> Call:
    return make_call("isfinite", [data])


def isinf(data: Expr) -> Call:
    return make_call("isinf", [data])


def copy(data: Expr) -> Call:
    return make_call("copy", [data])


def zeros_like(data: Expr) -> Call:
    return make_call("zeros_like", [data])


def ones_like(data: Expr) -> Call:
    return make_call("ones_like", [data])


def clip(a: Expr, a_min: float, a_max: float) -> Call:
    """Clamp ``a`` to ``[a_min, a_max]``."""
    return make_call("clip", [a], ClipAttrs(builtins.float(a_min), builtins.float(a_max)))


def shape_of(data: Expr, dtype: str = "int32") -> Call:
    return make_call("shape_of", [data], ShapeOfAttrs(dtype))


def ndarray_size(data: Expr, dtype: str = "int32") -> Call:
    return make_call("ndarray_size", [data], NdarraySizeAttrs(dtype))


# --- broadcasting binary ---------------------------------------------------------------------


def add(lhs: Expr, rhs: Expr) -> Call:
    return make_call("add", [lhs, rhs])


def subtract(lhs: Expr, rhs: Expr) -> Call:
    return make_call("subtract", [lhs, rhs])


def multiply(lhs: Expr, rhs: Expr) -> Call:
    return make_call("multiply", [lhs, rhs])


def divide(lhs: Expr, rhs: Expr) -> Call:
    return make_call("divide", [lhs, rhs])


def floor_divide(lhs: Expr, rhs: Expr) -> Call:
    return make_call("floor_divide", [lhs, rhs])


def trunc_divide(lhs: Expr, rhs: Expr) -> Call:
    return make_call("trunc_divide", [lhs, rhs])


def power(lhs: Expr, rhs: Expr) -> Call:
    return make_call("power", [lhs, rhs])


def mod(lhs: Expr, rhs: Expr) -> Call:
    return make_call("mod", [lhs, rhs])


def floor_mod(lhs: Expr, rhs: Expr) -> Call:
    return make_call("floor_mod", [lhs, rhs])


def trunc_mod(lhs: Expr, rhs: Expr) -> Call:
    return make_call("trunc_mod", [lhs, rhs])


def logical_and(lhs: Expr, rhs: Expr) -> Call:
    return make_call("logical_and", [lhs, rhs])


def logical_or(lhs: Expr, rhs: Expr) -> Call:
    return make_call("logical_or", [lhs, rhs])


def logical_xor(lhs: Expr, rhs: Expr) -> Call:
    return make_call("logical_xor", [lhs, rhs])


def bitwise_and(lhs: Expr, rhs: Expr) -> Call:
    return make_call("bitwise_and", [lhs, rhs])


def bitwise_or(lhs: Expr, rhs: Expr) -> Call:
    return make_call("bitwise_or", [lhs, rhs])


def bitwise_xor(lhs: Expr, rhs: Expr) -> Call:
    return make_call("bitwise_xor", [lhs, rhs])


def equal(lhs: Expr, rhs: Expr) -> Call:
    return make_call("equal", [lhs, rhs])


def not_equal(lhs: Expr, rhs: Expr) -> Call:
    return make_call("not_equal", [lhs, rhs])


def less(lhs: Expr, rhs: Expr) -> Call:
    return make_call("less", [lhs, rhs])


def less_equal(lhs: Expr, rhs: Expr) -> Call:
    return make_call("less_equal", [lhs, rhs])


def greater(lhs: Expr, rhs: Expr) -> Call:
    return make_call("greater", [lhs, rhs])


def greater_equal(lhs: Expr, rhs: Expr) -> Call:
    return make_call("greater_equal", [lhs, rhs])


def maximum(lhs: Expr, rhs: Expr) -> Call:
    return make_call("maximum", [lhs, rhs])


def minimum(lhs: Expr, rhs: Expr) -> Call:
    return make_call("minimum", [lhs, rhs])


def right_shift(lhs: Expr, rhs: Expr) -> Call:
    return make_call("right_shift", [lhs, rhs])


def left_shift(lhs: Expr, rhs: Expr) -> Call:
    return make_call("left_shift", [lhs, rhs])


# --- creation and tuples ----------------------------------------------------------------------


def zeros(shape: int | Sequence[int] | Constant, dtype: str) -> Call:
    return make_call("zeros", [], InitOpAttrs(ints(shape, "shape"), check_dtype(dtype)))


def ones(shape: int | Sequence[int] | Constant, dtype: str) -> Call:
    return make_call("ones", [], InitOpAttrs(ints(shape, "shape"), check_dtype(dtype)))


def concatenate(data: Expr | Sequence[Expr], axis: int) -> Call:
    """Join a tuple (or list) of tensors along ``axis``."""
    return make_call("concatenate", [tuple_expr(data)], ConcatenateAttrs(int_of(axis, "axis")))


def stack(data: Expr | Sequence[Expr], axis: int) -> Call:
    """Stack a tuple (or list) of same-typed tensors along a new axis."""
    return make_call("stack", [tuple_expr(data)], StackAttrs(int_of(axis, "axis")))
