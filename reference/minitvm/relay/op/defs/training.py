"""Operators of training graphs (TVM ``src/relay/op/nn/nn.cc``, ``pooling.cc``;
``topi/nn/loss.py``, ``topi/nn/pooling.h`` ``pool_grad``): ``nn.nll_loss`` and the gradients
of 2-D pooling.

``nn.nll_loss(predictions (N, C, d...), targets (N, d...), weights (C,))`` is
``-predictions[n, t, d...] * weights[t]`` per position, 0 where the target equals
``ignore_index``; ``mean`` divides the sum by the sum of the weights of the targets not
ignored. A target outside ``[0, C)`` that is not ignored reads the clamped class, as every
out-of-range read in minitvm does.

``nn.max_pool2d_grad`` sends each window's gradient to the first maximum of the window
(row-major), ``nn.avg_pool2d_grad`` spreads it evenly over the window with the divisor
average pooling used; gradients that land in padding are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_value
from minitvm.relay.op.defs.layout import from_canonical, to_canonical
from minitvm.relay.op.defs.pool import (
    AvgPool2DAttrs,
    MaxPool2DAttrs,
    PoolGeometry,
    avg_divisor,
    ceil_tail,
    pool_geometry,
)
from minitvm.relay.op.relation import expect_float, expect_integral, int_attr, tensor_arg

__all__ = ["NLLLossAttrs"]


@dataclass(frozen=True, slots=True)
class NLLLossAttrs(Attrs):
    reduction: str = "mean"
    ignore_index: int = -100


def _nll_loss_rel(arg_types: list[Type], attrs: NLLLossAttrs) -> Type:
    pred = tensor_arg(arg_types, 0, "predictions")
    targets = tensor_arg(arg_types, 1, "targets")
    weights = tensor_arg(arg_types, 2, "weights")
    expect_float(pred, "predictions")
    expect_integral(targets, "targets")
    int_attr(attrs.ignore_index, "ignore_index")
    if pred.ndim < 2 or targets.shape != (pred.shape[0], *pred.shape[2:]):
        raise DiagnosticError(
            f"predictions (N, C, d...) and targets (N, d...) do not match: {pred} vs {targets}"
        )
    if weights != TensorType((pred.shape[1],), pred.dtype):
        raise DiagnosticError(
            f"weights must be ({pred.shape[1]},) of dtype {pred.dtype} (one per class), "
            f"got {weights}"
        )
    if attrs.reduction == "none":
        return TensorType(targets.shape, pred.dtype)
    if attrs.reduction not in ("mean", "sum"):
        raise DiagnosticError(f"reduction must be mean, sum or none, got {attrs.reduction!r}")
    return TensorType((), pred.dtype)


def _nll_loss_kernel(attrs: NLLLossAttrs, args: list[Value], out_type: Type) -> Value:
    pred, targets, weights = (tensor_value(a) for a in args)
    t = targets.astype(np.int64)
    keep = t != attrs.ignore_index
    if t.size and pred.shape[1] == 0:
        raise TVMError("nn.nll_loss: there are no classes to read")
    safe = np.where(keep, np.clip(t, 0, max(pred.shape[1] - 1, 0)), 0)
    picked = np.take_along_axis(pred, safe[:, None], axis=1)[:, 0]
    w = np.where(keep, weights[safe], pred.dtype.type(0))
    loss = np.where(keep, -picked * w, pred.dtype.type(0))
    if attrs.reduction == "none":
        return loss
    if attrs.reduction == "sum":
        return np.asarray(np.sum(loss, dtype=pred.dtype))
    return np.asarray(np.sum(loss, dtype=pred.dtype) / np.sum(w, dtype=pred.dtype))


# --- pooling gradients --------------------------------------------------------------------------


def _pool_grad_rel(arg_types: list[Type], attrs: MaxPool2DAttrs | AvgPool2DAttrs) -> Type:
    grad = tensor_arg(arg_types, 0, "out_grad")
    data = tensor_arg(arg_types, 1, "data")
    name = "nn.max_pool2d" if isinstance(attrs, MaxPool2DAttrs) else "nn.avg_pool2d"
    rel = Op.get(name).definition.type_rel
    if rel is None:
        raise DiagnosticError(f"{name} has no type relation")
    pooled = rel([data], attrs)
    if grad != pooled:
        raise DiagnosticError(f"out_grad must have the pooled type {pooled}, got {grad}")
    return data


def _window_coords(
    x_shape: tuple[int, ...], g: PoolGeometry
) -> tuple[list[int], tuple[int, int], Array, Array]:
    """Padded shape, explicit pads before, and per window position its padded (row, col)."""
    tail = ceil_tail(x_shape, g)
    padded = [x_shape[2 + i] + g.pads[i][0] + g.pads[i][1] + tail[i] for i in range(2)]
    outs = [
        (padded[i] - ((g.kernel[i] - 1) * g.dilation[i] + 1)) // g.strides[i] + 1 for i in range(2)
    ]
    rows = (np.arange(outs[0]) * g.strides[0])[:, None, None, None] + (
        np.arange(g.kernel[0]) * g.dilation[0]
    )[None, None, :, None]
    cols = (np.arange(outs[1]) * g.strides[1])[None, :, None, None] + (
        np.arange(g.kernel[1]) * g.dilation[1]
    )[None, None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)
    return padded, (g.pads[0][0], g.pads[1][0]), rows, cols


def _scatter(
    x_shape: tuple[int, ...],
    padded: list[int],
    before: tuple[int, int],
    rows: Array,
    cols: Array,
    values: Array,
) -> Array:
    """Sum ``values`` (N, C, positions...) into a padded grid and crop the padding."""
    n, c = x_shape[:2]
    grid = np.zeros((n, c, *padded), values.dtype)
    ni = np.arange(n)[:, None, None]
    ci = np.arange(c)[None, :, None]
    np.add.at(
        grid,
        (ni, ci, rows.reshape(1, 1, -1), cols.reshape(1, 1, -1)),
        values.reshape(n, c, rows.size),
    )
    return grid[:, :, before[0] : before[0] + x_shape[2], before[1] : before[1] + x_shape[3]]


def _max_pool_grad_kernel(attrs: MaxPool2DAttrs, args: list[Value], out_type: Type) -> Value:
    g = pool_geometry(attrs, 2)
    grad = to_canonical(tensor_value(args[0]), g.layout)
    x = to_canonical(tensor_value(args[1]), g.layout)
    padded, before, rows, cols = _window_coords(x.shape, g)
    low = np.finfo(x.dtype).min if np.issubdtype(x.dtype, np.floating) else np.iinfo(x.dtype).min
    after = [padded[i] - x.shape[2 + i] - before[i] for i in range(2)]
    xp = np.pad(
        x, [(0, 0), (0, 0), (before[0], after[0]), (before[1], after[1])], constant_values=low
    )
    windows = xp[:, :, rows, cols]  # (N, C, OH, OW, KH, KW)
    flat = windows.reshape(*windows.shape[:4], g.kernel[0] * g.kernel[1])
    first = np.argmax(flat, axis=-1)  # the first maximum of each window
    hot = np.arange(flat.shape[-1]) == first[..., None]
    values = np.where(hot, grad[..., None], grad.dtype.type(0)).reshape(windows.shape)
    out = _scatter(x.shape, padded, before, rows, cols, values)
    return from_canonical(out, g.layout)


def _avg_pool_grad_kernel(attrs: AvgPool2DAttrs, args: list[Value], out_type: Type) -> Value:
    g = pool_geometry(attrs, 2)
    grad = to_canonical(tensor_value(args[0]), g.layout)
    x = to_canonical(tensor_value(args[1]), g.layout)
    padded, before, rows, cols = _window_coords(x.shape, g)
    share = grad / avg_divisor(x.shape, g, bool(attrs.count_include_pad)).astype(grad.dtype)
    kh, kw = g.kernel
    spread = np.broadcast_to(share[..., None, None], (*share.shape, kh, kw))
    out = _scatter(x.shape, padded, before, rows, cols, np.ascontiguousarray(spread))
    return from_canonical(out.astype(x.dtype), g.layout)


def _register() -> None:
    define_op(
        "nn.nll_loss",
        _nll_loss_rel,
        _nll_loss_kernel,
        attrs_type=NLLLossAttrs,
        num_inputs=3,
        pattern=OpPattern.OUT_ELEMWISE_FUSABLE,
    )
    define_op(
        "nn.max_pool2d_grad",
        _pool_grad_rel,
        _max_pool_grad_kernel,
        attrs_type=MaxPool2DAttrs,
        num_inputs=2,
        pattern=OpPattern.OUT_ELEMWISE_FUSABLE,
    )
    define_op(
        "nn.avg_pool2d_grad",
        _pool_grad_rel,
        _avg_pool_grad_kernel,
        attrs_type=AvgPool2DAttrs,
        num_inputs=2,
        pattern=OpPattern.OUT_ELEMWISE_FUSABLE,
    )


_register()
