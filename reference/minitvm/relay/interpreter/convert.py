"""Crossing the boundary between Python and the interpreter's values.

TVM's ``_arg_to_ast`` (``python/tvm/relay/backend/interpreter.py``) reflects Python arguments
into Relay constants, and results come back as NDArray, ``ADT`` and closure objects. Here:

* into the machine: NDArray, numpy arrays and scalars, ``Constant`` nodes, Python tuples and
  ``ADT`` (for tuple-typed parameters), ``ConstructorValue`` and ``RefValue`` objects (for ADT
  and reference parameters), closures previously returned, and Python literals
  (bool, int, float, lists). Arrays are copied, so later changes by the caller cannot reach a
  result; literals take the expected dtype when it is of the same kind (an ``int`` for an
  ``int64`` parameter), otherwise ``relay.const``'s rules. Every argument is then checked
  against its parameter's type.
* out of the machine: tensors become NDArrays (owning a copy) on the executor's device,
  tuples become ``ADT`` (tag 0), ADT values ``ConstructorValue`` and references ``RefValue``
  objects with their fields and contents converted, closures callable
  ``InterpreterClosure`` objects. Values may be 100,000 levels deep (a long list), so every
  conversion is iterative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.type import GlobalTypeVar, TensorType, Type
from minitvm.relay.builder import const
from minitvm.relay.expr import Call, Constant, Expr, RefCreate, Tuple, Var
from minitvm.relay.interpreter.machine import Machine
from minitvm.relay.interpreter.values import (
    Closure,
    ConstructorValue,
    RefValue,
    Value,
    check_value,
    map_value,
    tensor_type_of,
)
from minitvm.runtime.container import ADT
from minitvm.runtime.device import Device
from minitvm.runtime.dtype import is_bool, is_float
from minitvm.runtime.ndarray import NDArray

__all__ = [
    "ExecutorResult",
    "InterpreterClosure",
    "convert_args",
    "from_python",
    "param_type",
    "to_python",
    "value_to_expr",
]


ExecutorResult: TypeAlias = Any
"""What an executor hands back: an NDArray, an ``ADT`` or an ``InterpreterClosure``. Typed
``Any`` on purpose, as in TVM's API: callers know their program's type and call ``.numpy()``,
index or call the result directly, without narrowing a union first."""


class InterpreterClosure:
    """A Relay closure as a Python callable: positional arguments, or keyword arguments by
    parameter name. TVM returns closures as opaque objects; calling them is minitvm's
    convenience (and how ``evaluate(func)`` hands back a function)."""

    __slots__ = ("closure", "device", "machine", "name")

    def __init__(self, machine: Machine, closure: Closure, device: Device, name: str) -> None:
        self.machine = machine
        self.closure = closure
        self.device = device
        self.name = name

    def __call__(self, *args: object, **kwargs: object) -> ExecutorResult:
        mod = self.machine.mod
        type_defs = mod.type_definitions if mod is not None else None
        values = convert_args(self.closure.func.params, args, kwargs, self.name, type_defs)
        result = self.machine.apply(self.closure, values, f"call of {self.name}")
        return to_python(result, self.machine, self.device)

    @property
    def params(self) -> tuple[Var, ...]:
        return self.closure.func.params

    @override
    def __repr__(self) -> str:
        names = ", ".join(f"%{p.name_hint}" for p in self.params)
        return f"InterpreterClosure({self.name}({names}))"


def param_type(param: Var) -> Type | None:
    """A parameter's type: its annotation, else what InferType found, else unknown."""
    return param.type_annotation if param.type_annotation is not None else param.checked_type_


def convert_args(
    params: Sequence[Var],
    args: Sequence[object],
    kwargs: Mapping[str, object],
    name: str,
    type_defs: Mapping[GlobalTypeVar, TypeData] | None = None,
) -> list[Value]:
    """Match positional and keyword arguments to ``params`` and convert each (TVM's
    ``Executor._convert_args``, with errors that name the parameter)."""
    names = [p.name_hint for p in params]
    listing = ", ".join(f"%{n}" for n in names)
    if len(args) > len(params):
        raise DiagnosticError(
            f"{name}: expected {len(params)} arguments ({listing}), got {len(args)}"
        )
    for key in kwargs:
        if key not in names:
            raise DiagnosticError(f"{name}: no parameter named {key!r}; parameters: {listing}")
        if key in names[: len(args)]:
            raise DiagnosticError(f"{name}: argument %{key} given both by position and by keyword")
    slots = list(args)
    for param in params[len(args) :]:
        if param.name_hint not in kwargs:
            raise DiagnosticError(
                f"{name}: missing argument %{param.name_hint}; expected {len(params)} "
                f"arguments ({listing}), got {len(args) + len(kwargs)}"
            )
        slots.append(kwargs[param.name_hint])
    return [
        from_python(arg, param_type(p), f"{name}: argument %{p.name_hint}", type_defs)
        for arg, p in zip(slots, params, strict=True)
    ]


def from_python(
    obj: object,
    expected: Type | None,
    what: str,
    type_defs: Mapping[GlobalTypeVar, TypeData] | None = None,
) -> Value:
    """Convert a Python argument into a value and check it against ``expected``: tensors,
    tuples (Python tuples or ``ADT``), ``ConstructorValue`` and ``RefValue`` objects (fields
    and contents converted too; a reference becomes a new reference, as TVM re-creates it)."""

    def leaf(item: object, ty: Type | None) -> Value:
        value = _leaf(item, ty, what)
        if isinstance(value, np.ndarray) and tensor_type_of(value) is None:
            raise DiagnosticError(f"{what}: unsupported dtype {value.dtype}")
        return value

    def fill(ref: RefValue, contents: Value) -> None:
        ref.value = contents

    value: Value = map_value(
        obj,
        expected,
        leaf,
        tuple,
        lambda old, fields: ConstructorValue(old.tag, fields, old.constructor),
        lambda: RefValue(None),
        fill,
        lambda o: isinstance(o, tuple | ADT),
    )
    check_value(value, expected, what, type_defs)
    return value


def _leaf(obj: object, ty: Type | None, what: str) -> Value:
    if isinstance(obj, InterpreterClosure):
        return obj.closure
    if isinstance(obj, Constructor):
        return obj
    if isinstance(obj, NDArray):
        return obj.numpy()
    if isinstance(obj, np.ndarray):
        copied: Value = obj.copy()
        return copied
    if isinstance(obj, np.generic):
        scalar: Value = np.asarray(obj)
        return scalar
    if isinstance(obj, Constant):
        data: Value = np.asarray(obj.data)
        return data
    if isinstance(obj, bool | int | float | list):
        return _literal(obj, ty, what)
    raise DiagnosticError(f"{what}: cannot pass a {type(obj).__name__} to a Relay function")


def _literal(obj: bool | int | float | list[Any], ty: Type | None, what: str) -> Value:
    try:
        raw = np.array(obj)
    except ValueError as exc:
        raise DiagnosticError(f"{what}: {obj!r} is not a rectangular array ({exc})") from None
    if isinstance(ty, TensorType) and raw.dtype.kind in "biuf":
        same_kind = is_bool(ty.dtype) == (raw.dtype.kind == "b") and (
            is_float(ty.dtype) or raw.dtype.kind != "f"
        )
        if same_kind:
            converted = raw.astype(ty.dtype)
            if np.array_equal(converted, raw):
                return converted
    data: Value = np.asarray(const(obj).data)
    return data


def to_python(value: Value, machine: Machine, device: Device) -> object:
    """Convert a result: NDArray for tensors, ``ADT`` for tuples, ``ConstructorValue`` and
    ``RefValue`` with converted fields and contents, ``InterpreterClosure`` for closures."""

    def leaf(obj: object, ty: Type | None) -> object:
        if isinstance(obj, Closure):
            return InterpreterClosure(machine, obj, device, "closure")
        if isinstance(obj, Constructor):
            return obj
        return NDArray(np.array(obj), device)

    def fill(ref: RefValue, contents: object) -> None:
        ref.value = contents

    return map_value(
        value,
        None,
        leaf,
        lambda fields: ADT(0, fields),
        lambda old, fields: ConstructorValue(old.tag, fields, old.constructor),
        lambda: RefValue(None),
        fill,
    )


class _PendingRef:
    """A reference being turned into ``ref(contents)``; its contents come later."""

    __slots__ = ("contents",)

    def __init__(self) -> None:
        self.contents: Expr | None = None


def value_to_expr(value: Value, what: str) -> Expr:
    """A value as a Relay expression: Constants, Tuples, constructor calls and ``ref(...)``
    (TVM's ``_arg_to_ast``). A reference whose contents reach back to it cannot be written."""

    def resolve(item: Expr | _PendingRef) -> Expr:
        if isinstance(item, _PendingRef):
            if item.contents is None:
                raise DiagnosticError(
                    f"{what}: a cyclic reference cannot be turned into an expression"
                )
            return RefCreate(item.contents)
        return item

    def leaf(obj: object, ty: Type | None) -> Expr:
        if isinstance(obj, Closure):
            raise DiagnosticError(f"{what}: a closure cannot be turned into a constant")
        if isinstance(obj, Constructor):
            return obj
        return Constant(NDArray(np.array(obj)))

    def fill(ref: _PendingRef, contents: Expr | _PendingRef) -> None:
        ref.contents = resolve(contents)

    return resolve(
        map_value(
            value,
            None,
            leaf,
            lambda fields: Tuple([resolve(f) for f in fields]),
            lambda old, fields: Call(old.constructor, [resolve(f) for f in fields]),
            _PendingRef,
            fill,
        )
    )
