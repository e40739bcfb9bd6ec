"""TY: types and InferType / InferTypeLocal (TVM's ``tests/python/relay/test_type_infer.py``).

Programs are built, typed, and their ``checked_type`` compared with the expected types.
Operators are custom ones registered here with the built-in ``Identity``/``Broadcast``
relations or Python relations, as TVM's own tests register ``custom_log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError, TVMError
from minitvm.ir import Attrs, Span
from minitvm.ir.op import Op, TypeRelation, register_op
from minitvm.ir.transform import Pass, PassContext, PassInfo, Sequential, get_pass
from minitvm.relay import testing
from minitvm.relay.expr_functor import post_order as nodes
from minitvm.relay.transform import FunctionPass, InferType, InferTypeLocal

F32 = relay.scalar_type("float32")
I32 = relay.scalar_type("int32")
BOOL = relay.scalar_type("bool")


def _op(name: str, rel: str | TypeRelation, num_inputs: int) -> Op:
    op = register_op(name)
    op.set_num_inputs(num_inputs)
    if isinstance(rel, str):
        op.add_type_rel(rel)
    else:
        op.add_type_rel(name, rel)
    return op


def _compare_rel(arg_types: list[relay.Type], attrs: Any) -> relay.Type:
    a, b = arg_types
    assert isinstance(a, relay.TensorType)
    assert isinstance(b, relay.TensorType)
    return relay.TensorType(np.broadcast_shapes(a.shape, b.shape), "bool")


def _pair_rel(arg_types: list[relay.Type], attrs: Any) -> relay.Type:
    return relay.TupleType([arg_types[0], arg_types[0]])


@dataclass(frozen=True, slots=True)
class _AxisAttrs(Attrs):
    axis: int = 0


LOG = _op("ty_test.log", "Identity", 1)
ADD = _op("ty_test.add", "Broadcast", 2)
SUB = _op("ty_test.subtract", "Broadcast", 2)
EQUAL = _op("ty_test.equal", _compare_rel, 2)
PAIR = _op("ty_test.pair", _pair_rel, 1)


def log(x: relay.Expr) -> relay.Call:
    return relay.Call(LOG, [x])


def add(x: relay.Expr, y: relay.Expr) -> relay.Call:
    return relay.Call(ADD, [x, y])


def sub(x: relay.Expr, y: relay.Expr) -> relay.Call:
    return relay.Call(SUB, [x, y])


def equal(x: relay.Expr, y: relay.Expr) -> relay.Call:
    return relay.Call(EQUAL, [x, y])


def infer_mod(mod: tvm.IRModule) -> tvm.IRModule:
    return InferType()(mod)


def function(mod: tvm.IRModule, name: str = "main") -> relay.Function:
    func = mod[name]
    assert isinstance(func, relay.Function)
    return func


def infer_main(expr: relay.Expr) -> relay.Function:
    return function(infer_mod(tvm.IRModule.from_expr(expr)))


def ann(var: relay.Var) -> relay.Type:
    assert var.type_annotation is not None
    return var.type_annotation


def assert_has_type(expr: relay.Expr, ty: relay.Type) -> None:
    assert infer_main(expr).checked_type == ty


# --- TY-1: the pass --------------------------------------------------------------------


@pytest.mark.spec("TY-1")
def test_infer_type_is_a_module_pass_registered_by_name() -> None:
    p = InferType()
    assert isinstance(p, Pass)
    assert p.info.name == "InferType"
    assert p.info.opt_level == 0
    assert isinstance(get_pass("InferType"), InferType)
    x = relay.var("x", shape=(3,))
    mod = tvm.IRModule.from_expr(relay.Function([x], log(x)))
    with PassContext(opt_level=0):
        typed = Sequential([InferType()])(mod)
    assert typed["main"].checked_type == relay.FuncType([ann(x)], ann(x))


@pytest.mark.spec("TY-1")
def test_function_passes_end_with_infer_type() -> None:
    def wrap_in_log(func: relay.Function, mod: tvm.IRModule, ctx: PassContext) -> relay.Function:
        return relay.Function(func.params, log(func.body))

    wrap = FunctionPass(wrap_in_log, PassInfo(0, "WrapInLog"))
    x = relay.var("x", shape=(2, 2))
    out = function(wrap(tvm.IRModule.from_expr(relay.Function([x], x))))
    assert out.body.checked_type == relay.TensorType((2, 2))
    assert out.ret_type == relay.TensorType((2, 2))


@pytest.mark.spec("TY-1")
def test_every_node_typed_and_input_untouched() -> None:
    x = relay.var("x", shape=(2,))
    v = relay.var("v")
    c = relay.const(np.ones(2, "float32"))
    tup = relay.Tuple([x, c])
    body = relay.Let(v, log(relay.TupleGetItem(tup, 1)), relay.If(relay.const(True), v, x))
    func = relay.Function([x], body)
    mod = tvm.IRModule.from_expr(func)
    before = [(n, n.checked_type_) for n in nodes(func) if n is not x]
    typed = infer_mod(mod)
    assert mod["main"] is func
    assert [(n, n.checked_type_) for n in nodes(func) if n is not x] == before
    assert x.checked_type == x.type_annotation  # TY-3
    main = function(typed)
    assert main is not func
    for node in nodes(main):
        if not isinstance(node, Op):
            assert node.checked_type_ is not None, node
    assert main.checked_type == relay.FuncType([relay.TensorType((2,))], relay.TensorType((2,)))


# --- TY-2: annotations, type_args, identity --------------------------------------------


@pytest.mark.spec("TY-2")
def test_missing_annotations_are_filled() -> None:
    tp = relay.TensorType((10, 10))
    x = relay.var("x")
    g = relay.var("g", relay.FuncType([tp], tp))
    t1 = relay.var("t1")
    func = relay.Function([g, x], relay.Let(t1, g(x), log(t1)))
    main = infer_main(func)
    new_x = main.params[1]
    assert new_x is not x
    assert new_x.name_hint == "x"
    assert new_x.type_annotation == tp
    assert main.params[0] is g  # annotated: kept
    let = main.body
    assert isinstance(let, relay.Let)
    assert let.var.type_annotation == tp
    assert isinstance(let.value, relay.Call)
    assert let.value.args[0] is new_x  # every use refers to the new variable
    assert isinstance(let.body, relay.Call)
    assert let.body.args[0] is let.var
    assert main.ret_type == tp
    assert x.type_annotation is None  # the input is untouched


@pytest.mark.spec("TY-2")
def test_inferred_annotations_equal_written_ones() -> None:
    tp = relay.TensorType((3,))

    def before() -> relay.Function:
        a = relay.TypeVar("a")
        y = relay.var("y", a)
        x, v = relay.var("x", tp), relay.var("v")
        id_func = relay.Function([y], y, None, [a])
        return relay.Function([x], relay.Let(v, log(x), id_func(v)))

    def expected() -> relay.Function:
        a = relay.TypeVar("a")
        y = relay.var("y", a)
        x, v = relay.var("x", tp), relay.var("v", tp)
        id_func = relay.Function([y], y, a, [a])
        call = relay.Call(id_func, [v], type_args=[tp])
        return relay.Function([x], relay.Let(v, log(x), call), tp)

    tvm.ir.assert_structural_equal(testing.run_infer_type(before()), expected())


@pytest.mark.spec("TY-2")
def test_type_args_of_operator_calls() -> None:
    x = relay.var("x", shape=(10, 10))
    y = relay.var("y", shape=(1, 10))
    z = add(x, y)
    mod = infer_mod(infer_mod(tvm.IRModule.from_expr(z)))
    body = function(mod).body
    assert isinstance(body, relay.Call)
    assert body.type_args == (relay.TensorType((10, 10)), relay.TensorType((1, 10)))
    assert z.type_args == ()


@pytest.mark.spec("TY-2")
def test_typed_program_keeps_its_identity() -> None:
    x = relay.var("x", shape=(4,))
    v = relay.var("v")
    func = relay.Function([x], relay.Let(v, log(x), relay.Tuple([v, add(v, x)])))
    once = infer_mod(tvm.IRModule.from_expr(func))
    twice = infer_mod(once)
    assert twice["main"] is once["main"]
    main = once["main"]
    assert isinstance(main, relay.Function)
    assert main.params[0] is x


@pytest.mark.spec("TY-2", "TY-3")
def test_free_variables_keep_identity_through_run_infer_type() -> None:
    x = relay.var("x", shape=(3,))
    y = log(x)
    a = testing.run_infer_type(y)
    b = testing.run_infer_type(y)
    assert isinstance(a, relay.Call)
    assert isinstance(b, relay.Call)
    assert a.args[0] is x
    assert b.args[0] is x


# --- TY-3: annotated variables ----------------------------------------------------------


@pytest.mark.spec("TY-3")
def test_annotated_variables_are_kept_and_typed_in_place() -> None:
    x = relay.var("x", shape=(2, 3))
    y = relay.var("y")
    z = relay.Var("z", relay.TupleType([F32, relay.IncompleteType()]))
    yes = relay.const(True)
    body = relay.Tuple(
        [log(x), relay.If(yes, y, relay.const(1)), relay.If(yes, relay.TupleGetItem(z, 1), x)]
    )
    assert x.checked_type_ is None
    with pytest.raises(TVMError, match="InferType"):
        _ = x.checked_type
    main = infer_main(relay.Function([x, y, z], body))
    assert x.checked_type == relay.TensorType((2, 3))  # recorded in place
    new_x, new_y, new_z = main.params
    assert new_x is x
    assert new_y is not y
    assert new_y.type_annotation == I32
    assert y.checked_type_ is None
    assert new_z is not z  # an annotation with unknowns is kept, the variable is copied
    assert z.checked_type_ is None
    assert new_z.type_annotation is z.type_annotation
    assert new_z.checked_type == relay.TupleType([F32, relay.TensorType((2, 3))])


# --- TY-4: constants, tuples, projections -----------------------------------------------


@pytest.mark.spec("TY-4")
def test_constants_tuples_and_projections() -> None:
    tp = relay.TensorType((10,))
    x = relay.var("x", tp)
    assert InferTypeLocal(relay.Tuple([x, x])) == relay.TupleType([tp, tp])
    c = relay.const(np.zeros((2, 3), "int8"))
    assert InferTypeLocal(c) == relay.TensorType((2, 3), "int8")
    assert InferTypeLocal(relay.const(1.0, "float64")) == relay.scalar_type("float64")
    assert InferTypeLocal(relay.TupleGetItem(relay.Tuple([x, c]), 1)) == c.checked_type
    assert InferTypeLocal(relay.Tuple([])) == relay.TupleType([])
    pair = relay.Call(PAIR, [x])
    assert InferTypeLocal(relay.TupleGetItem(pair, 0)) == tp


@pytest.mark.spec("TY-4")
def test_projection_waits_for_the_tuple_type() -> None:
    # %p's type is unknown when %p.0 is typed; the call of %f fixes it afterwards.
    tp = relay.TensorType((2,))
    x = relay.var("x", tp)
    p = relay.var("p")
    f = relay.var("f")
    local = relay.Function([p], log(relay.TupleGetItem(p, 0)))
    body = relay.Let(f, local, f(relay.Tuple([x, relay.const(1)])))
    main = infer_main(relay.Function([x], body))
    assert main.checked_type == relay.FuncType([tp], tp)
    let = main.body
    assert isinstance(let, relay.Let)
    assert let.var.type_annotation == relay.FuncType([relay.TupleType([tp, I32])], tp)


@pytest.mark.spec("TY-4")
def test_projection_errors() -> None:
    x = relay.var("x", shape=(2,))
    with pytest.raises(DiagnosticError, match=r"index 2 is out of range for a tuple of 2"):
        infer_main(relay.Function([x], relay.TupleGetItem(relay.Tuple([x, x]), 2)))
    with pytest.raises(DiagnosticError, match=r"needs a tuple.*Tensor\[\(2\), float32\]"):
        infer_main(relay.Function([x], relay.TupleGetItem(x, 0)))


# --- TY-5: operator calls ---------------------------------------------------------------


@pytest.mark.spec("TY-5")
def test_add_broadcast_op() -> None:
    x = relay.var("x", shape=(10, 4))
    y = relay.var("y", shape=(5, 10, 1))
    func = relay.Function([x, y], add(x, y))
    t1 = relay.TensorType((10, 4), "float32")
    t2 = relay.TensorType((5, 10, 1), "float32")
    t3 = relay.TensorType((5, 10, 4), "float32")
    assert_has_type(func, relay.FuncType([t1, t2], t3))


@pytest.mark.spec("TY-5")
def test_registered_operators() -> None:
    i = relay.var("i", shape=[], dtype="int32")
    eq = relay.equal(i, relay.const(0, dtype="int32"))
    assert InferTypeLocal(relay.Function([i], eq)) == relay.FuncType([I32], BOOL)
    x = relay.var("x", shape=[])
    assert_has_type(relay.Function([x], relay.log(x)), relay.FuncType([F32], F32))
    a, b = relay.var("a", shape=(10, 4)), relay.var("b", shape=(5, 10, 1))
    body = testing.run_infer_type(a + b)
    assert body.checked_type == relay.TensorType((5, 10, 4))
    parts = relay.split(relay.var("d", shape=(6, 4)), 3, axis=0)
    assert InferTypeLocal(parts[1]) == relay.TensorType((2, 4))


@pytest.mark.spec("TY-5")
def test_custom_op_infer() -> None:
    tp = relay.TensorType((10, 10), "float32")
    x = relay.var("x", tp)
    sb = relay.ScopeBuilder()
    t1 = sb.let("t1", log(x))
    t2 = sb.let("t2", add(t1, x))
    sb.ret(t2)
    f = relay.Function([x], sb.get())
    assert InferTypeLocal(f) == relay.FuncType([tp], tp)
    assert f.checked_type == relay.FuncType([tp], tp)


@pytest.mark.spec("TY-5")
@pytest.mark.without_wellformed_check  # the check would call the relation again
def test_python_relation_receives_known_types_and_attrs() -> None:
    seen: list[tuple[list[relay.Type], Any]] = []

    def rel(arg_types: list[relay.Type], attrs: Any) -> relay.Type:
        seen.append((list(arg_types), attrs))
        return arg_types[0]

    op = _op("ty_test.recording", rel, 1)
    x = relay.var("x", shape=(3,))
    attrs = _AxisAttrs(axis=1)
    func = relay.Function([x], relay.Call(op, [relay.Call(op, [x], attrs)]))
    assert_has_type(func, relay.FuncType([ann(x)], ann(x)))
    assert seen == [([ann(x)], attrs), ([ann(x)], None)]


@pytest.mark.spec("TY-5")
def test_relation_deferred_until_argument_types_are_known() -> None:
    # `log(%y)` is typed before anything says what %y is; the call `%f(%x)` does.
    tp = relay.TensorType((4, 4))
    x = relay.var("x", tp)
    y = relay.var("y")
    f = relay.var("f")
    body = relay.Let(f, relay.Function([y], log(y)), f(x))
    main = infer_main(relay.Function([x], body))
    assert main.checked_type == relay.FuncType([tp], tp)
    let = main.body
    assert isinstance(let, relay.Let)
    assert isinstance(let.value, relay.Function)
    assert let.value.params[0].type_annotation == tp
    inner = let.value.body
    assert isinstance(inner, relay.Call)
    assert inner.type_args == (tp,)


@pytest.mark.spec("TY-5")
def test_operator_arity_and_relation_are_checked() -> None:
    x = relay.var("x", shape=(2,))
    with pytest.raises(DiagnosticError, match=r"operator ty_test.log takes 1 argument\(s\), but"):
        infer_main(relay.Function([x], relay.Call(LOG, [x, x])))
    bare = register_op("ty_test.no_relation")
    with pytest.raises(DiagnosticError, match="has no type relation"):
        infer_main(relay.Function([x], relay.Call(bare, [x])))
    with pytest.raises(DiagnosticError, match="used as a value"):
        infer_main(relay.Function([x], relay.Tuple([LOG])))


# --- TY-6: relation failures ------------------------------------------------------------


@pytest.mark.spec("TY-6")
def test_python_relation_exception_propagates() -> None:
    def custom_log2_rel(arg_types: list[relay.Type], attrs: Any) -> relay.Type:
        assert len(arg_types) == 2, "type relation arg number mismatch!"
        return arg_types[0]

    op = _op("ty_test.custom_log2", custom_log2_rel, 1)
    x = relay.var("x", shape=(10, 10))
    sb = relay.ScopeBuilder()
    t1 = sb.let("t1", relay.Call(op, [x]))
    sb.ret(add(t1, x))
    with pytest.raises(AssertionError, match="type relation arg number mismatch"):
        InferTypeLocal(relay.Function([x], sb.get()))


@pytest.mark.spec("TY-6")
def test_relation_diagnostic_gets_the_location() -> None:
    x = relay.var("x", shape=(3,))
    y = relay.var("y", shape=(4,))
    func = relay.Function([x, y], log(add(x, y)))
    with pytest.raises(DiagnosticError) as info:
        infer_main(func)
    message = str(info.value)
    assert message.startswith("@main: body.args[0]: operator ty_test.add:")
    assert "not broadcastable" in message
    assert info.value.path == "@main: body.args[0]"


@pytest.mark.spec("TY-6")
def test_relation_must_return_a_type() -> None:
    def returns_none(arg_types: list[relay.Type], attrs: Any) -> Any:
        return None

    op = _op("ty_test.returns_none", returns_none, 1)
    x = relay.var("x", shape=(3,))
    with pytest.raises(DiagnosticError, match="returned None, not a type"):
        infer_main(relay.Function([x], relay.Call(op, [x])))


# --- TY-7: let ------------------------------------------------------------------------


@pytest.mark.spec("TY-7")
def test_monomorphic_let() -> None:
    sb = relay.ScopeBuilder()
    x = relay.var("x", dtype="float64", shape=())
    x = sb.let(x, relay.const(1.0, "float64"))
    sb.ret(x)
    let = sb.get()
    assert InferTypeLocal(let) == relay.scalar_type("float64")
    assert let.checked_type == relay.scalar_type("float64")


@pytest.mark.spec("TY-7")
def test_let_annotation_mismatch() -> None:
    x = relay.var("x", shape=(3,))
    v = relay.var("v", shape=(4,))
    func = relay.Function([x], relay.Let(v, log(x), v))
    with pytest.raises(DiagnosticError) as info:
        infer_main(func)
    assert info.value.path == "@main: body.value"
    assert "the value bound to %v" in str(info.value)
    assert "expected `Tensor[(4), float32]`, found `Tensor[(3), float32]`" in str(info.value)


@pytest.mark.spec("TY-7")
def test_recursive_let_function() -> None:
    f = relay.var("f")
    n = relay.var("n", I32)
    loop = relay.Function(
        [n], relay.If(equal(n, relay.const(0)), n, f(sub(n, relay.const(1)))), I32
    )
    expr = relay.Let(f, loop, f(relay.const(3)))
    main = infer_main(expr)
    assert main.checked_type == relay.FuncType([], I32)
    assert isinstance(main.body, relay.Let)
    assert main.body.var.type_annotation == relay.FuncType([I32], I32)


# --- TY-8: if ---------------------------------------------------------------------------


@pytest.mark.spec("TY-8")
def test_if_condition_and_branches() -> None:
    x = relay.var("x", shape=(2,))
    c = relay.var("c", "bool")
    assert_has_type(
        relay.Function([c, x], relay.If(c, x, log(x))),
        relay.FuncType([BOOL, ann(x)], ann(x)),
    )
    i = relay.var("i", "int32")
    with pytest.raises(
        DiagnosticError, match=r"condition of the if: expected `bool`, found `int32`"
    ):
        infer_main(relay.Function([i, x], relay.If(i, x, x)))
    vec = relay.var("b", shape=(2,), dtype="bool")
    with pytest.raises(DiagnosticError, match=r"found `Tensor\[\(2\), bool\]`"):
        infer_main(relay.Function([vec, x], relay.If(vec, x, x)))
    with pytest.raises(DiagnosticError) as info:
        infer_main(relay.Function([c, x], relay.If(c, x, relay.const(1))))
    assert info.value.path == "@main: body.false_branch"
    assert "expected `Tensor[(2), float32]`, found `int32`" in str(info.value)


@pytest.mark.spec("TY-8")
def test_condition_type_inferred_from_if() -> None:
    c = relay.var("c")
    x = relay.var("x", shape=(2,))
    main = infer_main(relay.Function([c, x], relay.If(c, x, x)))
    assert main.params[0].type_annotation == BOOL


# --- TY-9: functions and calls ----------------------------------------------------------


@pytest.mark.spec("TY-9")
def test_incomplete_call() -> None:
    tt = relay.scalar_type("int32")
    x = relay.var("x", tt)
    f_type = relay.FuncType([tt], tt)
    f = relay.var("f")
    func = relay.Function([x, f], relay.Call(f, [x]), tt)
    assert InferTypeLocal(func) == relay.FuncType([tt, f_type], tt)


@pytest.mark.spec("TY-9")
def test_function_errors() -> None:
    x = relay.var("x", shape=(2,))
    with pytest.raises(DiagnosticError) as info:
        infer_main(relay.Function([x], log(x), relay.TensorType((3,))))
    assert info.value.path == "@main: body"
    assert "the body of the function" in str(info.value)
    g = relay.var("g", relay.FuncType([F32], F32))
    with pytest.raises(DiagnosticError, match=r"%g takes 1 argument\(s\), but the call passes 2"):
        infer_main(relay.Function([g], g(relay.const(1.0), relay.const(1.0))))
    with pytest.raises(DiagnosticError, match=r"only functions can be called, but %x has type"):
        infer_main(relay.Function([x], x(x)))
    with pytest.raises(DiagnosticError, match=r"argument 0 of the call of %g: expected `float32`"):
        infer_main(relay.Function([g], g(relay.const(1))))


# --- TY-10: polymorphism ------------------------------------------------------------------


def _id_func() -> relay.Function:
    a = relay.TypeVar("a")
    x = relay.Var("x", a)
    return relay.Function([x], x, a, [a])


@pytest.mark.spec("TY-10")
def test_let_polymorphism() -> None:
    id_var = relay.Var("id")
    xt = relay.TypeVar("xt")
    x = relay.Var("x", xt)
    calls: relay.Expr = relay.Tuple([id_var(relay.const(1)), id_var(relay.Tuple([]))])
    body = relay.Let(id_var, relay.Function([x], x, xt, [xt]), calls)
    assert InferTypeLocal(body) == relay.TupleType([I32, relay.TupleType([])])
    main = infer_main(body)
    assert isinstance(main.body, relay.Let)
    calls = main.body.body
    assert isinstance(calls, relay.Tuple)
    assert [c.type_args for c in calls.fields if isinstance(c, relay.Call)] == [
        (I32,),
        (relay.TupleType([]),),
    ]


@pytest.mark.spec("TY-10")
def test_higher_order_argument() -> None:
    id_func = _id_func()
    b = relay.TypeVar("b")
    f = relay.Var("f", relay.FuncType([b], b))
    y = relay.Var("y", b)
    ho_func = relay.Function([f, y], f(y), b, [b])
    # a polymorphic id is an acceptable argument where fn(b) -> b is expected
    ho_call = ho_func(id_func, relay.const(0, "int32"))
    assert InferTypeLocal(ho_call) == I32


@pytest.mark.spec("TY-10")
def test_higher_order_return() -> None:
    b = relay.TypeVar("b")
    nested_id = relay.Function([], _id_func(), relay.FuncType([b], b), [b])
    assert InferTypeLocal(nested_id) == relay.FuncType([], relay.FuncType([b], b), [b])


@pytest.mark.spec("TY-10")
def test_higher_order_nested() -> None:
    choice_t = relay.FuncType([], BOOL)
    f = relay.Var("f", choice_t)
    b = relay.TypeVar("b")
    z = relay.Var("z")
    top = relay.Function(
        [f], relay.If(f(), _id_func(), relay.Function([z], z)), relay.FuncType([b], b), [b]
    )
    expected = relay.FuncType([choice_t], relay.FuncType([b], b), [b])
    assert InferTypeLocal(top) == expected
    main = infer_main(top)
    assert main.checked_type == expected
    assert isinstance(main.body, relay.If)
    other = main.body.false_branch
    assert isinstance(other, relay.Function)
    assert other.params[0].type_annotation == b


@pytest.mark.spec("TY-10")
def test_type_arg_infer() -> None:
    a = relay.TypeVar("A")
    x = relay.var("x", a)
    gid = relay.GlobalVar("id")
    mod = tvm.IRModule()
    f = relay.var("f", F32)
    i = relay.var("i", I32)
    mod["main"] = relay.Function([f, i], relay.Tuple([gid(f), gid(i)]))
    mod[gid] = relay.Function([x], x, None, [a])  # no return annotation, defined after main
    main = function(infer_mod(mod))
    assert isinstance(main.body, relay.Tuple)
    assert main.checked_type == relay.FuncType([F32, I32], relay.TupleType([F32, I32]))
    assert [c.type_args for c in main.body.fields if isinstance(c, relay.Call)] == [(F32,), (I32,)]


@pytest.mark.spec("TY-10")
def test_polymorphic_global_passed_as_a_monomorphic_function() -> None:
    a = relay.TypeVar("a")
    x = relay.var("x", a)
    gid, apply = relay.GlobalVar("id"), relay.GlobalVar("apply")
    f = relay.var("f", relay.FuncType([I32], I32))
    n = relay.var("n", I32)
    mod = tvm.IRModule()
    mod[gid] = relay.Function([x], x, a, [a])
    mod[apply] = relay.Function([f, n], f(n))
    mod["main"] = relay.Function([], apply(gid, relay.const(1)))
    typed = infer_mod(mod)
    assert typed["main"].checked_type == relay.FuncType([], I32)
    assert typed["id"].checked_type == relay.FuncType([a], a, [a])


@pytest.mark.spec("TY-10")
def test_functions_without_type_parameters_are_monomorphic() -> None:
    g = relay.var("g")
    y = relay.var("y")
    body = relay.Let(
        g, relay.Function([y], y), relay.Tuple([g(relay.const(1)), g(relay.const(1.0))])
    )
    with pytest.raises(DiagnosticError, match=r"argument 0 of the call of %g: expected `int32`"):
        InferTypeLocal(body)


@pytest.mark.spec("TY-10")
def test_explicit_type_args() -> None:
    id_func = _id_func()
    t = relay.TensorType((2,))
    x = relay.var("x", t)
    call = relay.Call(id_func, [x], type_args=[t])
    main = infer_main(relay.Function([x], call))
    assert isinstance(main.body, relay.Call)
    assert main.body.type_args == (t,)
    wrong = relay.Call(id_func, [x], type_args=[F32])
    with pytest.raises(DiagnosticError, match=r"argument 0 .*expected `float32`"):
        infer_main(relay.Function([x], wrong))
    too_many = relay.Call(id_func, [x], type_args=[t, t])
    with pytest.raises(DiagnosticError, match=r"takes 1 type argument\(s\), but the call gives 2"):
        infer_main(relay.Function([x], too_many))


# --- TY-11: globals -----------------------------------------------------------------------


@pytest.mark.spec("TY-11")
def test_recursion() -> None:
    sb = relay.ScopeBuilder()
    f = relay.GlobalVar("f")
    n = relay.var("n", I32)
    data = relay.var("data", F32)
    with sb.if_scope(equal(n, relay.const(0, I32))):
        sb.ret(data)
    with sb.else_scope():
        sb.ret(f(sub(n, relay.const(1, I32)), log(data)))
    mod = tvm.IRModule()
    mod[f] = relay.Function([n, data], sb.get())
    typed = infer_mod(mod)
    assert typed["f"].checked_type == relay.FuncType([I32, F32], F32)


@pytest.mark.spec("TY-11")
def test_global_var_recursion() -> None:
    mod = tvm.IRModule({})
    gv = relay.GlobalVar("main")
    x = relay.var("x", shape=[])
    func = relay.Function([x], relay.Call(gv, [x]), F32)
    mod[gv] = func
    assert infer_mod(mod)["main"].checked_type == relay.FuncType([F32], F32)


@pytest.mark.spec("TY-11")
def test_mutual_recursion_without_return_annotations() -> None:
    even, odd = relay.GlobalVar("even"), relay.GlobalVar("odd")
    n, m = relay.var("n", I32), relay.var("m", I32)
    zero, one = relay.const(0), relay.const(1)
    mod = tvm.IRModule()
    mod[even] = relay.Function([n], relay.If(equal(n, zero), relay.const(True), odd(sub(n, one))))
    mod[odd] = relay.Function([m], relay.If(equal(m, zero), relay.const(False), even(sub(m, one))))
    typed = infer_mod(mod)
    assert typed["even"].checked_type == relay.FuncType([I32], BOOL)
    assert typed["odd"].checked_type == relay.FuncType([I32], BOOL)


@pytest.mark.spec("TY-11")
def test_global_parameters_inferred_from_calls() -> None:
    # minitvm types the module as one problem: @f's parameter is fixed by @main's call,
    # even though @main comes first in the module.
    f = relay.GlobalVar("f")
    y = relay.var("y", shape=(5,))
    x = relay.var("x")
    mod = tvm.IRModule()
    mod["main"] = relay.Function([y], f(y))
    mod[f] = relay.Function([x], x)
    typed = infer_mod(mod)
    tp = relay.TensorType((5,))
    assert typed["f"].checked_type == relay.FuncType([tp], tp)
    assert typed["main"].checked_type == relay.FuncType([tp], tp)


@pytest.mark.spec("TY-11")
def test_undefined_global() -> None:
    x = relay.var("x", F32)
    with pytest.raises(DiagnosticError, match=r"@missing is not defined in the module"):
        infer_main(relay.Function([x], relay.GlobalVar("missing")(x)))


# --- TY-12: diagnostics -------------------------------------------------------------------


@pytest.mark.spec("TY-12")
def test_mismatch_names_construct_types_location_and_span() -> None:
    x = relay.var("x", shape=(3,))
    g = relay.var("g", relay.FuncType([relay.TensorType((4,))], F32))
    call = relay.Call(g, [x], span=Span("model.rly", 3, 3, 7, 9))
    with pytest.raises(DiagnosticError) as info:
        infer_main(relay.Function([x, g], relay.Tuple([x, call])))
    assert str(info.value) == (
        "@main: body.fields[1].args[0] (model.rly:3:7): argument 0 of the call of %g: "
        "expected `Tensor[(4), float32]`, found `Tensor[(3), float32]` (dimension 0: 4 vs 3)"
    )


@pytest.mark.spec("TY-12")
def test_nested_mismatch_names_the_clashing_parts() -> None:
    t = relay.var("t", relay.TupleType([F32, I32]))
    g = relay.var("g", relay.FuncType([relay.TupleType([F32, F32])], F32))
    with pytest.raises(DiagnosticError) as info:
        infer_main(relay.Function([t, g], g(t)))
    assert "expected `(float32, float32)`, found `(float32, int32)`" in str(info.value)
    assert "(`float32` vs `int32`: dtype float32 vs int32)" in str(info.value)


@pytest.mark.spec("TY-12")
def test_infinite_type_is_refused() -> None:
    f = relay.var("f")
    with pytest.raises(DiagnosticError, match="would contain itself"):
        infer_main(relay.Function([f], f(f)))


@pytest.mark.spec("TY-12")
def test_location_of_a_deep_node_is_compressed() -> None:
    x = relay.var("x", shape=(2,))
    body: relay.Expr = relay.Call(LOG, [x, x])
    for i in range(10):
        body = relay.Let(relay.var(f"v{i}"), x, body)
    with pytest.raises(DiagnosticError) as info:
        infer_main(relay.Function([x], body))
    assert info.value.path == "@main: body*11"


# --- TY-13: what cannot be inferred ----------------------------------------------------------


@pytest.mark.spec("TY-13")
def test_unconstrained_parameter_is_an_error() -> None:
    x = relay.var("x")
    with pytest.raises(DiagnosticError) as info:
        infer_main(relay.Function([x], relay.const(1)))
    assert info.value.path == "@main: params[0]"
    assert "cannot infer the type of %x" in str(info.value)


@pytest.mark.spec("TY-13")
def test_relation_on_unknown_arguments_is_an_error() -> None:
    x = relay.var("x")
    with pytest.raises(DiagnosticError) as info:
        infer_main(relay.Function([x], log(x)))
    assert info.value.path == "@main: body"
    assert "cannot infer the argument types of operator ty_test.log" in str(info.value)


@pytest.mark.spec("TY-13")
def test_relation_on_type_variable_is_an_error() -> None:
    a = relay.TypeVar("a")
    x = relay.var("x", a)
    with pytest.raises(DiagnosticError, match=r"argument 0 of operator ty_test.log has type `a`"):
        infer_main(relay.Function([x], log(x), None, [a]))


# --- TY-14: type variables ------------------------------------------------------------------


@pytest.mark.spec("TY-14")
def test_unbound_type_variable_is_an_error() -> None:
    a = relay.TypeVar("a")
    x = relay.var("x", a)
    with pytest.raises(DiagnosticError, match="type variable `a` in the type of %x"):
        infer_main(relay.Function([x], x))
    y = relay.var("y")
    leaky = relay.Function([x], relay.If(relay.const(True), x, y), a, [a])
    with pytest.raises(DiagnosticError, match="type variable `a` in the type of %y"):
        infer_main(relay.Function([y], leaky(relay.const(1.0))))


@pytest.mark.spec("TY-14")
def test_type_variables_of_free_variables_are_allowed_locally() -> None:
    a = relay.TypeVar("a")
    x = relay.var("x", a)
    assert InferTypeLocal(relay.Tuple([x])) == relay.TupleType([a])


# --- TY-15: InferTypeLocal ------------------------------------------------------------------


@pytest.mark.spec("TY-15")
def test_free_expr() -> None:
    x = relay.var("x", "float32")
    y = add(x, x)
    assert InferTypeLocal(y) == F32
    assert y.checked_type == F32
    assert y.args[0] is x
    assert y.type_args == ()  # InferTypeLocal fills no type_args


@pytest.mark.spec("TY-15")
def test_infer_type_local_writes_only_missing_types() -> None:
    x = relay.var("x", shape=(2,))
    v = relay.var("v")
    inner = log(x)
    InferTypeLocal(inner)
    inner_type = inner.checked_type_
    let = relay.Let(v, inner, relay.Tuple([v, x]))
    assert InferTypeLocal(let) == relay.TupleType([ann(x), ann(x)])
    assert inner.checked_type_ is inner_type  # a present type is never replaced
    assert v.checked_type == ann(x)  # written in place...
    assert v.type_annotation is None  # ...but no annotation is filled


@pytest.mark.spec("TY-15")
def test_infer_type_local_trusts_present_types() -> None:
    x = relay.var("x", shape=(2,))
    inner = log(x)
    object.__setattr__(inner, "checked_type_", relay.TensorType((7,)))
    outer = log(inner)
    assert InferTypeLocal(outer) == relay.TensorType((7,))


@pytest.mark.spec("TY-15")
def test_infer_type_local_failure_writes_nothing() -> None:
    x = relay.var("x", shape=(2,))
    y = relay.var("y", shape=(3,))
    good = log(x)
    bad = relay.Tuple([good, add(good, y)])
    with pytest.raises(DiagnosticError):
        InferTypeLocal(bad)
    assert good.checked_type_ is None
    assert bad.checked_type_ is None


@pytest.mark.spec("TY-15")
def test_infer_type_local_has_no_module() -> None:
    with pytest.raises(DiagnosticError, match="cannot be typed without a module"):
        InferTypeLocal(relay.GlobalVar("f")(relay.const(1.0)))


# --- TY-16: relay.testing -------------------------------------------------------------------


@pytest.mark.spec("TY-16")
def test_run_opt_pass_and_run_infer_type() -> None:
    x = relay.var("x", shape=(2,))
    body = log(x)
    typed_body = testing.run_infer_type(body)
    assert isinstance(typed_body, relay.Call)
    assert typed_body.checked_type == ann(x)
    func = testing.run_infer_type(relay.Function([x], body))
    assert isinstance(func, relay.Function)
    assert func.checked_type == relay.FuncType([ann(x)], ann(x))
    twice = testing.run_opt_pass(body, [InferType(), InferType()])
    assert twice.checked_type == ann(x)
    with_prelude = testing.run_opt_pass(body, InferType(), import_prelude=True)
    assert with_prelude.checked_type == ann(x)


@pytest.mark.spec("TY-18")
def test_prelude_and_nat_helpers() -> None:
    from minitvm.relay.prelude import Prelude

    p = Prelude()
    assert p.get_type("List") is p.l
    assert (p.cons.name_hint, p.nil.name_hint, p.some.name_hint, p.rose.name_hint) == (
        "Cons",
        "Nil",
        "Some",
        "Rose",
    )
    assert p.get_ctor("Option", "None") is p.none
    assert p.get_global_var("length") is p.length
    assert p.get_name("tensor", "float32") == "tensor_float32"
    one, two = relay.const(1), relay.const(2)
    xs = p.cons(one, p.cons(two, p.nil()))
    ex = relay.create_executor(mod=p.mod)
    assert int(ex.evaluate(p.length(xs)).numpy()) == 2
    assert int(ex.evaluate(p.sum(xs)).numpy()) == 3
    three = testing.make_nat_expr(p, 3)
    double = p.mod.get_global_var("nat_double")
    assert testing.count(p, ex.evaluate(double(three))) == 6
    assert testing.count(p, testing.make_nat_value(p, 4)) == 4
    with pytest.raises(TVMError, match="not a nat"):
        testing.count(p, ex.evaluate(xs))
    assert Prelude(p.mod).mod is p.mod  # importing again changes nothing


# --- TY-17: deep and shared programs ----------------------------------------------------------


DEPTH = 100_000


@pytest.mark.spec("TY-17")
def test_deep_call_chain() -> None:
    x = relay.var("x", shape=(2,))
    body: relay.Expr = x
    for _ in range(DEPTH):
        body = log(body)
    typed = infer_mod(tvm.IRModule.from_expr(relay.Function([x], body)))
    assert typed["main"].checked_type == relay.FuncType([ann(x)], ann(x))
    assert InferTypeLocal(body) == ann(x)


@pytest.mark.spec("TY-17")
def test_deep_let_chain() -> None:
    x = relay.var("x", shape=(2,))
    vs = [relay.var(f"v{i}") for i in range(DEPTH)]
    body: relay.Expr = vs[-1]
    for i in reversed(range(DEPTH)):
        body = relay.Let(vs[i], log(vs[i - 1] if i else x), body)
    main = infer_main(relay.Function([x], body))
    assert main.checked_type == relay.FuncType([ann(x)], ann(x))


@pytest.mark.spec("TY-17")
def test_diamond_ladder_keeps_sharing() -> None:
    x = relay.var("x", shape=(2,))
    node: relay.Expr = x
    for _ in range(40):
        node = add(log(node), log(node))
    node = log(node)
    main = infer_main(relay.Function([x], node))
    rung = main.body
    assert isinstance(rung, relay.Call)
    assert isinstance(rung.args[0], relay.Call)
    ladder = rung.args[0]
    assert isinstance(ladder.args[0], relay.Call)
    assert isinstance(ladder.args[1], relay.Call)
    assert ladder.args[0] is not ladder.args[1]
    assert ladder.args[0].args[0] is ladder.args[1].args[0]  # the shared rung below


@pytest.mark.spec("TY-17")
def test_ladder_of_tuples_has_a_shared_type() -> None:
    # The type of the ladder is itself a DAG whose tree expansion has 2^40 tensor types;
    # unification, the occurs check and resolution must walk it by distinct nodes.
    x = relay.var("x", shape=(2,))
    w = relay.var("w")
    ladder: relay.Expr = x
    for _ in range(40):
        ladder = relay.Tuple([ladder, ladder])
    main = infer_main(relay.Function([x], relay.Let(w, ladder, w)))
    ty = main.checked_type
    assert isinstance(ty, relay.FuncType)
    for _ in range(40):
        assert isinstance(ty.ret_type, relay.TupleType)
        ty = relay.FuncType([], ty.ret_type.fields[0])
    assert ty.ret_type == ann(x)
    one: relay.Type = ann(x)
    two: relay.Type = relay.TensorType((2,))
    for _ in range(40):
        one, two = relay.TupleType([one, one]), relay.TupleType([two, two])
    assert one == two
    assert hash(one) == hash(two)
    assert one != relay.TupleType([two, relay.TupleType([two, ann(x)])])


@pytest.mark.spec("TY-17")
def test_deep_reference_and_adt_types_compare_and_hash_iteratively() -> None:
    base = relay.TensorType((1,), "float32")
    lst = relay.GlobalTypeVar("List")
    refs: list[relay.Type] = [base, base]
    calls: list[relay.Type] = [base, base]
    for _ in range(100_000):
        refs = [relay.RefType(t) for t in refs]
        calls = [relay.TypeCall(lst, [t]) for t in calls]
    for one, two in (refs, calls):
        assert one == two
        assert hash(one) == hash(two)
    assert refs[0] != relay.RefType(base)
    assert calls[0] != relay.TypeCall(lst, [relay.TypeCall(lst, [base, base])])
