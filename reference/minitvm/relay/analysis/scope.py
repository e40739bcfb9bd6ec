"""Lexical scopes of a Relay expression: where each sub-expression must be bound.

TVM's ``CalcScope`` (``src/relay/transforms/to_a_normal_form.cc``) over the dependency graph
of ``src/relay/analysis/dependency_graph.cc``. That graph links each expression to its
operands and adds a *scope node* wherever a lexical scope starts: each If branch, each
function body (its parameters included), each let body (its variable and value included),
each match clause (its pattern's variables included).
The root lives in the global scope, a scope node opens a child of its owner's scope, and
every other node lives in the *lowest common ancestor* (LCA) of the scopes of its uses.

Here the graph stays implicit: one walk over the unique nodes in reverse post-order (every
parent before its operands) knows each node's final scope when it reaches it, and pushes the
scope of each use into the operand's running LCA. A scope node is just the child scope made
for an If branch, a function body or a let body, recorded as that expression's sub-scope.

Departures from TVM, which keep the analysis linear and independent of traversal order:

* LCA uses skew-binary jump pointers (one extra pointer per scope), so it costs
  O(log depth) instead of O(depth): a constant used at every level of a 100,000-deep let
  chain would otherwise make the pass quadratic.
* A bound variable lives in the scope its binder opens (in a well-formed program every use
  is inside it), so its uses cost nothing; operators, global variables and constructors,
  values available everywhere, get no scope.
* An expression is *lifted* when its uses lie in more than one *block*, a block being the
  scope opened by an If branch, a function body or a match clause (let bodies continue their
  enclosing block). TVM compares the LCA with the scope of the first use it happened to
  record, which depends on the traversal order and can both miss a shared node and report a
  harmless one.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from minitvm.relay.expr_functor import post_order
from minitvm.relay.function import Function

__all__ = ["Scope", "ScopeMap", "calc_scope", "child_scope", "global_scope", "lca"]


@dataclass(frozen=True, slots=True, eq=False)
class Scope:
    """A lexical scope. ``level`` is its depth (0 for the global scope); ``jump`` is an
    ancestor used to skip up the tree in O(log depth) steps; ``block`` is the scope that
    starts the basic block this scope belongs to (an If branch, a function body, the global
    scope). The global scope is its own parent, jump and block."""

    parent: Scope
    level: int
    jump: Scope
    block: Scope


def global_scope() -> Scope:
    scope = object.__new__(Scope)
    for field in ("parent", "jump", "block"):
        object.__setattr__(scope, field, scope)
    object.__setattr__(scope, "level", 0)
    return scope


def child_scope(parent: Scope, new_block: bool) -> Scope:
    """A scope nested in ``parent``; ``new_block`` starts a basic block (If branch or
    function body) rather than continuing the parent's (let body).

    The jump pointer follows Myers' skew-binary scheme: when the parent's jump and its
    jump's jump cover equal distances, jump as far as the latter, else to the parent.
    """
    far = parent.jump
    jump = far.jump if parent.level - far.level == far.level - far.jump.level else parent
    scope = Scope(parent, parent.level + 1, jump, parent.block)
    if new_block:
        object.__setattr__(scope, "block", scope)
    return scope


def lca(lhs: Scope, rhs: Scope) -> Scope:
    """The lowest common ancestor of two scopes, in O(log depth)."""
    if lhs.level < rhs.level:
        lhs, rhs = rhs, lhs
    level = rhs.level
    while lhs.level > level:
        jump = lhs.jump
        lhs = jump if jump.level >= level else lhs.parent
    while lhs is not rhs:
        # At equal levels the jump pointers land at equal levels too.
        if lhs.jump is not rhs.jump:
            lhs, rhs = lhs.jump, rhs.jump
        else:
            lhs, rhs = lhs.parent, rhs.parent
    return lhs


@dataclass(frozen=True, slots=True)
class ScopeMap:
    """The result of ``calc_scope``.

    ``scope`` gives every expression's scope (operators, globals and constructors excepted),
    ``sub_scopes`` the scopes an expression opens (If: the true and false branch; Function and
    Let: the body; Match: one per clause), and ``lifted`` the compound expressions and free
    variables used from more than one block: basic block normal form binds them, and a
    program in that form has none.
    """

    scope: dict[Expr, Scope]
    sub_scopes: dict[Expr, tuple[Scope, ...]]
    lifted: set[Expr]


class _Calc:
    def __init__(self, root: Expr) -> None:
        self.scope: dict[Expr, Scope] = {root: global_scope()}
        self.sub_scopes: dict[Expr, tuple[Scope, ...]] = {}
        self.bound: set[Var] = set()
        self.mixed: set[Expr] = set()

    def use(self, operand: Expr, where: Scope) -> None:
        """Fold one use of ``operand`` in scope ``where`` into its running LCA."""
        if operand in self.bound or isinstance(operand, Op | GlobalVar | Constructor):
            return
        current = self.scope.get(operand)
        if current is None:
            self.scope[operand] = where
        elif current is not where:
            if current.block is not where.block:
                self.mixed.add(operand)
            self.scope[operand] = lca(current, where)

    def bind(self, var: Var, where: Scope) -> None:
        self.scope[var] = where
        self.bound.add(var)

    def visit(self, expr: Expr) -> None:  # noqa: C901  (a flat dispatch over the union)
        """Pass ``expr``'s (final) scope on to its operands."""
        here = self.scope[expr]
        match expr:
            case Var() | GlobalVar() | Constant() | Op() | Constructor():
                pass
            case Call():
                self.use(expr.op, here)
                for arg in expr.args:
                    self.use(arg, here)
            case Tuple():
                for field in expr.fields:
                    self.use(field, here)
            case TupleGetItem():
                self.use(expr.tuple_value, here)
            case If():
                self.use(expr.cond, here)
                then, other = child_scope(here, True), child_scope(here, True)
                self.sub_scopes[expr] = (then, other)
                self.use(expr.true_branch, then)
                self.use(expr.false_branch, other)
            case Function():
                body = child_scope(here, True)
                self.sub_scopes[expr] = (body,)
                for param in expr.params:
                    self.bind(param, body)
                self.use(expr.body, body)
            case Let():
                body = child_scope(here, False)
                self.sub_scopes[expr] = (body,)
                self.bind(expr.var, body)
                self.use(expr.value, body)
                self.use(expr.body, body)
            case RefCreate():
                self.use(expr.value, here)
            case RefRead():
                self.use(expr.ref, here)
            case RefWrite():
                self.use(expr.ref, here)
                self.use(expr.value, here)
            case Match():
                self.use(expr.data, here)
                clauses: list[Scope] = []
                for clause in expr.clauses:
                    arm = child_scope(here, True)
                    clauses.append(arm)
                    for var in pattern_vars(clause.lhs):
                        self.bind(var, arm)
                    self.use(clause.rhs, arm)
                self.sub_scopes[expr] = tuple(clauses)
            case _:
                assert_never(expr)


def calc_scope(root: Expr) -> ScopeMap:
    """The scope of every sub-expression of ``root``, its sub-scopes, and the lifted set.

    Walking the unique nodes in reverse post-order visits every node after all of its
    parents, so its running LCA is final when its turn comes; no recursion over depth.
    """
    calc = _Calc(root)
    for expr in reversed(post_order(root)):
        if expr is root or not isinstance(expr, Op | GlobalVar | Constructor):
            calc.visit(expr)
    lifted: set[Expr] = {e for e in calc.mixed if not isinstance(e, Constant)}
    return ScopeMap(calc.scope, calc.sub_scopes, lifted)
