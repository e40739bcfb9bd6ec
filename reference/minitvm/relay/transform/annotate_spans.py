"""``relay.transform.AnnotateSpans``: give every node a span by printing and re-parsing.

TVM: ``AnnotateSpans`` in ``src/relay/parser/parser.cc``. A module built in Python has no
source positions; printing it with its metadata and parsing the text back as the source
``GeneratedSource`` gives each parsed node the span of its text, so later diagnostics can
point at a line and column of the printed program. The result is type checked, as every
parsed module is.
"""

from __future__ import annotations

from typing_extensions import override

from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, PassContext, PassInfo, register_pass
from minitvm.relay.parser.api import parse
from minitvm.relay.printer import astext

__all__ = ["AnnotateSpans"]

_INFO = PassInfo(0, "AnnotateSpans")

SOURCE_NAME = "GeneratedSource"


class AnnotateSpans(Pass):
    """Print the module and parse it back, so that its nodes carry spans."""

    @override
    @property
    def info(self) -> PassInfo:
        return _INFO

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        return parse(astext(mod, show_meta_data=True), SOURCE_NAME)


register_pass("AnnotateSpans", AnnotateSpans)
