"""``softmax`` and ``log_softmax`` along an axis (TVM's ``topi/nn/softmax.py``).

Both subtract the maximum first: ``softmax(x) = exp(x - max) / sum(exp(x - max))``.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.te.operation import reduce_axis
from minitvm.te.reduction import Reducer
from minitvm.te.reduction import max as te_max
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import intrin
from minitvm.tir.expr import PrimExpr, Var
from minitvm.topi.utils import compute, normalize_axis

__all__ = ["fast_softmax", "log_softmax", "softmax"]


def _reduce_along(x: Tensor, axis: int, f: Reducer, src: Tensor, name: str) -> Tensor:
    shape = [d for k, d in enumerate(x.shape) if k != axis]
    k = reduce_axis((0, x.shape[axis]), name="k")

    def body(ax: list[Var]) -> PrimExpr:
        return f(src(*ax[:axis], k.var, *ax[axis:]), k)

    return compute(shape, body, name, axis_prefix="i")


def _reduced_index(ax: list[Var], axis: int) -> list[Var]:
    return [*ax[:axis], *ax[axis + 1 :]]


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    axis = normalize_axis(axis, x.ndim, "softmax")
    if x.dtype not in ("float16", "float32", "float64"):
        raise DiagnosticError(f"softmax expects a float tensor, got {x.dtype}")
    max_elem = _reduce_along(x, axis, te_max, x, "T_softmax_maxelem")
    exp = compute(
        x.shape,
        lambda ax: intrin.exp(x(*ax) - max_elem(*_reduced_index(ax, axis))),
        "T_softmax_exp",
        axis_prefix="i",
    )
    expsum = _reduce_along(x, axis, te_sum, exp, "T_softmax_expsum")
    return compute(
        x.shape,
        lambda ax: exp(*ax) / expsum(*_reduced_index(ax, axis)),
        "T_softmax_norm",
        attrs={"axis": axis},
        axis_prefix="i",
    )


fast_softmax = softmax


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    axis = normalize_axis(axis, x.ndim, "log_softmax")
    if x.dtype not in ("float16", "float32", "float64"):
        raise DiagnosticError(f"log_softmax expects a float tensor, got {x.dtype}")
    max_elem = _reduce_along(x, axis, te_max, x, "T_softmax_maxelem")
    shifted = compute(
        x.shape,
        lambda ax: intrin.exp(x(*ax) - max_elem(*_reduced_index(ax, axis))),
        "T_softmax_exp",
        axis_prefix="i",
    )
    expsum = _reduce_along(x, axis, te_sum, shifted, "T_softmax_expsum")
    return compute(
        x.shape,
        lambda ax: (
            x(*ax)
            - max_elem(*_reduced_index(ax, axis))
            - intrin.log(expsum(*_reduced_index(ax, axis)))
        ),
        "T_log_softmax",
        axis_prefix="i",
    )
