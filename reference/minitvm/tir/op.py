"""Expression builders with TVM's dtype matching and constant folding (``src/tir/op/op.cc``).

``add(a, b)`` is what ``a + b`` means on expressions: Python numbers become immediates
(int32 / int64 / float32 / bool, as TVM's FFI converts them), the operand dtypes are matched
(``BinaryOpMatchTypes``: int to float, narrower to wider, signed to unsigned of equal width)
and the node is folded when its operands are constants or an identity applies
(``arith::TryConstFold``: ``x + 0``, ``x * 1``, ``0 // x``...). Folded integer results wrap to
the dtype's width; a division by a constant zero is left unfolded (its value at run time is
defined in ``minitvm.tir.semantics``).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import check_dtype, is_bool, is_float, is_int, is_uint
from minitvm.tir.expr import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    Add,
    And,
    BinaryOpExpr,
    Call,
    Cast,
    CmpExpr,
    Div,
    EqualOp,
    ExprLike,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    IterVar,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    NotEqualOp,
    Or,
    PrimExpr,
    PrimExprBase,
    Select,
    Sub,
    const,
    dtype_bits,
    wrap_int,
)

__all__ = [
    "abs",
    "add",
    "all",
    "any",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "cast",
    "ceildiv",
    "convert",
    "div",
    "equal",
    "floordiv",
    "floormod",
    "greater",
    "greater_equal",
    "if_then_else",
    "indexdiv",
    "indexmod",
    "infinity",
    "left_shift",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "match_types",
    "max",
    "max_value",
    "min",
    "min_value",
    "mul",
    "neg",
    "not_equal",
    "power",
    "reinterpret",
    "right_shift",
    "sub",
    "true_div",
    "truncdiv",
    "truncmod",
]

_Imm = IntImm | FloatImm


def convert(value: ExprLike) -> PrimExpr:
    """A Python number or ``a == b`` as an expression; expressions pass through."""
    if isinstance(value, EqualOp | NotEqualOp):
        return value.asobject()
    if isinstance(value, IterVar):
        return value.var
    if isinstance(value, PrimExprBase):
        return value
    if isinstance(value, bool):
        return const(value, "bool")
    if isinstance(value, int):
        return const(value)
    if isinstance(value, float):
        return FloatImm("float32", value)
    raise DiagnosticError(f"expected an expression or a number, got {type(value).__name__}")


def cast(value: ExprLike, dtype: str) -> PrimExpr:
    """Convert to ``dtype``; immediates are converted at once."""
    x = convert(value)
    dtype = check_dtype(dtype)
    if x.dtype == dtype:
        return x
    if isinstance(x, IntImm):
        return const(float(x.value) if is_float(dtype) else x.value, dtype)
    if isinstance(x, FloatImm):
        if is_float(dtype):
            return FloatImm(dtype, x.value)
        if math.isfinite(x.value):
            return const(math.trunc(x.value), dtype)
    return Cast(dtype, x)


def match_types(a: ExprLike, b: ExprLike) -> tuple[PrimExpr, PrimExpr]:
    """Both operands converted to one dtype, as TVM's ``BinaryOpMatchTypes``."""
    x, y = convert(a), convert(b)
    ta, tb = x.dtype, y.dtype
    if ta == tb:
        return x, y
    if is_float(ta) and is_float(tb):
        return (cast(x, tb), y) if dtype_bits(ta) < dtype_bits(tb) else (x, cast(y, ta))
    if is_float(tb):
        return cast(x, tb), y
    if is_float(ta):
        return x, cast(y, ta)
    same_kind = (is_int(ta) and is_int(tb)) or (is_uint(ta) and is_uint(tb))
    if same_kind or is_bool(ta) or is_bool(tb):
        return (cast(x, tb), y) if dtype_bits(ta) < dtype_bits(tb) else (x, cast(y, ta))
    # one signed, one unsigned
    if dtype_bits(ta) < dtype_bits(tb):
        return cast(x, tb), y
    if dtype_bits(ta) > dtype_bits(tb):
        return x, cast(y, ta)
    return (x, cast(y, ta)) if is_uint(ta) else (cast(x, tb), y)


def _value(x: PrimExpr) -> int | float | None:
    return x.value if isinstance(x, IntImm | FloatImm) else None


def _is(x: PrimExpr, v: int) -> bool:
    return isinstance(x, IntImm | FloatImm) and x.value == v


_EXACT: dict[type[BinaryOpExpr], Callable[[float, float], float]] = {
    Add: lambda x, y: x + y,
    Sub: lambda x, y: x - y,
    Mul: lambda x, y: x * y,
    Min: lambda x, y: x if x <= y else y,
    Max: lambda x, y: x if x >= y else y,
}
_INT_DIVISION: dict[type[BinaryOpExpr], Callable[[int, int], int]] = {
    Div: lambda x, y: _truncdiv(x, y),
    Mod: lambda x, y: _truncmod(x, y),
    FloorDiv: lambda x, y: x // y,
    FloorMod: lambda x, y: x % y,
}
_FLOAT_DIVISION: dict[type[BinaryOpExpr], Callable[[float, float], float]] = {
    Div: lambda x, y: x / y,
    Mod: math.fmod,
    FloorDiv: lambda x, y: math.floor(x / y),
    FloorMod: lambda x, y: x - math.floor(x / y) * y,
}


def _fold_const(kind: type[BinaryOpExpr], a: _Imm, b: _Imm, dtype: str) -> PrimExpr | None:
    exact = _EXACT.get(kind)
    if exact is not None:
        value = exact(a.value, b.value)
        return const(float(value) if is_float(dtype) else int(value), dtype)
    if b.value == 0:
        return None
    if is_float(dtype):
        return const(_FLOAT_DIVISION[kind](a.value, b.value), dtype)
    return const(_INT_DIVISION[kind](int(a.value), int(b.value)), dtype)


def _truncdiv(x: int, y: int) -> int:
    q = builtins.abs(x) // builtins.abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _truncmod(x: int, y: int) -> int:
    return x - _truncdiv(x, y) * y


def _identity(kind: type[BinaryOpExpr], a: PrimExpr, b: PrimExpr) -> PrimExpr | None:
    """The operand (or zero) an identity reduces ``a <kind> b`` to, if one applies."""
    if kind is Add:
        return b if _is(a, 0) else a if _is(b, 0) else None
    if kind is Sub:
        return a if _is(b, 0) else None
    if kind is Mul:
        if _is(a, 1) or _is(b, 0):
            return b
        return a if _is(b, 1) or _is(a, 0) else None
    if kind in (Div, FloorDiv):
        return a if _is(a, 0) or _is(b, 1) else None
    if kind in (Mod, FloorMod) and not is_float(a.dtype):
        if _is(a, 0):
            return a
        return const(0, a.dtype) if _is(b, 1) else None
    return None


def _try_fold(kind: type[BinaryOpExpr], a: PrimExpr, b: PrimExpr) -> PrimExpr | None:
    """TVM's ``TryConstFold`` for the arithmetic nodes."""
    if isinstance(a, IntImm | FloatImm) and isinstance(b, IntImm | FloatImm):
        folded = _fold_const(kind, a, b, a.dtype)
        if folded is not None:
            return folded
    return _identity(kind, a, b)


def _arith(kind: type[BinaryOpExpr], a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = match_types(a, b)
    folded = _try_fold(kind, x, y)
    if folded is not None:
        return folded
    return kind(x, y)  # type: ignore[return-value]  # every concrete subclass is in PrimExpr


def add(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _arith(Add, a, b)


def sub(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _arith(Sub, a, b)


def mul(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _arith(Mul, a, b)


def div(a: ExprLike, b: ExprLike) -> PrimExpr:
    """``tvm.tir.div``: true division on floats, truncated division on integers."""
    return _arith(Div, a, b)


def true_div(a: ExprLike, b: ExprLike) -> PrimExpr:
    """``a / b`` on expressions: refused on two integers, as TVM refuses it."""
    x, y = convert(a), convert(b)
    if not is_float(x.dtype) and not is_float(y.dtype):
        raise DiagnosticError(
            f"'/' on integer expressions ({x} / {y}) is ambiguous: "
            "use tvm.tir.truncdiv, floordiv or indexdiv"
        )
    return _arith(Div, x, y)


def _int_only(name: str, a: PrimExpr, b: PrimExpr) -> None:
    for x in (a, b):
        if is_float(x.dtype):
            raise DiagnosticError(f"{name} expects integer operands, got {x.dtype} ({x})")


def truncdiv(a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = convert(a), convert(b)
    _int_only("truncdiv", x, y)
    return _arith(Div, x, y)


def truncmod(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _arith(Mod, a, b)


def floordiv(a: ExprLike, b: ExprLike) -> PrimExpr:
    """Floor division; on floats ``floor(a / b)`` (TVM only allows it on integers)."""
    return _arith(FloorDiv, a, b)


def floormod(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _arith(FloorMod, a, b)


indexdiv = floordiv
indexmod = floormod


def ceildiv(a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = match_types(a, b)
    _int_only("ceildiv", x, y)
    return floordiv(sub(add(x, y), 1), y)


def min(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _arith(Min, a, b)


def max(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _arith(Max, a, b)


def _compare(kind: type[CmpExpr], a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = match_types(a, b)
    vx, vy = _value(x), _value(y)
    if vx is not None and vy is not None:
        table = {EQ: vx == vy, NE: vx != vy, LT: vx < vy, LE: vx <= vy, GT: vx > vy, GE: vx >= vy}
        return const(table[kind], "bool")
    return kind(x, y)  # type: ignore[return-value]  # every concrete subclass is in PrimExpr


def equal(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _compare(EQ, a, b)


def not_equal(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _compare(NE, a, b)


def less(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _compare(LT, a, b)


def less_equal(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _compare(LE, a, b)


def greater(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _compare(GT, a, b)


def greater_equal(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _compare(GE, a, b)


def _as_bool(x: ExprLike) -> PrimExpr:
    e = convert(x)
    if e.dtype != "bool":
        raise DiagnosticError(f"expected a bool expression, got {e.dtype} ({e})")
    return e


def logical_and(a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = _as_bool(a), _as_bool(b)
    if isinstance(x, IntImm):
        return y if x.value else x
    if isinstance(y, IntImm):
        return x if y.value else y
    return And(x, y)


def logical_or(a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = _as_bool(a), _as_bool(b)
    if isinstance(x, IntImm):
        return x if x.value else y
    if isinstance(y, IntImm):
        return y if y.value else x
    return Or(x, y)


def logical_not(a: ExprLike) -> PrimExpr:
    x = _as_bool(a)
    if isinstance(x, IntImm):
        return const(not x.value, "bool")
    return Not(x)


def all(*args: ExprLike) -> PrimExpr:
    """``tvm.tir.all``: the conjunction of the conditions (True when there are none)."""
    result: PrimExpr = const(True, "bool")
    for a in args:
        result = logical_and(result, a)
    return result


def any(*args: ExprLike) -> PrimExpr:
    """``tvm.tir.any``: the disjunction of the conditions (False when there are none)."""
    result: PrimExpr = const(False, "bool")
    for a in args:
        result = logical_or(result, a)
    return result


def if_then_else(cond: ExprLike, t: ExprLike, f: ExprLike) -> PrimExpr:
    """The lazy conditional: only the chosen branch is evaluated (``tir.if_then_else``)."""
    c = _as_bool(cond)
    x, y = match_types(t, f)
    if isinstance(c, IntImm):
        return x if c.value else y
    return Call(x.dtype, "tir.if_then_else", (c, x, y))


def neg(a: ExprLike) -> PrimExpr:
    x = convert(a)
    if isinstance(x, IntImm):
        return const(-x.value, x.dtype)
    if isinstance(x, FloatImm):
        return FloatImm(x.dtype, -x.value)
    return sub(const(0, x.dtype), x)


def abs(a: ExprLike) -> PrimExpr:
    """|a|: ``fabs`` on floats, ``Select(a >= 0, a, -a)`` on signed ints, a itself on unsigned."""
    x = convert(a)
    if is_float(x.dtype):
        if isinstance(x, FloatImm):
            return FloatImm(x.dtype, math.fabs(x.value))
        return Call(x.dtype, "tir.fabs", (x,))
    if is_int(x.dtype):
        if isinstance(x, IntImm):
            return const(-x.value if x.value < 0 else x.value, x.dtype)
        return Select(greater_equal(x, const(0, x.dtype)), x, neg(x))
    return x


def _bitwise(name: str, a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = match_types(a, b)
    if is_float(x.dtype):
        raise DiagnosticError(f"{name} expects integer or bool operands, got {x.dtype}")
    if x.dtype == "bool" and name in ("bitwise_and", "bitwise_or"):
        return logical_and(x, y) if name == "bitwise_and" else logical_or(x, y)
    vx, vy = _value(x), _value(y)
    if isinstance(vx, int) and isinstance(vy, int):
        table = {"bitwise_and": vx & vy, "bitwise_or": vx | vy, "bitwise_xor": vx ^ vy}
        if name in table:
            return const(wrap_int(table[name], x.dtype), x.dtype)
    return Call(x.dtype, f"tir.{name}", (x, y))


def bitwise_and(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _bitwise("bitwise_and", a, b)


def bitwise_or(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _bitwise("bitwise_or", a, b)


def bitwise_xor(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _bitwise("bitwise_xor", a, b)


def left_shift(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _bitwise("shift_left", a, b)


def right_shift(a: ExprLike, b: ExprLike) -> PrimExpr:
    return _bitwise("shift_right", a, b)


def bitwise_not(a: ExprLike) -> PrimExpr:
    x = convert(a)
    if x.dtype == "bool":
        return logical_not(x)
    if is_float(x.dtype):
        raise DiagnosticError(f"bitwise_not expects an integer operand, got {x.dtype}")
    if isinstance(x, IntImm):
        return const(wrap_int(~x.value, x.dtype), x.dtype)
    return Call(x.dtype, "tir.bitwise_not", (x,))


def power(a: ExprLike, b: ExprLike) -> PrimExpr:
    x, y = match_types(a, b)
    return Call(x.dtype, "tir.pow", (x, y))


def reinterpret(value: ExprLike, dtype: str) -> PrimExpr:
    """The bits of ``value`` read as ``dtype`` (same width required)."""
    x = convert(value)
    dtype = check_dtype(dtype)
    if x.dtype == dtype:
        return x
    if dtype_bits(x.dtype) != dtype_bits(dtype):
        raise DiagnosticError(f"reinterpret needs equal widths, got {x.dtype} -> {dtype}")
    return Call(dtype, "tir.reinterpret", (x,))


def max_value(dtype: str) -> PrimExpr:
    """The largest finite value of ``dtype``."""
    import numpy as np

    dtype = check_dtype(dtype)
    if is_bool(dtype):
        return const(True, "bool")
    if is_float(dtype):
        return FloatImm(dtype, float(np.finfo(np.dtype(dtype)).max))
    return IntImm(dtype, int(np.iinfo(np.dtype(dtype)).max))


def min_value(dtype: str) -> PrimExpr:
    """The smallest finite value of ``dtype``."""
    import numpy as np

    dtype = check_dtype(dtype)
    if is_bool(dtype):
        return const(False, "bool")
    if is_float(dtype):
        return FloatImm(dtype, float(np.finfo(np.dtype(dtype)).min))
    return IntImm(dtype, int(np.iinfo(np.dtype(dtype)).min))


def infinity(dtype: str) -> PrimExpr:
    dtype = check_dtype(dtype)
    if not is_float(dtype):
        raise DiagnosticError(f"infinity needs a float dtype, got {dtype}")
    return FloatImm(dtype, math.inf)


def convert_all(values: Sequence[ExprLike]) -> tuple[PrimExpr, ...]:
    return tuple(convert(v) for v in values)
