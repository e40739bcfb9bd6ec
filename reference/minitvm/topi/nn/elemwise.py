"""Activation functions (TVM's ``topi/nn/elemwise.py``)."""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Select, Var, const
from minitvm.topi.utils import get_const_int, normalize_axis

__all__ = ["leaky_relu", "prelu", "relu"]


def _one(t: Tensor | tuple[Tensor, ...]) -> Tensor:
    if isinstance(t, tuple):
        raise DiagnosticError("expected one output")
    return t


def relu(x: Tensor) -> Tensor:
    """``max(x, 0)``."""
    zero = const(0, x.dtype)
    return _one(compute(x.shape, lambda *i: tir_op.max(x(*i), zero), tag="elemwise"))


def leaky_relu(x: Tensor, alpha: float) -> Tensor:
    """``x`` where positive, ``alpha * x`` elsewhere."""
    a = const(alpha, x.dtype)

    def body(*i: Var) -> PrimExpr:
        v = x(*i)
        return Select(tir_op.greater(v, const(0, x.dtype)), v, v * a)

    return _one(compute(x.shape, body, tag="elemwise"))


def prelu(x: Tensor, slope: Tensor, axis: int = 1) -> Tensor:
    """``x`` where positive, ``slope[c] * x`` elsewhere, ``c`` the index along ``axis``."""
    axis = normalize_axis(axis, x.ndim, "prelu")
    if slope.ndim != 1 or get_const_int(slope.shape[0]) != get_const_int(x.shape[axis]):
        raise DiagnosticError(
            f"prelu: slope must have shape ({x.shape[axis]},), "
            f"got ({', '.join(map(str, slope.shape))})"
        )

    def body(*i: Var) -> PrimExpr:
        v = x(*i)
        return Select(tir_op.greater(v, const(0, x.dtype)), v, v * slope(i[axis]))

    return _one(compute(x.shape, body, tag="broadcast"))
