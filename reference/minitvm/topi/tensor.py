"""Tensor creation and n-ary elementwise operators (TVM's ``topi/tensor.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import check_dtype
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import ExprLike, PrimExpr, Var
from minitvm.tir.op import convert
from minitvm.topi.utils import compute

__all__ = ["elemwise_sum", "full", "full_like"]


def elemwise_sum(xs: Sequence[Tensor]) -> Tensor:
    """The elementwise sum of tensors of one shape and dtype."""
    if not xs:
        raise DiagnosticError("elemwise_sum needs at least one tensor")
    first = xs[0]
    for x in xs[1:]:
        if x.dtype != first.dtype or len(x.shape) != len(first.shape):
            raise DiagnosticError("elemwise_sum: every tensor must have the same shape and dtype")

    def body(ax: list[Var]) -> PrimExpr:
        total: PrimExpr = first(*ax)
        for x in xs[1:]:
            total = tir_op.add(total, x(*ax))
        return total

    return compute(first.shape, body, "T_elemwise_sum", "elemwise")


def full(shape: Sequence[ExprLike], dtype: str, fill_value: ExprLike) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (cast to ``dtype``)."""
    value = tir_op.cast(convert(fill_value), check_dtype(dtype))
    return compute(list(shape), lambda ax: value, "T_full", "elemwise")


def full_like(x: Tensor, fill_value: ExprLike) -> Tensor:
    """A tensor like ``x`` filled with ``fill_value``."""
    value = tir_op.cast(convert(fill_value), x.dtype)
    return compute(x.shape, lambda ax: value, "T_full_like", "elemwise")
