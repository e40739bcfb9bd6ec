"""Neural-network data movement (TVM ``src/relay/op/nn/{pad,nn,upsampling}.cc``;
``topi/nn/{pad,dilate,depth_to_space,space_to_depth,space_to_batch_nd,batch_to_space_nd}``,
``topi/image/resize.py``).

``nn.upsampling`` resizes H and W to ``round(extent * scale)`` (ties to even) with
TVM's ``resize2d``: nearest neighbour reads ``floor(out * in / out_extent)`` (an exact integer
division when the output extent is a multiple of the input's), bilinear and bicubic
(alpha -0.5) interpolate at ``out * in / out_extent`` (``align_corners=False``) or
``out * (in - 1) / (out_extent - 1)`` (``align_corners=True``), clamping reads to the edge.
All three methods are separable, so the kernel resamples one axis at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_type, tensor_value
from minitvm.relay.op.defs.layout import Layout, from_canonical, to_canonical
from minitvm.relay.op.relation import (
    float_attr,
    int_attr,
    int_tuple,
    prod,
    tensor_arg,
)

__all__ = [
    "BatchToSpaceNDAttrs",
    "DilateAttrs",
    "PadAttrs",
    "SpaceToBatchNDAttrs",
    "SubPixelAttrs",
    "UpSamplingAttrs",
]


@dataclass(frozen=True, slots=True)
class PadAttrs(Attrs):
    pad_width: tuple[tuple[int, int], ...]
    pad_mode: str = "constant"


@dataclass(frozen=True, slots=True)
class DilateAttrs(Attrs):
    strides: tuple[int, ...] = (1, 1)
    dilation_value: float = 0.0


@dataclass(frozen=True, slots=True)
class UpSamplingAttrs(Attrs):
    scale_h: float
    scale_w: float
    layout: str = "NCHW"
    method: str = "nearest_neighbor"
    align_corners: bool = False


@dataclass(frozen=True, slots=True)
class SubPixelAttrs(Attrs):
    """``nn.depth_to_space`` and ``nn.space_to_depth``."""

    block_size: int = 1
    layout: str = "NCHW"
    mode: str = "DCR"


@dataclass(frozen=True, slots=True)
class SpaceToBatchNDAttrs(Attrs):
    block_shape: tuple[int, ...] = (1, 1)
    paddings: tuple[tuple[int, int], ...] = ()
    pad_value: float = 0.0


@dataclass(frozen=True, slots=True)
class BatchToSpaceNDAttrs(Attrs):
    block_shape: tuple[int, ...] = (1, 1)
    crops: tuple[tuple[int, int], ...] = ()


def _pairs(value: object, what: str, n: int) -> list[tuple[int, int]]:
    """``n`` (before, after) pairs of non-negative integers."""
    if not isinstance(value, tuple | list) or len(value) != n:
        raise DiagnosticError(f"{what} must have {n} (before, after) pairs, got {value!r}")
    pairs: list[tuple[int, int]] = []
    for p in value:
        lo, hi = int_tuple(p, f"{what} pair", 2, minimum=0)
        pairs.append((lo, hi))
    return pairs


# --- pad, dilate --------------------------------------------------------------------------------


def _pad_rel(arg_types: list[Type], attrs: PadAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    value = tensor_arg(arg_types, 1, "pad_value")
    if value.ndim != 0:
        raise DiagnosticError(f"pad_value must be a scalar, got {value}")
    pads = _pairs(attrs.pad_width, "pad_width", data.ndim)
    if attrs.pad_mode not in ("constant", "edge", "reflect"):
        raise DiagnosticError(f"pad_mode must be constant, edge or reflect, got {attrs.pad_mode!r}")
    if attrs.pad_mode == "reflect" and any(
        max(b, a) >= d for (b, a), d in zip(pads, data.shape, strict=True) if b or a
    ):
        raise DiagnosticError(
            f"reflect padding {pads} must be smaller than the extents {data.shape}"
        )
    if attrs.pad_mode == "edge" and any(
        d == 0 and (b or a) for (b, a), d in zip(pads, data.shape, strict=True)
    ):
        raise DiagnosticError("edge padding needs non-empty axes")
    return TensorType([d + b + a for (b, a), d in zip(pads, data.shape, strict=True)], data.dtype)


def _pad_kernel(attrs: PadAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    pads = [(int(lo), int(hi)) for lo, hi in attrs.pad_width]
    if not pads:
        return x.copy()
    if attrs.pad_mode == "constant":
        fill = tensor_value(args[1]).astype(x.dtype)
        return np.pad(x, pads, mode="constant", constant_values=fill)
    if attrs.pad_mode == "edge":
        return np.pad(x, pads, mode="edge")
    return np.pad(x, pads, mode="reflect")


def _dilate_rel(arg_types: list[Type], attrs: DilateAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    strides = int_tuple(attrs.strides, "strides", data.ndim, minimum=1)
    float_attr(attrs.dilation_value, "dilation_value")
    shape = [(d - 1) * s + 1 if d else 0 for d, s in zip(data.shape, strides, strict=True)]
    return TensorType(shape, data.dtype)


def _dilate_kernel(attrs: DilateAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    out = np.full(tensor_type(out_type).shape, attrs.dilation_value).astype(x.dtype)
    out[tuple(slice(None, None, s) for s in attrs.strides)] = x
    return out


# --- upsampling ---------------------------------------------------------------------------------


def _round_half_even(v: float) -> int:
    """TVM folds ``round`` on constants with ``std::nearbyint``: ties go to even."""
    return round(v)


def _upsampling_layout(attrs: UpSamplingAttrs) -> Layout:
    if attrs.layout not in ("NCHW", "NHWC"):
        raise DiagnosticError(f"layout must be NCHW or NHWC, got {attrs.layout!r}")
    return Layout(attrs.layout, "NCHW")


def _upsampling_rel(arg_types: list[Type], attrs: UpSamplingAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if data.ndim != 4:
        raise DiagnosticError(f"data must have rank 4, got {data}")
    layout = _upsampling_layout(attrs)
    if attrs.method not in ("nearest_neighbor", "bilinear", "bicubic"):
        raise DiagnosticError(
            f"method must be nearest_neighbor, bilinear or bicubic, got {attrs.method!r}"
        )
    shape = list(layout.to_canonical_shape(data.shape))
    for i, scale in ((2, attrs.scale_h), (3, attrs.scale_w)):
        size = _round_half_even(shape[i] * float_attr(scale, "scale", 0.0))
        if size <= 0:
            raise DiagnosticError(f"scale {scale} leaves no output for extent {shape[i]}")
        shape[i] = size
    return TensorType(layout.from_canonical_shape(shape), data.dtype)


def _cubic_weights(t: Array, alpha: float = -0.5) -> list[Array]:
    t2, t3 = t * t, t * t * t
    return [
        alpha * (t3 - 2 * t2 + t),
        (alpha + 2) * t3 - (3 + alpha) * t2 + 1,
        -(alpha + 2) * t3 + (3 + 2 * alpha) * t2 - alpha * t,
        -alpha * t3 + alpha * t2,
    ]


def _resample_axis(x: Array, axis: int, out: int, method: str, align_corners: bool) -> Array:
    n = x.shape[axis]
    pos = np.arange(out)
    if method == "nearest_neighbor" and not align_corners:
        if out % n == 0:
            idx = pos // (out // n)
        else:
            scale = np.float32(n) / np.float32(out)
            idx = np.floor(scale * pos.astype(np.float32) + np.float32(1e-5)).astype(np.int64)
        return np.asarray(np.take(x, np.clip(idx, 0, n - 1), axis=axis))
    if align_corners:
        src = (np.float32(n - 1) / np.float32(max(out - 1, 1))) * pos.astype(np.float32)
    else:
        src = (np.float32(n) / np.float32(out)) * pos.astype(np.float32)
    if method == "nearest_neighbor":
        return np.take(x, np.clip(np.round(src).astype(np.int64), 0, n - 1), axis=axis)
    base = np.floor(src).astype(np.int64)
    frac = (src - base).astype(np.float32)
    shape = [1] * x.ndim
    shape[axis] = out
    xf = x.astype(np.float32) if np.issubdtype(x.dtype, np.integer) else x
    if method == "bilinear":
        a = np.take(xf, np.clip(base, 0, n - 1), axis=axis)
        b = np.take(xf, np.clip(base + 1, 0, n - 1), axis=axis)
        t = frac.reshape(shape).astype(xf.dtype)
        return np.asarray(a * (1 - t) + b * t)
    weights = _cubic_weights(frac)
    total = np.zeros_like(np.take(xf, base.clip(0, n - 1), axis=axis))
    for k, w in enumerate(weights):
        tap = np.take(xf, np.clip(base + k - 1, 0, n - 1), axis=axis)
        total = total + tap * w.reshape(shape).astype(xf.dtype)
    return np.asarray(total)


def _upsampling_kernel(attrs: UpSamplingAttrs, args: list[Value], out_type: Type) -> Value:
    layout = _upsampling_layout(attrs)
    x = to_canonical(tensor_value(args[0]), layout)
    out_shape = layout.to_canonical_shape(tensor_type(out_type).shape)
    y = _resample_axis(x, 2, out_shape[2], attrs.method, bool(attrs.align_corners))
    y = _resample_axis(y, 3, out_shape[3], attrs.method, bool(attrs.align_corners))
    return from_canonical(y.astype(x.dtype), layout)


# --- depth_to_space, space_to_depth -----------------------------------------------------------


def _sub_pixel_layout(attrs: SubPixelAttrs) -> Layout:
    return Layout(attrs.layout, "NCHW")


def _depth_to_space_rel(arg_types: list[Type], attrs: SubPixelAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    layout = _sub_pixel_layout(attrs)
    b = int_attr(attrs.block_size, "block_size", 1)
    if attrs.mode not in ("DCR", "CRD"):
        raise DiagnosticError(f"mode must be DCR or CRD, got {attrs.mode!r}")
    if data.ndim != 4:
        raise DiagnosticError(f"data must have rank 4, got {data}")
    n, c, h, w = layout.to_canonical_shape(data.shape)
    if c % (b * b):
        raise DiagnosticError(f"the {c} channels are not divisible by block_size^2 = {b * b}")
    return TensorType(layout.from_canonical_shape((n, c // (b * b), h * b, w * b)), data.dtype)


def _depth_to_space_kernel(attrs: SubPixelAttrs, args: list[Value], out_type: Type) -> Value:
    layout = _sub_pixel_layout(attrs)
    x = to_canonical(tensor_value(args[0]), layout)
    n, c, h, w = x.shape
    b = attrs.block_size
    if attrs.mode == "DCR":
        y = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return from_canonical(y.reshape(n, c // (b * b), h * b, w * b), layout)


def _space_to_depth_rel(arg_types: list[Type], attrs: SubPixelAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    layout = _sub_pixel_layout(attrs)
    b = int_attr(attrs.block_size, "block_size", 1)
    if data.ndim != 4:
        raise DiagnosticError(f"data must have rank 4, got {data}")
    n, c, h, w = layout.to_canonical_shape(data.shape)
    if h % b or w % b:
        raise DiagnosticError(f"height {h} and width {w} must be divisible by block_size {b}")
    return TensorType(layout.from_canonical_shape((n, c * b * b, h // b, w // b)), data.dtype)


def _space_to_depth_kernel(attrs: SubPixelAttrs, args: list[Value], out_type: Type) -> Value:
    layout = _sub_pixel_layout(attrs)
    x = to_canonical(tensor_value(args[0]), layout)
    n, c, h, w = x.shape
    b = attrs.block_size
    y = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    return from_canonical(y.reshape(n, c * b * b, h // b, w // b), layout)


# --- space_to_batch_nd, batch_to_space_nd -----------------------------------------------------


def _blocks(data: TensorType, block_shape: object) -> tuple[int, ...]:
    blocks = int_tuple(block_shape, "block_shape", minimum=1)
    if not 1 <= len(blocks) < data.ndim:
        raise DiagnosticError(
            f"block_shape {blocks} must cover 1 to {data.ndim - 1} axes after the batch"
        )
    return blocks


def _space_to_batch_rel(arg_types: list[Type], attrs: SpaceToBatchNDAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    blocks = _blocks(data, attrs.block_shape)
    pads = _pairs(attrs.paddings, "paddings", len(blocks))
    float_attr(attrs.pad_value, "pad_value")
    shape = list(data.shape)
    shape[0] *= prod(blocks)
    for i, (b, (lo, hi)) in enumerate(zip(blocks, pads, strict=True)):
        padded = data.shape[i + 1] + lo + hi
        if padded % b:
            raise DiagnosticError(f"padded extent {padded} of axis {i + 1} is not divisible by {b}")
        shape[i + 1] = padded // b
    return TensorType(shape, data.dtype)


def _space_to_batch_kernel(attrs: SpaceToBatchNDAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    blocks = attrs.block_shape
    m = len(blocks)
    pads = [(0, 0), *[tuple(p) for p in attrs.paddings], *[(0, 0)] * (x.ndim - 1 - m)]
    xp = np.pad(x, pads, constant_values=np.asarray(attrs.pad_value).astype(x.dtype))
    n = x.shape[0]
    split: list[int] = [n]
    for i, b in enumerate(blocks):
        split += [xp.shape[i + 1] // b, b]
    split += list(xp.shape[1 + m :])
    y = xp.reshape(split)
    # (n, o1, b1, o2, b2, ..., rest) -> (b1, b2, ..., n, o1, o2, ..., rest)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)]
    perm += list(range(1 + 2 * m, y.ndim))
    return y.transpose(perm).reshape(tensor_type(out_type).shape)


def _batch_to_space_rel(arg_types: list[Type], attrs: BatchToSpaceNDAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    blocks = _blocks(data, attrs.block_shape)
    crops = _pairs(attrs.crops, "crops", len(blocks))
    total = prod(blocks)
    if data.shape[0] % total:
        raise DiagnosticError(f"batch {data.shape[0]} is not divisible by {total}")
    shape = list(data.shape)
    shape[0] //= total
    for i, (b, (lo, hi)) in enumerate(zip(blocks, crops, strict=True)):
        size = data.shape[i + 1] * b - lo - hi
        if size < 0:
            raise DiagnosticError(f"crops {crops} exceed the extent of axis {i + 1}")
        shape[i + 1] = size
    return TensorType(shape, data.dtype)


def _batch_to_space_kernel(attrs: BatchToSpaceNDAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    blocks = attrs.block_shape
    m = len(blocks)
    n = x.shape[0] // prod(blocks)
    y = x.reshape((*blocks, n, *x.shape[1:]))
    # (b1..bm, n, o1..om, rest) -> (n, o1, b1, o2, b2, ..., rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, y.ndim))
    merged = y.transpose(perm).reshape(
        (n, *[x.shape[1 + i] * blocks[i] for i in range(m)], *x.shape[1 + m :])
    )
    index = [slice(None)] + [
        slice(lo, merged.shape[1 + i] - hi) for i, (lo, hi) in enumerate(attrs.crops)
    ]
    return np.asarray(merged[tuple(index)])


def _register() -> None:
    inj = OpPattern.INJECTIVE
    define_op("nn.pad", _pad_rel, _pad_kernel, attrs_type=PadAttrs, num_inputs=2, pattern=inj)
    define_op("nn.dilate", _dilate_rel, _dilate_kernel, attrs_type=DilateAttrs, pattern=inj)
    define_op(
        "nn.upsampling",
        _upsampling_rel,
        _upsampling_kernel,
        attrs_type=UpSamplingAttrs,
        pattern=inj,
    )
    define_op(
        "nn.depth_to_space",
        _depth_to_space_rel,
        _depth_to_space_kernel,
        attrs_type=SubPixelAttrs,
        pattern=inj,
    )
    define_op(
        "nn.space_to_depth",
        _space_to_depth_rel,
        _space_to_depth_kernel,
        attrs_type=SubPixelAttrs,
        pattern=inj,
    )
    define_op(
        "nn.space_to_batch_nd",
        _space_to_batch_rel,
        _space_to_batch_kernel,
        attrs_type=SpaceToBatchNDAttrs,
        pattern=inj,
    )
    define_op(
        "nn.batch_to_space_nd",
        _batch_to_space_rel,
        _batch_to_space_kernel,
        attrs_type=BatchToSpaceNDAttrs,
        pattern=inj,
    )


_register()
