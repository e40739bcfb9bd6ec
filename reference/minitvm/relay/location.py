"""Where an expression sits in a program: a path from a function root, for diagnostics.

A location reads ``@main: body.args[0]`` (the global, then the fields followed from its
function), with the node's span appended when it has one. Paths are found only when an error
is reported, by a search from the roots, so passes pay nothing for them on success. Runs of a
step repeated more than three times are written ``step*n`` (``body*99999`` in a let chain).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.relay.adt import Match, pattern_vars
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

__all__ = ["describe", "expr_path", "locate"]


def _steps(node: Expr) -> list[tuple[str, Expr]]:  # noqa: C901  (a flat dispatch)
    match node:
        case Var() | GlobalVar() | Constant() | Op() | Constructor():
            return []
        case Tuple():
            return [(f"fields[{i}]", f) for i, f in enumerate(node.fields)]
        case TupleGetItem():
            return [("tuple_value", node.tuple_value)]
        case Call():
            return [("op", node.op), *((f"args[{i}]", a) for i, a in enumerate(node.args))]
        case Function():
            return [*((f"params[{i}]", p) for i, p in enumerate(node.params)), ("body", node.body)]
        case Let():
            return [("var", node.var), ("value", node.value), ("body", node.body)]
        case If():
            return [
                ("cond", node.cond),
                ("true_branch", node.true_branch),
                ("false_branch", node.false_branch),
            ]
        case RefCreate():
            return [("value", node.value)]
        case RefRead():
            return [("ref", node.ref)]
        case RefWrite():
            return [("ref", node.ref), ("value", node.value)]
        case Match():
            steps: list[tuple[str, Expr]] = [("data", node.data)]
            for i, clause in enumerate(node.clauses):
                steps.extend((f"clauses[{i}].lhs", v) for v in pattern_vars(clause.lhs))
                steps.append((f"clauses[{i}].rhs", clause.rhs))
            return steps
        case _:
            assert_never(node)


def _join(steps: list[str]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(steps):
        j = i
        while j < len(steps) and steps[j] == steps[i]:
            j += 1
        run = j - i
        parts.extend([f"{steps[i]}*{run}"] if run > 3 else steps[i:j])
        i = j
    return ".".join(parts)


def expr_path(root: Expr, target: Expr) -> str | None:
    """The steps from ``root`` to ``target`` ("" for the root itself), or None if
    ``target`` is not inside ``root``. Iterative; linear in the size of ``root``."""
    parent: dict[Expr, tuple[Expr, str] | None] = {root: None}
    stack = [root]
    while stack and target not in parent:
        node = stack.pop()
        for label, child in reversed(_steps(node)):
            if child not in parent:
                parent[child] = (node, label)
                stack.append(child)
    if target not in parent:
        return None
    steps: list[str] = []
    link = parent[target]
    while link is not None:
        node, label = link
        steps.append(label)
        link = parent[node]
    return _join(steps[::-1])


def locate(roots: Sequence[tuple[Expr, str]], target: Expr, step: str | None = None) -> str:
    """``target``'s location under the first of ``roots`` (``(root, name)`` pairs) that
    contains it, followed by ``step`` when given (a child of ``target``, named by its parent
    because a shared child such as a variable has many paths); with ``target``'s span."""
    where = "<unknown location>"
    for root, name in roots:
        path = expr_path(root, target)
        if path is not None:
            if step is not None:
                path = f"{path}.{step}" if path else step
            where = f"{name}: {path}" if path else name
            break
    if target.span is not None:
        where += f" ({target.span})"
    return where


def describe(expr: Expr) -> str:  # noqa: C901  (a flat dispatch over the union)
    """A short name for ``expr`` in a message: ``%x``, ``@f``, ``operator add``..."""
    match expr:
        case Var():
            return f"%{expr.name_hint}"
        case GlobalVar():
            return f"@{expr.name_hint}"
        case Op():
            return f"operator {expr.name}"
        case Constant():
            return "the constant"
        case Tuple():
            return "the tuple"
        case TupleGetItem():
            return f"the projection .{expr.index}"
        case Call():
            return f"the call of {describe(expr.op) if not isinstance(expr.op, Call) else 'a call'}"
        case Function():
            return "the function"
        case Let():
            return f"the let of %{expr.var.name_hint}"
        case If():
            return "the if"
        case RefCreate():
            return "the ref"
        case RefRead():
            return "the ref_read"
        case RefWrite():
            return "the ref_write"
        case Constructor():
            return f"constructor {expr.name_hint}"
        case Match():
            return "the match" if expr.complete else "the match?"
        case _:
            assert_never(expr)
