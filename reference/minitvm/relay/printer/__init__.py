"""The Relay text format, printing side: ``astext`` (TVM's ``AsText`` and ``PrettyPrint``).

TVM: ``src/relay/printer/text_printer.{h,cc}``. ``astext`` writes the version header, the
program, and the metadata section when anything was put in it; ``str()`` of a node or module
is the program alone (TVM's ``PrettyPrint``).
"""

from __future__ import annotations

from collections.abc import Callable

from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.printer.text_printer import TextPrinter

__all__ = ["SEMVER", "astext"]

SEMVER = "0.0.5"

_METADATA_OMITTED = (
    "/* For debugging purposes the metadata section has been omitted.\n"
    " * If you would like to see the full metadata section you can set the \n"
    " * option to `True` when invoking `astext`. \n"
    " */"
)


def astext(
    obj: Expr | IRModule,
    show_meta_data: bool = True,
    version_header: bool = True,
    annotate: Callable[[Expr], str] | None = None,
) -> str:
    """``obj`` in the Relay text format.

    ``version_header=False`` is TVM's ``PrettyPrint`` (what ``str()`` gives): no header, and
    no note when the metadata section is left out. ``annotate(expr)``, when given, replaces
    the `` /* ty=... */`` comments with its own text.
    """
    printer = TextPrinter(show_meta_data, annotate)
    if isinstance(obj, IRModule):
        body = printer.print_module(obj)
    else:
        body = printer.print_final(obj)
    header = f'#[version = "{SEMVER}"]\n' if version_header else ""
    footer = ""
    if printer.meta:
        footer = "\n"
        if show_meta_data:
            footer += "#[metadata]\n" + printer.meta.to_json()
        elif version_header:
            footer += _METADATA_OMITTED
    return header + body + footer
