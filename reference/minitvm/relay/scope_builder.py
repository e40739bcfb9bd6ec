"""``relay.ScopeBuilder``: build let chains and if/else scopes imperatively, as in TVM."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from minitvm.error import TVMError
from minitvm.ir.type import Type
from minitvm.relay.builder import var as make_var
from minitvm.relay.expr import Expr, If, Let, Var

__all__ = ["ScopeBuilder"]


@dataclass
class _PendingIf:
    """An ``if_scope`` whose ``else_scope`` is still to come."""

    cond: Expr
    true_branch: Expr


def _make_lets(bindings: list[tuple[Var, Expr]], ret_value: Expr) -> Expr:
    body = ret_value
    for v, value in reversed(bindings):
        body = Let(v, value, body)
    return body


class ScopeBuilder:
    """Builds ``let`` chains and ``if`` expressions scope by scope.

    >>> sb = ScopeBuilder()
    >>> x = sb.let("x", relay.const(1))
    >>> sb.ret(x)
    >>> expr = sb.get()
    """

    def __init__(self) -> None:
        self._bindings: list[list[tuple[Var, Expr]]] = [[]]
        self._ret_values: list[Expr | _PendingIf | None] = [None]

    def _enter_scope(self) -> None:
        self._bindings.append([])
        self._ret_values.append(None)

    def _exit_scope(self) -> tuple[list[tuple[Var, Expr]], Expr]:
        bindings = self._bindings.pop()
        ret = self._ret_values.pop()
        if ret is None or isinstance(ret, _PendingIf):
            raise TVMError("ScopeBuilder: a scope ended without a return value (call ret())")
        return bindings, ret

    def let(self, var: Var | str | tuple[str, Type], value: Expr) -> Var:
        """Bind ``value`` to a new (or given) variable in the current scope."""
        if isinstance(var, tuple):
            var = make_var(var[0], var[1])
        elif isinstance(var, str):
            var = make_var(var)
        self._bindings[-1].append((var, value))
        return var

    @contextmanager
    def if_scope(self, cond: Expr) -> Iterator[None]:
        """Open the true branch of an ``if``; an ``else_scope`` must follow."""
        self._enter_scope()
        yield
        bindings, ret_value = self._exit_scope()
        if self._ret_values[-1] is not None:
            raise TVMError("ScopeBuilder: the result of the enclosing scope is already set")
        self._ret_values[-1] = _PendingIf(cond, _make_lets(bindings, ret_value))

    @contextmanager
    def else_scope(self) -> Iterator[None]:
        """Open the false branch of the ``if`` just closed."""
        pending = self._ret_values[-1]
        if not isinstance(pending, _PendingIf):
            raise TVMError("ScopeBuilder: else_scope must directly follow an if_scope")
        self._ret_values[-1] = None
        self._enter_scope()
        yield
        bindings, ret_value = self._exit_scope()
        self._ret_values[-1] = If(
            pending.cond, pending.true_branch, _make_lets(bindings, ret_value)
        )

    def ret(self, value: Expr) -> None:
        """Set the result of the current scope."""
        if self._ret_values[-1] is not None:
            raise TVMError("ScopeBuilder: the result of this scope is already set")
        self._ret_values[-1] = value

    def get(self) -> Expr:
        """The expression built so far; only valid at the outermost scope."""
        if len(self._bindings) != 1:
            raise TVMError("ScopeBuilder: get() called inside an open scope")
        bindings = self._bindings[-1]
        ret = self._ret_values[-1]
        if ret is None or isinstance(ret, _PendingIf):
            raise TVMError("ScopeBuilder: no return value set (call ret(), or add else_scope)")
        return _make_lets(bindings, ret)
