"""FUSE: FuseOps, in TVM's before()/expected() style."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op, OpDef, register_op, register_op_attr
from minitvm.ir.type import Type
from minitvm.relay import transform
from minitvm.relay.analysis import free_vars, well_formed
from minitvm.relay.expr import Expr
from minitvm.relay.expr_functor import post_order
from minitvm.relay.testing import run_opt_pass
from minitvm.relay.transform.defuse_ops import defuse_ops
from minitvm.relay.transform.fuse_ops import fuse_ops
from minitvm.tir import IntImm

F32 = "float32"


def primitive(params: Sequence[relay.Var], body: Expr, **attrs: int) -> relay.Function:
    func = relay.Function(params, body).with_attr("Primitive", IntImm("int32", 1))
    for key, value in attrs.items():
        func = func.with_attr(key.replace("__", "."), IntImm("int32", value))
    return func


def fused(func: Expr, level: int = -1) -> Expr:
    return run_opt_pass(func, transform.FuseOps(fuse_opt_level=level))


def typed(func: Expr) -> Expr:
    return run_opt_pass(func, transform.InferType())


def check(before: Expr, expected: Expr, level: int = -1) -> None:
    tvm.ir.assert_structural_equal(fused(before, level), typed(expected))


def fn_of(out: Expr) -> relay.Function:
    return relay.Function(free_vars(out), out)


def conv(data: Expr, weight: Expr, size: int = 3) -> Expr:
    pad = (size - 1) // 2
    return relay.nn.conv2d(data, weight, kernel_size=(size, size), padding=(pad, pad), channels=16)


def primitive_calls(func: Expr) -> list[relay.Call]:
    return [
        n
        for n in post_order(func)
        if isinstance(n, relay.Call)
        and isinstance(n.op, relay.Function)
        and n.op.attrs.get("Primitive") is not None
    ]


def main_of(mod: IRModule) -> relay.Function:
    main = mod["main"]
    assert isinstance(main, relay.Function)
    return main


def fused_bodies(func: Expr) -> list[Expr]:
    bodies = []
    for call in primitive_calls(func):
        assert isinstance(call.op, relay.Function)
        bodies.append(call.op.body)
    return bodies


def num_calls(expr: Expr) -> int:
    return sum(isinstance(m, relay.Call) for m in post_order(expr))


# --- FUSE-1: the passes ----------------------------------------------------------------


@pytest.mark.spec("FUSE-1")
def test_pass_info_and_configs() -> None:
    p = transform.FuseOps()
    assert isinstance(p, tvm.transform.Pass)
    assert (p.info.name, p.info.opt_level, p.info.required) == ("FuseOps", 0, ("InferType",))
    assert tvm.transform.get_pass("FuseOps").info.name == "FuseOps"
    configs = tvm.transform.PassContext.list_configs()
    assert configs["relay.FuseOps.max_depth"] == "int"
    assert configs["relay.FuseOps.link_params"] == "bool"
    ctx = tvm.transform.PassContext()
    assert ctx.get_config("relay.FuseOps.max_depth") == 256
    assert ctx.get_config("relay.FuseOps.link_params") is False


@pytest.mark.spec("FUSE-1")
def test_requires_type_checked_input() -> None:
    x = relay.var("x", shape=(2,))
    mod = IRModule.from_expr(relay.Function([x], relay.exp(x)))
    with pytest.raises(DiagnosticError, match="InferType"):
        transform.FuseOps()(mod)
    # Inside a Sequential the required InferType runs first.
    out = tvm.transform.Sequential([transform.FuseOps()])(mod)
    assert len(primitive_calls(main_of(out))) == 1


# --- FUSE-2 / FUSE-3: output form and parameters ------------------------------------------


@pytest.mark.spec("FUSE-2")
def test_fuse_simple() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(10, 20))
        return relay.Function([x], relay.squeeze(relay.exp(relay.add(x, relay.const(1.0)))))

    def expected() -> Expr:
        p = relay.var("p", shape=(10, 20))
        f = primitive([p], relay.squeeze(relay.exp(relay.add(p, relay.const(1.0)))))
        x = relay.var("x", shape=(10, 20))
        return relay.Function([x], relay.Call(f, [x]))

    check(before(), expected())


@pytest.mark.spec("FUSE-2")
def test_fused_function_fields() -> None:
    x = relay.var("x", shape=(4, 3))
    out = fused(relay.Function([x], relay.exp(x)))
    assert isinstance(out, relay.Function)
    call = out.body
    assert isinstance(call, relay.Call)
    assert isinstance(call.op, relay.Function)
    func = call.op
    assert func.attrs["Primitive"] == IntImm("int32", 1)
    assert func.ret_type == relay.TensorType((4, 3))
    assert func.type_params == ()
    assert [p.name_hint for p in func.params] == ["p0"]
    assert func.params[0].type_annotation == relay.TensorType((4, 3))
    assert call.args == (x,)
    assert call.checked_type == relay.TensorType((4, 3))


@pytest.mark.spec("FUSE-3")
def test_conv2d_fuse() -> None:
    dshape = (1, 16, 8, 8)
    wshape = (16, 16, 3, 3)
    w1shape = (16, 16, 1, 1)

    def before() -> Expr:
        x = relay.var("x", shape=dshape)
        x1 = relay.add(x, relay.const(1.0))
        y = conv(x1, relay.var("w1", shape=wshape))
        y1 = relay.add(relay.const(1.0), y)  # the elementwise post-dominator of y
        y = relay.add(y, y1)
        z2 = conv(y, relay.var("w2", shape=w1shape), 1)
        z3 = conv(y, relay.var("w3", shape=wshape))
        return fn_of(relay.add(z2, z3))  # the add fuses only into the first conv

    def expected() -> Expr:
        p0 = relay.var("p0", shape=dshape)
        f0 = primitive([p0], relay.add(p0, relay.const(1.0)))
        p0, p1 = relay.var("p0", shape=dshape), relay.var("p1", shape=wshape)
        y = conv(p0, p1)
        f1 = primitive([p0, p1], relay.add(y, relay.add(relay.const(1.0), y)))
        p0, p1 = relay.var("p0", shape=dshape), relay.var("p1", shape=wshape)
        f2 = primitive([p0, p1], conv(p0, p1))
        # Parameters in walk order: the 1x1 conv's inputs, then the add's other input.
        p0, p1 = relay.var("p0", shape=dshape), relay.var("p1", shape=w1shape)
        p2 = relay.var("p2", shape=dshape)
        f3 = primitive([p0, p1, p2], relay.add(conv(p0, p1, 1), p2))
        x = relay.var("x", shape=dshape)
        y = relay.Call(f1, [relay.Call(f0, [x]), relay.var("w1", shape=wshape)])
        z2 = relay.Call(f2, [y, relay.var("w3", shape=wshape)])
        return fn_of(relay.Call(f3, [y, relay.var("w2", shape=w1shape), z2]))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-3")
def test_one_parameter_per_distinct_value() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(10, 1))
        return fn_of(relay.exp(relay.concatenate([x, x], axis=-1)))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=(10, 1))
        f = primitive([p0], relay.exp(relay.concatenate([p0, p0], axis=-1)))
        x = relay.var("x", shape=(10, 1))
        return relay.Function([x], relay.Call(f, [x]))

    check(before(), expected())


# --- FUSE-4: fusion level --------------------------------------------------------------


@pytest.mark.spec("FUSE-4")
def test_level_zero_wraps_each_call() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(10, 20))
        return relay.Function([x], relay.exp(relay.add(x, relay.const(1.0))))

    def expected() -> Expr:
        # Each call alone: the scalar constant is a group of its own, hence a parameter.
        p0, p1 = relay.var("p0", shape=(10, 20)), relay.var("p1", shape=())
        f0 = primitive([p0, p1], relay.add(p0, p1))
        p0 = relay.var("p0", shape=(10, 20))
        f1 = primitive([p0], relay.exp(p0))
        x = relay.var("x", shape=(10, 20))
        return relay.Function([x], relay.Call(f1, [relay.Call(f0, [x, relay.const(1.0)])]))

    check(before(), expected(), 0)
    with tvm.transform.PassContext(opt_level=0):
        check(before(), expected())  # -1 takes the context's level
    with tvm.transform.PassContext(opt_level=0):
        assert len(primitive_calls(fused(before(), 1))) == 1  # an explicit level wins


@pytest.mark.spec("FUSE-4")
def test_level_zero_has_no_free_variables() -> None:
    x = relay.var("x", shape=(1, 6))
    w = relay.var("w", shape=(6, 2))
    parts = relay.split(relay.nn.dense(x, relay.transpose(w)), 2, axis=1)
    f = relay.Function([x, w], relay.sigmoid(parts[0]) + relay.tanh(parts[1]))
    out = fused(f, 0)
    assert not free_vars(out)
    assert well_formed(out)
    # transpose, dense, split, sigmoid, tanh, add; a projection out of another group's
    # tuple stays a plain projection.
    assert len(primitive_calls(out)) == 6


# --- FUSE-5 / FUSE-6: pattern rules ------------------------------------------------------


@pytest.mark.spec("FUSE-5")
def test_softmax_fuses_with_cast() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(4, 8))
        return relay.Function([x], relay.cast(relay.nn.softmax(x), "float16"))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=(4, 8))
        f = primitive([p0], relay.cast(relay.nn.softmax(p0), "float16"))
        x = relay.var("x", shape=(4, 8))
        return relay.Function([x], relay.Call(f, [x]))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-5")
def test_broadcast_into_reduction() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(), dtype="int32")
        return relay.Function([x], relay.min(relay.less(x, relay.const(10, "int32"))))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=(), dtype="int32")
        f = primitive([p0], relay.min(relay.less(p0, relay.const(10, "int32"))))
        x = relay.var("x", shape=(), dtype="int32")
        return relay.Function([x], relay.Call(f, [x]))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-5")
def test_parallel_injective_into_elementwise() -> None:
    def body(x: Expr) -> Expr:
        y = relay.add(x, relay.const(1, "int32"))
        return relay.left_shift(relay.squeeze(y), relay.transpose(y, axes=[0, 1]))

    x = relay.var("x", shape=(10, 20), dtype="int32")
    p = relay.var("p", shape=(10, 20), dtype="int32")
    xe = relay.var("x", shape=(10, 20), dtype="int32")
    check(relay.Function([x], body(x)), relay.Function([xe], primitive([p], body(p))(xe)), 2)


@pytest.mark.spec("FUSE-5")
def test_reduction_and_opaque_stay_alone() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(4, 8))
        s = relay.sum(relay.exp(x), axis=[1])
        return relay.Function([x], relay.exp(relay.argsort(s)))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=(4, 8))
        f0 = primitive([p0], relay.sum(relay.exp(p0), axis=[1]))
        p0 = relay.var("p0", shape=(4,))
        f1 = primitive([p0], relay.argsort(p0))
        p0 = relay.var("p0", shape=(4,), dtype="int32")
        f2 = primitive([p0], relay.exp(relay.cast(p0, "float32")))
        x = relay.var("x", shape=(4, 8))
        return relay.Function([x], relay.Call(f2, [relay.Call(f1, [relay.Call(f0, [x])])]))

    def before_cast() -> Expr:
        x = relay.var("x", shape=(4, 8))
        s = relay.sum(relay.exp(x), axis=[1])
        return relay.Function([x], relay.exp(relay.cast(relay.argsort(s), "float32")))

    check(before_cast(), expected(), 2)


@pytest.mark.spec("FUSE-5")
def test_second_anchor_does_not_join() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(4, 8))
        w = relay.var("w", shape=(8, 8))
        return relay.Function([x, w], relay.nn.softmax(relay.nn.dense(x, w)))

    def expected() -> Expr:
        p0, p1 = relay.var("p0", shape=(4, 8)), relay.var("p1", shape=(8, 8))
        f0 = primitive([p0, p1], relay.nn.dense(p0, p1))
        p0 = relay.var("p0", shape=(4, 8))
        f1 = primitive([p0], relay.nn.softmax(p0))
        x, w = relay.var("x", shape=(4, 8)), relay.var("w", shape=(8, 8))
        return relay.Function([x, w], relay.Call(f1, [relay.Call(f0, [x, w])]))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-6")
def test_broadcast_edge_of_equal_shape_is_elementwise() -> None:
    dshape = (1, 16, 4, 4)
    wshape = (16, 16, 3, 3)

    def conv_add(other_shape: tuple[int, ...]) -> relay.Function:
        x = relay.var("x", shape=dshape)
        w = relay.var("w", shape=wshape)
        b = relay.var("b", shape=other_shape)
        return relay.Function([x, w, b], relay.add(conv(x, w), b))

    # The conv output has the add's shape: the edge is elementwise and the add joins.
    out = fused(conv_add((16, 1, 1)))
    assert len(primitive_calls(out)) == 1
    # The add broadcasts the conv output to a larger shape: the conv stays alone.
    out = fused(conv_add((2, 16, 4, 4)))
    assert len(primitive_calls(out)) == 2


# --- FUSE-7: tuples ------------------------------------------------------------------


def _pool(x: Expr) -> Expr:
    return relay.nn.max_pool2d(x, pool_size=(2, 2), strides=(2, 2))


@pytest.mark.spec("FUSE-7")
def test_concatenate() -> None:
    dshape = (1, 4, 8, 8)

    def before() -> Expr:
        x = relay.var("x", shape=dshape)
        up = relay.reshape(_pool(x), (1, 1, 8, 8))  # an injective producer
        concat = relay.concatenate((up, x), axis=1)
        return fn_of(relay.add(concat, relay.const(1.0)))

    def expected() -> Expr:
        x = relay.var("x", shape=dshape)
        f0 = primitive([x], _pool(x))
        p0, p1 = relay.var("p0", shape=(1, 4, 4, 4)), relay.var("p1", shape=dshape)
        up = relay.reshape(p0, (1, 1, 8, 8))
        out = relay.add(relay.concatenate((up, p1), axis=1), relay.const(1.0))
        f1 = primitive([p0, p1], out)
        x = relay.var("x", shape=dshape)
        return relay.Function([x], relay.Call(f1, [relay.Call(f0, [x]), x]))

    assert not free_vars(fused(before(), 0))
    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-7")
def test_tuple_root() -> None:
    dshape = (1, 4, 8, 8)

    def before() -> Expr:
        x = relay.var("x", shape=dshape)
        up = relay.reshape(_pool(x), (1, 1, 8, 8))
        return fn_of(relay.Tuple((up, x)))

    def expected() -> Expr:
        x = relay.var("x", shape=dshape)
        f0 = primitive([x], _pool(x))
        p0 = relay.var("p0", shape=(1, 4, 4, 4))
        f1 = primitive([p0], relay.reshape(p0, (1, 1, 8, 8)), relay__reshape_only=1)
        x = relay.var("x", shape=dshape)
        z = relay.Call(f1, [relay.Call(f0, [x])])
        return relay.Function([x], relay.Tuple((z, x)))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-7")
def test_tuple_intermediate() -> None:
    dshape = (1, 4, 6, 6)

    def body(x: Expr) -> Expr:
        inj = relay.squeeze(x)
        y1 = relay.add(inj, relay.const(1.0))
        tmp = relay.add(relay.squeeze(inj), relay.const(1.0))
        y2 = relay.add(tmp, relay.const(1.0))
        y3 = relay.add(inj, relay.const(1.0))
        out_inj = relay.squeeze(relay.concatenate((y1, y2, y3), axis=1))
        return relay.add(out_inj, relay.const(1.0))

    x = relay.var("x", shape=dshape)
    p = relay.var("p", shape=dshape)
    xe = relay.var("x", shape=dshape)
    check(relay.Function([x], body(x)), relay.Function([xe], primitive([p], body(p))(xe)), 2)


@pytest.mark.spec("FUSE-7")
def test_tuple_consecutive() -> None:
    dshape = (1, 2, 4, 4)

    def intermediate(x: Expr) -> Expr:
        ys = [relay.add(x, relay.const(1.0)) for _ in range(3)]
        return relay.add(relay.concatenate(ys, axis=1), relay.const(1.0))

    def consecutive(x: Expr) -> Expr:
        return relay.concatenate([intermediate(x) for _ in range(3)], axis=1)

    def before() -> Expr:
        x = relay.var("x", shape=dshape)
        out = relay.add(_pool(consecutive(x)), relay.const(1.0))
        out2 = relay.add(out, relay.const(1.0))
        return fn_of(relay.Tuple((out, out2)))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=dshape)
        f0 = primitive([p0], consecutive(p0))
        p0 = relay.var("p0", shape=(1, 18, 4, 4))
        f1 = primitive([p0], relay.add(_pool(p0), relay.const(1.0)))
        p0 = relay.var("p0", shape=(1, 18, 2, 2))
        f2 = primitive([p0], relay.add(p0, relay.const(1.0)))
        x = relay.var("x", shape=dshape)
        z = relay.Call(f1, [relay.Call(f0, [x])])
        return relay.Function([x], relay.Tuple((z, relay.Call(f2, [z]))))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-7")
def test_inception_like() -> None:
    dshape = (1, 4, 4, 4)

    def conv_relu(data: Expr, w: Expr) -> Expr:
        return relay.nn.relu(
            relay.nn.conv2d(data, w, kernel_size=(3, 3), padding=(1, 1), channels=4)
        )

    def wvar(name: str, cin: int) -> relay.Var:
        return relay.var(name, shape=(4, cin, 3, 3))

    def before() -> Expr:
        x = relay.var("x", shape=dshape)
        c1 = relay.concatenate((conv_relu(x, wvar("w1", 4)), conv_relu(x, wvar("w2", 4))), 1)
        c2 = relay.concatenate((conv_relu(c1, wvar("w3", 8)), conv_relu(c1, wvar("w4", 8))), 1)
        return fn_of(c2)

    def expected() -> Expr:
        def conv_fn(cin: int) -> relay.Function:
            p0, p1 = relay.var("p0", shape=(1, cin, 4, 4)), wvar("p1", cin)
            return primitive([p0, p1], conv_relu(p0, p1))

        def concat_fn() -> relay.Function:
            p0, p1 = relay.var("p0", shape=dshape), relay.var("p1", shape=dshape)
            return primitive([p0, p1], relay.concatenate((p0, p1), axis=1))

        x = relay.var("x", shape=dshape)
        c1 = relay.Call(conv_fn(4), [x, wvar("w1", 4)])
        c2 = relay.Call(conv_fn(4), [x, wvar("w2", 4)])
        concat = relay.Call(concat_fn(), [c1, c2])
        c3 = relay.Call(conv_fn(8), [concat, wvar("w3", 8)])
        c4 = relay.Call(conv_fn(8), [concat, wvar("w4", 8)])
        return fn_of(relay.Call(concat_fn(), [c3, c4]))

    check(before(), expected(), 2)


# --- FUSE-8: projections ---------------------------------------------------------------


@pytest.mark.spec("FUSE-8")
def test_tuple_get_elemwise() -> None:
    dim = 4

    def body(parts: relay.TupleWrapper) -> Expr:
        return relay.sigmoid(parts[0]) + relay.tanh(parts[1]) * relay.exp(parts[2])

    def before() -> Expr:
        x, w = relay.var("X", shape=(1, dim)), relay.var("W", shape=(3 * dim, dim))
        parts = relay.split(relay.nn.dense(x, w), indices_or_sections=3, axis=1)
        return relay.Function([x, w], body(parts))

    def expected() -> Expr:
        p0, p1 = relay.var("p0", shape=(1, dim)), relay.var("p1", shape=(3 * dim, dim))
        f0 = primitive([p0, p1], relay.nn.dense(p0, p1))
        p0 = relay.var("p0", shape=(1, 3 * dim))
        f1 = primitive([p0], body(relay.split(p0, indices_or_sections=3, axis=1)))
        x, w = relay.var("X", shape=(1, dim)), relay.var("W", shape=(3 * dim, dim))
        return relay.Function([x, w], relay.Call(f1, [relay.Call(f0, [x, w])]))

    assert not free_vars(fused(before(), 0))
    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-8")
def test_tuple_get_root() -> None:
    dim = 4

    def before() -> Expr:
        x, w = relay.var("X", shape=(1, 3 * dim)), relay.var("W", shape=(dim, dim))
        parts = relay.split(x, indices_or_sections=3, axis=1)
        return relay.Function([x, w], relay.nn.dense(parts[0], w))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=(1, 3 * dim))
        f0 = primitive([p0], relay.split(p0, indices_or_sections=3, axis=1)[0])
        p0, p1 = relay.var("p0", shape=(1, dim)), relay.var("p1", shape=(dim, dim))
        f1 = primitive([p0, p1], relay.nn.dense(p0, p1))
        x, w = relay.var("X", shape=(1, 3 * dim)), relay.var("W", shape=(dim, dim))
        return relay.Function([x, w], relay.Call(f1, [relay.Call(f0, [x]), w]))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-8")
def test_projection_of_opaque_tuple_stays_plain() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(6,))
        res = relay.topk(x, k=2, ret_type="both")
        return relay.Function([x], relay.Tuple((res[0], res[1])))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=(6,))
        f = primitive([p0], relay.topk(p0, k=2, ret_type="both").astuple())
        x = relay.var("x", shape=(6,))
        t = relay.Call(f, [x])
        return relay.Function([x], relay.Tuple((relay.TupleGetItem(t, 0), t[1])))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-8")
def test_projection_from_non_tensor_tuple_is_opaque() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(3,))
        t = relay.var("t", relay.TupleType([relay.TensorType((3,)), relay.TupleType([])]))
        return relay.Function([x, t], relay.exp(relay.TupleGetItem(t, 0)) + x)

    def expected() -> Expr:
        p0, p1 = relay.var("p0", shape=(3,)), relay.var("p1", shape=(3,))
        f = primitive([p0, p1], relay.exp(p0) + p1)
        x = relay.var("x", shape=(3,))
        t = relay.var("t", relay.TupleType([relay.TensorType((3,)), relay.TupleType([])]))
        return relay.Function([x, t], relay.Call(f, [relay.TupleGetItem(t, 0), x]))

    check(before(), expected(), 2)


# --- FUSE-9: constants ----------------------------------------------------------------


@pytest.mark.spec("FUSE-9")
@pytest.mark.parametrize("link_params", [False, True])
def test_fuse_take(link_params: bool) -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(10, 1))
        concat = relay.concatenate([x, x], axis=-1)
        return fn_of(relay.take(concat, indices=relay.const([0], dtype="int64")))

    def expected() -> Expr:
        p0, p1 = relay.var("p0", shape=(10, 1)), relay.var("p1", shape=(1,), dtype="int64")
        c = relay.const([0], dtype="int64")
        out = relay.take(relay.concatenate([p0, p0], axis=-1), indices=c if link_params else p1)
        f0 = primitive([p0] if link_params else [p0, p1], out)
        x = relay.var("x", shape=(10, 1))
        return relay.Function([x], relay.Call(f0, [x] if link_params else [x, c]))

    config = {"relay.FuseOps.link_params": link_params}
    with tvm.transform.PassContext(opt_level=2, config=config):
        check(before(), expected())


@pytest.mark.spec("FUSE-9")
@pytest.mark.parametrize("link_params", [False, True])
def test_fuse_gather_nd(link_params: bool) -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(10, 1))
        concat = relay.concatenate([x, x], axis=-1)
        return fn_of(relay.gather_nd(concat, relay.const([[0, 1], [1, 0]], dtype="int64")))

    def expected() -> Expr:
        p0, p1 = relay.var("p0", shape=(10, 1)), relay.var("p1", shape=(2, 2), dtype="int64")
        c = relay.const([[0, 1], [1, 0]], dtype="int64")
        concat = relay.concatenate([p0, p0], axis=-1)
        out = relay.gather_nd(concat, c if link_params else p1)
        f0 = primitive([p0] if link_params else [p0, p1], out)
        x = relay.var("x", shape=(10, 1))
        return relay.Function([x], relay.Call(f0, [x] if link_params else [x, c]))

    config = {"relay.FuseOps.link_params": link_params}
    with tvm.transform.PassContext(opt_level=2, config=config):
        check(before(), expected())


@pytest.mark.spec("FUSE-9")
@pytest.mark.parametrize(
    ("dtype", "inline"),
    [
        ("int32", True),
        ("int64", True),
        ("float32", True),
        ("float64", True),
        ("bool", True),
        ("float16", False),
        ("int8", False),
        ("uint8", False),
    ],
)
def test_scalar_constant_dtypes(dtype: str, inline: bool) -> None:
    def build(x: Expr, c: Expr) -> Expr:
        return relay.exp(relay.cast(relay.add(x, c), "float32"))

    x = relay.var("x", shape=(3,), dtype=dtype)
    c = relay.const(np.array(1).astype(dtype), dtype)
    out = fused(relay.Function([x], build(x, c)), 2)
    assert isinstance(out, relay.Function)
    (call,) = primitive_calls(out)
    constants = [a for a in call.args if isinstance(a, relay.Constant)]
    assert len(constants) == (0 if inline else 1)
    assert len(call.args) == (1 if inline else 2)


# --- FUSE-10 / FUSE-11: limits --------------------------------------------------------


def _exp_chain(x: Expr, n: int) -> Expr:
    for _ in range(n):
        x = relay.exp(x)
    return x


def _chain_expected(n: int, cap: int) -> Expr:
    x = relay.var("x", shape=(10, 20))
    out: Expr = x
    done = 0
    while done < n:
        size = min(cap, n - done)
        p = relay.var("p", shape=(10, 20))
        out = relay.Call(primitive([p], _exp_chain(p, size)), [out])
        done += size
    return relay.Function([x], out)


@pytest.mark.spec("FUSE-10")
def test_max_depth_fills_from_the_input_side() -> None:
    x = relay.var("x", shape=(10, 20))
    check(relay.Function([x], _exp_chain(x, 300)), _chain_expected(300, 256))
    x = relay.var("x", shape=(10, 20))
    before = relay.Function([x], _exp_chain(x, 20))
    with tvm.transform.PassContext(config={"relay.FuseOps.max_depth": 10}):
        check(before, _chain_expected(20, 10))
        # A target's max_function_args does not change a one-input chain.
        with tvm.target.Target("llvm -max_function_args=31"):
            check(before, _chain_expected(20, 10))


@pytest.mark.spec("FUSE-10")
def test_max_depth_diamonds() -> None:
    branch_len, num_diamond = 5, 3

    def diamond(x: Expr) -> Expr:
        return relay.add(_exp_chain(x, branch_len), _exp_chain(x, branch_len))

    def before() -> Expr:
        x = relay.var("x", shape=(10, 20))
        out: Expr = x
        for _ in range(num_diamond):
            out = diamond(out)
        return relay.Function([x], out)

    def expected() -> Expr:
        x = relay.var("x", shape=(10, 20))
        out: Expr = x
        for _ in range(num_diamond):
            p = relay.var("p", shape=(10, 20))
            out = relay.Call(primitive([p], diamond(p)), [out])
        return relay.Function([x], out)

    with tvm.transform.PassContext(config={"relay.FuseOps.max_depth": 2 * branch_len + 1}):
        check(before(), expected())


def _max_args_program(n: int, suffix: str = "x") -> tuple[list[relay.Var], Expr]:
    inputs = [relay.var(f"{suffix}{i}", shape=(10, 20)) for i in range(n)]
    outs = [relay.exp(relay.add(x, relay.const(1.0))) for x in inputs]
    w = outs[0]
    for o in outs[1:]:
        w = relay.add(w, o)
    return inputs, w


def _max_args_expected(n: int, limit: int) -> Expr:
    """TVM's expectation: the first inputs fill one function up to the argument limit;
    each later input gets its own function, accumulated by one add function each."""
    params, body = _max_args_program(limit, "p")
    xs = [relay.var(f"x{i}", shape=(10, 20)) for i in range(limit)]
    out: Expr = relay.Call(primitive(params, body), xs)
    for i in range(limit, n):
        xi = relay.var(f"x{i}", shape=(10, 20))
        xs.append(xi)
        p = relay.var("p", shape=(10, 20))
        w = relay.Call(primitive([p], relay.exp(relay.add(p, relay.const(1.0)))), [xi])
        a, b = relay.var("a", shape=(10, 20)), relay.var("b", shape=(10, 20))
        out = relay.Call(primitive([a, b], relay.add(a, b)), [out, w])
    return relay.Function(xs, out)


@pytest.mark.spec("FUSE-11")
@pytest.mark.parametrize("max_args", [31, 12])
def test_max_function_args(max_args: int) -> None:
    n = 40
    inputs, body = _max_args_program(n)
    before = relay.Function(inputs, body)
    with (
        tvm.target.Target(f"llvm -max_function_args={max_args}"),
        tvm.transform.PassContext(config={"relay.FuseOps.max_depth": 5 * n}),
    ):
        out = fused(before)
    # One buffer for the output: max_args - 1 inputs fit.
    tvm.ir.assert_structural_equal(out, typed(_max_args_expected(n, max_args - 1)))


@pytest.mark.spec("FUSE-11")
def test_no_argument_limit_without_target() -> None:
    n = 40
    inputs, body = _max_args_program(n)
    with tvm.transform.PassContext(config={"relay.FuseOps.max_depth": 5 * n}):
        out = fused(relay.Function(inputs, body))
        with tvm.target.Target("cuda"):  # a target without the attribute
            out_cuda = fused(relay.Function(inputs, body))
    assert len(primitive_calls(out)) == 1
    tvm.ir.assert_structural_equal(out, out_cuda)


# --- FUSE-12: stop_fusion -----------------------------------------------------------------


@pytest.mark.spec("FUSE-12")
def test_stop_fusion() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(10, 20))
        y = relay.annotation.stop_fusion(relay.add(x, relay.const(1.0)))
        return relay.Function([x], relay.exp(y))

    def expected() -> Expr:
        p0 = relay.var("p0", shape=(10, 20))
        f1 = primitive([p0], relay.add(p0, relay.const(1.0)))
        p01 = relay.var("p01", shape=(10, 20))
        f2 = primitive([p01], relay.exp(p01))
        x = relay.var("x", shape=(10, 20))
        return relay.Function([x], relay.Call(f2, [relay.Call(f1, [x])]))

    check(before(), expected())


# --- FUSE-13: boundaries ---------------------------------------------------------------


@pytest.mark.spec("FUSE-13")
def test_myia_regression_if_condition() -> None:
    def before() -> Expr:
        x, y = relay.var("x", shape=(), dtype="int64"), relay.var("y", shape=(), dtype="int64")
        sb = relay.ScopeBuilder()
        with sb.if_scope(relay.greater(x, y)):
            sb.ret(relay.Function([], x))
        with sb.else_scope():
            sb.ret(relay.Function([], y))
        return relay.Function([x, y], relay.Call(sb.get(), []))

    def expected() -> Expr:
        x, y = relay.var("x", shape=(), dtype="int64"), relay.var("y", shape=(), dtype="int64")
        p1, p2 = relay.var("p1", shape=(), dtype="int64"), relay.var("p2", shape=(), dtype="int64")
        fused_gt = primitive([p1, p2], relay.greater(p1, p2))
        sb = relay.ScopeBuilder()
        with sb.if_scope(fused_gt(x, y)):
            sb.ret(relay.Function([], x))
        with sb.else_scope():
            sb.ret(relay.Function([], y))
        return relay.Function([x, y], relay.Call(sb.get(), []))

    check(before(), expected())


@pytest.mark.spec("FUSE-13")
def test_let_and_if_are_boundaries() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(3,))
        c = relay.var("c", shape=(), dtype="bool")
        a = relay.var("a")
        e = relay.exp(x)
        value = relay.add(e, relay.const(1.0))
        ite = relay.If(c, relay.exp(a), relay.negative(a))
        return relay.Function([x, c], relay.Let(a, value, relay.sqrt(ite)))

    def expected() -> Expr:
        x = relay.var("x", shape=(3,))
        c = relay.var("c", shape=(), dtype="bool")
        a = relay.var("a", shape=(3,))

        def unary(op: Expr) -> relay.Function:
            p = relay.var("p0", shape=(3,))
            return primitive([p], relay.Call(op, [p]))

        p = relay.var("p0", shape=(3,))
        f_value = primitive([p], relay.add(relay.exp(p), relay.const(1.0)))
        ite = relay.If(
            c, relay.Call(unary(Op.get("exp")), [a]), relay.Call(unary(Op.get("negative")), [a])
        )
        body = relay.Call(unary(Op.get("sqrt")), [ite])
        return relay.Function([x, c], relay.Let(a, relay.Call(f_value, [x]), body))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-13")
def test_nested_functions() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(3,))
        y, z, w = (relay.var(n, shape=(3,)) for n in "yzw")
        inner = relay.Function([y], relay.exp(relay.exp(y)))
        done = primitive([z], relay.negative(z))
        ext = relay.Function([w], relay.log(w)).with_attr("Compiler", "ext")
        return relay.Function([x], relay.Call(ext, [relay.Call(done, [relay.Call(inner, [x])])]))

    def expected() -> Expr:
        x = relay.var("x", shape=(3,))
        y, z, w = (relay.var(n, shape=(3,)) for n in "yzw")
        p = relay.var("p0", shape=(3,))
        inner = relay.Function([y], relay.Call(primitive([p], relay.exp(relay.exp(p))), [y]))
        done = primitive([z], relay.negative(z))
        ext = relay.Function([w], relay.log(w)).with_attr("Compiler", "ext")
        return relay.Function([x], relay.Call(ext, [relay.Call(done, [relay.Call(inner, [x])])]))

    check(before(), expected(), 2)


@pytest.mark.spec("FUSE-13")
def test_non_computational_operator_kept_plain() -> None:
    def rel(arg_types: list[Type], attrs: object) -> Type:
        return arg_types[0]

    name = "spec_fuse.mark"
    register_op(OpDef(name, num_inputs=1, type_rel=rel, non_computational=True))
    mark = Op.get(name)
    x = relay.var("x", shape=(3,))
    before = relay.Function([x], relay.exp(relay.Call(mark, [relay.exp(x)])))
    p0, p1 = relay.var("p0", shape=(3,)), relay.var("p0", shape=(3,))
    f0, f1 = primitive([p0], relay.exp(p0)), primitive([p1], relay.exp(p1))
    xe = relay.var("x", shape=(3,))
    expected = relay.Function([xe], relay.Call(f1, [relay.Call(mark, [relay.Call(f0, [xe])])]))
    check(before, expected, 2)
    # With a QNN canonicalization, the operator is an ordinary (opaque) call and is wrapped.
    register_op_attr(name, "FTVMQnnCanonicalize", lambda *a: None)
    out = fused(before, 2)
    assert len(primitive_calls(out)) == 3


@pytest.mark.spec("FUSE-13")
def test_closure_call_is_opaque() -> None:
    x = relay.var("x", shape=(3,))
    g = relay.var("g", relay.FuncType([relay.TensorType((3,))], relay.TensorType((3,))))
    before = relay.Function([x, g], relay.exp(relay.Call(g, [relay.exp(x)])))
    out = fused(before, 2)
    assert isinstance(out, relay.Function)
    bodies = fused_bodies(out)
    assert len(bodies) == 2  # the exps do not join the closure call
    assert all(num_calls(b) == 1 for b in bodies)


# --- FUSE-14 / FUSE-15: attributes --------------------------------------------------------


@pytest.mark.spec("FUSE-14")
def test_reshape_only() -> None:
    def before() -> Expr:
        x = relay.var("x", shape=(2, 3))
        y = relay.expand_dims(relay.reshape(x, (3, 2)), 0)
        return relay.Function([x], relay.squeeze(y))

    def expected() -> Expr:
        p = relay.var("p0", shape=(2, 3))
        body = relay.squeeze(relay.expand_dims(relay.reshape(p, (3, 2)), 0))
        x = relay.var("x", shape=(2, 3))
        return relay.Function([x], relay.Call(primitive([p], body, relay__reshape_only=1), [x]))

    check(before(), expected(), 2)
    # One non-reshape call in the group and the mark is gone.
    x = relay.var("x", shape=(2, 3))
    out = fused(relay.Function([x], relay.exp(relay.reshape(x, (3, 2)))), 2)
    (call,) = primitive_calls(out)
    assert isinstance(call.op, relay.Function)
    assert call.op.attrs.get("relay.reshape_only") is None


@pytest.mark.spec("FUSE-15")
def test_group_without_calls_is_primitive_zero() -> None:
    x = relay.var("x", shape=(3,))
    y = relay.var("y", shape=(3,))
    # The tuple joins its projection, which is the function's result: no call is fused.
    out = fused(relay.Function([x, y], relay.TupleGetItem(relay.Tuple((x, y)), 1)), 2)
    (call,) = [
        n for n in post_order(out) if isinstance(n, relay.Call) and isinstance(n.op, relay.Function)
    ]
    assert isinstance(call.op, relay.Function)
    assert call.op.attrs["Primitive"] == IntImm("int32", 0)
    assert not call.op.is_primitive()


# --- FUSE-16: purity of the pass, well-formed output -------------------------------------


@pytest.mark.spec("FUSE-16")
def test_immutable() -> None:
    def before() -> IRModule:
        x = relay.var("x", shape=(10, 20))
        mod = IRModule()
        mod["main"] = relay.Function([x], relay.squeeze(relay.exp(relay.add(x, relay.const(1.0)))))
        return mod

    mod = transform.InferType()(before())
    text = mod.astext()
    new_mod = transform.FuseOps(fuse_opt_level=2)(mod)
    assert mod.astext() == text
    tvm.ir.assert_structural_equal(mod, transform.InferType()(before()))
    assert new_mod is not mod
    assert len(primitive_calls(main_of(new_mod))) == 1


@pytest.mark.spec("FUSE-16")
def test_split_result_is_well_formed() -> None:
    x = relay.var("x", shape=(6, 9))
    y = relay.split(x, 3).astuple()
    a, b, c = (relay.TupleGetItem(y, i) for i in range(3))
    v = relay.var("v")
    main = relay.Function([x], relay.Let(v, b, a + v) + c)
    mod = transform.FuseOps()(transform.InferType()(IRModule.from_expr(main)))
    out = main_of(mod)
    assert well_formed(out)
    assert not free_vars(out)
    for call in primitive_calls(out):
        assert not free_vars(call.op)
    data = np.arange(54, dtype="float32").reshape(6, 9)
    got = relay.create_executor("debug", mod=mod).evaluate()(data).numpy()
    np.testing.assert_array_equal(got, data[0:2] + data[2:4] + data[4:6])


# --- FUSE-17: deep and shared programs -----------------------------------------------------


def _deep_round_trip(body: Expr, x: relay.Var) -> list[Expr]:
    """Type once, fuse and defuse with the passes' cores (the type checks around them are
    InferType's own deep tests); the bodies of the fused functions."""
    typed = typed_fn(relay.Function([x], body))
    out = fuse_ops(typed, 2)
    tvm.ir.assert_structural_equal(defuse_ops(out), typed)
    return fused_bodies(out)


def typed_fn(func: relay.Function) -> relay.Function:
    return main_of(transform.InferType()(IRModule.from_expr(func)))


@pytest.mark.slow
@pytest.mark.spec("FUSE-17", "FUSE-19")
def test_deep_call_chain() -> None:
    n = 100_000
    x = relay.var("x", shape=(2,))
    sizes = sorted(num_calls(b) for b in _deep_round_trip(_exp_chain(x, n), x))
    assert len(sizes) == -(-n // 256)
    assert sizes[0] == n % 256
    assert sizes[-1] == 256


@pytest.mark.slow
@pytest.mark.spec("FUSE-17", "FUSE-19")
def test_deep_let_chain() -> None:
    n = 100_000
    x = relay.var("x", shape=(2,))
    vs = [relay.var(f"v{i}") for i in range(n)]
    body: Expr = vs[-1]
    for i in reversed(range(n)):
        body = relay.Let(vs[i], relay.exp(vs[i - 1] if i else x), body)
    bodies = _deep_round_trip(body, x)
    assert len(bodies) == n  # every let value is a group of its own


@pytest.mark.slow
@pytest.mark.spec("FUSE-17")
@pytest.mark.parametrize(
    "const", [np.float32(1.0), np.ones(2, "float32")], ids=["scalar", "tensor"]
)
def test_deep_chain_sharing_one_constant(const: npt.NDArray[np.float32]) -> None:
    """One constant used by every call of a 100,000-deep chain: its post-dominator is the
    last call, as far as can be, and is found in time linear in the chain."""
    n = 100_000
    x = relay.var("x", shape=(2,))
    c = relay.const(const)
    body: Expr = x
    for _ in range(n):
        body = relay.add(body, c)
    typed = typed_fn(relay.Function([x], body))
    out = fuse_ops(typed, 2)
    calls = primitive_calls(out)
    assert len(calls) == -(-n // 256)
    # The constant joins no group (the scalar is too far from its post-dominator), so each
    # fused function takes it as its second parameter.
    assert all(len(call.args) == 2 and isinstance(call.args[1], relay.Constant) for call in calls)


@pytest.mark.spec("FUSE-17")
def test_diamond_ladder() -> None:
    x = relay.var("x", shape=(2,))
    out: Expr = x
    for _ in range(40):  # a tree expansion of 2**40 nodes
        out = relay.add(relay.exp(out), relay.negative(out))
    result = fused(relay.Function([x], out))
    assert [num_calls(b) for b in fused_bodies(result)] == [120]


@pytest.mark.spec("FUSE-15")
def test_fusing_fused_output_changes_nothing() -> None:
    x = relay.var("x", shape=(1, 4, 4, 4))
    w = relay.var("w", shape=(4, 4, 3, 3))
    y = relay.nn.relu(relay.nn.conv2d(x, w, kernel_size=(3, 3), padding=(1, 1), channels=4))
    parts = relay.split(relay.exp(y), 2, axis=1)
    once = fused(relay.Function([x, w], relay.Tuple((parts[0], relay.sum(parts[1])))))
    tvm.ir.assert_structural_equal(fused(once), once)
    # A Primitive=0 function is not primitive: fusing again fuses inside it.
    a, b = relay.var("a", shape=(3,)), relay.var("b", shape=(3,))
    once = fused(relay.Function([a, b], relay.TupleGetItem(relay.Tuple((a, b)), 1)))
    twice = fused(once)
    assert not tvm.ir.structural_equal(twice, once)


@pytest.mark.spec("FUSE-5")
def test_anchor_pattern_counts_every_path() -> None:
    """The pattern to the post-dominator combines the edges of every path, however deep: a
    broadcast that widens a value inside one branch keeps the anchor out."""

    def before(w_shape: tuple[int, ...]) -> relay.Function:
        x = relay.var("x", shape=(2, 1))
        w = relay.var("w", shape=w_shape)
        y = relay.nn.softmax(x)
        a = relay.add(relay.negative(y), w)
        b = relay.negative(relay.negative(y))
        return relay.Function([x, w], relay.add(a, b))

    assert [num_calls(b) for b in fused_bodies(fused(before((2, 3)), 2))] == [1, 5]
    assert [num_calls(b) for b in fused_bodies(fused(before((2, 1)), 2))] == [6]


@pytest.mark.spec("FUSE-10")
def test_max_depth_counts_diamonds_as_tvm_does() -> None:
    """Fused branches count with the size their group records had when merged, so joining
    the fork node of a fused diamond counts 12 for a 6-node group."""
    x = relay.var("x", shape=(2, 3))
    fork = relay.reshape(x, newshape=(2, 3))  # injective: it only joins in sweep 1
    p = relay.negative(relay.negative(fork))
    q = relay.tanh(relay.tanh(fork))
    before = relay.Function([x], relay.add(p, q))
    for depth, sizes in ((11, [1, 5]), (12, [6])):
        with tvm.transform.PassContext(config={"relay.FuseOps.max_depth": depth}):
            assert sorted(num_calls(b) for b in fused_bodies(fused(before))) == sizes


@pytest.mark.spec("FUSE-11")
def test_argument_limit_reserves_one_per_consumer() -> None:
    """``a`` has two consumers, so two of the ``m`` arguments are its output buffers: with
    ``m = 3`` its two inputs do not fit, and TVM's count, which counts ``a``'s inputs once per
    consumer, then keeps every call alone; with ``m = 4`` everything fuses."""
    x0, x1 = relay.var("x0", shape=(3,)), relay.var("x1", shape=(3,))
    a = relay.add(x0, x1)
    before = relay.Function([x0, x1], relay.add(relay.exp(a), relay.negative(a)))
    for m, sizes in ((3, [1, 1, 1, 1]), (4, [4])):
        with tvm.target.Target(f"llvm -max_function_args={m}"):
            assert sorted(num_calls(b) for b in fused_bodies(fused(before))) == sizes


@pytest.mark.spec("FUSE-14")
def test_reshape_of_a_tuple_parameter_is_not_reshape_only() -> None:
    tt = relay.TupleType([relay.TensorType((2, 3)), relay.TensorType((3,))])
    t = relay.var("t", tt)
    out = fused(relay.Function([t], relay.reshape(relay.TupleGetItem(t, 0), newshape=[-1])), 2)
    assert isinstance(out, relay.Function)
    (call,) = primitive_calls(out)
    assert isinstance(call.op, relay.Function)
    assert call.op.params[0].type_annotation == tt
    assert call.op.attrs.get("relay.reshape_only") is None
    assert call.args == (out.params[0],)
