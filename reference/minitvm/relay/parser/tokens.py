"""Tokens of the Relay text format.

TVM: ``src/relay/parser/token.h``. A token records its kind, the text it was read from, where
it starts and ends (1-based lines and columns, the end exclusive) and its value: ``name`` for
names, strings, meta keys and numeric dtypes, ``number`` for numbers, graph indices, meta
indices and booleans. Whitespace and comments produce no tokens.
"""

from __future__ import annotations

from enum import IntEnum, auto
from typing import NamedTuple

__all__ = ["KEYWORDS", "OPERAND_END", "Tok", "Token"]


class Tok(IntEnum):
    """Token kinds (small integers, so sets and maps of kinds are fast to query)."""

    INTEGER = auto()
    FLOAT = auto()
    BOOL = auto()
    STRING = auto()
    LOCAL = auto()
    GRAPH = auto()
    GLOBAL = auto()
    IDENT = auto()
    META = auto()
    VERSION = auto()
    LET = auto()
    FN = auto()
    DEF = auto()
    IF = auto()
    ELSE = auto()
    FREE_VAR = auto()
    TYPE = auto()
    EXTERN = auto()
    MATCH = auto()
    MATCH_PARTIAL = auto()
    REF = auto()
    REF_READ = auto()
    REF_WRITE = auto()
    UNDERSCORE = auto()
    LPAREN = auto()
    RPAREN = auto()
    LBRACE = auto()
    RBRACE = auto()
    LBRACKET = auto()
    RBRACKET = auto()
    COMMA = auto()
    PERIOD = auto()
    SEMI = auto()
    COLON = auto()
    EQUAL = auto()
    ARROW = auto()
    QUESTION = auto()
    PLUS = auto()
    MINUS = auto()
    STAR = auto()
    SLASH = auto()
    LT = auto()
    GT = auto()
    LE = auto()
    GE = auto()
    EQEQ = auto()
    NE = auto()
    BANG = auto()
    EOF = auto()

    @property
    def description(self) -> str:
        """How a diagnostic names the kind: `` `(` ``, ``an integer``."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: dict[Tok, str] = {
    Tok.INTEGER: "an integer",
    Tok.FLOAT: "a float",
    Tok.BOOL: "a boolean",
    Tok.STRING: "a string",
    Tok.LOCAL: "a local variable `%name`",
    Tok.GRAPH: "a graph binding `%N`",
    Tok.GLOBAL: "a global `@name`",
    Tok.IDENT: "an identifier",
    Tok.META: "a meta reference `meta[key][i]`",
    Tok.VERSION: "the version header",
    Tok.LET: "`let`",
    Tok.FN: "`fn`",
    Tok.DEF: "`def`",
    Tok.IF: "`if`",
    Tok.ELSE: "`else`",
    Tok.FREE_VAR: "`free_var`",
    Tok.TYPE: "`type`",
    Tok.EXTERN: "`extern`",
    Tok.MATCH: "`match`",
    Tok.MATCH_PARTIAL: "`match?`",
    Tok.REF: "`ref`",
    Tok.REF_READ: "`ref_read`",
    Tok.REF_WRITE: "`ref_write`",
    Tok.UNDERSCORE: "`_`",
    Tok.LPAREN: "`(`",
    Tok.RPAREN: "`)`",
    Tok.LBRACE: "`{`",
    Tok.RBRACE: "`}`",
    Tok.LBRACKET: "`[`",
    Tok.RBRACKET: "`]`",
    Tok.COMMA: "`,`",
    Tok.PERIOD: "`.`",
    Tok.SEMI: "`;`",
    Tok.COLON: "`:`",
    Tok.EQUAL: "`=`",
    Tok.ARROW: "`->`",
    Tok.QUESTION: "`?`",
    Tok.PLUS: "`+`",
    Tok.MINUS: "`-`",
    Tok.STAR: "`*`",
    Tok.SLASH: "`/`",
    Tok.LT: "`<`",
    Tok.GT: "`>`",
    Tok.LE: "`<=`",
    Tok.GE: "`>=`",
    Tok.EQEQ: "`==`",
    Tok.NE: "`!=`",
    Tok.BANG: "`!`",
    Tok.EOF: "the end of the input",
}

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


class Token(NamedTuple):
    """One token. A named tuple rather than a dataclass: a large program has millions of
    tokens, and a tuple is built several times faster."""

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
        if self.kind.description.startswith("`"):
            return f"`{text}`"
        article_kind = self.kind.description.split(" `")[0]
        return f"{article_kind} `{text}`"
