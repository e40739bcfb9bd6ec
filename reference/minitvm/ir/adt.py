"""Algebraic data type definitions: ``Constructor`` and ``TypeData`` (TVM's ``tvm.ir.adt``,
``include/tvm/ir/adt.h``).

A ``TypeData`` defines an ADT: its name (a ``GlobalTypeVar``), its type parameters and its
constructors. A ``Constructor`` is a Relay expression: called, it builds a value of its type
(``Cons(x, Nil())``); in a pattern, it takes such a value apart.

Each constructor carries a ``tag``, the integer by which values remember their constructor.
As in TVM, a tag is ``prefix << 24 | index``: ``index`` is the constructor's position in its
type, ``prefix`` a byte derived from the type's name, so that the constructors of different
types of a module have different tags. The tags are given when the ``TypeData`` is made;
``IRModule`` changes the prefix of a type whose tags would collide with another type's in the
same module. Giving or changing a tag is the one in-place write to a constructor (TVM writes
its tags in place when a type is added to a module too); tags take no part in structural
equality.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.expr import RelayExpr
from minitvm.ir.node import DEF, IGNORE, Node, SEqualKind, Span
from minitvm.ir.type import GlobalTypeVar, Type, TypeVar

if TYPE_CHECKING:
    from minitvm.relay.expr import Call, Expr

__all__ = ["NO_TAG", "Constructor", "TypeData", "tag_prefix"]

NO_TAG = -1
"""The tag of a constructor not yet part of a type definition."""

_INDEX_BITS = 24


def tag_prefix(name: str) -> int:
    """The preferred tag prefix of the constructors of a type named ``name`` (one byte, the
    same in every process)."""
    from minitvm.ir.structural_fields import str_hash

    return str_hash(name) & 0xFF


@dataclass(frozen=True, slots=True, eq=False, init=False)
class Constructor(RelayExpr):
    """A constructor of the ADT ``belong_to``, taking fields of types ``inputs``.

    Constructors compare structurally by name, field types and type name, as TVM's do; as an
    expression a constructor is atomic, shared by all its uses, like a global variable.
    """

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VALUE
    name_hint: str
    inputs: tuple[Type, ...]
    belong_to: GlobalTypeVar
    tag: int = dataclasses.field(default=NO_TAG, compare=False, metadata=IGNORE)

    def __init__(
        self,
        name_hint: str,
        inputs: Sequence[Type],
        belong_to: GlobalTypeVar,
        span: Span | None = None,
    ) -> None:
        if not isinstance(belong_to, GlobalTypeVar):
            raise DiagnosticError(
                f"constructor {name_hint}: belong_to must be a GlobalTypeVar, got "
                f"{type(belong_to).__name__}"
            )
        object.__setattr__(self, "name_hint", name_hint)
        object.__setattr__(self, "inputs", tuple(inputs))
        object.__setattr__(self, "belong_to", belong_to)
        object.__setattr__(self, "tag", NO_TAG)
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "checked_type_", None)

    def __call__(self, *args: Expr) -> Call:
        # An upward reference, as GlobalVar's: calling a constructor builds a Relay call.
        from minitvm.relay.expr import Call

        return Call(self, args)

    def astext(
        self, show_meta_data: bool = True, annotate: Callable[[Expr], str] | None = None
    ) -> str:
        from minitvm.relay.printer import astext

        return astext(self, show_meta_data=show_meta_data, annotate=annotate)

    def set_tag(self, tag: int) -> None:
        """Give the constructor its tag (done by ``TypeData`` and ``IRModule``)."""
        object.__setattr__(self, "tag", tag)

    @override
    def __str__(self) -> str:
        return self.name_hint

    @override
    def __repr__(self) -> str:
        return f"Constructor({self.name_hint}, tag={self.tag})"


@dataclass(frozen=True, slots=True, init=False)
class TypeData(Node):
    """The definition of an ADT: ``type List[A] { Cons(A, List[A]), Nil }``.

    ``type_vars`` are bound here: the constructors' field types may use them. A definition
    without constructors is an external (opaque) type, ``extern type Storage``.
    """

    header: GlobalTypeVar
    type_vars: tuple[TypeVar, ...] = dataclasses.field(metadata=DEF)
    constructors: tuple[Constructor, ...]
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __init__(
        self,
        header: GlobalTypeVar,
        type_vars: Sequence[TypeVar],
        constructors: Sequence[Constructor],
        span: Span | None = None,
    ) -> None:
        if not isinstance(header, GlobalTypeVar):
            raise DiagnosticError(
                f"TypeData: the header must be a GlobalTypeVar, got {type(header).__name__}"
            )
        names: set[str] = set()
        for ctor in constructors:
            if not isinstance(ctor, Constructor):
                raise DiagnosticError(
                    f"type {header.name_hint}: expected constructors, got {type(ctor).__name__}"
                )
            if ctor.belong_to != header:
                raise DiagnosticError(
                    f"type {header.name_hint}: constructor {ctor.name_hint} belongs to type "
                    f"{ctor.belong_to.name_hint}"
                )
            if ctor.name_hint in names:
                raise DiagnosticError(
                    f"type {header.name_hint}: constructor {ctor.name_hint} is defined twice"
                )
            names.add(ctor.name_hint)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "type_vars", tuple(type_vars))
        object.__setattr__(self, "constructors", tuple(constructors))
        object.__setattr__(self, "span", span)
        if any(c.tag == NO_TAG for c in self.constructors):
            self.retag(tag_prefix(header.name_hint))

    @property
    def prefix(self) -> int | None:
        """The tag prefix of the constructors (None for a type without constructors)."""
        if not self.constructors:
            return None
        return self.constructors[0].tag >> _INDEX_BITS

    def retag(self, prefix: int) -> None:
        """Give the constructors the tags ``prefix << 24 | index``."""
        for index, ctor in enumerate(self.constructors):
            ctor.set_tag((prefix << _INDEX_BITS) | index)

    @override
    def __str__(self) -> str:
        params = f"[{', '.join(str(t) for t in self.type_vars)}]" if self.type_vars else ""
        ctors = ", ".join(
            c.name_hint + (f"({', '.join(str(t) for t in c.inputs)})" if c.inputs else "")
            for c in self.constructors
        )
        return f"type {self.header.name_hint}{params} {{ {ctors} }}"
