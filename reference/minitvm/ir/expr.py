"""The expression bases shared by every IR dialect: ``RelayExpr``, ``GlobalVar``, ``BaseFunc``.

Relay's own expression nodes live in ``minitvm.relay.expr``; what is here is what an
``IRModule`` must name: global variables and the functions they are bound to.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.node import IGNORE, Node, SEqualKind, Span
from minitvm.ir.type import Type

if TYPE_CHECKING:
    from minitvm.ir.attrs import DictAttrs
    from minitvm.relay.expr import Call, Expr

__all__ = ["BaseFunc", "GlobalVar", "RelayExpr"]


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class RelayExpr(Node):
    """Base of Relay expressions: a source span and the type InferType found.

    Expressions compare by identity; ``checked_type_`` is filled by InferType when it builds
    the typed tree (and, for TVM compatibility, once by ``InferTypeLocal``).
    """

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.GRAPH
    span: Span | None = dataclasses.field(
        default=None, kw_only=True, compare=False, repr=False, metadata=IGNORE
    )
    checked_type_: Type | None = dataclasses.field(
        default=None, kw_only=True, compare=False, repr=False, metadata=IGNORE
    )

    @property
    def checked_type(self) -> Type:
        """The type InferType found; raises if the expression has not been type checked."""
        if self.checked_type_ is None:
            raise TVMError(
                "The type checker has not populated the checked_type for this node; "
                "run relay.transform.InferType() first"
            )
        return self.checked_type_


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GlobalVar(RelayExpr):
    """A global function name. Within a module it is unique by ``name_hint``."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.GLOBAL
    name_hint: str = dataclasses.field(default="", metadata=IGNORE)

    def __call__(self, *args: Expr) -> Call:
        # The one upward reference of this layer: calling a global builds a Relay call.
        from minitvm.relay.expr import Call

        return Call(self, args)

    @override
    def __repr__(self) -> str:
        return f"GlobalVar({self.name_hint})"

    def astext(self) -> str:
        return f"@{self.name_hint}"


class BaseFunc(RelayExpr):
    """A function an IRModule can hold: a Relay ``Function`` or a TIR ``PrimFunc``."""

    __slots__ = ()
    attrs: DictAttrs
