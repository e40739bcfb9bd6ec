"""Types for the nodes a rewrite creates, computed locally instead of by a module-wide InferType.

TVM's pattern rewriter re-runs InferType on the whole function before every rewrite callback,
because callbacks read the checked types of the nodes they are given. Here the rewriting passes
start from a type-checked function and give every node they build its type at once: the type
of an operator call comes from the operator's type relation applied to its (typed) arguments,
the type of a tuple from its fields, and a node rebuilt because a child was replaced keeps the
type of the node it replaces (every rewrite preserves the type of what it replaces). The
function pass still runs InferType on the result, so these types only serve the rewrites.
"""

from __future__ import annotations

from collections.abc import Callable

from minitvm.error import InternalError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.adt import Clause, Constructor, Match
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
from minitvm.relay.expr_functor import children
from minitvm.relay.function import Function

__all__ = ["rebuild_typed", "tensor_type", "type_of", "typed"]


def type_of(expr: Expr) -> Type:
    """The checked type of a node of a typed program (or of one built by ``typed``)."""
    ty = expr.checked_type_
    if ty is None:
        raise InternalError(f"a rewrite read the type of an untyped {type(expr).__name__}")
    return ty


def tensor_type(expr: Expr) -> TensorType:
    ty = type_of(expr)
    if not isinstance(ty, TensorType):
        raise InternalError(f"expected a tensor-typed expression, got one of type {ty}")
    return ty


def typed(expr: Expr) -> Expr:
    """``expr`` with a checked type on every node it builds anew (nodes already typed are kept).

    The new nodes are operator calls, tuples, projections and constants over typed leaves; the
    walk is an explicit stack and stops at typed nodes, so its cost is the size of what is new.
    """
    if expr.checked_type_ is not None:
        return expr
    memo: dict[Expr, Expr] = {}
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:
        node, ready = stack.pop()
        if node in memo:
            continue
        if node.checked_type_ is not None or isinstance(node, Op | GlobalVar):
            memo[node] = node
            continue
        if not ready:
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children(node)) if c not in memo)
            continue
        memo[node] = _with_type(node, memo.__getitem__)
    return memo[expr]


def _with_type(node: Expr, get: Callable[[Expr], Expr]) -> Expr:
    match node:
        case Constant():
            tensor = TensorType(node.data.shape, node.data.dtype)
            return Constant(node.data, span=node.span, checked_type_=tensor)
        case Tuple():
            fields = [get(f) for f in node.fields]
            return Tuple(fields, node.span, checked_type_=TupleType([type_of(f) for f in fields]))
        case TupleGetItem():
            tup = get(node.tuple_value)
            tup_ty = type_of(tup)
            if not isinstance(tup_ty, TupleType):
                raise InternalError(f"projection out of a non-tuple of type {tup_ty}")
            return TupleGetItem(
                tup, node.index, span=node.span, checked_type_=tup_ty.fields[node.index]
            )
        case Call(op=Op() as op):
            args = [get(a) for a in node.args]
            rel = op.definition.type_rel
            if rel is None:
                raise InternalError(f"operator {op.name} has no type relation")
            ty = rel([type_of(a) for a in args], node.attrs)
            return Call(op, args, node.attrs, node.type_args, node.span, checked_type_=ty)
        case _:
            raise InternalError(f"cannot type a new {type(node).__name__} locally")


def rebuild_typed(node: Expr, get: Callable[[Expr], Expr]) -> Expr:  # noqa: C901  (flat dispatch)
    """``node`` with each child replaced by ``get(child)``, keeping ``node``'s checked type;
    the same object when no child changed."""
    match node:
        case Var() | GlobalVar() | Constant() | Op() | Constructor():
            return node
        case Tuple():
            fields = [get(f) for f in node.fields]
            if all(a is b for a, b in zip(fields, node.fields, strict=True)):
                return node
            return Tuple(fields, node.span, checked_type_=node.checked_type_)
        case TupleGetItem():
            tup = get(node.tuple_value)
            if tup is node.tuple_value:
                return node
            return TupleGetItem(tup, node.index, span=node.span, checked_type_=node.checked_type_)
        case Call():
            op = get(node.op)
            args = [get(a) for a in node.args]
            if op is node.op and all(a is b for a, b in zip(args, node.args, strict=True)):
                return node
            return Call(
                op, args, node.attrs, node.type_args, node.span, checked_type_=node.checked_type_
            )
        case Function():
            body = get(node.body)
            if body is node.body:
                return node
            return Function(
                node.params,
                body,
                node.ret_type,
                node.type_params,
                node.attrs,
                node.span,
                checked_type_=node.checked_type_,
            )
        case Let():
            value, body = get(node.value), get(node.body)
            if value is node.value and body is node.body:
                return node
            return Let(node.var, value, body, span=node.span, checked_type_=node.checked_type_)
        case If():
            cond, then, other = get(node.cond), get(node.true_branch), get(node.false_branch)
            if cond is node.cond and then is node.true_branch and other is node.false_branch:
                return node
            return If(cond, then, other, span=node.span, checked_type_=node.checked_type_)
        case RefCreate():
            value = get(node.value)
            if value is node.value:
                return node
            return RefCreate(value, span=node.span, checked_type_=node.checked_type_)
        case RefRead():
            ref = get(node.ref)
            if ref is node.ref:
                return node
            return RefRead(ref, span=node.span, checked_type_=node.checked_type_)
        case RefWrite():
            ref, value = get(node.ref), get(node.value)
            if ref is node.ref and value is node.value:
                return node
            return RefWrite(ref, value, span=node.span, checked_type_=node.checked_type_)
        case Match():
            data = get(node.data)
            rhss = [get(c.rhs) for c in node.clauses]
            if data is node.data and all(
                a is c.rhs for a, c in zip(rhss, node.clauses, strict=True)
            ):
                return node
            clauses = [Clause(c.lhs, rhs) for c, rhs in zip(node.clauses, rhss, strict=True)]
            return Match(data, clauses, node.complete, node.span, checked_type_=node.checked_type_)
        case _:
            raise InternalError(f"unexpected node {type(node).__name__}")
