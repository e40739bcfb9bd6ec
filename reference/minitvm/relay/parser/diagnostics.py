"""Parse diagnostics: where each error is, what was expected, and the source line under it.

TVM: ``include/tvm/ir/diagnostic.h`` (``DiagnosticContext``: ``Emit`` collects, ``EmitFatal``
stops, ``Render`` raises with everything collected). An error that leaves the parser able to
go on (a literal out of range, an undeclared variable) is collected; a syntax error stops
the parse at once. Either way one ``DiagnosticError`` carries every error found so far, each
as ``source:line:column: message`` followed by its source line and a caret.
"""

from __future__ import annotations

from dataclasses import dataclass

from minitvm.error import DiagnosticError

__all__ = ["Diagnostics", "Location"]

_SNIPPET_WIDTH = 100


@dataclass(frozen=True, slots=True)
class Location:
    line: int
    column: int


class Diagnostics:
    """The errors of one parse, in the order they were found."""

    __slots__ = ("_line_starts", "errors", "source", "source_name")

    def __init__(self, source_name: str, source: str) -> None:
        self.source_name = source_name
        self.source = source
        self.errors: list[tuple[Location, str]] = []
        self._line_starts: list[int] | None = None

    def emit(self, line: int, column: int, message: str) -> None:
        """Record an error the parser can continue after."""
        self.errors.append((Location(line, column), message))

    def fatal(self, line: int, column: int, message: str) -> DiagnosticError:
        """Record an error that stops the parse; the caller raises what this returns."""
        self.emit(line, column, message)
        return self.error()

    def check(self) -> None:
        """Raise if any error was recorded."""
        if self.errors:
            raise self.error()

    def error(self) -> DiagnosticError:
        """One error reporting all, in the order of their places in the text (the tokenizer
        reports literals before the parser reports anything)."""
        errors = sorted(self.errors, key=lambda e: (e[0].line, e[0].column))
        first, message = errors[0]
        parts = [message + self._snippet(first)]
        for loc, msg in errors[1:]:
            parts.append(f"{self.where(loc)}: {msg}{self._snippet(loc)}")
        return DiagnosticError("\n".join(parts), self.where(first))

    def where(self, loc: Location) -> str:
        return f"{self.source_name}:{loc.line}:{loc.column}"

    def _snippet(self, loc: Location) -> str:
        """The source line of ``loc`` and a caret under its column (long lines clipped)."""
        if self._line_starts is None:
            starts = [0]
            pos = self.source.find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = self.source.find("\n", pos + 1)
            self._line_starts = starts
        if not 1 <= loc.line <= len(self._line_starts):
            return ""
        start = self._line_starts[loc.line - 1]
        end = self.source.find("\n", start)
        text = self.source[start : end if end >= 0 else len(self.source)].rstrip("\r")
        offset = max(loc.column - 1, 0)
        if len(text) > _SNIPPET_WIDTH:
            left = max(0, min(offset - _SNIPPET_WIDTH // 2, len(text) - _SNIPPET_WIDTH))
            text = text[left : left + _SNIPPET_WIDTH]
            offset -= left
        text = "".join(c if c.isprintable() else " " for c in text)
        return f"\n  {text}\n  {' ' * offset}^"
