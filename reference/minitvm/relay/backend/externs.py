"""Library calls for matmul-like anchors: ``nn.dense``, ``nn.matmul``, ``nn.batch_matmul``
and ``nn.conv1d``/``nn.conv2d`` through numpy's BLAS (TVM's ``-libs=cblas`` strategies,
``python/tvm/contrib/cblas.py``).

When a fused function's anchor is one of these, on float32 or float64 with one dtype
throughout, the compile engine calls ``make_extern`` instead of the operator's TE compute.
The result stands in the TE graph as a placeholder (the anchor's output), so the fused
epilogue (bias, batch-norm scale and shift, relu...) is generated code reading it. A
convolution becomes one matrix product over an *im2col* tensor, itself a TE compute over the
data (padding folded into its condition) that the engine generates as a parallel loop nest:
the columns of ``(N, C, R, S, OH, OW)`` (NCHW) or ``(N, OH, OW, R, S, C)`` (NHWC) are
contiguous, so the product reads them as ``(N, C*R*S, OH*OW)`` or ``(N, OH*OW, R*S*C)``
without copying. A 1x1 convolution with unit strides and no padding multiplies the data
directly. Grouped convolutions are left to generated code.

Every call is one (batched) matrix product ``out[b] = lhs[b] @ rhs[b]``, described by a
``Product``: each operand is one of the call's inputs read as a contiguous ``(batch, rows,
cols)`` array, possibly with its last two axes swapped, and a batch of one is shared by every
batch of the result. ``run`` multiplies host arrays with numpy; another target multiplies the
same description its own way (the CUDA target with its tiled kernel, on device arrays).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from minitvm import te
from minitvm.ir.type import TensorType
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var
from minitvm.topi.utils import get_const_int

__all__ = ["BLAS_OPS", "ExternCall", "Operand", "Product", "library_call_applies", "make_extern"]

Array = npt.NDArray[Any]
Run = Callable[[list[Array], Array], None]

BLAS_OPS = ("nn.dense", "nn.matmul", "nn.batch_matmul", "nn.conv1d", "nn.conv2d")
_FLOATS = ("float32", "float64")
_CHANNELS_FIRST = {1: ("NCW", "OIW"), 2: ("NCHW", "OIHW")}
_CHANNELS_LAST = {1: ("NWC", "WIO"), 2: ("NHWC", "HWIO")}


@dataclass(frozen=True, slots=True)
class Operand:
    """Input ``index`` of a call read as a ``(batch, rows, cols)`` array; the product uses it
    with its last two axes swapped when ``transposed``."""

    index: int
    shape: tuple[int, int, int]
    transposed: bool = False


@dataclass(frozen=True, slots=True)
class Product:
    """``out[b] = lhs[b] @ rhs[b]`` over ``out`` read as ``(batch, rows, cols)``."""

    lhs: Operand
    rhs: Operand
    out: tuple[int, int, int]

    def host_views(self, ins: list[Array], out: Array) -> tuple[Array, Array, Array]:
        """numpy views of the operands and result (a batch of one as a 2-d matrix, which
        ``np.matmul`` broadcasts over the other operand's batch)."""

        def view(x: Array, shape: tuple[int, int, int], transposed: bool = False) -> Array:
            v = x.reshape(shape[1:] if shape[0] == 1 else shape)
            return np.swapaxes(v, -1, -2) if transposed else v

        a, b = self.lhs, self.rhs
        return (
            view(ins[a.index], a.shape, a.transposed),
            view(ins[b.index], b.shape, b.transposed),
            view(out, self.out),
        )


@dataclass(frozen=True, slots=True)
class ExternCall:
    """A library call computing ``output`` (a placeholder) from ``inputs`` (TE tensors)."""

    name: str
    product: Product
    inputs: tuple[Tensor, ...]
    output: Tensor
    flops: int
    run: Run

    @staticmethod
    def blas(
        name: str, product: Product, inputs: tuple[Tensor, ...], output: Tensor, flops: int
    ) -> ExternCall:
        """The call computing ``product`` with numpy's BLAS."""

        def run(ins: list[Array], out: Array) -> None:
            lhs, rhs, res = product.host_views(ins, out)
            np.matmul(lhs, rhs, out=res)

        return ExternCall(name, product, inputs, output, flops, run)


def _get(attrs: object, name: str, default: object = None) -> Any:
    return getattr(attrs, name, default)


def _ints(value: object, n: int) -> tuple[int, ...]:
    items = value if isinstance(value, tuple | list) else (value,)
    out = tuple(int(x) for x in items)
    return out * n if len(out) == 1 else out


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(get_const_int(d) for d in t.shape)


class _Typed(Protocol):
    """A TE tensor or a tensor type: what the decision reads."""

    @property
    def shape(self) -> Sequence[object]: ...

    @property
    def dtype(self) -> str: ...


def library_call_applies(
    op_name: str, attrs: object, arg_types: Sequence[_Typed], out_type: _Typed
) -> bool:
    """Whether ``make_extern`` makes a library call for this operator call (decided from
    the types alone, so a graph can be checked before it is lowered)."""
    if op_name not in BLAS_OPS or len(arg_types) != 2:
        return False
    if out_type.dtype not in _FLOATS or any(a.dtype != out_type.dtype for a in arg_types):
        return False
    if op_name == "nn.matmul":
        return len(arg_types[0].shape) == 2
    if op_name == "nn.batch_matmul":
        return len(arg_types[0].shape) == 3
    if op_name == "nn.dense":
        return True
    dims = 2 if op_name == "nn.conv2d" else 1
    layout = str(_get(attrs, "data_layout", ""))
    kernel_layout = str(_get(attrs, "kernel_layout", ""))
    out_layout = str(_get(attrs, "out_layout", "") or layout)
    if int(_get(attrs, "groups", 1)) != 1 or out_layout != layout:
        return False
    return (layout, kernel_layout) in (_CHANNELS_FIRST[dims], _CHANNELS_LAST[dims])


def make_extern(
    op_name: str, attrs: object, args: list[Tensor], out_type: TensorType
) -> ExternCall | None:
    """The library call for this anchor, or None when it does not apply."""
    if not library_call_applies(op_name, attrs, args, out_type):
        return None
    output = te.placeholder(out_type.shape, out_type.dtype, op_name.replace(".", "_") + "_out")
    if op_name == "nn.dense":
        return _dense(args, output)
    if op_name in ("nn.matmul", "nn.batch_matmul"):
        return _matmul(op_name, attrs, args, output)
    return _conv(op_name, attrs, args, output)


def _dense(args: list[Tensor], output: Tensor) -> ExternCall:
    data, weight = args
    k = _shape(data)[-1]
    n = _shape(weight)[0]
    m = int(np.prod(_shape(data)[:-1], dtype=np.int64))

    product = Product(Operand(0, (1, m, k)), Operand(1, (1, n, k), True), (1, m, n))
    return ExternCall.blas("dense", product, (data, weight), output, 2 * m * n * k)


def _matmul(op_name: str, attrs: object, args: list[Tensor], output: Tensor) -> ExternCall:
    a, b = args
    ta = bool(_get(attrs, "transpose_a", False))
    default_tb = op_name == "nn.batch_matmul"
    tb = bool(_get(attrs, "transpose_b", default_tb))
    shape_a = _shape(a)
    k = shape_a[-2] if ta else shape_a[-1]
    out_shape = _shape(output)
    m, n = out_shape[-2], out_shape[-1]
    batch = out_shape[0] if len(out_shape) == 3 else 1

    def as3(shape: tuple[int, ...]) -> tuple[int, int, int]:
        return (shape[0], shape[1], shape[2]) if len(shape) == 3 else (1, shape[0], shape[1])

    product = Product(Operand(0, as3(shape_a), ta), Operand(1, as3(_shape(b)), tb), as3(out_shape))
    name = "batch_matmul" if op_name == "nn.batch_matmul" else "matmul"
    return ExternCall.blas(name, product, (a, b), output, 2 * batch * m * n * k)


def _conv(op_name: str, attrs: object, args: list[Tensor], output: Tensor) -> ExternCall:
    data, weight = args
    dims = 2 if op_name == "nn.conv2d" else 1
    layout = str(_get(attrs, "data_layout", ""))
    kernel_layout = str(_get(attrs, "kernel_layout", ""))
    nchw = (layout, kernel_layout) == _CHANNELS_FIRST[dims]
    strides = _ints(_get(attrs, "strides", 1), dims)
    dilation = _ints(_get(attrs, "dilation", 1), dims)
    pad = _ints(_get(attrs, "padding", 0), dims)
    before = pad[:dims] if len(pad) == 2 * dims else pad
    dshape = _shape(data)
    spatial_in = dshape[2:] if nchw else dshape[1:-1]
    wshape = _shape(weight)
    window = wshape[2:] if nchw else wshape[:-2]
    oshape = _shape(output)
    spatial_out = oshape[2:] if nchw else oshape[1:-1]
    n, c = dshape[0], dshape[1] if nchw else dshape[-1]
    k = oshape[1] if nchw else oshape[-1]
    crs = c * int(np.prod(window))
    ohw = int(np.prod(spatial_out))
    trivial = all(w == 1 for w in window) and all(s == 1 for s in strides) and not any(pad)
    cols = data if trivial else _im2col(data, nchw, window, spatial_out, strides, dilation, before)
    flops = 2 * n * k * crs * ohw
    if nchw:  # inputs (weight, cols): out[n] = w @ cols[n]
        product = Product(Operand(0, (1, k, crs)), Operand(1, (n, crs, ohw)), (n, k, ohw))
    else:  # out[n] = cols[n] @ w
        product = Product(Operand(1, (n, ohw, crs)), Operand(0, (1, crs, k)), (n, ohw, k))
    del spatial_in
    return ExternCall.blas(f"conv{dims}d_im2col", product, (weight, cols), output, flops)


def _im2col(
    data: Tensor,
    nchw: bool,
    window: tuple[int, ...],
    spatial_out: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
    before: tuple[int, ...],
) -> Tensor:
    """The columns of a convolution: one element of the (padded) data per output position
    and window offset, laid out so that a matrix product reads them in place."""
    dshape = _shape(data)
    spatial_in = dshape[2:] if nchw else dshape[1:-1]
    dims = len(window)
    c = dshape[1] if nchw else dshape[-1]

    def element(n: Var, ch: Var, offsets: list[Var], outs: list[Var]) -> PrimExpr:
        pos = [
            o * s + r * d - b
            for o, r, s, d, b in zip(outs, offsets, strides, dilation, before, strict=True)
        ]
        inside = tir_op.all(
            *[p >= 0 for p in pos], *[p < h for p, h in zip(pos, spatial_in, strict=True)]
        )
        value = data[(n, ch, *pos)] if nchw else data[(n, *pos, ch)]
        return tir_op.if_then_else(inside, value, tir_op.cast(0, data.dtype))

    if nchw:
        shape = (dshape[0], c, *window, *spatial_out)

        def fcompute(*ax: Var) -> PrimExpr:
            return element(ax[0], ax[1], list(ax[2 : 2 + dims]), list(ax[2 + dims :]))

    else:
        shape = (dshape[0], *spatial_out, *window, c)

        def fcompute(*ax: Var) -> PrimExpr:
            return element(ax[0], ax[-1], list(ax[1 + dims : 1 + 2 * dims]), list(ax[1 : 1 + dims]))

    return te.compute(shape, fcompute, "im2col", "injective")
