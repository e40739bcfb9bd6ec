"""Cumulative sums and products (TVM's ``topi/scan.py``), as reductions over a prefix.

``out[..., i, ...]`` combines ``data[..., k, ...]`` for ``k <= i`` (``k < i`` when
``exclusive``), in order. ``axis=None`` works on the flattened input; ``dtype`` (default: the
input's) is the accumulation and output dtype.
"""

from __future__ import annotations

from minitvm.runtime.dtype import check_dtype
from minitvm.te.operation import reduce_axis
from minitvm.te.reduction import Reducer, comm_reducer
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var, const
from minitvm.topi.utils import compute, normalize_axis

__all__ = ["cumprod", "cumsum"]

_prod = comm_reducer(lambda x, y: x * y, lambda t: const(1, t), name="prod")


def _scan(
    data: Tensor,
    axis: int | None,
    dtype: str | None,
    exclusive: bool | None,
    reducer: Reducer,
    name: str,
) -> Tensor:
    if axis is None:
        from minitvm.topi.transform import reshape

        data = reshape(data, [-1])
        axis = 0
    axis = normalize_axis(axis, data.ndim, name)
    out_dtype = check_dtype(dtype or data.dtype)
    k = reduce_axis((const(0, data.shape[axis].dtype), data.shape[axis]), name="k")

    def body(ax: list[Var]) -> PrimExpr:
        value = tir_op.cast(data(*ax[:axis], k.var, *ax[axis + 1 :]), out_dtype)
        cond = tir_op.less(k.var, ax[axis]) if exclusive else tir_op.less_equal(k.var, ax[axis])
        return reducer(value, k, where=cond)

    return compute(data.shape, body, f"T_{name}", "cumulative")


def cumsum(
    data: Tensor, axis: int | None = None, dtype: str | None = None, exclusive: bool | None = None
) -> Tensor:
    return _scan(data, axis, dtype, exclusive, te_sum, "cumsum")


def cumprod(
    data: Tensor, axis: int | None = None, dtype: str | None = None, exclusive: bool | None = None
) -> Tensor:
    return _scan(data, axis, dtype, exclusive, _prod, "cumprod")
