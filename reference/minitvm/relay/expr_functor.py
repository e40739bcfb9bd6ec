"""Iterative visitors and mutators over Relay expressions.

Nothing here recurses over the depth of a program. ``ExprVisitor`` and ``ExprMutator`` walk
the expression DAG with an explicit stack, visiting each node once and every child before its
parent (post-order), then call the ``visit_<kind>`` method of the node. By the time
``visit_call(call)`` runs, ``self.visit(arg)`` for each argument is a memo lookup, so code
written in TVM's recursive style (``self.visit(child)`` inside a ``visit_*``) works unchanged.

``visit_children(expr)`` is the pre-order hook: return False to have ``visit_<kind>`` called
without first visiting the children (``FoldConstant`` uses it to leave primitive functions
alone).

Binding sites are children like any other: a let's variable, a function's parameters, and the
variables of each match clause's pattern (before the clause's right-hand side). Constructors
are atoms, like global variables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import assert_never

from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.relay.adt import Clause, Match, map_pattern_vars, pattern_vars
from minitvm.relay.expr import (
    Call,
    Constant,
    Expr,
    If,
    Let,
    RefCreate,
    RefRead,
    RefWrite,
    Tuple,
    TupleGetItem,
    Var,
)
from minitvm.relay.function import Function

__all__ = [
    "ExprMutator",
    "ExprVisitor",
    "children",
    "post_order",
    "post_order_visit",
    "rebuild",
]


def children(expr: Expr) -> tuple[Expr, ...]:  # noqa: C901  (a flat dispatch over the union)
    """The direct sub-expressions of ``expr``, in evaluation order."""
    match expr:
        case Var() | GlobalVar() | Constant() | Op() | Constructor():
            return ()
        case Tuple():
            return expr.fields
        case TupleGetItem():
            return (expr.tuple_value,)
        case Call():
            return (expr.op, *expr.args)
        case Function():
            return (*expr.params, expr.body)
        case Let():
            return (expr.var, expr.value, expr.body)
        case If():
            return (expr.cond, expr.true_branch, expr.false_branch)
        case RefCreate():
            return (expr.value,)
        case RefRead():
            return (expr.ref,)
        case RefWrite():
            return (expr.ref, expr.value)
        case Match():
            kids: list[Expr] = [expr.data]
            for clause in expr.clauses:
                kids.extend(pattern_vars(clause.lhs))
                kids.append(clause.rhs)
            return tuple(kids)
        case _:
            assert_never(expr)


def iter_post_order(root: Expr, expand: Callable[[Expr], bool] | None = None) -> Iterator[Expr]:
    """Yield every node reachable from ``root`` once, children before parents.

    ``expand(node)`` may return False to yield a node without descending into it.
    """
    visited: set[Expr] = set()
    stack: list[tuple[Expr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            yield node
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        if expand is not None and not expand(node):
            continue
        for child in reversed(children(node)):
            if child not in visited:
                stack.append((child, False))


def post_order(root: Expr) -> list[Expr]:
    """Every node reachable from ``root``, once each, children before parents."""
    return list(iter_post_order(root))


def post_order_visit(expr: Expr, fvisit: Callable[[Expr], object]) -> None:
    """Call ``fvisit`` on every node of ``expr`` once, in post-order (TVM's helper)."""
    for node in iter_post_order(expr):
        fvisit(node)


def rebuild(expr: Expr, visit: Callable[[Expr], Expr]) -> Expr:  # noqa: C901  (flat dispatch)
    """``expr`` with each child replaced by ``visit(child)``; the same object if nothing
    changed (so sharing and checked types survive an identity rewrite)."""
    match expr:
        case Var() | GlobalVar() | Constant() | Op() | Constructor():
            return expr
        case Tuple():
            fields = tuple(visit(f) for f in expr.fields)
            if all(a is b for a, b in zip(fields, expr.fields, strict=True)):
                return expr
            return Tuple(fields, expr.span)
        case TupleGetItem():
            tup = visit(expr.tuple_value)
            if tup is expr.tuple_value:
                return expr
            return TupleGetItem(tup, expr.index, span=expr.span)
        case Call():
            op = visit(expr.op)
            args = tuple(visit(a) for a in expr.args)
            if op is expr.op and all(a is b for a, b in zip(args, expr.args, strict=True)):
                return expr
            return Call(op, args, expr.attrs, expr.type_args, expr.span)
        case Function():
            params = tuple(_as_var(visit(p)) for p in expr.params)
            body = visit(expr.body)
            if body is expr.body and all(a is b for a, b in zip(params, expr.params, strict=True)):
                return expr
            return Function(params, body, expr.ret_type, expr.type_params, expr.attrs, expr.span)
        case Let():
            var = _as_var(visit(expr.var))
            value = visit(expr.value)
            body = visit(expr.body)
            if var is expr.var and value is expr.value and body is expr.body:
                return expr
            return Let(var, value, body, span=expr.span)
        case If():
            cond = visit(expr.cond)
            then = visit(expr.true_branch)
            other = visit(expr.false_branch)
            if cond is expr.cond and then is expr.true_branch and other is expr.false_branch:
                return expr
            return If(cond, then, other, span=expr.span)
        case RefCreate():
            value = visit(expr.value)
            return expr if value is expr.value else RefCreate(value, span=expr.span)
        case RefRead():
            ref = visit(expr.ref)
            return expr if ref is expr.ref else RefRead(ref, span=expr.span)
        case RefWrite():
            ref, value = visit(expr.ref), visit(expr.value)
            if ref is expr.ref and value is expr.value:
                return expr
            return RefWrite(ref, value, span=expr.span)
        case Match():
            return _rebuild_match(expr, visit)
        case _:
            assert_never(expr)


def _rebuild_match(match: Match, visit: Callable[[Expr], Expr]) -> Expr:
    data = visit(match.data)
    clauses: list[Clause] = []
    for clause in match.clauses:
        lhs = map_pattern_vars(clause.lhs, lambda v: _as_var(visit(v)))
        rhs = visit(clause.rhs)
        same = lhs is clause.lhs and rhs is clause.rhs
        clauses.append(clause if same else Clause(lhs, rhs))
    if data is match.data and all(a is b for a, b in zip(clauses, match.clauses, strict=True)):
        return match
    return Match(data, clauses, match.complete, match.span)


def _as_var(expr: Expr) -> Var:
    if not isinstance(expr, Var):
        raise TypeError(f"a binding position must stay a Var, got {type(expr).__name__}")
    return expr


class _Walker:
    """The shared traversal engine: post-order over the DAG with a pre-order hook."""

    def visit_children(self, expr: Expr) -> bool:
        """Pre-order hook: False skips the automatic visit of ``expr``'s children."""
        return True

    def _walk(
        self, root: Expr, done: Callable[[Expr], bool], finish: Callable[[Expr], None]
    ) -> None:
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if done(node):
                continue
            if ready or not self.visit_children(node):
                finish(node)
                continue
            stack.append((node, True))
            for child in reversed(children(node)):
                if not done(child):
                    stack.append((child, False))


class ExprVisitor(_Walker):
    """Visit each node once, post-order. Override ``visit_<kind>``; the defaults do nothing."""

    def __init__(self) -> None:
        self.visited: set[Expr] = set()

    def visit(self, expr: Expr) -> None:
        if expr in self.visited:
            return
        self._walk(expr, self.visited.__contains__, self._finish)

    def _finish(self, node: Expr) -> None:
        self.visited.add(node)
        self._dispatch(node)

    def _dispatch(self, expr: Expr) -> None:  # noqa: C901  (a flat dispatch over the union)
        match expr:
            case Var():
                self.visit_var(expr)
            case GlobalVar():
                self.visit_global_var(expr)
            case Constant():
                self.visit_constant(expr)
            case Op():
                self.visit_op(expr)
            case Tuple():
                self.visit_tuple(expr)
            case TupleGetItem():
                self.visit_tuple_getitem(expr)
            case Call():
                self.visit_call(expr)
            case Function():
                self.visit_function(expr)
            case Let():
                self.visit_let(expr)
            case If():
                self.visit_if(expr)
            case RefCreate():
                self.visit_ref_create(expr)
            case RefRead():
                self.visit_ref_read(expr)
            case RefWrite():
                self.visit_ref_write(expr)
            case Constructor():
                self.visit_constructor(expr)
            case Match():
                self.visit_match(expr)
            case _:
                assert_never(expr)

    def visit_var(self, var: Var) -> None:
        pass

    def visit_global_var(self, gv: GlobalVar) -> None:
        pass

    def visit_constant(self, const: Constant) -> None:
        pass

    def visit_op(self, op: Op) -> None:
        pass

    def visit_tuple(self, tup: Tuple) -> None:
        pass

    def visit_tuple_getitem(self, item: TupleGetItem) -> None:
        pass

    def visit_call(self, call: Call) -> None:
        pass

    def visit_function(self, func: Function) -> None:
        pass

    def visit_let(self, let: Let) -> None:
        pass

    def visit_if(self, ite: If) -> None:
        pass

    def visit_ref_create(self, ref: RefCreate) -> None:
        pass

    def visit_ref_read(self, ref: RefRead) -> None:
        pass

    def visit_ref_write(self, ref: RefWrite) -> None:
        pass

    def visit_constructor(self, con: Constructor) -> None:
        pass

    def visit_match(self, match: Match) -> None:
        pass


class ExprMutator(_Walker):
    """Rewrite an expression bottom-up, memoized: a shared node is rewritten once and stays
    shared. The default ``visit_<kind>`` rebuilds the node from its rewritten children and
    returns the original object when nothing changed."""

    def __init__(self) -> None:
        self.memo_map: dict[Expr, Expr] = {}

    def visit(self, expr: Expr) -> Expr:
        memo = self.memo_map
        if expr not in memo:
            self._walk(expr, memo.__contains__, self._finish)
        return memo[expr]

    def _finish(self, node: Expr) -> None:
        self.memo_map[node] = self._dispatch(node)

    def _dispatch(self, expr: Expr) -> Expr:  # noqa: C901  (a flat dispatch over the union)
        match expr:
            case Var():
                return self.visit_var(expr)
            case GlobalVar():
                return self.visit_global_var(expr)
            case Constant():
                return self.visit_constant(expr)
            case Op():
                return self.visit_op(expr)
            case Tuple():
                return self.visit_tuple(expr)
            case TupleGetItem():
                return self.visit_tuple_getitem(expr)
            case Call():
                return self.visit_call(expr)
            case Function():
                return self.visit_function(expr)
            case Let():
                return self.visit_let(expr)
            case If():
                return self.visit_if(expr)
            case RefCreate():
                return self.visit_ref_create(expr)
            case RefRead():
                return self.visit_ref_read(expr)
            case RefWrite():
                return self.visit_ref_write(expr)
            case Constructor():
                return self.visit_constructor(expr)
            case Match():
                return self.visit_match(expr)
            case _:
                assert_never(expr)

    def visit_var(self, var: Var) -> Expr:
        return var

    def visit_global_var(self, gv: GlobalVar) -> Expr:
        return gv

    def visit_constant(self, const: Constant) -> Expr:
        return const

    def visit_op(self, op: Op) -> Expr:
        return op

    def visit_tuple(self, tup: Tuple) -> Expr:
        return rebuild(tup, self.visit)

    def visit_tuple_getitem(self, item: TupleGetItem) -> Expr:
        return rebuild(item, self.visit)

    def visit_call(self, call: Call) -> Expr:
        return rebuild(call, self.visit)

    def visit_function(self, func: Function) -> Expr:
        return rebuild(func, self.visit)

    def visit_let(self, let: Let) -> Expr:
        return rebuild(let, self.visit)

    def visit_if(self, ite: If) -> Expr:
        return rebuild(ite, self.visit)

    def visit_ref_create(self, ref: RefCreate) -> Expr:
        return rebuild(ref, self.visit)

    def visit_ref_read(self, ref: RefRead) -> Expr:
        return rebuild(ref, self.visit)

    def visit_ref_write(self, ref: RefWrite) -> Expr:
        return rebuild(ref, self.visit)

    def visit_constructor(self, con: Constructor) -> Expr:
        return con

    def visit_match(self, match: Match) -> Expr:
        return rebuild(match, self.visit)
