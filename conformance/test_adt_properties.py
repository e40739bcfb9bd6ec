"""Properties over generated programs with mutable references, ADT values and matches:
InferType, structural equality under renaming, and every registered pass (semantics, types,
well-formedness, input untouched)."""

from __future__ import annotations

import pytest
from hypothesis import given

import minitvm as tvm
from conformance.helpers import assert_same_results, run_main
from conformance.test_core_properties import _main, _renamed, _typed
from minitvm import relay
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.ir.transform import registered_passes
from minitvm.relay.adt import Constructor
from minitvm.relay.analysis import well_formed
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.testing.program_gen import GenConfig, Program, programs

EFFECTS = GenConfig(allow_refs=True, allow_adts=True)
PASS_NAMES = sorted(registered_passes())


@given(programs(EFFECTS))
def test_infer_type_types_every_node(p: Program) -> None:
    typed = _typed(p)
    for func in typed.functions.values():
        assert isinstance(func, Function)
        for node in iter_post_order(func):
            assert isinstance(node, Op | GlobalVar | Constructor) or node.checked_type_ is not None


@given(programs(EFFECTS))
def test_structural_equality_invariant_under_renaming(p: Program) -> None:
    renamed = _renamed(p.mod)
    for gtv, data in p.mod.type_definitions.items():
        renamed[gtv] = data
    assert tvm.ir.structural_equal(p.mod, renamed)
    assert tvm.ir.structural_hash(p.mod) == tvm.ir.structural_hash(renamed)


@pytest.mark.parametrize("name", PASS_NAMES)
@given(p=programs(EFFECTS))
def test_pass_preserves_semantics_types_and_input(name: str, p: Program) -> None:
    typed = _typed(p)
    before_text = typed.astext()
    want = run_main(typed, p.inputs)
    out = tvm.transform.get_pass(name)(typed)
    assert typed.astext() == before_text
    retyped = relay.transform.InferType()(out)
    assert _main(retyped).checked_type == _main(typed).checked_type
    for func in retyped.functions.values():
        assert isinstance(func, Function)
        assert well_formed(func)
    assert_same_results(run_main(retyped, p.inputs), want, rtol=1e-5)
