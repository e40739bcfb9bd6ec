"""The dependency graph of a Relay expression (TVM's ``src/relay/analysis/dependency_graph.cc``).

One node per unique sub-expression, with an edge from each expression to each of its
operands, plus *scope nodes* that model the places where a new lexical scope starts: the two
branches of an If, the body of a function (parameters included) and the body of a let (its
variable and value included). An If therefore points at its condition and at two scope nodes,
and each scope node points at its branch. Shared sub-expressions have several parents.

``post_dfs_order`` lists every node after all of its children, so walking it backwards visits
parents first: the order in which ``calc_scope`` propagates scopes downwards. The graph is
built in one iterative pass over the unique nodes (no recursion over program depth).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import assert_never

from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.relay.expr import Call, Constant, Expr, If, Let, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function

__all__ = ["DependencyGraph", "Node"]


@dataclass(slots=True, eq=False)
class Node:
    """A graph node: an expression, or (``expr`` None) a scope node.

    ``new_scope`` nodes open a child scope; ``new_block`` ones (If branches, function
    bodies) also start a new basic block, while a let body continues its enclosing block.
    The edge lists are filled while the graph is built and not changed afterwards (the
    record is not frozen only because frozen dataclasses are several times slower to
    create, and a graph has one node per sub-expression).
    """

    expr: Expr | None = None
    new_scope: bool = False
    new_block: bool = False
    children: list[Node] = dataclasses.field(default_factory=list)
    parents: list[Node] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DependencyGraph:
    expr_node: dict[Expr, Node]
    post_dfs_order: list[Node]

    @staticmethod
    def create(body: Expr) -> DependencyGraph:
        """Build the graph of ``body``; its root is ``expr_node[body]``, the last node of
        ``post_dfs_order``."""
        expr_node: dict[Expr, Node] = {}
        order: list[Node] = []
        for expr in iter_post_order(body):
            node = Node(expr)
            expr_node[expr] = node
            operands, scoped = _operands(expr)
            for operand in operands:
                _depend(node, expr_node[operand])
            for group, new_block in scoped:
                scope = Node(None, True, new_block)
                _depend(node, scope)
                for operand in group:
                    _depend(scope, expr_node[operand])
                order.append(scope)
            order.append(node)
        return DependencyGraph(expr_node, order)


def _depend(parent: Node, child: Node) -> None:
    parent.children.append(child)
    child.parents.append(parent)


_Scoped = tuple[tuple[tuple[Expr, ...], bool], ...]
_LEAF: tuple[tuple[Expr, ...], _Scoped] = ((), ())


def _operands(expr: Expr) -> tuple[tuple[Expr, ...], _Scoped]:
    """``expr``'s direct operands, and the operand groups that hang off a new scope node,
    each with whether it starts a basic block (If branches and function bodies do; a let
    body, which also holds the let's variable and value, continues its block)."""
    match expr:
        case Var() | GlobalVar() | Constant() | Op():
            return _LEAF
        case Call():
            return (expr.op, *expr.args), ()
        case Tuple():
            return expr.fields, ()
        case TupleGetItem():
            return (expr.tuple_value,), ()
        case If():
            return (expr.cond,), (((expr.true_branch,), True), ((expr.false_branch,), True))
        case Function():
            return (), (((*expr.params, expr.body), True),)
        case Let():
            return (), (((expr.var, expr.value, expr.body), False),)
        case _:
            assert_never(expr)
