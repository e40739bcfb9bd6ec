"""Partition an indexed forward graph into fusion groups.

TVM's ``GraphPartitioner`` (``src/relay/analysis/graph_partitioner.cc``).

Each node starts in a group of its own; groups are merged with union-find. With the
post-dominator tree at hand, three sweeps over the nodes in post-DFS order try to merge each
node, together with every node on the paths to it, into the group of its immediate
post-dominator, when the paths satisfy a condition on the (root) group patterns:

* phase 0: an ``OUT_ELEMWISE_FUSABLE`` node (conv2d, dense) joins an elementwise
  post-dominator when everything in between is at most ``BROADCAST``; and, in phases 0 and 1,
  a node of at most ``BROADCAST`` joins a post-dominator reached through injective or reduction
  edges when the intermediate nodes are at most ``INJECTIVE`` and the post-dominator is a
  broadcast, injective, reduction or anchored group;
* phase 1: ``INJECTIVE`` and ``TUPLE`` nodes join along all-injective paths;
* phase 2: injective nodes join an intermediate tuple that has itself joined an injective
  consumer.

Phases 0 and 1 never merge into a tuple node. ``OPAQUE`` nodes and nodes without a
post-dominator stay alone. A merge is refused when the group would exceed ``max_fuse_depth``
nodes, or, for a target with ``max_function_args``, when the fused function would take too many
arguments; a merge whose argument count cannot be known yet is postponed until the consumer it
depends on is visited. ``opt_level == 0`` stops after the initial singleton groups.

Counts reproduce TVM's arithmetic exactly, including its use of each node's own group record
(not its root's) when counting the nodes on the paths to a post-dominator. Path walks use
explicit stacks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from minitvm.error import InternalError
from minitvm.ir.op import OpPattern
from minitvm.relay.analysis.dominator_tree import DominatorTree
from minitvm.relay.analysis.indexed_graph import IndexedForwardGraph, Node
from minitvm.relay.expr import Call, Expr, Tuple, TupleGetItem, Var

__all__ = ["GraphPartitioner", "Group"]

PathCondition = Callable[[OpPattern, bool], bool]
"""``fcond(root_group_pattern, is_sink)``, checked on every node of a path but its source."""


@dataclass(slots=True, eq=False)
class Group:
    """A union-find record. Mutable: merging relinks ``parent`` and updates the root's sums."""

    pattern: OpPattern
    root_ref: Expr
    """The expression of the node the group was created for; after merges, the root group's
    ``root_ref`` is the node whose value the fused function returns."""
    anchor_ref: Expr | None = None
    """The ``OUT_ELEMWISE_FUSABLE`` node of the group, if any (at most one)."""
    num_nodes: int = 1
    args_num: int = 0
    parent: Group | None = field(default=None, repr=False)

    def find_root(self) -> Group:
        root = self
        while root.parent is not None:
            root = root.parent
        node = self
        while node is not root:  # path compression
            assert node.parent is not None
            node.parent, node = root, node.parent
        return root


def _inputs(expr: Expr) -> Sequence[Expr]:
    """The values a node passes to a fused function (its call arguments or tuple fields)."""
    if isinstance(expr, Call):
        return expr.args
    if isinstance(expr, Tuple):
        return expr.fields
    return ()


def _initial_args(expr: Expr) -> int:
    """TVM's per-node argument estimate: each variable or projection input costs one."""
    if isinstance(expr, Var):
        return 1
    return sum(1 for a in _inputs(expr) if isinstance(a, Var | TupleGetItem))


def _combine(lhs: OpPattern, rhs: OpPattern) -> OpPattern:
    if lhs > OpPattern.BROADCAST and rhs > OpPattern.BROADCAST:
        raise InternalError("FuseOps: cannot merge two complex groups together")
    return max(lhs, rhs)


def _injective(kind: OpPattern, is_sink: bool) -> bool:
    return kind <= OpPattern.INJECTIVE


def _broadcast(kind: OpPattern, is_sink: bool) -> bool:
    return kind <= OpPattern.BROADCAST


def _into_injective(kind: OpPattern, is_sink: bool) -> bool:
    if not is_sink:
        # Elementwise, broadcast and injective nodes on parallel branches may join.
        return kind <= OpPattern.INJECTIVE
    return kind <= OpPattern.INJECTIVE or kind in (
        OpPattern.COMM_REDUCE,
        OpPattern.OUT_ELEMWISE_FUSABLE,
    )


class GraphPartitioner:
    def __init__(self, opt_level: int, max_fuse_depth: int, max_function_args: int) -> None:
        self.opt_level = opt_level
        self.max_fuse_depth = max_fuse_depth
        self.max_function_args = max_function_args
        self.groups: list[Group] = []
        self._graph: IndexedForwardGraph | None = None
        self._postpone_node: int | None = None
        self._postponed: dict[int, list[int]] = {}

    def partition(self, graph: IndexedForwardGraph) -> list[Group]:
        """The group of each node (indexed like ``post_dfs_order``); call ``find_root``."""
        self._graph = graph
        self.groups = [
            Group(
                node.pattern,
                node.ref,
                node.ref if node.pattern == OpPattern.OUT_ELEMWISE_FUSABLE else None,
                args_num=_initial_args(node.ref),
            )
            for node in graph.post_dfs_order
        ]
        if self.opt_level == 0:
            return self.groups
        tree = DominatorTree.post_dom(graph)
        for phase in range(3):
            self._run_fuse(graph, tree, phase)
        return self.groups

    # --- path walks ------------------------------------------------------------------

    def _nodes(self) -> tuple[Node, ...]:
        assert self._graph is not None
        return self._graph.post_dfs_order

    def _check_path(self, src: int, sink: int, fcond: PathCondition) -> bool:
        """Whether every node reachable from ``src`` up to ``sink`` satisfies ``fcond``."""
        nodes = self._nodes()
        outputs = nodes[src].outputs
        if all(e.node == sink for e in outputs):  # fast path: src feeds only the sink
            return fcond(self.groups[sink].find_root().pattern, True)
        visited: set[int] = set()
        stack = [e.node for e in reversed(outputs)]
        while stack:
            index = stack.pop()
            if index in visited:
                continue
            visited.add(index)
            if not fcond(self.groups[index].find_root().pattern, index == sink):
                return False
            if index != sink:
                stack.extend(e.node for e in reversed(nodes[index].outputs))
        return True

    def _merge_from_to(self, child: Group, parent: Group) -> None:
        child = child.find_root()
        parent = parent.find_root()
        if child is parent:
            return
        parent.num_nodes += child.num_nodes
        parent.args_num += child.args_num
        child.parent = parent
        if child.anchor_ref is not None:
            if parent.anchor_ref is not None:
                raise InternalError("FuseOps: a fused group would get two anchors")
            parent.anchor_ref = child.anchor_ref
            parent.pattern = _combine(child.pattern, parent.pattern)

    def _commit_fuse(self, src: int, sink: int) -> None:
        """Merge every node on the paths from ``src`` to ``sink`` into ``sink``'s group."""
        if self._postpone_node is not None:
            # Newest first, as the entries of a std::unordered_multimap key are iterated.
            self._postponed.setdefault(self._postpone_node, []).insert(0, src)
            return
        nodes = self._nodes()
        target = self.groups[sink]
        if all(e.node == sink for e in nodes[src].outputs):  # fast path
            self._merge_from_to(self.groups[src], target)
            return
        visited: set[int] = set()
        stack = [src]
        while stack:
            index = stack.pop()
            if index == sink or index in visited:
                continue
            visited.add(index)
            self._merge_from_to(self.groups[index], target)
            stack.extend(e.node for e in reversed(nodes[index].outputs))

    def _count_fused_nodes_with_new_child(self, child: int, dom_parent: int) -> int:
        """TVM's count of the nodes the group would have, or any number above
        ``max_fuse_depth`` once the count passes it: the walk stops there, which keeps the work
        per node bounded however far away the post-dominator is."""
        nodes = self._nodes()
        total = self.groups[dom_parent].find_root().num_nodes
        if all(e.node == dom_parent for e in nodes[child].outputs):  # fast path
            return total + self.groups[child].num_nodes
        limit = self.max_fuse_depth
        visited: set[int] = set()
        stack = [child]
        while stack and total <= limit:
            index = stack.pop()
            if index == dom_parent or index in visited:
                continue
            visited.add(index)
            total += self.groups[index].num_nodes
            stack.extend(e.node for e in nodes[index].outputs)
        return total

    # --- argument counting (only for targets with max_function_args) -------------------

    def _args_frame(self, src: int, update_postpone: bool) -> tuple[int, list[int]]:
        """TVM's ``CountArgs_`` for one node: the sum it can give at once, and the input
        nodes whose count it must add (recursively) because their group has none yet."""
        assert self._graph is not None
        node_map = self._graph.node_map
        own = self.groups[src]
        total = own.args_num
        seen = {own.find_root()}
        deferred: list[int] = []
        for arg in _inputs(self._graph.post_dfs_order[src].ref):
            node = node_map.get(arg)
            if isinstance(arg, Var) or node is None:
                continue
            prev = self.groups[node.index].find_root()
            if prev in seen:
                continue
            seen.add(prev)
            if prev.args_num > 0:
                total += prev.args_num
            elif update_postpone:
                self._postpone_node = src
            else:
                deferred.append(node.index)
        return total, deferred

    def _count_args(self, src: int, update_postpone: bool = True) -> int:
        if update_postpone:
            return self._args_frame(src, True)[0]
        # The recursion of TVM's CountArgs_, unrolled; a node's count does not depend on who
        # asks, so each is computed once per call.
        memo: dict[int, int] = {}
        stack = [(src, False)]
        frames: dict[int, tuple[int, list[int]]] = {}
        while stack:
            index, ready = stack.pop()
            if index in memo:
                continue
            if not ready:
                frames[index] = frame = self._args_frame(index, False)
                stack.append((index, True))
                stack.extend((d, False) for d in frame[1] if d not in memo)
                continue
            base, deferred = frames[index]
            memo[index] = base + sum(memo[d] for d in deferred)
        return memo[src]

    def _count_args_limit(self, child: int) -> int:
        # Each consumer's output buffer is an argument too (static shapes add no more).
        output_args = len(self._nodes()[child].outputs)
        return max(self.max_function_args - output_args, 0)

    def _count_fused_args(self, child: int) -> int:
        return max(
            (self._count_args(e.node) for e in self._nodes()[child].outputs),
            default=0,
        )

    # --- the sweeps ----------------------------------------------------------------------

    def _run_postponed(self, index: int, tree: DominatorTree) -> None:
        for src in self._postponed.pop(index, ()):
            if self._count_args(index, False) <= self._count_args_limit(index):
                sink = tree.nodes[src].parent
                assert sink is not None
                if self.groups[sink].anchor_ref is not None:
                    continue
                self._commit_fuse(src, sink)

    def _too_big(self, index: int, dom_parent: int) -> bool:
        if self._count_fused_nodes_with_new_child(index, dom_parent) > self.max_fuse_depth:
            return True
        if self.max_function_args > 0:
            limit = self._count_args_limit(index)
            if limit > 0 and self._count_fused_args(index) > limit:
                return True
        return False

    def _run_fuse(self, graph: IndexedForwardGraph, tree: DominatorTree, phase: int) -> None:
        """One sweep. TVM checks the size limits before the phase's own conditions; the
        checks are independent (the counts change nothing a condition reads, and the
        postponement an argument count may set only matters to a merge), so the cheap
        conditions that refuse a merge outright run first, and most nodes of a program that
        is already fused never pay for a count."""
        groups = self.groups
        for index in range(len(graph.post_dfs_order)):
            self._postpone_node = None
            if index in self._postponed:
                self._run_postponed(index, tree)
            group = groups[index]
            dom = tree.nodes[index]
            dom_parent = dom.parent
            if group.pattern == OpPattern.OPAQUE or dom_parent is None:
                continue
            parent_group = groups[dom_parent]
            fcond: PathCondition | None
            if phase == 2:
                fcond = _injective if _may_fuse_into_tuple(group, parent_group) else None
            elif group.find_root() is parent_group.find_root():
                continue  # already fused with its post-dominator
            elif parent_group.pattern == OpPattern.TUPLE:
                continue  # phases 0 and 1 do not fuse into a tuple
            else:
                fcond = _path_condition(group.pattern, dom.pattern, phase)
            if fcond is None or self._too_big(index, dom_parent):
                continue
            if self._check_path(index, dom_parent, fcond):
                self._commit_fuse(index, dom_parent)


def _may_fuse_into_tuple(group: Group, parent_group: Group) -> bool:
    """Phase 2's conditions before its path check: an injective node joins a tuple that has
    joined an injective consumer (a tuple that is the root of its group, an output tuple, is
    never fused into). The path check then keeps two intermediate tuples apart."""
    if group.pattern > OpPattern.INJECTIVE:
        return False
    root_group = parent_group.find_root()
    return (
        root_group.pattern != OpPattern.TUPLE
        and parent_group.pattern == OpPattern.TUPLE
        and root_group.pattern <= OpPattern.INJECTIVE
    )


def _path_condition(pattern: OpPattern, dom_pattern: OpPattern, phase: int) -> PathCondition | None:
    """Which paths a node of ``pattern`` may fuse along in phase 0 or 1 (None: it may not)."""
    if pattern == OpPattern.OUT_ELEMWISE_FUSABLE:
        # An anchor joins an elementwise post-dominator over broadcast-at-most nodes.
        ok = phase == 0 and dom_pattern == OpPattern.ELEMWISE
        return _broadcast if ok else None
    if pattern <= OpPattern.BROADCAST:
        ok = dom_pattern <= OpPattern.INJECTIVE or dom_pattern == OpPattern.COMM_REDUCE
        return _into_injective if ok else None
    if pattern in (OpPattern.INJECTIVE, OpPattern.TUPLE) and phase == 1:
        # Deferred to phase 1 so that anchored groups are complete first.
        return _injective
    return None
