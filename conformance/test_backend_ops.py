"""Every operator with a TE compute, compiled by the numba backend (relay.build and the graph
executor), gives the interpreter's results: exactly for integers and bool, within the float
tolerance of ``minitvm.testing`` otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import minitvm as tvm
from conformance.backend_cases import BACKEND_CASES
from conformance.test_topi_relay import Builder, Spec, _values
from minitvm import relay
from minitvm.ir.op import Op, get_op_def, list_op_names
from minitvm.relay.expr_functor import iter_post_order
from minitvm.testing import GraphBackend, InterpreterBackend, assert_results_match

Array = npt.NDArray[Any]


def _module(build: Builder, specs: list[Spec]) -> tuple[tvm.IRModule, list[relay.Var]]:
    params = [relay.var(f"v{i}", shape=s, dtype=d) for i, (s, d) in enumerate(specs)]
    out = build(*params)
    body = out.astuple() if isinstance(out, relay.TupleWrapper) else out
    return tvm.IRModule.from_expr(relay.Function(params, body)), params


def _inputs(name: str, specs: list[Spec], kind: str) -> list[Array]:
    rng = np.random.default_rng(len(name))
    values = _values(specs, rng, "normal" if kind == "shift" else kind)
    if kind == "shift":
        values[1] = rng.integers(0, 9, specs[1][0]).astype(specs[1][1])
    return values


@pytest.mark.parametrize(
    ("name", "build", "specs", "kind"), BACKEND_CASES, ids=[c[0] for c in BACKEND_CASES]
)
def test_operator_compiled_equals_interpreter(
    name: str, build: Builder, specs: list[Spec], kind: str
) -> None:
    mod, params = _module(build, specs)
    inputs = dict(zip([p.name_hint for p in params], _inputs(name, specs, kind), strict=True))
    want = InterpreterBackend().run(mod, inputs)
    assert_results_match(GraphBackend().run(mod, inputs), want, name)


def test_every_operator_with_a_compute_has_a_case() -> None:
    covered: set[str] = set()
    for _, build, specs, _ in BACKEND_CASES:
        mod, _ = _module(build, specs)
        main = mod["main"]
        assert isinstance(main, relay.Function)
        for node in iter_post_order(main.body):
            if isinstance(node, relay.Call) and isinstance(node.op, Op):
                covered.add(node.op.name)
    with_compute = {n for n in list_op_names() if get_op_def(n).get_extra("FTVMCompute")}
    assert not with_compute - covered, sorted(with_compute - covered)
