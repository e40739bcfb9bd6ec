"""CSE: EliminateCommonSubexpr."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.testing import run_infer_type, run_opt_pass
from minitvm.relay.transform import EliminateCommonSubexpr
from minitvm.relay.transform.eliminate_common_subexpr import SkipFunc, eliminate_common_subexpr


def cse(expr: Expr, fskip: SkipFunc | None = None) -> Expr:
    return run_opt_pass(expr, EliminateCommonSubexpr(fskip))


def check(before: Expr, expected: Expr, fskip: SkipFunc | None = None) -> None:
    tvm.ir.assert_structural_equal(cse(before, fskip), run_infer_type(expected))


def _two_relus() -> Expr:
    x = relay.var("x", shape=(1, 16))
    y1 = relay.add(relay.nn.relu(x), relay.const(1.0, "float32"))
    y2 = relay.add(relay.nn.relu(x), relay.const(1.0, "float32"))
    return relay.Function([x], relay.add(y1, y2))


@pytest.mark.spec("CSE-1")
def test_pass_info() -> None:
    p = EliminateCommonSubexpr()
    assert (p.info.name, p.info.opt_level, p.info.required) == (
        "EliminateCommonSubexpr",
        3,
        ("InferType",),
    )
    assert tvm.transform.get_pass("EliminateCommonSubexpr").info.opt_level == 3


@pytest.mark.spec("CSE-1")
def test_simple() -> None:
    x = relay.var("x", shape=(1, 16))
    y = relay.add(relay.nn.relu(x), relay.const(1.0, "float32"))
    check(_two_relus(), relay.Function([x], relay.add(y, y)))


@pytest.mark.spec("CSE-2")
def test_callback_skips_calls() -> None:
    def fskip(expr: Expr) -> bool:
        return isinstance(expr, relay.Call) and expr.op == relay.op.get("add")

    x = relay.var("x", shape=(1, 16))
    y = relay.nn.relu(x)
    y1 = relay.add(y, relay.const(1.0, "float32"))
    y2 = relay.add(y, relay.const(1.0, "float32"))
    check(_two_relus(), relay.Function([x], relay.add(y1, y2)), fskip)


@pytest.mark.spec("CSE-1")
def test_tuple_get_item() -> None:
    x = relay.var("x", shape=(1, 16, 1, 1))
    ps = [relay.var(n, shape=(16,)) for n in ("var", "mean", "beta", "gamma")]
    var, mean, beta, gamma = ps
    bn = relay.nn.batch_norm(x, gamma, beta, mean, var, epsilon=1e-5)
    before = relay.Function([x, *ps], relay.add(bn[0], bn[0]))
    t1 = bn[0]
    check(before, relay.Function([x, *ps], relay.add(t1, t1)))


@pytest.mark.spec("CSE-2")
def test_callback_skips_projections() -> None:
    x = relay.var("x", shape=(6,))
    parts = relay.split(x, 2).astuple()
    before = relay.Function([x], relay.TupleGetItem(parts, 0) + relay.TupleGetItem(parts, 0))
    tvm.ir.assert_structural_equal(
        cse(before, lambda e: isinstance(e, relay.TupleGetItem)), run_infer_type(before)
    )


@pytest.mark.spec("CSE-1")
def test_tuple_argument() -> None:
    def branch(x: Expr, c0: Expr) -> Expr:
        y = relay.add(relay.nn.relu(x), relay.const(1.0, "float32"))
        return relay.concatenate([y, c0], axis=0)

    x = relay.var("x", shape=(1, 16))
    c0 = relay.const(np.ones((1, 16)), "float32")
    before = relay.Function([x], relay.add(branch(x, c0), branch(x, c0)))
    y = branch(x, c0)
    check(before, relay.Function([x], relay.add(y, y)))


@pytest.mark.spec("CSE-1")
def test_equal_scalar_constants_are_equivalent_but_tensors_are_not() -> None:
    x = relay.var("x", shape=(3,))
    tensor = np.array([1.0, 2.0, 3.0], "float32")
    fields = [
        x * relay.const(2.0),
        x * relay.const(2.0),  # another constant object, the same scalar
        x * relay.const(3.0),
        x + relay.const(tensor),
        x + relay.const(tensor),  # equal tensors are still different nodes
    ]
    mul = x * relay.const(2.0)
    expected = [mul, mul, x * relay.const(3.0), x + relay.const(tensor), x + relay.const(tensor)]
    check(relay.Function([x], relay.Tuple(fields)), relay.Function([x], relay.Tuple(expected)))


@pytest.mark.spec("CSE-1")
def test_attributes_must_be_equal() -> None:
    x = relay.var("x", shape=(2, 3))
    before = relay.Function(
        [x], relay.Tuple([relay.sum(x, axis=0), relay.sum(x, axis=1), relay.sum(x, axis=0)])
    )
    s0 = relay.sum(x, axis=0)
    check(before, relay.Function([x], relay.Tuple([s0, relay.sum(x, axis=1), s0])))


@pytest.mark.spec("CSE-1")
def test_nested_functions_are_rewritten() -> None:
    x = relay.var("x", shape=(2,))
    p = relay.var("p", shape=(2,))
    inner = relay.Function([p], relay.exp(p) * relay.exp(p))
    e = relay.exp(p)
    check(relay.Function([x], inner(x)), relay.Function([x], relay.Function([p], e * e)(x)))


@pytest.mark.spec("CSE-2")
def test_never_shared_calls() -> None:
    x = relay.var("x", shape=(2,))
    p = relay.var("p", shape=(2,))
    f = relay.Function([p], p)
    before = relay.Function(
        [x],
        relay.Tuple(
            [
                relay.zeros((2,), "float32"),
                relay.zeros((2,), "float32"),
                relay.nn.dropout_raw(x),
                relay.nn.dropout_raw(x),
                f(x),
                f(x),
            ]
        ),
    )
    tvm.ir.assert_structural_equal(cse(before), run_infer_type(before))


@pytest.mark.spec("CSE-3")
def test_input_is_unchanged() -> None:
    mod = relay.transform.InferType()(IRModule.from_expr(_two_relus()))
    text, functions = mod.astext(), mod.functions
    EliminateCommonSubexpr()(mod)
    assert mod.astext() == text
    assert mod.functions == functions


@pytest.mark.spec("CSE-3")
@pytest.mark.slow
def test_deep_chains_and_many_calls_of_one_operator() -> None:
    x = relay.var("x", shape=(2,))
    a: Expr = x
    b: Expr = x
    for _ in range(100_000):
        a, b = relay.negative(a), relay.negative(b)
    out = eliminate_common_subexpr(relay.Tuple([a, b]))
    assert isinstance(out, relay.Tuple)
    assert out.fields[0] is out.fields[1] is a

    vs = [relay.var(f"v{i}") for i in range(100_000)]
    body: Expr = relay.Tuple([vs[-1], relay.negative(x)])
    for i in range(len(vs) - 1, -1, -1):
        body = relay.Let(vs[i], relay.negative(x if i == 0 else vs[i - 1]), body)
    let = eliminate_common_subexpr(body)
    assert isinstance(let, relay.Let)
    inner: Expr = let
    while isinstance(inner, relay.Let):
        inner = inner.body
    assert isinstance(inner, relay.Tuple)
    assert inner.fields[1] is let.value  # the last negative(x) is the first one
