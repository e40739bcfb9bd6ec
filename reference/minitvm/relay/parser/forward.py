"""Graph temporaries used before their binding line.

TVM's printer prints each node once per run and reuses its temporary everywhere after (SPEC
TXT-4), and it binds a call's arguments before its callee: so a node first met inside a
function passed as a callee gets its ``%N = ...;`` line inside that function, after the line
of an argument already referring to ``%N``. TVM's parser cannot read such text; minitvm's
reads each use of a temporary not bound yet as a placeholder and, once the text is read,
replaces the placeholders by the nodes bound to them.

The replacement is one post-order walk with an explicit stack over the parsed program in
which a placeholder's only child is the node bound to it; each node is rebuilt once (so
sharing is kept) and a temporary whose node contains itself is reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from minitvm.relay.expr import Expr, Var
from minitvm.relay.expr_functor import children, rebuild

__all__ = ["CycleError", "resolve_forward"]


class CycleError(Exception):
    """A temporary's node contains the temporary itself; carries the placeholder."""

    def __init__(self, placeholder: Var) -> None:
        super().__init__(placeholder.name_hint)
        self.placeholder = placeholder


def resolve_forward(roots: Sequence[Expr], targets: Mapping[Var, Expr]) -> dict[Expr, Expr]:
    """Each node reachable from ``roots`` mapped to itself with every placeholder of
    ``targets`` replaced by (the resolved version of) the node it stands for."""
    memo: dict[Expr, Expr] = {}
    open_nodes: set[Expr] = set()
    open_placeholders: list[Var] = []
    for root in roots:
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if node in memo:
                continue
            placeholder = node if isinstance(node, Var) and node in targets else None
            target = targets[placeholder] if placeholder is not None else None
            if expanded:
                open_nodes.discard(node)
                if target is not None:
                    open_placeholders.pop()
                    memo[node] = memo[target]
                else:
                    memo[node] = rebuild(node, memo.__getitem__)
                continue
            # The nodes open on the stack are exactly the ancestors of `node`, so meeting
            # one again closes a cycle, which passes through the innermost open placeholder.
            if node in open_nodes:
                raise CycleError(open_placeholders[-1])
            open_nodes.add(node)
            if placeholder is not None:
                open_placeholders.append(placeholder)
            stack.append((node, True))
            for child in (target,) if target is not None else children(node):
                if child not in memo:
                    stack.append((child, False))
    return memo
