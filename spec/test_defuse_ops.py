"""FUSE: DefuseOps, the inverse of FuseOps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay import transform
from minitvm.relay.analysis import free_vars
from minitvm.relay.expr import Expr
from minitvm.relay.testing import run_opt_pass
from minitvm.tir import IntImm


def typed(func: Expr) -> Expr:
    return run_opt_pass(func, transform.InferType())


def round_trip(func: Expr) -> None:
    x = typed(func)
    fused = run_opt_pass(x, transform.FuseOps())
    assert not tvm.ir.structural_equal(fused, x)
    tvm.ir.assert_structural_equal(run_opt_pass(fused, transform.DefuseOps()), x)


@pytest.mark.spec("FUSE-19")
def test_pass_info() -> None:
    p = transform.DefuseOps()
    assert isinstance(p, tvm.transform.Pass)
    assert (p.info.name, p.info.opt_level, p.info.required) == ("DefuseOps", 3, ("InferType",))
    assert tvm.transform.get_pass("DefuseOps").info.name == "DefuseOps"


@pytest.mark.spec("FUSE-19")
def test_defuse_simple() -> None:
    x = relay.var("x", shape=(10, 20))
    round_trip(relay.Function([x], relay.squeeze(relay.exp(relay.add(x, relay.const(1.0))))))


@pytest.mark.spec("FUSE-19")
def test_inception_like() -> None:
    def conv_relu(data: Expr, cin: int, name: str) -> Expr:
        w = relay.var(name, shape=(4, cin, 3, 3))
        y = relay.nn.conv2d(data, w, kernel_size=(3, 3), padding=(1, 1), channels=4)
        return relay.nn.relu(y)

    x = relay.var("x", shape=(1, 4, 4, 4))
    in1 = relay.concatenate((conv_relu(x, 4, "w1"), conv_relu(x, 4, "w2")), axis=1)
    in2 = relay.concatenate((conv_relu(in1, 8, "w3"), conv_relu(in1, 8, "w4")), axis=1)
    round_trip(relay.Function(free_vars(in2), in2))


@pytest.mark.spec("FUSE-19")
def test_defuse_complex() -> None:
    """Hand-fused functions, without ``Primitive``, are inlined too."""
    consts = [relay.const(np.full((4,), v, "float32")) for v in (1.0, 0.5, 0.0, 1.0)]
    w1 = relay.const(np.ones((4, 3, 3, 3), "float32"))
    w2 = relay.const(np.ones((4, 3, 3, 4), "float32"))

    def conv(data: Expr, w: Expr, stride: int) -> Expr:
        return relay.nn.conv2d(
            data,
            w,
            strides=(stride, stride),
            padding=(1, 1, 1, 1),
            channels=4,
            kernel_size=(3, 3),
            data_layout="NHWC",
            kernel_layout="OHWI",
        )

    def bn(data: Expr, params: Sequence[Expr]) -> Expr:
        gamma, beta, mean, var = params
        return relay.nn.batch_norm(data, gamma, beta, mean, var, axis=3)[0]

    def pool(data: Expr) -> Expr:
        return relay.nn.max_pool2d(
            data, pool_size=(3, 3), strides=(2, 2), padding=(1, 1, 1, 1), layout="NHWC"
        )

    def bn_vars() -> list[relay.Var]:
        return [relay.var(f"bn{i}", shape=(4,)) for i in range(4)]

    def before() -> Expr:
        data = relay.var("data", shape=(1, 3, 16, 16))
        d1 = relay.layout_transform(data, src_layout="NCHW", dst_layout="NHWC")
        v0 = relay.var("data", shape=(1, 16, 16, 3))
        p0 = bn_vars()
        f0 = relay.Function([v0, *p0], bn(conv(v0, w1, 2), p0))
        v1 = relay.var("data1", shape=(1, 8, 8, 4))
        f1 = relay.Function([v1], pool(v1))
        v2 = relay.var("data2", shape=(1, 4, 4, 4))
        p2 = bn_vars()
        f2 = relay.Function([v2, *p2], relay.nn.relu(bn(conv(v2, w2, 1), p2)))
        a, b = relay.var("a", shape=(1, 4, 4, 4)), relay.var("b", shape=(1, 4, 4, 4))
        f3 = relay.Function([a, b], relay.nn.relu(relay.add(a, b)))
        y0 = relay.Call(f0, [d1, *consts])
        y1 = relay.Call(f1, [y0])
        y2 = relay.Call(f2, [y1, *consts])
        return relay.Function([data], relay.Call(f3, [y1, y2]))

    def expected() -> Expr:
        data = relay.var("data", shape=(1, 3, 16, 16))
        d1 = relay.layout_transform(data, src_layout="NCHW", dst_layout="NHWC")
        c3 = pool(bn(conv(d1, w1, 2), consts))
        c7 = relay.nn.relu(bn(conv(c3, w2, 1), consts))
        return relay.Function([data], relay.nn.relu(relay.add(c3, c7)))

    defused = run_opt_pass(typed(before()), transform.DefuseOps())
    tvm.ir.assert_structural_equal(defused, typed(expected()))


@pytest.mark.spec("FUSE-19")
def test_arguments_are_shared_and_input_unchanged() -> None:
    x = relay.var("x", shape=(3,))
    p = relay.var("p", shape=(3,))
    f = relay.Function([p], relay.add(p, p)).with_attr("Primitive", IntImm("int32", 1))
    arg = relay.exp(x)
    mod = transform.InferType()(IRModule.from_expr(relay.Function([x], relay.Call(f, [arg]))))
    text = mod.astext()
    out = transform.DefuseOps()(mod)
    assert mod.astext() == text
    main = out["main"]
    assert isinstance(main, relay.Function)
    body = main.body
    assert isinstance(body, relay.Call)
    assert body.args[0] is body.args[1]  # one exp, used twice
    tvm.ir.assert_structural_equal(
        out, transform.InferType()(IRModule.from_expr(relay.Function([x], relay.add(arg, arg))))
    )


@pytest.mark.spec("FUSE-19")
def test_only_parameters_are_substituted() -> None:
    """Variables the body binds, and variables it captures, are left alone."""
    x = relay.var("x", shape=(3,))
    p = relay.var("p", shape=(3,))
    v = relay.var("v", shape=(3,))
    inner = relay.Function([p], relay.Let(v, relay.exp(p), relay.add(v, x)))
    out = run_opt_pass(relay.Function([x], relay.Call(inner, [relay.negative(x)])), [])
    defused = run_opt_pass(out, transform.DefuseOps())
    xe = relay.var("x", shape=(3,))
    ve = relay.var("v", shape=(3,))
    expected = relay.Function([xe], relay.Let(ve, relay.exp(relay.negative(xe)), relay.add(ve, xe)))
    tvm.ir.assert_structural_equal(defused, typed(expected))


@pytest.mark.spec("FUSE-19")
def test_wrong_arity_is_an_error() -> None:
    from minitvm.relay.transform.defuse_ops import defuse_ops

    x = relay.var("x", shape=(3,))
    p = relay.var("p", shape=(3,))
    call = relay.Call(relay.Function([p], relay.exp(p)), [x, x])
    with pytest.raises(DiagnosticError, match="1 parameters is called with 2 arguments"):
        defuse_ops(relay.Function([x], call))
