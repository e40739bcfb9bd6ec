"""``compute_inline``: substitute injective stages into their consumers
(TE's ``Stage.compute_inline`` / TensorIR's ``compute_inline``, as a graph rewrite).

A stage is inlinable when it does not reduce. Inlining it replaces every read ``T[idx]`` by
its body with the axes bound to ``idx``, so the stage disappears from the lowered function.
The graph is rebuilt bottom-up in one pass over the operations; the input graph is unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te.graph import post_dfs_order
from minitvm.te.tensor import ComputeOp, Tensor
from minitvm.tir.expr import PrimExpr, ProducerLoad, Reduce, Var
from minitvm.tir.functor import ExprRewriter, substitute

__all__ = ["compute_inline", "is_injective"]


def is_injective(t: Tensor) -> bool:
    """Whether ``t`` is computed by a non-reducing compute stage."""
    return isinstance(t.op, ComputeOp) and not isinstance(t.op.body[0], Reduce)


def _stages_to_inline(outs: list[Tensor], stages: Sequence[Tensor] | None) -> set[ComputeOp]:
    if stages is None:
        ops = [op for op in post_dfs_order(outs) if isinstance(op, ComputeOp)]
        inline = {op for op in ops if not isinstance(op.body[0], Reduce)}
        return inline - {t.op for t in outs if isinstance(t.op, ComputeOp)}
    chosen: set[ComputeOp] = set()
    for t in stages:
        if not is_injective(t) or not isinstance(t.op, ComputeOp):
            raise DiagnosticError(f"compute_inline: {t.name} is not an injective compute")
        if t in outs:
            raise DiagnosticError(f"compute_inline: {t.name} is an output")
        chosen.add(t.op)
    return chosen


def compute_inline(
    outputs: Sequence[Tensor], stages: Sequence[Tensor] | None = None
) -> list[Tensor]:
    """The ``outputs`` recomputed with the given stages inlined.

    ``stages`` defaults to every injective stage that is not an output. Naming a reducing
    stage, or an output, raises DiagnosticError.
    """
    outs = list(outputs)
    inline = _stages_to_inline(outs, stages)
    new_tensor: dict[Tensor, Tensor] = {}
    inlined: dict[Tensor, tuple[tuple[Var, ...], PrimExpr]] = {}

    def read(old: PrimExpr, new: PrimExpr) -> PrimExpr:
        if not isinstance(new, ProducerLoad) or not isinstance(new.producer, Tensor):
            return new
        t = new.producer
        if t in inlined:
            axes, body = inlined[t]
            return substitute(body, dict(zip(axes, new.indices, strict=True)))
        if t in new_tensor:
            return ProducerLoad(new_tensor[t], new.indices)
        return new

    rewrite = ExprRewriter(read)
    for op in post_dfs_order(outs):
        if not isinstance(op, ComputeOp):
            continue
        body = tuple(rewrite(b) for b in op.body)
        if op in inline:
            axes = tuple(iv.var for iv in op.axis)
            inlined.update((t, (axes, b)) for t, b in zip(op.outputs, body, strict=True))
            continue
        if all(n is o for n, o in zip(body, op.body, strict=True)):
            continue
        new_op = ComputeOp(op.name, op.tag, op.attrs, op.axis, body)
        new_tensor.update(zip(op.outputs, new_op.outputs, strict=True))
    return [new_tensor.get(t, t) for t in outs]
