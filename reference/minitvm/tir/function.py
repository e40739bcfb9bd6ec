"""``PrimFunc``: a TIR function over buffers (TVM's ``include/tvm/tir/function.h``).

A PrimFunc is a ``BaseFunc``, so an ``IRModule`` can hold it next to Relay functions. Its
parameters are handle variables; ``buffer_map`` gives each one the buffer it points to. Calls
are in destination-passing style: outputs are parameters the body writes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.expr import BaseFunc
from minitvm.ir.node import DEF, Span
from minitvm.ir.type import Type
from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import Var
from minitvm.tir.stmt import Stmt

if TYPE_CHECKING:
    from minitvm.ir.attrs import DictAttrs

__all__ = ["PrimFunc"]


def _dict_attrs(attrs: DictAttrs | Mapping[str, object] | None) -> DictAttrs:
    # ir.attrs imports tir.expr, so this module reaches it only at call time.
    from minitvm.ir.attrs import DictAttrs

    return attrs if isinstance(attrs, DictAttrs) else DictAttrs(attrs)


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class PrimFunc(BaseFunc):
    """``def name(params): body`` with ``buffer_map`` binding parameters to buffers."""

    params: tuple[Var, ...] = dataclasses.field(metadata=DEF)
    body: Stmt
    ret_type: Type | None
    param_buffers: tuple[Buffer | None, ...] = dataclasses.field(metadata=DEF)
    """The buffer of each parameter (None for a scalar parameter): ``buffer_map`` in the
    order of ``params``, so structural equality binds the buffers with the parameters."""
    attrs: DictAttrs

    def __init__(
        self,
        params: Sequence[Var],
        body: Stmt,
        ret_type: Type | None = None,
        buffer_map: Mapping[Var, Buffer] | None = None,
        attrs: DictAttrs | Mapping[str, object] | None = None,
        span: Span | None = None,
    ) -> None:
        params = tuple(params)
        bmap = dict(buffer_map or {})
        unknown = [v.name_hint for v in bmap if v not in params]
        if unknown:
            raise DiagnosticError(f"PrimFunc: buffer_map keys {unknown} are not parameters")
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "ret_type", ret_type)
        object.__setattr__(self, "param_buffers", tuple(bmap.get(p) for p in params))
        object.__setattr__(self, "attrs", _dict_attrs(attrs))
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "checked_type_", None)

    @property
    def buffer_map(self) -> dict[Var, Buffer]:
        return {p: b for p, b in zip(self.params, self.param_buffers, strict=True) if b is not None}

    def with_attr(
        self, attr_key: str | Mapping[str, object], attr_value: object = None
    ) -> PrimFunc:
        """A copy with one attribute (or a dict of them) set."""
        attrs = self.attrs
        items = attr_key.items() if isinstance(attr_key, Mapping) else [(attr_key, attr_value)]
        for key, value in items:
            attrs = attrs.with_attr(key, value)
        return PrimFunc(self.params, self.body, self.ret_type, self.buffer_map, attrs, self.span)

    def with_body(self, body: Stmt) -> PrimFunc:
        return PrimFunc(self.params, body, self.ret_type, self.buffer_map, self.attrs, self.span)

    def script(self, name: str | None = None) -> str:
        """The function in TVMScript syntax, as TVM's ``PrimFunc.script()`` prints it."""
        from minitvm.tir.script import prim_func_script

        return prim_func_script(self, name)

    def astext(self) -> str:
        return self.script()

    @override
    def __str__(self) -> str:
        return self.script()

    @override
    def __repr__(self) -> str:
        return self.script()
