"""The Relay text parser: reads TVM's Relay text format (version 0.0.5) back into IR.

TVM: ``src/relay/parser/`` and ``python/tvm/relay/parser.py``. ``parse`` reads a module and
type checks it, ``parse_expr`` reads one expression. The parser never evaluates text and never
recurses over the nesting depth of a program; every error is a ``DiagnosticError`` located
at ``source:line:column``.
"""

from minitvm.relay.parser.api import fromtext, parse, parse_expr, read_module

__all__ = ["fromtext", "parse", "parse_expr", "read_module"]
