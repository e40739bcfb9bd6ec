"""numpy references for indexing transforms (TVM's ``topi/testing/*_python.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["gather_nd_python", "gather_python", "one_hot", "strided_slice_python"]

Array = npt.NDArray[Any]


def gather_python(data: Array, axis: int, indices: Array) -> Array:
    return np.take_along_axis(data, indices.astype(np.int64), axis=axis)


def gather_nd_python(a_np: Array, indices_np: Array, batch_dims: int = 0) -> Array:
    m = indices_np.shape[0]
    out_shape = (*indices_np.shape[1:], *a_np.shape[m + batch_dims :])
    out = np.zeros(out_shape, dtype=a_np.dtype)
    for idx in np.ndindex(*indices_np.shape[1:]):
        point = tuple(int(indices_np[(k, *idx)]) for k in range(m))
        out[idx] = a_np[(*idx[:batch_dims], *point)]
    return out


def strided_slice_python(
    data: Array,
    begin: Sequence[int | None],
    end: Sequence[int | None],
    strides: Sequence[int] | None = None,
    slice_mode: str = "end",
    axes: Sequence[int] | None = None,
) -> Array:
    sel: list[slice] = [slice(None)] * data.ndim
    which = list(axes) if axes is not None else list(range(len(begin)))
    for k, ax in enumerate(which):
        s = strides[k] if strides is not None and k < len(strides) else 1
        b, e = begin[k], end[k] if k < len(end) else None
        if slice_mode == "size":
            s = 1
            e = (
                None
                if e is None or e < 0
                else (0 if b is None else (b + data.shape[ax] if b < 0 else b)) + e
            )
        sel[ax] = slice(b, e, s)
    return data[tuple(sel)]


def one_hot(
    indices: Array, on_value: float, off_value: float, depth: int, axis: int, dtype: str
) -> Array:
    axis = indices.ndim if axis == -1 else axis
    hot = np.expand_dims(indices, axis) == np.arange(depth).reshape(
        [depth if k == axis else 1 for k in range(indices.ndim + 1)]
    )
    return np.where(hot, on_value, off_value).astype(dtype)
