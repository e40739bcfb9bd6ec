"""Properties of FoldConstant over generated programs, with some parameters bound to constants
so that folding has work: the same results bit for bit, types, well-formedness, idempotence,
an untouched input, and no foldable construct left."""

from __future__ import annotations

from typing import Any

import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st

from conformance.inference_nets import inference_nets
from conformance.pass_properties import check_pass, main_of
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.relay.adt import Constructor
from minitvm.relay.build_module import bind_params_by_name
from minitvm.relay.expr import Call, Constant, Expr, If, Let, RefRead, RefWrite, Tuple, TupleGetItem
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.testing.program_gen import GenConfig, Program, programs
from minitvm.relay.transform import FoldConstant


def _bind_some(draw: st.DrawFn, p: Program) -> tuple[IRModule, dict[str, npt.NDArray[Any]]]:
    """``p`` with a drawn subset of ``main``'s parameters bound to their inputs."""
    main = main_of(p.mod)
    names = [v.name_hint for v in main.params]
    bound = draw(st.sets(st.sampled_from(names))) if names else set()
    mod = p.mod.copy()
    mod["main"] = bind_params_by_name(main, {n: p.inputs[n] for n in bound})
    return mod, {n: v for n, v in p.inputs.items() if n not in bound}


@st.composite
def _bound_programs(draw: st.DrawFn) -> tuple[IRModule, dict[str, npt.NDArray[Any]]]:
    return _bind_some(draw, draw(programs()))


@st.composite
def _bound_nets(draw: st.DrawFn) -> tuple[IRModule, dict[str, npt.NDArray[Any]]]:
    return _bind_some(draw, draw(inference_nets()))


def _is_constant(e: Expr) -> bool:
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, Tuple):
            stack.extend(node.fields)
        elif not isinstance(node, Constant):
            return False
    return True


def _may_have_effect(expr: Expr) -> bool:
    """Whether evaluating ``expr`` may read or write a reference: it reads or writes one, or
    calls something other than an operator or a constructor (outside nested functions)."""
    for node in iter_post_order(expr, lambda e: not isinstance(e, Function)):
        if isinstance(node, RefRead | RefWrite):
            return True
        if isinstance(node, Call) and not isinstance(node.op, Op | Constructor):
            return True
    return False


def _foldable(node: Expr) -> bool:
    """Whether FoldConstant would still rewrite ``node`` (FOLD-1..4)."""
    if isinstance(node, Let):
        return isinstance(node.value, Constant)
    if isinstance(node, If):
        return isinstance(node.cond, Constant)
    if isinstance(node, TupleGetItem):  # the other fields are dropped: they must be pure
        fields = node.tuple_value.fields if isinstance(node.tuple_value, Tuple) else None
        return fields is not None and not any(
            _may_have_effect(f) for i, f in enumerate(fields) if i != node.index
        )
    if not isinstance(node, Call) or not isinstance(node.op, Op) or not node.args:
        return False
    definition = node.op.definition
    if definition.stateful or definition.non_computational:
        return False
    if node.op.name in ("shape_of", "ndarray_size"):
        return True  # every type is static after InferType
    return all(_is_constant(a) for a in node.args)


def _check_nothing_foldable(mod: IRModule) -> None:
    for func in mod.functions.values():
        assert isinstance(func, Function)
        expand = lambda e: not (isinstance(e, Function) and e.is_primitive())  # noqa: E731
        for node in iter_post_order(func, expand):
            assert not _foldable(node), f"left foldable: {node}"


def _check(case: tuple[IRModule, dict[str, npt.NDArray[Any]]]) -> None:
    mod, inputs = case
    out = check_pass(FoldConstant(), mod, inputs)  # exact: the same kernels compute
    _check_nothing_foldable(out)


@given(_bound_programs())
def test_fold_constant_on_generated_programs(case: tuple[IRModule, Any]) -> None:
    _check(case)


@given(_bound_nets())
def test_fold_constant_on_inference_nets(case: tuple[IRModule, Any]) -> None:
    _check(case)


@given(programs(GenConfig(allow_let=False, allow_closure=False, allow_global=False)))
def test_fully_bound_programs_fold_to_constants(p: Program) -> None:
    """With every parameter bound, a let-free program of operator calls, tuples and ifs folds
    to a constant or a tuple of constants, except for the calls FOLD-2 never folds (of
    stateful or non-computational operators, such as ``nn.dropout``, and calls without
    arguments, such as ``zeros``): only they, and what uses their results, remain."""
    mod = IRModule.from_expr(bind_params_by_name(main_of(p.mod), p.inputs))
    out = main_of(check_pass(FoldConstant(), mod, {}))
    unfolded: set[Expr] = set()
    """The nodes whose value depends on a call FOLD-2 keeps."""
    for node in iter_post_order(out.body):
        if isinstance(node, Call):
            assert isinstance(node.op, Op), node
            kept = node.op.definition.stateful or node.op.definition.non_computational
            assert kept or not node.args or any(a in unfolded for a in node.args), node
            unfolded.add(node)
        elif isinstance(node, Tuple):
            if any(f in unfolded for f in node.fields):
                unfolded.add(node)
        elif isinstance(node, TupleGetItem):
            if node.tuple_value in unfolded:
                unfolded.add(node)
        elif isinstance(node, If):
            assert node.cond in unfolded, node
            unfolded.add(node)
        else:
            assert isinstance(node, Constant | Op), node
