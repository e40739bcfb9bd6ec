"""The root of every IR object: ``Node``, source spans and structural-comparison metadata.

Structural equality and hashing (``ir.structural``) are generic over the dataclass fields of a
node, the way TVM's reflection-based ``SEqualReduce`` is: each node class says which kind of
object it is (``SEqualKind``) and each field may be marked as ignored or as a binding site.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import ClassVar

from typing_extensions import override

__all__ = ["DEF", "IGNORE", "MAP", "Node", "SEqualKind", "SourceName", "Span"]


class SEqualKind(Enum):
    """How structural equality treats objects of a node class."""

    VALUE = "value"
    """Compared field by field, like a value (types, attrs, constants, projections)."""
    GRAPH = "graph"
    """A DAG node: sharing in one term must correspond one-to-one to sharing in the other."""
    VAR = "var"
    """A variable: equal only through a common binding site, or when free vars may be mapped."""
    GLOBAL = "global"
    """Compared by ``name_hint`` (global variables, global type variables)."""
    NAMED = "named"
    """A unique, interned object compared by name (operators)."""


IGNORE: dict[str, str] = {"sequal": "ignore"}
"""Field metadata: not part of structural equality or hashing (names, spans, checked types)."""
DEF: dict[str, str] = {"sequal": "def"}
"""Field metadata: the field binds the variables it holds (function params, let vars)."""
MAP: dict[str, str] = {"sequal": "map"}
"""Field metadata: a tuple of ``(key, value)`` pairs compared as a map, whatever the order of
its entries (``DictAttrs``: TVM's attribute dictionaries are unordered)."""


class Node:
    """Base of all IR nodes. Subclasses are frozen, slotted dataclasses."""

    __slots__ = ()
    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VALUE

    def same_as(self, other: object) -> bool:
        """Reference equality, as TVM's ``ObjectRef.same_as``."""
        return self is other


@dataclass(frozen=True, slots=True)
class SourceName(Node):
    """The name of a source text, as TVM's ``tvm.ir.SourceName``."""

    name: str

    @override
    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Span(Node):
    """A region of source text (1-based lines and columns). The constructor takes TVM's
    argument order: ``Span(source_name, line, end_line, column, end_column)``."""

    source_name: SourceName | str | None
    line: int
    end_line: int
    column: int
    end_column: int

    @override
    def __str__(self) -> str:
        return f"{self.source_name}:{self.line}:{self.column}"
