"""numpy references for pooling (TVM's ``topi/testing/poolnd_python.py`` & co.),
window by window, from the definitions in ``minitvm.topi.nn.pooling``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["adaptive_pool", "pool_grad_nchw", "poolnd_python"]

Array = npt.NDArray[Any]


def _to_nc(layout: str) -> list[int]:
    """The permutation bringing ``layout`` to channels-first."""
    letters = [c for c in "DHW" if c in layout]
    return [layout.index("N"), layout.index("C"), *(layout.index(c) for c in letters)]


def poolnd_python(
    np_data: Array,
    kernel: Sequence[int],
    strides: Sequence[int],
    dilation: Sequence[int],
    padding_before: Sequence[int],
    padding_after: Sequence[int],
    pool_type: str,
    count_include_pad: bool = True,
    ceil_mode: bool = False,
    layout: str = "NCHW",
) -> Array:
    perm = _to_nc(layout)
    x = np_data.transpose(perm)
    dim = x.ndim - 2
    sp = x.shape[2:]
    outs = []
    for i in range(dim):
        extra = strides[i] - 1 if ceil_mode else 0
        dk = (kernel[i] - 1) * dilation[i] + 1
        outs.append((sp[i] + padding_before[i] + padding_after[i] + extra - dk) // strides[i] + 1)
    out = np.zeros((*x.shape[:2], *outs), dtype=np_data.dtype)
    for o in np.ndindex(*outs):
        pts = []
        total = 1
        real = 1
        for i in range(dim):
            start = o[i] * strides[i] - padding_before[i]
            idx = [start + r * dilation[i] for r in range(kernel[i])]
            inside = [j for j in idx if 0 <= j < sp[i]]
            bound = sp[i] + padding_after[i] - 1
            total *= len([j for j in idx if j <= bound])
            real *= len(inside)
            pts.append(inside)
        cells = [_at(x, p) for p in _product(pts)]
        if pool_type == "max":
            if cells:
                value = np.max(np.stack(cells), axis=0)
            else:
                value = np.full(x.shape[:2], _lowest(np_data.dtype), dtype=np_data.dtype)
        else:
            acc = np.sum(np.stack(cells), axis=0) if cells else np.zeros(x.shape[:2], np_data.dtype)
            count = max(total if count_include_pad else real, 1)
            value = acc / count if np_data.dtype.kind == "f" else np.floor_divide(acc, count)
        out[(slice(None), slice(None), *o)] = value
    return out.transpose(np.argsort(perm))


def _at(x: Array, point: tuple[int, ...]) -> Array:
    """``x[:, :, *point]``."""
    index: tuple[slice | int, ...] = (slice(None), slice(None), *point)
    return np.asarray(x[index])


def _product(lists: list[list[int]]) -> list[tuple[int, ...]]:
    result: list[tuple[int, ...]] = [()]
    for items in lists:
        result = [(*r, j) for r in result for j in items]
    return result


def _lowest(dtype: np.dtype[Any]) -> float | int:
    return float(np.finfo(dtype).min) if dtype.kind == "f" else int(np.iinfo(dtype).min)


def adaptive_pool(
    np_data: Array, out_size: Sequence[int], pool_type: str, layout: str = "NCHW"
) -> Array:
    perm = _to_nc(layout)
    x = np_data.transpose(perm)
    sp = x.shape[2:]
    out = np.zeros((*x.shape[:2], *out_size), dtype=np_data.dtype)
    for o in np.ndindex(*out_size):
        sl = tuple(
            slice(o[i] * sp[i] // out_size[i], math.ceil((o[i] + 1) * sp[i] / out_size[i]))
            for i in range(len(out_size))
        )
        window = x[(slice(None), slice(None), *sl)]
        axes = tuple(range(2, x.ndim))
        value = np.max(window, axis=axes) if pool_type == "max" else np.mean(window, axis=axes)
        out[(slice(None), slice(None), *o)] = value
    return out.transpose(np.argsort(perm))


def _max_window_grad(
    a_np: Array, grad: Array, g: Array, y0: int, x0: int, kh: int, kw: int
) -> None:
    """Add ``g`` at the first maximum of the window at ``(y0, x0)`` (padding is -inf)."""
    h, w = a_np.shape[2:]
    for b, ch in np.ndindex(*a_np.shape[:2]):
        best, where = -np.inf, None
        for y in range(y0, y0 + kh):
            for x in range(x0, x0 + kw):
                v = a_np[b, ch, y, x] if 0 <= y < h and 0 <= x < w else _lowest(a_np.dtype)
                if v > best:
                    best, where = v, (y, x)
        if where is not None and 0 <= where[0] < h and 0 <= where[1] < w:
            grad[b, ch, where[0], where[1]] += g[b, ch]


def pool_grad_nchw(
    a_np: Array,
    out_grad_np: Array,
    pool_size: Sequence[int],
    strides: Sequence[int],
    padding: Sequence[int],
    pool_type: str,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Array:
    """The gradient of 2-d pooling: each output gradient goes to the first maximum of its
    window (max) or is spread over the window (avg), as ``pool2d`` counts it."""
    h, w = a_np.shape[2:]
    pt, pl, pb, pr = padding
    kh, kw = pool_size
    sh, sw = strides
    _, _, oh, ow = out_grad_np.shape
    grad = np.zeros(a_np.shape, dtype=np.float64)
    for i, j in np.ndindex(oh, ow):
        y0, x0 = i * sh - pt, j * sw - pl
        g = out_grad_np[:, :, i, j].astype(np.float64)
        if pool_type == "max":
            _max_window_grad(a_np, grad, g, y0, x0, kh, kw)
            continue
        if count_include_pad:
            count = (min(y0 + kh - 1, h + pb - 1) - y0 + 1) * (
                min(x0 + kw - 1, w + pr - 1) - x0 + 1
            )
        else:
            count = max((min(y0 + kh, h) - max(y0, 0)) * (min(x0 + kw, w) - max(x0, 0)), 1)
        ys = slice(max(y0, 0), min(y0 + kh, h))
        xs = slice(max(x0, 0), min(x0 + kw, w))
        grad[:, :, ys, xs] += (g / count)[:, :, None, None]
    return grad.astype(a_np.dtype)
