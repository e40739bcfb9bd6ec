"""OPREG: the operator registry, TVM's custom-operator API and ``define_op``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError, InternalError, TVMError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import Op, OpDef, OpPattern, list_op_names
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.op.define import Value, define_op, defined_op_names
from spec.op_helpers import tt


@pytest.mark.spec("OPREG-1")
def test_op_pattern_values_are_tvms() -> None:
    assert [int(p) for p in OpPattern] == [0, 1, 2, 3, 4, 7, 8]
    assert int(relay.op.OpPattern.ELEMWISE) == 0
    assert int(relay.op.op.OpPattern.OPAQUE) == 8
    assert int(OpPattern.OUT_ELEMWISE_FUSABLE) == 4


@pytest.mark.spec("OPREG-1")
def test_op_get_is_interned_and_carries_one_record() -> None:
    add = Op.get("add")
    assert add is Op.get("add") is relay.op.get("add") is relay.op.op.get("add")
    d = add.definition
    assert isinstance(d, OpDef)
    assert (d.name, d.num_inputs, d.pattern, d.stateful) == ("add", 2, OpPattern.BROADCAST, False)
    assert d.type_rel is not None
    assert d.kernel is not None
    assert add.get_attr("TOpPattern") == 1
    assert add.get_attr("TOpIsStateful") is False
    assert "add" in list_op_names()


@pytest.mark.spec("OPREG-1")
def test_unknown_op_raises_tvm_error() -> None:
    with pytest.raises(TVMError, match="no_such_op"):
        Op.get("no_such_op")
    with pytest.raises(tvm.error.TVMError):
        relay.op.op.get("no_such_op")


@pytest.mark.spec("OPREG-2")
def test_registering_twice_raises() -> None:
    with pytest.raises(TVMError, match="already registered"):
        relay.op.op.register("add")
    relay.op.op.register("spec_opreg_twice")
    with pytest.raises(TVMError):
        relay.op.op.register("spec_opreg_twice")


@pytest.mark.spec("OPREG-2")
def test_custom_op_with_builtin_relations() -> None:
    relay.op.op.register("spec_opreg_custom_log", "log, but custom")
    op = relay.op.op.get("spec_opreg_custom_log")
    op.set_num_inputs(1)
    op.add_argument("data_0", "Tensor", "The input data tensor.")
    op.set_attrs_type_key("DictAttrs")
    op.add_type_rel("Identity")
    op.set_support_level(1)
    relay.op.op.register_pattern("spec_opreg_custom_log", relay.op.op.OpPattern.ELEMWISE)
    relay.op.op.register_stateful("spec_opreg_custom_log", False)
    d = Op.get("spec_opreg_custom_log").definition
    assert d.num_inputs == 1
    assert d.arguments == (("data_0", "Tensor", "The input data tensor."),)
    assert d.pattern == OpPattern.ELEMWISE
    assert not d.stateful
    assert d.support_level == 1
    assert d.description == "log, but custom"
    assert d.type_rel is not None
    assert d.type_rel([tt((10, 10))], None) == tt((10, 10))

    relay.op.op.register("spec_opreg_custom_add")
    add = relay.op.op.get("spec_opreg_custom_add")
    add.set_num_inputs(2)
    add.add_type_rel("Broadcast")
    rel = add.definition.type_rel
    assert rel is not None
    assert rel([tt((10, 4)), tt((5, 10, 1))], None) == tt((5, 10, 4))
    with pytest.raises(TVMError, match="unknown type relation"):
        add.add_type_rel("NoSuchRel")


@pytest.mark.spec("OPREG-2")
def test_python_relation_and_its_exceptions_propagate() -> None:
    seen: list[object] = []

    def rel(arg_types: list[Type], attrs: object) -> Type:
        seen.append(attrs)
        assert len(arg_types) == 2, "two arguments"
        return TupleType(list(arg_types))

    relay.op.op.register("spec_opreg_pyrel")
    op = relay.op.op.get("spec_opreg_pyrel")
    op.add_type_rel("spec_opreg_pyrel", rel)
    type_rel = op.definition.type_rel
    assert type_rel is not None
    assert type_rel([tt((1,)), tt((2,))], None) == TupleType([tt((1,)), tt((2,))])
    assert seen == [None]
    with pytest.raises(AssertionError, match="two arguments"):
        type_rel([tt((1,))], None)
    relay.op.op.register_stateful("spec_opreg_pyrel", True)
    assert op.get_attr("TOpIsStateful") is True


@dataclass(frozen=True, slots=True)
class _ScaleAttrs(Attrs):
    factor: int = 2


@dataclass(frozen=True, slots=True)
class _OtherAttrs(Attrs):
    factor: int = 2


def _scale_rel(arg_types: list[Type], attrs: _ScaleAttrs) -> Type:
    ty = arg_types[0]
    if not isinstance(ty, TensorType):
        raise DiagnosticError(f"expected a tensor, got {ty}")
    return ty


def _scale_kernel(attrs: _ScaleAttrs, args: list[Value], out_type: Type) -> Value:
    x = args[0]
    assert isinstance(x, np.ndarray)
    return x * attrs.factor


def _bad_kernel(attrs: _ScaleAttrs, args: list[Value], out_type: Type) -> Value:
    return np.zeros((7,), "int8")


@pytest.mark.spec("OPREG-3")
def test_define_op_checks_arity_attrs_and_names_the_op() -> None:
    define_op(
        "spec_opreg_scale", _scale_rel, _scale_kernel, attrs_type=_ScaleAttrs, support_level=3
    )
    d = Op.get("spec_opreg_scale").definition
    assert d.type_rel is not None
    assert d.kernel is not None
    # A call without attrs behaves as one with the defaults.
    assert d.type_rel([tt((3,))], None) == tt((3,))
    x = np.array([1.0, 2.0, 3.0], "float32")
    np.testing.assert_array_equal(d.kernel(None, [x], tt((3,))), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(d.kernel(_ScaleAttrs(3), [x], tt((3,))), [3.0, 6.0, 9.0])
    with pytest.raises(DiagnosticError, match=r"^spec_opreg_scale: expected 1 argument"):
        d.type_rel([tt((3,)), tt((3,))], None)
    with pytest.raises(DiagnosticError, match=r"spec_opreg_scale: expected attributes of type"):
        d.type_rel([tt((3,))], _OtherAttrs())
    with pytest.raises(DiagnosticError, match=r"^spec_opreg_scale: expected a tensor, got"):
        d.type_rel([TupleType([])], None)


@pytest.mark.spec("OPREG-3")
def test_define_op_checks_kernel_results_against_the_relation() -> None:
    define_op("spec_opreg_bad", _scale_rel, _bad_kernel, attrs_type=_ScaleAttrs)
    kernel = Op.get("spec_opreg_bad").definition.kernel
    assert kernel is not None
    with pytest.raises(InternalError, match="spec_opreg_bad"):
        kernel(None, [np.zeros((3,), "float32")], tt((3,)))


@pytest.mark.spec("OPREG-3")
def test_every_builtin_op_is_complete() -> None:
    names = [n for n in defined_op_names() if not n.startswith("spec_")]
    assert len(names) > 60
    for name in names:
        d = Op.get(name).definition
        assert d.type_rel is not None, name
        assert d.kernel is not None, name
        assert d.num_inputs >= 0, name
