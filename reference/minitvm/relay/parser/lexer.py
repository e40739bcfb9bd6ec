"""The tokenizer of the Relay text format.

TVM: ``src/relay/parser/tokenizer.h`` (``Tokenizer`` and ``Condense``). One pass over the text
with a master regular expression; comments and whitespace are skipped, nested block comments
are matched by counting. The ``#[metadata]`` section runs to the end of the text and is
handed back unparsed (it is JSON). Differences from TVM, all accepting more text:

- ``-`` right after an operand (a name, a literal, a closing bracket) is always binary minus,
  so ``%x -1`` is a subtraction; elsewhere a run of ``-`` directly before a number is its sign
  (``--10`` is 10), as in TVM.
- Names (``%x``, ``@f``, identifiers) may contain ``.`` and ``/`` between word characters,
  and word characters may be any Unicode letter or digit; ``%t.0`` is resolved by the parser.
- Strings decode the printer's escapes; ``nanf`` is read like ``inff``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minitvm.relay.parser.diagnostics import Diagnostics
from minitvm.relay.parser.literals import (
    LiteralError,
    decode_string,
    float_literal,
    number_literal,
)
from minitvm.relay.parser.tokens import KEYWORDS, OPERAND_END, Tok, Token

__all__ = ["Lexed", "tokenize"]

_NAME = r"\w+(?:[./]\w+)*"
_NAME_REST = r"\w*(?:[./]\w+)*"
_MASTER = re.compile(
    rf"""
      (?P<space>[ \t]+)
    | (?P<newline>\r?\n)
    | (?P<graph>%[0-9]+(?![\w]))
    | (?P<local>%[^\W\d]{_NAME_REST})
    | (?P<global>@{_NAME})
    | (?P<meta>meta\[(?P<key>[^\]\s]*)\]\[(?P<index>[0-9]+)\])
    | (?P<special>(?:inf|nan)f[0-9]*)(?!\w)
    | (?P<ident>[^\W\d]{_NAME_REST})
    | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?:[fi][0-9]*)?)
    | (?P<two><=|>=|==|!=)
    | (?P<one>[(){{}}\[\],.;:?+*<>=!])
    """,
    re.VERBOSE,
)
_DIGITS = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"[0-9]|(?:inf|nan)f[0-9]*(?!\w)")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_COMMENT_EDGE = re.compile(r"/\*|\*/")
_ATTRIBUTE = re.compile(r"#\[([^\]\n]*)\]")
_VERSION = re.compile(r'version\s*=\s*"([^"]*)"')
_WORD = re.compile(r"\w*")

_PUNCT = {
    "(": Tok.LPAREN,
    ")": Tok.RPAREN,
    "{": Tok.LBRACE,
    "}": Tok.RBRACE,
    "[": Tok.LBRACKET,
    "]": Tok.RBRACKET,
    ",": Tok.COMMA,
    ".": Tok.PERIOD,
    ";": Tok.SEMI,
    ":": Tok.COLON,
    "?": Tok.QUESTION,
    "+": Tok.PLUS,
    "*": Tok.STAR,
    "<": Tok.LT,
    ">": Tok.GT,
    "=": Tok.EQUAL,
    "!": Tok.BANG,
    "<=": Tok.LE,
    ">=": Tok.GE,
    "==": Tok.EQEQ,
    "!=": Tok.NE,
}


@dataclass(frozen=True, slots=True)
class Lexed:
    """The tokens of a text (ending with EOF) and its metadata section, if any."""

    tokens: list[Token]
    metadata: str | None
    metadata_line: int = 0


class _Lexer:
    __slots__ = ("diags", "line", "line_start", "pos", "src", "tokens")

    def __init__(self, source: str, diags: Diagnostics) -> None:
        self.src = source
        self.diags = diags
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []

    def column(self, pos: int) -> int:
        return pos - self.line_start + 1

    def advance_lines(self, start: int, end: int) -> None:
        """Account for the line breaks in ``src[start:end]``."""
        count = self.src.count("\n", start, end)
        if count:
            self.line += count
            self.line_start = self.src.rfind("\n", start, end) + 1

    def add(self, kind: Tok, start: int, end: int, name: str = "", number: int | float = 0) -> None:
        line, col = self.line, self.column(start)
        self.advance_lines(start, end)
        self.tokens.append(
            Token(kind, self.src[start:end], line, col, self.line, self.column(end), name, number)
        )
        self.pos = end

    def error(self, pos: int, message: str) -> None:
        self.diags.emit(self.line, self.column(pos), message)

    def run(self) -> Lexed:
        src = self.src
        n = len(src)
        while self.pos < n:
            char = src[self.pos]
            if char == "-":
                self.minus()
            elif char == "/":
                self.slash()
            elif char == '"':
                self.string()
            elif char == "#":
                metadata = self.attribute()
                if metadata is not None:
                    return metadata
            else:
                self.master()
        self.add(Tok.EOF, n, n)
        return Lexed(self.tokens, None)

    def master(self) -> None:
        m = _MASTER.match(self.src, self.pos)
        if m is None:
            bad = self.src[self.pos]
            if bad in "%@":
                self.diags.fatal(
                    self.line, self.column(self.pos), f"expected a name after `{bad}`"
                )
            self.diags.fatal(
                self.line, self.column(self.pos), f"unexpected character `{bad}` ({ord(bad):#x})"
            )
        group = m.lastgroup
        start, end = m.span()
        if group == "space":
            self.pos = end
        elif group == "newline":
            self.pos = end
            self.line += 1
            self.line_start = end
        elif group == "one" or group == "two":
            self.add(_PUNCT[m.group()], start, end)
        elif group == "graph":
            self.add(Tok.GRAPH, start, end, number=int(m.group()[1:]))
        elif group == "local":
            self.add(Tok.LOCAL, start, end, name=m.group()[1:])
        elif group == "global":
            self.add(Tok.GLOBAL, start, end, name=m.group()[1:])
        elif group == "ident":
            self.ident(m.group(), start, end)
        elif group == "meta":
            self.add(Tok.META, start, end, name=m.group("key"), number=int(m.group("index")))
        else:
            self.number(start, negative=False)

    def ident(self, word: str, start: int, end: int) -> None:
        if word == "True" or word == "False":
            self.add(Tok.BOOL, start, end, number=int(word == "True"))
        elif word == "match" and self.src.startswith("?", end):
            self.add(Tok.MATCH_PARTIAL, start, end + 1)
        else:
            self.add(KEYWORDS.get(word, Tok.IDENT), start, end, name=word)

    def number(self, start: int, negative: bool) -> None:
        """A numeric literal at ``self.pos``; ``start`` is where its sign run began."""
        src = self.src
        if self.tokens and self.tokens[-1].kind is Tok.PERIOD:
            # A projection index: digits only, so `%t.0.1` is two projections.
            m = _DIGITS.match(src, self.pos)
            if m is not None and not negative:
                self.add(Tok.INTEGER, start, m.end(), name="int32", number=int(m.group()))
                return
        m = _MASTER.match(src, self.pos)
        if m is None or m.lastgroup not in ("number", "special"):
            self.diags.fatal(self.line, self.column(self.pos), "expected a number")
        end = m.end()
        trailing = _WORD.match(src, end)
        if trailing is not None and trailing.end() > end:
            end = trailing.end()
            self.error(start, f"invalid number `{src[start:end]}`")
            self.add(Tok.INTEGER, start, end, name="int32")
            return
        text = m.group()
        try:
            if m.lastgroup == "special":
                value, dtype = float_literal(text[:3], text[3:], negative)
                is_float = True
            else:
                value, dtype, is_float = number_literal(text, negative)
        except LiteralError as err:
            self.error(start, str(err))
            value, dtype, is_float = 0, "int32", False
        self.add(Tok.FLOAT if is_float else Tok.INTEGER, start, end, name=dtype, number=value)

    def minus(self) -> None:
        src = self.src
        start = self.pos
        if src.startswith("->", start):
            self.add(Tok.ARROW, start, start + 2)
            return
        if self.tokens and self.tokens[-1].kind in OPERAND_END:
            self.add(Tok.MINUS, start, start + 1)
            return
        end = start
        while end < len(src) and src[end] == "-":
            end += 1
        if _SIGNED.match(src, end) is not None:
            self.pos = end
            self.number(start, negative=(end - start) % 2 == 1)
            return
        self.add(Tok.MINUS, start, start + 1)

    def slash(self) -> None:
        src = self.src
        start = self.pos
        if src.startswith("//", start):
            end = src.find("\n", start)
            self.pos = len(src) if end < 0 else end
        elif src.startswith("/*", start):
            self.block_comment(start)
        else:
            self.add(Tok.SLASH, start, start + 1)

    def block_comment(self, start: int) -> None:
        depth = 0
        pos = start
        while True:
            m = _COMMENT_EDGE.search(self.src, pos)
            if m is None:
                self.diags.fatal(self.line, self.column(start), "unterminated block comment")
            depth += 1 if m.group() == "/*" else -1
            pos = m.end()
            if depth == 0:
                break
        self.advance_lines(start, pos)
        self.pos = pos

    def string(self) -> None:
        start = self.pos
        m = _STRING.match(self.src, start)
        if m is None:
            self.diags.fatal(self.line, self.column(start), "unterminated string literal")
        try:
            value = decode_string(m.group(1))
        except LiteralError as err:
            self.error(start, str(err))
            value = ""
        self.add(Tok.STRING, start, m.end(), name=value)

    def attribute(self) -> Lexed | None:
        """``#[version = "0.0.5"]`` becomes a token; ``#[metadata]`` ends the text."""
        start = self.pos
        m = _ATTRIBUTE.match(self.src, start)
        if m is None:
            self.diags.fatal(
                self.line,
                self.column(start),
                "`#` must start an attribute: `#[version = \"0.0.5\"]` or `#[metadata]`",
            )
        content = m.group(1).strip()
        if content == "metadata":
            line, col = self.line, self.column(start)
            self.tokens.append(Token(Tok.EOF, "", line, col, line, col))
            return Lexed(self.tokens, self.src[m.end() :], line)
        version = _VERSION.fullmatch(content)
        if version is None:
            self.diags.fatal(
                self.line,
                self.column(start),
                f"unknown attribute `#[{content}]`; expected `#[version = \"0.0.5\"]` "
                "or `#[metadata]`",
            )
        self.add(Tok.VERSION, start, m.end(), name=version.group(1))
        return None


def tokenize(source: str, diags: Diagnostics) -> Lexed:
    """The tokens of ``source``. Malformed literals are reported to ``diags`` and read as 0;
    a character that starts no token, or an unterminated comment or string, stops at once."""
    return _Lexer(source, diags).run()
