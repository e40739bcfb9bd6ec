"""``dilate``: insert ``stride - 1`` copies of ``dilation_value`` between elements
(TVM's ``topi/nn/dilate.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var, const
from minitvm.topi.utils import simplify

__all__ = ["dilate"]


def dilate(
    data: Tensor, strides: Sequence[int], dilation_value: float = 0.0, name: str = "DilatedInput"
) -> Tensor:
    n = data.ndim
    if len(strides) != n:
        raise DiagnosticError(f"dilate: expected {n} strides, got {list(strides)}")
    out_shape = [simplify((data.shape[i] - 1) * int(strides[i]) + 1) for i in range(n)]

    def body(*idx: Var) -> PrimExpr:
        conds: list[PrimExpr] = []
        index: list[PrimExpr] = []
        for i in range(n):
            s = int(strides[i])
            if s == 1:
                index.append(idx[i])
                continue
            index.append(tir_op.floordiv(idx[i], s))
            conds.append(tir_op.equal(tir_op.floormod(idx[i], s), 0))
        if conds:
            return tir_op.if_then_else(
                tir_op.all(*conds), data(*index), const(dilation_value, data.dtype)
            )
        return data(*index)

    return compute(out_shape, body, name=name)
