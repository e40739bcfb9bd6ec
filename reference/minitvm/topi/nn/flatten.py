"""``flatten``: ``(N, d1, d2, ...)`` to ``(N, d1 * d2 * ...)`` (TVM's ``topi/nn/flatten.py``)."""

from __future__ import annotations

from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var
from minitvm.topi.utils import prod

__all__ = ["flatten"]


def flatten(data: Tensor) -> Tensor:
    rest = list(data.shape[1:])
    oshape = [data.shape[0], prod(rest)]

    def body(i: Var, j: Var) -> PrimExpr:
        index: list[PrimExpr] = []
        flat: PrimExpr = j
        for s in reversed(rest):
            index.append(tir_op.floormod(flat, s))
            flat = tir_op.floordiv(flat, s)
        return data(i, *reversed(index))

    return compute(oshape, body)
