"""FuseOps' partition against a brute-force rendering of TVM's rules, on small dataflow graphs.

The brute force shares no code with ``relay.analysis``: it extracts its own graph, computes
post-dominators from their definition (intersections of post-dominator sets, not LCA walks),
takes the pattern to a post-dominator as the maximum over every edge of every path to it,
checks path conditions and commits merges over explicitly enumerated regions, and keeps groups
as explicit sets. It reproduces TVM's sweep order and its bookkeeping (a node's own
group record for counts and patterns). ``max_function_args`` is not modelled (no target).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.test_fuse_properties import (
    FuseProgram,
    dataflow_programs,
    fuse,
    fused_functions,
)
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.type import TensorType, TupleType
from minitvm.relay.analysis import (
    DominatorTree,
    GraphPartitioner,
    create_indexed_forward_graph,
)
from minitvm.relay.expr import Call, Constant, Expr, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import post_order
from minitvm.relay.function import Function

E, B, INJ, RED, OUT, TUP, OPQ = (
    OpPattern.ELEMWISE,
    OpPattern.BROADCAST,
    OpPattern.INJECTIVE,
    OpPattern.COMM_REDUCE,
    OpPattern.OUT_ELEMWISE_FUSABLE,
    OpPattern.TUPLE,
    OpPattern.OPAQUE,
)


@dataclass
class BruteGraph:
    exprs: list[Expr] = field(default_factory=list)
    pattern: list[OpPattern] = field(default_factory=list)
    extern: set[int] = field(default_factory=set)
    edges: list[tuple[int, int, OpPattern]] = field(default_factory=list)

    def succ(self, n: int) -> list[int]:
        return [d for s, d, _ in self.edges if s == n]


def _inputs(e: Expr) -> list[Expr]:
    if isinstance(e, Call):
        return list(e.args)
    if isinstance(e, Tuple):
        return list(e.fields)
    if isinstance(e, TupleGetItem):
        return [e.tuple_value]
    return []


def _post_dfs(root: Expr) -> list[Expr]:
    """Children left to right before parents, each node once."""
    order: list[Expr] = []
    seen: set[Expr] = set()
    stack: list[tuple[Expr, int]] = [(root, 0)]
    while stack:
        e, i = stack.pop()
        kids = _inputs(e)
        if i < len(kids):
            stack.append((e, i + 1))
            if kids[i] not in seen:
                seen.add(kids[i])
                stack.append((kids[i], 0))
        else:
            order.append(e)
    return order


def extract(func: Function) -> BruteGraph:
    """The dataflow graph of a function whose body uses only calls of operators, tuples,
    projections, variables and constants."""
    g = BruteGraph()
    g.exprs = [*func.params, *(e for e in _post_dfs(func.body) if e not in func.params)]
    index = {e: i for i, e in enumerate(g.exprs)}
    g.extern = {index[p] for p in func.params} | {index[func.body]}
    for e in g.exprs:
        g.pattern.append(_node(g, index, e))
    return g


def _node(g: BruteGraph, index: dict[Expr, int], e: Expr) -> OpPattern:
    """The node's pattern; records its in-edges (or marks boundaries) on the way."""
    if isinstance(e, Constant):
        arr = e.data.numpy()
        simple = str(arr.dtype) in ("int32", "int64", "float32", "float64", "bool")
        return E if arr.ndim == 0 and simple else OPQ
    if isinstance(e, Call):
        assert isinstance(e.op, Op)
        pat = e.op.definition.pattern
        out = e.checked_type
        for a in e.args:
            at = a.checked_type
            ep = pat
            if pat == B and isinstance(out, TensorType) and isinstance(at, TensorType):
                ep = E if at.shape == out.shape else B
            g.edges.append((index[a], index[e], ep))
        return pat
    if isinstance(e, Tuple):
        for f in e.fields:
            if isinstance(f.checked_type, TensorType):
                g.edges.append((index[f], index[e], INJ))
            else:
                g.extern.add(index[f])
        return TUP
    if isinstance(e, TupleGetItem):
        tt = e.tuple_value.checked_type
        assert isinstance(tt, TupleType)
        if all(isinstance(t, TensorType) for t in tt.fields):
            g.edges.append((index[e.tuple_value], index[e], INJ))
            return INJ
        g.extern.add(index[e.tuple_value])
    return OPQ


def post_dominators(g: BruteGraph) -> list[set[int]]:
    """pdom(n) = {n} for boundaries, else {n} plus what post-dominates all consumers."""
    n = len(g.exprs)
    pdom: list[set[int]] = [set() for _ in range(n)]
    for v in reversed(range(n)):
        succ = g.succ(v)
        if v in g.extern or not succ:
            pdom[v] = {v}
            continue
        common = set(pdom[succ[0]])
        for s in succ[1:]:
            common &= pdom[s]
        pdom[v] = {v} | common
    return pdom


def immediate(pdom: list[set[int]], v: int) -> int | None:
    rest = pdom[v] - {v}
    for d in rest:
        if pdom[d] == rest:
            return d
    return None


def region(g: BruteGraph, src: int, sink: int) -> set[int]:
    """Every node on a path from ``src`` to ``sink``, ``src`` included, ``sink`` excluded."""
    seen = {src}
    todo = [src]
    while todo:
        v = todo.pop()
        for s in g.succ(v):
            if s != sink and s not in seen:
                seen.add(s)
                todo.append(s)
    return seen


def path_pattern(g: BruteGraph, src: int, sink: int) -> OpPattern:
    """The most general edge pattern over every path from ``src`` to ``sink``: the edges
    leaving the nodes of the region (every path from a region node reaches the sink, since the
    sink post-dominates it)."""
    nodes = region(g, src, sink)
    return max((p for s, _, p in g.edges if s in nodes), default=E)


@dataclass
class Record:
    """One node's group record, as TVM's union-find keeps it."""

    pattern: OpPattern
    num: int = 1
    anchor: bool = False


class BrutePartition:
    def __init__(self, g: BruteGraph, max_depth: int) -> None:
        self.g = g
        self.max_depth = max_depth
        n = len(g.exprs)
        self.records = [Record(g.pattern[v], anchor=g.pattern[v] == OUT) for v in range(n)]
        self.sets: dict[int, set[int]] = {v: {v} for v in range(n)}  # owner -> members
        pdom = post_dominators(g)
        self.ipdom = [immediate(pdom, v) for v in range(n)]
        self.dom_pattern = [
            path_pattern(g, v, d) if d is not None else OPQ for v, d in enumerate(self.ipdom)
        ]

    def owner(self, v: int) -> int:
        return next(o for o, members in self.sets.items() if v in members)

    def root_pattern(self, v: int) -> OpPattern:
        return self.records[self.owner(v)].pattern

    def check(self, src: int, sink: int, inner: OpPattern, sink_ok: frozenset[OpPattern]) -> bool:
        nodes = (region(self.g, src, sink) - {src}) | {sink}
        for v in nodes:
            pat = self.root_pattern(v)
            if v == sink and pat not in sink_ok:
                return False
            if v != sink and pat > inner:
                return False
        return True

    def commit(self, src: int, sink: int) -> None:
        target = self.owner(sink)
        for v in region(self.g, src, sink):
            o = self.owner(v)
            if o == target:
                continue
            child, parent = self.records[o], self.records[target]
            parent.num += child.num
            if child.anchor:
                assert not parent.anchor
                parent.anchor = True
                parent.pattern = max(parent.pattern, child.pattern)
            self.sets[target] |= self.sets.pop(o)

    def size_with(self, child: int, sink: int) -> int:
        own = sum(self.records[v].num for v in region(self.g, child, sink))
        return self.records[self.owner(sink)].num + own

    def run(self) -> dict[int, set[int]]:
        for phase in range(3):
            for v in range(len(self.g.exprs)):
                own = self.records[v].pattern
                sink = self.ipdom[v]
                if own == OPQ or sink is None or self.size_with(v, sink) > self.max_depth:
                    continue
                if phase == 2:
                    self.into_tuple(v, sink)
                else:
                    self.into_post_dominator(v, sink, phase)
        return self.sets

    def into_tuple(self, v: int, sink: int) -> None:
        root = self.root_pattern(sink)
        ok = self.records[v].pattern <= INJ and root != TUP and root <= INJ
        if ok and self.records[sink].pattern == TUP and self.check(v, sink, INJ, UPTO_INJ):
            self.commit(v, sink)

    def into_post_dominator(self, v: int, sink: int, phase: int) -> None:
        if self.owner(v) == self.owner(sink) or self.records[sink].pattern == TUP:
            return
        own = self.records[v].pattern
        dom = self.dom_pattern[v]
        if own == OUT:
            ok = phase == 0 and dom == E and self.check(v, sink, B, UPTO_BROADCAST)
        elif own <= B:
            ok = (dom <= INJ or dom == RED) and self.check(v, sink, INJ, UPTO_INJ | {RED, OUT})
        else:
            ok = own in (INJ, TUP) and phase == 1 and self.check(v, sink, INJ, UPTO_INJ)
        if ok:
            self.commit(v, sink)


UPTO_BROADCAST = frozenset({E, B})
UPTO_INJ = frozenset({E, B, INJ})


def _main(p: FuseProgram) -> Function:
    main = p.mod["main"]
    assert isinstance(main, Function)
    return main


def brute_force_groups(func: Function, max_depth: int) -> dict[frozenset[Expr], Expr]:
    """Each group's members and the expression at its root."""
    g = extract(func)
    sets = BrutePartition(g, max_depth).run()
    return {frozenset(g.exprs[m] for m in ms): g.exprs[o] for o, ms in sets.items()}


def partitioner_groups(func: Function, max_depth: int) -> dict[frozenset[Expr], Expr]:
    graph = create_indexed_forward_graph(func)
    groups = GraphPartitioner(2, max_depth, 0).partition(graph)
    members: dict[int, set[Expr]] = {}
    roots: dict[int, Expr] = {}
    for node, grp in zip(graph.post_dfs_order, groups, strict=True):
        root = grp.find_root()
        members.setdefault(id(root), set()).add(node.ref)
        roots[id(root)] = root.root_ref
    return {frozenset(ms): roots[k] for k, ms in members.items()}


@settings(max_examples=300)
@given(dataflow_programs(max_steps=10), st.sampled_from([1, 2, 3, 4, 6, 8, 11, 16, 256]))
def test_partition_matches_brute_force(p: FuseProgram, depth: int) -> None:
    func = _main(p)
    graph = create_indexed_forward_graph(func)
    assert [n.ref for n in graph.post_dfs_order] == extract(func).exprs
    assert partitioner_groups(func, depth) == brute_force_groups(func, depth)


def _makes_function(root: Expr, members: frozenset[Expr]) -> bool:
    """Whether the rewrite wraps a group: a call of an operator (stop_fusion excepted), or a
    projection whose tuple is in the group."""
    if isinstance(root, Call):
        return root.op is not Op.get("annotation.stop_fusion")
    return isinstance(root, TupleGetItem) and root.tuple_value in members


@given(dataflow_programs(max_steps=10), st.sampled_from([2, 3, 256]))
def test_fused_functions_follow_the_brute_force_groups(p: FuseProgram, depth: int) -> None:
    """One fused function per brute-force group that makes one, holding as many operator
    calls as the group has (stop_fusion dropped)."""
    func = _main(p)
    stop = Op.get("annotation.stop_fusion")
    want = sorted(
        sum(isinstance(m, Call) and m.op is not stop for m in members)
        for members, root in brute_force_groups(func, depth).items()
        if _makes_function(root, members)
    )
    out = fuse(p.mod, 2, depth)
    got = sorted(sum(isinstance(n, Call) for n in post_order(f.body)) for f in fused_functions(out))
    assert got == want
    assert all(isinstance(v, Var) for v in func.params)


@st.composite
def long_dags(draw: st.DrawFn) -> Function:
    """Up to 150 calls, each taking one or two earlier values, mostly recent ones and now and
    then one from far back: deep post-dominator trees with long edges."""
    x = relay.var("x", shape=(2, 3))
    one = relay.const(1.0)  # a scalar constant, shared
    values: list[Expr] = [x]
    for _ in range(draw(st.integers(10, 150))):
        recent = draw(st.integers(max(len(values) - 3, 0), len(values) - 1))
        far = draw(st.integers(-1, len(values) - 1))
        kind = draw(st.sampled_from(["unary", "binary", "binary", "reduce"]))
        if kind == "unary":
            values.append(relay.negative(values[recent]))
        elif kind == "binary":
            values.append(relay.add(values[recent], values[far] if far >= 0 else one))
        else:
            values.append(relay.sum(values[recent], axis=[-1], keepdims=True))
    used = {a for v in values if isinstance(v, Call) for a in v.args}
    outs = [v for v in values[1:] if v not in used] or [values[-1]]
    body = outs[0] if len(outs) == 1 else Tuple(outs)
    typed = relay.transform.InferType()(IRModule.from_expr(Function([x], body)))["main"]
    assert isinstance(typed, Function)
    return typed


@given(long_dags())
def test_post_dominator_tree_matches_definition(func: Function) -> None:
    g = extract(func)
    pdom = post_dominators(g)
    tree = DominatorTree.post_dom(create_indexed_forward_graph(func))
    for v, node in enumerate(tree.nodes):
        want = immediate(pdom, v)
        assert node.parent == want
        if want is not None:
            assert node.pattern == path_pattern(g, v, want)


@given(long_dags(), st.sampled_from([3, 8, 20, 256]))
def test_partition_of_long_dags_matches_brute_force(func: Function, depth: int) -> None:
    assert partitioner_groups(func, depth) == brute_force_groups(func, depth)
