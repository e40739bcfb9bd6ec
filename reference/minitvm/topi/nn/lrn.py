"""Local response normalization across channels (TVM's ``topi/nn/local_response_norm.py``).

``out = x / (bias + alpha * sum_window(x^2) / size) ** beta``, the window centred on each
element along ``axis`` and zero-padded by ``size // 2`` on each side.
"""

from __future__ import annotations

from minitvm.te.operation import reduce_axis
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import intrin
from minitvm.tir.expr import PrimExpr, Var, const
from minitvm.topi.broadcast import divide
from minitvm.topi.nn.pad import pad
from minitvm.topi.utils import compute, normalize_axis

__all__ = ["lrn"]


def lrn(
    data: Tensor,
    size: int,
    axis: int = 1,
    alpha: float = 0.0001,
    beta: float = 0.75,
    bias: float = 2,
) -> Tensor:
    axis = normalize_axis(axis, data.ndim, "lrn")
    half = size // 2
    before = [0] * data.ndim
    after = [0] * data.ndim
    before[axis] = half
    after[axis] = half
    padded = pad(data, before, after, 0.0, name="pad_data")
    r = reduce_axis((0, size), name="rxs")

    def sqr(ax: list[Var]) -> PrimExpr:
        idx = [*ax[:axis], ax[axis] + r.var, *ax[axis + 1 :]]
        v = padded(*idx)
        return te_sum(v * v, axis=r)

    sqr_sum = compute(data.shape, sqr, "tensor", "sqr_sum")
    d = data.dtype
    scale = compute(
        data.shape,
        lambda ax: intrin.pow(
            const(bias, d) + const(alpha, d) * sqr_sum(*ax) / const(size, d), const(beta, d)
        ),
        "tensor",
        "elemwise",
    )
    return divide(data, scale)
