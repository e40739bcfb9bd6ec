"""Normalizations (TVM's ``topi/nn/{layer_norm,batch_norm,group_norm,instance_norm,rms_norm}``).

Each normalizes ``x`` over some axes: ``(x - mean) / sqrt(var + epsilon)`` with the biased
variance (computed as the mean of squared deviations, in two passes), then scales by
``gamma`` and shifts by ``beta``. ``batch_norm`` returns ``[out, mean, var]``: in inference the
given moving statistics (copied), in training the updated moving statistics
``moving * (1 - momentum) + batch * momentum``.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute, reduce_axis
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import intrin
from minitvm.tir import op as tir_op
from minitvm.tir.expr import IterVar, PrimExpr, Var, const
from minitvm.topi.utils import get_const_tuple, normalize_axis

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm", "rms_norm"]


def _one(t: Tensor | tuple[Tensor, ...]) -> Tensor:
    if isinstance(t, tuple):
        raise DiagnosticError("expected one output")
    return t


def _reduced(e: PrimExpr | tuple[PrimExpr, ...]) -> PrimExpr:
    if isinstance(e, tuple):
        raise DiagnosticError("expected a single-value reduction")
    return e


def _moments(x: Tensor, axes: list[int], name: str) -> tuple[Tensor, Tensor]:
    """Mean and biased variance of ``x`` over ``axes`` (kept as size-1 dimensions)."""
    shape = get_const_tuple(x.shape)
    count = 1
    for a in axes:
        count *= shape[a]
    kept = [1 if k in axes else d for k, d in enumerate(shape)]
    rs = [reduce_axis((0, shape[a]), name=f"k{a}") for a in axes]
    n = const(float(count), x.dtype)

    def at(ax: tuple[Var, ...], red: list[IterVar]) -> list[PrimExpr]:
        idx: list[PrimExpr] = list(ax)
        for r, a in zip(red, axes, strict=True):
            idx[a] = r.var
        return idx

    total = _one(
        compute(kept, lambda *ax: _reduced(te_sum(x(*at(ax, rs)), rs)), name=f"{name}_sum")
    )
    mean = _one(compute(kept, lambda *ax: total(*ax) / n, name=f"{name}_mean"))
    rs2 = [reduce_axis((0, shape[a]), name=f"k{a}") for a in axes]

    def sq(*ax: Var) -> PrimExpr:
        dev = x(*at(ax, rs2)) - mean(*ax)
        return _reduced(te_sum(dev * dev, rs2))

    sqsum = _one(compute(kept, sq, name=f"{name}_sqsum"))
    return mean, _one(compute(kept, lambda *ax: sqsum(*ax) / n, name=f"{name}_var"))


def _kept_index(ax: tuple[Var, ...], axes: list[int]) -> list[PrimExpr]:
    return [const(0, v.dtype) if k in axes else v for k, v in enumerate(ax)]


def layer_norm(
    data: Tensor, gamma: Tensor, beta: Tensor | None, axis: Sequence[int], epsilon: float = 1e-5
) -> Tensor:
    """Normalize over ``axis``; ``gamma``/``beta`` have the shape of those axes."""
    axes = sorted(normalize_axis(int(a), data.ndim, "layer_norm") for a in axis)
    mean, var = _moments(data, axes, "T_layer_norm")
    eps = const(epsilon, data.dtype)

    def body(*ax: Var) -> PrimExpr:
        k = _kept_index(ax, axes)
        out = (data(*ax) - mean(*k)) / intrin.sqrt(var(*k) + eps)
        g_idx = [ax[a] for a in axes]
        out = out * gamma(*g_idx)
        return out + beta(*g_idx) if beta is not None else out

    return _one(compute(data.shape, body, name="T_layer_norm", tag="injective"))


def rms_norm(data: Tensor, weight: Tensor, axis: Sequence[int], epsilon: float = 1e-5) -> Tensor:
    """``x / sqrt(mean(x^2) + epsilon) * weight`` over ``axis``."""
    axes = sorted(normalize_axis(int(a), data.ndim, "rms_norm") for a in axis)
    shape = get_const_tuple(data.shape)
    count = 1
    for a in axes:
        count *= shape[a]
    kept = [1 if k in axes else d for k, d in enumerate(shape)]
    rs = [reduce_axis((0, shape[a]), name=f"k{a}") for a in axes]

    def sq(*ax: Var) -> PrimExpr:
        idx: list[PrimExpr] = list(ax)
        for r, a in zip(rs, axes, strict=True):
            idx[a] = r.var
        v = data(*idx)
        return _reduced(te_sum(v * v, rs))

    sqsum = _one(compute(kept, sq, name="T_rms_norm_sqsum"))
    n, eps = const(float(count), data.dtype), const(epsilon, data.dtype)

    def body(*ax: Var) -> PrimExpr:
        scale = intrin.rsqrt(sqsum(*_kept_index(ax, axes)) / n + eps)
        return data(*ax) * scale * weight(*[ax[a] for a in axes])

    return _one(compute(data.shape, body, name="T_rms_norm", tag="injective"))


def instance_norm(
    data: Tensor,
    gamma: Tensor,
    beta: Tensor,
    channel_axis: int,
    axis: Sequence[int],
    epsilon: float = 1e-5,
) -> Tensor:
    """Normalize each (batch, channel) over ``axis``; ``gamma``/``beta`` are per channel."""
    c = normalize_axis(channel_axis, data.ndim, "instance_norm")
    axes = sorted(normalize_axis(int(a), data.ndim, "instance_norm") for a in axis)
    mean, var = _moments(data, axes, "T_instance_norm")
    eps = const(epsilon, data.dtype)

    def body(*ax: Var) -> PrimExpr:
        k = _kept_index(ax, axes)
        out = (data(*ax) - mean(*k)) / intrin.sqrt(var(*k) + eps)
        return out * gamma(ax[c]) + beta(ax[c])

    return _one(compute(data.shape, body, name="T_instance_norm", tag="injective"))


def group_norm(
    data: Tensor,
    gamma: Tensor,
    beta: Tensor,
    num_groups: int,
    channel_axis: int,
    axes: Sequence[int],
    epsilon: float = 1e-5,
) -> Tensor:
    """Split the channels into ``num_groups`` groups and normalize each group over its
    channels and ``axes``; ``gamma``/``beta`` are per channel."""
    shape = get_const_tuple(data.shape)
    c = normalize_axis(channel_axis, data.ndim, "group_norm")
    red_axes = sorted(normalize_axis(int(a), data.ndim, "group_norm") for a in axes)
    channels = shape[c]
    if channels % num_groups:
        raise DiagnosticError(
            f"group_norm: {channels} channels do not split into {num_groups} groups"
        )
    per = channels // num_groups
    count = per
    for a in red_axes:
        count *= shape[a]
    stat_shape = [
        num_groups if k == c else (1 if k in red_axes else d) for k, d in enumerate(shape)
    ]
    n, eps = const(float(count), data.dtype), const(epsilon, data.dtype)

    def read(ax: tuple[Var, ...], rc: IterVar, rs: list[IterVar]) -> PrimExpr:
        idx: list[PrimExpr] = list(ax)
        idx[c] = ax[c] * per + rc.var
        for r, a in zip(rs, red_axes, strict=True):
            idx[a] = r.var
        return data(*idx)

    rc1 = reduce_axis((0, per), name="kc")
    rs1 = [reduce_axis((0, shape[a]), name=f"k{a}") for a in red_axes]
    total = _one(
        compute(
            stat_shape,
            lambda *ax: _reduced(te_sum(read(ax, rc1, rs1), [rc1, *rs1])),
            name="T_group_norm_sum",
        )
    )
    mean = _one(compute(stat_shape, lambda *ax: total(*ax) / n, name="T_group_norm_mean"))
    rc2 = reduce_axis((0, per), name="kc")
    rs2 = [reduce_axis((0, shape[a]), name=f"k{a}") for a in red_axes]

    def sq_body(*ax: Var) -> PrimExpr:
        dev = read(ax, rc2, rs2) - mean(*ax)
        return _reduced(te_sum(dev * dev, [rc2, *rs2]))

    sqsum = _one(compute(stat_shape, sq_body, name="T_group_norm_sqsum"))
    var = _one(compute(stat_shape, lambda *ax: sqsum(*ax) / n, name="T_group_norm_var"))

    def body(*ax: Var) -> PrimExpr:
        idx: list[PrimExpr] = [
            tir_op.floordiv(v, per) if k == c else const(0, v.dtype) if k in red_axes else v
            for k, v in enumerate(ax)
        ]
        out = (data(*ax) - mean(*idx)) / intrin.sqrt(var(*idx) + eps)
        return out * gamma(ax[c]) + beta(ax[c])

    return _one(compute(data.shape, body, name="T_group_norm", tag="injective"))


def batch_norm(
    data: Tensor,
    gamma: Tensor,
    beta: Tensor,
    moving_mean: Tensor,
    moving_var: Tensor,
    axis: int | None = None,
    epsilon: float | None = None,
    center: bool | None = None,
    scale: bool | None = None,
    training: bool | None = None,
    momentum: float | None = None,
) -> list[Tensor]:
    """``[out, mean, var]`` (see the module docstring); defaults: axis 1, epsilon 1e-5,
    center and scale on, inference, momentum 0.1."""
    ax = normalize_axis(1 if axis is None else axis, data.ndim, "batch_norm")
    eps = const(1e-5 if epsilon is None else epsilon, data.dtype)
    mom = 0.1 if momentum is None else momentum
    if not 0 <= mom <= 1:
        raise DiagnosticError(f"batch_norm: momentum must be in [0, 1], got {mom}")
    others = [k for k in range(data.ndim) if k != ax]
    batch = _moments(data, others, "T_batch_norm") if training else None

    def stat(which: int, c: PrimExpr) -> PrimExpr:
        if batch is None:
            return (moving_mean if which == 0 else moving_var)(c)
        return batch[which](*[c if k == ax else const(0, "int32") for k in range(data.ndim)])

    def mean(c: PrimExpr) -> PrimExpr:
        return stat(0, c)

    def var(c: PrimExpr) -> PrimExpr:
        return stat(1, c)

    def body(*i: Var) -> PrimExpr:
        c = i[ax]
        out = (data(*i) - mean(c)) / intrin.sqrt(var(c) + eps)
        if scale is None or scale:
            out = out * gamma(c)
        if center is None or center:
            out = out + beta(c)
        return out

    out = _one(compute(data.shape, body, name="T_batch_norm", tag="injective"))
    one = const(1, data.dtype)
    if training:
        keep, take = const(1 - mom, data.dtype), const(mom, data.dtype)
        new_mean = _one(
            compute(
                moving_mean.shape,
                lambda c: moving_mean(c) * keep + mean(c) * take,
                name="T_batch_norm_mean",
            )
        )
        new_var = _one(
            compute(
                moving_var.shape,
                lambda c: moving_var(c) * keep + var(c) * take,
                name="T_batch_norm_var",
            )
        )
        return [out, new_mean, new_var]
    mean_out = _one(compute(moving_mean.shape, lambda c: moving_mean(c) * one, name="T_multiply"))
    var_out = _one(compute(moving_var.shape, lambda c: moving_var(c) * one, name="T_multiply"))
    return [out, mean_out, var_out]
