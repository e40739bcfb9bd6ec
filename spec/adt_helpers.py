"""Shared by the ADT and pattern-matching spec tests: scalar types, int32 constants and a
``List`` type built with the Python API."""

from __future__ import annotations

from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr

__all__ = ["F32", "I32", "ListType", "c"]

I32 = relay.scalar_type("int32")
F32 = relay.scalar_type("float32")


def c(value: int) -> relay.Constant:
    return relay.const(value, "int32")


class ListType:
    """``type List[a] { Cons(a, List[a]), Nil }`` built with the Python API."""

    def __init__(self) -> None:
        self.a = relay.TypeVar("a")
        self.gtv = relay.GlobalTypeVar("List")
        self.cons = relay.Constructor("Cons", [self.a, self.gtv(self.a)], self.gtv)
        self.nil = relay.Constructor("Nil", [], self.gtv)
        self.data = relay.TypeData(self.gtv, [self.a], [self.cons, self.nil])

    def of(self, *items: Expr) -> Expr:
        out: Expr = self.nil()
        for item in reversed(items):
            out = self.cons(item, out)
        return out

    def module(self) -> IRModule:
        """A module defining only this type."""
        return IRModule({}, {self.gtv: self.data})
