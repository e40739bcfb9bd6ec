"""numpy references for the other neural-network operators (TVM's ``topi/testing/*``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "batch_matmul",
    "batch_norm",
    "batch_to_space_nd_python",
    "binarize_pack_python",
    "binary_dense_python",
    "depth_to_space_python",
    "dilate_python",
    "group_norm_python",
    "instance_norm_python",
    "layer_norm_python",
    "log_softmax_python",
    "lrn_python",
    "nll_loss",
    "rms_norm_python",
    "softmax_python",
    "space_to_batch_nd_python",
    "space_to_depth_python",
    "upsampling_python",
]

Array = npt.NDArray[Any]


def softmax_python(a_np: Array, axis: int = -1) -> Array:
    e = np.exp(a_np - np.max(a_np, axis=axis, keepdims=True))
    return np.asarray((e / np.sum(e, axis=axis, keepdims=True)).astype(a_np.dtype))


def log_softmax_python(a_np: Array, axis: int = -1) -> Array:
    shifted = a_np - np.max(a_np, axis=axis, keepdims=True)
    return np.asarray(
        (shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))).astype(a_np.dtype)
    )


def lrn_python(a_np: Array, size: int, axis: int, bias: float, alpha: float, beta: float) -> Array:
    half = size // 2
    sq = np.moveaxis(a_np.astype(np.float64) ** 2, axis, 0)
    n = sq.shape[0]
    acc = np.zeros_like(sq)
    for i in range(n):
        acc[i] = sq[max(0, i - half) : min(n, i + half + 1)].sum(axis=0)
    acc = np.moveaxis(acc, 0, axis)
    return (a_np / (bias + alpha * acc / size) ** beta).astype(a_np.dtype)


def _normalize(x: Array, axes: tuple[int, ...], eps: float) -> Array:
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes, keepdims=True)
    var = x64.var(axis=axes, keepdims=True)
    return np.asarray((x64 - mean) / np.sqrt(var + eps))


def layer_norm_python(
    data: Array, gamma: Array, beta: Array, axis: Sequence[int], epsilon: float = 1e-5
) -> Array:
    axes = tuple(a % data.ndim for a in axis)
    shape = [data.shape[k] if k in axes else 1 for k in range(data.ndim)]
    out = _normalize(data, axes, epsilon) * gamma.reshape(shape) + beta.reshape(shape)
    return out.astype(data.dtype)


def rms_norm_python(
    data: Array, weight: Array, axis: Sequence[int], epsilon: float = 1e-5
) -> Array:
    axes = tuple(a % data.ndim for a in axis)
    shape = [data.shape[k] if k in axes else 1 for k in range(data.ndim)]
    x = data.astype(np.float64)
    out = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + epsilon) * weight.reshape(shape)
    return np.asarray(out.astype(data.dtype))


def instance_norm_python(
    data: Array,
    gamma: Array,
    beta: Array,
    channel_axis: int,
    axis: Sequence[int],
    epsilon: float = 1e-5,
) -> Array:
    axes = tuple(a % data.ndim for a in axis)
    shape = [data.shape[k] if k == channel_axis % data.ndim else 1 for k in range(data.ndim)]
    out = _normalize(data, axes, epsilon) * gamma.reshape(shape) + beta.reshape(shape)
    return out.astype(data.dtype)


def group_norm_python(
    data: Array,
    gamma: Array,
    beta: Array,
    num_groups: int,
    channel_axis: int,
    axes: Sequence[int],
    epsilon: float = 1e-5,
) -> Array:
    c_ax = channel_axis % data.ndim
    x = np.moveaxis(data, c_ax, 1)
    n, c = x.shape[:2]
    grouped = x.reshape(n, num_groups, c // num_groups, *x.shape[2:])
    red = tuple(range(2, grouped.ndim))
    normed = _normalize(grouped, red, epsilon).reshape(x.shape)
    shape = [1, c] + [1] * (x.ndim - 2)
    out = normed * gamma.reshape(shape) + beta.reshape(shape)
    return np.moveaxis(out, 1, c_ax).astype(data.dtype)


def batch_norm(
    x: Array,
    gamma: Array,
    beta: Array,
    moving_mean: Array,
    moving_var: Array,
    axis: int,
    epsilon: float,
    center: bool,
    scale: bool,
    training: bool = False,
    momentum: float = 0.1,
) -> tuple[Array, Array, Array]:
    shape = [x.shape[k] if k == axis % x.ndim else 1 for k in range(x.ndim)]
    red = tuple(k for k in range(x.ndim) if k != axis % x.ndim)
    if training:
        mean = x.astype(np.float64).mean(axis=red)
        var = x.astype(np.float64).var(axis=red)
    else:
        mean, var = moving_mean.astype(np.float64), moving_var.astype(np.float64)
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + epsilon)
    if scale:
        out = out * gamma.reshape(shape)
    if center:
        out = out + beta.reshape(shape)
    if training:
        new_mean = moving_mean * (1 - momentum) + mean * momentum
        new_var = moving_var * (1 - momentum) + var * momentum
        return out.astype(x.dtype), new_mean.astype(x.dtype), new_var.astype(x.dtype)
    return out.astype(x.dtype), moving_mean.copy(), moving_var.copy()


def batch_matmul(
    x: Array, y: Array, out_dtype: str | None = None, trans_x: bool = False, trans_y: bool = True
) -> Array:
    a = x.transpose(0, 2, 1) if trans_x else x
    b = y.transpose(0, 2, 1) if trans_y else y
    dtype = out_dtype or x.dtype
    return np.asarray(np.matmul(a.astype(dtype), b.astype(dtype)).astype(dtype))


def dilate_python(input_np: Array, strides: Sequence[int], dilation_value: float = 0.0) -> Array:
    out_shape = tuple((n - 1) * s + 1 for n, s in zip(input_np.shape, strides, strict=True))
    out = np.full(out_shape, dilation_value, dtype=input_np.dtype)
    out[tuple(slice(None, None, s) for s in strides)] = input_np
    return out


def nll_loss(
    predictions: Array,
    targets: Array,
    weights: Array,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Array:
    n = predictions.shape[0]
    loss = np.zeros(targets.shape, dtype=predictions.dtype)
    wsum = np.zeros(targets.shape, dtype=predictions.dtype)
    for idx in np.ndindex(*targets.shape):
        t = int(targets[idx])
        if t == ignore_index:
            continue
        loss[idx] = -predictions[(idx[0], t, *idx[1:])] * weights[t]
        wsum[idx] = weights[t]
    del n
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.asarray(loss.sum(), dtype=predictions.dtype)
    return np.asarray(loss.sum() / wsum.sum(), dtype=predictions.dtype)


def binarize_pack_python(data: Array, axis: int | None = None) -> Array:
    axis = data.ndim - 1 if axis is None else axis % data.ndim
    bits = np.moveaxis(data >= 0, axis, -1).astype(np.uint64)
    grouped = bits.reshape(*bits.shape[:-1], bits.shape[-1] // 32, 32)
    weights = np.uint64(1) << np.arange(31, -1, -1, dtype=np.uint64)
    packed = (grouped * weights).sum(axis=-1).astype(np.uint32)
    return np.moveaxis(packed, -1, axis)


def binary_dense_python(data: Array, weight: Array) -> Array:
    xor = np.bitwise_xor(data[:, None, :], weight[None, :, :])
    pop = np.bitwise_count(xor).astype(np.int64).sum(axis=-1)
    return np.asarray((32 * data.shape[1] - 2 * pop).astype(np.float32))


def space_to_batch_nd_python(
    data: Array,
    block_shape: Sequence[int],
    pad_before: Sequence[int],
    pad_after: Sequence[int],
    pad_value: float = 0,
) -> Array:
    m = len(block_shape)
    pads = [(0, 0), *zip(pad_before, pad_after, strict=True), *[(0, 0)] * (data.ndim - 1 - m)]
    x = np.pad(data, pads, constant_values=pad_value)
    n = x.shape[0]
    shape = [n]
    for k in range(m):
        shape += [x.shape[1 + k] // block_shape[k], block_shape[k]]
    shape += list(x.shape[1 + m :])
    x = x.reshape(shape)
    perm = (
        [2 + 2 * k for k in range(m)]
        + [0]
        + [1 + 2 * k for k in range(m)]
        + list(range(1 + 2 * m, x.ndim))
    )
    x = x.transpose(perm)
    return x.reshape(n * int(np.prod(block_shape)), *x.shape[m + 1 :])


def batch_to_space_nd_python(
    data: Array, block_shape: Sequence[int], crop_begin: Sequence[int], crop_end: Sequence[int]
) -> Array:
    m = len(block_shape)
    total = int(np.prod(block_shape))
    n = data.shape[0] // total
    x = data.reshape(*block_shape, n, *data.shape[1:])
    perm = [m]
    for k in range(m):
        perm += [m + 1 + k, k]
    perm += list(range(2 * m + 1, x.ndim))
    x = x.transpose(perm)
    shape = [n] + [data.shape[1 + k] * block_shape[k] for k in range(m)] + list(data.shape[1 + m :])
    x = x.reshape(shape)
    sl = [slice(None)] + [slice(crop_begin[k], shape[1 + k] - crop_end[k]) for k in range(m)]
    return np.asarray(x[tuple(sl)])


def depth_to_space_python(data: Array, block_size: int, mode: str = "DCR") -> Array:
    n, c, h, w = data.shape
    b = block_size
    if mode == "DCR":
        x = data.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        x = data.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // (b * b), h * b, w * b)


def space_to_depth_python(data: Array, block_size: int) -> Array:
    n, c, h, w = data.shape
    b = block_size
    x = data.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


def upsampling_python(
    data: Array,
    scale: tuple[float, float],
    layout: str = "NCHW",
    method: str = "nearest_neighbor",
    align_corners: bool = False,
) -> Array:
    x = data if layout == "NCHW" else data.transpose(0, 3, 1, 2)
    h, w = x.shape[2:]
    oh, ow = round(h * scale[0]), round(w * scale[1])

    def pos(o: int, n: int, size: int) -> float:
        if align_corners:
            return o * ((n - 1) / (size - 1) if size > 1 else 0.0)
        return o * (n / size)

    out = np.zeros((*x.shape[:2], oh, ow), dtype=data.dtype)
    for i, j in np.ndindex(oh, ow):
        py, px = np.float32(pos(i, h, oh)), np.float32(pos(j, w, ow))
        if method == "nearest_neighbor":
            if align_corners:
                y, xx = int(np.rint(py)), int(np.rint(px))
            else:
                y, xx = math.floor(py + 1e-5), math.floor(px + 1e-5)
            out[:, :, i, j] = x[:, :, min(max(y, 0), h - 1), min(max(xx, 0), w - 1)]
        else:
            y0, x0 = math.floor(py), math.floor(px)
            y1, x1 = math.ceil(py), math.ceil(px)
            dy, dx = py - y0, px - x0

            def at(y: int, xx: int) -> Array:
                return x[:, :, min(max(y, 0), h - 1), min(max(xx, 0), w - 1)].astype(np.float64)

            top = at(y0, x0) * (1 - dx) + at(y0, x1) * dx
            bottom = at(y1, x0) * (1 - dx) + at(y1, x1) * dx
            out[:, :, i, j] = top * (1 - dy) + bottom * dy
    return out if layout == "NCHW" else out.transpose(0, 2, 3, 1)
