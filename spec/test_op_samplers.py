"""OP-40..42: the operator samplers, the properties every operator has, and the program
generator drawing from the whole operator set."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from minitvm import relay
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType
from minitvm.relay.expr import Call
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.op.define import define_op, defined_op_names
from minitvm.relay.op.defs.conv import Conv2DAttrs
from minitvm.relay.testing.op_samplers import (
    SAMPLERS,
    Arg,
    OpCall,
    check_invalid_call,
    check_valid_call,
    invalid_calls,
    missing_samplers,
    sampler_for,
    valid_calls,
)
from minitvm.relay.testing.program_gen import OP_SPECS, GenConfig, Program, programs
from minitvm.relay.testing.samplers.base import FLOATS, SIGNED, UNSIGNED
from minitvm.runtime.container import ADT
from minitvm.runtime.ndarray import NDArray
from spec.op_helpers import tt

# Operators the spec tests define for themselves are named ``spec_...``.
BUILTIN = [n for n in defined_op_names() if not n.startswith("spec_")]
# ``find`` without shrinking: any example satisfying the condition will do.
FIND = settings(database=None, derandomize=True, max_examples=2000, phases=[Phase.generate])
KINDS = {"signed": SIGNED, "unsigned": UNSIGNED, "float": FLOATS, "bool": ("bool",)}


def _first_dtype(call: OpCall) -> str:
    """The dtype of the first tensor argument, or of the result of an operator without any."""
    for arg in call.args:
        fields = arg.type.fields if isinstance(arg.type, TupleType) else (arg.type,)
        for f in fields:
            assert isinstance(f, TensorType)
            return f.dtype
    rel = Op.get(call.op).definition.type_rel
    assert rel is not None
    out = rel([], call.attrs)
    assert isinstance(out, TensorType)
    return out.dtype


@pytest.mark.spec("OP-40")
def test_every_registered_operator_has_one_sampler() -> None:
    assert len(BUILTIN) >= 160
    assert missing_samplers(BUILTIN) == []
    assert sorted(set(SAMPLERS) - set(BUILTIN)) == []


@pytest.mark.spec("OP-40")
def test_an_operator_without_sampler_is_reported() -> None:
    def rel(arg_types: list[relay.Type], attrs: None) -> relay.Type:
        return arg_types[0]

    define_op("spec_opconf.unsampled", rel)
    assert missing_samplers(defined_op_names()) == ["spec_opconf.unsampled"]
    with pytest.raises(LookupError, match=r"spec_opconf\.unsampled"):
        sampler_for("spec_opconf.unsampled")


@pytest.mark.spec("OP-40")
def test_valid_calls_reach_every_accepted_dtype_kind() -> None:
    # A hint asks for a dtype; each sampler honours it when the operator takes that dtype.
    for name in BUILTIN:
        accepts = sampler_for(name).accepts
        for dtypes in KINDS.values():
            wanted = [d for d in dtypes if d in accepts]
            if not wanted:
                continue

            def of_kind(c: OpCall, kind: tuple[str, ...] = dtypes) -> bool:
                return _first_dtype(c) in kind

            hint = tt((2, 3), wanted[0])
            call = find(valid_calls(name, hint), of_kind, settings=FIND)
            assert _first_dtype(call) in accepts, (name, call)


@pytest.mark.spec("OP-40")
def test_generic_invalid_calls() -> None:
    def has_tuple(c: OpCall) -> bool:
        return any(isinstance(a.type, TupleType) for a in c.args)

    def has_bool(c: OpCall) -> bool:
        return any(isinstance(a.type, TensorType) and a.type.dtype == "bool" for a in c.args)

    mutants = [
        find(invalid_calls("add"), has_tuple, settings=FIND),
        find(invalid_calls("add"), lambda c: len(c.args) != 2, settings=FIND),
        find(invalid_calls("nn.softmax"), has_bool, settings=FIND),
        find(
            invalid_calls("nn.conv2d"),
            lambda c: c.attrs is not None and not isinstance(c.attrs, Conv2DAttrs),
            settings=FIND,
        ),
    ]
    for call in mutants:
        assert call.op in str(check_invalid_call(call))


# --- OP-41 ---------------------------------------------------------------------------------------


@pytest.mark.spec("OP-41")
def test_a_conv2d_call_agrees_with_its_kernel() -> None:
    call = OpCall(
        "nn.conv2d",
        (Arg(tt((1, 4, 5, 5))), Arg(tt((6, 2, 3, 3)))),
        Conv2DAttrs(strides=(2, 1), padding=(1, 0, 1, 0), groups=2),
    )
    assert check_valid_call(call, np.random.default_rng(0)) == tt((1, 6, 3, 3))


@pytest.mark.spec("OP-41")
def test_the_checks_catch_violations() -> None:
    # log outside its domain gives NaN; a valid call offered as invalid is accepted.
    log_call = OpCall("log", (Arg(tt((4,)), -1.0, -0.5),))
    with pytest.raises(AssertionError, match="not finite"):
        check_valid_call(log_call, np.random.default_rng(0))
    with pytest.raises(AssertionError, match="accepts an invalid call"):
        check_invalid_call(OpCall("add", (Arg(tt((2, 3))), Arg(tt((3,))))))
    err = check_invalid_call(OpCall("add", (Arg(tt((2, 3))), Arg(tt((2,))))))
    assert "not broadcastable" in str(err)


@pytest.mark.spec("OP-41")
@settings(max_examples=2, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_operator_on_a_few_calls(data: st.DataObject) -> None:
    for name in BUILTIN:
        call = data.draw(valid_calls(name), label=name)
        check_valid_call(call, np.random.default_rng(0))
        check_invalid_call(data.draw(invalid_calls(name), label=f"{name} (invalid)"))


# --- OP-42 ---------------------------------------------------------------------------------------


def _op_names(p: Program) -> set[str]:
    names: set[str] = set()
    for func in p.mod.functions.values():
        assert isinstance(func, Function)
        for node in iter_post_order(func):
            if isinstance(node, Call) and isinstance(node.op, Op):
                names.add(node.op.name)
    return names


@pytest.mark.spec("OP-42")
def test_programs_draw_from_every_sampled_operator() -> None:
    assert {s.name for s in OP_SPECS} == set(SAMPLERS)
    seen: set[str] = set()

    @settings(max_examples=40)
    @given(programs())
    def collect(p: Program) -> None:
        seen.update(_op_names(p))

    collect()
    assert len(seen & set(SAMPLERS)) >= 40  # the former generator had 12


DOMAIN_OPS = ("log", "rsqrt", "sqrt", "acosh", "atanh", "asin", "divide", "power", "nn.lrn")


@pytest.mark.spec("OP-42")
@settings(max_examples=25)
@given(programs(GenConfig(ops=DOMAIN_OPS, max_steps=6)))
def test_guarded_arguments_keep_results_finite(p: Program) -> None:
    typed = relay.transform.InferType()(p.mod)
    value = relay.create_executor("debug", mod=typed).evaluate()(**p.inputs)
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, ADT):
            stack.extend(v.fields)
        else:
            assert isinstance(v, NDArray)
            a = v.numpy()
            assert a.dtype.kind != "f" or np.isfinite(a).all()
