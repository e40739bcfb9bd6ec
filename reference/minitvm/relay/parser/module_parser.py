"""Modules in the Relay text format: the version header and global definitions.

TVM: ``Parser::ParseModule``, ``ParseSemVer`` and ``ParseDefinitions`` in
``src/relay/parser/parser.cc``::

    module     ::= VERSION definition* METADATA? EOF
    definition ::= 'def' GLOBAL function | typedef        (typedef: see ``adt_parser``)

The metadata section was split off by the tokenizer and already decoded. A global defined
twice is an error, and so (unlike TVM, where InferType reports it later) is a global used
but defined neither in the text nor in the initial module.
"""

from __future__ import annotations

from minitvm.ir.adt import TypeData
from minitvm.ir.expr import GlobalVar
from minitvm.relay.function import Function
from minitvm.relay.parser.adt_parser import AdtParser
from minitvm.relay.parser.cursor import drive
from minitvm.relay.parser.tokens import Tok
from minitvm.relay.printer import SEMVER

__all__ = ["ModuleParser"]


class ModuleParser(AdtParser):
    """Parses the header and the definitions of a module (and everything below them)."""

    def version(self, required: bool) -> None:
        """The ``#[version = "0.0.5"]`` header: required for modules, optional otherwise."""
        tok = self.peek()
        if tok.kind is Tok.VERSION:
            self.advance()
            if tok.name != SEMVER:
                self.error(
                    tok, f'unsupported text format version "{tok.name}"; expected "{SEMVER}"'
                )
        elif required:
            self.error(
                tok,
                f'expected the version header `#[version = "{SEMVER}"]`, found {tok.describe()}',
            )

    def definitions(
        self, predefined: set[str], types: list[TypeData] | None = None
    ) -> list[tuple[GlobalVar, Function]]:
        """``def @name ...`` and type definitions up to the end of the text (the latter are
        appended to ``types``); ``predefined`` are the names the initial module defines
        already (a definition here replaces theirs)."""
        defs: list[tuple[GlobalVar, Function]] = []
        defined: set[str] = set()
        defined_types: set[str] = set()
        while True:
            tok = self.peek()
            if tok.kind is Tok.EOF:
                break
            if tok.kind is Tok.TYPE or tok.kind is Tok.EXTERN:
                data = self.type_definition(defined_types)
                if types is not None:
                    types.append(data)
                continue
            if tok.kind is not Tok.DEF:
                raise self.unexpected(
                    ["a definition `def @name(...) { ... }`", "a type definition", Tok.EOF]
                )
            start = self.pos
            self.advance()
            name = self.expect(Tok.GLOBAL, "after `def`")
            if name.name in defined:
                self.error(name, f"the global `@{name.name}` is defined twice")
            defined.add(name.name)
            gv = self.global_var(name.name)
            defs.append((gv, drive(self.function(start))))
        for name_, use in self.global_uses.items():
            if name_ not in defined and name_ not in predefined:
                self.error(use, f"the global `@{name_}` is not defined")
        return defs
