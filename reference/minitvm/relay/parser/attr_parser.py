"""Attributes in the Relay text format: ``key=value`` lists, their values, meta references.

TVM: ``Parser::ParseAttrs``, ``ParseAttributeValue``, ``ParseMetaRef`` and ``ParseCallArgs``
in ``src/relay/parser/parser.cc``::

    attrs  ::= IDENT '=' value (',' IDENT '=' value)*
    value  ::= INTEGER | FLOAT | BOOL | STRING | 'None' | 'nullptr' | META
             | '[' (value (',' value)* ','?)? ']' | '(' value ')'

Values are read as TVM objects: integers as ``IntImm`` of their literal's dtype, booleans as
``IntImm("bool")``, floats as ``FloatImm`` of the decimal as written (not rounded to the
suffix's width), strings, ``None``, tuples for lists. How they become call attrs is decided by
the callee:

- a call of an operator declaring an attrs class (``OpDef.attrs_type``) builds that class,
  each value converted to its field's type; unknown names, missing required fields and
  ill-typed values are errors; no entries at all gives the class's defaults;
- a call of an operator declaring none takes no entries (its attrs class is not known);
- any other callee names the class with ``attrs_type_key="..."`` (an attrs class's type key:
  its ``type_key`` attribute, or ``relay.attrs.<ClassName>``);
- a single ``meta[key][i]`` in the attribute position is the attrs object itself.

Lists nest at most ``MAX_VALUE_DEPTH`` deep, which bounds the recursion here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs, AttrValue, DictAttrs
from minitvm.ir.node import Node
from minitvm.ir.op import Op
from minitvm.relay.expr import Expr
from minitvm.relay.parser.convert import (
    MAX_VALUE_DEPTH,
    ConversionError,
    attrs_class_for_key,
    build_dataclass,
)
from minitvm.relay.parser.diagnostics import Diagnostics
from minitvm.relay.parser.tokens import Tok, Token
from minitvm.relay.parser.type_parser import TypeParser
from minitvm.tir.expr import FloatImm, IntImm

__all__ = ["AttrItems", "AttrParser"]

AttrItems = list[tuple[Token, AttrValue]]
"""``key=value`` entries in text order, each with its key's token."""


class AttrParser(TypeParser):
    """Parses attributes and resolves meta references against ``meta``."""

    def __init__(
        self, tokens: list[Token], diags: Diagnostics, meta: Mapping[str, list[object]]
    ) -> None:
        super().__init__(tokens, diags)
        self.meta = meta

    # --- meta references --------------------------------------------------------------------

    def meta_object(self, tok: Token) -> object | None:
        """The object ``meta[key][i]`` refers to; None (and an error) if there is none."""
        entries = self.meta.get(tok.name)
        index = int(tok.number)
        if entries is None:
            self.error(tok, f"no entry in the metadata section for `{tok.name}`")
            return None
        if index >= len(entries):
            self.error(
                tok,
                f"index {index} is out of bounds for `{tok.name}`, "
                f"which has {len(entries)} entries in the metadata section",
            )
            return None
        return entries[index]

    # --- values -----------------------------------------------------------------------------

    def attr_items(self) -> AttrItems:
        """``key=value, ...`` up to (not including) the closing token."""
        items: AttrItems = []
        seen: set[str] = set()
        while True:
            key = self.expect(Tok.IDENT, "naming an attribute")
            if key.name in seen:
                self.error(key, f"attribute `{key.name}` is given twice")
            seen.add(key.name)
            self.expect(Tok.EQUAL, f"after the attribute name `{key.name}`")
            items.append((key, self.attr_value(0)))
            if not self.accept(Tok.COMMA) or self.peek().kind is not Tok.IDENT:
                return items

    def attr_value(self, depth: int) -> AttrValue:
        tok = self.peek()
        kind = tok.kind
        if kind is Tok.INTEGER or kind is Tok.BOOL:
            self.advance()
            return IntImm("bool" if kind is Tok.BOOL else tok.name, int(tok.number))
        if kind is Tok.FLOAT:
            self.advance()
            return FloatImm(tok.name, float(tok.number))
        if kind is Tok.STRING:
            self.advance()
            return tok.name
        if kind is Tok.IDENT and tok.name in ("None", "nullptr"):
            self.advance()
            return None
        if kind is Tok.META:
            self.advance()
            return self.meta_value(tok)
        if kind is Tok.LBRACKET or kind is Tok.LPAREN:
            return self.attr_list(tok, depth)
        raise self.unexpected(["an attribute value (a number, string, boolean, None or list)"])

    def attr_list(self, tok: Token, depth: int) -> AttrValue:
        """``[v, ...]`` (a tuple) or ``(v)``, at most ``MAX_VALUE_DEPTH`` deep."""
        if depth >= MAX_VALUE_DEPTH:
            raise self.fail(tok, f"attribute values may nest at most {MAX_VALUE_DEPTH} lists deep")
        self.advance()
        if tok.kind is Tok.LPAREN:
            value = self.attr_value(depth + 1)
            self.expect(Tok.RPAREN, "to close the parenthesized attribute value")
            return value
        values: list[AttrValue] = []
        while not self.accept(Tok.RBRACKET):
            values.append(self.attr_value(depth + 1))
            if not self.accept(Tok.COMMA):
                self.expect(Tok.RBRACKET, "to close the list")
                break
        return tuple(values)

    def meta_value(self, tok: Token) -> AttrValue:
        obj = self.meta_object(tok)
        if obj is None or isinstance(obj, Node | str | int | float | tuple):
            return cast("AttrValue", obj)
        self.error(tok, f"`{tok.text}` is a {type(obj).__name__}, not an attribute value")
        return None

    # --- building attrs ---------------------------------------------------------------------

    def dict_attrs(self, items: AttrItems) -> DictAttrs:
        try:
            return DictAttrs({key.name: value for key, value in items})
        except DiagnosticError as err:
            self.error(items[0][0], f"invalid attributes: {err.message}")
            return DictAttrs()

    def build_attrs(self, cls: type, items: AttrItems, at: Token) -> Attrs | None:
        """An instance of the attrs class ``cls`` from ``items`` (errors at their keys)."""
        try:
            built = build_dataclass(cls, {key.name: value for key, value in items})
        except ConversionError as err:
            where = next((key for key, _ in items if key.name == err.field), at)
            self.error(where, str(err))
            return None
        return built if isinstance(built, Attrs) else None

    def call_attrs(self, callee: Expr, items: AttrItems | None, at: Token) -> Attrs | None:
        """The attrs of a call of ``callee`` written as ``items`` (None: no entries)."""
        if isinstance(callee, Op):
            declared = callee.definition.attrs_type
            if declared is not None:
                return self.build_attrs(declared, items or [], at)
            if items:
                self.error(
                    items[0][0],
                    f"operator `{callee.name}` declares no attributes class, "
                    "so attributes of its calls cannot be read",
                )
            return None
        if not items:
            return None
        keyed = [(key, value) for key, value in items if key.name == "attrs_type_key"]
        rest = [(key, value) for key, value in items if key.name != "attrs_type_key"]
        if not keyed or not isinstance(keyed[0][1], str):
            self.error(
                items[0][0],
                'the attributes of a call of a non-operator need `attrs_type_key="..."` '
                "naming their class",
            )
            return None
        key_tok, type_key = keyed[0][0], keyed[0][1]
        classes = attrs_class_for_key(type_key)
        if len(classes) != 1:
            problem = "no attrs class has" if not classes else "several attrs classes have"
            self.error(key_tok, f"{problem} the type key `{type_key}`")
            return None
        return self.build_attrs(classes[0], rest, at)
