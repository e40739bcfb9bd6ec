"""DEEP: every layer on 100,000-deep programs and on a DAG whose tree expansion is 2^40 nodes.

The default (CI) run uses 10,000-deep programs; ``MINITVM_DEEP=1`` runs them 100,000 deep.

The pass tests are driven from the pass registry (``tvm.transform.registered_passes``), so a
pass registered later is enrolled without editing this file. Runs happen at Python's default
recursion limit; the conftest asserts nobody raised it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from typing_extensions import override

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import registered_passes
from minitvm.relay.analysis import detect_feature, free_vars, well_formed
from minitvm.relay.expr import Call, Expr, Let, Var
from minitvm.relay.expr_functor import ExprMutator, ExprVisitor, post_order
from minitvm.relay.function import Function
from minitvm.relay.interpreter import evaluate_expr

DEPTH = 100_000 if os.environ.get("MINITVM_DEEP") else 10_000
"""10,000 (ten times Python's recursion limit) in CI; the full 100,000 with ``MINITVM_DEEP=1``."""
RUNGS = 40
PASS_NAMES = sorted(registered_passes())
pytestmark = pytest.mark.without_wellformed_check


def call_chain(depth: int = DEPTH) -> IRModule:
    """``main(x) = add(add(...add(x, 1)..., 1), 1)``, ``depth`` calls deep."""
    x = relay.var("x", shape=(2,))
    one = relay.const(np.ones(2, dtype="float32"))
    e: Expr = x
    for _ in range(depth):
        e = relay.add(e, one)
    return IRModule.from_expr(Function([x], e))


def let_chain(depth: int = DEPTH) -> IRModule:
    """``let v1 = x + 1; let v2 = v1 + 1; ...; v_depth``."""
    x = relay.var("x", shape=(2,))
    one = relay.const(np.ones(2, dtype="float32"))
    names = [relay.var(f"v{i}") for i in range(depth)]
    body: Expr = names[-1]
    for i in reversed(range(depth)):
        prev: Expr = names[i - 1] if i else x
        body = Let(names[i], relay.add(prev, one), body)
    return IRModule.from_expr(Function([x], body))


def diamond_ladder(rungs: int = RUNGS) -> IRModule:
    """``e_{i+1} = add(e_i, e_i)``: ``rungs`` nodes whose tree expansion is 2^rungs."""
    x = relay.var("x", shape=())
    e: Expr = x
    for _ in range(rungs):
        e = relay.add(e, e)
    return IRModule.from_expr(Function([x], e))


PROGRAMS = {"call_chain": call_chain, "let_chain": let_chain, "diamond_ladder": diamond_ladder}
EXPECTED: dict[str, Callable[[Any], Any]] = {  # main applied to x
    "call_chain": lambda x: x + DEPTH,
    "let_chain": lambda x: x + DEPTH,
    "diamond_ladder": lambda x: x * 2.0**RUNGS,
}
_CACHE: dict[str, IRModule] = {}


def typed(name: str) -> IRModule:
    if name not in _CACHE:
        _CACHE[name] = relay.transform.InferType()(PROGRAMS[name]())
    return _CACHE[name]


def run(mod: IRModule, name: str) -> npt.NDArray[np.float32]:
    """Evaluate ``main`` with the interpreter's machine on an input, without type checking."""
    main = mod["main"]
    assert isinstance(main, Function)
    x = np.array([0.5, -1.5], dtype="float32") if name != "diamond_ladder" else np.float32(0.75)
    value = evaluate_expr(Call(main, [relay.const(x)]), mod)
    assert isinstance(value, np.ndarray)
    np.testing.assert_array_equal(value, np.asarray(EXPECTED[name](x), dtype="float32"))
    return value


@pytest.fixture(autouse=True)
def _default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 1000, "deep tests must run at the default recursion limit"


@pytest.mark.spec("DEEP-1")
@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("name", PASS_NAMES)
def test_every_registered_pass_on_deep_programs(name: str, program: str) -> None:
    mod = typed(program)
    out = tvm.transform.get_pass(name)(mod)
    assert isinstance(out, IRModule)
    run(out, program)


@pytest.mark.spec("DEEP-2")
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_infer_type_and_interpreter(program: str) -> None:
    mod = typed(program)
    main = mod["main"]
    assert isinstance(main, Function)
    param_type = main.params[0].checked_type
    assert isinstance(param_type, relay.TensorType)
    assert main.checked_type == relay.FuncType([param_type], param_type)
    run(mod, program)
    arg = np.ones(param_type.shape, dtype="float32")
    result = relay.create_executor("debug", mod=mod).evaluate()(arg)
    assert isinstance(result, tvm.nd.NDArray)
    np.testing.assert_array_equal(result.numpy(), EXPECTED[program](arg))


@pytest.mark.spec("DEEP-3")
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_printer_and_structural_equality(program: str) -> None:
    mod = typed(program)
    text = mod.astext()
    assert text.startswith('#[version = "0.0.5"]')
    rebuilt = relay.transform.InferType()(PROGRAMS[program]())
    assert tvm.ir.structural_equal(mod, rebuilt)
    assert tvm.ir.structural_hash(mod) == tvm.ir.structural_hash(rebuilt)
    assert rebuilt.astext() == text


@pytest.mark.spec("DEEP-4")
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_visitors_and_analyses(program: str) -> None:
    main = typed(program)["main"]
    assert isinstance(main, Function)
    nodes = post_order(main)
    unique = len(nodes)
    assert unique <= 3 * DEPTH + 10

    class Counter(ExprVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        @override
        def visit_call(self, call: Call) -> None:
            self.calls += 1

    counter = Counter()
    counter.visit(main)
    assert counter.calls == sum(isinstance(n, Call) for n in nodes)

    class Identity(ExprMutator):
        pass

    assert Identity().visit(main) is main
    assert free_vars(main.body) == [main.params[0]]
    assert well_formed(main)
    assert detect_feature(main)
    assert not free_vars(main)


@pytest.mark.spec("DEEP-5")
def test_parser_reads_deep_printed_text() -> None:
    mod = typed("let_chain")
    back = tvm.parser.parse(mod.astext())
    assert tvm.ir.structural_equal(back, mod, map_free_vars=True)
    var = back["main"]
    assert isinstance(var, Function)
    assert isinstance(var.params[0], Var)
