"""Properties of relay.optimize over inference networks and generated programs with some
parameters bound: at every opt_level the optimized module is well formed, type-checks, keeps
the types of the parameters it still takes, and computes the original results (within 1e-4:
SimplifyInference changes the arithmetic of normalizations); the input is untouched."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st

import minitvm as tvm
from conformance.helpers import assert_same_results, run_main
from conformance.inference_nets import inference_nets
from conformance.pass_properties import main_of
from minitvm import relay
from minitvm.relay.analysis import well_formed
from minitvm.relay.function import Function
from minitvm.relay.testing.program_gen import Program, programs


@given(p=st.one_of(inference_nets(), programs()), level=st.integers(0, 4), data=st.data())
def test_optimize_preserves_results(p: Program, level: int, data: st.DataObject) -> None:
    typed = relay.transform.InferType()(p.mod)
    text = typed.astext()
    want = run_main(typed, p.inputs)
    names = [v.name_hint for v in main_of(typed).params]
    bound = data.draw(st.sets(st.sampled_from(names)))
    params: dict[str, npt.NDArray[Any]] = {n: p.inputs[n] for n in bound}
    with tvm.transform.PassContext(opt_level=level):
        out, left = relay.optimize(typed, params=params)
    assert left == {}
    assert typed.astext() == text
    retyped = relay.transform.InferType()(out)
    for func in retyped.functions.values():
        assert isinstance(func, Function)
        assert well_formed(func)
    kept = {v.name_hint: v.checked_type for v in main_of(typed).params if v.name_hint not in bound}
    assert {v.name_hint: v.checked_type for v in main_of(retyped).params} == kept
    rest = {n: v for n, v in p.inputs.items() if n not in bound}
    assert_same_results(run_main(retyped, rest), want, rtol=1e-4)
