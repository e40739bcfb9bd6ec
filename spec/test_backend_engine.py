"""ENGINE: the compile engine, primitive Relay functions to compiled functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.type import TensorType, TupleType
from minitvm.relay.backend import compile_engine
from minitvm.relay.backend.compile_engine import CompiledFunc
from minitvm.relay.expr import Expr
from minitvm.relay.interpreter.machine import Machine
from minitvm.relay.interpreter.values import Closure, Value
from minitvm.relay.testing import run_infer_type
from minitvm.tir import IntImm

Array = npt.NDArray[Any]
F32 = "float32"


def prim(params: Sequence[relay.Var], body: Expr) -> relay.Function:
    func = relay.Function(params, body).with_attr("Primitive", IntImm("int32", 1))
    typed = run_infer_type(func)
    assert isinstance(typed, relay.Function)
    return typed


def lower(func: relay.Function) -> CompiledFunc:
    return compile_engine.get().lower(func, "llvm")


def run(cf: CompiledFunc, *inputs: Array) -> list[Array]:
    outputs = [np.empty(t.shape, t.dtype) for t in cf.out_types]
    cf(list(inputs), outputs)
    return outputs


def reference(func: relay.Function, *args: Value) -> list[Array]:
    result = Machine().apply(Closure(func, {}), list(args), "reference")
    flat: list[Array] = []
    stack = [result]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(reversed(v))
        else:
            assert isinstance(v, np.ndarray)
            flat.append(v)
    return flat


def close(got: list[Array], want: list[Array], rtol: float = 1e-5) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


def kinds(cf: CompiledFunc) -> list[str]:
    return [type(s).__name__ for s in cf.steps]


@pytest.mark.spec("ENGINE-1")
def test_lower_names_types_and_caches() -> None:
    x = relay.var("x", shape=(2, 3))
    f = prim([x], relay.exp(relay.add(x, relay.const(1.0))))
    cf = lower(f)
    assert cf.name == "fused_add_exp"
    assert cf.backend == "numba"
    assert cf.in_types == [TensorType((2, 3), F32)]
    assert cf.out_types == [TensorType((2, 3), F32)]
    data = np.arange(6, dtype=F32).reshape(2, 3)
    np.testing.assert_allclose(run(cf, data)[0], np.exp(data + 1), rtol=1e-6)
    y = relay.var("y", shape=(2, 3))
    again = prim([y], relay.exp(relay.add(y, relay.const(1.0))))
    assert again is not f
    assert lower(again) is cf
    with tvm.transform.PassContext(config={"numba.fastmath": False}):
        other = lower(f)
    assert other is not cf
    assert "fastmath" not in other.get_source()
    assert "fastmath" in cf.get_source()
    with pytest.raises(DiagnosticError, match=r"relay\.Function"):
        compile_engine.get().lower(x, "llvm")  # type: ignore[arg-type]  # checked at run time


@pytest.mark.spec("ENGINE-2")
def test_tuples_constants_and_parameter_outputs() -> None:
    pair = TupleType([TensorType((3,), F32), TensorType((2, 3), F32)])
    t = relay.var("t", pair)
    x = relay.var("x", shape=(3,))
    table = relay.const(np.array([1.0, -2.0, 0.5], F32))
    body = relay.Tuple(
        [
            relay.add(relay.TupleGetItem(t, 0), relay.const(1.5)),
            relay.multiply(relay.TupleGetItem(t, 1), table),
            x,
            x,
        ]
    )
    f = prim([t, x], body)
    cf = lower(f)
    assert cf.in_types == [TensorType((3,), F32), TensorType((2, 3), F32), TensorType((3,), F32)]
    assert len(cf.out_types) == 4
    assert len(cf.constants) == 1
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(s).astype(F32) for s in ((3,), (2, 3), (3,)))
    got = run(cf, a, b, c)
    close(got, reference(f, (a, b), c))
    np.testing.assert_array_equal(got[2], c)
    np.testing.assert_array_equal(got[3], c)


@pytest.mark.spec("ENGINE-3")
def test_injective_stages_inline_and_shared_expensive_ones_stay() -> None:
    x = relay.var("x", shape=(4, 5))
    chain = lower(prim([x], relay.nn.relu(relay.exp(relay.add(x, relay.const(1.0))))))
    source = chain.get_source()
    assert source.count("np.empty") == 0
    assert source.count("] = ") == 1
    soft = lower(prim([x], relay.nn.softmax(x)))
    assert "T_softmax_exp = np.empty((4, 5), dtype=np.float32)" in soft.get_source()
    data = np.random.default_rng(1).standard_normal((4, 5)).astype(F32)
    e = np.exp(data - data.max(1, keepdims=True))
    np.testing.assert_allclose(run(soft, data)[0], e / e.sum(1, keepdims=True), rtol=1e-6)
    # Each step reads its input twice: inlined bodies would double 40 times.
    y: Expr = x
    for _ in range(40):
        y = relay.multiply(y, y)
    squares = lower(prim([x], relay.tanh(y)))
    assert squares.get_source().count("\n") < 400
    small = (np.ones((4, 5)) * 0.999999).astype(F32)
    close(run(squares, small), reference(prim([x], relay.tanh(y)), small), rtol=1e-4)


@pytest.mark.spec("ENGINE-4")
def test_blas_anchors_with_generated_epilogues() -> None:
    rng = np.random.default_rng(2)
    x = relay.var("x", shape=(4, 8))
    w = relay.var("w", shape=(16, 8))
    b = relay.var("b", shape=(16,))
    dense = prim([x, w, b], relay.nn.relu(relay.nn.bias_add(relay.nn.dense(x, w), b)))
    cf = lower(dense)
    assert kinds(cf) == ["ExternStep", "KernelStep"]
    args = [rng.standard_normal(s).astype(F32) for s in ((4, 8), (16, 8), (16,))]
    close(run(cf, *args), reference(dense, *args))
    assert cf.flops == 2 * 4 * 16 * 8 + 4 * 16 * 2

    d = relay.var("d", shape=(1, 3, 7, 6))
    k = relay.var("k", shape=(4, 3, 3, 3))
    conv = prim([d, k], relay.add(relay.nn.conv2d(d, k, strides=2, padding=1), relay.const(0.5)))
    cf = lower(conv)
    assert kinds(cf) == ["KernelStep", "ExternStep", "KernelStep"]
    assert "im2col" in cf.get_source()
    args = [rng.standard_normal(s).astype(F32) for s in ((1, 3, 7, 6), (4, 3, 3, 3))]
    close(run(cf, *args), reference(conv, *args))

    k1 = relay.var("k1", shape=(5, 3, 1, 1))
    pointwise = prim([d, k1], relay.nn.conv2d(d, k1))
    cf = lower(pointwise)
    assert kinds(cf) == ["ExternStep"]
    args = [rng.standard_normal(s).astype(F32) for s in ((1, 3, 7, 6), (5, 3, 1, 1))]
    close(run(cf, *args), reference(pointwise, *args))

    nhwc = relay.var("nhwc", shape=(2, 5, 5, 3))
    hwio = relay.var("hwio", shape=(3, 3, 3, 4))
    conv_nhwc = prim(
        [nhwc, hwio],
        relay.nn.conv2d(nhwc, hwio, padding=1, data_layout="NHWC", kernel_layout="HWIO"),
    )
    cf = lower(conv_nhwc)
    assert "ExternStep" in kinds(cf)
    args = [rng.standard_normal(s).astype(F32) for s in ((2, 5, 5, 3), (3, 3, 3, 4))]
    close(run(cf, *args), reference(conv_nhwc, *args))

    g = relay.var("g", shape=(4, 1, 3, 3))
    e = relay.var("e", shape=(1, 4, 5, 5))
    depthwise = prim([e, g], relay.nn.conv2d(e, g, padding=1, groups=4))
    cf = lower(depthwise)
    assert kinds(cf) == ["KernelStep"]
    args = [rng.standard_normal(s).astype(F32) for s in ((1, 4, 5, 5), (4, 1, 3, 3))]
    close(run(cf, *args), reference(depthwise, *args))

    p = relay.var("p", shape=(2, 3, 4))
    q = relay.var("q", shape=(2, 5, 4))
    bmm = prim([p, q], relay.nn.batch_matmul(p, q))
    args = [rng.standard_normal(s).astype(F32) for s in ((2, 3, 4), (2, 5, 4))]
    close(run(lower(bmm), *args), reference(bmm, *args))
    with tvm.transform.PassContext(config={"numba.use_blas": False}):
        looped = lower(dense)
    assert kinds(looped) == ["KernelStep"]
    args = [rng.standard_normal(s).astype(F32) for s in ((4, 8), (16, 8), (16,))]
    close(run(looped, *args), reference(dense, *args))


@pytest.mark.spec("ENGINE-5")
def test_functions_without_te_computes_run_the_reference_kernels() -> None:
    x = relay.var("x", shape=(6,))
    values = relay.topk(x, 3, ret_type="values")
    assert isinstance(values, relay.Call)
    f = prim([x], relay.add(values, relay.const(1.0)))
    cf = lower(f)
    assert cf.backend == "interpreter"
    assert "topk" in cf.reason
    data = np.array([3, 1, 4, 1, 5, 9], F32)
    np.testing.assert_array_equal(run(cf, data)[0], [10, 6, 5])
    h = relay.var("h", shape=(3,), dtype="float16")
    half = prim([h], relay.add(h, h))
    cf = lower(half)
    assert cf.backend == "interpreter"
    assert "float16" in cf.reason
    np.testing.assert_array_equal(run(cf, np.ones(3, "float16"))[0], [2, 2, 2])


@pytest.mark.spec("ENGINE-5")
def test_attrs_the_te_compute_rejects_run_the_reference_kernels() -> None:
    x = relay.var("x", shape=(1, 2, 3, 3, 3))
    w = relay.var("w", shape=(2, 2, 2, 2, 2))
    f = prim([x, w], relay.nn.conv3d_transpose(x, w, dilation=(1, 2, 1)))
    cf = lower(f)
    assert cf.backend == "interpreter"
    assert "nn.conv3d_transpose" in cf.reason
    rng = np.random.default_rng(1)
    args = [rng.standard_normal(s).astype(F32) for s in ((1, 2, 3, 3, 3), (2, 2, 2, 2, 2))]
    close(run(cf, *args), reference(f, *args))


@pytest.mark.spec("ENGINE-6")
def test_flop_estimates() -> None:
    x = relay.var("x", shape=(3, 5))
    assert lower(prim([x], relay.add(x, x))).flops == 15
    assert lower(prim([x], relay.sum(x, axis=1))).flops == 15
    w = relay.var("w", shape=(7, 5))
    with tvm.transform.PassContext(config={"numba.use_blas": False}):
        looped = lower(prim([x, w], relay.nn.dense(x, w)))
    assert looped.flops == 2 * 3 * 7 * 5


@pytest.mark.spec("ENGINE-5")
def test_other_out_layouts_and_empty_tensors_run_the_reference_kernels() -> None:
    x = relay.var("x", shape=(1, 2, 4, 4))
    pooled = relay.nn.adaptive_max_pool2d(x, (2, 1), layout="NCHW", out_layout="NHWC")
    f = prim([x], pooled)
    cf = lower(f)
    assert cf.backend == "interpreter"
    assert "out_layout" in cf.reason
    data = np.random.default_rng(2).standard_normal((1, 2, 4, 4)).astype(F32)
    close(run(cf, data), reference(f, data))
    e = relay.var("e", shape=(2, 0, 3))
    empty = prim([e], relay.nn.max_pool1d(e, pool_size=2))
    cf = lower(empty)
    assert cf.backend == "interpreter"
    assert "empty tensor" in cf.reason
    zeros = np.zeros((2, 0, 3), F32)
    close(run(cf, zeros), reference(empty, zeros))


@pytest.mark.spec("ENGINE-7")
def test_bound_calls_lay_temporaries_out_in_the_given_scratch() -> None:
    rng = np.random.default_rng(7)
    d = relay.var("d", shape=(1, 3, 7, 6))
    k = relay.var("k", shape=(4, 3, 3, 3))
    conv = prim([d, k], relay.nn.relu(relay.nn.conv2d(d, k, padding=1)))
    cf = lower(conv)
    assert kinds(cf) == ["KernelStep", "ExternStep", "KernelStep"]
    # im2col (3*3*3*7*6 floats) and the product's result (4*7*6 floats), each 64-aligned.
    assert cf.scratch_bytes == 64 * -(-3 * 9 * 42 * 4 // 64) + 64 * -(-4 * 42 * 4 // 64)
    args = [rng.standard_normal(s).astype(F32) for s in ((1, 3, 7, 6), (4, 3, 3, 3))]
    want = reference(conv, *args)
    scratch = np.full(cf.scratch_bytes + 64, 0xFF, np.uint8)
    out = np.empty((1, 4, 7, 6), F32)
    call = cf.bind(args, [out], scratch)
    call()
    close([out], want)
    assert (scratch[cf.scratch_bytes :] == 0xFF).all()  # nothing written past the layout
    assert (scratch[: cf.scratch_bytes] != 0xFF).any()
    args[0][...] = 0.0  # a bound call reads its arrays as they are when called
    call()
    close([out], [np.zeros_like(out)])
    with pytest.raises(InternalError, match="scratch"):
        cf.bind(args, [out], np.empty(cf.scratch_bytes - 1, np.uint8))
    x = relay.var("x", shape=(3,))
    plain = lower(prim([x], relay.exp(x)))
    assert plain.scratch_bytes == 0
    y = np.empty(3, F32)
    plain.bind([np.zeros(3, F32)], [y])()
    np.testing.assert_array_equal(y, np.ones(3, F32))
