"""CUDA: the numba-CUDA target, ``tvm.build(prim_func, target="cuda")`` and
``relay.build(mod, target="cuda")``, checked against the TIR interpreter and the Relay
interpreter. Kernels run on numba's CUDA simulator (the root conftest sets
``NUMBA_ENABLE_CUDASIM=1``); the device-compile tier lowers them for sm_90 in a subprocess
that imports numba without the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import minitvm as tvm
from minitvm import relay, te, tir
from minitvm.backend.numba_cpu.expr_codegen import Unsupported
from minitvm.backend.numba_cuda.build import CudaKernel
from minitvm.backend.numba_cuda.codegen import generate_cuda
from minitvm.backend.numba_cuda.options import CudaOptions, simulated
from minitvm.contrib.graph_executor import GraphModule
from minitvm.error import DiagnosticError, TVMError
from minitvm.relay.backend import compile_engine
from minitvm.relay.backend.executors import GraphExecutor
from minitvm.relay.backend.graph_codegen import NOP
from minitvm.relay.backend.graph_json import parse as parse_graph
from minitvm.relay.backend.graph_runtime import GraphRuntime
from minitvm.runtime import nvtx
from minitvm.testing import CudaBackend, InterpreterBackend, assert_results_match, load_backend
from minitvm.tir import op as tir_op
from minitvm.tir.build import BuiltFunc
from spec.test_backend_numba import _int_outputs, run_both

pytest.importorskip("numba_cuda", reason="the CUDA target needs numba-cuda (minitvm[cuda])")

Array = npt.NDArray[Any]
ROOT = Path(__file__).resolve().parent.parent
F32 = "float32"


def _both(func: tir.PrimFunc, *arrays: Array) -> tuple[list[Array], list[Array]]:
    """Run ``func`` with the TIR interpreter and the CUDA target on copies of ``arrays``."""
    return run_both(func, *arrays, target="cuda")


def _kernel(built: BuiltFunc) -> CudaKernel:
    assert isinstance(built.kernel, CudaKernel)
    return built.kernel


@pytest.mark.spec("CUDA-6")
def test_the_suite_runs_on_the_simulator_unless_told_otherwise() -> None:
    # The root conftest sets NUMBA_ENABLE_CUDASIM=1 unless the environment sets it.
    assert simulated() == (os.environ["NUMBA_ENABLE_CUDASIM"] not in ("", "0"))


@pytest.mark.spec("CUDA-1")
def test_build_prim_func_for_cuda() -> None:
    a = te.placeholder((4, 6), name="A")
    b = te.compute((4, 6), lambda i, j: a[i, j] * 2.0 + 1.0, name="B")
    k = te.reduce_axis((0, 6), name="k")
    c = te.compute((4,), lambda i: te.sum(b[i, k], axis=k), name="C")
    func = te.create_prim_func([a, c])
    data = np.random.default_rng(0).standard_normal((4, 6)).astype(F32)
    f = tvm.build(func, target="cuda -arch=sm_90")
    assert isinstance(f.kernel, CudaKernel)
    out = np.zeros(4, F32)
    f(data, out)
    np.testing.assert_allclose(out, (data * 2 + 1).sum(1), rtol=1e-5)
    f["main"](tvm.nd.array(data), tvm.nd.array(out))
    ref, got = _both(func, data, np.zeros(4, F32))
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-5)
    with pytest.raises(DiagnosticError, match="takes 2 arguments"):
        f(data)
    with pytest.raises(DiagnosticError, match="dtype float32"):
        f(data.astype("float64"), out)
    with pytest.raises(DiagnosticError, match="shape"):
        f(np.zeros((5, 6), F32), out)
    # A non-contiguous output is written back through its view.
    wide = np.zeros((4, 2), F32)
    f(data, wide[:, 1])
    np.testing.assert_allclose(wide[:, 1], ref[1], rtol=1e-5)
    assert not wide[:, 0].any()


@pytest.mark.spec("CUDA-1")
def test_scalar_parameters_and_zero_dimensional_buffers() -> None:
    a_buf = tir.decl_buffer((5,), F32, "A")
    b_buf = tir.decl_buffer((), F32, "B")
    a, b, s = tir.Var("a", "handle"), tir.Var("b", "handle"), tir.Var("s", F32)
    i = tir.Var("i", "int32")
    body = tir.For(
        i,
        tir.const(0),
        tir.const(5),
        tir.ForKind.SERIAL,
        tir.BufferStore(b_buf, b_buf[()] + a_buf[i] * s, ()),
    )
    func = tir.PrimFunc([a, b, s], body, buffer_map={a: a_buf, b: b_buf})
    data = np.arange(5, dtype=F32)
    ref, got = np.asarray(1.0, F32), np.asarray(1.0, F32)
    tvm.build(func, target="interp")(data, ref, np.asarray(2.5, F32))
    f = tvm.build(func, target="cuda")
    f(data, got, np.asarray(2.5, F32))
    assert got.shape == ()
    np.testing.assert_array_equal(got, ref)
    # Every store goes to the one element: not parallel, so it runs on thread 0; so does a
    # loop nest without iterations.
    empty = te.placeholder((0, 3), name="E")
    doubled = te.compute((0, 3), lambda i, j: empty[i, j] * 2.0, name="D")
    f_empty = tvm.build(te.create_prim_func([empty, doubled]), target="cuda")
    assert _kernel(f_empty).source.stages[0].work == 0
    f_empty(np.zeros((0, 3), F32), np.zeros((0, 3), F32))
    assert "if cuda.grid(1) == 0:" in _kernel(f).source.source
    assert _kernel(f).source.stages[0].work == 0


@pytest.mark.spec("CUDA-1")
@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "int64"])
def test_integer_semantics_match_exactly(dtype: str) -> None:
    info = np.iinfo(dtype)
    special = [info.min, info.max, 0, -1, 1, 7, -7, 3]
    a = te.placeholder((8,), dtype, "A")
    b = te.placeholder((8,), dtype, "B")
    outs = _int_outputs(a, b)
    func = te.create_prim_func([a, b, *outs])
    xa = np.array(special).astype(dtype)
    xb = np.array([-1, 0, 0, 2, info.max, 3, -2, 0]).astype(dtype)
    bufs = [xa, xb] + [np.zeros(8, t.dtype) for t in outs]
    ref, got = _both(func, *bufs)
    for r, g in zip(ref[2:], got[2:], strict=True):
        np.testing.assert_array_equal(g, r)


@pytest.mark.spec("CUDA-1")
def test_casts_bool_and_clamped_loads_match_exactly() -> None:
    x = te.placeholder((8,), F32, "X")
    p = te.placeholder((8,), "bool", "P")
    outs = te.compute(
        (8,),
        lambda i: (
            tir_op.cast(x[i], "int8"),
            tir_op.cast(tir_op.abs(x[i]), "uint8"),
            tir_op.cast(x[i], "bool"),
            tir.Add(p[i], p[7 - i]),
            tir_op.if_then_else(p[i], x[i], -x[i]),
            x[tir_op.min(i + 3, 7)],
        ),
        name="casts",
    )
    assert isinstance(outs, tuple)
    func = te.create_prim_func([x, p, *outs])
    xs = np.array([-3.7, -0.5, 0.0, 0.9, 2.5, 127.9, 100.0, 41.0], F32)
    ps = np.array([0, 1, 0, 1, 1, 0, 1, 0], bool)
    ref, got = _both(func, xs, ps, *[np.zeros(8, t.dtype) for t in outs])
    for r, g in zip(ref[2:], got[2:], strict=True):
        np.testing.assert_array_equal(g, r)
    a_buf, b_buf = tir.decl_buffer((4,), "int32", "A"), tir.decl_buffer((4,), "int32", "B")
    a, b, i = tir.Var("a", "handle"), tir.Var("b", "handle"), tir.Var("i", "int32")
    bad = tir.PrimFunc(
        [a, b],
        tir.For(
            i,
            tir.const(0),
            tir.const(4),
            tir.ForKind.SERIAL,
            tir.BufferStore(b_buf, a_buf[i], (i + 1,)),
        ),
        None,
        {a: a_buf, b: b_buf},
    )
    built = tvm.build(bad, target="cuda")
    assert _kernel(built).source.faults == ("store to B is out of range",)
    with pytest.raises(DiagnosticError, match="store to B is out of range"):
        built(np.zeros(4, "int32"), np.zeros(4, "int32"))
    # A data-dependent store (B[A[i]] = i): the fault is reported for the call that made
    # it, and cleared, so the same kernel then runs on good data.
    scatter = tir.PrimFunc(
        [a, b],
        tir.For(
            i,
            tir.const(0),
            tir.const(4),
            tir.ForKind.SERIAL,
            tir.BufferStore(b_buf, i, (a_buf[i],)),
        ),
        None,
        {a: a_buf, b: b_buf},
    )
    built = tvm.build(scatter, target="cuda")
    with pytest.raises(DiagnosticError, match="store to B is out of range"):
        built(np.array([0, 1, 7, 2], "int32"), np.zeros(4, "int32"))
    out = np.zeros(4, "int32")
    built(np.array([3, 2, 1, 0], "int32"), out)
    np.testing.assert_array_equal(out, [3, 2, 1, 0])


@pytest.mark.spec("CUDA-2")
def test_one_kernel_per_stage_with_grid_stride_loops() -> None:
    a = te.placeholder((3, 5), name="A")
    m = te.compute((3, 5), lambda i, j: tir.exp(a[i, j]), name="M")
    k = te.reduce_axis((0, 5), name="k")
    s = te.compute((3,), lambda i: te.sum(m[i, k], axis=k), name="S")
    n = te.compute((3, 5), lambda i, j: m[i, j] / s[i], name="N")
    func = te.create_prim_func([a, n])
    src = generate_cuda(func, CudaOptions(), "norm")
    assert [(st.name, st.work) for st in src.stages] == [
        ("norm_stage0", 15),
        ("norm_stage1", 3),
        ("norm_stage2", 15),
    ]
    assert src.temps == (((3, 5), F32), ((3,), F32))
    assert src.source.count("@cuda.jit") == 3
    assert "for tid in range(cuda.grid(1), 15, cuda.gridsize(1)):" in src.source
    # The reduction: one thread per output element, accumulating in a register.
    assert "for tid in range(cuda.grid(1), 3, cuda.gridsize(1)):" in src.source
    assert "acc_S = np.float32(0.0)" in src.source
    assert "np.errstate" not in src.source  # only in code generated for the simulator
    data = np.random.default_rng(1).standard_normal((3, 5)).astype(F32)
    want = np.exp(data) / np.exp(data).sum(1, keepdims=True)
    for threads, blocks in ((0, 0), (1, 1), (2, 3), (4, 1)):
        config = {"cuda.threads_per_block": threads, "cuda.max_blocks": blocks}
        with tvm.transform.PassContext(config=config):
            f = tvm.build(func, target="cuda")
        if threads:
            assert {lc for _, lc in _kernel(f).kernels} == {
                (min(blocks, -(-w // min(threads, w))), min(threads, w)) for w in (15, 3)
            }
        out = np.zeros((3, 5), F32)
        f(data, out)
        np.testing.assert_allclose(out, want, rtol=1e-5)


def _row_reduction(reducer: Any, rows: int, steps: int, dtype: str = F32) -> tir.PrimFunc:
    a = te.placeholder((rows, steps), dtype, "A")
    k = te.reduce_axis((0, steps), "k")
    out = te.compute((rows,), lambda i: reducer(a[i, k], axis=k), "R")
    return te.create_prim_func([a, out])


@pytest.mark.spec("CUDA-11")
def test_long_row_reductions_get_a_thread_block_per_output() -> None:
    src = generate_cuda(_row_reduction(te.sum, 4, 128), CudaOptions(), "rowsum")
    (stage,) = src.stages
    assert (stage.work, stage.threads) == (4, 128)  # at most the reduce steps
    assert "cuda.shared.array(128, np.float32)" in src.source
    assert "for r in range(tx, 128, 128):" in src.source
    assert src.source.count("cuda.syncthreads()") == 3
    assert "return" not in src.source  # every thread reaches the barriers
    assert generate_cuda(_row_reduction(te.max, 4, 1000), CudaOptions()).stages[0].threads == 256
    assert generate_cuda(_row_reduction(te.max, 4, 1000), CudaOptions(24)).stages[0].threads == 16
    # too few steps, integer values, or a tuple reducer: one thread per output (CUDA-2)
    assert generate_cuda(_row_reduction(te.sum, 4, 63), CudaOptions()).stages[0].threads == 0
    assert generate_cuda(_row_reduction(te.sum, 4, 64), CudaOptions()).stages[0].threads == 64
    ints = _row_reduction(te.sum, 4, 128, "int32")
    assert generate_cuda(ints, CudaOptions()).stages[0].threads == 0
    a = te.placeholder((4, 128), F32, "A")
    k = te.reduce_axis((0, 128), "k")
    idx = te.compute((4,), lambda i: topi_argmax_reducer()((k, a[i, k]), axis=k), "I")
    assert generate_cuda(te.create_prim_func([a, *idx]), CudaOptions()).stages[0].threads == 0


def topi_argmax_reducer() -> Any:
    def fcombine(x: Any, y: Any) -> Any:
        take = tir_op.if_then_else(x[1] >= y[1], x[0], y[0])
        return take, tir_op.max(x[1], y[1])

    def fidentity(t0: str, t1: str) -> Any:
        return tir.const(-1, t0), tir_op.min_value(t1)

    return te.comm_reducer(fcombine, fidentity, "argmax")


@pytest.mark.spec("CUDA-11")
def test_column_reductions_with_many_outputs_keep_a_thread_each() -> None:
    a = te.placeholder((100, 2048), F32, "A")
    k = te.reduce_axis((0, 100), "k")
    cols = te.compute((2048,), lambda j: te.sum(a[k, j], axis=k), "C")
    assert generate_cuda(te.create_prim_func([a, cols]), CudaOptions()).stages[0].threads == 0
    few = te.placeholder((100, 8), F32, "F")
    k2 = te.reduce_axis((0, 100), "k")
    cols8 = te.compute((8,), lambda j: te.sum(few[k2, j], axis=k2), "C8")
    # few outputs: a block each, whatever the layout
    assert generate_cuda(te.create_prim_func([few, cols8]), CudaOptions()).stages[0].threads == 64


@pytest.mark.spec("CUDA-11")
@pytest.mark.parametrize("threads", [0, 3, 16])
def test_block_reductions_compute_the_reductions(threads: int) -> None:
    rng = np.random.default_rng(7)
    data = rng.standard_normal((3, 96)).astype(F32)
    data[1, 17] = np.nan  # max and min propagate it
    data[2, 5] = -np.inf
    finite = np.nan_to_num(data, nan=0.5, neginf=-0.5)
    prod = te.comm_reducer(lambda x, y: x * y, lambda t: tir.const(1, t), "prod")
    cases: list[tuple[Any, npt.NDArray[Any], npt.NDArray[Any], bool]] = [
        (te.max, data, np.max(data, axis=1), True),
        (te.min, data, np.min(data, axis=1), True),
        (te.sum, finite, np.sum(finite, axis=1), False),
        (prod, 1 + finite / 100, np.prod(1 + finite / 100, axis=1), False),
    ]
    config = {"cuda.threads_per_block": threads, "cuda.max_blocks": 2}
    for reducer, values, want, exact in cases:
        func = _row_reduction(reducer, 3, 96)
        with tvm.transform.PassContext(config=config):
            f = tvm.build(func, target="cuda")
        ((_, launch),) = _kernel(f).kernels
        default = 8 if simulated() else 256  # CUDA-2's defaults, at most 64 reduce steps
        assert launch == (2, {0: min(default, 64), 3: 2, 16: 16}[threads])
        out = np.zeros(3, F32)
        f(values.astype(F32), out)
        if exact:
            np.testing.assert_array_equal(out, want)
        else:
            np.testing.assert_allclose(out, want, rtol=1e-5)


@pytest.mark.spec("CUDA-3")
def test_float_semantics_and_explicit_casts() -> None:
    x = te.placeholder((12,), F32, "X")
    y = te.placeholder((12,), F32, "Y")
    outs = te.compute(
        (12,),
        lambda i: (
            tir_op.max(x[i], y[i]),
            tir_op.min(x[i], y[i]),
            x[i] / y[i],
            tir_op.floordiv(x[i], y[i]),
            tir_op.floormod(x[i], y[i]),
            tir.Mod(x[i], y[i]),
            tir.exp(x[i]),
            tir.sigmoid(x[i]),
            tir.sqrt(x[i]),
            tir.log(x[i]),
            tir.tanh(x[i]),
            tir.erf(x[i]),
            tir_op.cast(tir.isnan(x[i]), F32),
        ),
        name="floats",
    )
    assert isinstance(outs, tuple)
    func = te.create_prim_func([x, y, *outs])
    xs = np.array(
        [np.nan, 1.0, np.inf, -np.inf, 88.7, 88.8, -87.5, -103.5, -110.0, 0.0, -2.5, 7.0], F32
    )
    ys = np.array([1.0, np.nan, 2.0, 0.0, 0.0, -3.0, 1.0, 2.0, 1.0, 0.0, 2.0, -2.0], F32)
    bufs = [xs, ys] + [np.zeros(12, F32) for _ in outs]
    ref, got = _both(func, *bufs)
    for r, g in zip(ref[2:], got[2:], strict=True):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, r, rtol=2e-6, atol=1e-30, equal_nan=True)
    assert np.isnan(got[2][0])  # max propagates NaN from either side
    assert np.isnan(got[2][1])
    src = _kernel(tvm.build(func, target="cuda")).source.source
    assert "np.float32(rt.exp_f32(" in src
    assert "np.float32(rt.sqrt_f32(" in src
    assert "rt.fmax(" in src


@pytest.mark.spec("CUDA-3")
def test_reinterpret_through_bitcasts() -> None:
    i32 = te.placeholder((4,), "int32", "I")
    u32 = te.placeholder((4,), "uint32", "U")
    f64 = te.placeholder((4,), "float64", "D")
    outs = te.compute(
        (4,),
        lambda i: (
            tir_op.reinterpret(i32[i], F32),
            tir_op.reinterpret(u32[i], F32),
            tir_op.reinterpret(tir_op.reinterpret(i32[i], F32), "uint32"),
            tir_op.reinterpret(i32[i], "uint32"),
            tir_op.reinterpret(f64[i], "int64"),
            tir_op.reinterpret(tir_op.reinterpret(f64[i], "uint64"), "float64"),
        ),
        name="bits",
    )
    assert isinstance(outs, tuple)
    func = te.create_prim_func([i32, u32, f64, *outs])
    ints = np.array([0, 1065353216, -1082130432, 2139095040], "int32")
    doubles = np.array([1.5, -0.0, np.inf, 3e-310])
    bufs = [ints, ints.view("uint32"), doubles] + [np.zeros(4, t.dtype) for t in outs]
    ref, got = _both(func, *bufs)
    for r, g in zip(ref[3:], got[3:], strict=True):
        np.testing.assert_array_equal(g, r)
    np.testing.assert_array_equal(got[3], ints.view(F32))
    np.testing.assert_array_equal(got[7], doubles.view("int64"))


@pytest.mark.spec("CUDA-4")
def test_unsupported_constructs_fall_back_in_the_engine() -> None:
    x = te.placeholder((4,), "uint64", "X")
    count = te.compute((4,), lambda i: tir.popcount(x[i]), name="count")
    with pytest.raises(Unsupported, match="popcount of uint64"):
        tvm.build(te.create_prim_func([x, count]), target="cuda")
    h = te.placeholder((4,), "float16", "H")
    twice = te.compute((4,), lambda i: h[i] * tir.const(2.0, "float16"), name="twice")
    with pytest.raises(DiagnosticError, match="float16"):
        tvm.build(te.create_prim_func([h, twice]), target="cuda")
    a_buf, b_buf = tir.decl_buffer((4,), F32, "A"), tir.decl_buffer((4,), F32, "B")
    a, b, i = tir.Var("a", "handle"), tir.Var("b", "handle"), tir.Var("i", "int32")
    copy = tir.For(
        i, tir.const(0), tir.const(4), tir.ForKind.SERIAL, tir.BufferStore(b_buf, a_buf[i], (i,))
    )
    body = tir.Allocate(tir.Var("scratch", "handle"), F32, (tir.const(4),), tir.const(True), copy)
    allocating = tir.PrimFunc([a, b], body, None, {a: a_buf, b: b_buf})
    with pytest.raises(Unsupported, match="cannot allocate"):
        tvm.build(allocating, target="cuda")
    v = relay.var("v", shape=(4,), dtype="float16")
    mod = tvm.IRModule.from_expr(relay.Function([v], relay.add(v, v)))
    lib = relay.build(mod, "cuda")
    (fn,) = lib.get_lib().functions.values()
    assert fn.backend == "interpreter"
    assert "float16" in fn.reason
    data = np.array([0.5, -1.0, 2.0, 1000.0], "float16")
    m = GraphModule(lib["default"](tvm.cuda(0)))
    m.set_input("v", data)
    m.run()
    np.testing.assert_array_equal(m.get_output(0).numpy(), data + data)


def _net() -> tuple[tvm.IRModule, dict[str, Array], dict[str, Array]]:
    x = relay.var("x", shape=(2, 4))
    w = relay.var("w", shape=(3, 4))
    b = relay.var("b", shape=(3,))
    y = relay.nn.relu(relay.nn.bias_add(relay.nn.dense(x, w), b))
    out = relay.Tuple([relay.nn.softmax(y), relay.sum(y, axis=0), relay.argmax(y, axis=1)])
    rng = np.random.default_rng(0)
    params = {"w": rng.standard_normal((3, 4)).astype(F32), "b": rng.standard_normal(3).astype(F32)}
    inputs = {"x": rng.standard_normal((2, 4)).astype(F32)}
    return tvm.IRModule.from_expr(relay.Function([x, w, b], out)), params, inputs


@pytest.mark.spec("CUDA-5")
def test_relay_build_and_graph_module_on_cuda() -> None:
    mod, params, inputs = _net()
    lib = relay.build(mod, target="cuda", params=params)
    assert lib.target.kind.name == "cuda"
    graph = json.loads(lib.get_graph_json())
    assert graph["heads"]
    backends = {fn.backend for fn in lib.get_lib().functions.values()}
    assert backends == {"cuda"}
    assert "library call: dense (tiled CUDA matmul)" in lib.get_source()
    assert "@cuda.jit" in lib.get_source()
    dev = tvm.cuda(0)
    m = GraphModule(lib["default"](dev))
    m.set_input("x", inputs["x"])
    m.run()
    assert m.get_num_outputs() == 3
    got = [m.get_output(i).numpy() for i in range(3)]
    assert m.get_output(0).device == dev
    want = InterpreterBackend().run(mod, inputs, params)
    assert_results_match(got, want, "cuda graph")
    with pytest.raises(TVMError, match="built for cuda"):
        lib["default"](tvm.cpu(0))
    with pytest.raises(TVMError, match="built for llvm"):
        relay.build(mod, target="llvm", params=params)["default"](dev)
    ex = relay.create_executor("graph", mod=mod, target="cuda", params=params)
    assert isinstance(ex, GraphExecutor)
    assert ex.device == dev
    from minitvm.testing.backend import flatten_result

    assert_results_match(flatten_result(ex.evaluate()(**inputs)), want, "cuda executor")


@pytest.mark.spec("CUDA-5")
def test_engine_caches_per_target() -> None:
    x = relay.var("x", shape=(2, 3))
    body = relay.exp(relay.add(x, relay.const(1.0)))
    prim = relay.Function([x], body).with_attr("Primitive", 1)
    f = relay.transform.InferType()(tvm.IRModule.from_expr(prim))["main"]
    assert isinstance(f, relay.Function)
    engine = compile_engine.get()
    on_gpu = engine.lower(f, "cuda")
    assert engine.lower(f, tvm.target.Target("cuda")) is on_gpu
    on_cpu = engine.lower(f, "llvm")
    assert on_cpu is not on_gpu
    assert (on_gpu.backend, on_cpu.backend) == ("cuda", "numba")
    assert all(isinstance(k, CudaKernel) for k in on_gpu.kernels)
    data = np.linspace(-1, 1, 6, dtype=F32).reshape(2, 3)
    out = np.zeros((2, 3), F32)
    on_gpu([data], [out])
    np.testing.assert_allclose(out, np.exp(data + 1), rtol=1e-6)


@pytest.mark.spec("CUDA-9")
def test_matmul_anchors_run_the_tiled_kernel() -> None:
    rng = np.random.default_rng(3)
    x, w = relay.var("x", shape=(5, 7)), relay.var("w", shape=(6, 7))
    d, k = relay.var("d", shape=(1, 2, 5, 5)), relay.var("k", shape=(3, 2, 3, 3))
    a, b = (
        relay.var("a", shape=(2, 3, 5), dtype="float64"),
        relay.var("b", shape=(2, 4, 5), dtype="float64"),
    )
    out = relay.Tuple(
        [
            relay.nn.relu(relay.nn.dense(x, w)),
            relay.nn.conv2d(d, k, padding=(1, 1)),
            relay.nn.batch_matmul(a, b),
        ]
    )
    params = [x, w, d, k, a, b]
    mod = tvm.IRModule.from_expr(relay.Function(params, out))
    shapes = {"x": (5, 7), "w": (6, 7), "d": (1, 2, 5, 5), "k": (3, 2, 3, 3)}
    shapes |= {"a": (2, 3, 5), "b": (2, 4, 5)}
    inputs = {
        name: rng.standard_normal(shape).astype("float64" if name in "ab" else F32)
        for name, shape in shapes.items()
    }
    lib = relay.build(mod, "cuda")
    src = lib.get_source()
    for call in ("dense", "conv2d_im2col", "batch_matmul"):
        assert f"library call: {call} (tiled CUDA matmul)" in src
    want = InterpreterBackend().run(mod, inputs)
    assert_results_match(CudaBackend().run(mod, inputs), want, "tiled")
    with tvm.transform.PassContext(config={"cuda.tiled_matmul": False}):
        plain = relay.build(mod, "cuda")
    assert "library call" not in plain.get_source()
    m = GraphModule(plain["default"](tvm.cuda(0)))
    for name, value in inputs.items():
        m.set_input(name, value)
    m.run()
    assert_results_match([m.get_output(i).numpy() for i in range(3)], want, "untiled")


@pytest.mark.spec("CUDA-9")
@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_tiled_matmul_edges_transpositions_and_shared_batches(ta: bool, tb: bool) -> None:
    from minitvm.backend.numba_cuda.matmul import (
        SIMULATOR_TILING,
        Tiling,
        choose_tiling,
        matmul_kernel,
        tiled_matmul,
    )
    from minitvm.relay.backend.externs import Operand, Product

    def dims(x: npt.NDArray[Any]) -> tuple[int, int, int]:
        return (x.shape[0], x.shape[1], x.shape[2])

    assert SIMULATOR_TILING.tile == 4
    # the largest tile giving each of 132 multiprocessors a block
    assert choose_tiling((1, 1024, 1024), 132).tile == 64
    assert choose_tiling((1, 512, 49), 132).tile == 16  # 128 blocks of 16: still too few
    assert choose_tiling((1, 64, 3136), 132).tile == 32
    assert choose_tiling((4, 64, 49), 4).tile == 64  # batches count
    assert choose_tiling((4, 64, 49), 8).tile == 32
    with pytest.raises(ValueError, match="evenly"):
        matmul_kernel(Tiling(4, 1, 3), F32)
    rng = np.random.default_rng(11)
    # sizes around the tile: one short of it, one over it, a row/column of one, k under a slice
    for batch, m, n, k, shared in ((2, 5, 7, 9, False), (3, 1, 4, 3, True), (1, 9, 1, 13, False)):
        a = rng.standard_normal((1 if shared else batch, m, k)).astype(F32)
        b = rng.standard_normal((batch, k, n)).astype(F32)
        a_in = np.ascontiguousarray(np.swapaxes(a, 1, 2)) if ta else a
        b_in = np.ascontiguousarray(np.swapaxes(b, 1, 2)) if tb else b
        product = Product(Operand(0, dims(a_in), ta), Operand(1, dims(b_in), tb), (batch, m, n))
        out = np.full((batch, m, n), np.nan, F32)
        tiled_matmul(product)([a_in, b_in], out)
        np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-5, atol=1e-5)


@pytest.mark.spec("CUDA-6")
def test_simulator_code_and_cache_key() -> None:
    a = te.placeholder((4,), name="A")
    b = te.compute((4,), lambda i: a[i] / a[3 - i], name="B")
    func = te.create_prim_func([a, b])
    if not simulated():
        pytest.skip("checks the code generated for the simulator; this run uses a GPU")
    f = tvm.build(func, target="cuda")
    kernel = _kernel(f)
    assert kernel.options.simulator
    assert 'with np.errstate(all="ignore"):' in kernel.source.source
    assert kernel.module.path.exists()
    assert kernel.module.path.read_text().endswith(kernel.source.source)
    gpu_source = generate_cuda(func, CudaOptions(simulator=False), "k").source
    assert "errstate" not in gpu_source
    assert CudaOptions(simulator=True).key() != CudaOptions(simulator=False).key()
    out = np.zeros(4, F32)
    f(np.array([3.0, 1.0, -2.0, 0.0], F32), out)  # x/0 and 0/0 without a warning
    np.testing.assert_array_equal(out, [np.inf, -0.5, -2.0, 0.0])
    f(np.array([0.0, 1.0, -2.0, 0.0], F32), out)
    np.testing.assert_array_equal(out, [np.nan, -0.5, -2.0, np.nan])


def _device_script(body: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH", ""), str(ROOT / "reference"), str(ROOT)) if p
    )
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0", PYTHONPATH=path)
    return subprocess.run(
        [sys.executable, "-c", body], env=env, capture_output=True, text=True, timeout=300
    )


_LOWER = r"""
import re
import minitvm as tvm
from minitvm import relay
from minitvm.backend.numba_cuda.device_compile import compile_kernel, compile_matmul, ptx_available

x = relay.var("x", shape=(2, 5))
w = relay.var("w", shape=(3, 5))
i = relay.var("i", shape=(3,), dtype="int32")
y = relay.nn.softmax(relay.nn.relu(relay.nn.dense(x, w) + relay.const(1.0)))
z = relay.floor_divide(relay.right_shift(i * i, relay.const(1, "int32")), relay.const(3, "int32"))
v = relay.cast(relay.argmax(y, axis=1), "float32") + relay.sigmoid(relay.max(x, axis=1))
r = relay.reinterpret(relay.reinterpret(i, "float32") * relay.const(2.0), "uint32")
e = relay.fast_exp(x)
mod = tvm.IRModule.from_expr(relay.Function([x, w, i], relay.Tuple([y, z, v, r, e])))
lib = relay.build(mod, "cuda")
ptx = ptx_available()
double = re.compile(r"\b(fadd|fsub|fmul|fdiv|frem|fpext)\b[^\n]*double|@__nv_[a-z0-9]*[^f]\(double")
stages = 0
for fn in lib.get_lib().functions.values():
    assert fn.backend == "cuda", fn.name
    for kernel in fn.kernels:
        for code in compile_kernel(kernel, (9, 0), ptx):
            stages += 1
            assert code.llvm_ir.startswith("; ModuleID"), code.name
            assert not double.search(code.llvm_ir), (code.name, double.search(code.llvm_ir))
            if ptx:
                assert ".target sm_90" in code.ptx and code.name in code.ptx
for dtype, ta, tb in ((d, a, b) for d in ("float32", "float64") for a in (0, 1) for b in (0, 1)):
    code = compile_matmul(dtype, None, (9, 0), ptx, (bool(ta), bool(tb)))
    stages += 1
    assert "llvm.nvvm.barrier0" in code.llvm_ir or "barrier" in code.llvm_ir, code.name
    assert ("addrspace(3)" in code.llvm_ir), code.name  # shared memory
    if dtype == "float32":
        assert not double.search(code.llvm_ir), code.name
    if ptx:
        assert ".target sm_90" in code.ptx and ".shared" in code.ptx
from minitvm.error import TVMError
from minitvm.runtime import cuda_available
try:
    lib["default"](tvm.cuda(0))
    made = True
except TVMError as exc:
    assert "NUMBA_ENABLE_CUDASIM=1" in str(exc), exc
    made = False
print("stages", stages, "ptx", ptx, "runtime_iff_gpu", made == cuda_available())
"""


@pytest.fixture(scope="module")
def lowered() -> list[str]:
    """Build a small network for cuda in a process without the simulator and compile every
    kernel for sm_90 (PTX as well when the CUDA toolkit is importable)."""
    done = _device_script(_LOWER)
    assert done.returncode == 0, done.stderr[-3000:]
    words = done.stdout.split()
    assert words[0] == "stages", done.stdout
    return words


@pytest.mark.spec("CUDA-7")
def test_kernels_lower_for_sm90_with_float32_kept(lowered: list[str]) -> None:
    # Every stage kernel was typed and lowered to NVVM IR, with no float64 arithmetic.
    assert int(lowered[1]) >= 8


@pytest.mark.spec("CUDA-7")
def test_kernels_compile_to_ptx_for_sm90(lowered: list[str]) -> None:
    if lowered[3] != "True":
        pytest.skip(
            "PTX needs the CUDA toolkit's NVVM library (numba-cuda[cu12] or [cu13]), "
            "which is not installed"
        )
    assert int(lowered[1]) >= 8  # each kernel's PTX targets sm_90 and names the kernel


@pytest.mark.spec("CUDA-5")
def test_without_a_gpu_or_the_simulator_the_runtime_refuses(lowered: list[str]) -> None:
    # In the subprocess (no simulator), lib["default"](tvm.cuda(0)) succeeded exactly when
    # numba reached a GPU, and otherwise raised TVMError pointing at the simulator.
    assert lowered[4:6] == ["runtime_iff_gpu", "True"]


@pytest.mark.spec("CUDA-8")
def test_cuda_backend_in_the_conformance_protocol() -> None:
    backend = load_backend("minitvm.testing:CudaBackend")
    assert isinstance(backend, CudaBackend)
    assert (backend.name, backend.target) == ("numba-cuda", "cuda")
    mod, params, inputs = _net()
    want = InterpreterBackend().run(mod, inputs, params)
    assert_results_match(backend.run(mod, inputs, params), want, backend.name)


@pytest.mark.spec("CUDA-10")
def test_graph_storage_lives_on_the_device() -> None:
    mod, params, inputs = _net()
    lib = relay.build(mod, target="cuda", params=params)
    runtime = lib["default"](tvm.cuda(0))
    assert isinstance(runtime, GraphRuntime)
    assert runtime.entries
    assert not any(isinstance(e, np.ndarray) for e in runtime.entries)
    m = GraphModule(runtime)
    want = InterpreterBackend().run(mod, inputs, params)
    m.set_input("x", inputs["x"])
    m.run()
    first = m.get_output(0)
    assert_results_match([m.get_output(i).numpy() for i in range(3)], want, "device storage")
    np.testing.assert_array_equal(m.get_input("x").numpy(), inputs["x"])
    # Outputs are host snapshots: a new input and run leave an earlier output as it was.
    before = first.numpy()
    other = {"x": -inputs["x"]}
    m.set_input("x", other["x"])
    m.run()
    np.testing.assert_array_equal(first.numpy(), before)
    want_other = InterpreterBackend().run(mod, other, params)
    assert_results_match([m.get_output(i).numpy() for i in range(3)], want_other, "rerun")
    with pytest.raises(DiagnosticError, match="expects float32"):
        m.set_input("x", inputs["x"].astype("float64"))


@pytest.mark.spec("CUDA-10")
def test_transposed_and_channels_last_products_on_device_storage() -> None:
    rng = np.random.default_rng(5)
    a, b = relay.var("a", shape=(4, 3)), relay.var("b", shape=(4, 5))
    p, q = relay.var("p", shape=(2, 4, 3)), relay.var("q", shape=(2, 4, 5))
    d, k = relay.var("d", shape=(1, 5, 5, 2)), relay.var("k", shape=(3, 3, 2, 4))
    out = relay.Tuple(
        [
            relay.nn.matmul(a, b, transpose_a=True),
            relay.nn.batch_matmul(p, q, transpose_a=True, transpose_b=False),
            relay.nn.conv2d(d, k, padding=(1, 1), data_layout="NHWC", kernel_layout="HWIO"),
        ]
    )
    params = [a, b, p, q, d, k]
    mod = tvm.IRModule.from_expr(relay.Function(params, out))
    inputs = {
        v.name_hint: rng.standard_normal(tuple(int(s) for s in v.type_annotation.shape)).astype(F32)
        for v in params
        if isinstance(v.type_annotation, tvm.ir.TensorType)
    }
    assert len(inputs) == 6
    lib = relay.build(mod, "cuda")
    src = lib.get_source()
    for call in ("matmul", "batch_matmul", "conv2d_im2col"):
        assert f"library call: {call} (tiled CUDA matmul)" in src
    want = InterpreterBackend().run(mod, inputs)
    assert_results_match(CudaBackend().run(mod, inputs), want, "tiled on device storage")


@pytest.mark.spec("CUDA-10")
def test_each_fused_function_runs_in_an_nvtx_range() -> None:
    mod, params, inputs = _net()
    lib = relay.build(mod, target="cuda", params=params)
    m = GraphModule(lib["default"](tvm.cuda(0)))
    m.set_input("x", inputs["x"])
    events: list[tuple[str, str]] = []
    nvtx.set_recorder(lambda kind, name: events.append((kind, name)))
    try:
        m.run()
    finally:
        nvtx.set_recorder(None)
    graph = parse_graph(lib.get_graph_json())
    called = [n.func_name for n in graph.nodes if n.op == "tvm_op" and n.func_name != NOP]
    assert called
    assert events == [e for name in called for e in (("push", name), ("pop", name))]


@pytest.mark.spec("CUDA-10")
def test_an_nvtx_range_closes_when_its_body_raises() -> None:
    events: list[tuple[str, str]] = []
    nvtx.set_recorder(lambda kind, name: events.append((kind, name)))
    try:
        with pytest.raises(ValueError, match="inside"), nvtx.annotate("fused_f"):
            raise ValueError("inside")
    finally:
        nvtx.set_recorder(None)
    assert events == [("push", "fused_f"), ("pop", "fused_f")]


@pytest.mark.spec("CUDA-10", "GRAPH-5")
def test_the_shared_scratch_is_device_memory() -> None:
    mod, params, _ = _net()
    lib = relay.build(mod, target="cuda", params=params)
    runtime = lib["default"](tvm.cuda(0))
    assert isinstance(runtime, GraphRuntime)
    assert not isinstance(runtime.scratch, np.ndarray)
    cpu_runtime = relay.build(mod, target="llvm", params=params)["default"](tvm.cpu(0))
    assert isinstance(cpu_runtime, GraphRuntime)
    assert isinstance(cpu_runtime.scratch, np.ndarray)
