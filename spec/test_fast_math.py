"""FASTMATH: FastMath."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.testing import run_infer_type, run_opt_pass
from minitvm.relay.transform import FastMath
from minitvm.relay.transform.fast_math import fast_math


@pytest.mark.spec("FASTMATH-1")
def test_pass_info() -> None:
    p = FastMath()
    assert (p.info.name, p.info.opt_level, p.info.required) == ("FastMath", 4, ("InferType",))
    assert tvm.transform.get_pass("FastMath").info.opt_level == 4


@pytest.mark.spec("FASTMATH-1")
@pytest.mark.parametrize(
    ("slow", "fast"),
    [
        (relay.exp, relay.fast_exp),
        (relay.erf, relay.fast_erf),
        (relay.tanh, relay.fast_tanh),
        (lambda e: relay.nn.softmax(e, axis=1), lambda e: relay.nn.fast_softmax(e, axis=1)),
    ],
)
def test_replaced_by_fast_variant(
    slow: Callable[[Expr], Expr], fast: Callable[[Expr], Expr]
) -> None:
    x = relay.var("x", shape=(1, 16, 4), dtype="float32")
    before = relay.Function([x], relay.sigmoid(slow(relay.abs(x))))
    out = run_opt_pass(before, FastMath())
    tvm.ir.assert_structural_equal(
        out, run_infer_type(relay.Function([x], relay.sigmoid(fast(relay.abs(x)))))
    )
    assert "fast_" in IRModule.from_expr(out).astext()
    data = np.random.default_rng(0).uniform(-2, 2, (1, 16, 4)).astype("float32")
    run = relay.create_executor().evaluate
    np.testing.assert_array_equal(run(out)(data).numpy(), run(before)(data).numpy())


@pytest.mark.spec("FASTMATH-1")
def test_untyped_module_and_input_unchanged() -> None:
    x = relay.var("x", shape=(2,))
    mod = IRModule.from_expr(relay.Function([x], relay.exp(x) + relay.log(x)))
    text = mod.astext()
    out = FastMath()(mod)
    assert mod.astext() == text
    expected = relay.Function([x], relay.fast_exp(x) + relay.log(x))
    tvm.ir.assert_structural_equal(out["main"], run_infer_type(expected))


@pytest.mark.spec("FASTMATH-1")
@pytest.mark.slow
def test_deep_chain() -> None:
    x = relay.var("x", shape=(2,))
    chain: Expr = x
    for _ in range(100_000):
        chain = relay.tanh(chain)
    out = fast_math(chain)
    depth = 0
    while isinstance(out, relay.Call):
        assert out.op == relay.op.get("fast_tanh")
        out, depth = out.args[0], depth + 1
    assert out is x
    assert depth == 100_000
