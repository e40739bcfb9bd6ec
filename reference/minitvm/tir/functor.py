"""Iterative traversal and rewriting of TIR (TVM's ``stmt_functor.h`` / ``expr_functor.h``).

Nothing here recurses: expressions are walked in post-order with an explicit stack and a memo
keyed by node identity, so a shared sub-expression is visited once and a 100,000-deep chain
costs no Python stack. ``ExprRewriter`` rebuilds a node only when a child changed, so an
unchanged expression keeps its identity. ``rewrite_stmt`` does the same for statements, using
an ``ExprRewriter`` for the expressions they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import assert_never

from minitvm.error import InternalError
from minitvm.tir.buffer import BufferRegion
from minitvm.tir.expr import (
    And,
    BinaryOpExpr,
    BufferLoad,
    Call,
    Cast,
    CmpExpr,
    FloatImm,
    IntImm,
    IterVar,
    Let,
    Not,
    Or,
    PrimExpr,
    ProducerLoad,
    Range,
    Reduce,
    Select,
    StringImm,
    Var,
)
from minitvm.tir.stmt import (
    Allocate,
    Block,
    BlockRealize,
    BufferStore,
    Evaluate,
    For,
    IfThenElse,
    LetStmt,
    SeqStmt,
    Stmt,
)

__all__ = [
    "ExprRewriter",
    "expr_children",
    "post_order",
    "rewrite_stmt",
    "stmt_exprs",
    "stmt_children",
    "substitute",
    "undefined_vars",
    "uses_var",
    "walk_stmt",
    "with_children",
]


def _binary_kids(e: PrimExpr) -> tuple[PrimExpr, ...]:
    return (e.a, e.b)  # type: ignore[union-attr]  # registered for binary classes only


def _leaf_kids(e: PrimExpr) -> tuple[PrimExpr, ...]:
    return ()


_FAST_KIDS: dict[type, Callable[[PrimExpr], tuple[PrimExpr, ...]]] = {
    IntImm: _leaf_kids,
    FloatImm: _leaf_kids,
    Var: _leaf_kids,
}


def expr_children(e: PrimExpr) -> tuple[PrimExpr, ...]:
    """The direct sub-expressions of ``e`` (a reduction's combiner is closed: not included)."""
    fast = _FAST_KIDS.get(type(e))
    if fast is not None:
        return fast(e)
    return _children(e)


def _children(e: PrimExpr) -> tuple[PrimExpr, ...]:
    match e:
        case IntImm() | FloatImm() | Var():
            return ()
        case BinaryOpExpr() | CmpExpr() | And() | Or():
            return (e.a, e.b)
        case Not():
            return (e.a,)
        case Select():
            return (e.condition, e.true_value, e.false_value)
        case Cast():
            return (e.value,)
        case Call():
            return tuple(a for a in e.args if not isinstance(a, StringImm))
        case Let():
            return (e.value, e.body)
        case BufferLoad() | ProducerLoad():
            return e.indices
        case Reduce():
            return (*e.source, e.condition, *e.init)
        case _:
            assert_never(e)


for _cls in (
    *(c for c in BinaryOpExpr.__subclasses__()),
    *(c for c in CmpExpr.__subclasses__()),
    And,
    Or,
):
    _FAST_KIDS[_cls] = _binary_kids


def with_children(e: PrimExpr, kids: Sequence[PrimExpr]) -> PrimExpr:  # noqa: C901  (a flat dispatch over the union)
    """``e`` rebuilt with new children (in ``expr_children`` order)."""
    match e:
        case IntImm() | FloatImm() | Var():
            return e
        case BinaryOpExpr() | CmpExpr() | And() | Or():
            return type(e)(kids[0], kids[1])
        case Not():
            return Not(kids[0])
        case Select():
            return Select(kids[0], kids[1], kids[2])
        case Cast():
            return Cast(e.dtype, kids[0])
        case Call():
            it = iter(kids)
            args = tuple(a if isinstance(a, StringImm) else next(it) for a in e.args)
            return Call(e.dtype, e.op, args)
        case Let():
            return Let(e.var, kids[0], kids[1])
        case BufferLoad():
            return BufferLoad(e.buffer, tuple(kids))
        case ProducerLoad():
            return ProducerLoad(e.producer, tuple(kids))
        case Reduce():
            n = len(e.source)
            return Reduce(
                e.combiner, tuple(kids[:n]), e.axis, kids[n], e.value_index, tuple(kids[n + 1 :])
            )
        case _:
            assert_never(e)


def post_order(root: PrimExpr) -> Iterator[PrimExpr]:
    """Every distinct node of ``root``, children before parents."""
    seen: set[int] = set()
    stack: list[tuple[PrimExpr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            yield node
            continue
        stack.append((node, True))
        for kid in reversed(expr_children(node)):
            if id(kid) not in seen:
                stack.append((kid, False))


RewriteFn = Callable[[PrimExpr, PrimExpr], PrimExpr]
"""``fn(original, rebuilt)``: the replacement of a node whose children are already rewritten."""


def _rebuilt(node: PrimExpr, kids: tuple[PrimExpr, ...], memo: dict[int, PrimExpr]) -> PrimExpr:
    """``node`` with its children replaced by their rewrites (itself if none changed)."""
    new_kids = [memo[id(k)] for k in kids]
    for n, k in zip(new_kids, kids, strict=True):
        if n is not k:
            return with_children(node, new_kids)
    return node


class ExprRewriter:
    """A memoized, iterative post-order rewriter; one instance may rewrite many roots."""

    __slots__ = ("_alive", "fn", "memo")

    def __init__(self, fn: RewriteFn) -> None:
        self.fn = fn
        self.memo: dict[int, PrimExpr] = {}
        self._alive: list[PrimExpr] = []  # memo keys are ids: keep their nodes alive

    def __call__(self, root: PrimExpr) -> PrimExpr:
        memo = self.memo
        if id(root) in memo:
            return memo[id(root)]
        fn = self.fn
        alive = self._alive
        stack: list[tuple[PrimExpr, tuple[PrimExpr, ...] | None]] = [(root, None)]
        while stack:
            node, kids = stack.pop()
            key = id(node)
            if key in memo:
                continue
            if kids is None:
                kids = expr_children(node)
                if kids:
                    stack.append((node, kids))
                    for k in kids:
                        if id(k) not in memo:
                            stack.append((k, None))
                    continue
            memo[key] = fn(node, _rebuilt(node, kids, memo) if kids else node)
            alive.append(node)
        return memo[id(root)]

    def rewrite_range(self, r: Range) -> Range:
        lo, ext = self(r.min), self(r.extent)
        return r if lo is r.min and ext is r.extent else Range(lo, ext)

    def rewrite_iter_var(self, iv: IterVar) -> IterVar:
        dom = self.rewrite_range(iv.dom)
        return iv if dom is iv.dom else IterVar(dom, iv.var, iv.iter_type, iv.thread_tag)

    def rewrite_region(self, br: BufferRegion) -> BufferRegion:
        region = tuple(self.rewrite_range(r) for r in br.region)
        if all(a is b for a, b in zip(region, br.region, strict=True)):
            return br
        return BufferRegion(br.buffer, region)


def substitute(e: PrimExpr, vmap: dict[Var, PrimExpr]) -> PrimExpr:
    """``e`` with each variable in ``vmap`` replaced (``tvm.tir.stmt_functor.substitute``)."""
    if not vmap:
        return e

    def fn(old: PrimExpr, new: PrimExpr) -> PrimExpr:
        if isinstance(old, Var):
            return vmap.get(old, new)
        return new

    return ExprRewriter(fn)(e)


def undefined_vars(e: PrimExpr, defined: Sequence[Var] = ()) -> list[Var]:
    """The free variables of ``e`` in first-occurrence order (``tir.analysis.undefined_vars``)."""
    bound: set[Var] = set(defined)
    for node in post_order(e):
        if isinstance(node, Let):
            bound.add(node.var)
        elif isinstance(node, Reduce):
            bound.update(iv.var for iv in node.axis)
    out: list[Var] = []
    for node in post_order(e):
        if isinstance(node, Var) and node not in bound and node not in out:
            out.append(node)
    return out


def uses_var(e: PrimExpr, pred: Callable[[Var], bool]) -> bool:
    return any(isinstance(n, Var) and pred(n) for n in post_order(e))


# --- statements -----------------------------------------------------------------------------


def stmt_children(s: Stmt) -> tuple[Stmt, ...]:
    match s:
        case LetStmt() | Allocate() | For():
            return (s.body,)
        case SeqStmt():
            return s.seq
        case IfThenElse():
            return (s.then_case,) if s.else_case is None else (s.then_case, s.else_case)
        case Block():
            return (s.body,) if s.init is None else (s.init, s.body)
        case BlockRealize():
            return (s.block,)
        case BufferStore() | Evaluate():
            return ()
        case _:
            assert_never(s)


def walk_stmt(root: Stmt) -> Iterator[Stmt]:
    """Every statement of ``root`` in pre-order."""
    stack: list[Stmt] = [root]
    while stack:
        s = stack.pop()
        yield s
        stack.extend(reversed(stmt_children(s)))


def stmt_exprs(s: Stmt) -> tuple[PrimExpr, ...]:
    """The expressions a statement holds directly (not those of its sub-statements)."""
    match s:
        case LetStmt():
            return (s.value,)
        case BufferStore():
            return (s.value, *s.indices)
        case Allocate():
            return (*s.extents, s.condition)
        case IfThenElse():
            return (s.condition,)
        case Evaluate():
            return (s.value,)
        case For():
            return (s.min, s.extent)
        case Block():
            ranges = [iv.dom for iv in s.iter_vars]
            ranges += [r for br in (*s.reads, *s.writes) for r in br.region]
            return tuple(x for r in ranges for x in (r.min, r.extent))
        case BlockRealize():
            return (*s.iter_values, s.predicate)
        case SeqStmt():
            return ()
        case _:
            assert_never(s)


StmtFn = Callable[[Stmt, Stmt], Stmt]


def _rebuild_stmt(s: Stmt, kids: list[Stmt], rw: ExprRewriter) -> Stmt:  # noqa: C901  (a flat dispatch over the union)
    match s:
        case LetStmt():
            return LetStmt(s.var, rw(s.value), kids[0])
        case BufferStore():
            return BufferStore(s.buffer, rw(s.value), tuple(rw(i) for i in s.indices))
        case Allocate():
            extents = tuple(rw(x) for x in s.extents)
            return Allocate(s.buffer_var, s.dtype, extents, rw(s.condition), kids[0])
        case SeqStmt():
            return SeqStmt(kids)
        case IfThenElse():
            return IfThenElse(rw(s.condition), kids[0], kids[1] if len(kids) > 1 else None)
        case Evaluate():
            return Evaluate(rw(s.value))
        case For():
            return For(
                s.loop_var,
                rw(s.min),
                rw(s.extent),
                s.kind,
                kids[0],
                s.thread_binding,
                s.annotations,
            )
        case Block():
            init, body = (kids[0], kids[1]) if s.init is not None else (None, kids[0])
            return Block(
                [rw.rewrite_iter_var(iv) for iv in s.iter_vars],
                [rw.rewrite_region(r) for r in s.reads],
                [rw.rewrite_region(r) for r in s.writes],
                s.name_hint,
                body,
                init,
                s.alloc_buffers,
                dict(s.annotations),
            )
        case BlockRealize():
            if not isinstance(kids[0], Block):
                raise InternalError("a BlockRealize must hold a Block")
            return BlockRealize([rw(v) for v in s.iter_values], rw(s.predicate), kids[0])
        case _:
            assert_never(s)


def rewrite_stmt(root: Stmt, rw: ExprRewriter, stmt_fn: StmtFn | None = None) -> Stmt:
    """``root`` with every expression passed through ``rw`` and every statement, once its
    parts are rewritten, through ``stmt_fn(original, rebuilt)``."""
    done: dict[int, Stmt] = {}
    stack: list[tuple[Stmt, bool]] = [(root, False)]
    while stack:
        s, expanded = stack.pop()
        kids = stmt_children(s)
        if not expanded and kids:
            stack.append((s, True))
            stack.extend((k, False) for k in kids)
            continue
        rebuilt = _rebuild_stmt(s, [done[id(k)] for k in kids], rw)
        done[id(s)] = stmt_fn(s, rebuilt) if stmt_fn is not None else rebuilt
    return done[id(root)]
