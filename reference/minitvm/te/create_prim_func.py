"""``te.create_prim_func``: lower a TE graph to a TensorIR PrimFunc
(TVM's ``src/te/operation/create_primfunc.cc``).

One block per compute stage, in dependency order, under a root block that allocates every
intermediate tensor. Each stage becomes a nest of serial loops, one per axis (spatial axes,
then reduce axes), around a block whose iteration variables (``v_<axis>``) are bound to the
loop variables. Inside the block, reads of tensors become buffer loads and the body is
simplified. A reduction stores ``combiner(out, value)`` and has an ``init`` storing the
identity (or the ``init=`` values); its ``where`` condition guards the update. A tuple
reduction binds the combined values to ``v_<buffer>`` variables first, so every output sees
the old values. A stage with several non-reducing outputs gets one block per output. A
0-dimensional stage gets the block variable ``vi`` bound to 0, as in TVM.

Reads and writes are the points the block accesses; several accesses to one buffer are
covered by one region per dimension (constant offsets from the first index, otherwise
``min``/``max`` of the indices). The buffer a reduction updates is only in its writes.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te.graph import post_dfs_order
from minitvm.te.tensor import ComputeOp, PlaceholderOp, Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.analyzer import Analyzer
from minitvm.tir.buffer import Buffer, BufferRegion, decl_buffer
from minitvm.tir.expr import (
    BufferLoad,
    IntImm,
    IterVar,
    IterVarType,
    PrimExpr,
    ProducerLoad,
    Range,
    Reduce,
    Var,
    const,
)
from minitvm.tir.function import PrimFunc
from minitvm.tir.functor import ExprRewriter, post_order, stmt_exprs, substitute, walk_stmt
from minitvm.tir.stmt import (
    Block,
    BlockRealize,
    BufferStore,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    SeqStmt,
    Stmt,
)

__all__ = ["create_prim_func"]


def _buffer_name(t: Tensor) -> str:
    return t.name.replace(".", "_")


class _Lowering:
    def __init__(self, args: Sequence[Tensor]) -> None:
        self.args = list(args)
        self.buffers: dict[Tensor, Buffer] = {}
        self.root_alloc: list[Buffer] = []
        self.block_names: set[str] = set()
        self.analyzer = Analyzer()
        self.to_buffer = ExprRewriter(self._load)
        self.layout_free: set[int] = set()

    def _load(self, old: PrimExpr, new: PrimExpr) -> PrimExpr:
        if isinstance(new, ProducerLoad):
            t = new.producer
            if not isinstance(t, Tensor) or t not in self.buffers:
                raise DiagnosticError(f"create_prim_func: tensor {t.name} is not computed here")
            return BufferLoad(self.buffers[t], new.indices)
        return new

    def fresh(self, name: str) -> str:
        base, k = name, 0
        while name in self.block_names:
            k += 1
            name = f"{base}_{k}"
        self.block_names.add(name)
        return name

    def output_buffers(self, op: ComputeOp) -> list[Buffer]:
        bufs: list[Buffer] = []
        for t in op.outputs:
            buf = decl_buffer(t.shape, t.dtype, _buffer_name(t))
            self.buffers[t] = buf
            bufs.append(buf)
            if t not in self.args:
                self.root_alloc.append(buf)
        return bufs

    def lower_expr(self, e: PrimExpr, vmap: dict[Var, PrimExpr]) -> PrimExpr:
        return substitute(self.to_buffer(e), vmap)

    def stage(self, op: ComputeOp) -> Stmt:
        axes = [*op.axis, *op.reduce_axis]
        loops: list[tuple[Var, Range]] = []
        block_iters: list[IterVar] = []
        bindings: list[PrimExpr] = []
        vmap: dict[Var, PrimExpr] = {}
        store_idx: list[PrimExpr] = []
        for ax in axes:
            dtype = ax.var.dtype
            loop_var = Var(ax.var.name_hint, dtype)
            block_var = Var(f"v_{ax.var.name_hint}", dtype)
            dom = Range(self.analyzer.simplify(ax.dom.min), self.analyzer.simplify(ax.dom.extent))
            for v in (*_free(dom.min), *_free(dom.extent)):
                if any(v is a.var for a in axes):
                    raise DiagnosticError(
                        f"create_prim_func: axis {ax.var.name_hint} of {op.name} has a domain "
                        "that depends on another axis, which is not supported"
                    )
            loops.append((loop_var, dom))
            block_iters.append(IterVar(dom, block_var, ax.iter_type, ax.thread_tag))
            bindings.append(loop_var)
            vmap[ax.var] = block_var
            if ax.iter_type != IterVarType.CommReduce:
                store_idx.append(block_var)
        if not block_iters:
            block_iters.append(IterVar(Range(const(0), const(1)), Var("vi"), IterVarType.DataPar))
            bindings.append(const(0))
        bufs = self.output_buffers(op)
        blocks: list[Stmt] = []
        first = op.body[0]
        if isinstance(first, Reduce):
            init, body = self.reduction(first, bufs, store_idx, vmap)
            blocks.append(self.block(op, block_iters, bindings, op.name, body, init, bufs))
        else:
            for k, (expr, buf) in enumerate(zip(op.body, bufs, strict=True)):
                iters, binds, local = block_iters, bindings, vmap
                idx = store_idx
                if k > 0:  # fresh block variables keep every definition unique
                    renew = {iv.var: Var(iv.var.name_hint, iv.var.dtype) for iv in block_iters}
                    iters = [IterVar(iv.dom, renew[iv.var], iv.iter_type) for iv in block_iters]
                    local = {a: renew[v] for a, v in vmap.items() if isinstance(v, Var)}
                    idx = [renew[v] for v in store_idx if isinstance(v, Var)]
                value = self.analyzer.simplify(self.lower_expr(expr, local))
                store = BufferStore(buf, value, tuple(idx))
                blocks.append(self.block(op, iters, binds, buf.name, store, None, [buf]))
        nest = SeqStmt.flatten(blocks)
        for loop_var, dom in reversed(loops):
            nest = For(loop_var, dom.min, dom.extent, ForKind.SERIAL, nest)
        return nest

    def reduction(
        self,
        red: Reduce,
        bufs: list[Buffer],
        idx: list[PrimExpr],
        vmap: dict[Var, PrimExpr],
    ) -> tuple[Stmt, Stmt]:
        comb = red.combiner
        starts = red.init or comb.identity_element
        init = SeqStmt.flatten(
            [
                BufferStore(b, self.lower_expr(s, vmap), tuple(idx))
                for b, s in zip(bufs, starts, strict=True)
            ]
        )
        lhs = [BufferLoad(b, tuple(idx)) for b in bufs]
        rhs = [self.analyzer.simplify(self.lower_expr(s, vmap)) for s in red.source]
        bind: dict[Var, PrimExpr] = dict(zip(comb.lhs, lhs, strict=True))
        bind.update(zip(comb.rhs, rhs, strict=True))
        combined = [substitute(r, bind) for r in comb.result]
        body: Stmt
        if len(bufs) == 1:
            body = BufferStore(bufs[0], combined[0], tuple(idx))
        else:
            temps = [Var(f"v_{b.name}", b.dtype) for b in bufs]
            body = SeqStmt(
                [BufferStore(b, t, tuple(idx)) for b, t in zip(bufs, temps, strict=True)]
            )
            for t, value in reversed(list(zip(temps, combined, strict=True))):
                body = LetStmt(t, value, body)
        cond = self.analyzer.simplify(self.lower_expr(red.condition, vmap))
        if not (isinstance(cond, IntImm) and cond.value):
            body = IfThenElse(cond, body)
        return init, body

    def annotations(self, op: ComputeOp) -> dict[str, object]:
        """The stage's attributes as block annotations, tensors replaced by their buffers;
        ``layout_free_placeholders`` that are parameters go to the function instead."""
        out: dict[str, object] = {}
        for key, value in op.attrs:
            items = value if isinstance(value, tuple) else (value,)
            if key == "layout_free_placeholders":
                rest = []
                for t in items:
                    if isinstance(t, Tensor) and t in self.args:
                        self.layout_free.add(self.args.index(t))
                    else:
                        rest.append(t)
                if not rest:
                    continue
                items = tuple(rest)
            mapped = tuple(self.buffers.get(t, t) if isinstance(t, Tensor) else t for t in items)
            out[key] = mapped if isinstance(value, tuple) else mapped[0]
        return out

    def block(
        self,
        op: ComputeOp,
        iters: list[IterVar],
        bindings: list[PrimExpr],
        name: str,
        body: Stmt,
        init: Stmt | None,
        writes: list[Buffer],
    ) -> BlockRealize:
        reads = access_regions(body, exclude=writes)
        write_regions = access_regions(body, stores_only=True)
        block = Block(
            iters, reads, write_regions, self.fresh(name), body, init, (), self.annotations(op)
        )
        return BlockRealize(bindings, None, block)


def _free(e: PrimExpr) -> list[Var]:
    return [n for n in post_order(e) if isinstance(n, Var)]


def access_regions(
    body: Stmt, exclude: Sequence[Buffer] = (), stores_only: bool = False
) -> list[BufferRegion]:
    """The regions ``body`` reads (or, with ``stores_only``, writes), in order of access."""
    accesses: dict[Buffer, list[tuple[PrimExpr, ...]]] = {}
    for s in walk_stmt(body):
        if isinstance(s, BufferStore) and stores_only:
            accesses.setdefault(s.buffer, []).append(s.indices)
        if stores_only:
            continue
        for e in stmt_exprs(s):
            for node in post_order(e):
                if isinstance(node, BufferLoad) and node.buffer not in exclude:
                    accesses.setdefault(node.buffer, []).append(node.indices)
    return [_cover(buf, idxs) for buf, idxs in accesses.items()]


def _cover(buf: Buffer, idxs: list[tuple[PrimExpr, ...]]) -> BufferRegion:
    analyzer = Analyzer()
    region: list[Range] = []
    for dim in range(len(buf.shape)):
        first = idxs[0][dim]
        offsets: list[int] = []
        for idx in idxs:
            diff = analyzer.simplify(tir_op.sub(idx[dim], first))
            if not isinstance(diff, IntImm):
                break
            offsets.append(diff.value)
        if len(offsets) == len(idxs):
            lo = min(offsets)
            start = analyzer.simplify(tir_op.add(first, lo)) if lo else first
            region.append(Range(start, const(max(offsets) - lo + 1, first.dtype)))
            continue
        lo_e: PrimExpr = first
        hi_e: PrimExpr = first
        for idx in idxs[1:]:
            lo_e = tir_op.min(lo_e, idx[dim])
            hi_e = tir_op.max(hi_e, idx[dim])
        region.append(Range(lo_e, analyzer.simplify(tir_op.add(tir_op.sub(hi_e, lo_e), 1))))
    return BufferRegion(buf, tuple(region))


def create_prim_func(ops: Sequence[Tensor]) -> PrimFunc:
    """The PrimFunc computing the graph between the given tensors (inputs and outputs).

    ``ops`` lists the function's parameters in order: every placeholder the outputs read must
    be among them; compute tensors among them are outputs (written), the other computed
    tensors are allocated inside.
    """
    args = list(ops)
    if not all(isinstance(t, Tensor) for t in args):
        raise DiagnosticError("create_prim_func: every argument must be a te.Tensor")
    low = _Lowering(args)
    stmts: list[Stmt] = []
    for op in post_dfs_order(args):
        if isinstance(op, PlaceholderOp):
            t = op.output(0)
            if t not in args:
                raise DiagnosticError(
                    f"create_prim_func: placeholder {op.name} is read but is not an argument"
                )
            low.buffers[t] = decl_buffer(op.shape, op.dtype, _buffer_name(t))
        else:
            stmts.append(low.stage(op))
    params: list[Var] = []
    buffer_map: dict[Var, Buffer] = {}
    for t in args:
        buf = low.buffers.get(t)
        if buf is None:
            raise DiagnosticError(f"create_prim_func: argument {t.name} is not in the graph")
        param = Var(f"var_{buf.name}", "handle")
        params.append(param)
        buffer_map[param] = buf
    body = SeqStmt.flatten(stmts) if stmts else SeqStmt([])
    root = Block([], [], [], "root", body, None, low.root_alloc)
    attrs: dict[str, object] = {"global_symbol": "main", "tir.noalias": True}
    if low.layout_free:
        attrs["layout_free_buffers"] = tuple(sorted(low.layout_free))
    return PrimFunc(params, BlockRealize([], None, root), None, buffer_map, attrs)
