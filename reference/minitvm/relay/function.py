"""Relay functions: ``fn [type_params](params) -> ret_type { body }`` with attributes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from minitvm.ir.attrs import DictAttrs
from minitvm.ir.expr import BaseFunc
from minitvm.ir.node import DEF, Span
from minitvm.ir.type import Type, TypeVar
from minitvm.relay.expr import Expr, ExprWithOp, Var

__all__ = ["Function"]


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Function(ExprWithOp, BaseFunc):
    """A function. ``attrs`` carries TVM's function attributes (``Primitive``, ``Compiler``).

    ``ret_type`` and parameter annotations may be None before InferType fills them.
    """

    params: tuple[Var, ...] = dataclasses.field(metadata=DEF)
    body: Expr
    ret_type: Type | None
    type_params: tuple[TypeVar, ...] = dataclasses.field(metadata=DEF)
    attrs: DictAttrs

    def __init__(
        self,
        params: Sequence[Var],
        body: Expr,
        ret_type: Type | None = None,
        type_params: Sequence[TypeVar] | None = None,
        attrs: DictAttrs | Mapping[str, object] | None = None,
        span: Span | None = None,
        *,
        checked_type_: Type | None = None,
    ) -> None:
        object.__setattr__(self, "params", tuple(params))
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "ret_type", ret_type)
        object.__setattr__(self, "type_params", tuple(type_params or ()))
        object.__setattr__(
            self, "attrs", attrs if isinstance(attrs, DictAttrs) else DictAttrs(attrs)
        )
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "checked_type_", checked_type_)

    def with_attr(
        self, attr_key: str | Mapping[str, object], attr_value: object = None
    ) -> Function:
        """A copy with one attribute (or a dict of them) set."""
        attrs = self.attrs
        items = attr_key.items() if isinstance(attr_key, Mapping) else [(attr_key, attr_value)]
        for key, value in items:
            attrs = attrs.with_attr(key, value)
        return Function(self.params, self.body, self.ret_type, self.type_params, attrs, self.span)

    def without_attr(self, attr_key: str) -> Function:
        attrs = self.attrs.without_attr(attr_key)
        return Function(self.params, self.body, self.ret_type, self.type_params, attrs, self.span)

    def is_primitive(self) -> bool:
        value = self.attrs.get("Primitive")
        return value is not None and bool(value)
