"""Lexical scopes of the parser: names to the variables they denote.

TVM: ``ScopeStack`` in ``src/relay/parser/parser.cc``. TVM searches a stack of maps from the
innermost scope out; here each name keeps its own stack of bindings and each scope lists the
names it bound, so a lookup is one dictionary access however deep the scopes nest (a
100,000-deep let chain opens 100,000 scopes). Free variables (``free_var``) live outside
every scope and are found last.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["ScopeStack"]

T = TypeVar("T")


class ScopeStack(Generic[T]):
    __slots__ = ("_bindings", "_free", "_scopes")

    def __init__(self) -> None:
        self._bindings: dict[str, list[T]] = {}
        self._scopes: list[list[str]] = [[]]
        self._free: dict[str, T] = {}

    def push(self) -> None:
        self._scopes.append([])

    def pop(self, count: int = 1) -> None:
        """Close the ``count`` innermost scopes, forgetting what they bound."""
        for _ in range(count):
            for name in self._scopes.pop():
                stack = self._bindings[name]
                stack.pop()
                if not stack:
                    del self._bindings[name]

    def bind(self, name: str, value: T) -> None:
        """Bind ``name`` in the innermost scope, shadowing outer bindings."""
        self._bindings.setdefault(name, []).append(value)
        self._scopes[-1].append(name)

    def bind_free(self, name: str, value: T) -> bool:
        """Declare a free variable; False if ``name`` was declared free already."""
        if name in self._free:
            return False
        self._free[name] = value
        return True

    def lookup(self, name: str) -> T | None:
        stack = self._bindings.get(name)
        if stack:
            return stack[-1]
        return self._free.get(name)
