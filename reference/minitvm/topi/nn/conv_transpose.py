"""Transposed convolutions (TVM's ``topi/nn/conv{1,2,3}d_transpose.py``).

As in TVM: the input is dilated by the strides, padded by ``kernel - 1 - pad`` before and
``kernel - 1 - pad + output_padding`` after, and convolved with the kernel turned 180 degrees,
whose layout is ``(in_channels, out_channels / groups, k...)``. The output size per spatial
axis is ``(in - 1) * stride - pad_before - pad_after + kernel + output_padding``.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute, reduce_axis
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var
from minitvm.topi.nn.dilate import dilate
from minitvm.topi.nn.pad import pad
from minitvm.topi.nn.utils import Padding, expand, get_pad_tuple_nd
from minitvm.topi.utils import get_const_tuple

__all__ = [
    "conv1d_transpose_ncw",
    "conv2d_transpose_nchw",
    "conv3d_transpose_ncdhw",
    "conv_transpose",
    "group_conv2d_transpose_nchw",
]

IntOrSeq = int | Sequence[int]
_RED = {1: ["dw"], 2: ["dh", "dw"], 3: ["dd", "dh", "dw"]}


def conv_transpose(
    data: Tensor,
    kernel: Tensor,
    strides: IntOrSeq,
    padding: Padding,
    out_dtype: str | None,
    output_padding: IntOrSeq,
    groups: int = 1,
) -> Tensor:
    """An N-d channels-first transposed convolution (``N, C, spatial...``)."""
    dim = data.ndim - 2
    if dim not in _RED:
        raise DiagnosticError(f"conv_transpose: unsupported rank {data.ndim}")
    dshape = get_const_tuple(data.shape)
    kshape = get_const_tuple(kernel.shape)
    in_c = dshape[1]
    if kshape[0] != in_c or in_c % groups:
        raise DiagnosticError(
            f"conv_transpose: kernel must be ({in_c}, out_channels / groups, ...), got {kshape}"
        )
    oc_pg = kshape[1]
    ic_pg = in_c // groups
    ks = list(kshape[2:])
    s = expand(strides, dim, "strides")
    opad = expand(output_padding, dim, "output_padding")
    for o, st in zip(opad, s, strict=True):
        if o >= st:
            raise DiagnosticError(
                f"conv_transpose: output_padding {opad} must be below strides {s}"
            )
    fb, fa = get_pad_tuple_nd(padding, ks)
    dilated = dilate(data, [1, 1, *s], name="data_dilate") if any(x != 1 for x in s) else data
    pb = [k - 1 - f for k, f in zip(ks, fb, strict=True)]
    pa = [k - 1 - f + o for k, f, o in zip(ks, fa, opad, strict=True)]
    if any(x < 0 for x in pb + pa):
        raise DiagnosticError("conv_transpose: padding larger than kernel - 1 is not supported")
    padded = pad(dilated, [0, 0, *pb], [0, 0, *pa], name="data_pad")
    pshape = get_const_tuple(padded.shape)
    out_sp = [pshape[2 + i] - ks[i] + 1 for i in range(dim)]
    dtype = out_dtype or data.dtype
    dc = reduce_axis((0, ic_pg), name="dc")
    rs = [reduce_axis((0, k), name=n) for k, n in zip(ks, _RED[dim], strict=True)]

    def body(*ax: Var) -> PrimExpr:
        b, c, sp = ax[0], ax[1], ax[2:]
        g_base: PrimExpr = tir_op.floordiv(c, oc_pg) * ic_pg if groups > 1 else tir_op.convert(0)
        channel = g_base + dc.var
        oc = tir_op.floormod(c, oc_pg) if groups > 1 else c
        d = padded(b, channel, *[x + r.var for x, r in zip(sp, rs, strict=True)])
        k = kernel(channel, oc, *[k - 1 - r.var for k, r in zip(ks, rs, strict=True)])
        return te_sum(tir_op.cast(d, dtype) * tir_op.cast(k, dtype), axis=[dc, *rs])

    names = ["b", "c", *"dhw"[3 - dim :]]
    return compute(
        (dshape[0], oc_pg * groups, *out_sp),
        body,
        tag=f"conv{dim}d_transpose_nc",
        varargs_names=names,
    )


def conv1d_transpose_ncw(
    data: Tensor,
    kernel: Tensor,
    stride: IntOrSeq,
    padding: Padding,
    out_dtype: str | None,
    output_padding: IntOrSeq,
) -> Tensor:
    return conv_transpose(data, kernel, stride, padding, out_dtype, output_padding)


def conv2d_transpose_nchw(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    strides: IntOrSeq,
    padding: Padding,
    out_dtype: str | None,
    output_padding: IntOrSeq,
) -> Tensor:  # TVM's names
    """``Filter`` is IOHW: ``(in_channels, out_channels, kh, kw)``."""
    return conv_transpose(Input, Filter, strides, padding, out_dtype, output_padding)


def conv3d_transpose_ncdhw(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Filter: Tensor,  # noqa: N803  (TVM's parameter name)
    strides: IntOrSeq,
    padding: Padding,
    out_dtype: str | None,
    output_padding: IntOrSeq,
) -> Tensor:  # TVM's names
    return conv_transpose(Input, Filter, strides, padding, out_dtype, output_padding)


def group_conv2d_transpose_nchw(
    data: Tensor,
    kernel: Tensor,
    stride: IntOrSeq,
    padding: Padding,
    out_dtype: str | None,
    output_padding: IntOrSeq,
    groups: int,
) -> Tensor:
    return conv_transpose(data, kernel, stride, padding, out_dtype, output_padding, groups)
