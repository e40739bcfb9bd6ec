"""Lexical scopes of a Relay expression: where each sub-expression must be bound.

This is TVM's ``CalcScope`` (``src/relay/transforms/to_a_normal_form.cc``) over the
dependency graph of ``dependency_graph.py``. The root expression lives in the global scope;
every other node lives in the *lowest common ancestor* (LCA) of the scopes of its uses, and a
scope node (an If branch, a function body, a let body) opens a child scope of its owner's
scope. Walking the graph parents-first (reverse post-order) gives every node its final scope
in one pass.

Two departures from TVM keep the pass linear and its result independent of traversal order:

* LCA uses skew-binary jump pointers (one extra pointer per scope), so it costs
  O(log depth) instead of O(depth): a parameter used at every level of a 100,000-deep let
  chain would otherwise make the pass quadratic.
* A node is *lifted* when its uses lie in more than one *block*, a block being the scope
  opened by an If branch or a function body (let bodies continue their enclosing block).
  TVM compares the LCA with the scope of the first use it happened to record, which depends
  on the traversal order and can both miss a shared node and report a harmless one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.relay.analysis.dependency_graph import DependencyGraph, Node
from minitvm.relay.expr import Constant, Expr, Let, Var
from minitvm.relay.function import Function

__all__ = ["NodeScopeMap", "Scope", "calc_scope", "child_scope", "global_scope", "lca"]


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


NodeScopeMap = dict[Node, Scope]


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


def _binder_scopes(dg: DependencyGraph) -> dict[Var, Node]:
    """Each let variable and parameter, mapped to the scope node of its binder."""
    binders: dict[Var, Node] = {}
    for expr, node in dg.expr_node.items():
        if isinstance(expr, Let):
            binders[expr.var] = node.children[0]
        elif isinstance(expr, Function):
            for param in expr.params:
                binders[param] = node.children[0]
    return binders


def _common_scope(parents: list[Node], scopes: NodeScopeMap) -> tuple[Scope, bool]:
    """The LCA of the parents' scopes, and whether they lie in more than one block."""
    scope = scopes[parents[0]]
    block = scope.block
    mixed = False
    for parent in itertools.islice(parents, 1, None):
        other = scopes[parent]
        if other is not scope:
            mixed = mixed or other.block is not block
            scope = lca(scope, other)
    return scope, mixed


def calc_scope(dg: DependencyGraph) -> tuple[NodeScopeMap, set[Expr]]:
    """The scope of every graph node, and the expressions used from more than one block.

    Operators and global variables get no scope: they are values available everywhere. A
    bound variable lives in the scope its binder opens (all its uses are inside). Every other
    node lives in the LCA of its uses; when those uses lie in more than one basic block the
    node is *lifted*, unless it is a constant: basic block normal form binds the lifted
    expressions (compound expressions and free variables), and a program in that form has
    none.
    """
    scopes: NodeScopeMap = {}
    lifted: set[Expr] = set()
    binders = _binder_scopes(dg)
    order = dg.post_dfs_order
    root = order[-1]
    for node in reversed(order):
        expr = node.expr
        if node is root:
            scope = global_scope()
        elif isinstance(expr, Op | GlobalVar):
            continue
        elif isinstance(expr, Var) and expr in binders:
            scope = scopes[binders[expr]]
        else:
            scope, mixed = _common_scope(node.parents, scopes)
            if mixed and expr is not None and not isinstance(expr, Constant):
                lifted.add(expr)
        scopes[node] = child_scope(scope, node.new_block) if node.new_scope else scope
    return scopes, lifted
