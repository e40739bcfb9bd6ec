"""Relay types: tensors with static shapes, tuples, functions, type variables, references
and applications of algebraic data types.

Types are small frozen dataclasses compared by value, except type variables and incomplete
types, which are compared by identity: two ``TypeVar("a")`` are different variables. A global
type variable (the name of an ADT, TVM's ``GlobalTypeVar``) is compared by name, as a module
holds one definition per name. ``TypeCall(List, [A])`` applies an ADT to type arguments;
``RelayRefType(T)`` (``relay.RefType``) is the type of a mutable reference cell.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, SupportsIndex, TypeAlias, cast

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.node import DEF, IGNORE, Node, SEqualKind, Span
from minitvm.runtime.dtype import check_dtype

__all__ = [
    "FuncType",
    "GlobalTypeVar",
    "IncompleteType",
    "RefType",
    "RelayRefType",
    "TensorType",
    "TupleType",
    "Type",
    "TypeCall",
    "TypeKind",
    "TypeVar",
    "type_hash",
    "type_str",
    "types_equal",
]


class TypeKind(IntEnum):
    """The kind of a type variable, with TVM's values."""

    Type = 0
    ShapeVar = 1
    BaseType = 2
    Constraint = 4
    AdtHandle = 5
    TypeData = 6


def _dims(shape: Iterable[SupportsIndex]) -> tuple[int, ...]:
    dims: list[int] = []
    for d in shape:
        if isinstance(d, bool):
            raise DiagnosticError(f"shape dimension must be an integer, got {d!r}")
        try:
            value = int(d.__index__())
        except (AttributeError, TypeError):
            raise DiagnosticError(f"shape dimension must be a static integer, got {d!r}") from None
        if value < 0:
            raise DiagnosticError(f"shape dimension must be non-negative, got {value}")
        dims.append(value)
    return tuple(dims)


@dataclass(frozen=True, slots=True, init=False)
class TensorType(Node):
    """A tensor of static ``shape`` and element ``dtype``; ``TensorType(())`` is a scalar."""

    shape: tuple[int, ...]
    dtype: str
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __init__(
        self, shape: Iterable[SupportsIndex] = (), dtype: str = "float32", span: Span | None = None
    ) -> None:
        object.__setattr__(self, "shape", _dims(shape))
        object.__setattr__(self, "dtype", check_dtype(dtype))
        object.__setattr__(self, "span", span)

    @property
    def concrete_shape(self) -> tuple[int, ...]:
        return self.shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @override
    def __str__(self) -> str:
        return type_str(self)


class _CompositeType(Node):
    """A type made of other types (tuple, function, ADT application, reference). ``==`` and
    ``hash`` are structural (spans ignored) and walk shared parts once, iteratively
    (``types_equal``, ``type_hash``): types nest as deep as programs do, and a type can be a
    DAG whose tree expansion is exponential."""

    __slots__ = ()

    @override
    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CompositeType) and types_equal(self, other)

    @override
    def __hash__(self) -> int:
        return type_hash(self)

    @override
    def __str__(self) -> str:
        return type_str(cast(Type, self))


@dataclass(frozen=True, slots=True, init=False, eq=False)
class TupleType(_CompositeType):
    """The type of a tuple; ``TupleType([])`` is the unit type. Equality and hashing are
    structural (spans ignored) and walk shared parts once (``types_equal``)."""

    fields: tuple[Type, ...]
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __init__(self, fields: Sequence[Type], span: Span | None = None) -> None:
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "span", span)


@dataclass(frozen=True, slots=True, eq=False)
class TypeVar(Node):
    """A type variable, bound by a function's ``type_params``. Compared by identity."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    name_hint: str = dataclasses.field(metadata=IGNORE)
    kind: TypeKind = TypeKind.Type
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    @override
    def __str__(self) -> str:
        return self.name_hint


@dataclass(frozen=True, slots=True, eq=False)
class IncompleteType(Node):
    """A type still to be inferred; written ``_`` in text. Compared by identity."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    kind: TypeKind = TypeKind.Type
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    @override
    def __str__(self) -> str:
        return "_"


@dataclass(frozen=True, slots=True, init=False, eq=False)
class FuncType(_CompositeType):
    """``fn [type_params](arg_types) -> ret_type``. Equality and hashing as ``TupleType``'s
    (type parameters by identity)."""

    arg_types: tuple[Type, ...]
    ret_type: Type
    type_params: tuple[TypeVar, ...] = dataclasses.field(metadata=DEF)
    type_constraints: tuple[Type, ...] = ()
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __init__(
        self,
        arg_types: Sequence[Type],
        ret_type: Type,
        type_params: Sequence[TypeVar] | None = None,
        type_constraints: Sequence[Type] | None = None,
        span: Span | None = None,
    ) -> None:
        object.__setattr__(self, "arg_types", tuple(arg_types))
        object.__setattr__(self, "ret_type", ret_type)
        object.__setattr__(self, "type_params", tuple(type_params or ()))
        object.__setattr__(self, "type_constraints", tuple(type_constraints or ()))
        object.__setattr__(self, "span", span)


@dataclass(frozen=True, slots=True)
class GlobalTypeVar(Node):
    """The name of an algebraic data type defined in a module (``mod[gtv] = TypeData(...)``).

    Compared by name, like a global function: within a module a name denotes one type.
    Applied to type arguments by calling it: ``List(a)`` is ``TypeCall(List, [a])``.
    """

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.GLOBAL
    name_hint: str
    kind: TypeKind = TypeKind.AdtHandle
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __call__(self, *args: Type) -> TypeCall:
        return TypeCall(self, args)

    @override
    def __str__(self) -> str:
        return self.name_hint


@dataclass(frozen=True, slots=True, init=False, eq=False)
class TypeCall(_CompositeType):
    """An ADT applied to type arguments: ``List[int32]``, or ``nat[]`` for an ADT without
    type parameters (the parser reads a bare ``nat`` as that too). Equality and hashing are
    structural and iterative (``types_equal``)."""

    func: Type
    args: tuple[Type, ...]
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __init__(self, func: Type, args: Sequence[Type] = (), span: Span | None = None) -> None:
        object.__setattr__(self, "func", func)
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "span", span)


@dataclass(frozen=True, slots=True, eq=False)
class RelayRefType(_CompositeType):
    """The type of a mutable reference holding a ``value`` (``ref(T)`` in text). Equality
    and hashing are structural and iterative (``types_equal``)."""

    value: Type
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)


RefType = RelayRefType
"""``relay.RefType``: TVM's Python name for ``RelayRefType``."""


Type: TypeAlias = (
    TensorType
    | TupleType
    | FuncType
    | TypeVar
    | IncompleteType
    | GlobalTypeVar
    | TypeCall
    | RelayRefType
)
"""Every Relay type. Dispatch over it with ``match`` and ``assert_never``."""


def _parts(ty: object) -> tuple[object, ...] | None:
    """The parts compared one by one by ``types_equal``: child types, and for a function
    type its type parameters (compared by identity); None for a leaf type."""
    if isinstance(ty, TupleType):
        return ty.fields
    if isinstance(ty, FuncType):
        return (*ty.arg_types, ty.ret_type, *ty.type_params, *ty.type_constraints)
    if isinstance(ty, TypeCall):
        return (ty.func, *ty.args)
    if isinstance(ty, RelayRefType):
        return (ty.value,)
    return None


def types_equal(lhs: object, rhs: object) -> bool:
    """Structural equality of two types (what ``==`` means on types), by an explicit walk
    that compares each pair of shared subtypes once: types nest as deep as programs nest
    tuples, and a type can be a DAG whose tree expansion is exponential."""
    work: list[tuple[object, object]] = [(lhs, rhs)]
    seen: set[tuple[int, int]] = set()  # ids stay valid: lhs and rhs keep every node alive
    while work:
        a, b = work.pop()
        if a is b or (id(a), id(b)) in seen:
            continue
        seen.add((id(a), id(b)))
        if type(a) is not type(b):
            return False
        pa, pb = _parts(a), _parts(b)
        if pa is None or pb is None:
            if a != b:  # a leaf: tensor types by value, type variables by identity
                return False
            continue
        if len(pa) != len(pb) or (
            isinstance(a, FuncType)
            and isinstance(b, FuncType)
            and (len(a.arg_types), len(a.type_params)) != (len(b.arg_types), len(b.type_params))
        ):
            return False
        work.extend(zip(pa, pb, strict=True))
    return True


def type_hash(root: object) -> int:
    """A hash consistent with ``types_equal``, computed bottom-up once per distinct node."""
    done: dict[int, int] = {}
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        parts = _parts(node)
        if parts is None:
            done[id(node)] = hash(node)
        elif expanded:
            done[id(node)] = hash((type(node).__name__, *(done[id(p)] for p in parts)))
        else:
            stack.append((node, True))
            stack.extend((p, False) for p in parts if id(p) not in done)
    return done[id(root)]


def type_str(ty: Type) -> str:
    """The type in Relay text syntax (``Tensor[(2, 3), float32]``, ``(int32, float32)``)."""
    # Types nest only as deep as the programmer wrote them; recursion here is bounded by that.
    match ty:
        case TensorType(shape=(), dtype=dtype):
            return dtype
        case TensorType(shape=shape, dtype=dtype):
            dims = ", ".join(str(d) for d in shape)
            return f"Tensor[({dims}), {dtype}]"
        case TupleType(fields=fields):
            inner = ", ".join(type_str(f) for f in fields)
            return f"({inner},)" if len(fields) == 1 else f"({inner})"
        case FuncType():
            params = ""
            if ty.type_params:
                params = "[" + ", ".join(str(t) for t in ty.type_params) + "]"
            args = ", ".join(type_str(a) for a in ty.arg_types)
            return f"fn {params}({args}) -> {type_str(ty.ret_type)}"
        case TypeVar() | IncompleteType() | GlobalTypeVar():
            return str(ty)
        case TypeCall(func=func, args=args):
            # TVM writes the brackets even without arguments (``nat[]``).
            return type_str(func) + "[" + ", ".join(type_str(a) for a in args) + "]"
        case RelayRefType(value=value):
            return f"ref({type_str(value)})"
