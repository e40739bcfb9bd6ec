"""Broadcasting binary operators (TVM's ``include/tvm/topi/broadcast.h``).

Shapes broadcast as in numpy: aligned from the right, a dimension of 1 stretches. A Python
number operand becomes a constant of the other operand's dtype; two numbers give an
expression. Output names are TVM's (``T_add``...), axes ``ax0, ax1, ...``.

Integer semantics (``minitvm.tir.semantics``): ``divide`` and ``mod`` truncate, ``floor_*``
floor, division by zero gives 0, overflow wraps; on floats ``mod`` is ``fmod`` and
``floor_mod`` is ``a - floor(a / b) * b``. Comparisons return bool; ``logical_*`` treat
nonzero as true and return 0/1 in the operands' dtype (bool stays bool).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import is_bool, is_float
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import ExprLike, IntImm, PrimExpr, Var, const
from minitvm.tir.intrin import pow as tir_pow
from minitvm.tir.op import convert
from minitvm.topi.utils import compute

__all__ = [
    "add",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "broadcast_shape",
    "broadcast_to",
    "divide",
    "equal",
    "floor_divide",
    "floor_mod",
    "greater",
    "greater_equal",
    "left_shift",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "mod",
    "multiply",
    "not_equal",
    "power",
    "right_shift",
    "subtract",
    "trunc_divide",
    "trunc_mod",
]

Operand = Tensor | ExprLike
Binary = Callable[[PrimExpr, PrimExpr], PrimExpr]


def _same_dim(a: PrimExpr, b: PrimExpr) -> bool:
    if isinstance(a, IntImm) and isinstance(b, IntImm):
        return a.value == b.value
    return a is b


def broadcast_shape(a: Sequence[PrimExpr], b: Sequence[PrimExpr], op: str) -> list[PrimExpr]:
    """numpy broadcasting of two shapes; DiagnosticError if they do not broadcast."""
    out: list[PrimExpr] = []
    for k in range(1, max(len(a), len(b)) + 1):
        da = a[-k] if k <= len(a) else None
        db = b[-k] if k <= len(b) else None
        if da is None or (isinstance(da, IntImm) and da.value == 1 and db is not None):
            out.append(db if db is not None else convert(1))
        elif db is None or (isinstance(db, IntImm) and db.value == 1) or _same_dim(da, db):
            out.append(da)
        else:
            raise DiagnosticError(
                f"{op}: shapes ({', '.join(map(str, a))}) and ({', '.join(map(str, b))}) "
                "do not broadcast"
            )
    return out[::-1]


def _index(t: Tensor, ax: list[Var]) -> PrimExpr:
    """``t`` read at the broadcast output index ``ax``."""
    offset = len(ax) - t.ndim
    idx: list[PrimExpr] = []
    for k, dim in enumerate(t.shape):
        one = isinstance(dim, IntImm) and dim.value == 1
        idx.append(const(0, ax[offset + k].dtype) if one else ax[offset + k])
    return t(*idx)


def _scalar(value: ExprLike, dtype: str) -> PrimExpr:
    e = convert(value)
    if isinstance(value, bool | int | float):
        return tir_op.cast(e, dtype)
    return e


def _binary(lhs: Operand, rhs: Operand, f: Binary, name: str, tag: str = "broadcast") -> Tensor:
    if isinstance(lhs, Tensor) and isinstance(rhs, Tensor):
        shape = broadcast_shape(lhs.shape, rhs.shape, name)
        return compute(shape, lambda ax: f(_index(lhs, ax), _index(rhs, ax)), f"T_{name}", tag)
    if isinstance(lhs, Tensor):
        b = _scalar(rhs, lhs.dtype)  # type: ignore[arg-type]  # rhs is not a Tensor here
        return compute(lhs.shape, lambda ax: f(lhs(*ax), b), f"T_{name}", "elemwise")
    if isinstance(rhs, Tensor):
        a = _scalar(lhs, rhs.dtype)
        return compute(rhs.shape, lambda ax: f(a, rhs(*ax)), f"T_{name}", "elemwise")
    raise DiagnosticError(f"{name}: expected at least one tensor operand")


def add(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.add, "add")


def subtract(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.sub, "subtract")


def multiply(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.mul, "multiply")


def divide(lhs: Operand, rhs: Operand) -> Tensor:
    """True division on floats, truncated division on integers."""
    return _binary(lhs, rhs, tir_op.div, "divide")


def floor_divide(lhs: Operand, rhs: Operand) -> Tensor:
    def f(a: PrimExpr, b: PrimExpr) -> PrimExpr:
        if is_float(a.dtype):
            from minitvm.tir.intrin import floor

            return floor(tir_op.div(a, b))
        return tir_op.floordiv(a, b)

    return _binary(lhs, rhs, f, "floor_divide")


def trunc_divide(lhs: Operand, rhs: Operand) -> Tensor:
    """Truncated division: ``divide`` on integers, ``trunc(a / b)`` on floats."""

    def f(a: PrimExpr, b: PrimExpr) -> PrimExpr:
        if is_float(a.dtype):
            from minitvm.tir.intrin import trunc

            return trunc(tir_op.div(a, b))
        return tir_op.div(a, b)

    return _binary(lhs, rhs, f, "trunc_divide")


def trunc_mod(lhs: Operand, rhs: Operand) -> Tensor:
    """Truncated remainder (``fmod`` on floats), as ``mod``."""
    return _binary(lhs, rhs, tir_op.truncmod, "trunc_mod")


def mod(lhs: Operand, rhs: Operand) -> Tensor:
    """Truncated remainder (``fmod`` on floats)."""
    return _binary(lhs, rhs, tir_op.truncmod, "mod")


def floor_mod(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.floormod, "floor_mod")


def maximum(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.max, "maximum")


def minimum(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.min, "minimum")


def power(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_pow, "power")


def left_shift(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.left_shift, "left_shift")


def right_shift(lhs: Operand, rhs: Operand) -> Tensor:
    """Arithmetic shift on signed integers."""
    return _binary(lhs, rhs, tir_op.right_shift, "right_shift")


def _as_bool(e: PrimExpr) -> PrimExpr:
    return e if is_bool(e.dtype) else tir_op.not_equal(e, const(0, e.dtype))


def _logical(f: Binary) -> Binary:
    """``f`` on truth values (nonzero is true), giving 0/1 in the operands' dtype."""

    def g(a: PrimExpr, b: PrimExpr) -> PrimExpr:
        return tir_op.cast(f(_as_bool(a), _as_bool(b)), a.dtype)

    return g


def logical_and(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, _logical(tir_op.logical_and), "logical_and")


def logical_or(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, _logical(tir_op.logical_or), "logical_or")


def logical_xor(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, _logical(tir_op.not_equal), "logical_xor")


def bitwise_and(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.bitwise_and, "bitwise_and")


def bitwise_or(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.bitwise_or, "bitwise_or")


def bitwise_xor(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.bitwise_xor, "bitwise_xor")


def greater(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.greater, "greater")


def less(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.less, "less")


def equal(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.equal, "equal")


def not_equal(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.not_equal, "not_equal")


def greater_equal(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.greater_equal, "greater_equal")


def less_equal(lhs: Operand, rhs: Operand) -> Tensor:
    return _binary(lhs, rhs, tir_op.less_equal, "less_equal")


def broadcast_to(data: Tensor, shape: Sequence[ExprLike]) -> Tensor:
    """``data`` broadcast to ``shape`` (which must be a numpy broadcast target of it)."""
    target = [convert(d) for d in shape]
    out = broadcast_shape(data.shape, target, "broadcast_to")
    if len(out) != len(target) or not all(
        _same_dim(a, b) for a, b in zip(out, target, strict=True)
    ):
        raise DiagnosticError(
            f"broadcast_to: cannot broadcast ({', '.join(map(str, data.shape))}) to "
            f"({', '.join(map(str, target))})"
        )
    return compute(target, lambda ax: _index(data, ax), "T_broadcast_to", "broadcast")


def logical_not(data: Tensor) -> Tensor:
    """1 where ``data`` is 0, else 0, in ``data``'s dtype (``not`` on bool)."""

    def body(ax: list[Var]) -> PrimExpr:
        return tir_op.cast(tir_op.logical_not(_as_bool(data(*ax))), data.dtype)

    return compute(data.shape, body, "T_logical_not", "elemwise")


def bitwise_not(data: Tensor) -> Tensor:
    return compute(
        data.shape, lambda ax: tir_op.bitwise_not(data(*ax)), "T_bitwise_not", "elemwise"
    )
