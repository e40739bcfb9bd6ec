"""SPLIT: SplitArgs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.testing import run_infer_type, run_opt_pass
from minitvm.relay.transform import SplitArgs
from minitvm.relay.transform.split_args import split_args

SHAPE = (1, 1, 1, 3)


def _inputs(n: int) -> list[relay.Var]:
    return [relay.var(f"p{i}", shape=SHAPE) for i in range(n)]


def _concat(fields: list[Expr]) -> Expr:
    return relay.concatenate(relay.annotation.stop_fusion(relay.Tuple(fields)), axis=1)


def expected_split(inputs: Sequence[Expr], limit: int) -> Expr:
    """The chain TVM's test expects, written out independently of the pass."""
    bound = limit - 1  # one argument is the output
    if len(inputs) < bound:
        return relay.concatenate(relay.Tuple(inputs), axis=1)
    pieces: list[Expr] = []
    for inp in inputs:
        if len(pieces) + 1 > bound:
            pieces = [_concat(pieces)]
        pieces.append(inp)
    return _concat(pieces)


@pytest.mark.spec("SPLIT-1")
def test_pass_info() -> None:
    p = SplitArgs(8)
    assert (p.info.name, p.info.opt_level, p.info.required) == ("SplitArgs", 1, ("InferType",))


@pytest.mark.spec("SPLIT-1")
@pytest.mark.parametrize(("n", "limit"), [(300, 128), (300, 31), (5, 6), (5, 7), (4, 7), (2, 2)])
def test_split_concat(n: int, limit: int) -> None:
    inputs = _inputs(n)
    before = relay.concatenate(relay.Tuple(inputs), axis=1)
    out = run_opt_pass(before, SplitArgs(limit))
    tvm.ir.assert_structural_equal(out, run_infer_type(expected_split(inputs, limit)))


@pytest.mark.spec("SPLIT-1")
def test_pieces_hold_at_most_the_bound_and_values_are_equal() -> None:
    inputs = _inputs(10)
    before = relay.Function(inputs, relay.concatenate(relay.Tuple(inputs), axis=3))
    out = run_opt_pass(before, SplitArgs(4))
    assert isinstance(out, relay.Function)
    pieces = [
        n
        for n in relay.expr_functor.post_order(out)
        if isinstance(n, relay.Call) and n.op == relay.op.get("annotation.stop_fusion")
    ]
    assert len(pieces) == 5  # 3 fields, then the previous piece and 2 more, four times
    for piece in pieces:
        assert isinstance(piece.args[0], relay.Tuple)
        assert len(piece.args[0].fields) <= 3
    data = [np.full(SHAPE, i, "float32") for i in range(10)]
    run = relay.create_executor().evaluate
    np.testing.assert_array_equal(run(out)(*data).numpy(), run(before)(*data).numpy())


@pytest.mark.spec("SPLIT-2")
@pytest.mark.parametrize("limit", [0, -1])
def test_no_bound_changes_nothing(limit: int) -> None:
    inputs = _inputs(300)
    before = relay.Function(inputs, relay.concatenate(relay.Tuple(inputs), axis=1))
    tvm.ir.assert_structural_equal(run_opt_pass(before, SplitArgs(limit)), run_infer_type(before))


@pytest.mark.spec("SPLIT-2")
def test_bound_of_one_is_an_error() -> None:
    inputs = _inputs(2)
    with pytest.raises(DiagnosticError, match="max_function_args"):
        run_opt_pass(relay.concatenate(relay.Tuple(inputs), axis=1), SplitArgs(1))


@pytest.mark.spec("SPLIT-2")
def test_nested_concatenation_is_split_and_module_attrs_are_copied() -> None:
    inputs = _inputs(6)
    inner = relay.concatenate(relay.Tuple(inputs[:4]), axis=1)
    outer = relay.concatenate(relay.Tuple([inner, *inputs[4:]]), axis=1)
    mod = IRModule.from_expr(relay.Function(inputs, outer))
    mod.attrs = mod.attrs.with_attr("note", "kept")
    out = SplitArgs(4)(relay.transform.InferType()(mod))
    split_inner = expected_split(inputs[:4], 4)
    expected = relay.Function(
        inputs,
        expected_split([split_inner, *inputs[4:]], 4),
    ).with_attr("note", "kept")
    tvm.ir.assert_structural_equal(out["main"], run_infer_type(expected))


@pytest.mark.spec("SPLIT-2")
def test_by_name_uses_the_current_target() -> None:
    inputs = _inputs(40)
    mod = relay.transform.InferType()(
        IRModule.from_expr(relay.Function(inputs, relay.concatenate(relay.Tuple(inputs), axis=1)))
    )
    with tvm.target.Target("cuda -max_function_args=31"):
        split = tvm.transform.get_pass("SplitArgs")(mod)
    tvm.ir.assert_structural_equal(
        split["main"], run_infer_type(relay.Function(inputs, expected_split(inputs, 31)))
    )
    tvm.ir.assert_structural_equal(tvm.transform.get_pass("SplitArgs")(mod), mod)


@pytest.mark.spec("SPLIT-2")
@pytest.mark.slow
def test_deep_chain_and_input_unchanged() -> None:
    x = relay.var("x", shape=(1, 2))
    chain: Expr = x
    for _ in range(100_000):
        chain = relay.negative(chain)
    wide = relay.concatenate(relay.Tuple([chain, x, x]), axis=0)
    out = split_args(wide, 3)
    assert isinstance(out, relay.Call)
    piece = out.args[0]
    assert isinstance(piece, relay.Call)
    assert isinstance(piece.args[0], relay.Tuple)
    assert piece.args[0].fields[1] is x
    first = piece.args[0].fields[0]
    assert isinstance(first, relay.Call)
    assert first.op == relay.op.get("concatenate")
    assert isinstance(wide.args[0], relay.Tuple)
    assert len(wide.args[0].fields) == 3
