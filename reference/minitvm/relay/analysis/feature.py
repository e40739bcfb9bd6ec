"""Which language features a program uses: ``detect_feature`` (TVM's ``analysis/feature.cc``).

One walk over the expression DAG, each node once. A node reached a second time through a
different edge makes the program a graph (``fGraph``) unless it is atomic (variables, globals,
operators, constants), which are shared by reference in every Relay program. A let whose
variable occurs in its own value is a local fixpoint (``fLetRec``); that is tracked by keeping
the set of let variables whose value is being walked, so the check costs nothing per let.
Primitive functions count as ``fFunction`` but are not entered, as in TVM. The variables a
match pattern binds are not walked (as in TVM, whose visitor skips patterns): they count as
``fVar`` only where the clause uses them.
"""

# ruff: noqa: N815  (the members keep TVM's names)
from __future__ import annotations

from enum import IntEnum
from typing import assert_never

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.relay.adt import Match
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

__all__ = ["Feature", "detect_feature", "is_atomic"]


class Feature(IntEnum):
    """The features a program might contain, with TVM's values."""

    fVar = 0
    fGlobalVar = 1
    fConstant = 2
    fTuple = 3
    fTupleGetItem = 4
    fFunction = 5
    fOp = 6
    fCall = 7
    fLet = 8
    fIf = 9
    fRefCreate = 10
    fRefRead = 11
    fRefWrite = 12
    fConstructor = 13
    fMatch = 14
    fGraph = 15
    """Some non-atomic fragment of the program is shared: the program is a graph."""
    fLetRec = 16
    """A let-bound variable occurs in its own value: a local fixpoint."""


def is_atomic(expr: Expr) -> bool:
    """TVM's ``IsAtomic``: shared by reference, never bound by normal forms (variables,
    globals, operators, constructors, constants). An ``on_device`` annotation of an atomic
    expression is atomic too."""
    if (
        isinstance(expr, Call)
        and isinstance(expr.op, Op)
        and expr.op.name == "on_device"
        and len(expr.args) == 1
    ):
        expr = expr.args[0]
    return isinstance(expr, Var | GlobalVar | Op | Constant | Constructor)


def _feature_of(expr: Expr) -> Feature:  # noqa: C901  (a flat dispatch over the union)
    match expr:
        case Var():
            return Feature.fVar
        case GlobalVar():
            return Feature.fGlobalVar
        case Constant():
            return Feature.fConstant
        case Tuple():
            return Feature.fTuple
        case TupleGetItem():
            return Feature.fTupleGetItem
        case Function():
            return Feature.fFunction
        case Op():
            return Feature.fOp
        case Call():
            return Feature.fCall
        case Let():
            return Feature.fLet
        case If():
            return Feature.fIf
        case RefCreate():
            return Feature.fRefCreate
        case RefRead():
            return Feature.fRefRead
        case RefWrite():
            return Feature.fRefWrite
        case Constructor():
            return Feature.fConstructor
        case Match():
            return Feature.fMatch
        case _:
            assert_never(expr)


class _Detector:
    def __init__(self, found: set[Feature]) -> None:
        self.found = found
        self.visited: set[Expr] = set()
        self.open_values: set[Var] = set()  # let variables whose value is being walked
        # Entries: (expr, None, _) walks expr; (_, var, opening) opens or closes var.
        self.stack: list[tuple[Expr, Var | None, bool]] = []

    def run(self, root: Expr) -> None:
        self.visited.add(root)
        self.stack.append((root, None, False))
        while self.stack:
            node, let_var, opening = self.stack.pop()
            if let_var is None:
                self._visit(node)
            elif opening:
                self.open_values.add(let_var)
            else:
                self.open_values.discard(let_var)

    def _visit(self, node: Expr) -> None:
        self.found.add(_feature_of(node))
        if isinstance(node, Function) and node.is_primitive():
            return
        let_var = node.var if isinstance(node, Let) else None
        if isinstance(node, Match):
            kids: tuple[Expr, ...] = (node.data, *(c.rhs for c in node.clauses))
        else:
            kids = children(node)  # a let's are (var, value, body)
        for index in range(len(kids) - 1, -1, -1):
            child = kids[index]
            is_value = let_var is not None and index == 1
            if is_value:
                self.stack.append((child, let_var, False))  # close after the value
            if isinstance(child, Var) and child in self.open_values:
                self.found.add(Feature.fLetRec)
            if child not in self.visited:
                self.visited.add(child)
                self.stack.append((child, None, False))
            elif not is_atomic(child):
                self.found.add(Feature.fGraph)
            if is_value:
                self.stack.append((child, let_var, True))  # open before the value


def detect_feature(a: Expr | IRModule | None, b: Expr | IRModule | None = None) -> set[Feature]:
    """The features used by an expression, a module, or both (in either argument order)."""
    if isinstance(a, IRModule):
        a, b = b, a
    if isinstance(a, IRModule) or (b is not None and not isinstance(b, IRModule)):
        raise DiagnosticError(
            "detect_feature takes an expression and/or a module, not two of the same kind"
        )
    found: set[Feature] = set()
    if a is not None:
        _Detector(found).run(a)
    if b is not None:
        for func in b.functions.values():
            if isinstance(func, Function):
                _Detector(found).run(func)
    return found
