"""Tokens of the Relay text format.

TVM: ``src/relay/parser/token.h``. A token records its kind, the text it was read from, where
it starts and ends (1-based lines and columns, the end exclusive) and its value: ``name`` for
names, strings, meta keys and numeric dtypes, ``number`` for numbers, graph indices, meta
indices and booleans. Whitespace and comments produce no tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from typing_extensions import override

__all__ = ["KEYWORDS", "OPERAND_END", "Tok", "Token"]


class Tok(Enum):
    """Token kinds; the value is how a diagnostic names the kind."""

    INTEGER = "an integer"
    FLOAT = "a float"
    BOOL = "a boolean"
    STRING = "a string"
    LOCAL = "a local variable `%name`"
    GRAPH = "a graph binding `%N`"
    GLOBAL = "a global `@name`"
    IDENT = "an identifier"
    META = "a meta reference `meta[key][i]`"
    VERSION = "the version header"
    LET = "`let`"
    FN = "`fn`"
    DEF = "`def`"
    IF = "`if`"
    ELSE = "`else`"
    FREE_VAR = "`free_var`"
    TYPE = "`type`"
    EXTERN = "`extern`"
    MATCH = "`match`"
    MATCH_PARTIAL = "`match?`"
    REF = "`ref`"
    REF_READ = "`ref_read`"
    REF_WRITE = "`ref_write`"
    UNDERSCORE = "`_`"
    LPAREN = "`(`"
    RPAREN = "`)`"
    LBRACE = "`{`"
    RBRACE = "`}`"
    LBRACKET = "`[`"
    RBRACKET = "`]`"
    COMMA = "`,`"
    PERIOD = "`.`"
    SEMI = "`;`"
    COLON = "`:`"
    EQUAL = "`=`"
    ARROW = "`->`"
    QUESTION = "`?`"
    PLUS = "`+`"
    MINUS = "`-`"
    STAR = "`*`"
    SLASH = "`/`"
    LT = "`<`"
    GT = "`>`"
    LE = "`<=`"
    GE = "`>=`"
    EQEQ = "`==`"
    NE = "`!=`"
    BANG = "`!`"
    EOF = "the end of the input"


KEYWORDS: dict[str, Tok] = {
    "let": Tok.LET,
    "fn": Tok.FN,
    "def": Tok.DEF,
    "if": Tok.IF,
    "else": Tok.ELSE,
    "free_var": Tok.FREE_VAR,
    "type": Tok.TYPE,
    "extern": Tok.EXTERN,
    "match": Tok.MATCH,
    "ref": Tok.REF,
    "ref_read": Tok.REF_READ,
    "ref_write": Tok.REF_WRITE,
    "_": Tok.UNDERSCORE,
}
"""Words that are not identifiers. ``True``/``False`` are booleans, ``match?`` is one token."""

OPERAND_END = frozenset(
    {
        Tok.INTEGER,
        Tok.FLOAT,
        Tok.BOOL,
        Tok.STRING,
        Tok.LOCAL,
        Tok.GRAPH,
        Tok.GLOBAL,
        Tok.IDENT,
        Tok.META,
        Tok.RPAREN,
        Tok.RBRACKET,
        Tok.RBRACE,
    }
)
"""Kinds that can end an operand: a ``-`` after one of them is binary minus, never a sign."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    text: str
    line: int
    column: int
    end_line: int
    end_column: int
    name: str = ""
    """A name (without ``%``/``@``), a string's contents, a meta key or a number's dtype."""
    number: int | float = 0
    """A number's value, a graph binding's or meta reference's index, 1/0 for booleans."""

    def describe(self) -> str:
        """The token as a diagnostic quotes it: ``end of input``, `` `;` ``, ``local `%x` ``."""
        if self.kind is Tok.EOF:
            return "the end of the input"
        text = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        if self.kind.value.startswith("`"):
            return f"`{text}`"
        article_kind = self.kind.value.split(" `")[0]
        return f"{article_kind} `{text}`"

    @override
    def __str__(self) -> str:
        return self.text
