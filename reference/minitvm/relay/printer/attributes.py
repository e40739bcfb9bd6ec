"""Attributes in the Relay text format: call attrs, function attrs, attribute values.

TVM: the attribute half of ``src/relay/printer/relay_text_printer.cc`` (``PrintCallAttrs``,
``AppendGenericAttrs``, ``PrintDictAttrs``, ``PrintAttributeValue``, ``AttrPrinter``).

A field of an attrs dataclass is written the way TVM writes a field of that C++ type: a
Python int like an ``int`` field (a bare number), a float like a ``double`` field (``1e-05f``),
a bool as ``True``/``False``, a str quoted, None as ``None``. Values inside lists and function
attributes are TVM objects and are written as such: ints as int32/int64 immediates (``3``,
``3000000000i64``), floats as float32 immediates, lists in brackets.
"""

from __future__ import annotations

from minitvm.ir.attrs import Attrs, DictAttrs, non_default_fields
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.relay.expr import Expr
from minitvm.relay.printer.literals import (
    cpp_float,
    float_imm_literal,
    int_imm_literal,
    str_literal,
)
from minitvm.relay.printer.metadata import MetaTable, type_key
from minitvm.tir.expr import FloatImm, IntImm, StringImm

__all__ = ["AttrPrinter"]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class AttrPrinter:
    """Writes attributes; objects it cannot spell go to ``meta``."""

    __slots__ = ("meta", "show_meta_data")

    def __init__(self, meta: MetaTable, show_meta_data: bool) -> None:
        self.meta = meta
        self.show_meta_data = show_meta_data

    def call_attrs(self, attrs: object, op: Expr) -> list[str]:
        """The ``key=value`` entries of a call's attrs.

        With the metadata section shown, attrs of another class than the operator declares
        go to it as a whole (the parser could not rebuild them otherwise). A call of
        something other than an operator also names the attrs class (``attrs_type_key``).
        """
        if attrs is None:
            return []
        if isinstance(op, Op) and self.show_meta_data:
            declared = op.definition.attrs_type
            if declared is not None and type(attrs) is not declared:
                return [self.meta.ref(attrs)]
        docs = self.generic_attrs(attrs)
        if not isinstance(op, Op):
            docs.append(f"attrs_type_key={str_literal(type_key(attrs))}")
        return docs

    def generic_attrs(self, attrs: object) -> list[str]:
        """``key=value`` for each field differing from its default (every DictAttrs entry)."""
        if isinstance(attrs, DictAttrs):
            return self.dict_attrs(attrs)
        if isinstance(attrs, Attrs):
            return [f"{k}={self.field_value(v)}" for k, v in non_default_fields(attrs)]
        return [self.meta.ref(attrs)]

    def dict_attrs(self, attrs: DictAttrs) -> list[str]:
        """Function attributes, in their order: ``Primitive=1``, ``Compiler="ccompiler"``."""
        return [f"{k}={self.value(v)}" for k, v in attrs.items()]

    def field_value(self, value: object) -> str:
        """A field of an attrs dataclass, written as TVM writes a field of its C++ type."""
        if isinstance(value, bool):
            return "True" if value else "False"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return cpp_float(value) + "f"
        return self.value(value)

    def value(self, value: object) -> str:  # noqa: C901  (a flat dispatch over value kinds)
        """An attribute value that is a TVM object (``PrintAttributeValue``)."""
        match value:
            case None:
                return "None"
            case str() | StringImm():
                return str_literal(value if isinstance(value, str) else value.value)
            case bool():
                return "True" if value else "False"
            case int():
                return str(value) if _INT32_MIN <= value <= _INT32_MAX else f"{value}i64"
            case float():
                return cpp_float(value) + "f"
            case IntImm():
                return int_imm_literal(value)
            case FloatImm():
                return float_imm_literal(value)
            case tuple() | list():
                return "[" + ", ".join(self.value(v) for v in value) + "]"
            case GlobalVar():
                return self.meta.ref(value) if self.show_meta_data else f"'{value.name_hint}'"
            case Attrs() | DictAttrs():
                if self.show_meta_data:
                    return self.meta.ref(value)
                return "{" + ", ".join(self.generic_attrs(value)) + "}"
            case _:
                # Types and other objects have no attribute syntax (``VisitAttrDefault_``).
                return self.meta.ref(value)
