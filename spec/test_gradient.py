"""GRAD: automatic differentiation: the gradient entry point, higher- and first-order modes,
operator gradients, check_grad, LazyGradientInit, and passes over gradient programs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay.analysis import Feature, detect_feature
from minitvm.relay.expr import Expr
from minitvm.relay.prelude import Prelude
from minitvm.relay.testing import check_grad, count_ops, make_nat_expr, run_infer_type
from minitvm.relay.transform import (
    DeadCodeElimination,
    FirstOrderGradient,
    FoldConstant,
    InferType,
    LazyGradientInit,
    ToANormalForm,
    ToGraphNormalForm,
    gradient,
)
from minitvm.runtime.container import ADT

F32 = relay.TensorType((3, 4), "float32")
F64 = relay.TensorType((2, 3), "float64")
MODES = ["higher_order", "first_order"]


def typed(func: relay.Function) -> relay.Function:
    result = run_infer_type(func)
    assert isinstance(result, relay.Function)
    return result


def grad_of(func: relay.Function, mode: str = "higher_order") -> relay.Function:
    """The typed gradient of ``func`` (first order through the module pass, which does not
    warn)."""
    if mode == "first_order":
        result = FirstOrderGradient()(IRModule.from_expr(func))["main"]
        assert isinstance(result, relay.Function)
        return typed(result)
    return typed(gradient(func))


Array = np.ndarray[Any, np.dtype[Any]]


def run(func: Expr, *args: Array, mod: IRModule | None = None) -> tuple[object, list[Array]]:
    """Evaluate a gradient program: (forward value, [gradients as numpy arrays])."""
    result = relay.create_executor(mod=mod).evaluate(func)(*args)
    assert isinstance(result, ADT)
    forward, grads = result.fields
    assert isinstance(grads, ADT)
    return forward, [arr(g) for g in grads.fields]


def arr(value: object) -> Array:
    assert isinstance(value, tvm.nd.NDArray)
    result: Array = value.numpy()
    return result


def rand(shape: tuple[int, ...], dtype: str = "float32") -> Array:
    return np.random.default_rng(0).uniform(-1, 1, shape).astype(dtype)


# --- GRAD-1: the entry point and the result ------------------------------------------------


@pytest.mark.spec("GRAD-1")
@pytest.mark.parametrize("mode", MODES)
def test_identity_and_double(mode: str) -> None:
    # TVM's test_id / test_fo_id / test_add
    x = relay.var("x", F32)
    xv = rand((3, 4))
    cases: list[tuple[Expr, float]] = [(x, 1.0), (relay.add(x, x), 2.0)]
    for body, scale in cases:
        back = grad_of(typed(relay.Function([x], body)), mode)
        assert back.checked_type == relay.FuncType(
            [F32], relay.TupleType([F32, relay.TupleType([F32])])
        )
        forward, (gx,) = run(back, xv)
        np.testing.assert_allclose(arr(forward), scale * xv, rtol=1e-6)
        np.testing.assert_allclose(gx, scale * np.ones_like(xv))


@pytest.mark.spec("GRAD-1")
@pytest.mark.parametrize("mode", MODES)
def test_broadcast_add_and_subtract(mode: str) -> None:
    # TVM's test_broadcast_add / test_broadcast_subtract
    t1, t2 = relay.TensorType((3, 4, 1), "float32"), relay.TensorType((1, 5), "float32")
    x, y = relay.var("x", t1), relay.var("y", t2)
    xv, yv = rand((3, 4, 1)), rand((1, 5))
    for build, sign in [(relay.add, 1.0), (relay.subtract, -1.0)]:
        back = grad_of(typed(relay.Function([x, y], build(x, y))), mode)
        out = relay.TensorType((3, 4, 5), "float32")
        assert back.checked_type == relay.FuncType(
            [t1, t2], relay.TupleType([out, relay.TupleType([t1, t2])])
        )
        forward, (gx, gy) = run(back, xv, yv)
        np.testing.assert_allclose(arr(forward), xv + sign * yv, rtol=1e-6)
        np.testing.assert_allclose(gx, np.full((3, 4, 1), 5.0))
        np.testing.assert_allclose(gy, sign * np.full((1, 5), 12.0))


@pytest.mark.spec("GRAD-1")
@pytest.mark.parametrize("mode", MODES)
def test_ret_type_is_written_when_annotated(mode: str) -> None:
    x = relay.var("x", F32)
    annotated = typed(relay.Function([x], relay.exp(x), ret_type=F32))
    expected = relay.TupleType([F32, relay.TupleType([F32])])
    if mode == "higher_order":
        raw = gradient(annotated)
        # a typed body under a function without a result annotation: left to InferType
        bare = relay.Function(annotated.params, annotated.body)
        assert gradient(bare).ret_type is None
    else:
        out = FirstOrderGradient()(IRModule.from_expr(annotated))["main"]
        assert isinstance(out, relay.Function)
        raw = out
    assert raw.ret_type == expected
    assert raw.type_params == ()


@pytest.mark.spec("GRAD-1")
def test_tuple_result_seeds_first_tensor_or_all() -> None:
    # TVM's test_grad_tuple: higher order differentiates the first field only
    sb = relay.ScopeBuilder()
    x = relay.var("x", F32)
    y = sb.let("y", relay.add(x, x))
    sb.ret(relay.Tuple([relay.add(y, y), y]))
    func = typed(relay.Function([x], sb.get()))
    back = grad_of(func)
    assert back.checked_type == relay.FuncType(
        [F32], relay.TupleType([relay.TupleType([F32, F32]), relay.TupleType([F32])])
    )
    xv = rand((3, 4))
    forward, (gx,) = run(back, xv)
    assert isinstance(forward, ADT)
    np.testing.assert_allclose(arr(forward.fields[0]), 4 * xv, rtol=1e-6)
    np.testing.assert_allclose(arr(forward.fields[1]), 2 * xv, rtol=1e-6)
    np.testing.assert_allclose(gx, np.full((3, 4), 4.0))
    # first order (no lets): every tensor of the result is seeded: d(4x + 2x) = 6
    y2 = relay.add(x, x)
    dataflow = typed(relay.Function([x], relay.Tuple([relay.add(y2, y2), y2])))
    _, (gx,) = run(grad_of(dataflow, "first_order"), xv)
    np.testing.assert_allclose(gx, np.full((3, 4), 6.0))


@pytest.mark.spec("GRAD-1")
def test_input_is_not_changed_and_testing_reexports() -> None:
    x = relay.var("x", F32)
    func = typed(relay.Function([x], relay.tanh(relay.multiply(x, x))))
    before = tvm.ir.structural_hash(func)
    body = func.body
    gradient(func)
    assert func.body is body
    assert tvm.ir.structural_hash(func) == before
    assert relay.testing.gradient is gradient


# --- GRAD-2: higher order ------------------------------------------------------------------


@pytest.mark.spec("GRAD-2")
def test_output_uses_references_and_closures_without_sharing() -> None:
    x = relay.var("x", F32)
    back = gradient(typed(relay.Function([x], relay.sigmoid(relay.multiply(x, x)))))
    features = detect_feature(back)
    assert {Feature.fRefCreate, Feature.fRefRead, Feature.fRefWrite} <= features
    assert Feature.fFunction in features
    assert Feature.fGraph not in features
    # the backpropagator parameter: the translated function is called with one more argument
    calls = [
        n
        for n in relay.expr_functor.post_order(back)
        if isinstance(n, relay.Call) and isinstance(n.op, relay.Function)
    ]
    assert len(calls) == 1
    assert len(calls[0].args) == 2
    callee = calls[0].op
    assert isinstance(callee, relay.Function)
    bp_type = relay.RefType(relay.FuncType([], relay.TupleType([])))
    assert callee.params[-1].type_annotation == bp_type
    assert callee.params[0].type_annotation == relay.TupleType([F32, relay.RefType(F32)])


@pytest.mark.spec("GRAD-2")
def test_higher_order_program_structure() -> None:
    def before() -> relay.Function:
        x = relay.var("x", F32)
        return typed(relay.Function([x], x))

    def expected() -> relay.Function:
        unit = relay.TupleType([])
        bp_type = relay.RefType(relay.FuncType([], unit))
        rev_type = relay.TupleType([F32, relay.RefType(F32)])
        x = relay.var("x", F32)
        bp, bp1 = relay.var("bp", bp_type), relay.var("bp", bp_type)
        xr = relay.var("x", rev_type)
        x1, x2, x4, x5 = (relay.var(n) for n in ["x1", "x2", "x4", "x5"])
        x6 = relay.var("x6", F32)
        rev = relay.Function([xr, bp1], xr, rev_type)  # the identity, taking bp last
        grads = relay.Tuple([relay.RefRead(relay.TupleGetItem(x1, 1))])
        body: Expr = relay.Tuple([x6, grads])
        body = relay.Let(x6, relay.TupleGetItem(x2, 0), body)
        body = relay.Let(x5, relay.Call(relay.RefRead(bp), []), body)
        seed = relay.RefWrite(relay.TupleGetItem(x2, 1), relay.ones_like(relay.TupleGetItem(x2, 0)))
        body = relay.Let(x4, seed, body)
        body = relay.Let(x2, relay.Call(rev, [x1, bp]), body)
        body = relay.Let(x1, relay.Tuple([x, relay.RefCreate(relay.zeros_like(x))]), body)
        body = relay.Let(bp, relay.RefCreate(relay.Function([], relay.Tuple([]), unit)), body)
        ret = relay.TupleType([F32, relay.TupleType([F32])])
        return typed(relay.Function([x], body, ret_type=ret))

    tvm.ir.assert_structural_equal(typed(gradient(before())), expected())


@pytest.mark.spec("GRAD-2")
def test_let_bound_temporaries() -> None:
    # TVM's test_temp_add
    sb = relay.ScopeBuilder()
    x = relay.var("x", F32)
    y = sb.let("y", relay.add(x, x))
    sb.ret(relay.add(y, y))
    back = grad_of(typed(relay.Function([x], sb.get())))
    xv = rand((3, 4))
    forward, (gx,) = run(back, xv)
    np.testing.assert_allclose(arr(forward), 4 * xv, rtol=1e-6)
    np.testing.assert_allclose(gx, np.full((3, 4), 4.0))


@pytest.mark.spec("GRAD-2")
def test_if_differentiates_the_branch_taken() -> None:
    # TVM's test_if, evaluated
    t = relay.TensorType((1, 4), "float32")
    x, y = relay.var("x", t), relay.var("y", t)
    cond = relay.var("cond", shape=(), dtype="bool")
    func = typed(relay.Function([cond, x, y], relay.log(relay.If(cond, x, y))))
    back = grad_of(func)
    xv, yv = np.full((1, 4), 2.0, "float32"), np.full((1, 4), 4.0, "float32")
    _, (_, gx, gy) = run(back, np.array(True), xv, yv)
    np.testing.assert_allclose(gx, 1 / xv)
    np.testing.assert_allclose(gy, np.zeros((1, 4)))
    _, (_, gx, gy) = run(back, np.array(False), xv, yv)
    np.testing.assert_allclose(gx, np.zeros((1, 4)))
    np.testing.assert_allclose(gy, 1 / yv)


@pytest.mark.spec("GRAD-2")
def test_references_in_the_program() -> None:
    # TVM's test_ref: r := r! + r!
    x = relay.var("x", F32)
    r, u = relay.Var("r"), relay.Var("u")
    body: Expr = relay.RefRead(r)
    body = relay.Let(u, relay.RefWrite(r, relay.add(relay.RefRead(r), relay.RefRead(r))), body)
    body = relay.Let(r, relay.RefCreate(x), body)
    back = grad_of(typed(relay.Function([x], body)))
    xv = rand((3, 4))
    forward, (gx,) = run(back, xv)
    np.testing.assert_allclose(arr(forward), 2 * xv, rtol=1e-6)
    np.testing.assert_allclose(gx, np.full((3, 4), 2.0))


@pytest.mark.spec("GRAD-2")
def test_closures_called_and_passed() -> None:
    # let f = fn (v) { v * x }; let apply = fn (g, w) { g(w) }; apply(f, x) + f(x)  = 2 x^2
    x = relay.var("x", F32)
    v, w = relay.var("v", F32), relay.var("w", F32)
    g = relay.var("g", relay.FuncType([F32], F32))
    f, apply = relay.var("f"), relay.var("apply")
    body: Expr = relay.add(relay.Call(apply, [f, x]), relay.Call(f, [x]))
    body = relay.Let(apply, relay.Function([g, w], relay.Call(g, [w])), body)
    body = relay.Let(f, relay.Function([v], relay.multiply(v, x)), body)
    back = grad_of(typed(relay.Function([x], body)))
    xv = rand((3, 4))
    forward, (gx,) = run(back, xv)
    np.testing.assert_allclose(arr(forward), 2 * xv * xv, rtol=1e-6)
    np.testing.assert_allclose(gx, 4 * xv, rtol=1e-6)


@pytest.mark.spec("GRAD-2")
def test_constructors_and_match() -> None:
    mod = IRModule()
    p = Prelude(mod)
    cons, nil = p.get_ctor("List", "Cons"), p.get_ctor("List", "Nil")
    x = relay.var("x", F32)
    h = relay.var("h")
    data = relay.Call(cons, [relay.multiply(x, x), relay.Call(nil, [])])
    clauses = [
        relay.Clause(
            relay.PatternConstructor(cons, [relay.PatternVar(h), relay.PatternWildcard()]),
            relay.exp(h),
        ),
        relay.Clause(relay.PatternWildcard(), x),
    ]
    mod["main"] = relay.Function([x], relay.Match(data, clauses))
    mod = InferType()(mod)
    back = gradient(main_of(mod), mod=mod)
    xv = rand((3, 4))
    forward, (gx,) = run(typed_in(mod, back), xv, mod=mod)
    np.testing.assert_allclose(arr(forward), np.exp(xv * xv), rtol=1e-5)
    np.testing.assert_allclose(gx, 2 * xv * np.exp(xv * xv), rtol=1e-5)


def main_of(mod: IRModule, name: str = "main") -> relay.Function:
    func = mod[name]
    assert isinstance(func, relay.Function)
    return func


def typed_in(mod: IRModule, func: relay.Function) -> relay.Function:
    mod = mod.copy()
    mod["grad_entry"] = func
    result = InferType()(mod)["grad_entry"]
    assert isinstance(result, relay.Function)
    return result


@pytest.mark.spec("GRAD-2")
def test_second_order() -> None:
    # TVM's test_square_second_order: d/dx (d/dx x*x) = 2
    x = relay.var("x", F32)
    back = grad_of(typed(relay.Function([x], relay.multiply(x, x))))
    y = relay.var("y", F32)
    first = typed(relay.Function([y], relay.TupleGetItem(relay.TupleGetItem(back(y), 1), 0)))
    back_back = grad_of(first)
    xv = rand((3, 4))
    forward, (gx,) = run(back_back, xv)
    np.testing.assert_allclose(arr(forward), 2 * xv, rtol=1e-6)
    np.testing.assert_allclose(gx, np.full((3, 4), 2.0))


@pytest.mark.spec("GRAD-2")
def test_shared_constant_is_translated_per_use() -> None:
    x = relay.var("x", F32)
    two = relay.const(2.0)
    func = typed(relay.Function([x], relay.multiply(relay.multiply(x, two), two)))
    back = gradient(func)
    assert Feature.fGraph not in detect_feature(back)
    _, (gx,) = run(typed(back), rand((3, 4)))
    np.testing.assert_allclose(gx, np.full((3, 4), 4.0))


# --- GRAD-3: globals -----------------------------------------------------------------------


@pytest.mark.spec("GRAD-3")
def test_global_functions() -> None:
    # TVM's test_global_function
    m = IRModule()
    x, y = relay.var("x", F32), relay.var("y", F32)
    d, q = relay.GlobalVar("double"), relay.GlobalVar("q")
    m[d] = relay.Function([x], relay.add(x, x))
    m[q] = relay.Function([y], relay.Call(d, [relay.Call(d, [y])]))
    m = InferType()(m)
    g = relay.GlobalVar("grad")
    m[g] = gradient(q, m)
    assert m.contains_global_var("double_grad")
    assert not m.contains_global_var("q_grad")  # the entry is inlined, only callees are added
    m = InferType()(m)
    back = main_of(m, "grad")
    assert back.checked_type == relay.FuncType(
        [F32], relay.TupleType([F32, relay.TupleType([F32])])
    )
    xv = rand((3, 4))
    forward, (gx,) = run(back, xv, mod=m)
    np.testing.assert_allclose(arr(forward), 4 * xv, rtol=1e-6)
    np.testing.assert_allclose(gx, np.full((3, 4), 4.0))
    # a second gradient does not clobber the first translation
    m[relay.GlobalVar("grad2")] = gradient(q, m)
    assert m.contains_global_var("double_grad1")


@pytest.mark.spec("GRAD-3")
def test_polymorphic_recursive_global() -> None:
    # TVM's test_pow: nat_iterate(double, 3)(i) = 8 i
    mod = IRModule()
    p = Prelude(mod)
    p.mod.import_from_std("nat.rly")
    nat_iterate = mod.get_global_var("nat_iterate")
    x, i = relay.var("x", F32), relay.var("i", F32)
    double = relay.Function([x], relay.add(x, x))
    mod["main"] = relay.Function(
        [i], relay.Call(relay.Call(nat_iterate, [double, make_nat_expr(p, 3)]), [i])
    )
    mod = InferType()(mod)
    mod["main"] = gradient(main_of(mod), mod=mod)
    mod = InferType()(mod)
    xv = rand((3, 4))
    forward, (gi,) = run(main_of(mod), xv, mod=mod)
    np.testing.assert_allclose(arr(forward), 8 * xv, rtol=1e-6)
    np.testing.assert_allclose(gi, np.full((3, 4), 8.0))


@pytest.mark.spec("GRAD-3")
def test_global_without_module_is_an_error() -> None:
    m = IRModule()
    x, y = relay.var("x", F32), relay.var("y", F32)
    d = relay.GlobalVar("double")
    m[d] = relay.Function([x], relay.add(x, x))
    m["main"] = relay.Function([y], relay.Call(d, [y]))
    m = InferType()(m)
    with pytest.raises(DiagnosticError, match="global @double"):
        gradient(main_of(m))
    with pytest.raises(DiagnosticError, match="does not define @double"):
        gradient(main_of(m), mod=IRModule())


# --- GRAD-4: first order -------------------------------------------------------------------


@pytest.mark.spec("GRAD-4")
def test_first_order_module_pass_and_tuples() -> None:
    # TVM's test_tuple_first_order, plus a second function in the module
    x, y, z = (relay.var(n, F32) for n in "xyz")
    tup = relay.Tuple([x, y, z])
    body = relay.subtract(
        relay.add(relay.TupleGetItem(tup, 0), relay.TupleGetItem(tup, 1)),
        relay.TupleGetItem(tup, 2),
    )
    w = relay.var("w", F32)
    mod = IRModule.from_expr(relay.Function([x, y, z], body))
    mod["other"] = relay.Function([w], relay.negative(w))
    mod = InferType()(mod)
    out = FirstOrderGradient()(mod)
    assert FirstOrderGradient().info.name == "FirstOrderGradient"
    assert FirstOrderGradient().info.opt_level == 0
    out = InferType()(out)
    main = main_of(out)
    assert main.checked_type == relay.FuncType(
        [F32] * 3, relay.TupleType([F32, relay.TupleType([F32] * 3)])
    )
    xs = [rand((3, 4)), rand((3, 4)) + 1, rand((3, 4)) + 2]
    forward, grads = run(main, *xs, mod=out)
    np.testing.assert_allclose(arr(forward), xs[0] + xs[1] - xs[2], rtol=1e-6)
    for g, expected in zip(grads, [1.0, 1.0, -1.0], strict=True):
        np.testing.assert_allclose(g, np.full((3, 4), expected))
    _, (gw,) = run(main_of(out, "other"), xs[0], mod=out)
    np.testing.assert_allclose(gw, -np.ones((3, 4)))
    features = detect_feature(main)
    assert not features & {Feature.fRefCreate, Feature.fRefRead, Feature.fRefWrite}
    assert [
        n for n in relay.expr_functor.post_order(main.body) if isinstance(n, relay.Function)
    ] == []


@pytest.mark.spec("GRAD-4")
def test_first_order_program_structure() -> None:
    def before() -> relay.Function:
        x = relay.var("x", F32)
        return typed(relay.Function([x], relay.exp(x)))

    def expected() -> relay.Function:
        # forward values and zero gradients, then the tape run backward
        x = relay.var("x", F32)
        x1, x3 = relay.var("x1", F32), relay.var("x3", F32)
        x2, x4, x5 = relay.var("x2"), relay.var("x4"), relay.var("x5", F32)
        seed = relay.ones_like(x3)
        grads = relay.Let(x5, relay.add(x2, relay.multiply(seed, relay.exp(x1))), relay.Tuple([x5]))
        body: Expr = relay.Tuple([x3, grads])
        body = relay.Let(x4, relay.zeros_like(x3), body)
        body = relay.Let(x3, relay.exp(x1), body)
        body = relay.Let(x2, relay.zeros_like(x1), body)
        body = relay.Let(x1, x, body)
        ret = relay.TupleType([F32, relay.TupleType([F32])])
        return typed(relay.Function([x], body, ret_type=ret))

    out = FirstOrderGradient()(IRModule.from_expr(before()))
    tvm.ir.assert_structural_equal(InferType()(out)["main"], expected())


@pytest.mark.spec("GRAD-4")
def test_no_duplication_of_shared_nodes() -> None:
    # TVM's test_no_duplication: one dense forward, two backward
    x = relay.var("x", relay.TensorType((12, 12), "float32"))
    y = relay.var("y", relay.TensorType((12, 12), "float32"))
    xy = relay.nn.dense(x, y)
    m = relay.sum(xy, keepdims=True)
    s = relay.sum(relay.subtract(xy, m))
    func = typed(relay.Function([x, y], s))
    with pytest.warns(DeprecationWarning, match="FirstOrderGradient"):
        back = gradient(func, mode="first_order")
    assert count_ops(back)["nn.dense"] == 3


@pytest.mark.spec("GRAD-4")
def test_first_order_spelling_rules() -> None:
    x = relay.var("x", F32)
    func = typed(relay.Function([x], relay.exp(x)))
    with (
        pytest.warns(DeprecationWarning, match="deprecated"),
        pytest.raises(DiagnosticError, match="FirstOrderGradient module pass"),
    ):
        gradient(func, mod=IRModule.from_expr(func), mode="first_order")


# --- GRAD-5: errors ------------------------------------------------------------------------


def _errors() -> list[tuple[str, Callable[[], object], str]]:
    x = relay.var("x", F32)
    tup_t = relay.TupleType([F32, F32])
    t = relay.var("t", tup_t)
    a = relay.TypeVar("A")
    poly = relay.Function([relay.var("p", a)], relay.var("p", a), type_params=[a])
    shared = relay.exp(x)
    sb = relay.ScopeBuilder()
    v = sb.let("v", relay.exp(x))
    sb.ret(v)
    return [
        ("not a function", lambda: gradient(relay.exp(x)), "expected a Relay function"),
        ("polymorphic", lambda: gradient(poly), "polymorphic"),
        ("untyped", lambda: gradient(relay.Function([x], relay.exp(x))), "run InferType"),
        (
            "tuple param",
            lambda: gradient(typed(relay.Function([t], relay.TupleGetItem(t, 0)))),
            r"parameter 0 \(%t\) must be a tensor",
        ),
        (
            "missing",
            lambda: gradient(typed(relay.Function([x], relay.floor(relay.round(x))))),
            "floor, round",
        ),
        (
            "mode",
            lambda: gradient(typed(relay.Function([x], x)), mode="forward"),
            "unknown mode 'forward'",
        ),
        (
            "graph",
            lambda: gradient(typed(relay.Function([x], relay.add(shared, shared)))),
            "shared between two uses",
        ),
        (
            "first order let",
            lambda: grad_of(typed(relay.Function([x], sb.get())), "first_order"),
            "Let is not supported",
        ),
    ]


@pytest.mark.spec("GRAD-5")
@pytest.mark.parametrize("case", range(8))
def test_unsupported_input_is_a_diagnostic(case: int) -> None:
    _, build, message = _errors()[case]
    with pytest.raises(DiagnosticError, match=message):
        build()


@pytest.mark.spec("GRAD-5")
def test_operator_as_a_value_is_a_diagnostic() -> None:
    x = relay.var("x", F32)
    f = relay.var("f")
    body = relay.Let(f, relay.op.get("exp"), relay.Call(f, [x]))
    with pytest.raises(DiagnosticError, match="operator exp is used as a value"):
        gradient(typed(relay.Function([x], body)))


# --- GRAD-6: operator gradients ------------------------------------------------------------

VEC = relay.TensorType((3,), "float64")
ONE = relay.const(1.0, "float64")
W = relay.TensorType((4, 3), "float64")

# name -> (second parameter type, body builder over (x, y))
OP_CASES: dict[str, tuple[relay.TensorType, Callable[[Expr, Expr], Expr]]] = {
    "add": (VEC, relay.add),
    "subtract": (VEC, relay.subtract),
    "multiply": (VEC, relay.multiply),
    "divide": (VEC, lambda x, y: relay.divide(x, relay.add(relay.multiply(y, y), ONE))),
    "power": (VEC, lambda x, y: relay.power(relay.add(relay.multiply(x, x), ONE), y)),
    "maximum": (VEC, relay.maximum),
    "minimum": (VEC, relay.minimum),
    "negative": (VEC, lambda x, y: relay.negative(relay.multiply(x, y))),
    "exp": (VEC, lambda x, y: relay.exp(relay.multiply(x, y))),
    "log": (VEC, lambda x, y: relay.log(relay.add(relay.multiply(x, x), relay.exp(y)))),
    "sqrt": (VEC, lambda x, y: relay.sqrt(relay.add(relay.multiply(x, x), relay.exp(y)))),
    "sigmoid": (VEC, lambda x, y: relay.sigmoid(relay.multiply(x, y))),
    "tanh": (VEC, lambda x, y: relay.tanh(relay.add(x, y))),
    "nn.relu": (VEC, lambda x, y: relay.nn.relu(relay.subtract(x, y))),
    "clip": (VEC, lambda x, y: relay.clip(relay.multiply(x, y), -0.3, 0.3)),
    "copy": (VEC, lambda x, y: relay.copy(relay.multiply(x, y))),
    "cast": (VEC, lambda x, y: relay.cast(relay.cast(relay.multiply(x, y), "float32"), "float64")),
    "zeros_like / ones_like": (
        VEC,
        lambda x, y: relay.add(relay.multiply(relay.ones_like(x), y), relay.zeros_like(y)),
    ),
    "zeros / ones": (
        VEC,
        lambda x, y: relay.add(
            relay.multiply(x, relay.ones((2, 3), "float64")), relay.zeros((3,), "float64")
        ),
    ),
    "collapse_sum_like": (VEC, lambda x, y: relay.multiply(relay.collapse_sum_like(x, y), y)),
    "broadcast_to": (VEC, lambda x, y: relay.multiply(relay.broadcast_to(y, (2, 3)), x)),
    "broadcast_to_like": (VEC, lambda x, y: relay.multiply(relay.broadcast_to_like(y, x), x)),
    "reshape": (
        VEC,
        lambda x, y: relay.multiply(relay.reshape(x, (3, 2)), relay.reshape(y, (3, 1))),
    ),
    "squeeze / expand_dims": (
        VEC,
        lambda x, y: relay.multiply(
            relay.squeeze(relay.expand_dims(x, 0), [0]), relay.expand_dims(y, 0, 1)
        ),
    ),
    "transpose": (
        VEC,
        lambda x, y: relay.multiply(relay.transpose(x, [1, 0]), relay.reshape(y, (3, 1))),
    ),
    "sum": (
        VEC,
        lambda x, y: relay.multiply(
            relay.sum(x, axis=0), relay.sum(relay.multiply(x, y), axis=1, keepdims=True)
        ),
    ),
    "sum exclude": (
        VEC,
        lambda x, y: relay.multiply(relay.sum(relay.multiply(x, x), axis=[1], exclude=True), y),
    ),
    "mean": (
        VEC,
        lambda x, y: relay.multiply(relay.mean(relay.multiply(x, x), axis=-1, keepdims=True), y),
    ),
    "nn.softmax": (VEC, lambda x, y: relay.multiply(relay.nn.softmax(x), y)),
    "nn.log_softmax": (VEC, lambda x, y: relay.multiply(relay.nn.log_softmax(x, axis=0), y)),
    "nn.bias_add": (VEC, lambda x, y: relay.multiply(relay.nn.bias_add(x, y, axis=1), x)),
    "nn.dense": (W, lambda x, y: relay.tanh(relay.nn.dense(x, y))),
    "concatenate": (
        VEC,
        lambda x, y: relay.tanh(relay.concatenate([x, relay.expand_dims(relay.exp(y), 0), x], 0)),
    ),
}


@pytest.mark.spec("GRAD-6")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_operator_gradient_matches_finite_differences(name: str, mode: str) -> None:
    second, build = OP_CASES[name]
    x, y = relay.var("x", F64), relay.var("y", second)
    rng = np.random.default_rng(sorted(OP_CASES).index(name))
    inputs = [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, second.shape)]
    # the cast case computes in float32: a coarser step and tolerance
    eps, tol = (1e-3, 1e-3) if name == "cast" else (1e-6, 1e-6)
    func = relay.Function([x, y], build(x, y))
    check_grad(func, inputs=inputs, mode=mode, eps=eps, atol=tol, rtol=10 * tol)


CONV_CASES = [
    # data shape, (out channels, kernel h, kernel w), strides, padding, dilation
    ((1, 2, 5, 5), (3, 3, 3), (1, 1), (0, 0), (1, 1)),
    ((2, 2, 6, 7), (2, 3, 2), (2, 2), (1, 1), (1, 1)),
    ((1, 1, 7, 7), (2, 2, 2), (2, 1), (1, 0, 0, 1), (2, 1)),
    ((1, 2, 5, 6), (1, 3, 3), (3, 2), (1, 1), (1, 1)),
]


@pytest.mark.spec("GRAD-6")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", range(len(CONV_CASES)))
def test_conv2d_gradient(case: int, mode: str) -> None:
    shape, (out_c, kh, kw), strides, padding, dilation = CONV_CASES[case]
    w_shape = (out_c, shape[1], kh, kw)
    x = relay.var("x", relay.TensorType(shape, "float64"))
    w = relay.var("w", relay.TensorType(w_shape, "float64"))
    conv = relay.nn.conv2d(x, w, strides=strides, padding=padding, dilation=dilation)
    rng = np.random.default_rng(case)
    inputs = [rng.uniform(-1, 1, shape), rng.uniform(-1, 1, w_shape)]
    check_grad(
        relay.Function([x, w], relay.tanh(conv)), inputs=inputs, mode=mode, atol=1e-6, rtol=1e-5
    )


@pytest.mark.spec("GRAD-6")
def test_pooling_gradients() -> None:
    x = relay.var("x", relay.TensorType((1, 2, 6, 6), "float64"))
    bodies = [
        relay.nn.max_pool2d(x, (2, 2), (2, 2)),
        relay.nn.avg_pool2d(x, (3, 3), (2, 2), padding=(1, 1)),
        relay.nn.avg_pool2d(x, (2, 2), (1, 1), padding=(1, 1), count_include_pad=True),
        relay.nn.global_avg_pool2d(x),
    ]
    rng = np.random.default_rng(1)
    for body in bodies:
        inputs = [rng.uniform(-1, 1, (1, 2, 6, 6))]
        check_grad(relay.Function([x], relay.tanh(body)), inputs=inputs, atol=1e-6, rtol=1e-5)
    grouped = relay.var("w", relay.TensorType((2, 1, 3, 3), "float64"))
    func = typed(relay.Function([x, grouped], relay.nn.conv2d(x, grouped, groups=2)))
    with pytest.raises(DiagnosticError, match=r"no gradient for nn\.conv2d with groups=2"):
        gradient(func)


@pytest.mark.spec("GRAD-6")
def test_gradient_attribute_and_registration() -> None:
    add = relay.op.get("add")
    fgrad = add.get_attr("FPrimalGradient")
    assert callable(fgrad)
    x, y = relay.var("x", F32), relay.var("y", relay.TensorType((4,), "float32"))
    orig = relay.add(x, y)
    g = relay.var("g", F32)
    dx, dy = fgrad(orig, g)
    tvm.ir.assert_structural_equal(dx, relay.collapse_sum_like(g, x))
    tvm.ir.assert_structural_equal(dy, relay.collapse_sum_like(g, y))
    # a custom operator gets a gradient through register_gradient
    name = "grad_test.twice"
    seen: list[relay.Call] = []
    custom = _custom_op(name)

    def twice_grad(orig: relay.Call, grad: Expr) -> list[Expr]:
        seen.append(orig)
        return [relay.multiply(grad, relay.const(2.0))]

    relay.op.register_gradient(name, twice_grad, level=11)
    x = relay.var("x", F32)
    func = typed(relay.Function([x], relay.Call(custom, [relay.exp(x)])))
    back = gradient(func)
    assert len(seen) == 1
    assert seen[0].op is custom
    forward_arg = seen[0].args[0]
    assert isinstance(forward_arg, relay.Var)
    assert forward_arg.type_annotation == F32  # the forward argument carries its type
    assert count_ops(back)["multiply"] == 2  # exp's gradient and the custom one
    typed(back)


def _custom_op(name: str) -> relay.op.op.Op:
    try:
        return relay.op.get(name)
    except tvm.error.TVMError:
        relay.op.op.register(name, "twice its input, for gradient tests")
        op = relay.op.get(name)
        op.set_num_inputs(1)
        op.add_type_rel("Identity")
        return op


@pytest.mark.spec("GRAD-6")
@pytest.mark.parametrize("mode", MODES)
def test_subgradients_at_kinks(mode: str) -> None:
    t = relay.TensorType((4,), "float64")
    x, y = relay.var("x", t), relay.var("y", t)
    xv = np.array([-1.0, 0.0, 0.5, 2.0])
    yv = np.array([0.0, 0.0, 1.0, 2.0])
    cases: list[tuple[Expr, list[list[float]]]] = [
        (
            relay.add(relay.nn.relu(x), relay.multiply(y, relay.const(0.0, "float64"))),
            [[0, 1, 1, 1], [0, 0, 0, 0]],
        ),
        (
            relay.add(relay.clip(x, 0.0, 0.5), relay.multiply(y, relay.const(0.0, "float64"))),
            [[0, 1, 1, 0], [0, 0, 0, 0]],
        ),
        (relay.maximum(x, y), [[0, 1, 0, 1], [1, 0, 1, 0]]),
        (relay.minimum(x, y), [[1, 1, 1, 1], [0, 0, 0, 0]]),
    ]
    for body, expected in cases:
        _, grads = run(grad_of(typed(relay.Function([x, y], body)), mode), xv, yv)
        for g, e in zip(grads, expected, strict=True):
            np.testing.assert_array_equal(g, np.array(e, "float64"))


# --- GRAD-7: check_grad --------------------------------------------------------------------


@pytest.mark.spec("GRAD-7")
def test_check_grad_accepts_and_rejects() -> None:
    # TVM's test_check_grad
    x, y = relay.var("x", F32), relay.var("y", F32)
    check_grad(relay.Function([x, y], relay.add(x, y)))
    t = relay.TensorType((3,), "float64")
    a, b = relay.var("a", t), relay.var("b", t)
    cube = relay.Function([a, b], relay.multiply(relay.multiply(a, a), relay.multiply(a, b)))
    inputs = [np.array([1.0, 2.0, 3.0]), np.array([1.0, -1.0, 0.5])]
    check_grad(cube, inputs=inputs, mode="first_order", atol=1e-6, rtol=1e-6)
    # with a coarse step the central difference of a^3 b is off by b eps^2: caught
    with pytest.raises(AssertionError):
        check_grad(cube, inputs=inputs, eps=0.5, atol=1e-6, rtol=1e-6)
    # ... unless only b, in which the function is linear, is checked
    check_grad(cube, inputs=inputs, test_inputs=[inputs[1]], eps=0.5, atol=1e-6, rtol=1e-6)


# --- GRAD-8: LazyGradientInit --------------------------------------------------------------


def lazy(func: relay.Function) -> IRModule:
    mod = InferType()(IRModule.from_expr(func))
    return LazyGradientInit()(mod)


def ops_of(mod: IRModule) -> set[str]:
    main = main_of(mod)
    found: set[str] = set()
    for n in relay.expr_functor.post_order(main):
        if isinstance(n, relay.Call) and isinstance(n.op, relay.GlobalVar | relay.Constructor):
            found.add(n.op.name_hint)
    return found


@pytest.mark.spec("GRAD-8")
def test_lazy_init_rewrites_and_keeps_values() -> None:
    x = relay.var("x", F32)
    body = relay.add(x, relay.multiply(relay.zeros_like(x), relay.ones_like(x)))
    before = InferType()(IRModule.from_expr(relay.Function([x], body)))
    after = LazyGradientInit()(before)
    assert LazyGradientInit().info.name == "LazyGradientInit"
    assert LazyGradientInit().info.opt_level == 2
    assert main_of(after).checked_type == main_of(before).checked_type
    assert {"Zero", "One", "Raw", "AddGradCell", "MultiplyGradCell", "FromGradCell"} <= ops_of(
        after
    )
    assert after.contains_global_var("FromGradCell")
    assert not before.contains_global_var("FromGradCell")  # the input module is not changed
    xv = rand((3, 4))
    np.testing.assert_allclose(arr(relay.create_executor(mod=after).evaluate()(xv)), xv)


@pytest.mark.spec("GRAD-8")
def test_lazy_init_calls_a_global_rewritten_before_the_caller() -> None:
    # @f comes first, so main is rewritten in a module where @f is already rewritten (and not
    # typed again yet): the call must still see @f's signature
    mod = IRModule()
    y = relay.var("y", F32)
    f = relay.GlobalVar("f")
    mod[f] = relay.Function([y], relay.add(y, relay.ones_like(y)))
    x = relay.var("x", F32)
    mod["main"] = relay.Function([x], relay.multiply(relay.Call(f, [x]), relay.zeros_like(x)))
    before = InferType()(mod)
    assert [g.name_hint for g in before.functions][:2] == ["f", "main"]
    after = tvm.transform.get_pass("LazyGradientInit")(before)  # registered by name
    assert main_of(after).checked_type == main_of(before).checked_type
    xv = rand((3, 4))
    got = arr(relay.create_executor(mod=after).evaluate()(xv))
    np.testing.assert_array_equal(got, np.zeros((3, 4), "float32"))
    f_out = after["f"]
    assert isinstance(f_out, relay.Function)
    np.testing.assert_allclose(arr(relay.create_executor(mod=after).evaluate(f_out)(xv)), xv + 1)


@pytest.mark.spec("GRAD-8")
def test_lazy_zero_times_value_is_zero() -> None:
    # zeros_like must give a Zero cell: a One cell would make this product x
    x = relay.var("x", F32)
    after = lazy(relay.Function([x], relay.multiply(relay.zeros_like(x), x)))
    assert "Zero" in ops_of(after)
    np.testing.assert_array_equal(
        arr(relay.create_executor(mod=after).evaluate()(rand((3, 4)))), np.zeros((3, 4))
    )


@pytest.mark.spec("GRAD-8")
def test_lazy_init_broadcast_tuple_and_if() -> None:
    x = relay.var("x", F32)
    v = relay.var("v", relay.TensorType((4,), "float32"))
    c = relay.var("c", relay.TensorType((), "bool"))
    broadcast = relay.add(x, v)  # types differ: no AddGradCell, a Raw result
    body = relay.Tuple([relay.If(c, broadcast, relay.ones_like(x)), relay.concatenate([x, x], 0)])
    func = relay.Function([c, x, v], body)
    before = InferType()(IRModule.from_expr(func))
    after = LazyGradientInit()(before)
    assert "AddGradCell" not in ops_of(after)
    args = [np.array(True), rand((3, 4)), rand((4,))]
    for flag in [True, False]:
        args[0] = np.array(flag)
        want = relay.create_executor(mod=before).evaluate()(*args)
        got = relay.create_executor(mod=after).evaluate()(*args)
        for w, g in zip(want.fields, got.fields, strict=True):
            np.testing.assert_array_equal(arr(g), arr(w))


@pytest.mark.spec("GRAD-8")
@pytest.mark.parametrize("mode", MODES)
def test_lazy_init_on_gradient_programs(mode: str) -> None:
    # TVM's test_reverse_ad_identity / test_multivar_reverse_ad
    x, y = relay.var("x", F32), relay.var("y", relay.TensorType((4,), "float32"))
    func = typed(relay.Function([x, y], relay.multiply(relay.sigmoid(x), relay.add(x, y))))
    back = grad_of(func, mode)
    before = IRModule.from_expr(back)
    after = LazyGradientInit()(InferType()(before))
    assert main_of(after).checked_type == back.checked_type
    args = [rand((3, 4)), rand((4,))]
    f0, g0 = run(back, *args)
    f1, g1 = run(main_of(after), *args, mod=after)
    np.testing.assert_allclose(arr(f1), arr(f0), rtol=1e-6)
    for a, b in zip(g1, g0, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def _lazy_cases() -> dict[str, relay.Function]:
    # after TVM's test_pass_lazy_gradient_init.py
    x, y = relay.var("x", F32), relay.var("y", F32)
    tup = relay.var("t", relay.TupleType([F32, F32]))
    v = relay.var("v", relay.TensorType((4,), "float32"))
    f = relay.var("f")
    inner = relay.Function([y], relay.multiply(y, relay.ones_like(y)))
    return {
        "zeros": relay.Function([x], relay.add(x, relay.zeros((3, 4), "float32"))),
        "ones": relay.Function([x], relay.multiply(relay.ones((3, 4), "float32"), x)),
        "zeros_like": relay.Function([x], relay.add(relay.zeros_like(x), x)),
        "ones_like": relay.Function([x], relay.multiply(x, relay.ones_like(x))),
        "multiply": relay.Function([x, y], relay.multiply(x, y)),
        "add broadcast": relay.Function([x, v], relay.add(x, v)),
        "tuple in": relay.Function(
            [tup], relay.add(relay.TupleGetItem(tup, 0), relay.TupleGetItem(tup, 1))
        ),
        "tuple out": relay.Function([x, y], relay.Tuple([relay.add(x, y), relay.zeros_like(y)])),
        "closure": relay.Function([x], relay.Let(f, inner, relay.Call(f, [relay.exp(x)]))),
        "other ops": relay.Function([x], relay.sum(relay.nn.relu(x), axis=1)),
    }


@pytest.mark.spec("GRAD-8")
@pytest.mark.parametrize("name", sorted(_lazy_cases()))
def test_lazy_init_keeps_types_and_values(name: str) -> None:
    func = _lazy_cases()[name]
    before = InferType()(IRModule.from_expr(func))
    after = LazyGradientInit()(before)
    assert main_of(after).checked_type == main_of(before).checked_type
    rng = np.random.default_rng(3)
    args: list[object] = []
    for p in main_of(before).params:
        ty = p.checked_type
        if isinstance(ty, relay.TupleType):
            shapes = [f.shape for f in ty.fields if isinstance(f, relay.TensorType)]
            args.append(tuple(rng.uniform(-1, 1, shape).astype("float32") for shape in shapes))
        else:
            assert isinstance(ty, relay.TensorType)
            args.append(rng.uniform(-1, 1, ty.shape).astype("float32"))
    want = relay.create_executor(mod=before).evaluate()(*args)
    got = relay.create_executor(mod=after).evaluate()(*args)
    wants = want.fields if isinstance(want, ADT) else [want]
    gots = got.fields if isinstance(got, ADT) else [got]
    for w, g in zip(wants, gots, strict=True):
        np.testing.assert_array_equal(arr(g), arr(w))


@pytest.mark.spec("GRAD-8")
def test_lazy_init_on_a_module_with_the_prelude() -> None:
    # the gradient of nat_iterate(double, 3) calls polymorphic globals with closures; the
    # prelude's List[int32] functions are left as they are
    mod = IRModule()
    p = Prelude(mod)
    p.mod.import_from_std("nat.rly")
    nat_iterate = mod.get_global_var("nat_iterate")
    t = relay.TensorType((3,), "float32")
    x, i = relay.var("x", t), relay.var("i", t)
    double = relay.Function([x], relay.add(x, x))
    iterate = relay.Call(nat_iterate, [double, make_nat_expr(p, 3)])
    mod["main"] = relay.Function([i], relay.Call(iterate, [i]))
    mod = InferType()(mod)
    mod["main"] = gradient(main_of(mod), mod=mod)
    mod = InferType()(mod)
    out = LazyGradientInit()(mod)
    assert out["sum"] is mod["sum"]  # List[int32]: unchanged
    assert out["main"] is not mod["main"]
    xv = np.array([1.0, 2.0, 3.0], "float32")
    f0, g0 = run(main_of(mod), xv, mod=mod)
    f1, g1 = run(main_of(out), xv, mod=out)
    np.testing.assert_array_equal(arr(f1), arr(f0))
    np.testing.assert_array_equal(g1[0], g0[0])
    np.testing.assert_array_equal(g1[0], np.full(3, 8.0))


# --- GRAD-9: passes, agreement, depth ------------------------------------------------------


def _if_ref_program() -> relay.Function:
    x = relay.var("x", F32)
    c = relay.var("c", relay.TensorType((), "bool"))
    r = relay.var("r")
    body = relay.Let(
        r,
        relay.RefCreate(relay.exp(x)),
        relay.If(c, relay.multiply(relay.RefRead(r), x), relay.tanh(relay.RefRead(r))),
    )
    return typed(relay.Function([c, x], body))


@pytest.mark.spec("GRAD-9")
@pytest.mark.parametrize(
    "passes",
    [
        [ToANormalForm()],
        [ToGraphNormalForm()],
        [DeadCodeElimination()],
        [FoldConstant()],
        [ToANormalForm(), DeadCodeElimination(inline_once=True), InferType()],
    ],
    ids=["anf", "gnf", "dce", "fold", "anf+dce"],
)
def test_passes_accept_gradient_programs(passes: list[tvm.transform.Pass]) -> None:
    back = grad_of(_if_ref_program())
    mod = InferType()(IRModule.from_expr(back))
    out = InferType()(tvm.transform.Sequential(passes)(mod))
    xv = rand((3, 4))
    for flag in [True, False]:
        f0, g0 = run(main_of(mod), np.array(flag), xv, mod=mod)
        f1, g1 = run(main_of(out), np.array(flag), xv, mod=out)
        np.testing.assert_allclose(arr(f1), arr(f0), rtol=1e-6)
        np.testing.assert_allclose(g1[1], g0[1], rtol=1e-6)


@pytest.mark.spec("GRAD-9")
def test_modes_agree() -> None:
    # one network, a graph for first order and with its shared value let-bound for higher order
    x, y = relay.var("x", F64), relay.var("y", VEC)

    def net(hidden: Expr) -> Expr:
        return relay.sum(relay.multiply(relay.nn.log_softmax(hidden), relay.sigmoid(hidden)))

    shared = relay.tanh(relay.nn.bias_add(x, y))
    graph = typed(relay.Function([x, y], net(shared)))
    h = relay.var("h")
    let_bound = typed(relay.Function([x, y], relay.Let(h, shared, net(h))))
    args = [rand((2, 3), "float64"), rand((3,), "float64")]
    f_ho, g_ho = run(grad_of(let_bound), *args)
    f_fo, g_fo = run(grad_of(graph, "first_order"), *args)
    np.testing.assert_allclose(arr(f_ho), arr(f_fo), rtol=1e-12)
    for a, b in zip(g_ho, g_fo, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


DEPTH = 3_000  # three times Python's default recursion limit


@pytest.mark.spec("GRAD-9")
@pytest.mark.parametrize("mode", MODES)
def test_deep_call_chain(mode: str) -> None:
    t = relay.TensorType((2,), "float64")
    x = relay.var("x", t)
    e: Expr = x
    for _ in range(DEPTH):
        e = relay.negative(e)
    func = typed(relay.Function([x], e))
    if mode == "higher_order":
        back = gradient(func)
        assert count_ops(back)["negative"] >= 2 * DEPTH
        return
    back = grad_of(func, mode)
    forward, (gx,) = run(back, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(arr(forward), np.array([1.0, 2.0]))  # DEPTH is even
    np.testing.assert_array_equal(gx, np.ones(2))


@pytest.mark.spec("GRAD-9")
def test_deep_let_chain() -> None:
    t = relay.TensorType((2,), "float64")
    x = relay.var("x", t)
    sb = relay.ScopeBuilder()
    v: Expr = x
    for _ in range(DEPTH):
        v = sb.let("v", relay.negative(v))
    sb.ret(v)
    back = gradient(typed(relay.Function([x], sb.get())))
    assert count_ops(back)["negative"] >= 2 * DEPTH
    assert Feature.fGraph not in detect_feature(back)


@pytest.mark.spec("GRAD-4", "GRAD-5", "GRAD-9")
def test_diamond_ladder() -> None:
    # a_{i+1} = a_i + a_i, 40 times: a tree expansion of 2^40 nodes, the gradient is 2^40
    t = relay.TensorType((2,), "float64")
    x = relay.var("x", t)
    a: Expr = x
    for _ in range(40):
        a = relay.add(a, a)
    graph = typed(relay.Function([x], a))
    _, (gx,) = run(grad_of(graph, "first_order"), np.ones(2))
    np.testing.assert_array_equal(gx, np.full(2, 2.0**40))
    with pytest.raises(DiagnosticError, match="shared between two uses"):
        gradient(graph)
    sb = relay.ScopeBuilder()
    v: Expr = x
    for _ in range(40):
        v = sb.let("v", relay.add(v, v))
    sb.ret(v)
    _, (gx,) = run(grad_of(typed(relay.Function([x], sb.get()))), np.ones(2))
    np.testing.assert_array_equal(gx, np.full(2, 2.0**40))
