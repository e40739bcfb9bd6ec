"""The post-dominator tree of an indexed forward graph.

TVM's ``DominatorTree::PostDom`` (``src/relay/analysis/graph_partitioner.cc``).

A node's immediate post-dominator is the closest node that every path from it to the output
goes through. Because the graph is a DAG numbered in post-DFS order (consumers after their
inputs), one sweep from the last node to the first suffices: each node's parent in the tree is
the least common ancestor (LCA) of its consumers, which are already in the tree. The LCA walk
climbs the deeper of two nodes until they meet, and on the way it combines (takes the maximum
of) the patterns it passes, so each tree node also records the most general ``OpPattern`` on
any path to its parent. An ``extern_ref`` node, and a node whose consumers lie in different
trees, has no parent: nothing post-dominates it inside the dataflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from minitvm.ir.op import OpPattern
from minitvm.relay.analysis.indexed_graph import Edge, IndexedForwardGraph

__all__ = ["DomNode", "DominatorTree"]


class DomNode(NamedTuple):
    gnode: int
    """The index of the graph node."""
    parent: int | None
    """The index of the immediate post-dominator, or None."""
    depth: int
    pattern: OpPattern
    """The most general pattern on the paths from this node to its parent."""


@dataclass(frozen=True, slots=True)
class DominatorTree:
    nodes: tuple[DomNode, ...]
    """Indexed like the graph's ``post_dfs_order``."""

    @staticmethod
    def post_dom(graph: IndexedForwardGraph) -> DominatorTree:
        n = len(graph.post_dfs_order)
        parent: list[int] = [-1] * n
        depth: list[int] = [1] * n
        pattern: list[OpPattern] = [OpPattern.OPAQUE] * n
        for gnode in reversed(graph.post_dfs_order):
            if gnode.extern_ref:
                continue
            index = gnode.index
            outputs = gnode.outputs
            if len(outputs) == 1:  # the common case: the one consumer is the parent
                lca = outputs[0].node
                pat = max(OpPattern.ELEMWISE, outputs[0].pattern)
            else:
                lca, pat = _lca_of_outputs(outputs, parent, depth, pattern)
            parent[index] = lca
            if lca >= 0:
                depth[index] = depth[lca] + 1
            pattern[index] = pat
        return DominatorTree(
            tuple(
                DomNode(i, p if p >= 0 else None, d, pat)
                for i, p, d, pat in zip(range(n), parent, depth, pattern, strict=True)
            )
        )


def _lca_of_outputs(
    outputs: tuple[Edge, ...], parent: list[int], depth: list[int], pattern: list[OpPattern]
) -> tuple[int, OpPattern]:
    """The LCA of the consumers (-1 for none) and the combined pattern on the way to it."""
    if not outputs:
        return -1, OpPattern.ELEMWISE
    combined = max(OpPattern.ELEMWISE, outputs[0].pattern)
    lca = outputs[0].node
    for edge in outputs[1:]:
        lhs, rhs = lca, edge.node
        while lhs != rhs:
            if lhs < 0 or rhs < 0:
                lhs = -1
                break
            if depth[lhs] < depth[rhs]:
                combined = max(combined, pattern[rhs])
                rhs = parent[rhs]
            elif depth[rhs] < depth[lhs]:
                combined = max(combined, pattern[lhs])
                lhs = parent[lhs]
            else:
                combined = max(combined, pattern[lhs], pattern[rhs])
                lhs = parent[lhs]
                rhs = parent[rhs]
        lca = lhs
        combined = max(combined, edge.pattern)
    return lca, combined
