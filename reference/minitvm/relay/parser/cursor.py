"""The parser's position in the token stream, its error helpers, and the step driver.

TVM's parser is recursive descent (``Peek``, ``Match``, ``WhenMatch``...). minitvm keeps that
shape, but a parse method that needs a nested sub-parse does not call it: it is a generator
that yields the sub-parse and is sent back its result. ``drive`` runs such steps on an
explicit stack, so nesting depth costs heap, never Python stack: a 100,000-deep expression
parses at the default recursion limit. Steps of bounded depth are delegated with
``yield from``.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, TypeVar, cast

from minitvm.error import DiagnosticError
from minitvm.ir.node import Span
from minitvm.relay.parser.diagnostics import Diagnostics
from minitvm.relay.parser.tokens import Tok, Token

__all__ = ["Cursor", "drive"]

R = TypeVar("R")


def drive(step: Generator[Any, Any, R]) -> R:
    """Run ``step``, and every sub-step it yields, on an explicit stack; return its result.

    A step yields a sub-step (a generator of the same family) and receives the sub-step's
    result; what a step returns is its result.
    """
    stack: list[Generator[Any, Any, Any]] = [step]
    sub: Generator[Any, Any, Any]
    try:
        sub = next(step)
    except StopIteration as stop:
        return cast("R", stop.value)
    while True:
        stack.append(sub)
        try:
            sub = next(sub)
            continue
        except StopIteration as stop:
            result: Any = stop.value
        # Hand results down until some step asks for another sub-step.
        while True:
            stack.pop()
            if not stack:
                return cast("R", result)
            try:
                sub = stack[-1].send(result)
                break
            except StopIteration as stop:
                result = stop.value


class Cursor:
    """Reads tokens and reports errors at them."""

    def __init__(self, tokens: list[Token], diags: Diagnostics) -> None:
        # A second EOF lets ``peek(1)`` look past the last token without a bounds check.
        self.tokens = [*tokens, tokens[-1]]
        self.pos = 0
        self.last = len(tokens) - 1
        self.diags = diags
        self.source_name = diags.source_name

    # --- reading ----------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        """The token ``ahead`` after the next (0 or 1; the end repeats EOF)."""
        return self.tokens[self.pos + ahead]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if self.pos < self.last:
            self.pos += 1
        return tok

    def accept(self, kind: Tok) -> bool:
        """Consume the next token if it is of ``kind``."""
        if self.tokens[self.pos].kind is kind:
            self.advance()
            return True
        return False

    def expect(self, kind: Tok, context: str = "") -> Token:
        """Consume a token of ``kind`` or stop with "expected ..., found ..."."""
        tok = self.tokens[self.pos]
        if tok.kind is not kind:
            raise self.unexpected((kind,), context)
        return self.advance()

    # --- errors -----------------------------------------------------------------------------

    def unexpected(self, expected: Sequence[Tok | str], context: str = "") -> DiagnosticError:
        """The error that stops the parse at the next token: "expected A, B or C[ context],
        found X" (the caller raises it)."""
        names = [e.description if isinstance(e, Tok) else e for e in expected]
        wanted = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        where = f" {context}" if context else ""
        tok = self.peek()
        return self.fail(tok, f"expected {wanted}{where}, found {tok.describe()}")

    def fail(self, tok: Token, message: str) -> DiagnosticError:
        """The error that stops the parse at ``tok`` (the caller raises it)."""
        return self.diags.fatal(tok.line, tok.column, message)

    def error(self, tok: Token, message: str) -> None:
        """Record an error at ``tok`` and go on parsing."""
        self.diags.emit(tok.line, tok.column, message)

    # --- spans ------------------------------------------------------------------------------

    def span_from(self, start: int) -> Span:
        """The span from token ``start`` to the last token consumed."""
        first = self.tokens[start]
        end = self.tokens[max(self.pos - 1, start)]
        return Span(self.source_name, first.line, end.end_line, first.column, end.end_column)

    def span_between(self, first: int, last: int) -> Span:
        """The span from token ``first`` to token ``last``, both included."""
        a, b = self.tokens[first], self.tokens[last]
        return Span(self.source_name, a.line, b.end_line, a.column, b.end_column)

    def token_span(self, tok: Token) -> Span:
        return Span(self.source_name, tok.line, tok.end_line, tok.column, tok.end_column)
