"""INL: Inline (InlineGlobals)."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.relay.analysis import well_formed
from minitvm.relay.expr import Expr
from minitvm.relay.transform import Inline
from minitvm.tir import IntImm

SHAPE = (3, 5)


def v(name: str) -> relay.Var:
    return relay.var(name, shape=SHAPE)


def inline(func: relay.Function) -> relay.Function:
    return func.with_attr("Inline", IntImm("int32", 1))


def external(func: relay.Function, compiler: str = "a") -> relay.Function:
    return inline(func).with_attr("Compiler", compiler)


def names(mod: IRModule) -> list[str]:
    return sorted(gv.name_hint for gv in mod.functions)


def check(before: IRModule, expected: IRModule) -> None:
    tvm.ir.assert_structural_equal(Inline()(before), expected, map_free_vars=True)


def with_g2(mod: IRModule) -> relay.GlobalVar:
    """``@g2(%x2, %y2) = %x2 - %y2``, never inlined."""
    x2, y2 = v("x2"), v("y2")
    g2 = relay.GlobalVar("g2")
    mod[g2] = relay.Function([x2, y2], x2 - y2)
    return g2


@pytest.mark.spec("INL-1")
def test_pass_info() -> None:
    p = Inline()
    assert isinstance(p, tvm.transform.Pass)
    assert p.info.name == "InlineGlobals"
    assert p.info.opt_level == 1
    assert p.info.required == ()
    assert isinstance(tvm.transform.get_pass("InlineGlobals"), Inline)


@pytest.mark.spec("INL-1")
def test_input_module_unchanged() -> None:
    mod = IRModule()
    x = v("x")
    mod["g"] = inline(relay.Function([x], x))
    p = v("p")
    main = relay.Function([p], mod.get_global_var("g")(p))
    mod["main"] = main
    out = Inline()(mod)
    assert names(out) == ["main"]
    assert names(mod) == ["g", "main"]
    assert mod["main"] is main


@pytest.mark.spec("INL-2")
def test_leaf_inlined_into_a_plain_caller() -> None:
    def build(inlined: bool) -> IRModule:
        mod = IRModule({})
        x11 = v("x11")
        g11 = relay.GlobalVar("g11")
        if not inlined:
            mod[g11] = inline(relay.Function([x11], x11))
        x1, y1 = v("x1"), v("y1")
        mod["g1"] = relay.Function([x1, y1], x1 + y1 + (x1 if inlined else g11(x1)))
        g2 = with_g2(mod)
        p0, p1, p2, p3 = v("p0"), v("p1"), v("p2"), v("p3")
        g1 = mod.get_global_var("g1")
        mod["main"] = relay.Function([p0, p1, p2, p3], g1(p0, p1) * g2(p2, p3))
        return mod

    check(build(False), build(True))


@pytest.mark.spec("INL-2", "INL-4")
def test_multiple_levels() -> None:
    mod = IRModule({})
    x11, g11 = v("x11"), relay.GlobalVar("g11")
    mod[g11] = inline(relay.Function([x11], x11))
    x1, y1, g1 = v("x1"), v("y1"), relay.GlobalVar("g1")
    mod[g1] = inline(relay.Function([x1, y1], x1 + y1 + g11(x1)))
    g2 = with_g2(mod)
    p0, p1, p2, p3 = v("p0"), v("p1"), v("p2"), v("p3")
    mod["main"] = relay.Function([p0, p1, p2, p3], g1(p0, p1) * g2(p2, p3))

    expected = IRModule({})
    g2e = with_g2(expected)
    q0, q1, q2, q3 = v("p0"), v("p1"), v("p2"), v("p3")
    expected["main"] = relay.Function([q0, q1, q2, q3], (q0 + q1 + q0) * g2e(q2, q3))
    check(mod, expected)


@pytest.mark.spec("INL-3", "INL-4")
def test_external_leaf_becomes_a_called_function() -> None:
    mod = IRModule({})
    x11, g11 = v("x11"), relay.GlobalVar("g11")
    mod[g11] = external(relay.Function([x11], x11))
    x1, y1, g1 = v("x1"), v("y1"), relay.GlobalVar("g1")
    mod[g1] = inline(relay.Function([x1, y1], x1 + y1 + g11(x1)))
    g2 = with_g2(mod)
    p0, p1, p2, p3 = v("p0"), v("p1"), v("p2"), v("p3")
    mod["main"] = relay.Function([p0, p1, p2, p3], g1(p0, p1) * g2(p2, p3))

    expected = IRModule({})
    e11 = v("x11")
    fn11 = external(relay.Function([e11], e11))
    g2e = with_g2(expected)
    q0, q1, q2, q3 = v("p0"), v("p1"), v("p2"), v("p3")
    expected["main"] = relay.Function([q0, q1, q2, q3], (q0 + q1 + fn11(q0)) * g2e(q2, q3))
    check(mod, expected)


def sum_up_module(extra_call: bool) -> tuple[IRModule, relay.GlobalVar]:
    """A recursive ``@sum_up`` marked Inline (optionally also calling an inline ``@gx``)."""
    mod = IRModule({})
    gx = relay.GlobalVar("gx")
    if extra_call:
        x = relay.var("x", "int32")
        mod[gx] = inline(relay.Function([x], x))
    sum_up = relay.GlobalVar("sum_up")
    i = relay.var("i", "int32")
    one = relay.const(1)
    rec: Expr = sum_up(i - one)
    if extra_call:
        rec = rec + gx(i)
    cond = relay.Call(Op.get("equal"), [i, relay.const(0)])
    body = relay.If(cond, i, rec + i)
    mod[sum_up] = inline(relay.Function([i], body, relay.scalar_type("int32")))
    ia = relay.var("i", "int32")
    mod["main"] = relay.Function([ia], sum_up(ia))
    return mod, sum_up


@pytest.mark.spec("INL-2", "INL-4")
def test_recursive_function_stays() -> None:
    mod, _ = sum_up_module(extra_call=False)
    check(mod, mod)


@pytest.mark.spec("INL-2")
def test_inline_callee_of_a_recursive_function() -> None:
    mod, _ = sum_up_module(extra_call=True)
    expected = IRModule({})
    sum_up = relay.GlobalVar("sum_up")
    i = relay.var("i", "int32")
    cond = relay.Call(Op.get("equal"), [i, relay.const(0)])
    body = relay.If(cond, i, sum_up(i - relay.const(1)) + i + i)
    expected[sum_up] = inline(relay.Function([i], body, relay.scalar_type("int32")))
    ia = relay.var("i", "int32")
    expected["main"] = relay.Function([ia], sum_up(ia))
    check(mod, expected)


@pytest.mark.spec("INL-2")
def test_uncalled_recursive_function_untouched() -> None:
    def build(inlined: bool) -> IRModule:
        mod, _ = sum_up_module(extra_call=False)
        x, y = relay.var("x", shape=(2, 2)), relay.var("y", shape=(2, 2))
        if inlined:
            mod["main"] = relay.Function([x, y], x + y + x)
        else:
            x1 = relay.var("x1", shape=(2, 2))
            g1 = relay.GlobalVar("g1")
            mod[g1] = inline(relay.Function([x1], x1))
            mod["main"] = relay.Function([x, y], x + y + g1(x))
        return mod

    check(build(False), build(True))


@pytest.mark.spec("INL-2", "INL-4")
def test_both_operands_inlined() -> None:
    mod = IRModule({})
    x1, y1 = v("x1"), v("y1")
    mod["g1"] = inline(relay.Function([x1, y1], x1 + y1))
    x2, y2 = v("x2"), v("y2")
    mod["g2"] = inline(relay.Function([x2, y2], x2 - y2))
    p0, p1, p2, p3 = v("p0"), v("p1"), v("p2"), v("p3")
    g1, g2 = mod.get_global_var("g1"), mod.get_global_var("g2")
    mod["main"] = relay.Function([p0, p1, p2, p3], g1(p0, p1) * g2(p2, p3))

    expected = IRModule({})
    q0, q1, q2, q3 = v("p0"), v("p1"), v("p2"), v("p3")
    expected["main"] = relay.Function([q0, q1, q2, q3], (q0 + q1) * (q2 - q3))
    check(mod, expected)


@pytest.mark.spec("INL-3")
def test_external_functions_called_as_copies() -> None:
    def fns() -> tuple[relay.Function, relay.Function]:
        x1, y1 = v("x1"), v("y1")
        x2, y2 = v("x2"), v("y2")
        return (
            external(relay.Function([x1, y1], x1 + y1), "a"),
            external(relay.Function([x2, y2], x2 - y2), "b"),
        )

    mod = IRModule({})
    fn1, fn2 = fns()
    mod["g1"] = fn1
    mod["g2"] = fn2
    p0, p1, p2, p3 = v("p0"), v("p1"), v("p2"), v("p3")
    g1, g2 = mod.get_global_var("g1"), mod.get_global_var("g2")
    mod["main"] = relay.Function([p0, p1, p2, p3], g1(p0, p1) * g2(p2, p3))

    expected = IRModule({})
    e1, e2 = fns()
    q0, q1, q2, q3 = v("p0"), v("p1"), v("p2"), v("p3")
    expected["main"] = relay.Function([q0, q1, q2, q3], e1(q0, q1) * e2(q2, q3))
    check(mod, expected)
    out = Inline()(mod)["main"]
    assert isinstance(out, relay.Function)
    assert isinstance(out.body, relay.Call)
    called = out.body.args[0]
    assert isinstance(called, relay.Call)
    assert isinstance(called.op, relay.Function)
    assert called.op is not fn1  # a copy, with the attributes kept
    assert called.op.attrs == fn1.attrs


@pytest.mark.spec("INL-3")
@pytest.mark.parametrize("compiler", [None, "a"])
def test_globals_not_in_call_position_become_closures(compiler: str | None) -> None:
    def fns() -> tuple[relay.Function, relay.Function]:
        f1, f2 = relay.Function([], relay.const(1)), relay.Function([], relay.const(2))
        if compiler is None:
            return inline(f1), inline(f2)
        return external(f1, compiler), external(f2, compiler)

    mod = IRModule({})
    fn1, fn2 = fns()
    g1, g2 = relay.GlobalVar("g1"), relay.GlobalVar("g2")
    mod[g1] = fn1
    mod[g2] = fn2
    p = relay.var("p", "bool")
    mod["main"] = relay.Function([p], relay.Call(relay.If(p, g1, g2), []))

    expected = IRModule({})
    e1, e2 = fns()
    q = relay.var("p", "bool")
    expected["main"] = relay.Function([q], relay.Call(relay.If(q, e1, e2), []))
    check(mod, expected)


@pytest.mark.spec("INL-2", "INL-4")
def test_inlined_into_several_callers() -> None:
    def build(inlined: bool) -> IRModule:
        mod = IRModule({})
        x1, y1 = v("x1"), v("y1")
        g1 = relay.GlobalVar("g1")
        mod[g1] = relay.Function([x1, y1], x1 + y1)
        g2 = relay.GlobalVar("g2")
        if not inlined:
            x2, y2 = v("x2"), v("y2")
            mod[g2] = inline(relay.Function([x2, y2], x2 - y2))
        x0, y0, z0 = v("x0"), v("y0"), v("z0")
        mod["g0"] = relay.Function([x0, y0, z0], (x0 - y0 if inlined else g2(x0, y0)) + z0)
        p0, p1, p2, p3 = v("p0"), v("p1"), v("p2"), v("p3")
        second = p2 - p3 if inlined else g2(p2, p3)
        mod["main"] = relay.Function([p0, p1, p2, p3], g1(p0, p1) * second)
        return mod

    check(build(False), build(True))


@pytest.mark.spec("INL-4")
def test_entry_functions_stay() -> None:
    def build() -> IRModule:
        mod = IRModule({})
        x1, y1 = v("x1"), v("y1")
        mod["g1"] = inline(relay.Function([x1, y1], x1 + y1))
        x2, y2 = v("x2"), v("y2")
        mod["g2"] = inline(relay.Function([x2, y2], x2 - y2))
        return mod

    check(build(), build())


@pytest.mark.spec("INL-2")
def test_inline_function_calling_a_plain_one_is_not_inlined() -> None:
    def build() -> IRModule:
        mod = IRModule({})
        x1, y1 = v("x1"), v("y1")
        g1 = relay.GlobalVar("g1")
        mod[g1] = relay.Function([x1, y1], x1 + y1)
        x2, y2 = v("x2"), v("y2")
        mod["g2"] = inline(relay.Function([x2, y2], x2 - g1(x2, y2)))
        p = v("p")
        mod["main"] = relay.Function([p], mod.get_global_var("g2")(p, p))
        return mod

    check(build(), build())


@pytest.mark.spec("INL-2")
@pytest.mark.parametrize("compiler", [None, "aa"])
def test_leaf_below_a_plain_function(compiler: str | None) -> None:
    def g0_fn() -> relay.Function:
        x0, y0 = v("x0"), v("y0")
        fn = relay.Function([x0, y0], x0 * y0)
        return inline(fn) if compiler is None else external(fn, compiler)

    def build(inlined: bool) -> IRModule:
        mod = IRModule({})
        g0 = relay.GlobalVar("g0")
        x1, y1 = v("x1"), v("y1")
        if inlined:
            called = x1 * y1 if compiler is None else g0_fn()(x1, y1)
        else:
            mod[g0] = g0_fn()
            called = g0(x1, y1)
        g1 = relay.GlobalVar("g1")
        mod[g1] = relay.Function([x1, y1], x1 + called)
        x2, y2 = v("x2"), v("y2")
        mod["g2"] = inline(relay.Function([x2, y2], x2 - g1(x2, y2)))
        return mod

    check(build(False), build(True))


@pytest.mark.spec("INL-2")
def test_inlined_twice_into_one_caller_stays_well_formed() -> None:
    mod = IRModule({})
    a, t = v("a"), relay.var("t")
    mod["sq"] = inline(relay.Function([a], relay.Let(t, a * a, t)))
    sq = mod.get_global_var("sq")
    q = v("q")
    mod["main"] = relay.Function([q], sq(q) + sq(q + q))
    out = Inline()(mod)
    assert names(out) == ["main"]
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert well_formed(main)

    expected = IRModule({})
    r, t1, t2 = v("q"), relay.var("t"), relay.var("t")
    arg = r + r
    expected["main"] = relay.Function([r], relay.Let(t1, r * r, t1) + relay.Let(t2, arg * arg, t2))
    tvm.ir.assert_structural_equal(out, expected, map_free_vars=True)


@pytest.mark.spec("INL-4")
def test_wrong_number_of_arguments_raises() -> None:
    mod = IRModule({})
    a = v("a")
    mod["g"] = inline(relay.Function([a], a))
    p = v("p")
    mod["main"] = relay.Function([p], mod.get_global_var("g")(p, p))
    with pytest.raises(DiagnosticError, match="@g"):
        Inline()(mod)


@pytest.mark.spec("INL-2")
def test_deep_call_chain_of_an_inline_function() -> None:
    mod = IRModule({})
    a = relay.var("a", "int32")
    mod["inc"] = inline(relay.Function([a], a + relay.const(1)))
    inc = mod.get_global_var("inc")
    p = relay.var("p", "int32")
    body: Expr = p
    for _ in range(100_000):
        body = inc(body)
    mod["main"] = relay.Function([p], body)
    out = Inline()(mod)["main"]
    assert isinstance(out, relay.Function)
    depth, e = 0, out.body
    while isinstance(e, relay.Call):
        assert e.op is Op.get("add")
        depth, e = depth + 1, e.args[0]
    assert depth == 100_000
    assert e is out.params[0]


@pytest.mark.spec("INL-2")
def test_results_unchanged_numerically() -> None:
    mod = IRModule({})
    a, t = v("a"), relay.var("t")
    mod["g"] = inline(relay.Function([a], relay.Let(t, a * a, t - a)))
    g = mod.get_global_var("g")
    p = v("p")
    mod["main"] = relay.Function([p], g(p) + g(p * p))
    out = Inline()(mod)
    assert names(out) == ["main"]
    data = np.arange(15, dtype="float32").reshape(SHAPE) / 7
    sq = data * data
    expected = (sq - data) + (sq * sq - sq)
    result = relay.create_executor(mod=out).evaluate()(data)
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
