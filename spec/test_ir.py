"""IR: expression nodes, types, builders, modules, ScopeBuilder, TupleWrapper."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.op import Op
from minitvm.tir import FloatImm, IntImm


@pytest.mark.spec("IR-1")
def test_nodes_are_immutable_and_compare_by_identity() -> None:
    x = relay.var("x", shape=(2,))
    y = relay.var("x", shape=(2,))
    assert x != y
    assert x == x
    assert len({x, y, x}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.name_hint = "z"  # type: ignore[misc]  # the point: nodes are frozen
    t = relay.Tuple([x, y])
    assert isinstance(t.fields, tuple)
    call = relay.Call(Op.get("add"), [x, y])
    assert isinstance(call.args, tuple)
    f = relay.Function([x], x)
    assert isinstance(f.params, tuple)
    assert not hasattr(x, "__dict__")


@pytest.mark.spec("IR-2")
def test_var_builder_forms() -> None:
    assert relay.var("a", shape=(1, 2)).type_annotation == relay.TensorType((1, 2), "float32")
    assert relay.var("a", shape=(3,), dtype="int8").type_annotation == relay.TensorType(
        (3,), "int8"
    )
    assert relay.var("a", "int32").type_annotation == relay.TensorType((), "int32")
    ty = relay.TupleType([relay.scalar_type("float32")])
    assert relay.var("a", ty).type_annotation == ty
    v = relay.var("a")
    assert v.type_annotation is None
    assert v.name_hint == "a"
    assert v.vid is v
    with pytest.raises(DiagnosticError):
        relay.var("a", relay.scalar_type("int32"), shape=(1,))


@pytest.mark.spec("IR-3")
def test_const_dtype_rules() -> None:
    def dtype(c: relay.Constant) -> str:
        return c.data.dtype

    assert dtype(relay.const(True)) == "bool"
    assert dtype(relay.const(1)) == "int32"
    assert dtype(relay.const(1.5)) == "float32"
    assert dtype(relay.const(np.array([1, 2], dtype="int64"))) == "int32"
    assert dtype(relay.const(np.array([1.0], dtype="float64"))) == "float32"
    assert dtype(relay.const([1, 1], dtype="int64")) == "int64"
    assert dtype(relay.const(np.array([1.0]), "float64")) == "float64"
    assert dtype(relay.const(tvm.nd.array(np.array([1.0], dtype="float64")))) == "float64"
    assert dtype(relay.const(0, relay.scalar_type("int8"))) == "int8"
    assert dtype(relay.const(np.array([1], dtype="uint8"))) == "uint8"
    arr = np.array([1.0, 2.0], dtype="float32")
    c = relay.const(arr)
    arr[0] = 9.0
    assert c.data.numpy().tolist() == [1.0, 2.0]
    c.data.numpy()[1] = 7.0
    assert c.data.numpy().tolist() == [1.0, 2.0]


@pytest.mark.spec("IR-4")
def test_operator_sugar() -> None:
    x = relay.var("x", shape=(2,))
    y = relay.var("y", shape=(2,))
    for expr, name in ((x + y, "add"), (x - y, "subtract"), (x * y, "multiply"), (x / y, "divide")):
        assert isinstance(expr, relay.Call)
        assert expr.op is Op.get(name)
        assert expr.args == (x, y)
    rhs = x + 1.0
    assert isinstance(rhs.args[1], relay.Constant)
    assert rhs.args[1].data.dtype == "float32"
    radd = 2 * x
    assert radd.op is Op.get("multiply")
    assert radd.args[1] is x
    neg = -x
    assert neg.op is Op.get("negative")
    f = relay.Function([x], x)
    call = f(y)
    assert isinstance(call, relay.Call)
    assert call.op is f
    assert call.args == (y,)
    item = x[1]
    assert isinstance(item, relay.TupleGetItem)
    assert item.index == 1
    tup = relay.Tuple([x, y])
    assert tup[1] is y
    with pytest.raises(IndexError):
        _ = tup[2]


@pytest.mark.spec("IR-5")
def test_tensor_type_validation_and_equality() -> None:
    assert relay.TensorType([2, np.int64(3)]) == relay.TensorType((2, 3), "float32")
    assert relay.TensorType((2,), "int32") != relay.TensorType((2,), "int64")
    assert relay.TensorType(()).shape == ()
    for bad_shape in ([-1], [1.5], ["a"], [True]):
        with pytest.raises(DiagnosticError):
            relay.TensorType(bad_shape)  # type: ignore[arg-type]  # deliberately invalid
    with pytest.raises(DiagnosticError, match="dtype"):
        relay.TensorType((1,), "float8")
    assert relay.TypeVar("a") != relay.TypeVar("a")
    assert relay.IncompleteType() != relay.IncompleteType()
    a = relay.TypeVar("a")
    assert relay.FuncType([a], a, [a]) == relay.FuncType([a], a, [a])
    assert relay.TupleType([relay.TensorType(())]) == relay.TupleType((relay.TensorType(()),))


@pytest.mark.spec("IR-6")
def test_function_with_attr() -> None:
    x = relay.var("x", shape=(2,))
    f = relay.Function([x], x)
    g = f.with_attr("Primitive", 1)
    assert "Primitive" not in f.attrs
    assert g.attrs["Primitive"] == IntImm("int32", 1)
    assert g.params == f.params
    assert g.body is f.body
    h = g.with_attr({"Flag": True, "Scale": 0.5, "Name": "f"})
    assert h.attrs["Flag"] == IntImm("bool", 1)
    assert h.attrs["Scale"] == FloatImm("float32", 0.5)
    assert h.attrs["Name"] == "f"
    assert h.is_primitive()
    assert not f.is_primitive()
    assert tvm.ir.make_node("DictAttrs", Primitive=1)["Primitive"] == IntImm("int32", 1)


@pytest.mark.spec("IR-7")
def test_module_access() -> None:
    x = relay.var("x", shape=(2,))
    f = relay.Function([x], x)
    mod = tvm.IRModule()
    mod["f"] = f
    gv = mod.get_global_var("f")
    assert mod[gv] is f
    assert mod["f"] is f
    g = relay.Function([x], x)
    mod[gv] = g
    assert mod["f"] is g
    assert list(mod.functions) == [gv]
    snapshot = mod.functions
    mod["h"] = f
    assert len(snapshot) == 1
    with pytest.raises(TVMError, match="nope"):
        _ = mod["nope"]
    with pytest.raises(TVMError, match="different GlobalVar"):
        mod[relay.GlobalVar("f")] = f
    y = relay.var("y", shape=(2,))
    main = tvm.IRModule.from_expr(relay.Tuple([y, x, y]))["main"]
    assert isinstance(main, relay.Function)
    assert main.params == (y, x)
    assert tvm.IRModule.from_expr(f)["main"] is f


@pytest.mark.spec("IR-8")
def test_scope_builder() -> None:
    sb = relay.ScopeBuilder()
    cond = relay.var("c", "bool")
    a = sb.let("a", relay.const(1))
    with sb.if_scope(cond):
        b = sb.let("b", a)
        sb.ret(b)
    with sb.else_scope():
        sb.ret(a)
    expr = sb.get()
    assert isinstance(expr, relay.Let)
    assert expr.var is a
    ite = expr.body
    assert isinstance(ite, relay.If)
    assert ite.cond is cond
    assert isinstance(ite.true_branch, relay.Let)
    assert ite.true_branch.var is b
    assert ite.false_branch is a
    bad = relay.ScopeBuilder()
    with pytest.raises(TVMError, match="else_scope"), bad.else_scope():
        pass
    empty = relay.ScopeBuilder()
    with pytest.raises(TVMError, match="return value"):
        empty.get()


@pytest.mark.spec("IR-9")
def test_tuple_wrapper() -> None:
    x = relay.var("x", shape=(4,))
    call = relay.Call(Op.get("add"), [x, x])
    tw = relay.TupleWrapper(call, 2)
    assert len(tw) == 2
    assert tw.astuple() is call
    item = tw[1]
    assert isinstance(item, relay.TupleGetItem)
    assert item.tuple_value is call
    assert [i.index for i in tw if isinstance(i, relay.TupleGetItem)] == [0, 1]
    with pytest.raises(IndexError):
        _ = tw[2]


@pytest.mark.spec("IR-10")
def test_expr_is_the_expression_base_class_at_run_time() -> None:
    x = relay.var("x", shape=(2,))
    f = relay.Function([x], x)
    nodes: list[object] = [
        x,
        relay.const(1.0),
        relay.Tuple([x]),
        relay.TupleGetItem(relay.Tuple([x]), 0),
        relay.Call(Op.get("negative"), [x]),
        Op.get("add"),
        relay.GlobalVar("g"),
        f,
        relay.Let(x, relay.const(1.0), x),
        relay.If(relay.const(True), x, x),
    ]
    for node in nodes:
        assert isinstance(node, relay.Expr)
        assert isinstance(node, tvm.ir.RelayExpr)
    for other in [relay.TensorType((2,)), 1.0, "x", relay.TupleWrapper(relay.Tuple([x]), 1)]:
        assert not isinstance(other, relay.Expr)
