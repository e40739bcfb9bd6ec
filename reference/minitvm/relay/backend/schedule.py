"""The CPU schedule of a fused TE graph: which injective stages are inlined into their
readers (TVM's ``schedule_injective`` / ``compute_inline`` of the ``injective.cc`` and
``x86`` strategies, reduced to the one decision that changes a loop nest here).

Every injective stage that is not an output is inlined, so an elementwise chain becomes one
loop nest, except a stage that is read at more than one place and is expensive to recompute
(it calls a transcendental function, or its expression is large): it stays a stage of its
own, computed once into a buffer. Softmax's ``exp(x - max)``, read by the sum and by the
normalization, is the typical case; the size limit also keeps the inlined expressions of a
chain in which each op reads its input twice from doubling at every step.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.te.graph import post_dfs_order
from minitvm.te.inline import compute_inline
from minitvm.te.tensor import ComputeOp, Tensor
from minitvm.tir.expr import Call, ProducerLoad, Reduce
from minitvm.tir.functor import post_order

__all__ = ["EXPENSIVE_NODES", "schedule_outputs"]

EXPENSIVE_NODES = 24
"""An injective stage whose body has more nodes than this is not recomputed per reader."""

_CHEAP_CALLS = frozenset(
    {"tir.if_then_else", "tir.fabs", "tir.floor", "tir.ceil", "tir.trunc", "tir.round"}
)


def _body_stats(op: ComputeOp) -> tuple[int, bool, dict[Tensor, int]]:
    """Node count, whether it calls a transcendental, and its reads per tensor."""
    size, costly = 0, False
    reads: dict[Tensor, int] = {}
    for body in op.body:
        for node in post_order(body):
            size += 1
            if isinstance(node, Call) and node.op not in _CHEAP_CALLS:
                costly = True
            if isinstance(node, ProducerLoad) and isinstance(node.producer, Tensor):
                reads[node.producer] = reads.get(node.producer, 0) + 1
    return size, costly, reads


def schedule_outputs(outputs: Sequence[Tensor]) -> list[Tensor]:
    """``outputs`` recomputed with the chosen injective stages inlined."""
    outs = list(outputs)
    ops = [op for op in post_dfs_order(outs) if isinstance(op, ComputeOp)]
    stats = {op: _body_stats(op) for op in ops}
    readers: dict[Tensor, int] = {}
    for _, _, reads in stats.values():
        for t, n in reads.items():
            readers[t] = readers.get(t, 0) + n
    out_ops = {t.op for t in outs}
    expanded: dict[Tensor, tuple[int, bool]] = {}
    chosen: list[Tensor] = []
    for op in ops:
        size, costly, reads = stats[op]
        # The body once the producers chosen so far are substituted into it.
        for t, n in reads.items():
            inner_size, inner_costly = expanded.get(t, (1, False))
            size += n * (inner_size - 1)
            costly = costly or inner_costly
        if op in out_ops or isinstance(op.body[0], Reduce):
            continue
        shared = any(readers.get(t, 0) > 1 for t in op.outputs)
        if shared and (costly or size > EXPENSIVE_NODES):
            continue
        chosen.extend(op.outputs)
        expanded.update((t, (size, costly)) for t in op.outputs)
    if not chosen:
        return outs
    return compute_inline(outs, chosen)
