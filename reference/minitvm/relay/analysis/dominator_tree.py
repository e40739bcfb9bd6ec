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

Unlike TVM, which climbs one parent at a time, the climb uses jump pointers, so the tree of a
program in which one value is used all along a long chain is built in O(n log n), not O(n^2).
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
        tree = _Builder(len(graph.post_dfs_order))
        for gnode in reversed(graph.post_dfs_order):
            if gnode.extern_ref:
                tree.add(gnode.index, -1, OpPattern.OPAQUE)
            else:
                tree.add(gnode.index, *tree.lca_of_outputs(gnode.outputs))
        return DominatorTree(
            tuple(
                DomNode(i, p if p >= 0 else None, d, pat)
                for i, (p, d, pat) in enumerate(
                    zip(tree.parent, tree.depth, tree.pattern, strict=True)
                )
            )
        )


class _Builder:
    """The tree as it grows from the roots down, with Myers' jump pointers (1983): each node
    also points to an ancestor chosen from its depth alone, and records the most general
    pattern on the way there, so that climbing to any ancestor takes O(log depth) steps. TVM
    climbs one parent at a time, which is quadratic for a value used all along a long chain
    (a shared constant); the jumps give the same ancestor and the same combined pattern."""

    def __init__(self, n: int) -> None:
        self.parent = [-1] * n
        self.depth = [1] * n
        self.pattern = [OpPattern.OPAQUE] * n
        self.jump = list(range(n))
        self.jump_pattern = [OpPattern.ELEMWISE] * n
        """The combined pattern of the nodes from a node (included) to its jump (excluded)."""

    def add(self, v: int, parent: int, pattern: OpPattern) -> None:
        self.pattern[v] = pattern
        if parent < 0:
            return  # a root: depth 1, its own jump, nothing on the way
        self.parent[v] = parent
        self.depth[v] = self.depth[parent] + 1
        up = self.jump[parent]
        depth = self.depth
        if up != parent and depth[parent] - depth[up] == depth[up] - depth[self.jump[up]]:
            self.jump[v] = self.jump[up]
            jp = self.jump_pattern
            self.jump_pattern[v] = max(pattern, jp[parent], jp[up])
        else:
            self.jump[v] = parent
            self.jump_pattern[v] = pattern

    def climb(self, v: int, target_depth: int, combined: OpPattern) -> tuple[int, OpPattern]:
        """The ancestor of ``v`` at ``target_depth``, combining the patterns passed."""
        depth, jump = self.depth, self.jump
        while depth[v] > target_depth:
            if depth[jump[v]] >= target_depth:
                combined = max(combined, self.jump_pattern[v])
                v = jump[v]
            else:
                combined = max(combined, self.pattern[v])
                v = self.parent[v]
        return v, combined

    def lca(self, lhs: int, rhs: int, combined: OpPattern) -> tuple[int, OpPattern]:
        """TVM's ``LeastCommonAncestor`` of two tree nodes (-1: none)."""
        if lhs < 0 or rhs < 0:
            return -1, combined
        lhs, combined = self.climb(lhs, self.depth[rhs], combined)
        rhs, combined = self.climb(rhs, self.depth[lhs], combined)
        jump, jp = self.jump, self.jump_pattern
        while lhs != rhs:
            if self.parent[lhs] < 0:
                return -1, combined  # two roots: different trees
            if jump[lhs] != jump[rhs]:
                combined = max(combined, jp[lhs], jp[rhs])
                lhs, rhs = jump[lhs], jump[rhs]
            else:
                combined = max(combined, self.pattern[lhs], self.pattern[rhs])
                lhs, rhs = self.parent[lhs], self.parent[rhs]
        return lhs, combined

    def lca_of_outputs(self, outputs: tuple[Edge, ...]) -> tuple[int, OpPattern]:
        """The LCA of the consumers (-1 for none) and the combined pattern on the way."""
        if not outputs:
            return -1, OpPattern.ELEMWISE
        combined = max(OpPattern.ELEMWISE, outputs[0].pattern)
        lca = outputs[0].node
        for edge in outputs[1:]:
            lca, combined = self.lca(lca, edge.node, combined)
            combined = max(combined, edge.pattern)
        return lca, combined
