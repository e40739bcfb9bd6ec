"""The interpreter's runtime values and their checks against Relay types.

TVM's interpreter (``src/relay/backend/interpreter.cc``) has NDArrays, ``ADT`` tuples and
``InterpreterClosure``/``RecClosure``. Here, inside the machine, a tensor is a numpy array, a
tuple is a Python tuple of values and a closure is a ``Closure`` record; the executor converts
them to NDArray / ``ADT`` / callables at the boundary. This is also the value protocol of the op
kernels (``OpDef.kernel``), so values reach kernels without conversion.

Tuples may nest as deep as the program that built them, so every walk here is iterative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias, assert_never

import numpy as np
import numpy.typing as npt

from minitvm.error import DiagnosticError
from minitvm.ir.type import FuncType, IncompleteType, TensorType, TupleType, Type, TypeVar, type_str
from minitvm.relay.expr import Expr, Var
from minitvm.relay.function import Function
from minitvm.runtime.dtype import DTYPES

__all__ = [
    "Closure",
    "Env",
    "Tensor",
    "Value",
    "check_value",
    "describe",
    "dtype_name",
    "is_concrete",
    "map_tuples",
    "tensor_type_of",
    "value_type",
]

Tensor: TypeAlias = npt.NDArray[Any]


@dataclass(frozen=True, slots=True, eq=False)
class Closure:
    """A function value: the function and the values of its free variables at creation.

    ``rec_var`` is set for ``let f = fn ... f ...``: calling the closure binds ``rec_var`` to
    the closure itself (TVM's ``RecClosure``), which ties the recursive knot without mutation.
    """

    func: Function
    env: Mapping[Expr, Value]
    rec_var: Var | None = None


Value: TypeAlias = "Tensor | tuple[Value, ...] | Closure"
"""A runtime value: a tensor, a tuple of values, or a closure."""

Env: TypeAlias = dict[Expr, Value]
"""One function activation: the values of its variables and of the nodes evaluated in it."""


_DTYPE_NAMES: dict[np.dtype[Any], str] = {np.dtype(d): d for d in DTYPES}
_TENSOR_TYPES: dict[tuple[tuple[int, ...], str], TensorType] = {}


def dtype_name(dtype: np.dtype[Any]) -> str | None:
    """The TVM name of a numpy dtype, or None if minitvm does not support it (a dict lookup:
    ``str(dtype)`` is slow enough to matter once per operator call)."""
    return _DTYPE_NAMES.get(dtype)


def tensor_type_of(array: Tensor) -> TensorType | None:
    """The tensor type of an array (interned), or None for an unsupported dtype."""
    dtype = _DTYPE_NAMES.get(array.dtype)
    if dtype is None:
        return None
    key = (array.shape, dtype)
    ty = _TENSOR_TYPES.get(key)
    if ty is None:
        ty = _TENSOR_TYPES[key] = TensorType(array.shape, dtype)
    return ty


def describe(value: object) -> str:
    """A short human description of a runtime value, for error messages."""
    if isinstance(value, np.ndarray):
        ty = tensor_type_of(value)
        if ty is not None:
            return type_str(ty)
        return f"an array of unsupported dtype {value.dtype}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} fields"
    if isinstance(value, Closure):
        return f"a closure of {len(value.func.params)} parameters"
    return f"a {type(value).__name__}"


def value_type(value: Value, what: str) -> Type:
    """The type of a runtime value (closures have none); used to type op calls dynamically."""
    if isinstance(value, np.ndarray):
        ty = tensor_type_of(value)
        if ty is None:
            raise DiagnosticError(f"{what}: unsupported dtype {value.dtype}")
        return ty
    results: list[Type] = []
    stack: list[tuple[Value, bool]] = [(value, False)]
    while stack:
        v, done = stack.pop()
        if isinstance(v, tuple):
            if done:
                n = len(v)
                fields = results[len(results) - n :]
                del results[len(results) - n :]
                results.append(TupleType(fields))
            else:
                stack.append((v, True))
                stack.extend((f, False) for f in reversed(v))
        elif isinstance(v, Closure):
            raise DiagnosticError(f"{what}: a closure has no tensor type")
        else:
            tensor = tensor_type_of(v)
            if tensor is None:
                raise DiagnosticError(f"{what}: unsupported dtype {v.dtype}")
            results.append(tensor)
    return results[0]


def is_concrete(ty: Type | None) -> bool:
    """Whether ``ty`` is fully known: tensors and tuples of them, no variables or holes."""
    stack: list[Type | None] = [ty]
    while stack:
        t = stack.pop()
        if isinstance(t, TupleType):
            stack.extend(t.fields)
        elif not isinstance(t, TensorType):
            return False
    return True


def check_value(value: Value, expected: Type | None, what: str) -> None:
    """Raise DiagnosticError naming ``what`` unless ``value`` inhabits ``expected``.

    Type variables and unknown types accept any value; a function type accepts a closure of
    the same arity.
    """
    stack: list[tuple[Value, Type | None, str]] = [(value, expected, what)]
    while stack:
        v, ty, where = stack.pop()
        match ty:
            case None | TypeVar() | IncompleteType():
                continue
            case TensorType():
                ok = (
                    isinstance(v, np.ndarray)
                    and v.shape == ty.shape
                    and _DTYPE_NAMES.get(v.dtype) == ty.dtype
                )
            case TupleType():
                ok = isinstance(v, tuple) and len(v) == len(ty.fields)
                if ok and isinstance(v, tuple):
                    pairs = enumerate(zip(v, ty.fields, strict=True))
                    stack.extend((f, t, f"{where}.{i}") for i, (f, t) in pairs)
            case FuncType():
                ok = isinstance(v, Closure) and len(v.func.params) == len(ty.arg_types)
            case _:
                assert_never(ty)
        if not ok:
            raise DiagnosticError(f"{where}: expected {type_str(ty)}, got {describe(v)}")


def map_tuples(
    root: object,
    is_tuple: Callable[[object], bool],
    leaf: Callable[[object], Any],
    make: Callable[[tuple[Any, ...]], Any] = tuple,
) -> Any:
    """Rebuild a nest of tuples bottom-up without recursion.

    Objects for which ``is_tuple`` holds are iterated and rebuilt by ``make`` from their
    converted fields (a Python tuple by default); every other object becomes ``leaf(obj)``.
    """
    results: list[Any] = []
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        obj, done = stack.pop()
        if done:
            n = len(obj)
            fields = tuple(results[len(results) - n :])
            del results[len(results) - n :]
            results.append(make(fields))
        elif not is_tuple(obj):
            results.append(leaf(obj))
        else:
            items = list(obj)
            stack.append((items, True))
            stack.extend((f, False) for f in reversed(items))
    return results[0]
