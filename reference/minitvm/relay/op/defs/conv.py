"""Convolutions (TVM ``src/relay/op/nn/convolution.cc``, ``topi/nn/conv2d.py``).

``nn.conv1d/2d/3d`` and ``nn.conv1d/2d/3d_transpose`` share one N-dimensional kernel working
in the canonical layouts (``NC`` + spatial for data, ``OI`` + spatial for weights; ``IO`` +
spatial for transposed weights): layouts such as ``NHWC``/``HWIO`` are transposed in and out.
The kernel is im2col plus a batched matrix product per group, computed in ``out_dtype``.

Output extent per spatial axis: ``(in + pad_before + pad_after - dilated_k) // stride + 1``
with ``dilated_k = (k - 1) * dilation + 1``; for the transposed form
``(in - 1) * stride + dilated_k - pad_before - pad_after + output_padding``, whose output
has ``groups * weight.shape[1]`` channels. Grouped weights are ``(O, I / groups, k...)``;
a depthwise convolution is ``groups == in_channels`` with weight ``(C * m, 1, k...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_type, tensor_value
from minitvm.relay.op.defs.layout import SPATIAL, Layout, from_canonical, pad_pairs, to_canonical
from minitvm.relay.op.defs.nn import out_dtype_of
from minitvm.relay.op.relation import int_attr, int_tuple, prod, tensor_arg

__all__ = [
    "Conv1DAttrs",
    "Conv1DTransposeAttrs",
    "Conv2DAttrs",
    "Conv2DTransposeAttrs",
    "Conv3DAttrs",
    "Conv3DTransposeAttrs",
    "conv_nd",
]


@dataclass(frozen=True, slots=True)
class Conv1DAttrs(Attrs):
    strides: tuple[int, ...] = (1,)
    padding: tuple[int, ...] = (0, 0)
    dilation: tuple[int, ...] = (1,)
    groups: int = 1
    channels: int | None = None
    kernel_size: tuple[int, ...] | None = None
    data_layout: str = "NCW"
    kernel_layout: str = "OIW"
    out_layout: str = ""
    out_dtype: str = ""


@dataclass(frozen=True, slots=True)
class Conv2DAttrs(Attrs):
    strides: tuple[int, ...] = (1, 1)
    padding: tuple[int, ...] = (0, 0)
    dilation: tuple[int, ...] = (1, 1)
    groups: int = 1
    channels: int | None = None
    kernel_size: tuple[int, ...] | None = None
    data_layout: str = "NCHW"
    kernel_layout: str = "OIHW"
    out_layout: str = ""
    out_dtype: str = ""


@dataclass(frozen=True, slots=True)
class Conv3DAttrs(Attrs):
    strides: tuple[int, ...] = (1, 1, 1)
    padding: tuple[int, ...] = (0, 0, 0)
    dilation: tuple[int, ...] = (1, 1, 1)
    groups: int = 1
    channels: int | None = None
    kernel_size: tuple[int, ...] | None = None
    data_layout: str = "NCDHW"
    kernel_layout: str = "OIDHW"
    out_layout: str = ""
    out_dtype: str = ""


@dataclass(frozen=True, slots=True)
class Conv1DTransposeAttrs(Attrs):
    channels: int | None = None
    kernel_size: tuple[int, ...] | None = None
    strides: tuple[int, ...] = (1,)
    output_padding: tuple[int, ...] = (0,)
    padding: tuple[int, ...] = (0,)
    dilation: tuple[int, ...] = (1,)
    groups: int = 1
    data_layout: str = "NCW"
    kernel_layout: str = "IOW"
    out_layout: str = ""
    out_dtype: str = ""


@dataclass(frozen=True, slots=True)
class Conv2DTransposeAttrs(Attrs):
    channels: int | None = None
    kernel_size: tuple[int, ...] | None = None
    strides: tuple[int, ...] = (1, 1)
    output_padding: tuple[int, ...] = (0, 0)
    padding: tuple[int, ...] = (0, 0)
    dilation: tuple[int, ...] = (1, 1)
    groups: int = 1
    data_layout: str = "NCHW"
    kernel_layout: str = "IOHW"
    out_layout: str = ""
    out_dtype: str = ""


@dataclass(frozen=True, slots=True)
class Conv3DTransposeAttrs(Attrs):
    channels: int | None = None
    kernel_size: tuple[int, ...] | None = None
    strides: tuple[int, ...] = (1, 1, 1)
    output_padding: tuple[int, ...] = (0, 0, 0)
    padding: tuple[int, ...] = (0, 0, 0)
    dilation: tuple[int, ...] = (1, 1, 1)
    groups: int = 1
    data_layout: str = "NCDHW"
    kernel_layout: str = "IODHW"
    out_layout: str = ""
    out_dtype: str = ""


ConvAttrs = Conv1DAttrs | Conv2DAttrs | Conv3DAttrs
ConvTransposeAttrs = Conv1DTransposeAttrs | Conv2DTransposeAttrs | Conv3DTransposeAttrs


@dataclass(frozen=True, slots=True)
class _Geometry:
    """A convolution's attributes, validated and in canonical order."""

    data_layout: Layout
    kernel_layout: Layout
    out_layout: Layout
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: list[tuple[int, int]]
    groups: int


def _geometry(attrs: ConvAttrs | ConvTransposeAttrs, d: int, kernel_canonical: str) -> _Geometry:
    sp = SPATIAL[d]
    data_layout = Layout(attrs.data_layout, "NC" + sp, "data_layout")
    kernel_layout = Layout(attrs.kernel_layout, kernel_canonical + sp, "kernel_layout")
    out_layout = Layout(attrs.out_layout or attrs.data_layout, "NC" + sp, "out_layout")
    strides = int_tuple(attrs.strides, "strides", d, minimum=1)
    dilation = int_tuple(attrs.dilation, "dilation", d, minimum=1)
    groups = int_attr(attrs.groups, "groups", 1)
    pads = pad_pairs(attrs.padding, d)
    return _Geometry(data_layout, kernel_layout, out_layout, strides, dilation, pads, groups)


def _check_weight(
    attrs: ConvAttrs | ConvTransposeAttrs, wshape: tuple[int, ...], out_channels: int
) -> None:
    spatial = wshape[2:]
    if attrs.kernel_size is not None:
        ks = int_tuple(attrs.kernel_size, "kernel_size", len(spatial))
        if ks != spatial:
            raise DiagnosticError(
                f"kernel_size={ks} does not match the weight's spatial shape {spatial}"
            )
    if attrs.channels is not None and attrs.channels != out_channels:
        raise DiagnosticError(
            f"channels={attrs.channels} does not match the {out_channels} output channels "
            f"the weight gives"
        )


def _conv_rel(d: int, arg_types: list[Type], attrs: ConvAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    weight = tensor_arg(arg_types, 1, "weight")
    g = _geometry(attrs, d, "OI")
    if data.ndim != d + 2 or weight.ndim != d + 2:
        raise DiagnosticError(f"data and weight must have rank {d + 2}, got {data} and {weight}")
    dshape = g.data_layout.to_canonical_shape(data.shape)
    wshape = g.kernel_layout.to_canonical_shape(weight.shape)
    n, c = dshape[:2]
    o, i = wshape[:2]
    if c % g.groups or o % g.groups:
        raise DiagnosticError(
            f"groups={g.groups} must divide the input channels ({c}) and the weight's output "
            f"channels ({o})"
        )
    if c // g.groups != i:
        raise DiagnosticError(
            f"the input channels ({c}) divided by groups ({g.groups}) must match the weight's "
            f"input channels ({i}); weight shape (canonical {g.kernel_layout.canonical}) is "
            f"{wshape}"
        )
    _check_weight(attrs, wshape, o)
    out = [n, o]
    for size, k, s, dl, (pb, pa) in zip(
        dshape[2:], wshape[2:], g.strides, g.dilation, g.pads, strict=True
    ):
        extent = (size + pb + pa - ((k - 1) * dl + 1)) // s + 1
        if extent <= 0:
            raise DiagnosticError(
                f"the dilated kernel ({(k - 1) * dl + 1}) is larger than the padded input "
                f"({size + pb + pa})"
            )
        out.append(extent)
    return TensorType(
        g.out_layout.from_canonical_shape(out), out_dtype_of(attrs.out_dtype, data, weight)
    )


def conv_nd(
    x: Array,
    w: Array,
    strides: tuple[int, ...],
    pads: list[tuple[int, int]],
    dilation: tuple[int, ...],
    groups: int,
) -> Array:
    """Grouped N-d convolution of ``x`` (N, C, *S) with ``w`` (O, C / groups, *K), in the
    operands' (common) dtype. Negative padding crops."""
    d = len(strides)
    crop = tuple(
        slice(max(-b, 0), s - max(-a, 0)) for (b, a), s in zip(pads, x.shape[2:], strict=True)
    )
    x = x[(slice(None), slice(None), *crop)]
    x = np.pad(x, [(0, 0), (0, 0), *[(max(b, 0), max(a, 0)) for b, a in pads]])
    ksize = w.shape[2:]
    dk = tuple((k - 1) * dl + 1 for k, dl in zip(ksize, dilation, strict=True))
    win = np.lib.stride_tricks.sliding_window_view(x, dk, axis=tuple(range(2, 2 + d)))
    win = win[
        (
            slice(None),
            slice(None),
            *(slice(None, None, s) for s in strides),
            *(slice(None, None, dl) for dl in dilation),
        )
    ]
    n, c = x.shape[:2]
    out_sp = win.shape[2 : 2 + d]
    o = w.shape[0]
    cg, og = c // groups, o // groups
    win = win.reshape((n, groups, cg, *out_sp, *ksize))
    perm = (1, 0, *range(3, 3 + d), 2, *range(3 + d, 3 + 2 * d))
    cols = win.transpose(perm).reshape(groups, n * prod(out_sp), cg * prod(ksize))
    wm = w.reshape(groups, og, cg * prod(ksize)).transpose(0, 2, 1)
    out = np.matmul(cols, wm)  # (groups, n * out, og)
    out = out.reshape((groups, n, *out_sp, og))
    out = out.transpose((1, 0, 1 + d + 1, *range(2, 2 + d)))
    return np.asarray(out.reshape((n, o, *out_sp)))


def _conv_kernel(d: int, attrs: ConvAttrs, args: list[Value], out_type: Type) -> Value:
    g = _geometry(attrs, d, "OI")
    dtype = tensor_type(out_type).dtype
    x = to_canonical(tensor_value(args[0]), g.data_layout).astype(dtype, copy=False)
    w = to_canonical(tensor_value(args[1]), g.kernel_layout).astype(dtype, copy=False)
    out = conv_nd(x, w, g.strides, g.pads, g.dilation, g.groups)
    return from_canonical(out, g.out_layout)


# --- transposed convolution ---------------------------------------------------------------------


def _output_padding(attrs: ConvTransposeAttrs, d: int, strides: tuple[int, ...]) -> tuple[int, ...]:
    op = int_tuple(attrs.output_padding, "output_padding", d, minimum=0)
    for p, s in zip(op, strides, strict=True):
        if p >= s:
            raise DiagnosticError(f"output_padding {op} must be smaller than strides {strides}")
    return op


def _conv_transpose_rel(d: int, arg_types: list[Type], attrs: ConvTransposeAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    weight = tensor_arg(arg_types, 1, "weight")
    g = _geometry(attrs, d, "IO")
    if data.ndim != d + 2 or weight.ndim != d + 2:
        raise DiagnosticError(f"data and weight must have rank {d + 2}, got {data} and {weight}")
    out_pad = _output_padding(attrs, d, g.strides)
    dshape = g.data_layout.to_canonical_shape(data.shape)
    wshape = g.kernel_layout.to_canonical_shape(weight.shape)
    n, c = dshape[:2]
    if wshape[0] != c or c % g.groups:
        raise DiagnosticError(
            f"the weight's input channels ({wshape[0]}) must equal the data's ({c}), "
            f"divisible by groups ({g.groups})"
        )
    channels = wshape[1] * g.groups
    _check_weight(attrs, wshape, channels)
    out = [n, channels]
    for size, k, s, dl, (pb, pa), op in zip(
        dshape[2:], wshape[2:], g.strides, g.dilation, g.pads, out_pad, strict=True
    ):
        extent = (size - 1) * s + (k - 1) * dl + 1 - pb - pa + op
        if extent <= 0:
            raise DiagnosticError(f"padding {attrs.padding} leaves no output")
        out.append(extent)
    dtype = out_dtype_of(attrs.out_dtype, data, weight)
    return TensorType(g.out_layout.from_canonical_shape(out), dtype)


def _conv_transpose_kernel(
    d: int, attrs: ConvTransposeAttrs, args: list[Value], out_type: Type
) -> Value:
    g = _geometry(attrs, d, "IO")
    dtype = tensor_type(out_type).dtype
    x = to_canonical(tensor_value(args[0]), g.data_layout).astype(dtype, copy=False)
    w = to_canonical(tensor_value(args[1]), g.kernel_layout).astype(dtype, copy=False)
    out_pad = _output_padding(attrs, d, g.strides)
    # Spread the input by the strides, then convolve with the flipped, I/O-swapped kernel.
    n, c = x.shape[:2]
    spread = np.zeros(
        (n, c, *[(s - 1) * st + 1 for s, st in zip(x.shape[2:], g.strides, strict=True)]), dtype
    )
    spread[(slice(None), slice(None), *(slice(None, None, st) for st in g.strides))] = x
    cin_g, og = c // g.groups, w.shape[1]
    wk = w.reshape((g.groups, cin_g, og, *w.shape[2:])).swapaxes(1, 2)
    wk = wk.reshape((g.groups * og, cin_g, *w.shape[2:]))
    wk = wk[(slice(None), slice(None), *([slice(None, None, -1)] * d))]
    pads = [
        ((k - 1) * dl - pb, (k - 1) * dl - pa + op)
        for k, dl, (pb, pa), op in zip(w.shape[2:], g.dilation, g.pads, out_pad, strict=True)
    ]
    out = conv_nd(spread, wk, (1,) * d, pads, g.dilation, g.groups)
    return from_canonical(out, g.out_layout)


def _register() -> None:
    fusable = OpPattern.OUT_ELEMWISE_FUSABLE
    conv_types: dict[int, type[Attrs]] = {1: Conv1DAttrs, 2: Conv2DAttrs, 3: Conv3DAttrs}
    tconv_types: dict[int, type[Attrs]] = {
        1: Conv1DTransposeAttrs,
        2: Conv2DTransposeAttrs,
        3: Conv3DTransposeAttrs,
    }
    for d in (1, 2, 3):

        def rel(arg_types: list[Type], attrs: ConvAttrs, d: int = d) -> Type:
            return _conv_rel(d, arg_types, attrs)

        def kernel(attrs: ConvAttrs, args: list[Value], out_type: Type, d: int = d) -> Value:
            return _conv_kernel(d, attrs, args, out_type)

        def trel(arg_types: list[Type], attrs: ConvTransposeAttrs, d: int = d) -> Type:
            return _conv_transpose_rel(d, arg_types, attrs)

        def tkernel(
            attrs: ConvTransposeAttrs, args: list[Value], out_type: Type, d: int = d
        ) -> Value:
            return _conv_transpose_kernel(d, attrs, args, out_type)

        define_op(
            f"nn.conv{d}d",
            rel,
            kernel,
            attrs_type=conv_types[d],
            num_inputs=2,
            pattern=fusable,
        )
        define_op(
            f"nn.conv{d}d_transpose",
            trel,
            tkernel,
            attrs_type=tconv_types[d],
            num_inputs=2,
            pattern=fusable,
        )


_register()
