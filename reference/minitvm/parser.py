"""``tvm.parser``: TVM's older home of the Relay parser, kept as aliases.

TVM: ``python/tvm/parser.py``, whose functions forward to ``tvm.relay``. The imports are
function-local, as there, so importing ``minitvm`` does not import Relay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minitvm.ir.module import IRModule
    from minitvm.relay.expr import Expr

__all__ = ["fromtext", "parse", "parse_expr"]


def parse(
    source: str,
    source_name: str = "from_string",
    init_module: IRModule | None = None,
    init_meta_table: Mapping[str, Sequence[object]] | None = None,
) -> IRModule:
    """``tvm.relay.parse``."""
    from minitvm.relay.parser import parse as parse_module

    return parse_module(source, source_name, init_module, init_meta_table)


def fromtext(source: str, source_name: str = "from_string") -> IRModule:
    """``tvm.relay.fromtext``."""
    from minitvm.relay.parser import fromtext as fromtext_module

    return fromtext_module(source, source_name)


def parse_expr(source: str) -> Expr:
    """``tvm.relay.parse_expr``."""
    from minitvm.relay.parser import parse_expr as parse_expression

    return parse_expression(source)
