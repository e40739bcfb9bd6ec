"""Builders of the sorting operators (TVM ``python/tvm/relay/op/algorithm.py``)."""

from __future__ import annotations

from minitvm.relay.expr import Call, Expr, TupleWrapper
from minitvm.relay.op.arguments import dtype_or_empty, int_of
from minitvm.relay.op.define import make_call
from minitvm.relay.op.defs.algorithm import ArgsortAttrs, TopKAttrs

__all__ = ["argsort", "sort", "topk"]


def sort(data: Expr, axis: int = -1, is_ascend: bool | int = 1) -> Call:
    return make_call("sort", [data], ArgsortAttrs(int_of(axis, "axis"), bool(is_ascend), ""))


def argsort(data: Expr, axis: int = -1, is_ascend: bool | int = 1, dtype: str = "int32") -> Call:
    attrs = ArgsortAttrs(int_of(axis, "axis"), bool(is_ascend), dtype_or_empty(dtype))
    return make_call("argsort", [data], attrs)


def topk(
    data: Expr,
    k: int = 1,
    axis: int = -1,
    ret_type: str = "both",
    is_ascend: bool = False,
    dtype: str = "int32",
) -> TupleWrapper | Call:
    """The ``k`` largest (smallest with ``is_ascend``) elements along ``axis``: a
    TupleWrapper of (values, indices) for ``ret_type="both"``, else one Call."""
    attrs = TopKAttrs(
        int_of(k, "k"), int_of(axis, "axis"), ret_type, bool(is_ascend), dtype_or_empty(dtype)
    )
    call = make_call("topk", [data], attrs)
    return TupleWrapper(call, 2) if ret_type == "both" else call
