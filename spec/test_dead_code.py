"""DCE: DeadCodeElimination."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.attrs import DictAttrs
from minitvm.ir.expr import BaseFunc
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op, OpDef, register_op
from minitvm.ir.type import Type
from minitvm.relay.expr import Expr
from minitvm.relay.transform import DeadCodeElimination

INT = relay.scalar_type("int32")


def _unit_rel(arg_types: list[Type], attrs: Any) -> Type:
    return relay.TupleType([])


# A side-effecting operator (like TVM's memory.kill), registered for these tests.
KILL = register_op(OpDef("spec_dce.kill", num_inputs=1, type_rel=_unit_rel, stateful=True))


@dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)
class _OpaqueFunc(BaseFunc):
    """A function that is not a Relay function (as a PrimFunc is)."""

    attrs: DictAttrs = dataclasses.field(default_factory=DictAttrs)


def infer(mod: IRModule) -> IRModule:
    return relay.transform.InferType()(mod)


def dce(mod: IRModule, **options: bool) -> IRModule:
    """Run DCE the way TVM's tests do: in a Sequential, so InferType runs first."""
    return tvm.transform.Sequential([DeadCodeElimination(**options)])(mod)


def check(before: Expr, expected: Expr, **options: bool) -> None:
    actual = dce(IRModule.from_expr(before), **options)
    tvm.ir.assert_structural_equal(actual, infer(IRModule.from_expr(expected)))


def main_body(mod: IRModule) -> Expr:
    main = mod["main"]
    assert isinstance(main, relay.Function)
    return main.body


def c(value: int) -> relay.Constant:
    return relay.const(value)


def log(x: Expr) -> Expr:
    return relay.Call(Op.get("log"), [x])


@pytest.mark.spec("DCE-1")
def test_pass_info_and_requirements() -> None:
    p = DeadCodeElimination()
    assert isinstance(p, tvm.transform.Pass)
    assert p.info.name == "DeadCodeElimination"
    assert p.info.opt_level == 1
    assert p.info.required == ("InferType",)
    assert DeadCodeElimination(inline_once=True).inline_once
    assert DeadCodeElimination(ignore_impurity=True).ignore_impurity
    assert isinstance(tvm.transform.get_pass("DeadCodeElimination"), DeadCodeElimination)


@pytest.mark.spec("DCE-1")
def test_new_module_input_unchanged_other_functions_kept() -> None:
    x = relay.var("x")
    z = relay.var("z", INT)
    main = relay.Function([z], relay.Let(x, c(1), z))
    opaque = _OpaqueFunc()
    box = relay.GlobalTypeVar("Box")
    box_data = relay.TypeData(box, [], [relay.Constructor("Boxed", [], box)])
    mod = IRModule({"main": main, "ext": opaque}, {box: box_data}).with_attr("k", 1)
    out = DeadCodeElimination()(mod)  # called directly: no InferType before or after
    assert out is not mod
    assert mod["main"] is main  # the input is untouched
    assert isinstance(main.body, relay.Let)
    assert main.body.var is x
    assert main_body(out) is z
    assert out["ext"] is opaque
    assert out.type_definitions == {box: box_data}
    assert out.attrs["k"] == mod.attrs["k"]
    assert out["main"].checked_type_ is None  # the result is not type-checked


@pytest.mark.spec("DCE-2")
def test_dead_let() -> None:
    z = relay.var("z", INT)
    x = relay.var("x")
    before = relay.Function([z], relay.Let(x, c(1), z))
    z2 = relay.var("z", INT)
    check(before, relay.Function([z2], z2))


@pytest.mark.spec("DCE-2")
def test_one_live_let() -> None:
    z, x, y = relay.var("z", INT), relay.var("x"), relay.var("y")
    before = relay.Function([z], relay.Let(x, c(1), relay.Let(y, c(2), x + x)))
    z2, x2 = relay.var("z", INT), relay.var("x")
    check(before, relay.Function([z2], relay.Let(x2, c(1), x2 + x2)))


@pytest.mark.spec("DCE-2")
def test_single_use_inlined_only_with_inline_once() -> None:
    x = relay.var("x")
    before = relay.Function([], relay.Let(x, c(1) + c(2), x * c(3)))
    unchanged = IRModule.from_expr(before)
    assert DeadCodeElimination()(unchanged)["main"] is before  # nothing to do: same function
    check(before, before, inline_once=False)
    check(before, relay.Function([], (c(1) + c(2)) * c(3)), inline_once=True)


@pytest.mark.spec("DCE-2")
def test_let_in_argument_position() -> None:
    a = relay.var("a")
    before = relay.Function([], relay.Let(a, c(1), c(3)) + c(2))
    check(before, relay.Function([], c(3) + c(2)))


@pytest.mark.spec("DCE-2")
def test_dead_let_before_tuple_get_item() -> None:
    a = relay.var("a")
    tup = relay.Tuple([c(1), c(2), c(3), c(4)])
    before = relay.Function([], relay.Let(a, c(100), relay.TupleGetItem(tup, 0)))
    tup2 = relay.Tuple([c(1), c(2), c(3), c(4)])
    check(before, relay.Function([], relay.TupleGetItem(tup2, 0)))


@pytest.mark.spec("DCE-3")
def test_nested_let_cascade() -> None:
    d, b, a, cc = relay.var("d", INT), relay.var("b", INT), relay.var("a"), relay.var("c")
    before = relay.Function([d, b], relay.Let(a, b, relay.Let(cc, d, cc)))
    d2, b2, c2 = relay.var("d", INT), relay.var("b", INT), relay.var("c")
    check(before, relay.Function([d2, b2], relay.Let(c2, d2, c2)))
    d3, b3 = relay.var("d", INT), relay.var("b", INT)
    check(before, relay.Function([d3, b3], d3), inline_once=True)


@pytest.mark.spec("DCE-3")
def test_uses_inside_dead_values_are_not_counted() -> None:
    # %x is used once by live code and once by the dead %y: it counts as used once.
    p, x, y = relay.var("p", INT), relay.var("x"), relay.var("y")
    before = relay.Function([p], relay.Let(x, p + p, relay.Let(y, x * x, x - p)))
    p2 = relay.var("p", INT)
    check(before, relay.Function([p2], (p2 + p2) - p2), inline_once=True)


FLOAT = relay.scalar_type("float32")


def _count_loop(f: relay.Var) -> relay.Function:
    n, data = relay.var("n", INT), relay.var("data", FLOAT)
    cond = relay.Call(Op.get("equal"), [n, c(0)])
    return relay.Function([n, data], relay.If(cond, data, f(n - c(1), log(data))), FLOAT)


@pytest.mark.spec("DCE-3")
def test_live_recursion_kept() -> None:
    f = relay.var("f")
    before = relay.Function([], relay.Let(f, _count_loop(f), f(c(2), relay.const(10000.0))))
    f2 = relay.var("f")
    expected = relay.Function([], relay.Let(f2, _count_loop(f2), f2(c(2), relay.const(10000.0))))
    check(before, expected)
    check(before, expected, inline_once=True)


@pytest.mark.spec("DCE-3")
def test_dead_recursion_removed() -> None:
    f = relay.var("f")
    before = relay.Function([], relay.Let(f, _count_loop(f), relay.Tuple([])))
    check(before, relay.Function([], relay.Tuple([])))


@pytest.mark.spec("DCE-4")
def test_no_inlining_into_a_function() -> None:
    x, f, y, z = relay.var("x"), relay.var("f"), relay.var("y", INT), relay.var("z")
    fn = relay.Function([y], relay.Let(z, y + y, x + z), INT)
    before = relay.Function(
        [], relay.Let(x, c(1) + c(1), relay.Let(f, fn, relay.Tuple([f(c(2)), f(c(3))])))
    )
    x2, f2, y2 = relay.var("x"), relay.var("f"), relay.var("y", INT)
    fn2 = relay.Function([y2], x2 + (y2 + y2), INT)
    expected = relay.Function(
        [], relay.Let(x2, c(1) + c(1), relay.Let(f2, fn2, relay.Tuple([f2(c(2)), f2(c(3))])))
    )
    check(before, expected, inline_once=True)


@pytest.mark.spec("DCE-5")
def test_impure_op_binding_kept_pure_ones_inlined() -> None:
    size, x, u = relay.var("size", INT), relay.var("x"), relay.var("_")
    before = relay.Function(
        [],
        relay.Let(
            size, c(1024), relay.Let(x, size + c(64), relay.Let(u, relay.Call(KILL, [x]), c(0)))
        ),
    )
    u2 = relay.var("_")
    expected = relay.Function([], relay.Let(u2, relay.Call(KILL, [c(1024) + c(64)]), c(0)))
    check(before, expected, inline_once=True)


def _module_with_call_to(callee: relay.Function) -> IRModule:
    mod = IRModule({"f": callee})
    y = relay.var("y")
    mod["main"] = relay.Function([], relay.Let(y, mod.get_global_var("f")(), c(0)))
    return mod


@pytest.mark.spec("DCE-5")
def test_impure_global_function_call_kept() -> None:
    u = relay.var("_")
    impure = relay.Function([], relay.Let(u, relay.Call(KILL, [c(1)]), c(0)))
    mod = _module_with_call_to(impure)
    out = dce(mod, inline_once=True)
    tvm.ir.assert_structural_equal(out, infer(mod))
    # With ignore_impurity the binding counts as pure, and goes.
    out = dce(mod, ignore_impurity=True)
    tvm.ir.assert_structural_equal(main_body(out), c(0))


@pytest.mark.spec("DCE-5")
def test_pure_global_function_call_removed() -> None:
    mod = _module_with_call_to(relay.Function([], c(1) + c(2)))
    out = dce(mod)
    tvm.ir.assert_structural_equal(main_body(out), c(0))


@pytest.mark.spec("DCE-5")
def test_calling_a_higher_order_parameter_is_impure() -> None:
    g = relay.var("g", relay.FuncType([INT], INT))
    y = relay.var("y")
    before = relay.Function([g], relay.Let(y, g(c(1)), c(0)))
    check(before, before)
    # A let-bound function whose body is pure is pure to call.
    h, a, w = relay.var("h"), relay.var("a", INT), relay.var("w")
    inner = relay.Function([a], a + a, INT)
    before = relay.Function([], relay.Let(h, inner, relay.Let(w, h(c(1)), c(0))))
    check(before, relay.Function([], c(0)))


@pytest.mark.spec("DCE-5")
def test_deeply_nested_calls_are_assumed_impure() -> None:
    def nested(depth: int) -> relay.Function:
        p, v = relay.var("p", FLOAT), relay.var("v")
        e: Expr = p
        for _ in range(depth):
            e = log(e)
        return relay.Function([p], relay.Let(v, e, p))

    shallow = nested(24)
    p = relay.var("p", FLOAT)
    check(shallow, relay.Function([p], p))
    deep = nested(26)
    check(deep, deep)


@pytest.mark.spec("DCE-5")
def test_reference_to_undefined_global_raises() -> None:
    y = relay.var("y")
    main = relay.Function([], relay.Let(y, relay.GlobalVar("ghost")(), c(0)))
    with pytest.raises(DiagnosticError, match="ghost"):
        DeadCodeElimination()(IRModule({"main": main}))


def _let_chain(depth: int, live: bool) -> relay.Function:
    """``fn (%p) { let %v0 = %p; let %v1 = %v0 + 1; ...; %v_last (or %p) }``."""
    p = relay.var("p", INT)
    one = c(1)
    vs = [relay.var(f"v{i}", INT) for i in range(depth)]
    body: Expr = vs[-1] if live else p
    for i in range(depth - 1, -1, -1):
        body = relay.Let(vs[i], p if i == 0 else vs[i - 1] + one, body)
    return relay.Function([p], body)


@pytest.mark.spec("DCE-6")
@pytest.mark.slow
def test_deep_let_chains() -> None:
    live = IRModule.from_expr(_let_chain(100_000, live=True))
    inlined = DeadCodeElimination(inline_once=True)(live)["main"]
    assert isinstance(inlined, relay.Function)
    depth = 0
    e: Expr = inlined.body
    while isinstance(e, relay.Call):
        depth += 1
        e = e.args[0]
    assert depth == 99_999
    assert e is inlined.params[0]
    dead = IRModule.from_expr(_let_chain(100_000, live=False))
    out_fn = DeadCodeElimination()(dead)["main"]
    assert isinstance(out_fn, relay.Function)
    assert out_fn.body is out_fn.params[0]


@pytest.mark.spec("DCE-6")
def test_deep_call_chain_and_diamond_ladder() -> None:
    p, v, w = relay.var("p", INT), relay.var("v"), relay.var("w")
    chain: Expr = p
    for _ in range(100_000):
        chain = log(chain)
    ladder: Expr = p
    for _ in range(40):
        ladder = relay.Tuple([ladder, ladder])  # tree expansion 2^40
    main = relay.Function([p], relay.Let(v, chain, relay.Let(w, ladder, w)))
    out = DeadCodeElimination(inline_once=True)(IRModule.from_expr(main))["main"]
    assert isinstance(out, relay.Function)
    # The deep chain is assumed impure (DCE-5) and stays; the pure ladder is inlined.
    assert isinstance(out.body, relay.Let)
    assert out.body.value is chain
    assert out.body.body is ladder


@pytest.mark.spec("DCE-2", "DCE-3")
def test_results_unchanged_numerically() -> None:
    a = relay.var("a", shape=(3,))
    x, dead, y = relay.var("x"), relay.var("dead"), relay.var("y")
    body = relay.Let(x, a * relay.const(2.0), relay.Let(dead, log(x), relay.Let(y, x + a, y * x)))
    mod = IRModule.from_expr(relay.Function([a], body))
    data = np.array([1.0, -2.0, 0.5], dtype="float32")
    expected = (data * 2 + data) * (data * 2)
    for options in ({}, {"inline_once": True}):
        out = dce(mod, **options)
        result = relay.create_executor(mod=out).evaluate()(data)
        np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
