"""The value of every TIR operation on numpy arrays: one definition for both oracles.

The TIR interpreter applies these functions to 0-d arrays, the TE evaluator to whole index
grids, so the two agree by construction. Results always have the node's dtype. Choices where C
(and so TVM's generated code) leaves the result undefined or crashes:

* integer ``/``, ``%``, ``//`` and floor-mod by zero give 0 (TVM's code raises SIGFPE);
* integer arithmetic wraps (two's complement), including ``INT_MIN / -1``; bool arithmetic
  is 1-bit, modulo 2 (``+`` is xor);
* on floats ``//`` is ``floor(a / b)`` and floor-mod ``a - floor(a / b) * b``;
* a float-to-int cast truncates toward zero; out-of-range and NaN values give numpy's result;
* shifts follow numpy (shift counts at or above the width give 0, or -1 for a negative
  value shifted right);
* ``pow`` on integers is exact and wraps; a negative exponent gives the truncated real
  result.

Callers run inside ``np.errstate(all="ignore")`` (``quiet()``): IEEE results (inf, nan) and
wrapped integers are the defined values, not warnings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.special

from minitvm.error import DiagnosticError, InternalError
from minitvm.runtime.dtype import is_float, is_uint
from minitvm.tir.expr import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    Add,
    BinaryOpExpr,
    CmpExpr,
    Div,
    FloorDiv,
    FloorMod,
    Max,
    Min,
    Mod,
    Mul,
    Sub,
    dtype_bits,
)

__all__ = ["Array", "binary", "cast", "compare", "intrinsic", "quiet"]

Array: TypeAlias = npt.NDArray[Any]


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Evaluate with IEEE and wrap-around results instead of numpy warnings."""
    with np.errstate(all="ignore"):
        yield


def cast(value: Array, dtype: str) -> Array:
    """Convert to ``dtype``: float to int truncates, anything to bool is ``!= 0``."""
    return np.asarray(value).astype(dtype, copy=False)


def _safe_divisor(b: Array) -> tuple[Array, Array]:
    zero = b == 0
    return zero, np.where(zero, np.ones_like(b), b)


def _trunc_div(a: Array, b: Array) -> Array:
    zero, safe = _safe_divisor(b)
    q = np.floor_divide(a, safe)
    r = a - q * safe
    adjust = (r != 0) & ((a < 0) != (safe < 0))
    q = q + adjust.astype(q.dtype)
    return np.asarray(np.where(zero, np.zeros_like(q), q))


def _int_binary(kind: type[BinaryOpExpr], a: Array, b: Array) -> Array:
    if kind is Div:
        return _trunc_div(a, b)
    if kind is Mod:
        rem = a - _trunc_div(a, b) * b
        return np.asarray(np.where(b == 0, np.zeros_like(rem), rem))
    zero, safe = _safe_divisor(b)
    if kind is FloorDiv:
        q = np.floor_divide(a, safe)
    elif kind is FloorMod:
        q = np.remainder(a, safe)
    else:
        raise InternalError(f"not an integer division: {kind.__name__}")
    return np.where(zero, np.zeros_like(q), q)


_ELEMENTWISE: dict[type[BinaryOpExpr], Callable[[Array, Array], Array]] = {
    Add: np.add,
    Sub: np.subtract,
    Mul: np.multiply,
    Min: np.minimum,
    Max: np.maximum,
}

_FLOAT_DIVISION: dict[type[BinaryOpExpr], Callable[[Array, Array], Array]] = {
    Div: np.true_divide,
    Mod: np.fmod,
    FloorDiv: lambda a, b: np.floor(a / b),
    FloorMod: lambda a, b: a - np.floor(a / b) * b,
}


def binary(kind: type[BinaryOpExpr], a: Array, b: Array, dtype: str) -> Array:
    """An arithmetic node's value; operands already have ``dtype``."""
    fn = _ELEMENTWISE.get(kind)
    if fn is not None:
        if dtype == "bool":  # 1-bit integers: arithmetic modulo 2
            out = np.bitwise_and(fn(a.astype("int8"), b.astype("int8")), np.int8(1))
        else:
            out = fn(a, b)
    elif is_float(dtype):
        out = _FLOAT_DIVISION[kind](a, b)
    else:
        out = _int_binary(kind, a, b)
    return cast(out, dtype)


_COMPARE: dict[type[CmpExpr], Callable[[Array, Array], Array]] = {
    EQ: np.equal,
    NE: np.not_equal,
    LT: np.less,
    LE: np.less_equal,
    GT: np.greater,
    GE: np.greater_equal,
}


def compare(kind: type[CmpExpr], a: Array, b: Array) -> Array:
    return np.asarray(_COMPARE[kind](a, b))


def _unsigned(dtype: str) -> str:
    return "uint8" if dtype == "bool" else dtype if is_uint(dtype) else "u" + dtype


def _popcount(x: Array) -> Array:
    return np.asarray(np.bitwise_count(x.astype(_unsigned(str(x.dtype)), copy=False)))


def _clz(x: Array) -> Array:
    width = dtype_bits(str(x.dtype))
    v = x.astype(_unsigned(str(x.dtype))).astype("uint64")
    length = np.zeros(v.shape, dtype="uint64")
    for shift in (32, 16, 8, 4, 2, 1):
        big = v >= np.uint64(1 << shift)
        length = length + big.astype("uint64") * np.uint64(shift)
        v = np.where(big, v >> np.uint64(shift), v)
    length = length + (v > 0).astype("uint64")
    return np.asarray(np.uint64(width) - length)


def _pow(a: Array, b: Array) -> Array:
    """Float power; on integers the exact wrapped power, and for a negative exponent the
    truncated real result (1 for base 1, +-1 for base -1, else 0)."""
    if is_float(str(a.dtype)):
        return np.asarray(np.power(a, b))
    wide = "uint64" if is_uint(str(a.dtype)) else "int64"
    x, e = a.astype(wide), b.astype("int64")
    positive = np.power(x, np.where(e < 0, 0, e).astype(wide))
    odd = (e % 2) != 0
    negative = np.where(x == 1, 1, np.where(x == -1, np.where(odd, -1, 1), 0)).astype(wide)
    return np.asarray(np.where(e < 0, negative, positive))


_FLOAT_UNARY: dict[str, Callable[[Array], Array]] = {
    "exp": np.exp,
    "exp2": np.exp2,
    "exp10": lambda x: np.power(np.asarray(10, dtype=x.dtype), x),
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "rsqrt": lambda x: np.asarray(1, dtype=x.dtype) / np.sqrt(x),
    "sigmoid": lambda x: np.asarray(1, dtype=x.dtype) / (np.asarray(1, dtype=x.dtype) + np.exp(-x)),
    "tanh": np.tanh,
    "erf": lambda x: np.asarray(scipy.special.erf(x)),
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
    "fabs": np.fabs,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.rint,
    "nearbyint": np.rint,
    "trunc": np.trunc,
    "isnan": np.isnan,
    "isinf": np.isinf,
    "isfinite": np.isfinite,
    "popcount": _popcount,
    "clz": _clz,
    "bitwise_not": np.invert,
}

_BINARY: dict[str, Callable[[Array, Array], Array]] = {
    "pow": _pow,
    "atan2": np.arctan2,
    "fmod": np.fmod,
    "copysign": np.copysign,
    "hypot": np.hypot,
    "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor,
    "shift_left": np.left_shift,
    "shift_right": np.right_shift,
}


def intrinsic(op: str, args: list[Array], dtype: str) -> Array:
    """The value of ``Call(dtype, op, args)`` for an eagerly evaluated intrinsic.

    ``tir.if_then_else`` is evaluated by the caller (lazily in the interpreter, with
    ``np.where`` in the evaluator).
    """
    name = op.removeprefix("tir.")
    if name == "reinterpret":
        return np.array(args[0], copy=True).view(dtype)
    if name == "if_then_else":
        return cast(np.where(args[0], args[1], args[2]), dtype)
    unary = _FLOAT_UNARY.get(name)
    if unary is not None and len(args) == 1:
        return cast(unary(args[0]), dtype)
    binary_fn = _BINARY.get(name)
    if binary_fn is not None and len(args) == 2:
        return cast(binary_fn(args[0], args[1]), dtype)
    raise DiagnosticError(f"no semantics for intrinsic {op!r} with {len(args)} arguments")
