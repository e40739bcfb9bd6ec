"""GRAPH: graph executor codegen, memory planning, the runtime's profile."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.contrib import graph_executor
from minitvm.error import DiagnosticError
from minitvm.ir.op import Op
from minitvm.ir.type import FuncType, TensorType
from minitvm.relay.backend.compile_engine import CompiledFunc
from minitvm.relay.backend.graph_codegen import NOP, GraphNode, graph_codegen
from minitvm.relay.backend.graph_runtime import BenchmarkResult
from minitvm.relay.backend.memory_plan import nbytes, plan_memory
from minitvm.relay.backend.profiler import KernelProfile, Report
from minitvm.relay.testing import run_opt_pass
from minitvm.tir import IntImm

F32 = "float32"


def graph_of(lib: object) -> dict[str, object]:
    graph: dict[str, object] = json.loads(lib.get_graph_json())  # type: ignore[attr-defined]  # a factory
    return graph


@pytest.mark.spec("GRAPH-1")
def test_codegen_nodes_params_tuples_and_nops() -> None:
    x = relay.var("x", shape=(2, 3))
    y = relay.exp(relay.add(x, relay.const(np.ones((2, 3), F32))))
    out = relay.Tuple([relay.reshape(y, (3, 2)), relay.Tuple([relay.sum(y), x])])
    lib = relay.build(tvm.IRModule.from_expr(relay.Function([x], out)), "llvm")
    graph = graph_of(lib)
    nodes = graph["nodes"]
    assert isinstance(nodes, list)
    assert [n["name"] for n in nodes if n["op"] == "null"] == ["x", "p0"]
    funcs = [n["attrs"]["func_name"] for n in nodes if n["op"] == "tvm_op"]
    assert NOP in funcs
    assert len(graph["heads"]) == 3  # type: ignore[arg-type]  # JSON list
    row_ptr = graph["node_row_ptr"]
    storage = graph["attrs"]["storage_id"][1]  # type: ignore[index]  # JSON
    for index, node in enumerate(nodes):
        if node.get("attrs", {}).get("func_name") == NOP:
            src = node["inputs"][0]
            assert storage[row_ptr[index]] == storage[row_ptr[src[0]] + src[1]]  # type: ignore[index]  # JSON
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    data = np.linspace(-1, 1, 6, dtype=F32).reshape(2, 3)
    m.run(x=data)
    expect = np.exp(data + 1)
    np.testing.assert_allclose(m.get_output(0).numpy(), expect.reshape(3, 2), rtol=1e-6)
    np.testing.assert_allclose(m.get_output(1).numpy(), expect.sum(), rtol=1e-6)
    np.testing.assert_array_equal(m.get_output(2).numpy(), data)


@pytest.mark.spec("GRAPH-1")
def test_codegen_rejects_control_flow_and_closures() -> None:
    x = relay.var("x", shape=(2,))
    f = relay.var("f")
    inner = relay.Function([x], relay.exp(x))
    body = relay.Let(f, inner, relay.Call(f, [relay.Call(f, [x])]))
    mod = tvm.IRModule.from_expr(relay.Function([x], body))
    ex = relay.create_executor("graph", mod=mod)
    with pytest.raises(DiagnosticError, match="graph executor cannot run"):
        ex.evaluate()(np.ones(2, F32))
    np.testing.assert_allclose(
        relay.create_executor("vm", mod=mod).evaluate()(np.ones(2, F32)).numpy(),
        np.exp(np.exp(np.ones(2))),
        rtol=1e-6,
    )


def _chain(n: int) -> tvm.IRModule:
    x = relay.var("x", shape=(64,))
    y: relay.Expr = x
    for k in range(n):
        y = relay.annotation.stop_fusion(relay.add(y, relay.const(float(k + 1))))
    return tvm.IRModule.from_expr(relay.Function([x], y))


@pytest.mark.spec("GRAPH-2")
def test_memory_plan_reuses_dead_buffers() -> None:
    lib = relay.build(_chain(6), "llvm")
    plan = lib.memory_plan
    ops = [n for n in lib.program.nodes if n.op == "tvm_op"]
    assert len(ops) == 6
    # An input, then intermediates alternating between two storages, then the head.
    assert len(plan.sizes) == 4
    assert plan.total_bytes == 4 * 64 * 4
    for index, node in enumerate(lib.program.nodes):
        outs = set(plan.storage_ids[index])
        ins = {plan.storage_ids[i][k] for i, k in node.inputs}
        assert not outs & ins or node.func_name == NOP
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.run(x=np.zeros(64, F32))
    np.testing.assert_array_equal(m.get_output(0).numpy(), np.full(64, 21.0, F32))


@pytest.mark.spec("GRAPH-2")
def test_memory_plan_best_fit_and_growth() -> None:
    def ty(n: int) -> TensorType:
        return TensorType((n,), F32)

    nodes = [
        GraphNode("null", "x", (), (ty(10),)),
        GraphNode("tvm_op", "a", ((0, 0),), (ty(100),), "f"),
        GraphNode("tvm_op", "b", ((1, 0),), (ty(50),), "f"),
        GraphNode("tvm_op", "c", ((2, 0),), (ty(40),), "f"),
        GraphNode("tvm_op", "d", ((3, 0),), (ty(200),), "f"),
        GraphNode("tvm_op", "e", ((4, 0),), (ty(10),), "f"),
    ]
    plan = plan_memory(nodes, [(5, 0)])
    ids = [ids[0] for ids in plan.storage_ids]
    assert ids[0] not in ids[1:]  # inputs keep their storage
    assert ids[3] == ids[1]  # c takes a's freed storage (the only free one that fits)
    assert ids[4] == ids[2]  # d grows the largest free storage
    assert plan.sizes[ids[4]] == nbytes(ty(200))
    assert ids[5] not in ids[:5]  # the head gets a storage of its own


@pytest.mark.spec("GRAPH-3")
def test_profile_and_benchmark() -> None:
    x = relay.var("x", shape=(32, 16))
    w = relay.var("w", shape=(8, 16))
    y = relay.nn.softmax(relay.nn.relu(relay.nn.dense(x, w)))
    rng = np.random.default_rng(3)
    params = {"w": rng.standard_normal((8, 16)).astype(F32)}
    lib = relay.build(tvm.IRModule.from_expr(relay.Function([x, w], y)), "llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    m.set_input("x", rng.standard_normal((32, 16)).astype(F32))
    report = m.profile(number=3)
    assert isinstance(report, Report)
    names = {r.name for r in report.rows}
    assert names == {"fused_nn_dense_nn_relu", "fused_nn_softmax"}
    dense = next(r for r in report.rows if r.name == "fused_nn_dense_nn_relu")
    assert isinstance(dense, KernelProfile)
    assert dense.calls == 3
    assert dense.flops == 3 * (2 * 32 * 8 * 16 + 32 * 8)
    assert dense.bytes == 3 * 4 * (32 * 16 + 8 * 16 + 32 * 8)
    assert dense.seconds > 0
    assert dense.gflops == pytest.approx(dense.flops / dense.seconds / 1e9)
    assert dense.gbps == pytest.approx(dense.bytes / dense.seconds / 1e9)
    table = report.table()
    for column in ("kernel", "calls", "time ms", "MB", "MFLOP", "GB/s", "GFLOP/s"):
        assert column in table
    assert "fused_nn_softmax" in str(report)
    result = m.benchmark(repeat=3, number=2)
    assert isinstance(result, BenchmarkResult)
    assert len(result.results) == 3
    assert result.min <= result.median <= result.max


@pytest.mark.spec("GRAPH-4")
def test_deep_graphs_plan_without_recursion() -> None:
    x = relay.var("x", shape=(4,))
    p = relay.var("p0", shape=(4,))
    ty = TensorType((4,), F32)
    prim = relay.Function([p], relay.Call(Op.get("exp"), [p], checked_type_=ty), ty).with_attr(
        "Primitive", IntImm("int32", 1)
    )
    prim = relay.Function(
        prim.params, prim.body, ty, attrs=prim.attrs, checked_type_=FuncType([ty], ty)
    )
    body: relay.Expr = x
    for _ in range(100_000):
        body = relay.Call(prim, [body], checked_type_=ty)
    main = relay.Function([x], body, ty, checked_type_=FuncType([ty], ty))
    stub = CompiledFunc("fused_exp", prim, backend="interpreter", reason="not compiled here")
    program = graph_codegen(main, lambda f: stub)
    assert len(program.nodes) == 100_001
    assert list(program.functions) == ["fused_exp"]
    plan = plan_memory(program.nodes, program.heads)
    assert len(plan.sizes) == 4


@pytest.mark.spec("GRAPH-1")
def test_unfused_operator_calls_are_compiled_alone() -> None:
    x = relay.var("x", shape=(3,))
    call = run_opt_pass(relay.Function([x], relay.negative(x)), [])
    assert isinstance(call, relay.Function)
    program = graph_codegen(call, lambda f: CompiledFunc("fused_negative", f, backend="numba"))
    assert [n.func_name for n in program.nodes if n.op == "tvm_op"] == ["fused_negative"]


@pytest.mark.spec("GRAPH-5")
def test_calls_are_prepared_once_and_share_one_scratch() -> None:
    x = relay.var("x", shape=(1, 3, 8, 8))
    w1 = relay.var("w1", shape=(4, 3, 3, 3))
    w2 = relay.var("w2", shape=(2, 4, 3, 3))
    y = relay.nn.relu(relay.nn.conv2d(x, w1, padding=1))
    y = relay.nn.conv2d(y, w2, strides=2, padding=1)
    rng = np.random.default_rng(5)
    params = {
        "w1": rng.standard_normal((4, 3, 3, 3)).astype(F32),
        "w2": rng.standard_normal((2, 4, 3, 3)).astype(F32),
    }
    mod = tvm.IRModule.from_expr(relay.Function([x, w1, w2], y))
    lib = relay.build(mod, "llvm", params=params)
    runtime = lib["default"](tvm.cpu(0))
    needs = [c.fn.scratch_bytes for c in runtime.calls]
    assert len(needs) == 2
    assert min(needs) > 0
    assert runtime.scratch.nbytes == max(needs)
    assert runtime.scratch.ctypes.data % 64 == 0
    m = graph_executor.GraphModule(runtime)
    run = relay.create_executor("debug", mod=mod).evaluate()
    for seed in (0, 1):  # a second run computes from its own inputs, not stale scratch
        data = np.random.default_rng(seed).standard_normal((1, 3, 8, 8)).astype(F32)
        m.run(x=data)
        want = run(data, params["w1"], params["w2"]).numpy()
        np.testing.assert_allclose(m.get_output(0).numpy(), want, rtol=1e-4, atol=1e-5)
