"""ANF, GNF, BBNF: ToANormalForm, ToGraphNormalForm, ToBasicBlockNormalForm and
check_basic_block_normal_form."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.attrs import DictAttrs
from minitvm.ir.expr import BaseFunc, GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import Pass
from minitvm.relay.analysis import (
    Feature,
    check_basic_block_normal_form,
    detect_feature,
    free_vars,
    well_formed,
)
from minitvm.relay.analysis.scope import Scope, calc_scope, child_scope, global_scope, lca
from minitvm.relay.expr import Expr
from minitvm.relay.expr_functor import iter_post_order, post_order
from minitvm.relay.transform import (
    FunctionPass,
    InferType,
    ToANormalForm,
    ToANormalFormExpr,
    ToBasicBlockNormalForm,
    ToGraphNormalForm,
)
from minitvm.relay.transform.to_a_normal_form import keeps_body
from minitvm.relay.transform.to_graph_normal_form import to_graph_normal_form

I64 = relay.scalar_type("int64")
I32 = relay.scalar_type("int32")


@dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)
class _OpaqueFunc(BaseFunc):
    """A function that is not a Relay function (as a PrimFunc is)."""

    attrs: DictAttrs = dataclasses.field(default_factory=DictAttrs)


def run(expr: Expr, *passes: Pass) -> Expr:
    """TVM's ``run_opt_pass`` for these tests: wrap in a module, run the passes, return
    ``main`` (or its body when ``expr`` was not a function)."""
    mod = IRModule.from_expr(expr)
    for p in passes:
        mod = p(mod)
    main = mod["main"]
    assert isinstance(main, relay.Function)
    return main if isinstance(expr, relay.Function) else main.body


def typed(expr: Expr) -> Expr:
    return run(expr, InferType())


def evaluate(expr: Expr, mod: IRModule | None = None) -> Any:
    return relay.create_executor(mod=mod).evaluate(expr).numpy()


def fn(body: Expr) -> relay.Function:
    return relay.Function(free_vars(body), body)


def fresh(n: int) -> list[relay.Var]:
    return [relay.Var(f"v{i}") for i in range(n)]


def let_chain(bindings: list[tuple[relay.Var, Expr]], body: Expr) -> Expr:
    for var, value in reversed(bindings):
        body = relay.Let(var, value, body)
    return body


# --- what A normal form looks like ---------------------------------------------------------


def _is_atomic(expr: Expr) -> bool:
    return isinstance(expr, relay.Var | GlobalVar | Op)


def _ends_atomic(expr: Expr) -> bool:
    while isinstance(expr, relay.Let):
        expr = expr.body
    return _is_atomic(expr)


def _kept(expr: Expr) -> bool:
    return isinstance(expr, relay.Function) and keeps_body(expr)


def assert_anf(func: relay.Function) -> None:
    """Every operand is atomic; every branch and function body is a let chain ending in an
    atomic expression; constants only appear as let values (primitive bodies excepted)."""
    assert _ends_atomic(func.body)
    nodes = list(iter_post_order(func.body, expand=lambda n: not _kept(n)))
    for node in nodes:
        match node:
            case relay.Call():
                assert _is_atomic(node.op)
                assert all(_is_atomic(a) for a in node.args)
            case relay.Tuple():
                assert all(_is_atomic(f) for f in node.fields)
            case relay.TupleGetItem():
                assert _is_atomic(node.tuple_value)
            case relay.If():
                assert _is_atomic(node.cond)
                assert _ends_atomic(node.true_branch)
                assert _ends_atomic(node.false_branch)
            case relay.Function() if not _kept(node):
                assert _ends_atomic(node.body)
            case relay.Let():
                assert isinstance(node.body, relay.Let) or _is_atomic(node.body)
            case _:
                pass
    values = {n.value for n in nodes if isinstance(n, relay.Let)}
    for node in nodes:
        if isinstance(node, relay.Constant):
            assert node in values


# --- ANF -------------------------------------------------------------------------------------


@pytest.mark.spec("ANF-1")
def test_anf_pass_info_and_module_handling() -> None:
    p = ToANormalForm()
    assert isinstance(p, tvm.transform.Pass)
    assert (p.info.name, p.info.opt_level, p.info.required) == ("ToANormalForm", 1, ())
    assert tvm.transform.get_pass("ToANormalForm").info.name == "ToANormalForm"
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    main = relay.Function([x], relay.add(relay.add(x, x), x))
    ext = relay.Function([y], relay.add(y, y)).with_attr("Compiler", "ccompiler")
    opaque = _OpaqueFunc()
    mod = IRModule({"main": main, "ext": ext, "prim": opaque})
    out = p(mod)
    assert out is not mod
    assert mod["main"] is main
    assert out["ext"] is ext
    assert out["prim"] is opaque
    new_main = out["main"]
    assert isinstance(new_main, relay.Function)
    assert Feature.fLet in detect_feature(new_main)
    assert new_main.params == main.params
    with pytest.raises(DiagnosticError, match=r"@main has free variables %x"):
        p(IRModule({"main": relay.Function([], x)}))


@pytest.mark.spec("ANF-1", "ANF-2")
def test_anf_expr_on_an_open_expression() -> None:
    x = relay.var("x", shape=(2,))
    y = relay.var("y", shape=(2,))
    closure = relay.Function([y], relay.multiply(y, x))
    out = ToANormalFormExpr(relay.Call(closure, [relay.add(x, x)]))
    v0, v1, v2, v3 = fresh(4)
    y2 = relay.var("y", shape=(2,))
    expected = let_chain(
        [
            (v0, relay.add(x, x)),
            (v2, relay.Function([y2], let_chain([(v1, relay.multiply(y2, x))], v1))),
            (v3, relay.Call(v2, [v0])),
        ],
        v3,
    )
    tvm.ir.assert_structural_equal(out, expected)


@pytest.mark.spec("ANF-2", "ANF-3")
def test_anf_binds_constants_in_post_dfs_order() -> None:
    z, y, x = relay.const(3), relay.const(2), relay.const(1)
    val = x + y * z
    assert evaluate(val) == 7
    anf = run(val, ToANormalForm(), InferType())
    a, b, c, d, e = fresh(5)
    expected = let_chain([(a, x), (b, y), (c, z), (d, b * c), (e, a + d)], e)
    tvm.ir.assert_structural_equal(anf, typed(expected))


@pytest.mark.spec("ANF-2")
def test_anf_explicit_bound() -> None:
    x = relay.const(1)
    y = relay.add(x, x)
    z = relay.add(y, y)
    f = relay.Function([], relay.add(z, z))
    assert Feature.fLet not in detect_feature(f)
    anf = run(f, ToANormalForm())
    assert isinstance(anf, relay.Function)
    assert Feature.fLet in detect_feature(anf)
    assert_anf(anf)
    assert evaluate(relay.Call(f, [])) == 8
    assert evaluate(relay.Call(anf, [])) == 8
    # Each shared value is bound once: the constant, y, z and the result.
    lets = [n for n in post_order(anf) if isinstance(n, relay.Let)]
    assert len(lets) == 4


@pytest.mark.spec("ANF-2", "ANF-4")
def test_anf_if_branches_are_sub_scopes() -> None:
    cond = relay.const(True)
    anf = run(relay.If(cond, relay.const(2), relay.const(3)), ToANormalForm(), InferType())
    a, b, c, d = fresh(4)
    expected = let_chain(
        [
            (c, cond),
            (d, relay.If(c, relay.Let(a, relay.const(2), a), relay.Let(b, relay.const(3), b))),
        ],
        d,
    )
    tvm.ir.assert_structural_equal(anf, typed(expected))


@pytest.mark.spec("ANF-4")
def test_anf_places_values_at_the_lca_of_their_uses() -> None:
    c = relay.var("c", "bool")
    x = relay.var("x", shape=(2,))
    shared = relay.add(x, x)
    only_true = relay.multiply(x, x)
    ite = relay.If(c, relay.add(shared, only_true), relay.subtract(shared, x))
    anf = run(relay.Function([c, x], ite), ToANormalForm())
    v0, v1, v2, v3, v4 = fresh(5)
    c2, x2 = relay.var("c", "bool"), relay.var("x", shape=(2,))
    then = let_chain([(v1, relay.multiply(x2, x2)), (v2, relay.add(v0, v1))], v2)
    other = let_chain([(v3, relay.subtract(v0, x2))], v3)
    body = let_chain([(v0, relay.add(x2, x2)), (v4, relay.If(c2, then, other))], v4)
    tvm.ir.assert_structural_equal(anf, relay.Function([c2, x2], body))


@pytest.mark.spec("ANF-4")
def test_anf_value_shared_by_closures_is_bound_outside_them() -> None:
    x, y, z = (relay.var(n, shape=(1,)) for n in "xyz")
    x2 = relay.add(x, x)
    body = relay.Function(
        [x], relay.Tuple([relay.Function([y], x2 + y), relay.Function([z], x2 + z)])
    )
    anf = run(body, ToANormalForm())
    assert isinstance(anf, relay.Function)
    assert_anf(anf)
    v = fresh(6)
    xs, ys, zs = (relay.var(n, shape=(1,)) for n in "xyz")
    expected = relay.Function(
        [xs],
        let_chain(
            [
                (v[0], relay.add(xs, xs)),
                (v[2], relay.Function([ys], relay.Let(v[1], v[0] + ys, v[1]))),
                (v[4], relay.Function([zs], relay.Let(v[3], v[0] + zs, v[3]))),
                (v[5], relay.Tuple([v[2], v[4]])),
            ],
            v[5],
        ),
    )
    tvm.ir.assert_structural_equal(anf, expected)


@pytest.mark.spec("ANF-5")
def test_anf_flattens_a_let_used_as_a_sub_expression() -> None:
    x = relay.Var("x")
    c = relay.const(1)
    let = relay.Let(x, c + c, x)
    anf = run(let * let, ToANormalForm(), InferType())
    v0, v1, v2 = fresh(3)
    x2 = relay.Var("x")
    expected = let_chain([(v0, c), (x2, v0 + v0), (v1, x2), (v2, v1 * v1)], v2)
    tvm.ir.assert_structural_equal(anf, typed(expected))


@pytest.mark.spec("ANF-5")
def test_anf_let_var_reuse_and_rebinding() -> None:
    x, y = relay.Var("x"), relay.Var("y")
    d = relay.const(4.0)
    body = relay.Let(x, d, relay.Let(y, x, x))
    assert evaluate(body) == 4
    anf = run(body, ToANormalForm())
    xs, ys = relay.Var("x"), relay.Var("y")
    v0, v1 = fresh(2)
    # The inner let ends in y (later references to x read y); each let's result is re-bound.
    expected = let_chain([(xs, d), (ys, xs), (v0, ys), (v1, v0)], v1)
    tvm.ir.assert_structural_equal(anf, expected)
    assert evaluate(anf) == 4


@pytest.mark.spec("ANF-5")
def test_anf_let_bound_operator_stays_in_place() -> None:
    add = Op.get("add")
    c = relay.var("c", "bool")
    x = relay.var("x", shape=(2,))
    f = relay.Var("f")
    ite = relay.If(c, relay.Let(f, add, relay.Call(f, [x, x])), relay.add(x, x))
    out = ToANormalFormExpr(relay.Function([c, x], ite))
    cs, xs, fs = relay.var("c", "bool"), relay.var("x", shape=(2,)), relay.Var("f")
    v = fresh(4)
    then = let_chain([(fs, add), (v[0], relay.Call(fs, [xs, xs])), (v[1], v[0])], v[1])
    other = let_chain([(v[2], relay.add(xs, xs))], v[2])
    expected = relay.Function([cs, xs], relay.Let(v[3], relay.If(cs, then, other), v[3]))
    tvm.ir.assert_structural_equal(out, expected)


@pytest.mark.spec("ANF-6")
def test_anf_keeps_primitive_and_external_bodies() -> None:
    p = relay.var("p", shape=(2,))
    prim = relay.Function([p], relay.add(relay.add(p, p), p)).with_attr("Primitive", 1)
    q = relay.var("q", shape=(2,))
    ext = relay.Function([q], relay.multiply(q, q)).with_attr("Compiler", "ccompiler")
    x = relay.var("x", shape=(2,))
    main = relay.Function([x], relay.Call(ext, [relay.Call(prim, [x])]))
    out = run(main, ToANormalForm())
    assert isinstance(out, relay.Function)
    assert_anf(out)
    values = [n.value for n in post_order(out) if isinstance(n, relay.Let)]
    assert prim in values
    assert ext in values
    # A module-level primitive function is left as it is.
    mod = ToANormalForm()(IRModule({"main": prim}))
    assert mod["main"] is prim


@pytest.mark.spec("ANF-7")
def test_anf_preserves_results() -> None:
    t = relay.TensorType((), "float32")
    x = relay.Var("x", t)
    f = relay.Function([x], x + x)
    anf_f = run(f, ToANormalForm())
    assert isinstance(anf_f, relay.Function)
    d = relay.const(4.0)
    assert evaluate(relay.Call(f, [d])) == 8
    assert evaluate(relay.Call(anf_f, [d])) == 8
    xv, yv = relay.Var("x"), relay.Var("y")
    body = relay.Let(xv, d, relay.Let(yv, xv, xv + yv))
    assert evaluate(run(body, ToANormalForm())) == 8


@pytest.mark.spec("ANF-7", "BBNF-4")
def test_global_recursion_preserved() -> None:
    mod = IRModule()
    f = relay.GlobalVar("f")
    n = relay.Var("n", I64)
    m = n * relay.const(2, "int64")
    body = relay.If(
        relay.equal(n, relay.const(0, "int64")), m, m + relay.Call(f, [n - relay.const(1, "int64")])
    )
    mod[f] = relay.Function([n], body, I64, [])
    call = relay.Call(f, [relay.const(5, "int64")])
    assert evaluate(call, mod) == 30
    anf = ToANormalForm()(mod)
    anf_f = anf[f]
    assert isinstance(anf_f, relay.Function)
    assert_anf(anf_f)
    assert evaluate(call, anf) == 30
    bb = ToBasicBlockNormalForm()(mod)
    bb_f = bb[f]
    assert isinstance(bb_f, relay.Function)
    assert check_basic_block_normal_form(bb_f)
    assert evaluate(call, bb) == 30


def _sum_to(n_value: int) -> tuple[relay.Function, relay.Var]:
    """``let f = fn (n) { if (n == 0) { 0 } else { n + f(n - 1) } }; f(n_value)``."""
    f = relay.Var("f")
    n = relay.Var("n", I32)
    zero = relay.const(0)
    body = relay.If(relay.equal(n, zero), zero, n + relay.Call(f, [n - relay.const(1)]))
    value = relay.Function([n], body, I32)
    return relay.Function([], relay.Let(f, value, relay.Call(f, [relay.const(n_value)]))), f


@pytest.mark.spec("ANF-7", "BBNF-4")
def test_let_bound_recursion_preserved() -> None:
    prog, _ = _sum_to(4)
    assert evaluate(relay.Call(prog, [])) == 10
    anf = run(prog, ToANormalForm())
    assert isinstance(anf, relay.Function)
    assert_anf(anf)
    assert evaluate(relay.Call(anf, [])) == 10
    bb = run(prog, ToBasicBlockNormalForm())
    assert check_basic_block_normal_form(bb)
    assert evaluate(relay.Call(bb, [])) == 10


# --- random programs ------------------------------------------------------------------------


class _ProgramGen:
    """Small random well-typed programs over float32[2] values: sharing inside and across
    If branches and closures, tuples, projections and (optionally) lets."""

    def __init__(self, seed: int, lets: bool) -> None:
        self.rng = random.Random(seed)
        self.lets = lets
        self.cond = relay.var("c", "bool")

    def program(self) -> relay.Function:
        a, b = relay.var("a", shape=(2,)), relay.var("b", shape=(2,))
        return relay.Function([self.cond, a, b], self.block([a, b], 0))

    def block(self, outer: list[Expr], depth: int) -> Expr:
        pool = list(outer)
        bindings: list[tuple[relay.Var, Expr]] = []
        for _ in range(self.rng.randint(2, 5)):
            value = self.step(pool, depth)
            if self.lets and self.rng.random() < 0.3:
                var = relay.var("v", shape=(2,))
                bindings.append((var, value))
                pool.append(var)
            else:
                pool.append(value)
        result = pool[-1]
        for other in self.rng.sample(pool, min(2, len(pool))):
            result = relay.add(result, other)
        return let_chain(bindings, result)

    def step(self, pool: list[Expr], depth: int) -> Expr:
        pick = self.rng.choice
        kind = self.rng.randrange(6 if depth < 2 else 4)
        if kind == 0:
            return relay.const(np.array([self.rng.uniform(-1, 1) for _ in range(2)], "float32"))
        if kind == 1:
            return relay.multiply(pick(pool), pick(pool))
        if kind == 2:
            return relay.subtract(pick(pool), pick(pool))
        if kind == 3:
            tup = relay.Tuple([pick(pool), pick(pool)])
            return relay.add(relay.TupleGetItem(tup, 0), relay.TupleGetItem(tup, 1))
        if kind == 4:
            return relay.If(self.cond, self.block(pool, depth + 1), self.block(pool, depth + 1))
        param = relay.var("p", shape=(2,))
        closure = relay.Function([param], self.block([*pool, param], depth + 1))
        return relay.Call(closure, [pick(pool)])


SEEDS = range(24)


def _inputs(seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    return [np.array(seed % 2 == 0), *(rng.uniform(-1, 1, 2).astype("float32") for _ in "ab")]


def _results(mod: IRModule, seed: int) -> Any:
    return relay.create_executor(mod=mod).evaluate()(*_inputs(seed)).numpy()


@pytest.mark.spec("ANF-2", "ANF-7", "GNF-2", "BBNF-4")
@pytest.mark.parametrize("seed", SEEDS)
def test_random_programs(seed: int) -> None:
    mod = IRModule.from_expr(_ProgramGen(seed, lets=seed % 3 == 0).program())
    main = mod["main"]
    expected = _results(mod, seed)
    anf = ToANormalForm()(mod)
    anf_main = anf["main"]
    assert isinstance(anf_main, relay.Function)
    assert_anf(anf_main)
    assert well_formed(anf_main)
    np.testing.assert_allclose(_results(anf, seed), expected, rtol=1e-6)
    gnf = ToGraphNormalForm()(anf)
    assert Feature.fLet not in detect_feature(gnf)
    np.testing.assert_allclose(_results(gnf, seed), expected, rtol=1e-6)
    if Feature.fLet not in detect_feature(mod):
        tvm.ir.assert_structural_equal(gnf["main"], InferType()(mod)["main"])
    bb = ToBasicBlockNormalForm()(mod)
    bb_main = bb["main"]
    assert isinstance(bb_main, relay.Function)
    assert check_basic_block_normal_form(bb_main)
    assert well_formed(bb_main)
    np.testing.assert_allclose(_results(bb, seed), expected, rtol=1e-6)
    assert mod["main"] is main


# --- GNF -------------------------------------------------------------------------------------


@pytest.mark.spec("GNF-1")
def test_gnf_pass_info_and_module_handling() -> None:
    p = ToGraphNormalForm()
    assert isinstance(p, FunctionPass)
    assert (p.info.name, p.info.opt_level) == ("ToGraphNormalForm", 1)
    assert tvm.transform.get_pass("ToGraphNormalForm").info.name == "ToGraphNormalForm"
    x, v = relay.var("x", shape=(2,)), relay.Var("v")
    main = relay.Function([x], relay.Let(v, relay.add(x, x), relay.multiply(v, v)))
    ext = relay.Function([x], relay.Let(v, x, v)).with_attr("Compiler", "ccompiler")
    mod = IRModule({"main": main, "ext": ext})
    out = p(mod)
    assert mod["main"] is main
    # The external function is skipped (only typed by the InferType that follows).
    tvm.ir.assert_structural_equal(out["ext"], InferType()(mod)["ext"])
    assert Feature.fLet in detect_feature(IRModule({"ext": out["ext"]}))
    new_main = out["main"]
    assert isinstance(new_main, relay.Function)
    assert Feature.fLet not in detect_feature(new_main)
    # InferType ran afterwards.
    assert new_main.body.checked_type == relay.TensorType((2,), "float32")


@pytest.mark.spec("GNF-1", "GNF-2")
def test_gnf_types_an_untyped_module_before_judging_purity() -> None:
    # ToANormalForm's result is untyped; untyped, the call of @f would count as possibly
    # impure (its result might be a function) and its let would stay.
    g = relay.var("g", shape=(2, 3))
    f = relay.Function([g], relay.TupleGetItem(relay.Tuple([g]), 0))
    mod = IRModule({"f": f})
    x = relay.var("x", shape=(2, 3))
    mod["main"] = relay.Function([x], relay.Call(mod.get_global_var("f"), [x]))
    typed_mod = InferType()(mod)
    anf = ToANormalForm()(typed_mod)
    main = anf["main"]
    assert isinstance(main, relay.Function)
    assert main.body.checked_type_ is None
    tvm.ir.assert_structural_equal(ToGraphNormalForm()(anf), typed_mod)


@pytest.mark.spec("GNF-2")
def test_gnf_implicit_share() -> None:
    x, y, z = relay.Var("x"), relay.Var("y"), relay.Var("z")
    body = relay.Let(z, relay.add(y, y), relay.add(z, z))
    body = relay.Let(y, relay.add(x, x), body)
    f = relay.Function([], relay.Let(x, relay.const(1), body))
    g = run(f, ToGraphNormalForm())
    assert isinstance(g, relay.Function)
    assert Feature.fLet in detect_feature(f)
    assert Feature.fLet not in detect_feature(g)
    one = relay.const(1)
    xx = relay.add(one, one)
    yy = relay.add(xx, xx)
    tvm.ir.assert_structural_equal(g, typed(relay.Function([], relay.add(yy, yy))))
    assert evaluate(relay.Call(f, [])) == 8
    assert evaluate(relay.Call(g, [])) == 8
    h = run(g, ToANormalForm())
    assert isinstance(h, relay.Function)
    assert evaluate(relay.Call(h, [])) == 8


@pytest.mark.spec("GNF-2")
def test_gnf_keeps_the_let_of_a_stateful_call() -> None:
    x, d = relay.var("x", shape=(2, 3)), relay.Var("d")
    drop = relay.nn.dropout_raw(x, rate=0.0)
    f = relay.Function([x], relay.Let(d, drop, relay.exp(relay.TupleGetItem(d, 0))))
    g = run(f, ToGraphNormalForm())
    assert isinstance(g, relay.Function)
    assert isinstance(g.body, relay.Let)
    assert g.body.var.name_hint == "d"
    assert isinstance(g.body.value, relay.Call)
    assert g.body.value.op == Op.get("nn.dropout")


@pytest.mark.spec("GNF-2")
def test_gnf_undoes_anf_with_ifs_and_closures() -> None:
    c = relay.var("c", "bool")
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    shared = relay.add(x, x)
    closure = relay.Function([y], relay.multiply(y, shared))
    tup = relay.Tuple([shared, relay.Call(closure, [x])])
    ite = relay.If(c, relay.TupleGetItem(tup, 1), relay.subtract(shared, relay.const(1.0)))
    before = relay.Function([c, x], relay.add(ite, relay.TupleGetItem(tup, 0)))
    round_trip = run(before, ToANormalForm(), ToGraphNormalForm())
    tvm.ir.assert_structural_equal(round_trip, typed(before))
    # Nothing to substitute: the function comes back as it is.
    assert to_graph_normal_form(before) is before


@pytest.mark.spec("GNF-3")
def test_gnf_keeps_a_recursive_let() -> None:
    prog, f = _sum_to(3)
    callee_body = prog.body
    assert isinstance(callee_body, relay.Let)
    twice = relay.Let(
        f,
        callee_body.value,
        relay.add(relay.Call(f, [relay.const(3)]), relay.Call(f, [relay.const(2)])),
    )
    g = run(relay.Function([], twice), ToGraphNormalForm())
    assert isinstance(g, relay.Function)
    assert isinstance(g.body, relay.Call)
    first, second = g.body.args
    assert isinstance(first, relay.Call)
    assert isinstance(second, relay.Call)
    assert first.op is second.op
    assert isinstance(first.op, relay.Let)
    assert first.op.body is first.op.var
    assert Feature.fLetRec in detect_feature(g)
    fs, n = relay.Var("f"), relay.Var("n", I32)
    zero = relay.const(0)
    rec_body = relay.If(relay.equal(n, zero), zero, n + relay.Call(fs, [n - relay.const(1)]))
    rec = relay.Let(fs, relay.Function([n], rec_body, I32), fs)
    expected = relay.Function(
        [], relay.add(relay.Call(rec, [relay.const(3)]), relay.Call(rec, [relay.const(2)]))
    )
    tvm.ir.assert_structural_equal(g, typed(expected))
    assert evaluate(relay.Call(g, [])) == 9


@pytest.mark.spec("GNF-3")
def test_gnf_recursive_use_shared_between_value_and_body() -> None:
    f = relay.Var("f")
    n = relay.Var("n", I32)
    zero = relay.const(0)
    f_of_zero = relay.Call(f, [zero])  # one node, used inside f and after the let
    value = relay.Function([n], relay.If(relay.equal(n, zero), zero, n + f_of_zero), I32)
    prog = relay.Function(
        [], relay.Let(f, value, relay.add(f_of_zero, relay.Call(f, [relay.const(5)])))
    )
    assert evaluate(relay.Call(prog, [])) == 5
    g = run(prog, ToGraphNormalForm())
    assert isinstance(g, relay.Function)
    assert not free_vars(g)
    assert well_formed(g)
    assert evaluate(relay.Call(g, [])) == 5


# --- BBNF ------------------------------------------------------------------------------------


@pytest.mark.spec("BBNF-1")
def test_bbnf_pass_info_and_module_handling() -> None:
    p = ToBasicBlockNormalForm()
    assert isinstance(p, tvm.transform.Pass)
    assert (p.info.name, p.info.opt_level) == ("ToBasicBlockNormalForm", 1)
    assert tvm.transform.get_pass("ToBasicBlockNormalForm").info.name == "ToBasicBlockNormalForm"
    data = relay.var("data", shape=(1, 3, 8, 8))
    weight = relay.var("weight", shape=(3, 3, 3, 3))
    net = relay.multiply(relay.add(data, data), relay.const(2.0))
    mod = InferType()(IRModule.from_expr(relay.Function([data, weight], net)))
    ext = relay.Function([weight], relay.add(weight, weight)).with_attr("Compiler", "ccompiler")
    mod["ext"] = ext
    old_text = mod.astext()
    old_main = mod["main"]
    with tvm.transform.PassContext(opt_level=4):
        new_mod = tvm.transform.Sequential([ToBasicBlockNormalForm()], opt_level=4)(mod)
    assert mod.astext() == old_text
    assert mod["main"] is old_main
    assert new_mod["ext"] is ext
    new_main = new_mod["main"]
    assert isinstance(new_main, relay.Function)
    tvm.ir.assert_structural_equal(new_main, old_main)
    assert new_main.body.checked_type_ is None
    assert new_mod.astext() != old_text
    x = relay.var("x")
    with pytest.raises(DiagnosticError, match="free variables"):
        p(IRModule({"main": relay.Function([], x)}))


@pytest.mark.spec("BBNF-2")
def test_bbnf_no_explicit_bind() -> None:
    x = relay.const(1)
    y = relay.add(x, x)
    z = relay.add(y, y)
    f = relay.Function([], relay.add(z, z))
    bblock = run(f, ToBasicBlockNormalForm())
    assert isinstance(bblock, relay.Function)
    assert Feature.fLet not in detect_feature(bblock)
    tvm.ir.assert_structural_equal(bblock, f)
    assert evaluate(relay.Call(bblock, [])) == 8
    assert check_basic_block_normal_form(bblock)


@pytest.mark.spec("BBNF-2")
def test_bbnf_top_level_nested_if() -> None:
    def program(bind: bool) -> Expr:
        x = relay.var("x", shape=(), dtype="bool")
        y = relay.var("y", shape=(), dtype="float32")
        z = relay.var("z", shape=(), dtype="float32")
        one, three = relay.const(1, dtype="float32"), relay.const(3, dtype="float32")
        y2: Expr = relay.add(y, y)
        z2: Expr = relay.add(z, z)
        y2v, z2v = relay.var("y2"), relay.var("z2")
        if bind:
            y2, z2 = y2v, z2v
        true_branch: Expr = relay.If(relay.const(True), relay.add(z2, y2), relay.add(three, y2))
        if bind:
            true_branch = relay.Let(y2v, relay.add(y, y), true_branch)
        false_branch = relay.If(relay.const(False), z2, one)
        body: Expr = relay.If(x, true_branch, false_branch)
        return relay.Let(z2v, relay.add(z, z), body) if bind else body

    bblock = run(program(False), ToBasicBlockNormalForm(), InferType())
    tvm.ir.assert_structural_equal(bblock, typed(program(True)), map_free_vars=True)
    assert check_basic_block_normal_form(bblock)


@pytest.mark.spec("BBNF-2")
def test_bbnf_nested_if() -> None:
    def program(bind: bool) -> Expr:
        x = relay.var("x", shape=(), dtype="bool")
        y = relay.var("y", shape=(), dtype="float32")
        one, two = relay.const(1, dtype="float32"), relay.const(2, dtype="float32")
        three = relay.const(3, dtype="float32")
        y2v = relay.var("y2")
        y2: Expr = y2v if bind else relay.add(y, y)
        true_branch: Expr = relay.If(relay.const(True), y2, relay.add(three, y2))
        if bind:
            true_branch = relay.Let(y2v, relay.add(y, y), true_branch)
        false_branch = relay.If(relay.const(False), two, one)
        return relay.If(x, true_branch, false_branch)

    bblock = run(program(False), ToBasicBlockNormalForm(), InferType())
    tvm.ir.assert_structural_equal(bblock, typed(program(True)), map_free_vars=True)
    assert check_basic_block_normal_form(bblock)


def _if_program(x: relay.Var, bind: bool) -> Expr:
    one, two = relay.const(1, dtype="float32"), relay.const(2, dtype="float32")
    v1 = relay.var("v1")
    shared: Expr = v1 if bind else relay.add(x, one)
    body: Expr = relay.If(
        relay.equal(x, two), relay.multiply(shared, two), relay.multiply(shared, one)
    )
    return relay.Let(v1, relay.add(x, one), body) if bind else body


@pytest.mark.spec("BBNF-2")
def test_bbnf_if_binds_only_the_shared_call() -> None:
    x = relay.var("x", shape=(), dtype="float32")
    bblock = run(_if_program(x, False), ToBasicBlockNormalForm(), InferType())
    tvm.ir.assert_structural_equal(bblock, typed(_if_program(x, True)), map_free_vars=True)
    assert check_basic_block_normal_form(bblock)
    func = relay.Function([x], _if_program(x, False))
    expected = relay.Function([x], _if_program(x, True))
    bblock = run(func, ToBasicBlockNormalForm(), InferType())
    tvm.ir.assert_structural_equal(bblock, typed(expected))
    assert check_basic_block_normal_form(bblock)


@pytest.mark.spec("BBNF-2")
def test_bbnf_keeps_lets() -> None:
    x, y, z = relay.Var("x"), relay.Var("y"), relay.Var("z")
    c, d = relay.const(3.0), relay.const(4.0)
    unchanged: list[Expr] = [
        relay.Let(x, d, x),
        relay.Let(x, d, relay.add(x, x)),
        relay.Let(y, c, relay.Let(x, d, relay.Let(z, x + y, x + z))),
    ]
    for before in unchanged:
        body = typed(before)
        opt = run(body, ToBasicBlockNormalForm())
        tvm.ir.assert_structural_equal(opt, body)
        assert check_basic_block_normal_form(opt)
    body = typed(relay.Let(x, d, relay.Let(y, x, x)))
    xs, ys = relay.Var("x"), relay.Var("y")
    expected = typed(relay.Let(xs, d, relay.Let(ys, xs, ys)))
    opt = run(body, ToBasicBlockNormalForm())
    tvm.ir.assert_structural_equal(opt, expected)
    assert check_basic_block_normal_form(opt)
    assert evaluate(opt) == 4


@pytest.mark.spec("BBNF-2")
def test_bbnf_value_shared_by_closures() -> None:
    x, y, z = (relay.var(n, shape=(1,)) for n in "xyz")
    x2 = relay.add(x, x)
    body = relay.Function(
        [x],
        relay.Tuple([relay.Function([y], relay.add(x2, y)), relay.Function([z], relay.add(x2, z))]),
    )
    bblock = run(body, ToBasicBlockNormalForm())
    xs, ys, zs = (relay.var(n, shape=(1,)) for n in "xyz")
    v = relay.Var("v")
    expected = relay.Function(
        [xs],
        relay.Let(
            v,
            relay.add(xs, xs),
            relay.Tuple(
                [relay.Function([ys], relay.add(v, ys)), relay.Function([zs], relay.add(v, zs))]
            ),
        ),
    )
    tvm.ir.assert_structural_equal(bblock, expected)
    assert check_basic_block_normal_form(bblock)


@pytest.mark.spec("BBNF-2")
def test_bbnf_binds_shared_value_whatever_the_visit_order() -> None:
    # The branch's use is recorded after the outer one; TVM's first-use rule misses it.
    c = relay.var("c", "bool")
    y = relay.var("y", shape=(2,))
    shared = relay.add(y, y)
    body = relay.Tuple(
        [
            relay.multiply(shared, relay.const(2.0)),
            relay.If(c, shared, relay.const(np.ones(2, "float32"))),
        ]
    )
    bblock = run(relay.Function([c, y], body), ToBasicBlockNormalForm())
    assert isinstance(bblock, relay.Function)
    assert isinstance(bblock.body, relay.Let)
    assert check_basic_block_normal_form(bblock)
    assert calc_scope(relay.Function([c, y], body)).lifted == {shared}


@pytest.mark.spec("BBNF-3")
def test_check_basic_block_normal_form_accepts() -> None:
    x = relay.var("x")
    assert check_basic_block_normal_form(relay.add(x, relay.add(x, x)))
    y = relay.var("y")
    assert check_basic_block_normal_form(relay.Let(y, x, y))
    cond = relay.var("cond", dtype="bool", shape=())
    shared = relay.var("shared")
    ite = relay.If(cond, shared, relay.add(shared, shared))
    bound = relay.var("shared_bound", shape=(1,), dtype="float32")
    assert check_basic_block_normal_form(relay.Let(shared, bound, ite))
    xf = relay.var("x", shape=(), dtype="float32")
    assert check_basic_block_normal_form(relay.Function([xf], _if_program(xf, True)))
    # Constants, operators and globals may be used from any block.
    g = relay.GlobalVar("g")
    k = relay.const(2.0)
    branchy = relay.If(cond, relay.Call(g, [k]), relay.add(relay.Call(g, [k]), k))
    assert check_basic_block_normal_form(relay.Function([cond], relay.multiply(branchy, k)))


@pytest.mark.spec("BBNF-3")
def test_check_basic_block_normal_form_rejects() -> None:
    cond = relay.var("cond", dtype="bool", shape=())
    shared = relay.var("shared")
    with pytest.raises(DiagnosticError, match="free variable %shared"):
        check_basic_block_normal_form(relay.If(cond, shared, relay.add(shared, shared)))
    x = relay.var("x", shape=(), dtype="float32")
    with pytest.raises(DiagnosticError, match="call of add"):
        check_basic_block_normal_form(relay.Function([x], _if_program(x, False)))
    xs, ys, zs = (relay.var(n, shape=(1,)) for n in "xyz")
    x2 = relay.add(xs, xs)
    funcs = relay.Tuple(
        [relay.Function([ys], relay.add(x2, ys)), relay.Function([zs], relay.add(x2, zs))]
    )
    with pytest.raises(DiagnosticError, match="basic block normal form"):
        check_basic_block_normal_form(relay.Function([xs], funcs))
    s = relay.var("s", shape=(1,))
    shared_call = relay.add(s, s)
    f = relay.Var("f", relay.FuncType([], relay.scalar_type("bool")))
    z = relay.Var("z")
    top = relay.Function(
        [f, s],
        relay.If(
            relay.Call(f, []),
            relay.Function([xs], relay.add(xs, shared_call)),
            relay.Function([z], relay.add(z, shared_call)),
        ),
    )
    with pytest.raises(DiagnosticError, match="call of add"):
        check_basic_block_normal_form(top)
    bblock = run(top, ToBasicBlockNormalForm())
    assert check_basic_block_normal_form(bblock)


# --- scopes and deep programs ------------------------------------------------------------------


def _naive_lca(a: Scope, b: Scope) -> Scope:
    ancestors = set()
    while True:
        ancestors.add(a)
        if a.parent is a:
            break
        a = a.parent
    while b not in ancestors:
        b = b.parent
    return b


@pytest.mark.spec("ANF-8")
def test_jump_pointer_lca_matches_a_naive_walk() -> None:
    rng = random.Random(7)
    root = global_scope()
    scopes = [root]
    for _ in range(600):
        scopes.append(child_scope(rng.choice(scopes[-20:] + scopes[:5]), rng.random() < 0.5))
    for _ in range(2000):
        a, b = rng.choice(scopes), rng.choice(scopes)
        assert lca(a, b) is _naive_lca(a, b)
    chain = [root]
    for _ in range(100_000):
        chain.append(child_scope(chain[-1], False))
    assert lca(chain[-1], chain[3]) is chain[3]
    assert lca(chain[70_000], chain[99_999]) is chain[70_000]
    side = child_scope(chain[12_345], True)
    assert lca(side, chain[-1]) is chain[12_345]
    assert side.block is side
    assert chain[-1].block is root


@pytest.mark.spec("ANF-4")
def test_calc_scope_nests_branch_scopes() -> None:
    c = relay.var("c", "bool")
    x = relay.var("x", shape=(2,))
    shared = relay.add(x, x)
    inner = relay.multiply(x, x)
    ite = relay.If(c, relay.add(shared, inner), shared)
    func = relay.Function([c, x], ite)
    scopes = calc_scope(func)
    body_scope = scopes.scope[ite]
    assert scopes.scope[func].level == 0
    assert scopes.sub_scopes[func] == (body_scope,)
    assert body_scope.level == 1
    assert scopes.scope[shared] is body_scope
    assert scopes.scope[x] is body_scope
    then_scope = scopes.scope[inner]
    assert scopes.sub_scopes[ite][0] is then_scope
    assert then_scope.parent is body_scope
    assert then_scope.block is then_scope
    assert scopes.lifted == {shared}


def _call_chain(n: int) -> relay.Function:
    x = relay.var("x", shape=(2,))
    one = relay.const(np.ones(2, "float32"))
    e: Expr = x
    for _ in range(n):
        e = relay.add(e, one)
    return relay.Function([x], e)


def _deep_let_chain(n: int) -> relay.Function:
    x = relay.var("x", shape=(2,))
    bindings: list[tuple[relay.Var, Expr]] = []
    current: Expr = x
    for _ in range(n):
        var = relay.var("v", shape=(2,))
        bindings.append((var, relay.add(current, x)))
        current = var
    return relay.Function([x], let_chain(bindings, current))


def _let_depth(expr: Expr) -> tuple[int, Expr]:
    depth = 0
    while isinstance(expr, relay.Let):
        depth += 1
        expr = expr.body
    return depth, expr


def _add_chain(expr: Expr) -> tuple[int, Expr]:
    """The depth of ``add(add(x, c), c)`` down to the first non-add, and that innermost
    expression; checks that every right operand is one shared node ``c``."""
    depth = 0
    add = Op.get("add")
    operands = set()
    while isinstance(expr, relay.Call) and expr.op is add:
        operands.add(expr.args[1])
        expr = expr.args[0]
        depth += 1
    assert len(operands) == 1
    return depth, expr


@pytest.mark.spec("ANF-8", "GNF-4", "BBNF-5")
@pytest.mark.slow
def test_deep_call_chain() -> None:
    n = 100_000
    chain = _call_chain(n)
    anf = run(chain, ToANormalForm())
    assert isinstance(anf, relay.Function)
    depth, last = _let_depth(anf.body)
    assert depth == n + 1  # the shared constant, then one binding per call
    assert isinstance(last, relay.Var)
    back = run(anf, ToGraphNormalForm())
    assert isinstance(back, relay.Function)
    assert _add_chain(back.body) == (n, back.params[0])
    bblock = run(chain, ToBasicBlockNormalForm())
    assert isinstance(bblock, relay.Function)
    assert _add_chain(bblock.body) == (n, bblock.params[0])
    assert check_basic_block_normal_form(bblock)


@pytest.mark.spec("ANF-8", "GNF-4", "BBNF-5")
@pytest.mark.slow
def test_deep_let_chain() -> None:
    n = 100_000
    lets = _deep_let_chain(n)
    anf = run(lets, ToANormalForm())
    assert isinstance(anf, relay.Function)
    depth, last = _let_depth(anf.body)
    assert depth == 2 * n  # each let's own binding, and its result re-bound (ANF-5)
    assert isinstance(last, relay.Var)
    gnf = run(lets, ToGraphNormalForm())
    assert isinstance(gnf, relay.Function)
    assert _add_chain(gnf.body) == (n, gnf.params[0])
    bblock = run(lets, ToBasicBlockNormalForm())
    assert isinstance(bblock, relay.Function)
    depth, last = _let_depth(bblock.body)
    assert depth == n
    assert isinstance(last, relay.Var)
    assert check_basic_block_normal_form(bblock)


@pytest.mark.spec("ANF-8", "GNF-4", "BBNF-5")
def test_diamond_ladder() -> None:
    x = relay.var("x", shape=(2,))
    one = relay.const(np.ones(2, "float32"))
    e: Expr = x
    for _ in range(40):  # tree expansion 2^40
        e = relay.add(relay.add(e, one), relay.multiply(e, one))
    ladder = relay.Function([x], e)
    anf = run(ladder, ToANormalForm())
    assert isinstance(anf, relay.Function)
    assert _let_depth(anf.body)[0] == 1 + 3 * 40
    tvm.ir.assert_structural_equal(run(anf, ToGraphNormalForm()), typed(ladder))
    bblock = run(ladder, ToBasicBlockNormalForm())
    tvm.ir.assert_structural_equal(bblock, ladder)
    assert check_basic_block_normal_form(bblock)
