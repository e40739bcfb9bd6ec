"""Samplers of valid and invalid calls of every built-in operator.

``SAMPLERS`` maps each operator registered through ``define_op`` to an ``OpSampler``
(``relay/testing/samplers/*``): hypothesis strategies of valid calls (argument types, attrs,
and value domains that keep every result finite: positive inputs for ``log``, ``|x| < 1`` for
``atanh``, divisors away from zero...) and of invalid ones, which the operator's relation must
reject with DiagnosticError. Besides each sampler's own invalid calls, every operator gets
generic ones derived from a valid call: a tensor argument passed as a tuple (or a tuple as a
tensor), one argument too many or too few, attrs of a foreign type, and a dtype outside the
sampler's ``accepts``.

``function_of`` builds a call into a function of fresh variables (constants for fixed
arguments) and ``inputs_of`` draws values for them, so property suites and program generators
share one description of each operator. ``check_valid_call`` and ``check_invalid_call`` are the
properties every operator has (SPEC OP-41).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.builder import const, var
from minitvm.relay.expr import Call, Expr, Tuple, Var
from minitvm.relay.function import Function
from minitvm.relay.interpreter.executor import create_executor
from minitvm.relay.testing.samplers import (
    conv_pool,
    create,
    elemwise,
    index,
    nn,
    nn_transform,
    reduce,
    transform,
)
from minitvm.relay.testing.samplers.base import ALL, Arg, Hint, OpCall, OpSampler, SampleFn
from minitvm.relay.transform.type_infer import InferType
from minitvm.runtime.container import ADT
from minitvm.runtime.ndarray import NDArray

__all__ = [
    "SAMPLERS",
    "Arg",
    "OpCall",
    "OpSampler",
    "check_invalid_call",
    "check_valid_call",
    "function_of",
    "inputs_of",
    "invalid_calls",
    "missing_samplers",
    "sampler_for",
    "tensor_value",
    "valid_calls",
]


def _merge(*tables: Mapping[str, OpSampler]) -> Mapping[str, OpSampler]:
    merged: dict[str, OpSampler] = {}
    for table in tables:
        for name, sampler in table.items():
            if name in merged:
                raise ValueError(f"two samplers for operator {name!r}")
            merged[name] = sampler
    return MappingProxyType(merged)


SAMPLERS: Mapping[str, OpSampler] = _merge(
    elemwise.SAMPLERS,
    reduce.SAMPLERS,
    transform.SAMPLERS,
    create.SAMPLERS,
    index.SAMPLERS,
    nn.SAMPLERS,
    nn_transform.SAMPLERS,
    conv_pool.SAMPLERS,
)


def missing_samplers(names: Sequence[str]) -> list[str]:
    """The operators among ``names`` that have no sampler."""
    return [n for n in names if n not in SAMPLERS]


def sampler_for(name: str) -> OpSampler:
    sampler = SAMPLERS.get(name)
    if sampler is None:
        raise LookupError(
            f"operator {name!r} has no sampler: add one to minitvm.relay.testing.samplers"
        )
    return sampler


@st.composite
def _drawn(draw: st.DrawFn, fn: SampleFn, hint: Hint) -> OpCall:
    return fn(draw, hint)


def valid_calls(name: str, hint: Hint = None) -> st.SearchStrategy[OpCall]:
    """Valid calls of ``name``; the first argument has ``hint``'s type when the operator
    allows it."""
    return _drawn(sampler_for(name).valid, hint)


def invalid_calls(name: str) -> st.SearchStrategy[OpCall]:
    """Calls of ``name`` its relation must reject with DiagnosticError."""
    sampler = sampler_for(name)
    own = [_drawn(fn, None) for fn in sampler.invalid]
    return st.one_of(*own, _mutants(sampler, valid_calls(name)))


# --- generic invalid calls ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ForeignAttrs(Attrs):
    """Attrs of a type no operator declares."""


def _wrong_kind(draw: st.DrawFn, call: OpCall) -> OpCall:
    """A tensor argument passed as a 1-tuple, or a tuple argument as its first field."""
    i = draw(st.integers(0, len(call.args) - 1))
    ty = call.args[i].type
    if isinstance(ty, TupleType):
        first = ty.fields[0] if ty.fields else TensorType((), "float32")
        assert isinstance(first, TensorType)
        return call.replace(i, Arg(first))
    return call.replace(i, Arg(TupleType([ty])))


def _wrong_arity(draw: st.DrawFn, call: OpCall) -> OpCall:
    drop: bool = draw(st.booleans())
    if call.args and drop:
        return OpCall(call.op, call.args[:-1], call.attrs)
    return OpCall(call.op, (*call.args, Arg(TensorType((), "float32"))), call.attrs)


def _wrong_dtype(draw: st.DrawFn, call: OpCall, accepts: tuple[str, ...]) -> OpCall:
    """The first tensor argument with a dtype the operator does not accept."""
    first = call.args[0].type
    assert isinstance(first, TensorType)
    dtype = draw(st.sampled_from([d for d in ALL if d not in accepts]))
    return call.replace(0, Arg(TensorType(first.shape, dtype)))


def _mutants(sampler: OpSampler, valid: st.SearchStrategy[OpCall]) -> st.SearchStrategy[OpCall]:
    @st.composite
    def mutate(draw: st.DrawFn) -> OpCall:
        call = draw(valid)
        kinds = ["arity"]
        if call.args and not sampler.any_kind:
            kinds.append("kind")
        if Op.get(call.op).definition.attrs_type is not None:
            kinds.append("attrs")
        if set(ALL) - set(sampler.accepts) and call.args:
            kinds.append("dtype")
        kind = draw(st.sampled_from(kinds))
        if kind == "arity":
            return _wrong_arity(draw, call)
        if kind == "kind":
            return _wrong_kind(draw, call)
        if kind == "attrs":
            return OpCall(call.op, call.args, _ForeignAttrs())
        return _wrong_dtype(draw, call, sampler.accepts)

    return mutate()


# --- functions and inputs -----------------------------------------------------------------------


def function_of(call: OpCall) -> Function:
    """``fn(params) { op(args) }``: a parameter per tensor (tuple arguments are built from
    one parameter per field), a constant per fixed argument."""
    params: list[Var] = []
    args: list[Expr] = []
    for i, arg in enumerate(call.args):
        if arg.value is not None:
            args.append(const(arg.value, dtype=str(arg.value.dtype)))
        elif isinstance(arg.type, TupleType):
            fields = [var(f"a{i}_{j}", f) for j, f in enumerate(arg.type.fields)]
            params.extend(fields)
            args.append(Tuple(fields))
        else:
            p = var(f"a{i}", arg.type)
            params.append(p)
            args.append(p)
    return Function(params, Call(Op.get(call.op), args, call.attrs))


def tensor_value(ty: TensorType, arg: Arg, rng: np.random.Generator) -> npt.NDArray[Any]:
    """Random values of type ``ty`` in ``arg``'s domain."""
    if ty.dtype == "bool":
        return rng.integers(0, 2, ty.shape).astype(bool)
    lo, hi = arg.bounds(ty.dtype)
    sign = rng.choice([-1, 1], ty.shape) if arg.nonzero else np.ones(ty.shape, np.int64)
    if ty.dtype.startswith("float"):
        return (rng.uniform(lo, hi, ty.shape) * sign).astype(ty.dtype)
    info = np.iinfo(ty.dtype)
    lo_i = max(int(np.ceil(lo)), int(info.min), 1 if arg.nonzero else int(info.min))
    hi_i = min(int(np.floor(hi)), int(info.max))
    values = rng.integers(lo_i, max(lo_i, hi_i), ty.shape, endpoint=True)
    if info.min < 0:
        values = values * sign
    return values.astype(ty.dtype)


def inputs_of(call: OpCall, rng: np.random.Generator) -> list[npt.NDArray[Any]]:
    """Values for ``function_of(call)``'s parameters, in order."""
    out: list[npt.NDArray[Any]] = []
    for arg in call.args:
        if arg.value is not None:
            continue
        fields = arg.type.fields if isinstance(arg.type, TupleType) else (arg.type,)
        for f in fields:
            assert isinstance(f, TensorType)
            out.append(tensor_value(f, arg, rng))
    return out


# --- the properties -------------------------------------------------------------------------------


def _fail(call: OpCall, message: str) -> AssertionError:
    return AssertionError(f"{call.op}: {message} ({call})")


def _tensors(call: OpCall, value: object, ty: Type) -> list[npt.NDArray[Any]]:
    """The tensors of ``value``, checked to have exactly the structure and types of ``ty``."""
    if isinstance(ty, TupleType):
        if not isinstance(value, ADT) or len(value.fields) != len(ty.fields):
            raise _fail(call, f"the result {value!r} is not a tuple of type {ty}")
        return [
            a for v, t in zip(value.fields, ty.fields, strict=True) for a in _tensors(call, v, t)
        ]
    if not isinstance(ty, TensorType) or not isinstance(value, NDArray):
        raise _fail(call, f"the result {value!r} is not a tensor of type {ty}")
    array = value.numpy()
    if array.shape != ty.shape or str(array.dtype) != ty.dtype:
        raise _fail(call, f"the kernel gives {array.shape} {array.dtype}, InferType {ty}")
    return [array]


def _all_float_in_unit(call: OpCall) -> bool:
    for arg in call.args:
        fields = arg.type.fields if isinstance(arg.type, TupleType) else (arg.type,)
        if not all(isinstance(f, TensorType) and f.dtype.startswith("float") for f in fields):
            return False
    return all(arg.in_unit() for arg in call.args)


def check_valid_call(call: OpCall, rng: np.random.Generator) -> Type:
    """InferType types the call; the interpreter, on inputs from the domains, returns exactly
    that type, with finite floats (within [-1, 1] where the sampler promises it). Returns the
    type; raises AssertionError on a violation."""
    typed = InferType()(IRModule.from_expr(function_of(call)))
    main = typed["main"]
    assert isinstance(main, Function)
    out_type = main.body.checked_type
    value = create_executor("debug", mod=typed).evaluate()(*inputs_of(call, rng))
    floats = [a for a in _tensors(call, value, out_type) if a.dtype.kind == "f"]
    if not all(np.isfinite(a).all() for a in floats):
        raise _fail(call, "a float result is not finite on inputs in the domains")
    bounded = sampler_for(call.op).bounded and _all_float_in_unit(call)
    if bounded and any(np.abs(a.astype("float64")).max(initial=0) > 1 + 1e-3 for a in floats):
        raise _fail(call, "a result of a bounded operator leaves [-1, 1]")
    return out_type


def check_invalid_call(call: OpCall) -> DiagnosticError:
    """InferType rejects the call with DiagnosticError (any other exception propagates)."""
    try:
        InferType()(IRModule.from_expr(function_of(call)))
    except DiagnosticError as err:
        return err
    raise _fail(call, "InferType accepts an invalid call")
