"""BUILD: relay.build, the factory module, graph_executor.GraphModule, the compiled
executors of create_executor and the Backend protocol."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.contrib import graph_executor
from minitvm.error import DiagnosticError, TVMError
from minitvm.relay.backend import compile_engine
from minitvm.relay.backend.build import GraphExecutorFactoryModule, KernelLibrary
from minitvm.relay.backend.compile_engine import CompiledFunc
from minitvm.relay.backend.executors import GraphExecutor, VMExecutor
from minitvm.relay.backend.graph_runtime import GraphRuntime
from minitvm.runtime.container import ADT
from minitvm.target import Target
from minitvm.testing import (
    Backend,
    GraphBackend,
    InterpreterBackend,
    VMBackend,
    assert_results_match,
    load_backend,
    tolerance,
)
from minitvm.testing.backend import flatten_result

Array = npt.NDArray[Any]
F32 = "float32"


def small_net() -> tuple[tvm.IRModule, dict[str, Array]]:
    x = relay.var("x", shape=(2, 4))
    w = relay.var("w", shape=(3, 4))
    b = relay.var("b", shape=(3,))
    y = relay.nn.relu(relay.nn.bias_add(relay.nn.dense(x, w), b))
    out = relay.Tuple([relay.nn.softmax(y), relay.reshape(y, (3, 2))])
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((3, 4)).astype(F32), "b": rng.standard_normal(3).astype(F32)}
    return tvm.IRModule.from_expr(relay.Function([x, w, b], out)), params


def interpret(mod: tvm.IRModule, *args: object, **kwargs: object) -> list[Array]:
    result = relay.create_executor("debug", mod=mod).evaluate()(*args, **kwargs)
    return flatten_result(result)


@pytest.mark.spec("BUILD-1")
def test_build_returns_a_factory_module() -> None:
    mod, params = small_net()
    lib = relay.build(mod, "llvm", params=params)
    assert isinstance(lib, GraphExecutorFactoryModule)
    graph = json.loads(lib.get_graph_json())
    assert set(graph) == {"nodes", "arg_nodes", "heads", "attrs", "node_row_ptr"}
    names = [n["name"] for n in graph["nodes"]]
    assert names[0] == "x"
    assert sorted(lib.get_params()) == ["p0", "p1"]
    assert [graph["nodes"][i]["name"] for i in graph["arg_nodes"]] == ["x", "p0", "p1"]
    assert len(graph["heads"]) == 2
    ops = [n for n in graph["nodes"] if n["op"] == "tvm_op"]
    assert all(set(n["attrs"]) >= {"func_name", "num_inputs", "num_outputs"} for n in ops)
    entries = graph["node_row_ptr"][-1]
    for key in ("shape", "dltype", "storage_id"):
        assert len(graph["attrs"][key][1]) == entries
    kernels = lib.get_lib()
    assert isinstance(kernels, KernelLibrary)
    assert all(isinstance(f, CompiledFunc) for f in kernels.functions.values())
    assert "@njit" in lib.get_source()
    assert "fused_nn_dense_nn_bias_add_nn_relu" in kernels.functions
    module = lib["default"](tvm.cpu(0))
    assert isinstance(module, GraphRuntime)
    with pytest.raises(TVMError, match="export"):
        lib.export_library("net.so")
    m = graph_executor.GraphModule(module)
    data = np.arange(8, dtype=F32).reshape(2, 4) / 8
    m.set_input("x", data)
    m.run()
    want = interpret(mod, data, **params)
    for k in range(2):
        np.testing.assert_allclose(m.get_output(k).numpy(), want[k], rtol=1e-5)


@pytest.mark.spec("BUILD-1")
def test_build_arguments() -> None:
    mod, params = small_net()
    func = mod["main"]
    assert isinstance(func, relay.Function)
    with pytest.warns(DeprecationWarning, match="IRModule"):
        relay.build(func, "llvm", params=params)
    with pytest.raises(TVMError, match="graph executor"):
        relay.build(mod, "llvm", executor="aot")
    with pytest.raises(DiagnosticError, match="@main"):
        relay.build(tvm.IRModule(), "llvm")
    with Target("numba"):
        assert relay.build(mod, params=params).target.kind.name == "numba"
    assert relay.build(mod, params=params).target.kind.name == "llvm"
    assert relay.build_module.build(mod, Target("c"), params=params).target.kind.name == "c"


@pytest.mark.spec("BUILD-2")
def test_build_optimizes_under_the_pass_context() -> None:
    x = relay.var("x", shape=(3,))
    mod = tvm.IRModule.from_expr(relay.nn.relu(relay.exp(relay.add(x, relay.const(1.0)))))
    fused = relay.build(mod, "llvm")
    assert list(fused.get_lib().functions) == ["fused_add_exp_nn_relu"]
    with tvm.transform.PassContext(opt_level=0):
        apart = relay.build(mod, "llvm")
    assert sorted(apart.get_lib().functions) == ["fused_add", "fused_exp", "fused_nn_relu"]
    with tvm.transform.PassContext(disabled_pass=["FuseOps"]):
        plain = relay.build(mod, "llvm")
    assert sorted(plain.get_lib().functions) == ["fused_add", "fused_exp", "fused_nn_relu"]
    data = np.array([-2.0, 0.0, 1.0], F32)
    for lib in (fused, apart, plain):
        m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
        m.run(x=data)
        np.testing.assert_allclose(m.get_output(0).numpy(), np.exp(data + 1), rtol=1e-6)


@pytest.mark.spec("BUILD-3")
def test_graph_module_inputs_and_outputs() -> None:
    mod, params = small_net()
    lib = relay.build(mod, "llvm", params=params)
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    assert m.get_num_inputs() == 3
    assert m.get_num_outputs() == 2
    assert m.get_input_index("x") == 0
    data = np.ones((2, 4), F32)
    m.set_input(0, tvm.nd.array(data))
    np.testing.assert_array_equal(m.get_input("x").numpy(), data)
    m.run()
    first = m.get_output(0)
    kept = first.numpy()
    out = tvm.nd.array(np.zeros((2, 3), F32))
    assert m.get_output(0, out) is out
    np.testing.assert_array_equal(out.numpy(), kept)
    m.run(x=data * 2)
    assert not np.array_equal(first.numpy(), kept)  # a view of the output storage, as TVM's
    np.testing.assert_array_equal(out.numpy(), kept)
    with pytest.raises(DiagnosticError, match="no input named 'y'"):
        m.set_input("y", data)
    with pytest.raises(DiagnosticError, match=r"expects float32\[2, 4\]"):
        m.set_input("x", data.astype("float64"))
    with pytest.raises(DiagnosticError, match="expects"):
        m.set_input(x=np.ones((4, 2), F32))
    with pytest.raises(DiagnosticError, match="output 2"):
        m.get_output(2)
    again = graph_executor.create(lib.get_graph_json(), lib.get_lib(), tvm.cpu(0))
    again.set_input("x", data)
    for key, value in lib.get_params().items():
        again.set_input(key, value)
    again.run()
    np.testing.assert_allclose(
        again.get_output(0).numpy(), interpret(mod, data, **params)[0], rtol=1e-5
    )
    with pytest.raises(TVMError, match="GraphModule"):
        graph_executor.GraphModule(lib)


@pytest.mark.spec("BUILD-4", "INTERP-1")
@pytest.mark.parametrize("kind", ["debug", "graph", "vm"])
def test_executor_kinds_agree(kind: str) -> None:
    x = relay.var("x", shape=(2, 3))
    out = relay.Tuple([relay.multiply(x, x), relay.Tuple([relay.exp(x)])])
    mod = tvm.IRModule.from_expr(relay.Function([x], out))
    ex = relay.create_executor(kind, mod=mod, device=tvm.cpu(0), target="llvm")
    assert ex.kind == kind
    expected = {"debug": "Interpreter", "graph": "GraphExecutor", "vm": "VMExecutor"}[kind]
    assert type(ex).__name__ == expected
    data = np.arange(6, dtype=F32).reshape(2, 3)
    result = ex.evaluate()(data)
    assert isinstance(result, ADT)
    assert isinstance(result[1], ADT)
    square, exp = flatten_result(result)
    np.testing.assert_array_equal(square, data * data)
    np.testing.assert_allclose(exp, np.exp(data), rtol=1e-6)
    again = flatten_result(ex.evaluate()(x=data))
    assert again[0] is not square
    value = ex.evaluate(relay.add(relay.const(1.0), relay.const(2.0)))
    assert float(value.numpy()) == 3.0


@pytest.mark.spec("BUILD-4")
def test_vm_runs_control_flow_and_graph_rejects_it() -> None:
    mod = tvm.IRModule()
    n = relay.var("n", shape=(), dtype="int32")
    acc = relay.var("acc", shape=(2,))
    loop = relay.GlobalVar("loop")
    body = relay.If(
        relay.greater(n, relay.const(0)),
        loop(relay.subtract(n, relay.const(1)), relay.multiply(acc, relay.const(2.0))),
        acc,
    )
    mod[loop] = relay.Function([n, acc], body)
    m, a = relay.var("m", shape=(), dtype="int32"), relay.var("a", shape=(2,))
    mod["main"] = relay.Function([m, a], relay.exp(loop(m, a)))
    data = np.array([0.5, -1.0], F32)
    vm = relay.create_executor("vm", mod=mod)
    assert isinstance(vm, VMExecutor)
    np.testing.assert_allclose(vm.evaluate()(3, data).numpy(), np.exp(data * 8), rtol=1e-6)
    graph = relay.create_executor("graph", mod=mod)
    assert isinstance(graph, GraphExecutor)
    with pytest.raises(DiagnosticError, match="graph executor cannot run"):
        graph.evaluate()(3, data)
    cuda = relay.create_executor("graph", mod=mod, target="cuda")
    assert isinstance(cuda, GraphExecutor)


@pytest.mark.spec("BUILD-4")
def test_executor_params_are_bound() -> None:
    mod, params = small_net()
    data = np.linspace(-1, 1, 8, dtype=F32).reshape(2, 4)
    want = interpret(mod, data, **params)
    for kind in ("graph", "vm"):
        got = relay.create_executor(kind, mod=mod, params=params).evaluate()(data)
        assert_results_match([v.numpy() for v in got], want)


@pytest.mark.spec("BUILD-5")
def test_backend_protocol() -> None:
    mod, params = small_net()
    data = {"x": np.linspace(0, 1, 8, dtype=F32).reshape(2, 4)}
    oracle = InterpreterBackend()
    want = oracle.run(mod, data, params)
    for backend in (GraphBackend(), VMBackend(), load_backend("minitvm.testing:GraphBackend")):
        assert isinstance(backend, Backend)
        assert_results_match(backend.run(mod, data, params), want, backend.name)
    assert load_backend("minitvm.testing:VMBackend").name == "numba-vm"
    for bad in ("minitvm.testing", "no_such_module:x", "minitvm.testing:missing", "minitvm:ir"):
        with pytest.raises(DiagnosticError):
            load_backend(bad)
    assert tolerance("int32") == 0.0
    assert tolerance("float32") == 1e-4
    one = np.ones(3, F32)
    assert_results_match([one + 1e-6], [one])
    with pytest.raises(AssertionError):
        assert_results_match([np.ones(3, "int32") + 1], [np.ones(3, "int32")])
    with pytest.raises(AssertionError, match="outputs"):
        assert_results_match([one, one], [one])
    with pytest.raises(AssertionError, match="float64"):
        assert_results_match([one.astype("float64")], [one])


@pytest.mark.spec("BUILD-6")
def test_demo_compiles_runs_and_profiles_the_networks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from minitvm.cli import demo_cnn, demo_compiled

    mod, inputs = demo_cnn(np.random.default_rng(0))
    assert demo_compiled("small CNN", mod, inputs)
    out = capsys.readouterr().out
    assert "small CNN: compiled for the numba-CPU backend" in out
    assert "fused_nn_conv2d_add_nn_relu" in out
    assert "numba (kernel, extern, kernel)" in out
    assert "compiled results match the interpreter's" in out
    assert "GFLOP/s" in out
    assert "runs: 5" in out

    import minitvm.testing

    # With a tolerance nothing meets, the comparison fails and the demo says so.
    monkeypatch.setattr(minitvm.testing, "tolerance", lambda dtype: -1.0)
    assert not demo_compiled("small CNN", mod, inputs)
    assert "compiled results DIFFER FROM the interpreter's" in capsys.readouterr().out


class OffByOne:
    """A backend that gets every float result wrong (for the conformance runner's tests)."""

    name = "off-by-one"

    def run(
        self,
        mod: tvm.IRModule,
        inputs: Mapping[str, Array],
        params: Mapping[str, Array] | None = None,
    ) -> list[Array]:
        return [v + 1 for v in InterpreterBackend().run(mod, inputs, params)]


@pytest.mark.slow
@pytest.mark.spec("BUILD-7")
def test_conformance_runner_passes_fails_shrinks_and_replays(tmp_path: Path) -> None:
    from minitvm.testing.conformance import run_conformance

    out = io.StringIO()
    results = run_conformance(InterpreterBackend(), "ci", 3, tmp_path, out, ("programs",), (2, 8))
    assert [(r.name, r.total, r.failed) for r in results] == [("programs", 8, 0)]
    text = out.getvalue()
    assert "conformance of interpreter against the interpreter (ci, seed 3)" in text
    assert "suite" in text
    assert "pass" in text
    out = io.StringIO()
    failed = run_conformance(
        OffByOne(), "ci", 3, tmp_path, out, ("regressions", "programs"), (2, 8)
    )
    assert failed[-1].failed == 1
    saved = sorted(tmp_path.glob("*.rly"))
    assert len(saved) == 1
    assert saved[0].with_suffix(".npz").exists()
    assert "FAIL programs" in out.getvalue()
    replay = run_conformance(
        InterpreterBackend(), "ci", 3, tmp_path, io.StringIO(), ("regressions",)
    )
    assert [(r.name, r.passed, r.failed) for r in replay] == [("regressions", 1, 0)]
    replay = run_conformance(OffByOne(), "ci", 3, tmp_path, io.StringIO(), ("regressions",))
    assert replay[0].failed == 1


@pytest.mark.spec("BUILD-7")
def test_conformance_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from minitvm.cli import main

    (tmp_path / "zero.rly").write_text(
        tvm.IRModule.from_expr(
            relay.Function([relay.var("x", shape=(2,))], relay.const(0.0))
        ).astext()
    )
    np.savez(tmp_path / "zero.npz", x=np.zeros(2, F32))
    common = ["conformance", "--regressions", str(tmp_path), "--suites", "regressions"]
    assert main([*common, "--backend", "minitvm.testing:InterpreterBackend"]) == 0
    assert "regressions" in capsys.readouterr().out
    assert main([*common, "--backend", "spec.test_build:OffByOne", "--seed", "1"]) == 1
    assert "FAIL regressions: zero.rly" in capsys.readouterr().out
    assert main([*common, "--backend", "no_such_module:x"]) == 2
    assert "cannot import backend module" in capsys.readouterr().err


class Crashing:
    """A backend that crashes on every program (for the conformance runner's tests)."""

    name = "crashing"

    def run(
        self,
        mod: tvm.IRModule,
        inputs: Mapping[str, Array],
        params: Mapping[str, Array] | None = None,
    ) -> list[Array]:
        raise KeyError("a bug in the backend")


@pytest.mark.spec("BUILD-7")
def test_a_crashing_backend_fails_its_cases(tmp_path: Path) -> None:
    from minitvm.testing.conformance import run_conformance

    (tmp_path / "one.rly").write_text(
        tvm.IRModule.from_expr(
            relay.Function([relay.var("x", shape=(2,))], relay.const(1.0))
        ).astext()
    )
    np.savez(tmp_path / "one.npz", x=np.zeros(2, F32))
    out = io.StringIO()
    (result,) = run_conformance(Crashing(), "ci", 0, tmp_path, out, ("regressions",))
    assert (result.passed, result.failed) == (0, 1)
    assert "KeyError" in result.failures[0]


def _parallel_kernels(lib: GraphExecutorFactoryModule) -> list[str]:
    return [
        k.name
        for f in lib.get_lib().functions.values()
        for k in f.kernels
        if getattr(k, "parallel", False)
    ]


@pytest.mark.spec("BUILD-8")
def test_kernels_run_serially_beside_library_calls() -> None:
    # One exp over 2^20 elements: a parallel kernel (NUMBA-5), unless a library call is near
    # (then from 2^24 iterations on, or 16 times the configured threshold).
    x = relay.var("x", shape=(1, 4, 512, 512))
    w = relay.var("w", shape=(4, 4, 1, 1))
    alone = tvm.IRModule.from_expr(relay.Function([x], relay.exp(x)))
    lib = relay.build(alone, "llvm")
    assert _parallel_kernels(lib) == ["fused_exp"]
    with_conv = relay.Function([x, w], relay.exp(relay.exp(relay.nn.conv2d(x, w))) * x)
    mod = tvm.IRModule.from_expr(with_conv)
    weights = np.full((4, 4, 1, 1), 0.01, F32)
    with tvm.transform.PassContext(config={"relay.FuseOps.max_depth": 1}):
        lib = relay.build(mod, "llvm", params={"w": weights})
    assert len(lib.get_lib().functions) >= 2
    assert _parallel_kernels(lib) == []
    m = graph_executor.GraphModule(lib["default"](tvm.cpu(0)))
    data = np.random.default_rng(8).uniform(-1, 1, (1, 4, 512, 512)).astype(F32)
    m.run(x=data)
    conv = np.einsum("oi,nihw->nohw", weights[:, :, 0, 0], data)
    np.testing.assert_allclose(m.get_output(0).numpy(), np.exp(np.exp(conv)) * data, rtol=1e-5)
    config = {"relay.FuseOps.max_depth": 1, "numba.parallel_beside_blas": True}
    with tvm.transform.PassContext(config=config):
        lib = relay.build(mod, "llvm", params={"w": weights})
    assert _parallel_kernels(lib) != []
    # The vm executor compiles the functions of its module with the same rule (a threshold of
    # its own here, so that its functions are compiled afresh rather than found in the cache).
    for beside_blas in (False, True):
        config = {
            "relay.FuseOps.max_depth": 1,
            "numba.parallel_beside_blas": beside_blas,
            "numba.parallel_min_work": 1 << 19,
        }
        engine = compile_engine.get()
        before = {id(c) for c in engine.items()}
        with tvm.transform.PassContext(config=config):
            run = relay.create_executor("vm", mod=mod, params={"w": weights}).evaluate()
            np.testing.assert_allclose(run(data).numpy(), np.exp(np.exp(conv)) * data, rtol=1e-5)
        new = [c for c in engine.items() if id(c) not in before]
        parallel = [k.name for c in new for k in c.kernels if getattr(k, "parallel", False)]
        assert bool(parallel) == beside_blas, parallel
    config = {"relay.FuseOps.max_depth": 1, "numba.parallel_min_work": 1 << 16}
    with tvm.transform.PassContext(config=config):
        lib = relay.build(mod, "llvm", params={"w": weights})
    assert sorted(_parallel_kernels(lib)) == ["fused_exp", "fused_multiply"]
    # Without BLAS the convolution is generated code: no library call, parallel kernels.
    with tvm.transform.PassContext(config={"relay.FuseOps.max_depth": 1, "numba.use_blas": False}):
        lib = relay.build(mod, "llvm", params={"w": weights})
    assert _parallel_kernels(lib) != []
