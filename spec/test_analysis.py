"""ANA: visitors, variable and type-variable analyses, well-formedness, features, call graph."""

from __future__ import annotations

from typing import Any

import pytest
from typing_extensions import override

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import ModulePass, PassContext, PassInfo
from minitvm.relay.analysis import (
    CallGraph,
    Feature,
    all_type_vars,
    all_vars,
    bound_type_vars,
    bound_vars,
    check_well_formed,
    detect_feature,
    free_type_vars,
    free_vars,
    post_order_visit,
    well_formed,
)
from minitvm.relay.expr import Expr
from minitvm.relay.transform import WellFormedInstrument
from minitvm.tir import IntImm

# --- ExprVisitor, ExprMutator, post_order_visit ------------------------------------------


class _Recorder(relay.ExprVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []

    @override
    def visit_var(self, var: relay.Var) -> None:
        self.order.append(var.name_hint)

    @override
    def visit_constant(self, const: relay.Constant) -> None:
        self.order.append(str(const.data.numpy()))

    @override
    def visit_call(self, call: relay.Call) -> None:
        self.order.append("call")

    @override
    def visit_let(self, let: relay.Let) -> None:
        self.order.append("let")


@pytest.mark.spec("ANA-1")
def test_visitor_visits_each_node_once_children_first() -> None:
    x, y = relay.var("x"), relay.var("y")
    shared = x + y
    expr = relay.Let(x, relay.const(1), shared * shared)
    rec = _Recorder()
    rec.visit(expr)
    assert rec.order == ["x", "1", "y", "call", "call", "let"]
    rec.visit(expr)  # visiting again is a memo lookup
    assert len(rec.order) == 6


@pytest.mark.spec("ANA-1")
def test_visitor_visit_children_hook() -> None:
    class SkipFunctions(_Recorder):
        @override
        def visit_children(self, expr: Expr) -> bool:
            return not isinstance(expr, relay.Function)

    a = relay.var("a")
    expr = relay.Tuple([relay.Function([a], a + a), relay.var("b")])
    rec = SkipFunctions()
    rec.visit(expr)
    assert rec.order == ["b"]


class _ConstToVar(relay.ExprMutator):
    def __init__(self, replacement: relay.Var) -> None:
        super().__init__()
        self.replacement = replacement

    @override
    def visit_constant(self, const: relay.Constant) -> Expr:
        return self.replacement


@pytest.mark.spec("ANA-2")
def test_mutator_identity_and_sharing() -> None:
    x = relay.var("x")
    shared = x + relay.const(1.0)
    expr = relay.Function([x], relay.Tuple([shared, shared * x]))
    assert relay.ExprMutator().visit(expr) is expr
    z = relay.var("z")
    out = _ConstToVar(z).visit(expr)
    assert isinstance(out, relay.Function)
    assert out is not expr
    body = out.body
    assert isinstance(body, relay.Tuple)
    first, second = body.fields
    assert isinstance(first, relay.Call)
    assert first.args == (x, z)
    assert isinstance(second, relay.Call)
    assert second.args[0] is first
    assert out.params == (x,)


@pytest.mark.spec("ANA-3")
def test_post_order_visit() -> None:
    x, y = relay.var("x"), relay.var("y")
    call = relay.Call(Op.get("add"), [x, y])
    tup = relay.Tuple([call, x, call])
    seen: list[Expr] = []
    post_order_visit(tup, seen.append)
    assert seen == [Op.get("add"), x, y, call, tup]


# --- variables and type variables --------------------------------------------------------


@pytest.mark.spec("ANA-4")
def test_free_vars() -> None:
    ty = relay.TensorType([], "int32")
    x = relay.Var("x", ty)
    assert free_vars(x) == [x]
    v = relay.const(10)
    assert free_vars(relay.Let(x, v, x)) == []
    assert free_vars(relay.Function([x], x, ty)) == []
    t = relay.Var("t")
    assert free_vars(relay.Tuple([t, t])) == [t]
    assert free_vars(relay.TupleGetItem(t, 123)) == [t]
    y = relay.var("y")
    # Bound anywhere means free nowhere (TVM's rule).
    assert free_vars(relay.Tuple([y, relay.Let(y, v, y)])) == []


@pytest.mark.spec("ANA-4")
def test_bound_and_all_vars() -> None:
    x, y, z, a = relay.Var("x"), relay.Var("y"), relay.Var("z"), relay.Var("a")
    f1 = relay.Function([x, y, z], relay.Let(a, x, relay.Tuple([])))
    assert bound_vars(f1) == [x, y, z, a]
    assert bound_vars(relay.Tuple([x, y, z, a])) == []
    assert bound_vars(relay.Function([x, y], relay.Tuple([x, y, z, a]))) == [x, y]
    assert all_vars(relay.Function([x, y], z)) == [x, y, z]
    assert all_vars(relay.Function([x], relay.Let(y, relay.Tuple([]), z))) == [x, y, z]
    assert all_vars(relay.Function([x], relay.Tuple([y, z]))) == [x, y, z]
    assert all_vars(relay.Tuple([x, y, z])) == [x, y, z]


@pytest.mark.spec("ANA-5")
def test_free_type_vars() -> None:
    tp = relay.TypeVar("")
    x = relay.Var("x", relay.TupleType([tp, relay.TensorType([], "int32")]))
    y = relay.Var("y")
    let = relay.Let(x, y, x)
    assert free_vars(let) == [y]
    assert free_type_vars(let) == [tp]
    a, b = relay.TypeVar("a"), relay.TypeVar("b")
    assert free_type_vars(relay.FuncType([a], b, [a])) == [b]
    # The return type is not looked at; the annotation is.
    assert free_type_vars(relay.Function([relay.var("p", a)], relay.Tuple([]), b)) == [a]


@pytest.mark.spec("ANA-5")
def test_bound_type_vars() -> None:
    a, b, c = relay.TypeVar("a"), relay.TypeVar("b"), relay.TypeVar("c")
    assert bound_type_vars(relay.FuncType([a], b, [a, b])) == [a, b]
    assert bound_type_vars(relay.FuncType([], c, [a])) == [a]
    assert bound_type_vars(relay.TupleType([a, b, c])) == []
    assert bound_type_vars(relay.Function([], relay.Tuple([]), type_params=[a, b])) == [a, b]
    assert bound_type_vars(relay.Function([], relay.Tuple([]), c)) == []
    x = relay.Var("x", a)
    assert bound_type_vars(relay.Let(x, relay.Tuple([]), x)) == []
    fn = relay.Function([], relay.Tuple([]), type_params=[b, c])
    assert bound_type_vars(relay.Let(x, fn, x)) == [b, c]


@pytest.mark.spec("ANA-5")
def test_all_type_vars() -> None:
    a, b, c = relay.TypeVar("a"), relay.TypeVar("b"), relay.TypeVar("c")
    assert all_type_vars(relay.FuncType([b], c, [a])) == [a, b, c]
    assert all_type_vars(relay.FuncType([], relay.TupleType([a, b, c]), [])) == [a, b, c]
    w, x, y, z = relay.Var("w"), relay.Var("x", a), relay.Var("y", b), relay.Var("z", c)
    assert all_type_vars(relay.Function([x], y, b, [a])) == [a, b]
    assert all_type_vars(relay.Function([x], relay.Let(y, x, z))) == [a, b, c]
    f3 = relay.Function([], relay.Tuple([x, y, z]), ret_type=relay.TupleType([a, b, c]))
    assert all_type_vars(f3) == [a, b, c]
    f4 = relay.Function([w], relay.Tuple([]), type_params=[a, b, c])
    assert all_type_vars(f4) == [a, b, c]
    assert all_type_vars(relay.Function([w], w)) == []
    # Call type arguments are not looked at.
    call = relay.Call(Op.get("add"), [w, w], type_args=[a])
    assert all_type_vars(call, IRModule()) == []


# --- well-formedness -----------------------------------------------------------------------


@pytest.mark.spec("ANA-6")
def test_well_formed_lets_and_functions() -> None:
    x = relay.Var("x")
    v = relay.const(10)
    assert well_formed(x)
    let = relay.Let(x, v, x)
    assert well_formed(let)
    assert not well_formed(relay.Let(x, v, let))  # x bound twice
    f = relay.Function([x], x)
    assert well_formed(f)
    # One function node shared: its parameter is bound once.
    assert well_formed(relay.Let(relay.Var("y"), f, relay.Let(relay.Var("z"), f, v)))
    assert well_formed(relay.Tuple([v, v]))
    assert not well_formed(relay.Tuple([let, relay.Let(x, v, x)]))
    assert well_formed(relay.TupleGetItem(relay.Var("t"), 2))
    # A let variable is in scope in its own value (recursive functions).
    g = relay.var("g")
    assert well_formed(relay.Let(g, relay.Function([], g()), g))


@pytest.mark.spec("ANA-6")
def test_well_formed_scope_violations() -> None:
    x, y = relay.var("x"), relay.var("y")
    v = relay.const(1)
    # Used outside the let that binds it.
    assert not well_formed(relay.Tuple([relay.Let(x, v, x), x]))
    # Used free, then bound.
    assert not well_formed(relay.Tuple([x, relay.Let(x, v, x)]))
    # A parameter used outside its function.
    assert not well_formed(relay.Tuple([relay.Function([y], y), y]))
    # Every use is checked, not only the first one met.
    inner = relay.Let(x, v, relay.Tuple([x, x]))
    assert not well_formed(relay.Tuple([inner, x + x]))
    with pytest.raises(DiagnosticError, match=r"my expr.*%x.*more than once"):
        check_well_formed(relay.Let(x, v, relay.Let(x, v, x)), "my expr")
    with pytest.raises(DiagnosticError, match=r"%y.*outside"):
        check_well_formed(relay.Tuple([relay.Function([y], y), y]))
    check_well_formed(relay.Let(x, v, x))  # no error


# --- features ------------------------------------------------------------------------------


@pytest.mark.spec("ANA-7")
def test_feature_values() -> None:
    assert [int(f) for f in Feature] == list(range(17))
    values = {f.name: int(f) for f in Feature}
    assert values["fVar"] == 0
    assert values["fRefCreate"] == 10
    assert values["fMatch"] == 14
    assert values["fGraph"] == 15
    assert values["fLetRec"] == 16


@pytest.mark.spec("ANA-7")
def test_detect_feature_kinds() -> None:
    x, t = relay.var("x"), relay.var("t")
    gv = relay.GlobalVar("g")
    body = relay.If(
        relay.const(True),
        relay.TupleGetItem(relay.Tuple([x, gv]), 0),
        relay.Call(Op.get("add"), [x, x]),
    )
    fn = relay.Function([x], relay.Let(t, relay.const(1), body))
    assert detect_feature(fn) == {
        Feature.fVar,
        Feature.fGlobalVar,
        Feature.fConstant,
        Feature.fTuple,
        Feature.fTupleGetItem,
        Feature.fFunction,
        Feature.fOp,
        Feature.fCall,
        Feature.fLet,
        Feature.fIf,
    }  # x used twice is not a graph: variables are atomic


@pytest.mark.spec("ANA-7")
def test_detect_feature_graph_and_letrec() -> None:
    x = relay.var("x")
    shared = relay.Call(Op.get("log"), [x])
    assert Feature.fGraph in detect_feature(relay.Tuple([shared, shared]))
    c = relay.const(1.0)
    assert Feature.fGraph not in detect_feature(relay.Tuple([c, c, x, x]))
    f = relay.var("f")
    rec = relay.Let(f, relay.Function([], f()), f)
    assert Feature.fLetRec in detect_feature(rec)
    plain = relay.Let(f, relay.Function([], x), f())
    assert Feature.fLetRec not in detect_feature(plain)


@pytest.mark.spec("ANA-7")
def test_detect_feature_primitive_functions_and_modules() -> None:
    a, b = relay.var("a"), relay.var("b")
    prim = relay.Function([a], relay.Let(b, a, b)).with_attr("Primitive", IntImm("int32", 1))
    assert detect_feature(prim) == {Feature.fFunction}
    mod = IRModule({"f": relay.Function([a], relay.Tuple([a]))})
    y = relay.var("y")
    expr = relay.Let(y, relay.const(1), y)
    assert detect_feature(mod) == {Feature.fFunction, Feature.fVar, Feature.fTuple}
    both = {Feature.fFunction, Feature.fVar, Feature.fTuple, Feature.fLet, Feature.fConstant}
    assert detect_feature(mod, expr) == both
    assert detect_feature(expr, mod) == both
    with pytest.raises(DiagnosticError):
        detect_feature(mod, mod)


# --- the instrument ------------------------------------------------------------------------


def _pass(name: str, rewrite: Any) -> ModulePass:
    def run(mod: IRModule, ctx: PassContext) -> IRModule:
        new = mod.copy()
        new["main"] = rewrite(mod["main"])
        return new

    return ModulePass(run, PassInfo(0, name))


def _main_mod() -> IRModule:
    x = relay.var("x", shape=(2,))
    return IRModule.from_expr(relay.Function([x], x + x))


@pytest.mark.spec("ANA-8")
def test_instrument_names_the_pass_that_breaks_scoping() -> None:
    def rebind(func: relay.Function) -> relay.Function:
        (x,) = func.params
        return relay.Function([x], relay.Let(x, x, func.body))  # x bound twice

    def leak(func: relay.Function) -> relay.Function:
        return relay.Function([], func.body)  # x now free

    ok = _pass("Harmless", lambda f: f)
    with PassContext(instruments=[WellFormedInstrument(check_types=False)]):
        out = tvm.transform.Sequential([ok])(_main_mod())
        assert "main" in out
        with pytest.raises(DiagnosticError, match=r"Rebinder.*@main.*%x.*more than once"):
            tvm.transform.Sequential([ok, _pass("Rebinder", rebind)])(_main_mod())
        with pytest.raises(DiagnosticError, match=r"Leaker.*@main.*free"):
            _pass("Leaker", leak)(_main_mod())


@pytest.mark.spec("ANA-8")
def test_instrument_checks_types() -> None:
    def mistype(func: relay.Function) -> relay.Function:
        (x,) = func.params
        y = relay.var("y", shape=(3,))
        return relay.Function([x, y], x + y)  # (2,) + (3,) does not broadcast

    with PassContext(instruments=[WellFormedInstrument()]):
        tvm.transform.Sequential([_pass("Harmless", lambda f: f)])(_main_mod())
        with pytest.raises(DiagnosticError, match=r"Mistyper.*type-check"):
            _pass("Mistyper", mistype)(_main_mod())
    with PassContext(instruments=[]):
        broken = _pass("Mistyper", mistype)(_main_mod())
    with PassContext(instruments=[WellFormedInstrument()]):
        out = _pass("Harmless", lambda f: f)(broken)  # its input did not type-check either
        assert "main" in out
        with pytest.raises(DiagnosticError, match=r"Leaker.*@main.*free"):
            _pass("Leaker", lambda f: relay.Function([], f.body))(broken)


# --- call graph ----------------------------------------------------------------------------


@pytest.mark.spec("ANA-9")
def test_call_graph() -> None:
    mod = IRModule()
    a = relay.var("a", "int32")
    leaf = relay.GlobalVar("leaf")
    mod[leaf] = relay.Function([a], a)
    b = relay.var("b", "int32")
    loop = relay.GlobalVar("loop")
    mod[loop] = relay.Function([b], loop(leaf(b)))
    p = relay.var("p", "int32")
    mod["main"] = relay.Function([p], relay.Tuple([loop(p), leaf(p), leaf(p)]))
    cg = CallGraph(mod)
    assert cg.module is mod
    assert cg.callees("main") == ["loop", "leaf"]
    assert cg.global_call_count(mod.get_global_var("main")) == 2
    assert cg.ref_count(leaf) == 2
    assert cg.ref_count(loop) == 2
    assert cg.ref_count("main") == 0
    assert cg.is_recursive(loop)
    assert not cg.is_recursive(leaf)
    order = cg.post_order()
    assert sorted(order) == ["leaf", "loop", "main"]
    assert order.index("leaf") < order.index("loop") < order.index("main")
    assert "loop" in cg.print_var(loop)
    assert "#refs = 2" in cg.print_var(loop)
    with pytest.raises(DiagnosticError):
        cg.ref_count("absent")


# --- deep programs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deep_let() -> relay.Function:
    a = relay.TypeVar("a")
    p = relay.var("p", a)
    vs = [relay.var(f"v{i}", a) for i in range(100_000)]
    body: Expr = vs[-1]
    for i in range(len(vs) - 1, -1, -1):
        body = relay.Let(vs[i], p if i == 0 else vs[i - 1], body)
    return relay.Function([p], body, type_params=[a])


@pytest.fixture(scope="module")
def deep_call() -> relay.Function:
    p = relay.var("p", "float32")
    body: Expr = p
    log = Op.get("log")
    for _ in range(100_000):
        body = relay.Call(log, [body])
    return relay.Function([p], body)


@pytest.mark.spec("ANA-10")
@pytest.mark.slow
def test_analyses_on_deep_programs(deep_let: relay.Function, deep_call: relay.Function) -> None:
    for fn in (deep_let, deep_call):
        assert well_formed(fn)
        assert free_vars(fn) == []
        assert free_type_vars(fn) == []
        seen: list[Expr] = []
        post_order_visit(fn, seen.append)
        assert len(seen) in (200_002, 100_003)  # lets: p + 100k vars and lets + fn; calls: +op
        assert relay.ExprMutator().visit(fn) is fn
        rec = _Recorder()
        rec.visit(fn)
    assert detect_feature(deep_let) == {Feature.fVar, Feature.fLet, Feature.fFunction}
    assert detect_feature(deep_call) == {
        Feature.fVar,
        Feature.fCall,
        Feature.fOp,
        Feature.fFunction,
    }
    assert len(bound_vars(deep_let)) == 100_001
    assert all_type_vars(deep_let) == list(deep_let.type_params)


@pytest.mark.spec("ANA-10")
def test_analyses_on_a_diamond_ladder() -> None:
    x = relay.var("x")
    ladder: Expr = x
    for _ in range(40):
        ladder = relay.Tuple([ladder, ladder])  # tree expansion 2^40
    fn = relay.Function([x], ladder)
    assert well_formed(fn)
    assert Feature.fGraph in detect_feature(fn)
    assert free_vars(ladder) == [x]
    assert relay.ExprMutator().visit(fn) is fn
    seen: list[Expr] = []
    post_order_visit(fn, seen.append)
    assert len(seen) == 42
    mod = IRModule({"main": fn})
    assert CallGraph(mod).callees("main") == []


@pytest.mark.spec("ANA-8")
def test_instrument_accepts_this_chapters_passes() -> None:
    mod = IRModule()
    a, t = relay.var("a", shape=(2,)), relay.var("t")
    mod["sq"] = relay.Function([a], relay.Let(t, a * a, t)).with_attr("Inline", 1)
    mod["spare"] = relay.Function([], relay.const(0))
    sq = mod.get_global_var("sq")
    x, d = relay.var("x", shape=(2,)), relay.var("d")
    mod["main"] = relay.Function([x], relay.Let(d, x + x, sq(x) + sq(x * x)))
    passes = [
        relay.transform.Inline(),
        relay.transform.DeadCodeElimination(inline_once=True),
        relay.transform.RemoveUnusedFunctions(),
    ]
    with PassContext(instruments=[WellFormedInstrument()]):
        out = tvm.transform.Sequential(passes)(mod)
    assert sorted(gv.name_hint for gv in out.functions) == ["main"]
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert well_formed(main)
