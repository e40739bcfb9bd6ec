"""Rewriting with dataflow patterns (TVM's ``DFPatternCallback`` / ``RewritePatterns``,
``src/relay/ir/dataflow_matcher.cc``).

``rewrite(callbacks, expr)`` runs in rounds. In a round each callback, in order, makes one
sweep over the whole program, which has two steps as in TVM:

1. *Grouping.* Nodes are tried from the root towards the leaves (reverse post-order). A match
   becomes a group unless it overlaps a group made earlier in the sweep, or one of its interior
   nodes (a matched node that is neither the root nor an input of the pattern) is also used
   outside the match: rewriting would then duplicate that node's work instead of removing it.
   Inputs are what the pattern's leaves matched (wildcards, constants, operators).
2. *Rewriting,* bottom-up: at a group's root the callback gets ``pre`` (the node as it was),
   ``post`` (the node rebuilt over the already-rewritten children) and ``node_map`` (what each
   pattern node matched, rewritten). It returns the replacement, or ``post`` to leave it.

Rounds repeat until one changes nothing, or, as in TVM, until a round ends with at least
``MAX_SWEEPS`` (100) callback sweeps made. With SimplifyExpr's 21 rules that is five rounds:
enough for every program but long cascades, such as a chain of more than 32 additions of
constants, which each round halves; such a result is not yet a fixed point.

The input must be type-checked; what callbacks build is typed locally (``local_types``) and
must have the type of what it replaces. Each sweep costs the number of candidate nodes (those
calling an operator the pattern's root can call) when nothing matches, and the size of the
program when something is rewritten; every walk is an explicit stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from typing_extensions import override

from minitvm.error import InternalError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.relay.dataflow_pattern import DFPatternMatcher, Pattern, is_leaf, root_op_names
from minitvm.relay.expr import Call, Constant, Expr
from minitvm.relay.expr_functor import children, iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.transform.local_types import rebuild_typed, typed

__all__ = ["MAX_SWEEPS", "DFPatternCallback", "NodeMap", "rewrite"]

MAX_SWEEPS = 100
"""TVM's bound: no new round starts once this many callback sweeps have run."""

NodeMap = Mapping[Pattern, Expr]
"""For each pattern node that matched, what it matched (rewritten, in a callback)."""


class DFPatternCallback:
    """A rewrite rule: ``pattern`` and ``callback(pre, post, node_map)``."""

    pattern: Pattern

    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        raise NotImplementedError

    def may_fire(self, pre: Call) -> bool:
        """A cheap necessary condition for the callback to rewrite ``pre``, checked before
        matching. Skipping a match must not change which other matches become groups: it
        holds when the nodes a match covers, besides its root, can never be the root of a
        match of the same rule (or when the condition is one for matching at all)."""
        return True


class _Graph:
    """One version of the program: its nodes in post-order and how many users each has."""

    __slots__ = ("by_op", "calls", "index", "root", "users")

    def __init__(self, root: Expr) -> None:
        self.root = root
        self.index: dict[Expr, int] = {}
        self.users: dict[Expr, int] = {}
        self.calls: list[Call] = []
        self.by_op: dict[str, list[Call]] = {}
        users = self.users
        for i, node in enumerate(iter_post_order(root)):
            self.index[node] = i
            kids: Iterable[Expr] = children(node)
            if isinstance(node, Call):
                self.calls.append(node)
                if isinstance(node.op, Op):
                    self.by_op.setdefault(node.op.name, []).append(node)
                if len(node.args) > 1:
                    kids = dict.fromkeys(kids)
            elif not isinstance(node, Function):
                kids = dict.fromkeys(kids)
            for c in kids:
                users[c] = users.get(c, 0) + 1

    def candidates(self, pattern: Pattern) -> list[Call]:
        """The calls a match of ``pattern`` could be rooted at, in post-order."""
        names = root_op_names(pattern)
        if names is None:
            return self.calls
        lists = [self.by_op.get(n, []) for n in names]
        if len(lists) == 1:
            return lists[0]
        return sorted((c for lst in lists for c in lst), key=self.index.__getitem__)


def _interior(root: Expr, inputs: set[Expr]) -> list[Expr]:
    """The nodes a match covers, root first: everything below it down to the inputs."""
    seen: dict[Expr, None] = {root: None}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in children(node):
            if child not in inputs and child not in seen:
                seen[child] = None
                stack.append(child)
    return list(seen)


def _is_exempt(node: Expr) -> bool:
    """Operators, globals, functions and constants may be shared with other groups."""
    return isinstance(node, Op | GlobalVar | Function | Constant)


def _group_ok(graph: _Graph, nodes: list[Expr], assigned: set[Expr]) -> bool:
    """TVM's checks: no overlap with an earlier group; interior nodes used only inside."""
    members = set(nodes)
    inside: dict[Expr, int] = {}
    for node in nodes:
        for child in dict.fromkeys(children(node)):
            if child in members:
                inside[child] = inside.get(child, 0) + 1
    root = nodes[0]
    for node in nodes:
        if _is_exempt(node):
            continue
        if node in assigned:
            return False
        if node is not root and inside.get(node, 0) != graph.users.get(node, 0):
            return False
    return True


class _Match:
    """What matching one callback's pattern at one node found (cached: nodes never change)."""

    __slots__ = ("declined", "node_map", "nodes")

    def __init__(self, node_map: dict[Pattern, Expr], nodes: list[Expr]) -> None:
        self.node_map = node_map
        self.nodes = nodes
        self.declined = False
        """The callback left the node as it was (with nothing below it rewritten)."""


class _Cache:
    """Match results per node for one callback, kept across sweeps and rounds: a node's
    sub-expression never changes, so neither does whether and how the pattern matches."""

    def __init__(self) -> None:
        self.matches: dict[Expr, _Match | None] = {}


def _find_groups(
    callback: DFPatternCallback, graph: _Graph, matcher: DFPatternMatcher, cache: _Cache
) -> list[tuple[Expr, _Match]]:
    pattern = callback.pattern
    groups: list[tuple[Expr, _Match]] = []
    assigned: set[Expr] = set()
    matches = cache.matches
    for node in reversed(graph.candidates(pattern)):
        if node in assigned:
            continue
        found = matches.get(node, _MISSING)
        if found is _MISSING:
            found = None
            if callback.may_fire(node) and matcher.match(pattern, node):
                node_map = matcher.memo
                inputs = {e for p, e in node_map.items() if is_leaf(p)}
                found = _Match(node_map, _interior(node, inputs))
            matches[node] = found
        if not isinstance(found, _Match) or not _group_ok(graph, found.nodes, assigned):
            continue
        assigned.update(found.nodes)
        groups.append((node, found))
    return groups


_MISSING = object()


class _Rewriter:
    """Apply one callback at its groups, rebuilding only what lies above a change."""

    def __init__(self, callback: DFPatternCallback) -> None:
        self.callback = callback
        self.memo: dict[Expr, Expr] = {}
        self.changed = False

    def post(self, node: Expr) -> Expr:
        """``node`` rebuilt over rewritten children (the node itself before any change)."""
        if not self.changed:
            return node
        memo = self.memo
        if node in memo:
            return memo[node]
        stack: list[tuple[Expr, bool]] = [(node, False)]
        while stack:
            current, ready = stack.pop()
            if current in memo:
                continue
            if ready:
                memo[current] = rebuild_typed(current, memo.__getitem__)
                continue
            stack.append((current, True))
            stack.extend((c, False) for c in children(current) if c not in memo)
        return memo[node]

    def apply(self, pre: Expr, found: _Match) -> None:
        post = self.post(pre)
        if found.declined and post is pre:
            return
        out = typed(self.callback.callback(pre, post, _PostMap(found.node_map, self.post)))
        if out is post:
            if post is pre:
                found.declined = True
            else:
                self.memo[pre] = post
            return
        if out.checked_type_ != pre.checked_type_:
            raise InternalError(
                f"rewrite {type(self.callback).__name__} changed a node's type from "
                f"{pre.checked_type_} to {out.checked_type_}"
            )
        self.changed = True
        self.memo[pre] = out


class _PostMap(Mapping[Pattern, Expr]):
    """A node map whose values are rewritten when read (callbacks read few of them)."""

    __slots__ = ("_map", "_post")

    def __init__(self, node_map: dict[Pattern, Expr], post: Callable[[Expr], Expr]) -> None:
        self._map = node_map
        self._post = post

    @override
    def __getitem__(self, pattern: Pattern) -> Expr:
        return self._post(self._map[pattern])

    @override
    def __contains__(self, pattern: object) -> bool:
        return pattern in self._map

    @override
    def __iter__(self) -> Iterator[Pattern]:
        return iter(self._map)

    @override
    def __len__(self) -> int:
        return len(self._map)


def _sweep(
    callback: DFPatternCallback, graph: _Graph, matcher: DFPatternMatcher, cache: _Cache
) -> Expr:
    groups = _find_groups(callback, graph, matcher, cache)
    if not groups:
        return graph.root
    rewriter = _Rewriter(callback)
    groups.sort(key=lambda g: graph.index[g[0]])
    for root, found in groups:
        rewriter.apply(root, found)
    return rewriter.post(graph.root)


def rewrite(callbacks: Sequence[DFPatternCallback], expr: Expr) -> Expr:
    """Apply ``callbacks`` to the type-checked ``expr`` in rounds, as TVM does: until a round
    changes nothing, or ``MAX_SWEEPS`` callback sweeps have run."""
    graph = _Graph(expr)
    matcher = DFPatternMatcher()
    caches = [_Cache() for _ in callbacks]
    sweeps = 0
    while True:
        changed = False
        for callback, cache in zip(callbacks, caches, strict=True):
            root = _sweep(callback, graph, matcher, cache)
            sweeps += 1
            if root is not graph.root:
                graph = _Graph(root)
                changed = True
        if not changed or sweeps >= MAX_SWEEPS:
            return graph.root
