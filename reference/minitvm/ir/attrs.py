"""Attributes: the base of every operator's attrs dataclass, and ``DictAttrs`` for functions.

Operator attrs are frozen dataclasses deriving from ``Attrs`` whose fields hold ints, floats,
strings, bools, None or tuples of them; their defaults are what the printer leaves out.
``DictAttrs`` is the string-keyed, ordered map a Function carries (``Primitive``, ``Compiler``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from minitvm.error import DiagnosticError
from minitvm.ir.node import MAP, Node
from minitvm.tir.expr import FloatImm, IntImm, StringImm

__all__ = ["AttrValue", "Attrs", "DictAttrs", "convert_attr_value", "non_default_fields"]

AttrValue: TypeAlias = (
    "int | float | str | bool | IntImm | FloatImm | StringImm | Node | tuple[AttrValue, ...] | None"
)


@dataclass(frozen=True, slots=True)
class Attrs(Node):
    """Base class of operator attributes. Subclasses are frozen dataclasses."""

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def __getitem__(self, key: str) -> object:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def get_str(self, key: str) -> str:
        return str(getattr(self, key))


def non_default_fields(attrs: Attrs) -> list[tuple[str, object]]:
    """The fields of ``attrs`` whose value differs from the field's default, in order."""
    out: list[tuple[str, object]] = []
    for f in dataclasses.fields(attrs):
        value = getattr(attrs, f.name)
        if f.default is not dataclasses.MISSING:
            if value == f.default and type(value) is type(f.default):
                continue
        elif f.default_factory is not dataclasses.MISSING and value == f.default_factory():
            continue
        out.append((f.name, value))
    return out


def convert_attr_value(value: object) -> AttrValue:
    """Normalise a Python value as TVM's ``runtime.convert`` does for attribute maps."""
    if value is None or isinstance(value, str | IntImm | FloatImm | StringImm | Node):
        return value
    if isinstance(value, bool):
        return IntImm("bool", int(value))
    if isinstance(value, int):
        return IntImm("int32" if -(2**31) <= value < 2**31 else "int64", value)
    if isinstance(value, float):
        return FloatImm("float32", value)
    if isinstance(value, list | tuple):
        return tuple(convert_attr_value(v) for v in value)
    raise DiagnosticError(f"unsupported attribute value {value!r} of type {type(value).__name__}")


@dataclass(frozen=True, slots=True, init=False)
class DictAttrs(Node):
    """An immutable, ordered map from attribute names to values."""

    items_: tuple[tuple[str, AttrValue], ...] = dataclasses.field(metadata=MAP)

    def __init__(self, items: Mapping[str, object] | None = None) -> None:
        pairs = tuple((str(k), convert_attr_value(v)) for k, v in (items or {}).items())
        object.__setattr__(self, "items_", pairs)

    def __getitem__(self, key: str) -> AttrValue:
        for k, v in self.items_:
            if k == key:
                return v
        raise KeyError(key)

    def get(self, key: str, default: AttrValue = None) -> AttrValue:
        for k, v in self.items_:
            if k == key:
                return v
        return default

    def __contains__(self, key: object) -> bool:
        return any(k == key for k, _ in self.items_)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self.items_)

    def __len__(self) -> int:
        return len(self.items_)

    def keys(self) -> list[str]:
        return [k for k, _ in self.items_]

    def items(self) -> list[tuple[str, AttrValue]]:
        return list(self.items_)

    def with_attr(self, key: str, value: object) -> DictAttrs:
        """A copy with ``key`` set to ``value`` (replacing an existing entry in place)."""
        d: dict[str, object] = dict(self.items_)
        d[key] = value
        return DictAttrs(d)

    def without_attr(self, key: str) -> DictAttrs:
        return DictAttrs({k: v for k, v in self.items_ if k != key})


def make_node(type_key: str, **kwargs: object) -> DictAttrs:
    """``tvm.ir.make_node("DictAttrs", Primitive=1)``; only DictAttrs can be made this way."""
    if type_key != "DictAttrs":
        raise DiagnosticError(f"make_node: only 'DictAttrs' is supported, got {type_key!r}")
    return DictAttrs(kwargs)
