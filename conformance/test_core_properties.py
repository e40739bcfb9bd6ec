"""Properties of the core over generated programs: InferType, printing, structural equality,
and every registered pass (semantics, types, well-formedness, input untouched)."""

from __future__ import annotations

import pytest
from hypothesis import given
from typing_extensions import override

import minitvm as tvm
from conformance.helpers import assert_same_results, run_main
from minitvm import relay
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import Pass, registered_passes
from minitvm.relay.analysis import well_formed
from minitvm.relay.expr import Call, Constant, Expr, If, Let, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import ExprMutator, iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.testing.program_gen import GenConfig, Program, programs

PASS_NAMES = sorted(registered_passes())
LET_FREE = GenConfig(allow_let=False, allow_closure=False)


def _main(mod: IRModule) -> Function:
    main = mod["main"]
    assert isinstance(main, Function)
    return main


def _typed(p: Program) -> IRModule:
    return relay.transform.InferType()(p.mod)


class _Renamer(ExprMutator):
    """Replace every bound and free variable by a fresh one with another name."""

    @override
    def visit_var(self, var: Var) -> Expr:
        return relay.Var("renamed_" + var.name_hint, var.type_annotation)


def _renamed(mod: IRModule) -> IRModule:
    out = IRModule()
    for gv, func in mod.functions.items():
        assert isinstance(func, Function)
        out[gv.name_hint] = _check_fn(_Renamer().visit(func))
    return out


def _check_fn(e: Expr) -> Function:
    assert isinstance(e, Function)
    return e


@given(programs())
def test_infer_type_succeeds_and_types_every_node(p: Program) -> None:
    typed = _typed(p)
    for func in typed.functions.values():
        assert isinstance(func, Function)
        for node in iter_post_order(func):
            # Operators and global variables are shared by every use and carry no per-use
            # type (a global's type is its function's).
            assert isinstance(node, Op | GlobalVar) or node.checked_type_ is not None


@given(programs())
def test_printing_is_deterministic(p: Program) -> None:
    typed = _typed(p)
    assert typed.astext() == typed.astext()
    assert _typed(p).astext() == typed.astext()


@given(programs())
def test_structural_equality_reflexive_and_invariant_under_renaming(p: Program) -> None:
    assert tvm.ir.structural_equal(p.mod, p.mod)
    renamed = _renamed(p.mod)
    assert tvm.ir.structural_equal(p.mod, renamed)
    assert tvm.ir.structural_hash(p.mod) == tvm.ir.structural_hash(renamed)
    assert tvm.ir.structural_equal(_typed(p), relay.transform.InferType()(renamed))


def _run_pass(name: str, mod: IRModule) -> IRModule:
    p: Pass = tvm.transform.get_pass(name)
    return p(mod)


@pytest.mark.parametrize("name", PASS_NAMES)
@given(p=programs())
def test_pass_preserves_semantics_types_and_input(name: str, p: Program) -> None:
    typed = _typed(p)
    before_text = typed.astext()
    before_funcs = typed.functions
    want = run_main(typed, p.inputs)
    out = _run_pass(name, typed)
    # the input is untouched
    assert typed.functions == before_funcs
    assert typed.astext() == before_text
    # the output type-checks with the same signature and is well formed
    retyped = relay.transform.InferType()(out)
    assert _main(retyped).checked_type == _main(typed).checked_type
    for func in retyped.functions.values():
        assert isinstance(func, Function)
        assert well_formed(func)
    # and computes the same results
    assert_same_results(run_main(retyped, p.inputs), want, rtol=1e-5)


def _atomic(e: Expr) -> bool:
    return not isinstance(e, Call | Tuple | TupleGetItem | Let | If | Function | Constant)


@given(programs())
def test_anf_output_is_atomic(p: Program) -> None:
    out = relay.transform.ToANormalForm()(_typed(p))
    for func in out.functions.values():
        assert isinstance(func, Function)
        for node in iter_post_order(func):
            if isinstance(node, Call):
                assert all(_atomic(a) for a in node.args)
            elif isinstance(node, Tuple):
                assert all(_atomic(f) for f in node.fields)
            elif isinstance(node, TupleGetItem):
                assert _atomic(node.tuple_value)
            elif isinstance(node, If):
                assert _atomic(node.cond)


def _calls_stateful_op(mod: IRModule) -> bool:
    return any(
        isinstance(n, Call) and isinstance(n.op, Op) and n.op.definition.stateful
        for f in mod.functions.values()
        if isinstance(f, Function)
        for n in iter_post_order(f)
    )


@given(programs(LET_FREE))
def test_graph_normal_form_inverts_anf_on_let_free_programs(p: Program) -> None:
    typed = _typed(p)
    anf = relay.transform.ToANormalForm()(typed)
    back = relay.transform.ToGraphNormalForm()(anf)
    if _calls_stateful_op(typed):
        # GNF keeps the let of an impure value (a stateful call such as nn.dropout, GNF-2):
        # the program is then only equal in meaning, which the pass properties check.
        main = back["main"]
        assert isinstance(main, Function)
        assert any(isinstance(n, Let) for n in iter_post_order(main))
        return
    tvm.ir.assert_structural_equal(back, typed)
