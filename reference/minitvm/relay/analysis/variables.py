"""Variable analyses: ``free_vars``, ``bound_vars``, ``all_vars`` (TVM's ``analysis.cc``).

Each returns variables in first-occurrence order (depth-first, left to right). As in TVM, a
variable bound anywhere in the expression is not free anywhere in it. Binders are let
variables, function parameters and the variables of match patterns.
"""

from __future__ import annotations

from minitvm.relay.adt import Match, pattern_vars
from minitvm.relay.expr import Expr, Let, Var
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function

__all__ = ["all_vars", "bound_vars", "free_vars"]


def _vars_and_bound(expr: Expr) -> tuple[list[Var], set[Var]]:
    seen: list[Var] = []
    bound: set[Var] = set()
    for node in iter_post_order(expr):
        if isinstance(node, Var):
            seen.append(node)
        elif isinstance(node, Let):
            bound.add(node.var)
        elif isinstance(node, Function):
            bound.update(node.params)
        elif isinstance(node, Match):
            for clause in node.clauses:
                bound.update(pattern_vars(clause.lhs))
    return seen, bound


def free_vars(expr: Expr) -> list[Var]:
    """Variables used in ``expr`` and bound nowhere in it."""
    seen, bound = _vars_and_bound(expr)
    return [v for v in seen if v not in bound]


def bound_vars(expr: Expr) -> list[Var]:
    """Variables bound by a let, a function parameter list or a match pattern in ``expr``."""
    seen, bound = _vars_and_bound(expr)
    return [v for v in seen if v in bound]


def all_vars(expr: Expr) -> list[Var]:
    """Every variable occurring in ``expr``."""
    return _vars_and_bound(expr)[0]
