"""Small helpers of TVM's ``relay.testing`` package (``python/tvm/relay/testing/__init__.py``):
``rand`` and ``count_ops``."""

from __future__ import annotations

from collections import Counter

import numpy as np

from minitvm.ir.op import Op
from minitvm.relay.expr import Call, Expr
from minitvm.relay.expr_functor import iter_post_order
from minitvm.runtime.ndarray import NDArray
from minitvm.runtime.ndarray import array as nd_array

__all__ = ["count_ops", "rand"]


def rand(dtype: str, *shape: int) -> NDArray:
    """An NDArray of ``shape`` drawn uniformly from [0, 1) by numpy's global generator."""
    return nd_array(np.random.rand(*shape).astype(dtype))


def count_ops(expr: Expr) -> Counter[str]:
    """How many distinct call nodes of each operator ``expr`` contains (a node shared by
    several users counts once, as TVM's memoizing visitor counts it)."""
    counter: Counter[str] = Counter()
    for node in iter_post_order(expr):
        if isinstance(node, Call) and isinstance(node.op, Op):
            counter[node.op.name] += 1
    return counter
