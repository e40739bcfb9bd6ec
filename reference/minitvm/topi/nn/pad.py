"""Padding (TVM's ``topi/nn/pad.py``): constant padding, and ``mirror_pad`` (reflect/symmetric)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import ExprLike, IntImm, PrimExpr, PrimExprBase, Var
from minitvm.tir.op import convert
from minitvm.topi.utils import get_const_tuple, simplify

__all__ = ["edge_pad", "mirror_pad", "pad"]


def pad(
    data: Tensor,
    pad_before: Sequence[ExprLike],
    pad_after: Sequence[ExprLike] | None = None,
    pad_value: ExprLike = 0.0,
    name: str = "PadInput",
    attrs: Mapping[str, object] | None = None,
) -> Tensor:
    """``data`` surrounded by ``pad_value``: ``pad_before[i]`` elements before axis ``i``,
    ``pad_after[i]`` after (default: ``pad_before``)."""
    n = data.ndim
    after = list(pad_after) if pad_after else list(pad_before)
    before = list(pad_before)
    if len(before) != n or len(after) != n:
        raise DiagnosticError(f"pad: expected {n} pad widths per side, got {before} and {after}")
    out_shape = [simplify(data.shape[i] + before[i] + after[i]) for i in range(n)]
    value = (
        pad_value
        if isinstance(pad_value, PrimExprBase)
        else tir_op.cast(convert(pad_value), data.dtype)
    )

    def body(*idx: Var) -> PrimExpr:
        conds: list[PrimExpr] = []
        index: list[PrimExpr] = []
        for i in range(n):
            b, a = convert(before[i]), convert(after[i])
            if _is_zero(b) and _is_zero(a):
                index.append(idx[i])
                continue
            index.append(idx[i] - b)
            conds.append(tir_op.greater_equal(idx[i], b))
            conds.append(tir_op.less(idx[i], data.shape[i] + b))
        if conds:
            return tir_op.if_then_else(tir_op.all(*conds), data(*index), value)
        return data(*index)

    return compute(out_shape, body, name=name, attrs=attrs)


def _is_zero(e: PrimExpr) -> bool:
    return isinstance(e, IntImm) and e.value == 0


def mirror_pad(
    data: Tensor,
    pad_before: Sequence[int],
    pad_after: Sequence[int] | None = None,
    mode: str = "SYMMETRIC",
    name: str = "MirrorPadInput",
) -> Tensor:
    """Padding by reflection: ``"SYMMETRIC"`` repeats the edge element, ``"REFLECT"`` does not."""
    if mode not in ("SYMMETRIC", "REFLECT"):
        raise DiagnosticError(f"mirror_pad: mode must be SYMMETRIC or REFLECT, got {mode!r}")
    shape = get_const_tuple(data.shape)
    before = [int(b) for b in pad_before]
    after = [int(a) for a in (pad_after or pad_before)]
    out_shape = [d + b + a for d, b, a in zip(shape, before, after, strict=True)]
    shift = 1 if mode == "SYMMETRIC" else 0

    def body(*idx: Var) -> PrimExpr:
        index: list[PrimExpr] = []
        for i, n in enumerate(shape):
            x = idx[i] - before[i]
            low = tir_op.if_then_else(tir_op.less(x, 0), -x - shift, x)
            high = tir_op.if_then_else(
                tir_op.greater_equal(low, n), 2 * n - 1 - low - (1 - shift), low
            )
            index.append(simplify(high))
        return data(*index)

    return compute(out_shape, body, name=name)


def edge_pad(
    data: Tensor,
    pad_before: Sequence[int],
    pad_after: Sequence[int] | None = None,
    name: str = "EdgePadInput",
) -> Tensor:
    """Padding that repeats the edge element (numpy's ``mode="edge"``)."""
    shape = get_const_tuple(data.shape)
    before = [int(b) for b in pad_before]
    after = [int(a) for a in (pad_after or pad_before)]
    out_shape = [d + b + a for d, b, a in zip(shape, before, after, strict=True)]

    def body(*idx: Var) -> PrimExpr:
        return data(
            *[tir_op.max(tir_op.min(idx[i] - before[i], n - 1), 0) for i, n in enumerate(shape)]
        )

    return compute(out_shape, body, name=name)
