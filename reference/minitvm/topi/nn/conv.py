"""Convolutions in any layout, with groups and dilation (TVM's ``topi/nn/conv{1,2,3}d.py``,
``depthwise_conv2d.py``).

One generic definition covers 1-, 2- and 3-d data: ``out[n, f, y, x] = sum over c in the
group, ry, rx of pad(data)[n, g*C_g + c, y*sy + ry*dy, x*sx + rx*dx] * kernel[f, c, ry, rx]``
with ``g = f // (F / groups)``. Layouts name their axes by letters (``N``, ``C``, ``D``/``H``/
``W`` for data; ``O``, ``I`` and the spatial letters for kernels), so ``NHWC`` with ``HWIO``
is the same computation read differently. Padding follows ``get_pad_tuple``; values are
accumulated in ``out_dtype`` (default: the data's dtype). Depthwise convolutions take TVM's
``(C, multiplier, kh, kw)`` kernels.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute, reduce_axis
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var
from minitvm.topi.nn.pad import pad
from minitvm.topi.nn.utils import Padding, expand, get_pad_tuple_nd
from minitvm.topi.utils import get_const_tuple

__all__ = [
    "conv",
    "conv1d",
    "conv1d_ncw",
    "conv1d_nwc",
    "conv2d",
    "conv2d_nchw",
    "conv2d_nhwc",
    "conv3d_ncdhw",
    "conv3d_ndhwc",
    "depthwise_conv2d_nchw",
    "depthwise_conv2d_nhwc",
    "group_conv2d_nchw",
    "group_conv2d_nhwc",
]

_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}
_OUT_NAMES = {"N": "nn", "C": "ff", "D": "zz", "H": "yy", "W": "xx"}
_RED_NAMES = {"D": "rz", "H": "ry", "W": "rx"}
IntOrSeq = int | Sequence[int]


def _one(t: Tensor | tuple[Tensor, ...]) -> Tensor:
    if isinstance(t, tuple):
        raise DiagnosticError("expected one output")
    return t


def _reduced(e: PrimExpr | tuple[PrimExpr, ...]) -> PrimExpr:
    if isinstance(e, tuple):
        raise DiagnosticError("expected a single-value reduction")
    return e


def _check_layout(layout: str, letters: str, what: str) -> None:
    if sorted(layout) != sorted(letters):
        raise DiagnosticError(f"{what}: layout {layout!r} must order the axes {letters!r}")


def _pad_input(
    inp: Tensor,
    dshape: tuple[int, ...],
    layout: str,
    sp: str,
    ksize: list[int],
    strides: list[int],
    dilations: list[int],
    padding: Padding,
) -> tuple[Tensor, list[int]]:
    """The padded input (``pad_temp``) and the output's spatial sizes."""
    dilated = [(k - 1) * d + 1 for k, d in zip(ksize, dilations, strict=True)]
    before, after = get_pad_tuple_nd(padding, dilated)
    out_sp: list[int] = []
    pad_b = [0] * len(layout)
    pad_a = [0] * len(layout)
    for i, c in enumerate(sp):
        size = dshape[layout.index(c)] + before[i] + after[i] - dilated[i]
        if size < 0:
            raise DiagnosticError("conv: the kernel is larger than the padded input")
        out_sp.append(size // strides[i] + 1)
        pad_b[layout.index(c)] = before[i]
        pad_a[layout.index(c)] = after[i]
    if any(pad_b) or any(pad_a):
        return pad(inp, pad_b, pad_a, name="pad_temp"), out_sp
    return inp, out_sp


def conv(
    inp: Tensor,
    filt: Tensor,
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    groups: int = 1,
    data_layout: str = "NCHW",
    kernel_layout: str = "",
    out_dtype: str | None = None,
) -> Tensor:
    """A grouped, dilated, strided convolution of any dimension and layout."""
    dim = len(data_layout) - 2
    if dim not in _SPATIAL:
        raise DiagnosticError(f"conv: unsupported data layout {data_layout!r}")
    sp = _SPATIAL[dim]
    _check_layout(data_layout, "NC" + sp, "conv")
    if not kernel_layout:
        kernel_layout = "OI" + sp if data_layout.startswith("NC") else sp + "IO"
    _check_layout(kernel_layout, "OI" + sp, "conv")
    dshape = get_const_tuple(inp.shape)
    kshape = get_const_tuple(filt.shape)
    strides, dilations = expand(stride, dim, "conv strides"), expand(dilation, dim, "conv dilation")
    in_c = dshape[data_layout.index("C")]
    out_c = kshape[kernel_layout.index("O")]
    k_in = kshape[kernel_layout.index("I")]
    ksize = [kshape[kernel_layout.index(c)] for c in sp]
    if groups < 1 or in_c % groups or out_c % groups or k_in != in_c // groups:
        raise DiagnosticError(
            f"conv: {in_c} input and {out_c} output channels with {groups} groups need kernel "
            f"input channels {in_c // max(groups, 1)}, got {k_in}"
        )
    data, out_sp = _pad_input(inp, dshape, data_layout, sp, ksize, strides, dilations, padding)
    dtype = out_dtype or inp.dtype
    rc = reduce_axis((0, in_c // groups), name="rc")
    rs = [reduce_axis((0, k), name=_RED_NAMES[c]) for k, c in zip(ksize, sp, strict=True)]
    oshape = [0] * (dim + 2)
    oshape[data_layout.index("N")] = dshape[data_layout.index("N")]
    oshape[data_layout.index("C")] = out_c
    for i, c in enumerate(sp):
        oshape[data_layout.index(c)] = out_sp[i]
    per_group = out_c // groups

    def body(*ax: Var) -> PrimExpr:
        pos = dict(zip(data_layout, ax, strict=True))
        f = pos["C"]
        channel: PrimExpr = (
            rc.var if groups == 1 else tir_op.floordiv(f, per_group) * (in_c // groups) + rc.var
        )
        didx: list[PrimExpr] = []
        for c in data_layout:
            if c == "N":
                didx.append(pos["N"])
            elif c == "C":
                didx.append(channel)
            else:
                i = sp.index(c)
                didx.append(pos[c] * strides[i] + rs[i].var * dilations[i])
        kidx = [
            f if c == "O" else rc.var if c == "I" else rs[sp.index(c)].var for c in kernel_layout
        ]
        value = tir_op.cast(data(*didx), dtype) * tir_op.cast(filt(*kidx), dtype)
        return _reduced(te_sum(value, axis=[rc, *rs]))

    names = [_OUT_NAMES[c] for c in data_layout]
    tag = f"conv{dim}d_{data_layout.lower()}"
    return _one(compute(oshape, body, tag=tag, varargs_names=names))


def conv1d(
    data: Tensor,
    kernel: Tensor,
    strides: IntOrSeq = 1,
    padding: Padding = "VALID",
    dilation: IntOrSeq = 1,
    data_layout: str = "NCW",
    kernel_layout: str = "",
    out_dtype: str | None = None,
) -> Tensor:
    return conv(data, kernel, strides, padding, dilation, 1, data_layout, kernel_layout, out_dtype)


def conv1d_ncw(
    data: Tensor,
    kernel: Tensor,
    strides: IntOrSeq = 1,
    padding: Padding = "VALID",
    dilation: IntOrSeq = 1,
    out_dtype: str | None = None,
) -> Tensor:
    return conv(data, kernel, strides, padding, dilation, 1, "NCW", "OIW", out_dtype)


def conv1d_nwc(
    data: Tensor,
    kernel: Tensor,
    strides: IntOrSeq = 1,
    padding: Padding = "VALID",
    dilation: IntOrSeq = 1,
    out_dtype: str | None = None,
) -> Tensor:
    return conv(data, kernel, strides, padding, dilation, 1, "NWC", "WIO", out_dtype)


def conv2d(
    input: Tensor,
    filter: Tensor,
    strides: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    data_layout: str = "NCHW",
    kernel_layout: str = "",
    out_dtype: str | None = None,
) -> Tensor:
    return conv(input, filter, strides, padding, dilation, 1, data_layout, kernel_layout, out_dtype)


def conv2d_nchw(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    return conv(Input, Filter, stride, padding, dilation, 1, "NCHW", "OIHW", out_dtype)


def conv2d_nhwc(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    return conv(Input, Filter, stride, padding, dilation, 1, "NHWC", "HWIO", out_dtype)


def group_conv2d_nchw(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    groups: int,
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    return conv(Input, Filter, stride, padding, dilation, groups, "NCHW", "OIHW", out_dtype)


def group_conv2d_nhwc(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    groups: int,
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    return conv(Input, Filter, stride, padding, dilation, groups, "NHWC", "HWIO", out_dtype)


def conv3d_ncdhw(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    groups: int = 1,
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    return conv(Input, Filter, stride, padding, dilation, groups, "NCDHW", "OIDHW", out_dtype)


def conv3d_ndhwc(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    groups: int = 1,
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    return conv(Input, Filter, stride, padding, dilation, groups, "NDHWC", "DHWIO", out_dtype)


def _depthwise(
    inp: Tensor,
    filt: Tensor,
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    out_dtype: str | None,
    nhwc: bool,
) -> Tensor:
    dshape = get_const_tuple(inp.shape)
    kshape = get_const_tuple(filt.shape)
    if nhwc:
        batch, in_h, in_w, in_c = dshape
        kh, kw, k_c, mult = kshape
    else:
        batch, in_c, in_h, in_w = dshape
        k_c, mult, kh, kw = kshape
    if k_c != in_c:
        raise DiagnosticError(f"depthwise_conv2d: kernel channels {k_c} != input channels {in_c}")
    (sh, sw), (dh, dw) = expand(stride, 2, "strides"), expand(dilation, 2, "dilation")
    dil = [(kh - 1) * dh + 1, (kw - 1) * dw + 1]
    before, after = get_pad_tuple_nd(padding, dil)
    out_h = (in_h + before[0] + after[0] - dil[0]) // sh + 1
    out_w = (in_w + before[1] + after[1] - dil[1]) // sw + 1
    if nhwc:
        data = pad(
            inp, [0, before[0], before[1], 0], [0, after[0], after[1], 0], name="PaddedInput"
        )
    else:
        data = pad(
            inp, [0, 0, before[0], before[1]], [0, 0, after[0], after[1]], name="PaddedInput"
        )
    dtype = out_dtype or inp.dtype
    di = reduce_axis((0, kh), name="di")
    dj = reduce_axis((0, kw), name="dj")

    def term(b: Var, c: PrimExpr, i: Var, j: Var) -> PrimExpr:
        ic, m = tir_op.floordiv(c, mult), tir_op.floormod(c, mult)
        y, x = i * sh + di.var * dh, j * sw + dj.var * dw
        d = data(b, y, x, ic) if nhwc else data(b, ic, y, x)
        k = filt(di.var, dj.var, ic, m) if nhwc else filt(ic, m, di.var, dj.var)
        return _reduced(te_sum(tir_op.cast(d, dtype) * tir_op.cast(k, dtype), axis=[di, dj]))

    if nhwc:
        out = compute(
            (batch, out_h, out_w, in_c * mult),
            lambda b, i, j, c: term(b, c, i, j),
            name="DepthwiseConv2d",
            tag="depthwise_conv2d_nhwc",
        )
    else:
        out = compute(
            (batch, in_c * mult, out_h, out_w),
            lambda b, c, i, j: term(b, c, i, j),
            name="DepthwiseConv2d",
            tag="depthwise_conv2d_nchw",
        )
    return _one(out)


def depthwise_conv2d_nchw(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    """Depthwise convolution; ``Filter`` is ``(in_channels, multiplier, kh, kw)``."""
    return _depthwise(Input, Filter, stride, padding, dilation, out_dtype, nhwc=False)


def depthwise_conv2d_nhwc(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq,
    kernel_layout: str = "HWOI",
    out_dtype: str | None = None,
) -> Tensor:  # TVM's names
    """Depthwise convolution; ``Filter`` is ``(kh, kw, in_channels, multiplier)``."""
    if kernel_layout != "HWOI":
        raise DiagnosticError(
            f"depthwise_conv2d_nhwc supports kernel layout HWOI, got {kernel_layout!r}"
        )
    return _depthwise(Input, Filter, stride, padding, dilation, out_dtype, nhwc=True)
