"""The interpreter's runtime values and their checks against Relay types.

TVM's interpreter (``src/relay/backend/interpreter.cc``) has NDArrays, ``ADT`` tuples,
``InterpreterClosure``/``RecClosure``, ``RefValue`` and ``ConstructorValue``. Here, inside the
machine, a tensor is a numpy array, a tuple is a Python tuple of values, a closure is a
``Closure`` record, a reference a ``RefValue`` (the one mutable value) and an ADT value a
``ConstructorValue``; a constructor used as a function value is the ``Constructor`` itself. The
executor converts them to NDArray / ``ADT`` / callables at the boundary. Tensors and tuples are
also the value protocol of the op kernels (``OpDef.kernel``), so values reach kernels without
conversion.

Tuples and ADT values nest as deep as the program that built them (a list of 100,000
elements is 100,000 values deep), and references can make values cyclic, so every walk here
is iterative.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias, assert_never, cast

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    IncompleteType,
    RelayRefType,
    TensorType,
    TupleType,
    Type,
    TypeCall,
    TypeVar,
    type_str,
)
from minitvm.ir.type_functor import substitute
from minitvm.relay.expr import Expr, Var
from minitvm.relay.function import Function
from minitvm.runtime.dtype import DTYPES

__all__ = [
    "Closure",
    "ConstructorValue",
    "Env",
    "RefValue",
    "Tensor",
    "Value",
    "check_value",
    "describe",
    "dtype_name",
    "is_concrete",
    "map_tuples",
    "map_value",
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


class RefValue:
    """A mutable reference cell (TVM's ``RefValue``): ``ref_write`` replaces ``value``.

    As in TVM, one class serves inside the machine (``value`` is a machine value) and at the
    Python boundary (``value`` is a converted result: an NDArray, an ``ADT``...), hence
    ``Any``, as for ``ConstructorValue.fields``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value: Any = value

    @override
    def __repr__(self) -> str:
        return f"RefValue({describe(self.value)})"


class ConstructorValue:
    """A value of an ADT (TVM's ``ConstructorValue``): the constructor that built it, its tag
    (how patterns recognize it) and its fields."""

    __slots__ = ("constructor", "fields", "tag")

    def __init__(self, tag: int, fields: Sequence[object], constructor: Constructor) -> None:
        self.tag = tag
        self.fields: tuple[Any, ...] = tuple(fields)
        self.constructor = constructor

    @override
    def __repr__(self) -> str:
        # Fields are summarized, not printed: a list value may be 100,000 levels deep.
        fields = ", ".join(describe(f) for f in self.fields)
        return f"ConstructorValue({self.constructor.name_hint}, tag={self.tag}, [{fields}])"


Value: TypeAlias = (
    "Tensor | tuple[Value, ...] | Closure | RefValue | ConstructorValue | Constructor"
)
"""A runtime value: a tensor, a tuple of values, a closure, a reference, an ADT value, or a
constructor used as a function."""

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
    if isinstance(value, RefValue):
        return "a reference"
    if isinstance(value, ConstructorValue):
        return f"a value built by constructor {value.constructor.name_hint}"
    if isinstance(value, Constructor):
        return f"constructor {value.name_hint}"
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
        elif not isinstance(v, np.ndarray):
            raise DiagnosticError(f"{what}: {describe(v)} has no tensor type")
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


def check_value(  # noqa: C901  (a flat dispatch over the types)
    value: Value,
    expected: Type | None,
    what: str,
    type_defs: Mapping[GlobalTypeVar, TypeData] | None = None,
) -> None:
    """Raise DiagnosticError naming ``what`` unless ``value`` inhabits ``expected``.

    Type variables and unknown types accept any value; a function type accepts a closure of
    the same arity (or a constructor); an ADT accepts a value built by one of its
    constructors, whose fields are checked too when ``type_defs`` (a module's type
    definitions) give the type's parameters. A reference's contents are checked once, so
    cyclic values are fine.
    """
    stack: list[tuple[object, Type | None, str]] = [(value, expected, what)]
    seen_refs: set[int] = set()
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
                ok = (isinstance(v, Closure) and len(v.func.params) == len(ty.arg_types)) or (
                    isinstance(v, Constructor) and len(v.inputs) == len(ty.arg_types)
                )
            case RelayRefType():
                ok = isinstance(v, RefValue)
                if isinstance(v, RefValue) and id(v) not in seen_refs:
                    seen_refs.add(id(v))
                    stack.append((v.value, ty.value, f"{where} (contents)"))
            case GlobalTypeVar() | TypeCall():
                call = TypeCall(ty) if isinstance(ty, GlobalTypeVar) else ty
                ok = isinstance(v, ConstructorValue) and v.constructor.belong_to == call.func
                if isinstance(v, ConstructorValue) and ok:
                    stack.extend(_field_checks(v, call, where, type_defs))
            case _:
                assert_never(ty)
        if not ok:
            raise DiagnosticError(f"{where}: expected {type_str(ty)}, got {describe(v)}")


def _field_checks(
    value: ConstructorValue,
    ty: TypeCall,
    where: str,
    type_defs: Mapping[GlobalTypeVar, TypeData] | None,
) -> list[tuple[object, Type | None, str]]:
    ctor = value.constructor
    if len(value.fields) != len(ctor.inputs):
        raise DiagnosticError(
            f"{where}: constructor {ctor.name_hint} takes {len(ctor.inputs)} fields, the value "
            f"has {len(value.fields)}"
        )
    data = type_defs.get(ctor.belong_to) if type_defs is not None else None
    if data is None or len(data.type_vars) != len(ty.args):
        return []
    mapping = dict(zip(data.type_vars, ty.args, strict=True))
    name = ctor.name_hint
    return [
        (f, substitute(t, mapping), f"{where}.{name}[{i}]")
        for i, (f, t) in enumerate(zip(value.fields, ctor.inputs, strict=True))
    ]


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


def _python_tuple(obj: object) -> bool:
    return isinstance(obj, tuple)


def map_value(
    root: object,
    expected: Type | None,
    leaf: Callable[[object, Type | None], Any],
    make_tuple: Callable[[tuple[Any, ...]], Any],
    make_adt: Callable[[ConstructorValue, tuple[Any, ...]], Any],
    new_ref: Callable[[], Any],
    fill_ref: Callable[[Any, Any], None],
    is_tuple: Callable[[object], bool] = _python_tuple,
) -> Any:
    """Rebuild a value bottom-up without recursion: tuples (objects for which ``is_tuple``
    holds) by ``make_tuple``, ADT values by ``make_adt(original, fields)``, references by
    ``new_ref()`` then ``fill_ref(new, contents)`` (so a reference reachable from its own
    contents becomes a cycle again), everything else by ``leaf(obj, type)``. ``expected`` is
    walked along with the value where it says something: tuple field types and reference
    contents get their types, so that ``leaf`` can convert Python literals to them.
    """
    results: list[Any] = []
    refs: dict[int, Any] = {}
    stack: list[tuple[object, Type | None, bool]] = [(root, expected, False)]
    while stack:
        obj, ty, done = stack.pop()
        if isinstance(obj, RefValue):
            if done:
                new = refs[id(obj)]
                fill_ref(new, results.pop())
                results.append(new)
            elif id(obj) in refs:
                results.append(refs[id(obj)])
            else:
                refs[id(obj)] = new_ref()
                stack.append((obj, ty, True))
                inner = ty.value if isinstance(ty, RelayRefType) else None
                stack.append((obj.value, inner, False))
        elif isinstance(obj, ConstructorValue) or is_tuple(obj):
            # is_tuple vouches for the iterability of what it accepts
            fields = obj.fields if isinstance(obj, ConstructorValue) else tuple(cast("Any", obj))
            if done:
                n = len(fields)
                kids = tuple(results[len(results) - n :])
                del results[len(results) - n :]
                made = (
                    make_adt(obj, kids) if isinstance(obj, ConstructorValue) else make_tuple(kids)
                )
                results.append(made)
                continue
            stack.append((obj, ty, True))
            types: Sequence[Type | None] = [None] * len(fields)
            if isinstance(ty, TupleType) and len(ty.fields) == len(fields):
                types = ty.fields
            for f, t in zip(reversed(fields), reversed(types), strict=True):
                stack.append((f, t, False))
        else:
            results.append(leaf(obj, ty))
    return results[0]
