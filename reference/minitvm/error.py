"""Exceptions raised to users, named as TVM names them (``tvm.error``)."""

from __future__ import annotations

__all__ = ["DiagnosticError", "InternalError", "OpNotImplemented", "TVMError"]


class TVMError(RuntimeError):
    """Base class of every error minitvm raises on purpose."""


class DiagnosticError(TVMError):
    """A user program, attribute or text is invalid.

    ``path`` locates the offending construct: a path from the function root
    (``main.body.args[0]``) or ``source:line:column`` for parsed text.
    """

    def __init__(self, message: str, path: str | None = None) -> None:
        self.message = message
        self.path = path
        super().__init__(message if path is None else f"{path}: {message}")


class InternalError(TVMError):
    """An invariant of minitvm itself was broken: a bug, never a user error."""


class OpNotImplemented(TVMError):
    """An operator has no implementation for the requested facility."""
