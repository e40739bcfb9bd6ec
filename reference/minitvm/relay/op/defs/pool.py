"""Pooling (TVM ``src/relay/op/nn/pooling.cc``, ``topi/nn/pooling.h``).

Windowed pools: output extent ``(in + pad_before + pad_after - dilated_k) // stride + 1``,
rounded up instead with ``ceil_mode`` (TVM then pads the tail by ``stride - 1`` more).
Max pooling pads with the dtype's lowest value. Average pooling divides the window sum by
the number of window positions inside the input, or, with ``count_include_pad``, inside the
input plus its explicit padding (never the extra ``ceil_mode`` tail), with TVM's exact counting
(see ``avg_divisor``). Integer averages truncate toward zero (TVM's integer ``div``).

Adaptive pools split each axis of extent ``n`` into ``m`` windows
``[floor(i * n / m), ceil((i + 1) * n / m))``; global pools are adaptive pools to size 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_value
from minitvm.relay.op.defs.binary import int_div_trunc
from minitvm.relay.op.defs.layout import SPATIAL, Layout, from_canonical, pad_pairs, to_canonical
from minitvm.relay.op.relation import int_tuple, tensor_arg
from minitvm.runtime.dtype import is_bool

__all__ = [
    "AdaptivePool1DAttrs",
    "AdaptivePool2DAttrs",
    "AdaptivePool3DAttrs",
    "AvgPool1DAttrs",
    "AvgPool2DAttrs",
    "AvgPool3DAttrs",
    "GlobalPool2DAttrs",
    "MaxPool1DAttrs",
    "MaxPool2DAttrs",
    "MaxPool3DAttrs",
    "PoolGeometry",
    "avg_divisor",
    "ceil_tail",
    "pool_geometry",
]


@dataclass(frozen=True, slots=True)
class MaxPool1DAttrs(Attrs):
    pool_size: tuple[int, ...]
    strides: tuple[int, ...] = (1,)
    dilation: tuple[int, ...] = (1,)
    padding: tuple[int, ...] = (0,)
    layout: str = "NCW"
    out_layout: str = ""
    ceil_mode: bool = False


@dataclass(frozen=True, slots=True)
class MaxPool2DAttrs(Attrs):
    pool_size: tuple[int, ...]
    strides: tuple[int, ...] = (1, 1)
    dilation: tuple[int, ...] = (1, 1)
    padding: tuple[int, ...] = (0, 0)
    layout: str = "NCHW"
    out_layout: str = ""
    ceil_mode: bool = False


@dataclass(frozen=True, slots=True)
class MaxPool3DAttrs(Attrs):
    pool_size: tuple[int, ...]
    strides: tuple[int, ...] = (1, 1, 1)
    dilation: tuple[int, ...] = (1, 1, 1)
    padding: tuple[int, ...] = (0, 0, 0)
    layout: str = "NCDHW"
    out_layout: str = ""
    ceil_mode: bool = False


@dataclass(frozen=True, slots=True)
class AvgPool1DAttrs(Attrs):
    pool_size: tuple[int, ...]
    strides: tuple[int, ...] = (1,)
    dilation: tuple[int, ...] = (1,)
    padding: tuple[int, ...] = (0,)
    layout: str = "NCW"
    out_layout: str = ""
    ceil_mode: bool = False
    count_include_pad: bool = False


@dataclass(frozen=True, slots=True)
class AvgPool2DAttrs(Attrs):
    pool_size: tuple[int, ...]
    strides: tuple[int, ...] = (1, 1)
    dilation: tuple[int, ...] = (1, 1)
    padding: tuple[int, ...] = (0, 0)
    layout: str = "NCHW"
    out_layout: str = ""
    ceil_mode: bool = False
    count_include_pad: bool = False


@dataclass(frozen=True, slots=True)
class AvgPool3DAttrs(Attrs):
    pool_size: tuple[int, ...]
    strides: tuple[int, ...] = (1, 1, 1)
    dilation: tuple[int, ...] = (1, 1, 1)
    padding: tuple[int, ...] = (0, 0, 0)
    layout: str = "NCDHW"
    out_layout: str = ""
    ceil_mode: bool = False
    count_include_pad: bool = False


@dataclass(frozen=True, slots=True)
class GlobalPool2DAttrs(Attrs):
    layout: str = "NCHW"
    out_layout: str = ""


@dataclass(frozen=True, slots=True)
class AdaptivePool1DAttrs(Attrs):
    output_size: tuple[int, ...] = ()
    layout: str = "NCW"
    out_layout: str = ""


@dataclass(frozen=True, slots=True)
class AdaptivePool2DAttrs(Attrs):
    output_size: tuple[int, ...] = ()
    layout: str = "NCHW"
    out_layout: str = ""


@dataclass(frozen=True, slots=True)
class AdaptivePool3DAttrs(Attrs):
    output_size: tuple[int, ...] = ()
    layout: str = "NCDHW"
    out_layout: str = ""


MaxPoolAttrs = MaxPool1DAttrs | MaxPool2DAttrs | MaxPool3DAttrs
AvgPoolAttrs = AvgPool1DAttrs | AvgPool2DAttrs | AvgPool3DAttrs
PoolAttrs = MaxPoolAttrs | AvgPoolAttrs
AdaptiveAttrs = AdaptivePool1DAttrs | AdaptivePool2DAttrs | AdaptivePool3DAttrs


@dataclass(frozen=True, slots=True)
class PoolGeometry:
    layout: Layout
    out_layout: Layout
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: list[tuple[int, int]]
    ceil_mode: bool


def pool_geometry(attrs: PoolAttrs, d: int) -> PoolGeometry:
    canonical = "NC" + SPATIAL[d]
    layout = Layout(attrs.layout, canonical)
    out_layout = Layout(attrs.out_layout or attrs.layout, canonical, "out_layout")
    kernel = int_tuple(attrs.pool_size, "pool_size", d, minimum=1)
    strides = int_tuple(attrs.strides, "strides", d, minimum=1)
    dilation = int_tuple(attrs.dilation, "dilation", d, minimum=1)
    pads = pad_pairs(attrs.padding, d)
    return PoolGeometry(layout, out_layout, kernel, strides, dilation, pads, bool(attrs.ceil_mode))


def _out_extent(size: int, k: int, s: int, dl: int, pads: tuple[int, int], ceil: bool) -> int:
    numerator = size + pads[0] + pads[1] - ((k - 1) * dl + 1)
    if ceil:
        numerator += s - 1
    if numerator < 0:
        raise DiagnosticError(
            f"the dilated pool window ({(k - 1) * dl + 1}) is larger than the padded input "
            f"({size + pads[0] + pads[1]})"
        )
    return numerator // s + 1


def _pool_rel(d: int, arg_types: list[Type], attrs: PoolAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if data.ndim != d + 2:
        raise DiagnosticError(f"data must have rank {d + 2}, got {data}")
    if is_bool(data.dtype):
        raise DiagnosticError("data must be numeric, got bool")
    g = pool_geometry(attrs, d)
    shape = list(g.layout.to_canonical_shape(data.shape))
    for i in range(d):
        shape[2 + i] = _out_extent(
            shape[2 + i], g.kernel[i], g.strides[i], g.dilation[i], g.pads[i], g.ceil_mode
        )
    return TensorType(g.out_layout.from_canonical_shape(shape), data.dtype)


def _lowest(dtype: np.dtype[np.generic]) -> float | int:
    if np.issubdtype(dtype, np.floating):
        return float(np.finfo(dtype.name).min)
    return int(np.iinfo(dtype.name).min)


def ceil_tail(x_shape: tuple[int, ...], g: PoolGeometry) -> list[int]:
    """Per spatial axis, the padding ``ceil_mode`` adds after the explicit padding so the last
    window fits."""
    extra = []
    for i in range(len(g.kernel)):
        k, s, dl = g.kernel[i], g.strides[i], g.dilation[i]
        out = _out_extent(x_shape[2 + i], k, s, dl, g.pads[i], g.ceil_mode)
        needed = (out - 1) * s + (k - 1) * dl + 1
        have = x_shape[2 + i] + g.pads[i][0] + g.pads[i][1]
        extra.append(max(needed - have, 0))
    return extra


def _windows(x: Array, g: PoolGeometry, fill: float | int) -> Array:
    """``(N, C, *out, *kernel)``: every pooling window of the padded canonical input."""
    d = len(g.kernel)
    extra = ceil_tail(x.shape, g)
    pads = [(0, 0), (0, 0), *[(b, a + e) for (b, a), e in zip(g.pads, extra, strict=True)]]
    xp = np.pad(x, pads, constant_values=fill)
    dk = tuple((k - 1) * dl + 1 for k, dl in zip(g.kernel, g.dilation, strict=True))
    win = np.lib.stride_tricks.sliding_window_view(xp, dk, axis=tuple(range(2, 2 + d)))
    index = (
        slice(None),
        slice(None),
        *(slice(None, None, s) for s in g.strides),
        *(slice(None, None, dl) for dl in g.dilation),
    )
    return np.asarray(win[index])


def _trunc_div(a: Array, b: int) -> Array:
    return np.asarray(np.trunc(a / b).astype(np.int64))


def avg_divisor(x_shape: tuple[int, ...], g: PoolGeometry, include_pad: bool) -> Array:
    """Per output position, TVM's divisor (``pool_impl_nd``): per axis, the window positions
    from its start up to the last one inside the input (plus the explicit padding when
    ``include_pad``), counted with truncating division; the product, floored at 1 only when
    padding is excluded. A window lying wholly in the ``ceil_mode`` tail can thus count 0
    (a float average is then NaN or infinite, an integer one 0), as in TVM."""
    counts: list[Array] = []
    for i in range(len(g.kernel)):
        size = x_shape[2 + i]
        pb, pa = g.pads[i]
        k, s, dl = g.kernel[i], g.strides[i], g.dilation[i]
        n_out = _out_extent(size, k, s, dl, g.pads[i], g.ceil_mode)
        start = np.arange(n_out, dtype=np.int64) * s - pb
        end = start + (k - 1) * dl
        if include_pad:
            counts.append(_trunc_div(np.minimum(end, size + pa - 1) - start, dl) + 1)
        else:
            jumps = np.maximum(_trunc_div(dl - 1 - start, dl), 0)
            last = np.minimum(end, size - 1)
            counts.append(_trunc_div(last - (start + dl * jumps), dl) + 1)
    total = counts[0]
    for c in counts[1:]:
        total = np.multiply.outer(total, c)
    return np.asarray(total if include_pad else np.maximum(total, 1))


def _max_pool_kernel(d: int, attrs: MaxPoolAttrs, args: list[Value], out_type: Type) -> Value:
    g = pool_geometry(attrs, d)
    x = to_canonical(tensor_value(args[0]), g.layout)
    win = _windows(x, g, _lowest(x.dtype))
    out = win.max(axis=tuple(range(2 + d, 2 + 2 * d)), initial=_lowest(x.dtype))
    return from_canonical(out, g.out_layout)


def _avg_pool_kernel(d: int, attrs: AvgPoolAttrs, args: list[Value], out_type: Type) -> Value:
    g = pool_geometry(attrs, d)
    x = to_canonical(tensor_value(args[0]), g.layout)
    win = _windows(x, g, 0)
    total = win.sum(axis=tuple(range(2 + d, 2 + 2 * d)), dtype=x.dtype)
    divisor = avg_divisor(x.shape, g, bool(attrs.count_include_pad))
    if np.issubdtype(x.dtype, np.integer):
        out = int_div_trunc(total.astype(np.int64), divisor.astype(np.int64)).astype(x.dtype)
    else:
        out = (total / divisor.astype(x.dtype)).astype(x.dtype)
    return from_canonical(out, g.out_layout)


# --- global and adaptive pools --------------------------------------------------------------


def _adaptive_sizes(
    attrs: AdaptiveAttrs | GlobalPool2DAttrs, d: int, canonical_shape: tuple[int, ...]
) -> tuple[int, ...]:
    if isinstance(attrs, GlobalPool2DAttrs):
        return (1,) * d
    sizes = int_tuple(attrs.output_size, "output_size", minimum=1)
    if len(sizes) == 0:
        return canonical_shape[2:]
    if len(sizes) == 1:
        return sizes * d
    if len(sizes) != d:
        raise DiagnosticError(f"output_size must have 1 or {d} entries, got {sizes}")
    return sizes


def _adaptive_rel(d: int, arg_types: list[Type], attrs: AdaptiveAttrs | GlobalPool2DAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if data.ndim != d + 2:
        raise DiagnosticError(f"data must have rank {d + 2}, got {data}")
    if is_bool(data.dtype):
        raise DiagnosticError("data must be numeric, got bool")
    canonical = "NC" + SPATIAL[d]
    layout = Layout(attrs.layout, canonical)
    out_layout = Layout(attrs.out_layout or attrs.layout, canonical, "out_layout")
    shape = layout.to_canonical_shape(data.shape)
    sizes = _adaptive_sizes(attrs, d, shape)
    for n, m in zip(shape[2:], sizes, strict=True):
        if n == 0 and m > 0:
            raise DiagnosticError(f"cannot pool an empty axis to extent {m}")
    return TensorType(out_layout.from_canonical_shape((*shape[:2], *sizes)), data.dtype)


def _adaptive_kernel(
    d: int,
    is_max: bool,
    attrs: AdaptiveAttrs | GlobalPool2DAttrs,
    args: list[Value],
    out_type: Type,
) -> Value:
    canonical = "NC" + SPATIAL[d]
    layout = Layout(attrs.layout, canonical)
    out_layout = Layout(attrs.out_layout or attrs.layout, canonical, "out_layout")
    x = to_canonical(tensor_value(args[0]), layout)
    sizes = _adaptive_sizes(attrs, d, x.shape)
    out = x
    # Windows are boxes, so pooling is separable: reduce one axis at a time.
    for i, m in enumerate(sizes):
        axis = 2 + i
        n = x.shape[axis]
        parts = []
        for j in range(m):
            lo, hi = (j * n) // m, -((-(j + 1) * n) // m)
            seg = np.take(out, np.arange(lo, hi), axis=axis)
            if is_max:
                parts.append(seg.max(axis=axis, keepdims=True, initial=_lowest(x.dtype)))
            else:
                parts.append(seg.sum(axis=axis, keepdims=True, dtype=x.dtype))
        shape = list(out.shape)
        shape[axis] = m
        out = np.concatenate(parts, axis=axis) if parts else np.zeros(shape, x.dtype)
    if not is_max:
        counts = [
            np.array([-((-(j + 1) * n) // m) - (j * n) // m for j in range(m)])
            for n, m in zip(x.shape[2:], sizes, strict=True)
        ]
        divisor = counts[0]
        for c in counts[1:]:
            divisor = np.multiply.outer(divisor, c)
        if np.issubdtype(x.dtype, np.integer):
            out = int_div_trunc(out.astype(np.int64), divisor.astype(np.int64))
        else:
            out = out / divisor.astype(x.dtype)
    return from_canonical(np.asarray(out).astype(x.dtype, copy=False), out_layout)


def _register_windowed(d: int) -> None:
    fusable = OpPattern.OUT_ELEMWISE_FUSABLE
    max_types: dict[int, type[Attrs]] = {1: MaxPool1DAttrs, 2: MaxPool2DAttrs, 3: MaxPool3DAttrs}
    avg_types: dict[int, type[Attrs]] = {1: AvgPool1DAttrs, 2: AvgPool2DAttrs, 3: AvgPool3DAttrs}
    ada_types: dict[int, type[Attrs]] = {
        1: AdaptivePool1DAttrs,
        2: AdaptivePool2DAttrs,
        3: AdaptivePool3DAttrs,
    }

    def rel(arg_types: list[Type], attrs: PoolAttrs) -> Type:
        return _pool_rel(d, arg_types, attrs)

    def max_kernel(attrs: MaxPoolAttrs, args: list[Value], ty: Type) -> Value:
        return _max_pool_kernel(d, attrs, args, ty)

    def avg_kernel(attrs: AvgPoolAttrs, args: list[Value], ty: Type) -> Value:
        return _avg_pool_kernel(d, attrs, args, ty)

    def arel(arg_types: list[Type], attrs: AdaptiveAttrs) -> Type:
        return _adaptive_rel(d, arg_types, attrs)

    def amax(attrs: AdaptiveAttrs, args: list[Value], ty: Type) -> Value:
        return _adaptive_kernel(d, True, attrs, args, ty)

    def aavg(attrs: AdaptiveAttrs, args: list[Value], ty: Type) -> Value:
        return _adaptive_kernel(d, False, attrs, args, ty)

    define_op(f"nn.max_pool{d}d", rel, max_kernel, attrs_type=max_types[d], pattern=fusable)
    define_op(f"nn.avg_pool{d}d", rel, avg_kernel, attrs_type=avg_types[d], pattern=fusable)
    define_op(f"nn.adaptive_max_pool{d}d", arel, amax, attrs_type=ada_types[d], pattern=fusable)
    define_op(f"nn.adaptive_avg_pool{d}d", arel, aavg, attrs_type=ada_types[d], pattern=fusable)


def _register_global() -> None:
    fusable = OpPattern.OUT_ELEMWISE_FUSABLE

    def grel(arg_types: list[Type], attrs: GlobalPool2DAttrs) -> Type:
        return _adaptive_rel(2, arg_types, attrs)

    def gmax(attrs: GlobalPool2DAttrs, args: list[Value], ty: Type) -> Value:
        return _adaptive_kernel(2, True, attrs, args, ty)

    def gavg(attrs: GlobalPool2DAttrs, args: list[Value], ty: Type) -> Value:
        return _adaptive_kernel(2, False, attrs, args, ty)

    define_op("nn.global_max_pool2d", grel, gmax, attrs_type=GlobalPool2DAttrs, pattern=fusable)
    define_op("nn.global_avg_pool2d", grel, gavg, attrs_type=GlobalPool2DAttrs, pattern=fusable)


for _d in (1, 2, 3):
    _register_windowed(_d)
_register_global()
