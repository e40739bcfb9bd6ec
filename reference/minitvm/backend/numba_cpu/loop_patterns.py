"""The loop nests of ``te.create_prim_func`` that the numba code generator improves: which
loops may run in parallel, and which reductions may accumulate in a register.

A *stage* is a perfect nest of loops around block realizations whose iteration values are
the loop variables. Its loops may run in parallel when each is bound to one spatial block
variable of every block and that variable indexes every store of the block: then distinct
iterations write distinct elements. A reduction block may accumulate in a register when its
spatial loops enclose its reduce loops, its ``init`` stores the starting values at the
spatial point, and its body reads and writes the reduced buffers only at that point.

Both analyses are conservative: anything else (hand-written TIR with other shapes) keeps the
plain translation, which is always correct.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import BufferLoad, IntImm, IterVarType, PrimExpr, Var
from minitvm.tir.functor import post_order, stmt_exprs, uses_var, walk_stmt
from minitvm.tir.stmt import (
    BlockRealize,
    BufferStore,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    SeqStmt,
    Stmt,
    is_true,
)

__all__ = ["Reduction", "parallel_prefix", "reduction_plan", "sweeps_inner_axis", "stores"]

SMALL_REDUCTION = 16
"""Reductions of at most this many steps per element may sweep the innermost spatial loop."""

MIN_SWEEP = 8
"""The innermost spatial loop must have at least this many iterations to sweep."""


@dataclass(frozen=True, slots=True)
class Reduction:
    """A reduction block accumulated in registers: ``spatial`` leading loops, the rest
    reduce; ``indices`` is the spatial point every access of ``buffers`` uses."""

    spatial: int
    realize: BlockRealize
    indices: tuple[PrimExpr, ...]
    buffers: tuple[Buffer, ...]


def stores(s: Stmt) -> list[BufferStore]:
    return [x for x in walk_stmt(s) if isinstance(x, BufferStore)]


def _loads(s: Stmt) -> list[BufferLoad]:
    out: list[BufferLoad] = []
    for x in walk_stmt(s):
        for e in stmt_exprs(x):
            out.extend(n for n in post_order(e) if isinstance(n, BufferLoad))
    return out


def _straight(s: Stmt) -> bool:
    """Stores, lets and conditionals only: no loops, blocks or allocations."""
    return all(isinstance(x, BufferStore | LetStmt | SeqStmt | IfThenElse) for x in walk_stmt(s))


def _same(a: Sequence[PrimExpr], b: Sequence[PrimExpr]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _parts(br: BlockRealize) -> list[Stmt]:
    b = br.block
    return [b.body] if b.init is None else [b.init, b.body]


def _simple_block(br: BlockRealize) -> bool:
    b = br.block
    return is_true(br.predicate) and not b.alloc_buffers and all(map(_straight, _parts(br)))


def _self_contained(blocks: list[BlockRealize]) -> bool:
    """Every block writes each buffer at one point and reads written buffers only there."""
    if not all(map(_simple_block, blocks)):
        return False
    written: dict[Var, tuple[PrimExpr, ...]] = {}
    for br in blocks:
        for st in (st for part in _parts(br) for st in stores(part)):
            if not _same(written.setdefault(st.buffer.data, st.indices), st.indices):
                return False
    for br in blocks:
        for ld in (ld for part in _parts(br) for ld in _loads(part)):
            idx = written.get(ld.buffer.data)
            if idx is not None and not _same(idx, ld.indices):
                return False
    return True


def _realizes(inner: Stmt) -> list[BlockRealize] | None:
    if isinstance(inner, BlockRealize):
        return [inner]
    if isinstance(inner, SeqStmt) and all(isinstance(x, BlockRealize) for x in inner.seq):
        return [x for x in inner.seq if isinstance(x, BlockRealize)]
    return None


def _uses(e: PrimExpr, v: Var) -> bool:
    return uses_var(e, lambda x: x is v)


def _loop_is_spatial(v: Var, br: BlockRealize) -> bool:
    """``v`` is the value of exactly one block variable, spatial, which indexes every store."""
    bound = [
        (iv, value)
        for iv, value in zip(br.block.iter_vars, br.iter_values, strict=True)
        if _uses(value, v)
    ]
    if len(bound) != 1:
        return False
    iv, value = bound[0]
    if iv.iter_type != IterVarType.DataPar or value is not v:
        return False
    return all(any(i is iv.var for i in st.indices) for part in _parts(br) for st in stores(part))


def parallel_prefix(loops: list[For], inner: Stmt) -> int:
    """How many leading loops of the nest may run their iterations in parallel."""
    blocks = _realizes(inner)
    if blocks is None or not _self_contained(blocks):
        return 0
    count = 0
    for loop in loops:
        if loop.kind not in (ForKind.SERIAL, ForKind.PARALLEL):
            break
        if not all(_loop_is_spatial(loop.loop_var, br) for br in blocks):
            break
        count += 1
    return count


def _split_loops(loops: list[For], br: BlockRealize) -> tuple[int, int] | None:
    """(spatial, reduce) loop counts when the block's values are the loop variables, the
    spatial ones outside the reduce ones."""
    position = {id(loop.loop_var): k for k, loop in enumerate(loops)}
    spatial: list[int] = []
    reduce: list[int] = []
    for iv, value in zip(br.block.iter_vars, br.iter_values, strict=True):
        k = position.get(id(value)) if isinstance(value, Var) else None
        if k is None:
            return None
        (reduce if iv.iter_type == IterVarType.CommReduce else spatial).append(k)
    if sorted(spatial + reduce) != list(range(len(loops))) or not reduce:
        return None
    if spatial and max(spatial) > min(reduce):
        return None
    return len(spatial), len(reduce)


def _accumulated(br: BlockRealize) -> tuple[tuple[PrimExpr, ...], list[Buffer]] | None:
    """The spatial point and the buffers of the ``init`` stores, when every store and load
    of those buffers uses that point and the starting values do not read them."""
    block = br.block
    inits = stores(block.init) if block.init is not None else []
    if not inits:
        return None
    indices = inits[0].indices
    spatial = {id(iv.var) for iv in block.iter_vars if iv.iter_type != IterVarType.CommReduce}
    if not all(isinstance(i, Var) and id(i) in spatial for i in indices):
        return None
    buffers: list[Buffer] = []
    for st in inits:
        if st.buffer in buffers or not _same(st.indices, indices):
            return None
        buffers.append(st.buffer)
    datas = {b.data for b in buffers}
    if any(st.buffer.data not in datas for st in stores(block.body)):
        return None
    if any(ld.buffer.data in datas for st in inits for ld in _loads(st)):
        return None
    return indices, buffers


def reduction_plan(loops: list[For], inner: Stmt) -> Reduction | None:
    """How to accumulate the reduction ``inner`` in registers, if it can be."""
    if not isinstance(inner, BlockRealize) or inner.block.init is None:
        return None
    if not _self_contained([inner]):
        return None
    split = _split_loops(loops, inner)
    found = _accumulated(inner)
    if split is None or found is None:
        return None
    indices, buffers = found
    return Reduction(split[0], inner, indices, tuple(buffers))


def sweeps_inner_axis(plan: Reduction, loops: list[For]) -> bool:
    """Whether the reduction should run its reduce loops outside its innermost spatial loop,
    updating the buffer in place (``init`` first, in a loop of its own): a reduction of a
    few steps per element (a pooling window) whose inputs are laid out along that spatial
    loop. The inner loop then reads memory in order and LLVM vectorizes it; register
    accumulation would run the few reduce steps innermost, element by element. Each element
    still sees its reduce steps in the same order."""
    spatial, reduce = loops[: plan.spatial], loops[plan.spatial :]
    if not spatial or not reduce:
        return False
    inner = spatial[-1]
    if not isinstance(inner.min, IntImm) or inner.min.value != 0:
        return False
    if not isinstance(inner.extent, IntImm) or inner.extent.value < MIN_SWEEP:
        return False
    steps = 1
    for loop in reduce:
        if not isinstance(loop.extent, IntImm):
            return False
        steps *= loop.extent.value
    if steps > SMALL_REDUCTION:
        return False
    block = plan.realize.block
    var = _block_var_of(plan.realize, inner.loop_var)
    reduce_vars = {iv.var for iv in block.iter_vars if iv.iter_type == IterVarType.CommReduce}
    if var is None or block.init is None:
        return False
    if any(
        uses_var(e, lambda x: x in reduce_vars) for st in stores(block.init) for e in stmt_exprs(st)
    ):
        return False
    reduced = {b.data for b in plan.buffers}
    loads = [ld for ld in _loads(block.body) if ld.buffer.data not in reduced]
    return bool(loads) and all(ld.indices and _uses(ld.indices[-1], var) for ld in loads)


def _block_var_of(br: BlockRealize, loop_var: Var) -> Var | None:
    for iv, value in zip(br.block.iter_vars, br.iter_values, strict=True):
        if value is loop_var:
            return iv.var
    return None
