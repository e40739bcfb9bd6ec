"""FUSE: the analyses behind FuseOps, each used alone."""

from __future__ import annotations

import pytest

from minitvm import relay
from minitvm.ir.op import OpPattern
from minitvm.relay.analysis import (
    DominatorTree,
    GraphPartitioner,
    IndexedForwardGraph,
    create_indexed_forward_graph,
)
from minitvm.relay.expr import Expr
from minitvm.relay.testing import run_infer_type

E, B, INJ, RED, OUT, TUP, OPQ = (
    OpPattern.ELEMWISE,
    OpPattern.BROADCAST,
    OpPattern.INJECTIVE,
    OpPattern.COMM_REDUCE,
    OpPattern.OUT_ELEMWISE_FUSABLE,
    OpPattern.TUPLE,
    OpPattern.OPAQUE,
)


def graph_of(func: Expr) -> tuple[relay.Function, IndexedForwardGraph]:
    typed = run_infer_type(func)
    assert isinstance(typed, relay.Function)
    return typed, create_indexed_forward_graph(typed)


def diamond() -> relay.Function:
    x = relay.var("x", shape=(2, 3))
    y = relay.exp(x)
    return relay.Function([x], relay.add(relay.sqrt(y), relay.sum(y, axis=[1], keepdims=True)))


@pytest.mark.spec("FUSE-18")
def test_graph_nodes_in_post_dfs_order() -> None:
    func, g = graph_of(diamond())
    body = func.body
    assert isinstance(body, relay.Call)
    sqrt, total = body.args
    assert isinstance(sqrt, relay.Call)
    assert isinstance(total, relay.Call)
    y = sqrt.args[0]
    x = func.params[0]
    assert [n.ref for n in g.post_dfs_order] == [x, y, sqrt, total, body]
    assert all(n.index == i for i, n in enumerate(g.post_dfs_order))
    assert g.node_map[body].index == 4
    # Parameters and the body are boundaries; the rest are dataflow.
    assert [n.extern_ref for n in g.post_dfs_order] == [True, False, False, False, True]
    assert [n.pattern for n in g.post_dfs_order] == [OPQ, E, E, RED, B]
    # Consumers in the order the walk reached them; the add's edges: (2,3)->(2,3) is
    # elementwise, (2,1)->(2,3) stays broadcast.
    assert [(e.node, e.pattern) for e in g.node_map[y].outputs] == [(2, E), (3, RED)]
    assert [(e.node, e.pattern) for e in g.node_map[sqrt].outputs] == [(4, E)]
    assert [(e.node, e.pattern) for e in g.node_map[total].outputs] == [(4, B)]
    assert "node[4] Call BROADCAST extern outputs=[]" in g.debug_dump()


@pytest.mark.spec("FUSE-18")
def test_graph_boundaries_and_leaves() -> None:
    x = relay.var("x", shape=(3,))
    v = relay.var("v")
    t = relay.Tuple(
        (relay.multiply(x, relay.const(2.0)), relay.add(x, relay.const([1.0, 2.0, 3.0])))
    )
    body = relay.Let(v, t, relay.TupleGetItem(v, 0))
    func, g = graph_of(relay.Function([x], body))
    assert isinstance(func.body, relay.Let)
    tup = func.body.value
    assert isinstance(tup, relay.Tuple)
    mul, add = tup.fields
    assert isinstance(mul, relay.Call)
    assert isinstance(add, relay.Call)
    c, big = mul.args[1], add.args[1]
    assert g.node_map[c].pattern == E  # a simple scalar constant
    assert g.node_map[big].pattern == OPQ  # a tensor constant
    assert g.node_map[tup].pattern == TUP
    assert g.node_map[tup].extern_ref  # a let's value
    assert [e.pattern for e in g.node_map[tup.fields[0]].outputs] == [INJ]
    let_var = func.body.var
    item = func.body.body
    assert g.node_map[let_var].extern_ref
    assert [e.node for e in g.node_map[let_var].outputs] == [g.node_map[item].index]
    assert g.node_map[item].pattern == INJ
    assert g.node_map[item].extern_ref
    # Operators and functions are not values of the graph.
    assert all(not isinstance(n.ref, relay.Function) for n in g.post_dfs_order)


@pytest.mark.spec("FUSE-18")
def test_post_dominator_tree() -> None:
    _, g = graph_of(diamond())
    tree = DominatorTree.post_dom(g)
    parents = [n.parent for n in tree.nodes]
    # x is a parameter (no parent); exp's post-dominator is the add, through a reduction.
    assert parents == [None, 4, 4, 4, None]
    assert [n.depth for n in tree.nodes] == [1, 2, 2, 2, 1]
    assert tree.nodes[1].pattern == RED  # combined over both branches
    assert tree.nodes[2].pattern == E
    assert tree.nodes[3].pattern == B


@pytest.mark.spec("FUSE-18")
def test_post_dominator_of_a_chain_and_a_boundary() -> None:
    x = relay.var("x", shape=(3,))
    a = relay.exp(x)
    b = relay.negative(a)
    v = relay.var("v")
    func, g = graph_of(relay.Function([x], relay.Let(v, relay.sqrt(b), relay.add(a, v))))
    tree = DominatorTree.post_dom(g)
    assert isinstance(func.body, relay.Let)
    value = func.body.value
    assert isinstance(value, relay.Call)
    assert isinstance(value.args[0], relay.Call)
    typed_b = value.args[0]
    ia, ib = g.node_map[typed_b.args[0]].index, g.node_map[typed_b].index
    # a is used by negative and (across the let) by the add: its post-dominator is outside
    # the dataflow of the value, so none.
    assert tree.nodes[ia].parent is None
    assert tree.nodes[ib].parent == g.node_map[value].index
    assert tree.nodes[g.node_map[value].index].parent is None  # a let value is a boundary


@pytest.mark.spec("FUSE-18")
def test_partitioner_groups() -> None:
    _, g = graph_of(diamond())
    groups = GraphPartitioner(2, 256, 0).partition(g)
    roots = [grp.find_root() for grp in groups]
    # sqrt joins the add. exp does not: the reduction on one of its paths is not an
    # intermediate node a broadcast may fuse through; the reduction stays alone.
    assert roots[2] is roots[4]
    assert len({id(r) for r in roots}) == 4
    assert roots[4].root_ref is g.post_dfs_order[4].ref
    assert roots[4].num_nodes == 2
    assert roots[4].anchor_ref is None
    # Level 0: singletons.
    singles = GraphPartitioner(0, 256, 0).partition(g)
    assert len({id(grp.find_root()) for grp in singles}) == len(g.post_dfs_order)


@pytest.mark.spec("FUSE-18")
def test_partitioner_anchor_and_depth() -> None:
    x = relay.var("x", shape=(4, 8))
    w = relay.var("w", shape=(8, 8))
    d = relay.nn.dense(x, w)
    func, g = graph_of(relay.Function([x, w], relay.exp(relay.negative(d))))
    groups = GraphPartitioner(2, 256, 0).partition(g)
    body = func.body
    assert isinstance(body, relay.Call)
    root = groups[g.node_map[body].index].find_root()
    assert root is groups[g.node_map[body.args[0]].index].find_root()
    assert root.anchor_ref is not None
    assert root.pattern == OUT
    assert root.num_nodes == 3
    # With a depth of 2 the anchor cannot bring the whole chain.
    groups = GraphPartitioner(2, 2, 0).partition(g)
    sizes = sorted({id(r): r.num_nodes for r in (grp.find_root() for grp in groups)}.values())
    assert sizes == [1, 1, 1, 2]
