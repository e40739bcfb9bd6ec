"""numpy references for convolutions (TVM's ``topi/testing/conv*_python.py``).

Written directly from the definition, with explicit loops over kernel offsets and numpy
slicing over the rest, independently of the TE operators.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from minitvm.topi.nn.utils import Padding, expand, get_pad_tuple_nd

__all__ = [
    "conv1d_ncw_python",
    "conv1d_transpose_ncw_python",
    "conv2d_nchw_python",
    "conv2d_nhwc_python",
    "conv2d_transpose_nchw_python",
    "conv3d_ncdhw_python",
    "conv3d_transpose_ncdhw_python",
    "conv_nd_python",
    "conv_transpose_nd_python",
    "depthwise_conv2d_python_nchw",
    "depthwise_conv2d_python_nhwc",
]

Array = npt.NDArray[Any]
IntOrSeq = int | Sequence[int]


def conv_nd_python(
    a_np: Array,
    w_np: Array,
    stride: IntOrSeq,
    padding: Padding,
    dilation: IntOrSeq = 1,
    groups: int = 1,
) -> Array:
    """Channels-first convolution: ``a`` is ``(N, C, *spatial)``, ``w`` ``(F, C / groups, *k)``."""
    dim = a_np.ndim - 2
    s, d = expand(stride, dim, "stride"), expand(dilation, dim, "dilation")
    ks = list(w_np.shape[2:])
    dk = [(k - 1) * dd + 1 for k, dd in zip(ks, d, strict=True)]
    before, after = get_pad_tuple_nd(padding, dk)
    padded = np.pad(a_np, [(0, 0), (0, 0), *zip(before, after, strict=True)])
    n, c = a_np.shape[:2]
    f = w_np.shape[0]
    out_sp = [(padded.shape[2 + i] - dk[i]) // s[i] + 1 for i in range(dim)]
    acc_dtype = np.float64 if a_np.dtype.kind == "f" else np.int64
    out = np.zeros((n, f, *out_sp), dtype=acc_dtype)
    cg, fg = c // groups, f // groups
    for g in range(groups):
        x = padded[:, g * cg : (g + 1) * cg].astype(acc_dtype)
        w = w_np[g * fg : (g + 1) * fg].astype(acc_dtype)
        for offs in np.ndindex(*ks):
            sl = tuple(
                slice(o * dd, o * dd + (sz - 1) * st + 1, st)
                for o, dd, sz, st in zip(offs, d, out_sp, s, strict=True)
            )
            patch = x[(slice(None), slice(None), *sl)]
            out[:, g * fg : (g + 1) * fg] += np.einsum(
                "nc...,fc->nf...", patch, w[(slice(None), slice(None), *offs)]
            )
    return out.astype(a_np.dtype)


def conv1d_ncw_python(
    a_np: Array, w_np: Array, stride: IntOrSeq, padding: Padding, dilation: IntOrSeq = 1
) -> Array:
    return conv_nd_python(a_np, w_np, stride, padding, dilation)


def conv2d_nchw_python(
    a_np: Array,
    w_np: Array,
    stride: IntOrSeq,
    padding: Padding,
    groups: int = 1,
    dilation: IntOrSeq = 1,
) -> Array:
    return conv_nd_python(a_np, w_np, stride, padding, dilation, groups)


def conv2d_nhwc_python(
    a_np: Array,
    w_np: Array,
    stride: IntOrSeq,
    padding: Padding,
    groups: int = 1,
    dilation: IntOrSeq = 1,
) -> Array:
    """NHWC data with an HWIO kernel."""
    out = conv_nd_python(
        a_np.transpose(0, 3, 1, 2), w_np.transpose(3, 2, 0, 1), stride, padding, dilation, groups
    )
    return out.transpose(0, 2, 3, 1)


def conv3d_ncdhw_python(
    a_np: Array,
    w_np: Array,
    stride: IntOrSeq,
    padding: Padding,
    groups: int = 1,
    dilation: IntOrSeq = 1,
) -> Array:
    return conv_nd_python(a_np, w_np, stride, padding, dilation, groups)


def depthwise_conv2d_python_nchw(
    a_np: Array, w_np: Array, stride: IntOrSeq, padding: Padding, dilation: IntOrSeq = 1
) -> Array:
    """``w`` is ``(C, multiplier, kh, kw)``: a grouped convolution with one group per channel."""
    c, m = w_np.shape[:2]
    w = w_np.reshape(c * m, 1, *w_np.shape[2:])
    return conv_nd_python(a_np, w, stride, padding, dilation, groups=c)


def depthwise_conv2d_python_nhwc(
    a_np: Array, w_np: Array, stride: IntOrSeq, padding: Padding, dilation: IntOrSeq = 1
) -> Array:
    """``w`` is ``(kh, kw, C, multiplier)``."""
    out = depthwise_conv2d_python_nchw(
        a_np.transpose(0, 3, 1, 2), w_np.transpose(2, 3, 0, 1), stride, padding, dilation
    )
    return out.transpose(0, 2, 3, 1)


def conv_transpose_nd_python(
    a_np: Array,
    w_np: Array,
    stride: IntOrSeq,
    padding: Padding,
    output_padding: IntOrSeq = 0,
    groups: int = 1,
) -> Array:
    """By scattering: ``out[n, f, i*s + k - pad] += a[n, c, i] * w[c, f % F_g, k]``."""
    dim = a_np.ndim - 2
    s = expand(stride, dim, "stride")
    op = expand(output_padding, dim, "output_padding")
    ks = list(w_np.shape[2:])
    before, after = get_pad_tuple_nd(padding, ks)
    n, c = a_np.shape[:2]
    fg = w_np.shape[1]
    cg = c // groups
    in_sp = a_np.shape[2:]
    full = [(in_sp[i] - 1) * s[i] + ks[i] + op[i] for i in range(dim)]
    acc = np.float64 if a_np.dtype.kind == "f" else np.int64
    out = np.zeros((n, fg * groups, *full), dtype=acc)
    for g in range(groups):
        x = a_np[:, g * cg : (g + 1) * cg].astype(acc)
        w = w_np[g * cg : (g + 1) * cg].astype(acc)
        for offs in np.ndindex(*ks):
            contrib = np.einsum("nc...,cf->nf...", x, w[(slice(None), slice(None), *offs)])
            sl = tuple(
                slice(o, o + (sz - 1) * st + 1, st)
                for o, sz, st in zip(offs, in_sp, s, strict=True)
            )
            out[(slice(None), slice(g * fg, (g + 1) * fg), *sl)] += contrib
    crop = tuple(slice(b, full[i] - after[i]) for i, b in enumerate(before))
    return out[(slice(None), slice(None), *crop)].astype(a_np.dtype)


def conv2d_transpose_nchw_python(
    a_np: Array, w_np: Array, stride: IntOrSeq, padding: Padding, output_padding: IntOrSeq = 0
) -> Array:
    return conv_transpose_nd_python(a_np, w_np, stride, padding, output_padding)


def conv1d_transpose_ncw_python(
    a_np: Array, w_np: Array, stride: IntOrSeq, padding: Padding, output_padding: IntOrSeq = 0
) -> Array:
    return conv_transpose_nd_python(a_np, w_np, stride, padding, output_padding)


def conv3d_transpose_ncdhw_python(
    a_np: Array, w_np: Array, stride: IntOrSeq, padding: Padding, output_padding: IntOrSeq = 0
) -> Array:
    return conv_transpose_nd_python(a_np, w_np, stride, padding, output_padding)
