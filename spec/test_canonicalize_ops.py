"""CANON: CanonicalizeOps."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.testing import run_infer_type, run_opt_pass
from minitvm.relay.transform import CanonicalizeOps
from minitvm.relay.transform.canonicalize_ops import canonicalize_ops


@pytest.mark.spec("CANON-1")
def test_pass_info() -> None:
    p = CanonicalizeOps()
    assert (p.info.name, p.info.opt_level, p.info.required) == (
        "CanonicalizeOps",
        3,
        ("InferType",),
    )
    assert tvm.transform.get_pass("CanonicalizeOps").info.name == "CanonicalizeOps"


@pytest.mark.spec("CANON-1")
@pytest.mark.parametrize(
    ("shape", "axis", "newaxis"),
    [((2, 3, 4, 5), 1, 2), ((2, 3), -1, 0), ((2, 3, 4), -2, 1), ((3,), 0, 0)],
)
def test_bias_add_becomes_add(shape: tuple[int, ...], axis: int, newaxis: int) -> None:
    x = relay.var("x", shape=shape)
    b = relay.var("b", shape=(shape[axis],))
    before = relay.Function([x, b], relay.nn.relu(relay.nn.bias_add(x, b, axis=axis)))
    bias: Expr = relay.expand_dims(b, axis=1, num_newaxis=newaxis) if newaxis else b
    expected = relay.Function([x, b], relay.nn.relu(relay.add(x, bias)))
    out = run_opt_pass(before, CanonicalizeOps())
    tvm.ir.assert_structural_equal(out, run_infer_type(expected))
    data = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
    bias_data = np.arange(shape[axis], dtype="float32")
    run = relay.create_executor().evaluate
    np.testing.assert_array_equal(
        run(out)(data, bias_data).numpy(), run(before)(data, bias_data).numpy()
    )


@pytest.mark.spec("CANON-1")
def test_untyped_module_and_input_unchanged() -> None:
    x = relay.var("x", shape=(1, 2, 3))
    b = relay.var("b", shape=(2,))
    mod = IRModule.from_expr(relay.Function([x, b], relay.nn.bias_add(x, b)))
    text = mod.astext()
    out = CanonicalizeOps()(mod)
    assert mod.astext() == text
    expected = relay.Function([x, b], relay.add(x, relay.expand_dims(b, 1, 1)))
    tvm.ir.assert_structural_equal(out["main"], run_infer_type(expected))


@pytest.mark.spec("CANON-1")
@pytest.mark.slow
def test_deep_chain() -> None:
    x = relay.var("x", shape=(2, 3))
    b = relay.var("b", shape=(3,))
    chain: Expr = x
    for _ in range(100_000):
        chain = relay.nn.bias_add(chain, b, axis=-1)
    func = relay.transform.InferType()(IRModule.from_expr(relay.Function([x, b], chain)))["main"]
    assert isinstance(func, relay.Function)
    out = canonicalize_ops(func)
    assert isinstance(out, relay.Function)
    e, depth = out.body, 0
    while isinstance(e, relay.Call):
        assert e.op == relay.op.get("add")
        assert e.args[1] is b
        e, depth = e.args[0], depth + 1
    assert depth == 100_000
