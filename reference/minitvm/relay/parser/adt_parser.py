"""References, type definitions and pattern matching in the Relay text format.

TVM: ``ParseTypeDef``, ``ParseMatch``, ``ParseMatchArm``, ``ParsePattern`` and the ``ref``
cases of ``ParseAtomicExpr`` in ``src/relay/parser/parser.cc``::

    typedef  ::= 'extern'? 'type' IDENT ('[' IDENT (',' IDENT)* ']')?
                 ('{' (ctor (',' ctor)* ','?)? '}')?         an extern type has no '{...}'
    ctor     ::= IDENT ('(' type (',' type)* ','? ')')?
    ref      ::= 'ref' '(' expr ')' | 'ref_read' '(' expr ')'
               | 'ref_write' '(' expr ',' expr ')'
    match    ::= ('match' | 'match?') postfix '{' (clause (',' clause)* ','?)? '}'
    clause   ::= pattern '=' '>' expr
    pattern  ::= '_' | LOCAL (':' type)? | IDENT ('(' patterns ')')? | '(' patterns ')'
    patterns ::= (pattern (',' pattern)* ','?)?

The names of the text's types are collected before anything is parsed, so a type (in a
definition or an annotation) may name one defined further down; a constructor must be defined
before it is used, as in TVM. A definition of a type the initial module has replaces it
(with its constructors), as a definition of a global does. Each clause is a scope: its
pattern's variables are bound in its right-hand side only. Patterns and matches nest through
``drive``'s explicit stack.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeAlias

from typing_extensions import override

from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.type import GlobalTypeVar, Type, TypeKind, TypeVar
from minitvm.relay.adt import (
    Clause,
    Match,
    Pattern,
    PatternConstructor,
    PatternTuple,
    PatternVar,
    PatternWildcard,
)
from minitvm.relay.expr import RefCreate, RefRead, RefWrite
from minitvm.relay.parser.cursor import drive
from minitvm.relay.parser.expr_parser import ExprParser, ExprStep
from minitvm.relay.parser.tokens import Tok

__all__ = ["AdtParser"]

PatternStep: TypeAlias = Generator["PatternStep", Pattern, Pattern]

_REFS = frozenset({Tok.REF, Tok.REF_READ, Tok.REF_WRITE})
_MATCHES = frozenset({Tok.MATCH, Tok.MATCH_PARTIAL})


class AdtParser(ExprParser):
    """Adds references, matches and type definitions to the expression parser."""

    # --- type definitions ---------------------------------------------------------------------

    def init_types(self, types: dict[GlobalTypeVar, TypeData]) -> None:
        """Make the initial module's types and constructors known, then the names of the
        types the text defines (whose definitions replace the initial module's)."""
        for gtv, data in types.items():
            self.type_names[gtv.name_hint] = gtv
            for ctor in data.constructors:
                self.ctors[ctor.name_hint] = ctor
        tokens = self.tokens
        for i, tok in enumerate(tokens[:-1]):
            if tok.kind is Tok.TYPE and tokens[i + 1].kind is Tok.IDENT:
                name = tokens[i + 1].name
                old = self.type_names.get(name)
                if old is not None and old in types:
                    for ctor in types[old].constructors:
                        self.ctors.pop(ctor.name_hint, None)
                self.type_names[name] = GlobalTypeVar(name, TypeKind.AdtHandle)

    def type_definition(self, defined: set[str]) -> TypeData:
        """``extern? type Name[A, ...] { C(T, ...), ... }``; ``defined`` holds the names of
        the types defined so far in the text."""
        start = self.pos
        extern = self.accept(Tok.EXTERN)
        self.expect(Tok.TYPE, "after `extern`")
        name_tok = self.expect(Tok.IDENT, "naming the type after `type`")
        if name_tok.name in defined:
            self.error(name_tok, f"the type `{name_tok.name}` is defined twice")
        defined.add(name_tok.name)
        header = self.type_names[name_tok.name]
        self.type_scopes.push()
        type_vars: list[TypeVar] = []
        if self.peek().kind is Tok.LBRACKET:
            type_vars = self.bind_type_params()
        ctors: list[Constructor] = []
        if self.peek().kind is Tok.LBRACE:
            brace = self.advance()
            if extern:
                self.error(brace, f"the extern type `{header.name_hint}` cannot have constructors")
            while not self.accept(Tok.RBRACE):
                ctors.append(self.constructor(header))
                if not self.accept(Tok.COMMA):
                    self.expect(Tok.RBRACE, "to close the constructors")
                    break
        self.type_scopes.pop()
        return TypeData(header, type_vars, ctors, span=self.span_from(start))

    def constructor(self, header: GlobalTypeVar) -> Constructor:
        tok = self.expect(Tok.IDENT, "naming a constructor")
        fields: list[Type] = []
        if self.accept(Tok.LPAREN):
            while not self.accept(Tok.RPAREN):
                fields.append(self.parse_type())
                if not self.accept(Tok.COMMA):
                    self.expect(Tok.RPAREN, "to close the fields of a constructor")
                    break
        ctor = Constructor(tok.name, fields, header, span=self.token_span(tok))
        if tok.name in self.ctors:
            self.error(tok, f"the constructor `{tok.name}` is defined twice")
        self.ctors[tok.name] = ctor
        return ctor

    # --- expressions --------------------------------------------------------------------------

    @override
    def atom(self) -> ExprStep:
        kind = self.peek().kind
        if kind in _REFS:
            return (yield from self.ref_expr())
        if kind in _MATCHES:
            return (yield from self.match_expr())
        return (yield from super().atom())

    def ref_expr(self) -> ExprStep:
        start = self.pos
        tok = self.advance()
        self.expect(Tok.LPAREN, f"after {tok.describe()}")
        first = yield self.expr()
        if tok.kind is Tok.REF_WRITE:
            self.expect(Tok.COMMA, "between the reference and the value of `ref_write`")
            value = yield self.expr()
            self.expect(Tok.RPAREN, "to close `ref_write`")
            return RefWrite(first, value, span=self.span_from(start))
        self.expect(Tok.RPAREN, f"to close {tok.describe()}")
        if tok.kind is Tok.REF:
            return RefCreate(first, span=self.span_from(start))
        return RefRead(first, span=self.span_from(start))

    def match_expr(self) -> ExprStep:
        start = self.pos
        complete = self.advance().kind is Tok.MATCH
        data = yield from self.postfix()
        self.expect(Tok.LBRACE, "to open the clauses of a match")
        clauses: list[Clause] = []
        while not self.accept(Tok.RBRACE):
            self.scopes.push()
            bound: set[str] = set()
            # Patterns hold no expressions: their own drive nests no deeper than one level.
            lhs = drive(self.pattern(bound))
            self.expect(Tok.EQUAL, "(`=>`) after the pattern of a clause")
            self.expect(Tok.GT, "(`=>`) after the pattern of a clause")
            rhs = yield self.expr()
            self.scopes.pop()
            clauses.append(Clause(lhs, rhs))
            if not self.accept(Tok.COMMA):
                self.expect(Tok.RBRACE, "to close the clauses of a match")
                break
        return Match(data, clauses, complete, span=self.span_from(start))

    def pattern(self, bound: set[str]) -> PatternStep:
        """A pattern; its variables are bound in the current scope (``bound``: the names
        the clause's pattern has bound so far)."""
        tok = self.peek()
        start = self.pos
        if tok.kind is Tok.UNDERSCORE:
            self.advance()
            return PatternWildcard(span=self.token_span(tok))
        if tok.kind is Tok.LOCAL:
            var = self.binder("in a pattern")
            if var.name_hint in bound:
                self.error(tok, f"the pattern binds `%{var.name_hint}` twice")
            bound.add(var.name_hint)
            self.scopes.bind(var.name_hint, var)
            return PatternVar(var, span=self.token_span(tok))
        if tok.kind is Tok.IDENT:
            self.advance()
            ctor = self.ctors.get(tok.name)
            if ctor is None:
                raise self.fail(
                    tok,
                    f"undefined constructor `{tok.name}` in a pattern (a pattern variable is "
                    f"written `%{tok.name}`)",
                )
            subs: list[Pattern] = []
            if self.peek().kind is Tok.LPAREN:
                subs = yield from self.sub_patterns(bound)
            return PatternConstructor(ctor, subs, span=self.span_from(start))
        if tok.kind is Tok.LPAREN:
            subs = yield from self.sub_patterns(bound)
            return PatternTuple(subs, span=self.span_from(start))
        raise self.unexpected(
            [Tok.UNDERSCORE, Tok.LOCAL, "a constructor", Tok.LPAREN], "as a pattern"
        )

    def sub_patterns(self, bound: set[str]) -> Generator[PatternStep, Pattern, list[Pattern]]:
        self.expect(Tok.LPAREN)
        subs: list[Pattern] = []
        while not self.accept(Tok.RPAREN):
            subs.append((yield self.pattern(bound)))
            if not self.accept(Tok.COMMA):
                self.expect(Tok.RPAREN, "to close the sub-patterns")
                break
        return subs
