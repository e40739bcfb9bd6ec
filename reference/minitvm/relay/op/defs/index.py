"""Indexing operators (TVM ``src/relay/op/tensor/transform.cc``, ``topi/transform.h``,
``topi/detail/strided_slice.h``): take, strided_slice, gather, gather_nd.

``take`` has three modes for an index outside ``[0, n)``: ``clip`` clamps it into range,
``wrap`` takes it modulo ``n`` (so -1 is the last element), and ``fast`` assumes it is in
range. Where TVM's compiled code would read out of bounds -- ``take`` in ``fast`` mode,
``gather`` and ``gather_nd``, which have no mode -- minitvm defines the read as clamped into
range, which is also how the TE evaluator defines every load, so the two oracles agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_type, tensor_value
from minitvm.relay.op.relation import (
    expect_integral,
    int_attr,
    int_tuple,
    normalize_axis,
    tensor_arg,
)

__all__ = ["GatherAttrs", "GatherNDAttrs", "StridedSliceAttrs", "TakeAttrs", "canonical_slice"]

_INT64_MAX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class TakeAttrs(Attrs):
    batch_dims: int = 0
    axis: int | None = None
    mode: str = "clip"


@dataclass(frozen=True, slots=True)
class StridedSliceAttrs(Attrs):
    begin: tuple[int | None, ...] | None = None
    end: tuple[int | None, ...] | None = None
    strides: tuple[int, ...] | None = None
    slice_mode: str = "end"
    axes: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class GatherAttrs(Attrs):
    axis: int | None = None


@dataclass(frozen=True, slots=True)
class GatherNDAttrs(Attrs):
    batch_dims: int = 0
    index_rank: int | None = None


# --- take --------------------------------------------------------------------------------------


def _take_geometry(
    data: TensorType, indices: TensorType, attrs: TakeAttrs
) -> tuple[int | None, int]:
    """The normalized (axis, batch_dims); axis None means the flattened data."""
    if attrs.mode not in ("clip", "wrap", "fast"):
        raise DiagnosticError(f"mode must be 'clip', 'wrap' or 'fast', got {attrs.mode!r}")
    if attrs.axis is None:
        return None, 0
    axis = normalize_axis(attrs.axis, data.ndim)
    batch_dims = attrs.batch_dims
    if isinstance(batch_dims, bool) or not isinstance(batch_dims, int):
        raise DiagnosticError(f"batch_dims must be an integer, got {batch_dims!r}")
    if batch_dims < 0:
        batch_dims += indices.ndim
    if not 0 <= batch_dims <= min(indices.ndim, axis):
        raise DiagnosticError(
            f"batch_dims={attrs.batch_dims} must lie in [0, min(indices rank {indices.ndim}, "
            f"axis {axis})]"
        )
    for k in range(batch_dims):
        if data.shape[k] != indices.shape[k]:
            raise DiagnosticError(
                f"batch dimension {k} differs: data {data.shape} vs indices {indices.shape}"
            )
    return axis, batch_dims


def _take_rel(arg_types: list[Type], attrs: TakeAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    indices = tensor_arg(arg_types, 1, "indices")
    expect_integral(indices, "indices")
    axis, batch_dims = _take_geometry(data, indices, attrs)
    if axis is None:
        return TensorType(indices.shape, data.dtype)
    shape = (*data.shape[:axis], *indices.shape[batch_dims:], *data.shape[axis + 1 :])
    return TensorType(shape, data.dtype)


def _resolve_indices(idx: Array, n: int, mode: str) -> Array:
    """Indices into an axis of extent ``n`` after the mode's out-of-range rule."""
    idx = idx.astype(np.int64)
    if idx.size and n == 0:
        raise TVMError("take: cannot take from an axis of extent 0")
    if mode == "wrap":
        return np.mod(idx, n) if idx.size else idx
    # "clip", and "fast" whose out-of-range reads are defined as clamped.
    return np.clip(idx, 0, n - 1) if n else idx


def _take_kernel(attrs: TakeAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    idx = tensor_value(args[1])
    if attrs.axis is None:
        flat = x.reshape(-1)
        return flat[_resolve_indices(idx, flat.size, attrs.mode)]
    axis = normalize_axis(attrs.axis, x.ndim)
    batch_dims = attrs.batch_dims + idx.ndim if attrs.batch_dims < 0 else attrs.batch_dims
    pos = _resolve_indices(idx, x.shape[axis], attrs.mode)
    if batch_dims == 0:
        return np.take(x, pos, axis=axis)
    # Batched: out[b, pre, i, post] = x[b, pre, pos[b, i], post], as one gather.
    nb = int(np.prod(x.shape[:batch_dims], dtype=np.int64))
    npre = int(np.prod(x.shape[batch_dims:axis], dtype=np.int64))
    npost = int(np.prod(x.shape[axis + 1 :], dtype=np.int64))
    x4 = x.reshape(nb, npre, x.shape[axis], npost)
    p2 = pos.reshape(nb, -1) if nb else pos.reshape(0, 0)
    gathered = x4[
        np.arange(nb)[:, None, None, None],
        np.arange(npre)[None, :, None, None],
        p2[:, None, :, None],
        np.arange(npost)[None, None, None, :],
    ]
    return gathered.reshape(tensor_type(out_type).shape)


# --- strided_slice -----------------------------------------------------------------------------


def _canonical_index(index: int, extent: int, stride: int) -> int:
    lo = -1 if stride < 0 else 0
    hi = extent - 1 if stride < 0 else extent
    if index < 0:
        index += extent
    return min(max(index, lo), hi)


def _bounds(values: object, what: str) -> list[int | None]:
    if not isinstance(values, tuple | list):
        raise DiagnosticError(f"{what} must be a tuple of integers or None, got {values!r}")
    out: list[int | None] = []
    for v in values:
        out.append(None if v is None else int_attr(v, f"{what} entries"))
    return out


def _slice_params(
    data: TensorType, attrs: StridedSliceAttrs
) -> tuple[list[int], list[int | None], list[int | None], list[int]]:
    """(axes, begin, end, strides) after TVM's defaults; None marks an omitted bound."""
    if attrs.slice_mode not in ("end", "size"):
        raise DiagnosticError(f"slice_mode must be 'end' or 'size', got {attrs.slice_mode!r}")
    if attrs.begin is None or attrs.end is None:
        raise DiagnosticError("begin and end must be given")
    begin = _bounds(attrs.begin, "begin")
    end = _bounds(attrs.end, "end")
    strides = list(int_tuple(attrs.strides if attrs.strides is not None else (1,), "strides"))
    if attrs.axes is not None:
        axes = [normalize_axis(a, data.ndim, "axes") for a in int_tuple(attrs.axes, "axes")]
        if len(set(axes)) != len(axes):
            raise DiagnosticError(f"axes {attrs.axes} name an axis twice")
    else:
        axes = list(range(data.ndim))
    n = len(axes)
    strides += [1] * (n - len(strides))
    if attrs.axes is None:
        begin += [None] * (n - len(begin))
        end += [None] * (n - len(end))
    if len(begin) != n or len(end) != n or len(strides) != n:
        raise DiagnosticError(
            f"begin {attrs.begin}, end {attrs.end} and strides {attrs.strides} must have one "
            f"entry per sliced axis ({n})"
        )
    if attrs.slice_mode == "size":
        strides = [1] * n
    if any(s == 0 for s in strides):
        raise DiagnosticError(f"strides must be nonzero, got {attrs.strides}")
    return axes, begin, end, strides


def canonical_slice(data: TensorType, attrs: StridedSliceAttrs) -> list[tuple[int, int, int, int]]:
    """Per sliced axis: (axis, canonical begin, stride, output extent), as TVM computes them."""
    out: list[tuple[int, int, int, int]] = []
    for axis, b, e, s in zip(*_slice_params(data, attrs), strict=True):
        extent = data.shape[axis]
        b_raw = (0 if s > 0 else _INT64_MAX) if b is None else b
        if e is None:
            e_raw = 0 if s < 0 else _INT64_MAX
        elif attrs.slice_mode == "size":
            e_raw = b_raw + e if e >= 0 else (0 if s < 0 else _INT64_MAX)
        else:
            e_raw = e
        begin = _canonical_index(b_raw, extent, s)
        end = _canonical_index(e_raw, extent, s)
        if (s < 0 and end > begin) or (s > 0 and begin > end):
            raise DiagnosticError(
                f"begin={b} and end={e} with stride {s} select a negative range on axis "
                f"{axis} (extent {extent})"
            )
        size = (abs(end - begin) + abs(s) - 1) // abs(s)
        out.append((axis, begin, s, size))
    return out


def _strided_slice_rel(arg_types: list[Type], attrs: StridedSliceAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    shape = list(data.shape)
    for axis, _, _, size in canonical_slice(data, attrs):
        shape[axis] = size
    return TensorType(shape, data.dtype)


def _strided_slice_kernel(attrs: StridedSliceAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    index: list[slice] = [slice(None)] * x.ndim
    for axis, begin, stride, size in canonical_slice(TensorType(x.shape, str(x.dtype)), attrs):
        if size == 0:
            index[axis] = slice(0, 0)
        else:
            stop = begin + stride * size
            index[axis] = slice(begin, stop if stop >= 0 else None, stride)
    return x[tuple(index)]


# --- gather, gather_nd ---------------------------------------------------------------------


def _clamped(op: str, idx: Array, n: int) -> Array:
    """Indices into an axis of extent ``n``, out-of-range ones clamped (see the module
    docstring); an empty axis has nothing to read."""
    idx = idx.astype(np.int64)
    if idx.size and n == 0:
        raise TVMError(f"{op}: cannot read from an axis of extent 0")
    return np.clip(idx, 0, n - 1) if n else idx


def _gather_rel(arg_types: list[Type], attrs: GatherAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    indices = tensor_arg(arg_types, 1, "indices")
    expect_integral(indices, "indices")
    if attrs.axis is None:
        raise DiagnosticError("axis must be given")
    if data.ndim == 0 or indices.ndim != data.ndim:
        raise DiagnosticError(f"indices {indices} must have the rank of data {data} (>= 1)")
    axis = normalize_axis(attrs.axis, data.ndim)
    for k in range(data.ndim):
        if k != axis and indices.shape[k] != data.shape[k]:
            raise DiagnosticError(
                f"indices shape {indices.shape} must match data shape {data.shape} except on "
                f"axis {axis}"
            )
    return TensorType(indices.shape, data.dtype)


def _gather_kernel(attrs: GatherAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    axis = normalize_axis(attrs.axis, x.ndim)
    idx = _clamped("gather", tensor_value(args[1]), x.shape[axis])
    return np.take_along_axis(x, idx, axis=axis)


def _gather_nd_rel(arg_types: list[Type], attrs: GatherNDAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    indices = tensor_arg(arg_types, 1, "indices")
    expect_integral(indices, "indices")
    if indices.ndim == 0:
        raise DiagnosticError("indices must have rank >= 1")
    m = indices.shape[0]
    b = int_attr(attrs.batch_dims, "batch_dims", 0)
    if m + b > data.ndim or b > indices.ndim - 1:
        raise DiagnosticError(
            f"indices {indices} with batch_dims={b} index more axes than data {data} has"
        )
    if attrs.index_rank is not None and attrs.index_rank != m:
        raise DiagnosticError(f"index_rank={attrs.index_rank} differs from indices.shape[0]={m}")
    for k in range(b):
        if data.shape[k] != indices.shape[k + 1]:
            raise DiagnosticError(
                f"batch dimension {k} differs: data {data.shape} vs indices {indices.shape}"
            )
    return TensorType((*indices.shape[1:], *data.shape[m + b :]), data.dtype)


def _gather_nd_kernel(attrs: GatherNDAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    idx = tensor_value(args[1])
    m, b = idx.shape[0], attrs.batch_dims
    batch_shape = idx.shape[1 : 1 + b]
    rest = idx.shape[1 + b :]
    # Batch coordinates broadcast against the index tuples: out[b..., y...].
    coords: list[Array] = []
    for k in range(b):
        shape = [1] * (b + len(rest))
        shape[k] = batch_shape[k]
        coords.append(np.arange(batch_shape[k]).reshape(shape))
    for j in range(m):
        coords.append(_clamped("gather_nd", idx[j], x.shape[b + j]))
    # With no index tuples (M = 0) the data itself is broadcast over the index positions.
    return np.broadcast_to(np.asarray(x[tuple(coords)]), tensor_type(out_type).shape)


def _register() -> None:
    define_op(
        "take",
        _take_rel,
        _take_kernel,
        attrs_type=TakeAttrs,
        num_inputs=2,
        pattern=OpPattern.INJECTIVE,
    )
    define_op(
        "gather",
        _gather_rel,
        _gather_kernel,
        attrs_type=GatherAttrs,
        num_inputs=2,
        pattern=OpPattern.INJECTIVE,
    )
    define_op(
        "gather_nd",
        _gather_nd_rel,
        _gather_nd_kernel,
        attrs_type=GatherNDAttrs,
        num_inputs=2,
        pattern=OpPattern.INJECTIVE,
    )
    define_op(
        "strided_slice",
        _strided_slice_rel,
        _strided_slice_kernel,
        attrs_type=StridedSliceAttrs,
        pattern=OpPattern.INJECTIVE,
    )


_register()
