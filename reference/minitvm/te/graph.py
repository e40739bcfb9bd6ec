"""Walking TE graphs: operations in dependency order (TVM's ``te/operation/graph.cc``)."""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.te.tensor import Operation, Tensor

__all__ = ["post_dfs_order"]


def post_dfs_order(roots: Sequence[Tensor]) -> list[Operation]:
    """Every operation the ``roots`` depend on, inputs before their consumers.

    The order is TVM's ``PostDFSOrder``: a depth-first walk from each root in turn, visiting
    an operation's input tensors in the order its body first reads them.
    """
    order: list[Operation] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Operation, bool]] = [(root.op, False)]
        while stack:
            op, expanded = stack.pop()
            if expanded:
                order.append(op)
                continue
            if id(op) in seen:
                continue
            seen.add(id(op))
            stack.append((op, True))
            stack.extend((t.op, False) for t in reversed(op.input_tensors) if id(t.op) not in seen)
    return order
