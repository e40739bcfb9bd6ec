"""Peano naturals for tests (TVM's ``relay.testing.nat``): build and read ``nat`` values.

The ``nat`` type and its functions come from the standard library's ``nat.rly``, which these
helpers import into the prelude's module when it is missing. Reading a value walks it with
a loop, so a deep number does not recurse.
"""

from __future__ import annotations

from minitvm.error import TVMError
from minitvm.ir.adt import Constructor
from minitvm.relay.expr import Call, Expr
from minitvm.relay.interpreter.values import ConstructorValue
from minitvm.relay.prelude import Prelude

__all__ = ["count", "make_nat_expr", "make_nat_value"]


def _nat(prelude: Prelude) -> tuple[Constructor, Constructor]:
    prelude.mod.import_from_std("nat.rly")
    zero = prelude.get_ctor("nat", "zero")
    succ = prelude.get_ctor("nat", "succ")
    return zero, succ


def make_nat_expr(prelude: Prelude, n: int) -> Expr:
    """The expression ``succ(succ(...zero()))`` with ``n`` successors."""
    if n < 0:
        raise TVMError(f"make_nat_expr: {n} is not a natural number")
    zero, succ = _nat(prelude)
    expr: Expr = Call(zero, [])
    for _ in range(n):
        expr = Call(succ, [expr])
    return expr


def make_nat_value(prelude: Prelude, n: int) -> ConstructorValue:
    """The value of ``make_nat_expr(prelude, n)``, built directly."""
    if n < 0:
        raise TVMError(f"make_nat_value: {n} is not a natural number")
    zero, succ = _nat(prelude)
    value = ConstructorValue(zero.tag, [], zero)
    for _ in range(n):
        value = ConstructorValue(succ.tag, [value], succ)
    return value


def count(prelude: Prelude, n: object) -> int:
    """The number a ``nat`` value stands for."""
    zero, succ = _nat(prelude)
    total = 0
    while isinstance(n, ConstructorValue) and n.tag == succ.tag:
        total += 1
        n = n.fields[0]
    if not (isinstance(n, ConstructorValue) and n.tag == zero.tag):
        raise TVMError(f"count: {n!r} is not a nat value")
    return total
