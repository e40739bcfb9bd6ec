"""``define_op``: one call that registers a built-in operator's complete record.

TVM spreads an operator over a C++ ``RELAY_REGISTER_OP`` block (arity, type relation,
pattern, statefulness) and Python registrations (compute, schedule). Here one call builds the
``OpDef`` and wraps the relation and the numpy kernel with the checks every operator needs,
so the per-operator code holds only what is particular to it:

- the relation gets exactly ``num_inputs`` argument types and attrs of the declared type
  (a call without attrs gets the attrs type's defaults), and any DiagnosticError it raises is
  prefixed with the operator's name;
- the kernel runs with numpy's floating-point warnings silenced (TVM's semantics are the IEEE
  results: ``1/0`` is ``inf``, integer overflow wraps), and its result is checked against
  the output type the relation computed, so relation and kernel cannot silently disagree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, TypeVar

import numpy as np
import numpy.typing as npt

from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import Op, OpDef, OpPattern, register_op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.expr import Call, Expr, Tuple

__all__ = [
    "Array",
    "make_call",
    "tuple_expr",
    "Value",
    "define_op",
    "defined_op_names",
    "resolve_attrs",
    "tensor_type",
    "tensor_value",
    "tuple_value",
]

Array: TypeAlias = npt.NDArray[Any]
"""A runtime tensor value: a numpy array of any supported dtype."""

Value: TypeAlias = "Array | tuple[Value, ...]"
"""A runtime value an operator consumes or produces: a tensor or a tuple of values."""

A = TypeVar("A")

_DEFINED: list[str] = []


def defined_op_names() -> list[str]:
    """The operators registered through ``define_op``, in registration order."""
    return list(_DEFINED)


def tensor_value(value: Value) -> Array:
    """A kernel argument the relation has checked to be a tensor."""
    if not isinstance(value, np.ndarray):
        raise InternalError(f"expected a tensor value, got {type(value).__name__}")
    return value


def tensor_type(ty: Type) -> TensorType:
    """A type the relation has made a tensor type (a kernel's ``out_type``)."""
    if not isinstance(ty, TensorType):
        raise InternalError(f"expected a tensor type, got {ty}")
    return ty


def tuple_value(value: Value) -> list[Array]:
    """A kernel argument the relation has checked to be a tuple of tensors."""
    if not isinstance(value, tuple):
        raise InternalError(f"expected a tuple value, got {type(value).__name__}")
    return [tensor_value(v) for v in value]


def resolve_attrs(op_name: str, attrs_type: type[Attrs] | None, attrs: object) -> Any:
    """The attrs an operator's relation and kernel see.

    A call built without attrs (``Call(op, args)``) behaves as one with every field at its
    default; an attrs object of another type is a user error.
    """
    if attrs_type is None:
        return None
    if attrs is None:
        try:
            return attrs_type()
        except TypeError:
            required = [
                f.name
                for f in dataclasses.fields(attrs_type)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            ]
            raise DiagnosticError(
                f"{op_name}: the call has no attributes but {attrs_type.__name__} "
                f"requires {', '.join(required)}"
            ) from None
    if not isinstance(attrs, attrs_type):
        raise DiagnosticError(
            f"{op_name}: expected attributes of type {attrs_type.__name__}, "
            f"got {type(attrs).__name__}"
        )
    return attrs


def _check_value(op_name: str, value: object, ty: Type, where: str) -> None:
    """Raise InternalError unless ``value`` has exactly the type ``ty`` (a kernel bug)."""
    if isinstance(ty, TupleType):
        if not isinstance(value, tuple) or len(value) != len(ty.fields):
            raise InternalError(f"{op_name}: kernel returned {type(value).__name__} for {ty}")
        for i, (v, t) in enumerate(zip(value, ty.fields, strict=True)):
            _check_value(op_name, v, t, f"{where}.{i}")
        return
    if not isinstance(ty, TensorType) or not isinstance(value, np.ndarray):
        raise InternalError(f"{op_name}: kernel returned {type(value).__name__} for {ty}")
    if value.shape != ty.shape or str(value.dtype) != ty.dtype:
        raise InternalError(
            f"{op_name}: kernel result{where} has shape {value.shape} and dtype {value.dtype}, "
            f"but the type relation says {ty}"
        )


def _as_arrays(value: object) -> object:
    """numpy returns scalars for rank-0 results; values are always arrays."""
    if isinstance(value, tuple):
        return tuple(_as_arrays(v) for v in value)
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


def _flat_arrays(value: object) -> list[Array]:
    if isinstance(value, tuple):
        return [a for v in value for a in _flat_arrays(v)]
    return [value] if isinstance(value, np.ndarray) else []


def _unshare(result: Any, args: list[Any]) -> Any:
    """Copy any result array that may alias an argument (a view from ``reshape`` or
    ``broadcast_to``): a value's memory belongs to that value alone."""
    inputs = _flat_arrays(tuple(args))
    if isinstance(result, tuple):
        return tuple(_unshare(r, args) for r in result)
    if any(np.may_share_memory(result, a) for a in inputs) or not result.flags.writeable:
        return result.copy()
    return result


def define_op(
    name: str,
    rel: Callable[[list[Type], A], Type],
    kernel: Callable[[A, list[Value], Type], Value] | None = None,
    *,
    attrs_type: type[Attrs] | None = None,
    num_inputs: int = 1,
    pattern: OpPattern = OpPattern.OPAQUE,
    stateful: bool = False,
    reshape_only: bool = False,
    non_computational: bool = False,
    arguments: Sequence[tuple[str, str, str]] = (),
    support_level: int = 1,
    description: str = "",
) -> Op:
    """Register the built-in operator ``name`` (TVM's ``RELAY_REGISTER_OP`` block)."""

    def relation(arg_types: list[Type], attrs: object) -> Type:
        if len(arg_types) != num_inputs:
            raise DiagnosticError(
                f"{name}: expected {num_inputs} argument(s), got {len(arg_types)}"
            )
        resolved = resolve_attrs(name, attrs_type, attrs)
        try:
            return rel(list(arg_types), resolved)
        except DiagnosticError as err:
            if err.message.startswith(name + ":"):
                raise
            raise DiagnosticError(f"{name}: {err.message}", err.path) from None

    def run(attrs: object, args: list[Any], out_type: Type) -> Any:
        if kernel is None:
            raise InternalError(f"{name} has no reference kernel")
        if len(args) != num_inputs:
            raise InternalError(f"{name}: kernel got {len(args)} argument(s), not {num_inputs}")
        resolved = resolve_attrs(name, attrs_type, attrs)
        with np.errstate(all="ignore"):
            result = _as_arrays(kernel(resolved, list(args), out_type))
        _check_value(name, result, out_type, "")
        return _unshare(result, args)

    definition = OpDef(
        name=name,
        num_inputs=num_inputs,
        type_rel=relation,
        type_rel_name=name,
        attrs_type=attrs_type,
        pattern=pattern,
        stateful=stateful,
        reshape_only=reshape_only,
        non_computational=non_computational,
        kernel=run if kernel is not None else None,
        arguments=tuple(arguments),
        support_level=support_level,
        description=description,
    )
    op = register_op(definition)
    _DEFINED.append(name)
    return op


def make_call(op_name: str, args: Sequence[Expr], attrs: Attrs | None = None) -> Call:
    """A call of a registered operator: what every ``relay.*`` builder returns."""
    return Call(Op.get(op_name), tuple(args), attrs)


def tuple_expr(data: Expr | Sequence[Expr]) -> Expr:
    """TVM's list-or-tuple argument (``concatenate([a, b])``): a Python sequence becomes a
    ``relay.Tuple``; an expression is used as is."""
    if isinstance(data, Sequence):
        return Tuple(list(data))
    return data
