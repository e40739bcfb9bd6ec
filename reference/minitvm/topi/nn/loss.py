"""Negative log-likelihood loss (TVM's ``include/tvm/topi/nn/loss.h``).

``predictions`` is ``(N, C, d1, ...)``, ``targets`` ``(N, d1, ...)`` class indices, ``weights``
``(C,)``. Each element contributes ``-predictions[n, t, ...] * weights[t]``, or 0 when its
target equals ``ignore_index``. ``"mean"`` divides the sum by the sum of the counted weights,
``"sum"`` sums, ``"none"`` keeps the per-element losses.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Select, Var, const
from minitvm.topi.broadcast import divide
from minitvm.topi.reduction import sum as topi_sum

__all__ = ["nll_loss"]


def nll_loss(
    predictions: Tensor, targets: Tensor, weights: Tensor, reduction: str, ignore_index: int
) -> Tensor:
    if reduction not in ("mean", "sum", "none"):
        raise DiagnosticError(f"nll_loss: reduction must be mean, sum or none, got {reduction!r}")
    dtype = predictions.dtype

    def counted(c: PrimExpr) -> PrimExpr:
        return tir_op.not_equal(c, const(ignore_index, c.dtype))

    def loss(*idx: Var) -> PrimExpr:
        c = targets(*idx)
        value = -predictions(idx[0], c, *idx[1:]) * weights(c)
        return Select(counted(c), value, const(0, dtype))

    per_elem = compute(targets.shape, loss, name="nll_loss", tag="broadcast")
    if reduction == "none":
        return per_elem
    total = topi_sum(per_elem)
    if reduction == "sum":
        return total

    def weight(*idx: Var) -> PrimExpr:
        c = targets(*idx)
        return Select(counted(c), weights(c), const(0, dtype))

    w = compute(targets.shape, weight, name="nll_loss", tag="broadcast")
    return divide(total, topi_sum(w))
