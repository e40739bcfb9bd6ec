"""SimplifyExpr's rules for transposes and layout transforms (TVM
``src/relay/transforms/simplify_expr.cc``: ``SimplifyTranspose``, ``SimplifyNoOpTranspose``).

Two consecutive ``transpose``/``layout_transform`` calls become one. When neither changes the
tensor's rank, both are permutations of the axes and compose into one ``transpose`` (possibly
the identity, which ``SimplifyNoOpTranspose`` then removes). When one of them changes the rank
(``NCHW -> NCHW4c``), TVM folds the pair into a single ``layout_transform`` from the first
layout to the last. A layout transform with sub-axes of different sizes (``NCHW4c ->
NCHW8c``) is not a permutation, so TVM's axis arithmetic does not apply to it: minitvm checks
each merge of two layout-changing calls by running both versions on a tensor holding the
indices ``0, 1, 2, ...`` (these operators only move data, so equal results mean equal
operators) and keeps the pair when they differ.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.op import Op
from minitvm.relay.dataflow_pattern import is_op, wildcard
from minitvm.relay.dataflow_rewrite import DFPatternCallback, NodeMap
from minitvm.relay.expr import Call, Expr
from minitvm.relay.interpreter.machine import eval_op
from minitvm.relay.op.defs.layout_transform import LayoutTransformAttrs, parse_layout
from minitvm.relay.op.defs.transform import TransposeAttrs
from minitvm.relay.op.transform import layout_transform, transpose
from minitvm.relay.transform.local_types import tensor_type

__all__ = ["SimplifyNoOpTranspose", "SimplifyTranspose", "transpose_axis_order"]

CHECK_LIMIT = 1 << 22
"""The largest tensor (in elements) on which a layout merge is checked; beyond, no merge."""


def _letters(layout: str) -> list[str]:
    return [a for a, _ in parse_layout(layout, "layout")]


def transpose_axis_order(call: Call, ndim: int) -> list[int]:
    """For each output axis, the input axis it comes from (TVM's ``GetTransposeAxisOrder``)."""
    attrs = call.attrs
    if isinstance(attrs, TransposeAttrs):
        if attrs.axes is None:
            return list(range(ndim - 1, -1, -1))
        return [a + ndim if a < 0 else a for a in attrs.axes[:ndim]]
    assert isinstance(attrs, LayoutTransformAttrs)
    src = _letters(attrs.src_layout)
    return [src.index(a) for a in _letters(attrs.dst_layout)[:ndim]]


def _is_permutation(call: Call) -> bool:
    """A transpose, or a layout transform whose axes and sub-axis sizes are the same."""
    attrs = call.attrs
    if isinstance(attrs, TransposeAttrs):
        return True
    assert isinstance(attrs, LayoutTransformAttrs)
    src = parse_layout(attrs.src_layout, "src_layout")
    dst = parse_layout(attrs.dst_layout, "dst_layout")
    return sorted(src) == sorted(dst)


def _layout_change(call: Call) -> tuple[str, str] | None:
    """The layouts of a rank-changing layout transform (as TVM tells it: by string length)."""
    attrs = call.attrs
    if isinstance(attrs, LayoutTransformAttrs) and len(attrs.src_layout) != len(attrs.dst_layout):
        return attrs.src_layout, attrs.dst_layout
    return None


def _permute(layout: str, order: list[int]) -> str:
    letters = _letters(layout)
    return "".join(letters[i] for i in order)


def _fold_rank_changing(data: Expr, outer: Call) -> Call | None:
    """TVM's ``FoldRankChangingLayoutTrans``: one layout transform for ``outer(inner(data))``
    when one of the two changes the rank, or None."""
    inner = outer.args[0]
    assert isinstance(inner, Call)
    outer_change, inner_change = _layout_change(outer), _layout_change(inner)
    if outer_change is not None:
        src, dst = outer_change
        other = inner
        if inner_change is not None:
            if inner_change[1] != src:
                return None
            src = inner_change[0]
    elif inner_change is not None:
        (src, dst), other = inner_change, outer
    else:
        return None
    src_rank, dst_rank = len(_letters(src)), len(_letters(dst))
    if src_rank < dst_rank:
        order = transpose_axis_order(other, src_rank)
        inverse = [0] * len(order)
        for i, a in enumerate(order):
            inverse[a] = i
        return layout_transform(data, _permute(src, inverse), dst)
    if src_rank > dst_rank:
        return layout_transform(data, src, _permute(dst, transpose_axis_order(other, dst_rank)))
    if isinstance(other.attrs, LayoutTransformAttrs):
        return layout_transform(data, src, dst)
    return None


def _same_movement(before: Expr, after: Expr, data: Expr) -> bool:
    """Whether two chains of data-movement calls over ``data`` move the same elements."""
    shape = tensor_type(data).shape
    size = int(np.prod(shape, dtype=np.int64))
    if size > CHECK_LIMIT:
        return False
    iota = np.arange(size, dtype=np.int64).reshape(shape)
    try:
        return bool(np.array_equal(_run(before, data, iota), _run(after, data, iota)))
    except TVMError:
        return False


def _run(expr: Expr, data: Expr, value: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    chain: list[Call] = []
    node = expr
    while node is not data:
        assert isinstance(node, Call)
        assert isinstance(node.op, Op)
        chain.append(node)
        node = node.args[0]
    for call in reversed(chain):
        assert isinstance(call.op, Op)
        out = eval_op(call.op, call.attrs, [value])
        assert isinstance(out, np.ndarray)
        value = out
    return value


class SimplifyTranspose(DFPatternCallback):
    """Merge two consecutive transposes or layout transforms into one."""

    def __init__(self) -> None:
        self.data = wildcard()
        first = is_op("transpose") | is_op("layout_transform")
        second = is_op("transpose") | is_op("layout_transform")
        self.pattern = second(first(self.data))

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        data = node_map[self.data]
        assert isinstance(post, Call)
        inner = post.args[0]
        assert isinstance(inner, Call)
        folded = _fold_rank_changing(data, post)
        if folded is not None:
            assert isinstance(folded.attrs, LayoutTransformAttrs)
            result: Expr = data if folded.attrs.src_layout == folded.attrs.dst_layout else folded
            return result if _same_movement(post, result, data) else post
        if _layout_change(post) is not None or _layout_change(inner) is not None:
            return post
        ndim = tensor_type(pre).ndim
        axes = list(range(ndim))
        for step in (transpose_axis_order(inner, ndim), transpose_axis_order(post, ndim)):
            axes = [axes[step[i]] for i in range(ndim)]
        merged = transpose(data, axes)
        if _is_permutation(post) and _is_permutation(inner):
            return merged
        return merged if _same_movement(post, merged, data) else post


class SimplifyNoOpTranspose(DFPatternCallback):
    """Remove a transpose or layout transform that leaves every axis where it is."""

    def __init__(self) -> None:
        self.data = wildcard()
        self.pattern = (is_op("transpose") | is_op("layout_transform"))(self.data)

    @override
    def may_fire(self, pre: Call) -> bool:
        attrs = pre.attrs
        if isinstance(attrs, LayoutTransformAttrs) and attrs.src_layout != attrs.dst_layout:
            return False
        ndim = tensor_type(pre).ndim
        return transpose_axis_order(pre, ndim) == list(range(ndim))

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        assert isinstance(pre, Call)
        return node_map[self.data] if self.may_fire(pre) else post
