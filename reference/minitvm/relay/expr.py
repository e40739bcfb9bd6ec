"""Relay's expression nodes and the closed union ``Expr`` over them.

Nodes are frozen, slotted dataclasses compared by identity: the same ``Var`` object is the
same variable and a node used twice is shared. Sequence fields hold tuples.

Besides the pure core, Relay has mutable references (TVM's ``RefCreate``, ``RefRead``,
``RefWrite``, defined here) and algebraic data types: ``Constructor`` (``minitvm.ir.adt``) and
``Match`` (``minitvm.relay.adt``) are expressions too, and join the union below.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeAlias, cast

import numpy as np
from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.expr import GlobalVar, RelayExpr
from minitvm.ir.node import DEF, IGNORE, SEqualKind, Span
from minitvm.ir.op import Op
from minitvm.ir.type import Type
from minitvm.runtime.ndarray import NDArray

if TYPE_CHECKING:
    from minitvm.ir.adt import Constructor
    from minitvm.relay.adt import Match
    from minitvm.relay.function import Function

__all__ = [
    "Call",
    "Constant",
    "Expr",
    "ExprWithOp",
    "If",
    "Let",
    "RefCreate",
    "RefRead",
    "RefWrite",
    "Tuple",
    "TupleGetItem",
    "TupleWrapper",
    "Var",
]


class ExprWithOp(RelayExpr):
    """Operator sugar: ``a + b``, ``a * 2.0``, ``f(x)``, ``e[i]``, as TVM's ``ExprWithOp``."""

    __slots__ = ()

    def _binop(self, name: str, other: object, reverse: bool = False) -> Call:
        from minitvm.relay.builder import const

        if isinstance(other, RelayExpr):
            rhs = cast("Expr", other)
        elif isinstance(other, int | float):
            rhs = const(other)
        else:
            raise TypeError(f"unsupported operand for {name}: {type(other).__name__}")
        lhs = cast("Expr", self)
        return Call(Op.get(name), (rhs, lhs) if reverse else (lhs, rhs))

    def __add__(self, other: object) -> Call:
        return self._binop("add", other)

    def __radd__(self, other: object) -> Call:
        return self._binop("add", other, reverse=True)

    def __sub__(self, other: object) -> Call:
        return self._binop("subtract", other)

    def __rsub__(self, other: object) -> Call:
        return self._binop("subtract", other, reverse=True)

    def __mul__(self, other: object) -> Call:
        return self._binop("multiply", other)

    def __rmul__(self, other: object) -> Call:
        return self._binop("multiply", other, reverse=True)

    def __truediv__(self, other: object) -> Call:
        return self._binop("divide", other)

    def __rtruediv__(self, other: object) -> Call:
        return self._binop("divide", other, reverse=True)

    def __neg__(self) -> Call:
        return Call(Op.get("negative"), (cast("Expr", self),))

    def __lt__(self, other: object) -> Call:
        return self._binop("less", other)

    def __gt__(self, other: object) -> Call:
        return self._binop("greater", other)

    def __ge__(self, other: object) -> Call:
        return self._binop("greater_equal", other)

    def __le__(self, other: object) -> Call:
        return self._binop("less_equal", other)

    def __call__(self, *args: Expr) -> Call:
        return Call(cast("Expr", self), args)

    def __getitem__(self, index: int) -> Expr:
        return TupleGetItem(cast("Expr", self), index)

    def astuple(self) -> Expr:
        return cast("Expr", self)

    def astext(
        self, show_meta_data: bool = True, annotate: Callable[[Expr], str] | None = None
    ) -> str:
        from minitvm.relay.printer import astext

        return astext(cast("Expr", self), show_meta_data=show_meta_data, annotate=annotate)

    @override
    def __str__(self) -> str:
        from minitvm.relay.printer import astext

        return astext(cast("Expr", self), show_meta_data=False, version_header=False)

    @override
    def __repr__(self) -> str:
        return str(self)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Var(ExprWithOp):
    """A local variable. ``name_hint`` is only a hint: identity makes the variable."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    name_hint: str = dataclasses.field(default="", metadata=IGNORE)
    type_annotation: Type | None = None

    @property
    def vid(self) -> Var:
        """TVM's ``Var.vid``; here the variable is its own identifier."""
        return self


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Constant(ExprWithOp):
    """A constant tensor. Its data is never mutated."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VALUE
    data: NDArray = dataclasses.field(default_factory=lambda: NDArray(np.zeros((), "float32")))

    def __post_init__(self) -> None:
        if not isinstance(self.data, NDArray):
            raise DiagnosticError(f"Constant data must be an NDArray, got {type(self.data)}")


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Tuple(ExprWithOp):
    """A tuple of expressions; ``Tuple([])`` is the unit value."""

    fields: tuple[Expr, ...]

    def __init__(
        self,
        fields: Sequence[Expr],
        span: Span | None = None,
        *,
        checked_type_: Type | None = None,
    ) -> None:
        object.__setattr__(self, "fields", tuple(fields))
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "checked_type_", checked_type_)

    @override
    def __getitem__(self, index: int) -> Expr:
        # TVM returns the field itself, not a projection, when indexing a Tuple node.
        if not -len(self.fields) <= index < len(self.fields):
            raise IndexError("Tuple index out of range")
        return self.fields[index]

    def __len__(self) -> int:
        return len(self.fields)

    @override
    def astuple(self) -> Expr:
        return self


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class TupleGetItem(ExprWithOp):
    """``tuple_value.index``: projection out of a tuple."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VALUE
    tuple_value: Expr
    index: int


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Call(ExprWithOp):
    """A call of an operator, a function, a global or a closure.

    ``type_args`` are the instantiation of the callee's type parameters (InferType fills them).
    """

    op: Expr
    args: tuple[Expr, ...]
    attrs: Attrs | None
    type_args: tuple[Type, ...]

    def __init__(
        self,
        op: Expr,
        args: Sequence[Expr],
        attrs: Attrs | None = None,
        type_args: Sequence[Type] | None = None,
        span: Span | None = None,
        *,
        checked_type_: Type | None = None,
    ) -> None:
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "attrs", attrs)
        object.__setattr__(self, "type_args", tuple(type_args or ()))
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "checked_type_", checked_type_)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Let(ExprWithOp):
    """``let var = value; body``. The var is in scope in ``body`` (and in ``value`` when the
    value is a function, which makes it recursive)."""

    var: Var = dataclasses.field(metadata=DEF)
    value: Expr
    body: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class If(ExprWithOp):
    """``if (cond) { true_branch } else { false_branch }``; ``cond`` is a bool scalar."""

    cond: Expr
    true_branch: Expr
    false_branch: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RefCreate(ExprWithOp):
    """``ref(value)``: a new mutable reference cell holding ``value``'s value."""

    value: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RefRead(ExprWithOp):
    """``ref_read(ref)``: the value the reference holds now."""

    ref: Expr


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RefWrite(ExprWithOp):
    """``ref_write(ref, value)``: store ``value`` in the reference; evaluates to ``()``.
    ``ref`` is evaluated before ``value``."""

    ref: Expr
    value: Expr


class TupleWrapper:
    """The result of a multi-output operator (``split``, ``batch_norm``): not an expression
    itself, but indexable into projections; ``astuple()`` gives the underlying call."""

    __slots__ = ("size", "tuple_value")

    def __init__(self, tuple_value: Expr, size: int) -> None:
        self.tuple_value = tuple_value
        self.size = size

    def astuple(self) -> Expr:
        return self.tuple_value

    def astext(self) -> str:
        return self.tuple_value.astext()

    def __getitem__(self, index: int) -> Expr:
        if not 0 <= index < self.size:
            raise IndexError("Tuple index out of range")
        return TupleGetItem(self.tuple_value, index)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Expr]:
        return (self[i] for i in range(self.size))

    @override
    def __repr__(self) -> str:
        return f"TupleWrapper({self.tuple_value!r}, {self.size})"


# Function (minitvm.relay.function), Constructor (minitvm.ir.adt) and Match
# (minitvm.relay.adt) are defined in their own modules and join the union here; the alias is
# spelled with a string so the modules can refer to each other.
Expr: TypeAlias = (
    "Var | GlobalVar | Constant | Tuple | TupleGetItem | Call | Op | Function | Let | If"
    " | RefCreate | RefRead | RefWrite | Constructor | Match"
)
"""Every Relay expression. Dispatch over it with ``match`` and ``assert_never``."""

if not TYPE_CHECKING:
    # At run time ``relay.Expr`` is the expressions' base class, as in TVM, so that code
    # written for TVM can test ``isinstance(e, relay.Expr)``; type checkers see the union.
    Expr = RelayExpr
