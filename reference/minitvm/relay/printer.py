"""The Relay text printer (to be implemented)."""

from __future__ import annotations

from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr

__all__ = ["astext"]


def astext(obj: Expr | IRModule, show_meta_data: bool = True, version_header: bool = True) -> str:
    raise NotImplementedError
