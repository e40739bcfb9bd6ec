"""Math and bit intrinsics: ``tir.exp`` & co. (TVM's ``python/tvm/tir/op.py`` builders).

An intrinsic is a ``Call`` whose ``op`` is ``"tir.<name>"``. ``INTRINSICS`` lists every
intrinsic minitvm knows, with its arity; ``minitvm.tir.semantics`` gives each one its value.
Transcendental functions take float operands; the rounding functions are the identity on
integers and ``isnan``/``isinf`` are false on them, as TVM folds them.
"""

from __future__ import annotations

from dataclasses import dataclass

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import is_float, is_int, is_uint
from minitvm.tir.expr import Call, ExprLike, PrimExpr, const
from minitvm.tir.op import convert, match_types

__all__ = [
    "INTRINSICS",
    "IntrinInfo",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "call_intrin",
    "ceil",
    "clz",
    "copysign",
    "cos",
    "cosh",
    "erf",
    "exp",
    "exp2",
    "exp10",
    "fabs",
    "floor",
    "fmod",
    "hypot",
    "isfinite",
    "isinf",
    "isnan",
    "log",
    "log1p",
    "log2",
    "log10",
    "nearbyint",
    "popcount",
    "pow",
    "round",
    "rsqrt",
    "sigmoid",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
]


@dataclass(frozen=True, slots=True)
class IntrinInfo:
    """``kind``: "float" (float operands, same dtype out), "round" (identity on ints),
    "predicate" (bool result), "int" (integer operands), "any" (checked by its builder)."""

    name: str
    num_args: int
    kind: str


INTRINSICS: dict[str, IntrinInfo] = {
    f"tir.{info.name}": info
    for info in [
        *(
            IntrinInfo(n, 1, "float")
            for n in (
                "exp",
                "exp2",
                "exp10",
                "log",
                "log2",
                "log10",
                "log1p",
                "sqrt",
                "rsqrt",
                "sigmoid",
                "tanh",
                "erf",
                "sin",
                "cos",
                "tan",
                "sinh",
                "cosh",
                "asin",
                "acos",
                "atan",
                "asinh",
                "acosh",
                "atanh",
                "fabs",
            )
        ),
        *(IntrinInfo(n, 2, "float") for n in ("pow", "atan2", "fmod", "copysign", "hypot")),
        *(IntrinInfo(n, 1, "round") for n in ("floor", "ceil", "round", "trunc", "nearbyint")),
        *(IntrinInfo(n, 1, "predicate") for n in ("isnan", "isinf", "isfinite")),
        *(IntrinInfo(n, 1, "int") for n in ("popcount", "clz", "bitwise_not")),
        *(
            IntrinInfo(n, 2, "int")
            for n in ("bitwise_and", "bitwise_or", "bitwise_xor", "shift_left", "shift_right")
        ),
        IntrinInfo("if_then_else", 3, "any"),
        IntrinInfo("reinterpret", 1, "any"),
    ]
}


def call_intrin(dtype: str, op_name: str, *args: ExprLike) -> PrimExpr:
    """``tvm.tir.call_intrin``: a call of a known intrinsic, checked for arity."""
    info = INTRINSICS.get(op_name)
    if info is None:
        raise DiagnosticError(f"unknown intrinsic {op_name!r}")
    if len(args) != info.num_args:
        raise DiagnosticError(f"{op_name} takes {info.num_args} arguments, got {len(args)}")
    return Call(dtype, op_name, tuple(convert(a) for a in args))


def _float_unary(name: str, x: ExprLike) -> PrimExpr:
    e = convert(x)
    if not is_float(e.dtype):
        raise DiagnosticError(f"tir.{name} expects a float operand, got {e.dtype} ({e})")
    return Call(e.dtype, f"tir.{name}", (e,))


def _float_binary(name: str, x: ExprLike, y: ExprLike) -> PrimExpr:
    a, b = match_types(x, y)
    if not is_float(a.dtype):
        raise DiagnosticError(f"tir.{name} expects float operands, got {a.dtype}")
    return Call(a.dtype, f"tir.{name}", (a, b))


def _rounding(name: str, x: ExprLike) -> PrimExpr:
    e = convert(x)
    if not is_float(e.dtype):
        return e
    return Call(e.dtype, f"tir.{name}", (e,))


def _predicate(name: str, x: ExprLike) -> PrimExpr:
    e = convert(x)
    if not is_float(e.dtype):
        return const(name == "isfinite", "bool")
    return Call("bool", f"tir.{name}", (e,))


def exp(x: ExprLike) -> PrimExpr:
    return _float_unary("exp", x)


def exp2(x: ExprLike) -> PrimExpr:
    return _float_unary("exp2", x)


def exp10(x: ExprLike) -> PrimExpr:
    return _float_unary("exp10", x)


def log(x: ExprLike) -> PrimExpr:
    return _float_unary("log", x)


def log2(x: ExprLike) -> PrimExpr:
    return _float_unary("log2", x)


def log10(x: ExprLike) -> PrimExpr:
    return _float_unary("log10", x)


def log1p(x: ExprLike) -> PrimExpr:
    return _float_unary("log1p", x)


def sqrt(x: ExprLike) -> PrimExpr:
    return _float_unary("sqrt", x)


def rsqrt(x: ExprLike) -> PrimExpr:
    return _float_unary("rsqrt", x)


def sigmoid(x: ExprLike) -> PrimExpr:
    return _float_unary("sigmoid", x)


def tanh(x: ExprLike) -> PrimExpr:
    return _float_unary("tanh", x)


def erf(x: ExprLike) -> PrimExpr:
    return _float_unary("erf", x)


def sin(x: ExprLike) -> PrimExpr:
    return _float_unary("sin", x)


def cos(x: ExprLike) -> PrimExpr:
    return _float_unary("cos", x)


def tan(x: ExprLike) -> PrimExpr:
    return _float_unary("tan", x)


def sinh(x: ExprLike) -> PrimExpr:
    return _float_unary("sinh", x)


def cosh(x: ExprLike) -> PrimExpr:
    return _float_unary("cosh", x)


def asin(x: ExprLike) -> PrimExpr:
    return _float_unary("asin", x)


def acos(x: ExprLike) -> PrimExpr:
    return _float_unary("acos", x)


def atan(x: ExprLike) -> PrimExpr:
    return _float_unary("atan", x)


def asinh(x: ExprLike) -> PrimExpr:
    return _float_unary("asinh", x)


def acosh(x: ExprLike) -> PrimExpr:
    return _float_unary("acosh", x)


def atanh(x: ExprLike) -> PrimExpr:
    return _float_unary("atanh", x)


def fabs(x: ExprLike) -> PrimExpr:
    return _float_unary("fabs", x)


def pow(x: ExprLike, y: ExprLike) -> PrimExpr:
    """``x ** y``; on integers the result is computed in float64 and truncated."""
    a, b = match_types(x, y)
    return Call(a.dtype, "tir.pow", (a, b))


def atan2(x: ExprLike, y: ExprLike) -> PrimExpr:
    return _float_binary("atan2", x, y)


def fmod(x: ExprLike, y: ExprLike) -> PrimExpr:
    return _float_binary("fmod", x, y)


def copysign(x: ExprLike, y: ExprLike) -> PrimExpr:
    return _float_binary("copysign", x, y)


def hypot(x: ExprLike, y: ExprLike) -> PrimExpr:
    return _float_binary("hypot", x, y)


def floor(x: ExprLike) -> PrimExpr:
    return _rounding("floor", x)


def ceil(x: ExprLike) -> PrimExpr:
    return _rounding("ceil", x)


def round(x: ExprLike) -> PrimExpr:
    """Round half to even, as ``np.round``."""
    return _rounding("round", x)


def trunc(x: ExprLike) -> PrimExpr:
    return _rounding("trunc", x)


def nearbyint(x: ExprLike) -> PrimExpr:
    return _rounding("nearbyint", x)


def isnan(x: ExprLike) -> PrimExpr:
    return _predicate("isnan", x)


def isinf(x: ExprLike) -> PrimExpr:
    return _predicate("isinf", x)


def isfinite(x: ExprLike) -> PrimExpr:
    return _predicate("isfinite", x)


def _int_unary(name: str, x: ExprLike) -> PrimExpr:
    e = convert(x)
    if not (is_int(e.dtype) or is_uint(e.dtype)):
        raise DiagnosticError(f"tir.{name} expects an integer operand, got {e.dtype} ({e})")
    return Call(e.dtype, f"tir.{name}", (e,))


def popcount(x: ExprLike) -> PrimExpr:
    return _int_unary("popcount", x)


def clz(x: ExprLike) -> PrimExpr:
    """The number of leading zero bits (``dtype`` width for zero)."""
    return _int_unary("clz", x)
