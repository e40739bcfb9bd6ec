"""Static cost of a lowered kernel: floating-point operations of a TIR function (the
``flop`` count of TVM's ``tvm.tir.analysis.estimate_tir_flops``), for the profiler.

Every store counts the float arithmetic of its value (adds, multiplies, divisions, min/max,
one per math intrinsic) times the trip count of its enclosing loops; loops with a
non-constant extent count once. Index arithmetic (integers) is not counted. The walk keeps
an explicit stack of (statement, trip count).
"""

from __future__ import annotations

from minitvm.runtime.dtype import is_float
from minitvm.tir.expr import BinaryOpExpr, Call, IntImm, PrimExpr
from minitvm.tir.function import PrimFunc
from minitvm.tir.functor import post_order, stmt_children
from minitvm.tir.stmt import Block, BufferStore, For, Stmt

__all__ = ["estimate_flops"]


def _expr_flops(e: PrimExpr) -> int:
    n = 0
    for node in post_order(e):
        if isinstance(node, BinaryOpExpr | Call) and is_float(node.dtype):
            n += 0 if isinstance(node, Call) and node.op == "tir.if_then_else" else 1
    return n


def estimate_flops(func: PrimFunc) -> int:
    total = 0
    stack: list[tuple[Stmt, int]] = [(func.body, 1)]
    while stack:
        s, trips = stack.pop()
        if isinstance(s, BufferStore):
            total += trips * _expr_flops(s.value)
            continue
        inner = trips
        if isinstance(s, For) and isinstance(s.extent, IntImm):
            inner = trips * max(s.extent.value, 0)
        if isinstance(s, Block) and s.init is not None:
            stack.append((s.body, inner))
            continue
        stack.extend((k, inner) for k in stmt_children(s))
    return total
