"""Moving data between space and batch or depth (TVM's ``space_to_batch_nd.py``,
``batch_to_space_nd.py``, ``depth_to_space.py``, ``space_to_depth.py``).

``space_to_batch_nd`` pads the ``M`` spatial dimensions after the batch, cuts them into
blocks of ``block_shape`` and moves the offsets inside a block to the batch: output batch
``((o_1 * b_2 + o_2) ... ) * N + n``. ``batch_to_space_nd`` is its inverse followed by cropping.
``depth_to_space`` (``"DCR"``: depth, column, row; ``"CRD"``: column, row, depth) and
``space_to_depth`` follow ONNX.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import ExprLike, PrimExpr, Var
from minitvm.tir.op import convert
from minitvm.topi.utils import get_const_tuple

__all__ = ["batch_to_space_nd", "depth_to_space", "space_to_batch_nd", "space_to_depth"]


def _one(t: Tensor | tuple[Tensor, ...]) -> Tensor:
    if isinstance(t, tuple):
        raise DiagnosticError("expected one output")
    return t


def space_to_batch_nd(
    data: Tensor,
    block_shape: Sequence[int],
    pad_before: Sequence[int],
    pad_after: Sequence[int],
    pad_value: ExprLike = 0.0,
) -> Tensor:
    shape = get_const_tuple(data.shape)
    m = len(block_shape)
    blocks = [int(b) for b in block_shape]
    padded = [shape[1 + k] + int(pad_before[k]) + int(pad_after[k]) for k in range(m)]
    for p, b in zip(padded, blocks, strict=True):
        if p % b:
            raise DiagnosticError(f"space_to_batch_nd: padded size {p} is not a multiple of {b}")
    n = shape[0]
    total = 1
    for b in blocks:
        total *= b
    oshape = [n * total, *(p // b for p, b in zip(padded, blocks, strict=True)), *shape[1 + m :]]
    value = tir_op.cast(convert(pad_value), data.dtype)

    def body(*idx: Var) -> PrimExpr:
        batch = idx[0]
        offsets: list[PrimExpr] = []
        rest: PrimExpr = tir_op.floordiv(batch, n)
        for b in reversed(blocks):
            offsets.append(tir_op.floormod(rest, b))
            rest = tir_op.floordiv(rest, b)
        offsets.reverse()
        index: list[PrimExpr] = [tir_op.floormod(batch, n)]
        conds: list[PrimExpr] = []
        for k in range(m):
            pos = idx[1 + k] * blocks[k] + offsets[k] - int(pad_before[k])
            index.append(pos)
            conds += [tir_op.greater_equal(pos, 0), tir_op.less(pos, shape[1 + k])]
        index.extend(idx[1 + m :])
        return tir_op.if_then_else(tir_op.all(*conds), data(*index), value)

    return _one(compute(oshape, body, name="space_to_batch_nd", tag="injective"))


def batch_to_space_nd(
    data: Tensor,
    block_shape: Sequence[int],
    crop_begin_list: Sequence[int],
    crop_end_list: Sequence[int],
) -> Tensor:
    shape = get_const_tuple(data.shape)
    m = len(block_shape)
    blocks = [int(b) for b in block_shape]
    total = 1
    for b in blocks:
        total *= b
    if shape[0] % total:
        raise DiagnosticError(f"batch_to_space_nd: batch {shape[0]} is not a multiple of {total}")
    n = shape[0] // total
    full = [shape[1 + k] * blocks[k] for k in range(m)]
    out_sp = [full[k] - int(crop_begin_list[k]) - int(crop_end_list[k]) for k in range(m)]
    if any(s < 0 for s in out_sp):
        raise DiagnosticError("batch_to_space_nd: the crops are larger than the data")
    oshape = [n, *out_sp, *shape[1 + m :]]

    def body(*idx: Var) -> PrimExpr:
        block_index: PrimExpr = convert(0)
        index: list[PrimExpr] = []
        for k in range(m):
            pos = idx[1 + k] + int(crop_begin_list[k])
            block_index = block_index * blocks[k] + tir_op.floormod(pos, blocks[k])
            index.append(tir_op.floordiv(pos, blocks[k]))
        batch = block_index * n + idx[0]
        return data(batch, *index, *idx[1 + m :])

    return _one(compute(oshape, body, name="batch_to_space_nd", tag="injective"))


def _layout_axes(layout: str) -> tuple[int, int, int]:
    if layout == "NCHW":
        return 1, 2, 3
    if layout == "NHWC":
        return 3, 1, 2
    raise DiagnosticError(f"expected layout NCHW or NHWC, got {layout!r}")


def depth_to_space(
    data: Tensor, block_size: int, layout: str = "NCHW", mode: str = "DCR"
) -> Tensor:
    if mode not in ("DCR", "CRD"):
        raise DiagnosticError(f"depth_to_space: mode must be DCR or CRD, got {mode!r}")
    c_ax, h_ax, w_ax = _layout_axes(layout)
    shape = list(get_const_tuple(data.shape))
    b = block_size
    if shape[c_ax] % (b * b):
        raise DiagnosticError(f"depth_to_space: channels {shape[c_ax]} not divisible by {b * b}")
    c_out = shape[c_ax] // (b * b)
    oshape = list(shape)
    oshape[c_ax], oshape[h_ax], oshape[w_ax] = c_out, shape[h_ax] * b, shape[w_ax] * b

    def body(*idx: Var) -> PrimExpr:
        c, y, x = idx[c_ax], idx[h_ax], idx[w_ax]
        off = tir_op.floormod(y, b) * b + tir_op.floormod(x, b)
        channel = off * c_out + c if mode == "DCR" else c * (b * b) + off
        index: list[PrimExpr] = list(idx)
        index[c_ax], index[h_ax], index[w_ax] = (
            channel,
            tir_op.floordiv(y, b),
            tir_op.floordiv(x, b),
        )
        return data(*index)

    return _one(compute(oshape, body, name="depth_to_space", tag="injective"))


def space_to_depth(data: Tensor, block_size: int, layout: str = "NCHW") -> Tensor:
    c_ax, h_ax, w_ax = _layout_axes(layout)
    shape = list(get_const_tuple(data.shape))
    b = block_size
    if shape[h_ax] % b or shape[w_ax] % b:
        raise DiagnosticError(f"space_to_depth: spatial size not divisible by {b}")
    c_in = shape[c_ax]
    oshape = list(shape)
    oshape[c_ax], oshape[h_ax], oshape[w_ax] = c_in * b * b, shape[h_ax] // b, shape[w_ax] // b

    def body(*idx: Var) -> PrimExpr:
        c, y, x = idx[c_ax], idx[h_ax], idx[w_ax]
        off = tir_op.floordiv(c, c_in)
        index: list[PrimExpr] = list(idx)
        index[c_ax] = tir_op.floormod(c, c_in)
        index[h_ax] = y * b + tir_op.floordiv(off, b)
        index[w_ax] = x * b + tir_op.floormod(off, b)
        return data(*index)

    return _one(compute(oshape, body, name="space_to_depth", tag="injective"))
