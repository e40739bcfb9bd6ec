"""Elementwise unary operators (TVM ``src/relay/op/tensor/unary.cc`` and the casts of
``transform.cc``; ``topi/elemwise.h``, ``topi/math``).

Each keeps its input's shape and dtype. Transcendental functions (``exp``, ``log``,
``sigmoid``, ``erf``, trigonometry...) accept any dtype, as TVM's ``IdentityRel`` does; on a
non-float tensor the kernel computes in float64 and casts back (truncating). The ``fast_*``
variants compute the exact function (TVM's approximations are within about 1e-6 of it).

Rounding: ``round`` rounds half to even; ``floor``, ``ceil``, ``round`` and ``trunc`` are the
identity on integers. ``cast`` from float to integer truncates toward zero; an out-of-range or
NaN source gives an unspecified value (x86 gives the minimum integer), never an error.
Integer ``abs``/``negative`` wrap (``abs(-128i8)`` is ``-128``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.special

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_type, tensor_value
from minitvm.relay.op.relation import (
    check_dtype_attr,
    expect_integral,
    tensor_arg,
)
from minitvm.runtime.dtype import is_bool, is_float

__all__ = ["CastAttrs", "ClipAttrs", "NdarraySizeAttrs", "ShapeOfAttrs"]

UnaryFn = Callable[[Array], Array]


@dataclass(frozen=True, slots=True)
class CastAttrs(Attrs):
    """``cast`` and ``reinterpret``: the target dtype."""

    dtype: str = ""


@dataclass(frozen=True, slots=True)
class ClipAttrs(Attrs):
    a_min: float = 0.0
    a_max: float = 0.0


@dataclass(frozen=True, slots=True)
class ShapeOfAttrs(Attrs):
    dtype: str = "int32"


@dataclass(frozen=True, slots=True)
class NdarraySizeAttrs(Attrs):
    dtype: str = "int32"


def identity_rel(arg_types: list[Type], attrs: object) -> Type:
    return tensor_arg(arg_types, 0)


def _numeric_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    if is_bool(data.dtype):
        raise DiagnosticError("data must be numeric, got bool")
    return data


def _integral_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    expect_integral(data, allow_bool=True)
    return data


def _bool_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    if not is_bool(data.dtype):
        raise DiagnosticError(f"data must be bool, got {data.dtype}")
    return data


def _comp_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    return TensorType(data.shape, "bool")


def _unary_kernel(fn: UnaryFn) -> Callable[[None, list[Value], Type], Value]:
    def kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
        x = tensor_value(args[0])
        return np.asarray(fn(x)).astype(tensor_type(out_type).dtype, copy=False)

    return kernel


def _in_float(fn: UnaryFn) -> UnaryFn:
    """Compute a transcendental function of a non-float tensor in float64 (the kernel then
    casts back to the input's dtype, truncating)."""

    def run(x: Array) -> Array:
        return fn(x if is_float(str(x.dtype)) else x.astype(np.float64))

    return run


def _int_identity(fn: UnaryFn) -> UnaryFn:
    def run(x: Array) -> Array:
        return fn(x) if is_float(str(x.dtype)) else x.copy()

    return run


def _sigmoid(x: Array) -> Array:
    return np.asarray(1 / (1 + np.exp(-x)))


def _sign(x: Array) -> Array:
    return np.sign(x)


_FLOAT_MATH: dict[str, UnaryFn] = {
    "exp": np.exp,
    "fast_exp": np.exp,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "rsqrt": lambda x: 1 / np.sqrt(x),
    "erf": scipy.special.erf,
    "fast_erf": scipy.special.erf,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "fast_tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "sinh": np.sinh,
    "cosh": np.cosh,
    "asin": np.arcsin,
    "acos": np.arccos,
    "atan": np.arctan,
    "asinh": np.arcsinh,
    "acosh": np.arccosh,
    "atanh": np.arctanh,
}

_NUMERIC: dict[str, UnaryFn] = {
    "abs": np.abs,
    "negative": np.negative,
    "sign": _sign,
    "floor": _int_identity(np.floor),
    "ceil": _int_identity(np.ceil),
    "round": _int_identity(np.round),
    "trunc": _int_identity(np.trunc),
}

_ANY: dict[str, UnaryFn] = {
    "copy": np.copy,
    "zeros_like": np.zeros_like,
    "ones_like": np.ones_like,
}

_PREDICATES: dict[str, UnaryFn] = {
    "isnan": lambda x: np.isnan(x) if is_float(str(x.dtype)) else np.zeros(x.shape, bool),
    "isinf": lambda x: np.isinf(x) if is_float(str(x.dtype)) else np.zeros(x.shape, bool),
    "isfinite": lambda x: np.isfinite(x) if is_float(str(x.dtype)) else np.ones(x.shape, bool),
}


# --- clip, casts, shape queries ---------------------------------------------------------------


def _clip_rel(arg_types: list[Type], attrs: ClipAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    for name in ("a_min", "a_max"):
        value = getattr(attrs, name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DiagnosticError(f"{name} must be a number, got {value!r}")
    return data


def _clip_bound(value: float, dtype: np.dtype[np.generic]) -> Array:
    """A bound converted to the data's dtype, saturating at the dtype's range."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype.name)
        value = float(np.clip(np.trunc(value), info.min, info.max))
    return np.asarray(value).astype(dtype)


def _clip_kernel(attrs: ClipAttrs, args: list[Value], out_type: Type) -> Value:
    # TVM computes max(min(x, a_max), a_min): with a_min > a_max the result is a_min.
    x = tensor_value(args[0])
    hi = _clip_bound(attrs.a_max, x.dtype)
    lo = _clip_bound(attrs.a_min, x.dtype)
    return np.maximum(np.minimum(x, hi), lo)


def _cast_rel(arg_types: list[Type], attrs: CastAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    return TensorType(data.shape, check_dtype_attr(attrs.dtype))


def _cast(x: Array, dtype: str) -> Array:
    if dtype == "bool":
        return np.not_equal(x, 0)
    return x.astype(dtype)


def _cast_kernel(attrs: CastAttrs, args: list[Value], out_type: Type) -> Value:
    return _cast(tensor_value(args[0]), check_dtype_attr(attrs.dtype))


def _cast_like_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    like = tensor_arg(arg_types, 1, "dtype_like")
    return TensorType(data.shape, like.dtype)


def _cast_like_kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
    return _cast(tensor_value(args[0]), str(tensor_value(args[1]).dtype))


def _reinterpret_rel(arg_types: list[Type], attrs: CastAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    dtype = check_dtype_attr(attrs.dtype)
    if is_bool(dtype) or is_bool(data.dtype):
        raise DiagnosticError(f"cannot reinterpret {data.dtype} as {dtype}: bool has no bit layout")
    if np.dtype(dtype).itemsize != np.dtype(data.dtype).itemsize:
        raise DiagnosticError(f"cannot reinterpret {data.dtype} as {dtype}: the bit widths differ")
    return TensorType(data.shape, dtype)


def _reinterpret_kernel(attrs: CastAttrs, args: list[Value], out_type: Type) -> Value:
    return tensor_value(args[0]).copy(order="C").view(attrs.dtype)


def _int_dtype_attr(value: str) -> str:
    dtype = check_dtype_attr(value)
    if is_float(dtype) or is_bool(dtype):
        raise DiagnosticError(f"dtype must be an integer type, got {dtype}")
    return dtype


def _shape_of_rel(arg_types: list[Type], attrs: ShapeOfAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    return TensorType((data.ndim,), _int_dtype_attr(attrs.dtype))


def _shape_of_kernel(attrs: ShapeOfAttrs, args: list[Value], out_type: Type) -> Value:
    return np.array(tensor_value(args[0]).shape, dtype=attrs.dtype).reshape(-1)


def _ndarray_size_rel(arg_types: list[Type], attrs: NdarraySizeAttrs) -> Type:
    tensor_arg(arg_types, 0)
    return TensorType((), _int_dtype_attr(attrs.dtype))


def _ndarray_size_kernel(attrs: NdarraySizeAttrs, args: list[Value], out_type: Type) -> Value:
    return np.array(tensor_value(args[0]).size, dtype=attrs.dtype)


def _register() -> None:
    groups: list[tuple[dict[str, UnaryFn], Callable[[list[Type], None], Type]]] = [
        ({k: _in_float(f) for k, f in _FLOAT_MATH.items()}, identity_rel),
        (_NUMERIC, _numeric_rel),
        (_ANY, identity_rel),
        (_PREDICATES, _comp_rel),
        ({"bitwise_not": np.invert}, _integral_rel),
        ({"logical_not": np.logical_not}, _bool_rel),
    ]
    for table, rel in groups:
        for name, fn in table.items():
            define_op(name, rel, _unary_kernel(fn), pattern=OpPattern.ELEMWISE)
    define_op("clip", _clip_rel, _clip_kernel, attrs_type=ClipAttrs, pattern=OpPattern.ELEMWISE)
    define_op("cast", _cast_rel, _cast_kernel, attrs_type=CastAttrs, pattern=OpPattern.ELEMWISE)
    define_op(
        "cast_like", _cast_like_rel, _cast_like_kernel, num_inputs=2, pattern=OpPattern.ELEMWISE
    )
    define_op(
        "reinterpret",
        _reinterpret_rel,
        _reinterpret_kernel,
        attrs_type=CastAttrs,
        pattern=OpPattern.ELEMWISE,
    )
    define_op(
        "shape_of",
        _shape_of_rel,
        _shape_of_kernel,
        attrs_type=ShapeOfAttrs,
        pattern=OpPattern.OPAQUE,
    )
    define_op(
        "ndarray_size",
        _ndarray_size_rel,
        _ndarray_size_kernel,
        attrs_type=NdarraySizeAttrs,
        pattern=OpPattern.INJECTIVE,
    )


_register()
