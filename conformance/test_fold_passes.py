"""Properties of SimplifyInference, EliminateCommonSubexpr, CanonicalizeOps, FastMath and
SplitArgs over inference networks and generated programs: the same results (exactly, except
within 1e-4 for SimplifyInference, whose arithmetic differs from the normalization kernels),
types, well-formedness, idempotence and an untouched input; plus what each pass promises to
leave behind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.inference_nets import inference_nets
from conformance.pass_properties import check_pass
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import Pass
from minitvm.relay.expr import Call, Expr, Tuple, TupleGetItem
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.testing.program_gen import Program, programs
from minitvm.relay.transform import (
    CanonicalizeOps,
    EliminateCommonSubexpr,
    FastMath,
    SimplifyInference,
    SplitArgs,
)
from minitvm.relay.transform.fast_math import FAST_OPS


def _nodes(mod: IRModule) -> list[Expr]:
    out: list[Expr] = []
    for func in mod.functions.values():
        assert isinstance(func, Function)
        out.extend(iter_post_order(func))
    return out


def _op_name(node: Expr) -> str | None:
    if isinstance(node, Call) and isinstance(node.op, Op):
        return node.op.name
    return None


def _no_inference_ops(mod: IRModule) -> None:
    for node in _nodes(mod):
        assert _op_name(node) not in ("nn.layer_norm", "nn.instance_norm", "nn.group_norm")
        if isinstance(node, TupleGetItem) and node.index == 0:
            assert _op_name(node.tuple_value) not in ("nn.batch_norm", "nn.dropout")


def _no_bias_add(mod: IRModule) -> None:
    assert all(_op_name(n) != "nn.bias_add" for n in _nodes(mod))


def _no_slow_math(mod: IRModule) -> None:
    assert all(_op_name(n) not in FAST_OPS for n in _nodes(mod))


def _no_common_calls(mod: IRModule) -> None:
    """No two distinct calls of a pure operator with the same attrs and the same arguments
    in one function."""
    for func in mod.functions.values():
        assert isinstance(func, Function)
        seen: set[tuple[object, ...]] = set()
        for node in iter_post_order(func):
            if not isinstance(node, Call) or not isinstance(node.op, Op) or not node.args:
                continue
            if node.op.definition.stateful or any(isinstance(a, Tuple) for a in node.args):
                continue
            key = (node.op, node.attrs, *node.args)
            assert key not in seen, f"a common subexpression is left: {node}"
            seen.add(key)


def _narrow_concats(limit: int) -> Callable[[IRModule], None]:
    def check(mod: IRModule) -> None:
        for node in _nodes(mod):
            if _op_name(node) == "concatenate":
                assert isinstance(node, Call)
                arg = node.args[0]
                if isinstance(arg, Tuple):
                    assert len(arg.fields) < limit - 1
                else:
                    inner = arg.args[0] if isinstance(arg, Call) else None
                    assert isinstance(inner, Tuple)
                    assert len(inner.fields) <= limit - 1

    return check


CASES: list[tuple[str, Callable[[], Pass], float, Callable[[IRModule], None]]] = [
    ("SimplifyInference", SimplifyInference, 1e-4, _no_inference_ops),
    ("EliminateCommonSubexpr", EliminateCommonSubexpr, 0.0, _no_common_calls),
    ("CanonicalizeOps", CanonicalizeOps, 0.0, _no_bias_add),
    ("FastMath", FastMath, 0.0, _no_slow_math),
    ("SplitArgs", lambda: SplitArgs(4), 0.0, _narrow_concats(4)),
]


@pytest.mark.parametrize(("name", "make", "rtol", "leaves"), CASES, ids=[c[0] for c in CASES])
@given(p=st.one_of(inference_nets(), programs()))
def test_pass_properties(
    name: str,
    make: Callable[[], Pass],
    rtol: float,
    leaves: Callable[[IRModule], None],
    p: Program,
) -> None:
    out = check_pass(make(), p.mod, p.inputs, rtol=rtol)
    leaves(out)
