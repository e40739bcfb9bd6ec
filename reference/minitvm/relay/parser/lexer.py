"""The tokenizer of the Relay text format.

TVM: ``src/relay/parser/tokenizer.h`` (``Tokenizer`` and ``Condense``). A master regular
expression covers every common token and is matched from token to token, Python doing little
more than building the token; it hands the rare cases (``-``, block comments, ``#``
attributes, malformed input) to a slow path, after which scanning resumes. Comments and
whitespace produce no tokens; nested block comments are matched by counting. The
``#[metadata]`` section runs to the end of the text and is handed back unparsed (it is JSON).

Differences from TVM, all accepting more text:

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

_NAME = r"\w*(?:[./]\w+)*"
_WORD = r"[^\W\d]\w*"
_NUMBER = r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?:[fi][0-9]*)?"
_MASTER = re.compile(
    rf"""
    [ \t]*  # spaces before a token are part of its match
    (?:
      (?P<newline>\r?\n)
    | (?P<comment>//[^\n]*)
    | (?P<graph>%[0-9]+(?!\w))
    | (?P<local>%[^\W\d]{_NAME})
    | (?P<global>@\w{_NAME})
    | (?P<meta>meta\[(?P<key>[^\]\s]*)\]\[(?P<index>[0-9]+)\])
    | (?P<special>(?:inf|nan)f[0-9]*(?!\w))
    | (?P<partial>match\?)
    | (?P<ident>{_WORD}(?:[./]{_WORD})*)
    | (?P<number>{_NUMBER}(?!\w))
    | (?P<string>"(?:[^"\\\n]|\\.)*")
    | (?P<punct><=|>=|==|!=|/(?![/*])|[(){{}}\[\],.;:?+*<>=!])
    | (?P<slow>)  # anything else, or the end: the slow path's
    )
    """,
    re.VERBOSE,
)
_SIGNED = re.compile(rf"(?:{_NUMBER}|(?:inf|nan)f[0-9]*)(?!\w)")
_BAD_NUMBER = re.compile(r"[0-9][\w.]*")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_COMMENT_EDGE = re.compile(r"/\*|\*/")
_ATTRIBUTE = re.compile(r"#\[([^\]\n]*)\]")
_VERSION = re.compile(r'version\s*=\s*"([^"]*)"')

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
    "/": Tok.SLASH,
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
    __slots__ = ("diags", "line", "line_start", "numbers", "pos", "src", "tokens")

    def __init__(self, source: str, diags: Diagnostics) -> None:
        self.src = source
        self.diags = diags
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []
        self.numbers: dict[tuple[str, bool], tuple[int | float, str, bool]] = {}

    # --- positions and tokens ---------------------------------------------------------------

    def column(self, pos: int) -> int:
        return pos - self.line_start + 1

    def add(self, kind: Tok, start: int, end: int, name: str = "", number: int | float = 0) -> None:
        """Append a token spanning ``src[start:end]`` (which may span lines)."""
        line, col = self.line, self.column(start)
        count = self.src.count("\n", start, end)
        if count:
            self.line += count
            self.line_start = self.src.rfind("\n", start, end) + 1
        self.tokens.append(
            Token(kind, self.src[start:end], line, col, self.line, self.column(end), name, number)
        )
        self.pos = end

    def error(self, pos: int, message: str) -> None:
        self.diags.emit(self.line, self.column(pos), message)

    def number_token(self, start: int, end: int, text: str, negative: bool) -> Token:
        """The token of a number literal (cached by text: programs repeat their literals)."""
        key = (text, negative)
        known = self.numbers.get(key)
        if known is None:
            try:
                if text[0] in "in":
                    value, dtype = float_literal(text[:3], text[3:], negative)
                    known = (value, dtype, True)
                else:
                    known = number_literal(text, negative)
            except LiteralError as err:
                self.error(start, str(err))
                known = (0, "int32", False)
            else:
                self.numbers[key] = known
        value, dtype, is_float = known
        col = self.column(start)
        kind = Tok.FLOAT if is_float else Tok.INTEGER
        return Token(
            kind, self.src[start:end], self.line, col, self.line, col + end - start, dtype, value
        )

    # --- the scanner ------------------------------------------------------------------------

    def run(self) -> Lexed:
        src = self.src
        n = len(src)
        while True:
            self.scan()
            if self.pos >= n:
                break
            char = src[self.pos]
            if char == "-":
                self.minus()
            elif char == "/":
                self.block_comment(self.pos)
            elif char == '"':
                self.string()
            elif char == "#":
                metadata = self.attribute()
                if metadata is not None:
                    return metadata
            else:
                self.bad_token()
        self.add(Tok.EOF, n, n)
        return Lexed(self.tokens, None)

    def scan(self) -> None:  # noqa: C901  (one flat dispatch over the master pattern's groups)
        """Read tokens with the master pattern until it stops matching."""
        src = self.src
        tokens = self.tokens
        append = tokens.append
        line, line_start = self.line, self.line_start
        pos = self.pos
        match = _MASTER.match
        while (m := match(src, pos)) is not None:  # it always matches: see `slow`
            group = m.lastgroup
            start, pos = m.span(group or 0)
            if group == "slow":
                break
            if group == "comment":
                continue
            if group == "newline":
                line += 1
                line_start = pos
                continue
            text = src[start:pos]
            col = start - line_start + 1
            end_col = col + pos - start
            if group == "punct":
                append(Token(_PUNCT[text], text, line, col, line, end_col))
            elif group == "local":
                append(Token(Tok.LOCAL, text, line, col, line, end_col, text[1:]))
            elif group == "graph":
                append(Token(Tok.GRAPH, text, line, col, line, end_col, "", int(text[1:])))
            elif group == "ident":
                if text == "True" or text == "False":
                    append(Token(Tok.BOOL, text, line, col, line, end_col, "", int(text == "True")))
                else:
                    kind = KEYWORDS.get(text, Tok.IDENT)
                    append(Token(kind, text, line, col, line, end_col, text))
            elif group == "global":
                append(Token(Tok.GLOBAL, text, line, col, line, end_col, text[1:]))
            elif group == "meta":
                index = int(m.group("index"))
                append(Token(Tok.META, text, line, col, line, end_col, m.group("key"), index))
            elif group == "partial":
                append(Token(Tok.MATCH_PARTIAL, text, line, col, line, end_col))
            else:
                self.line, self.line_start = line, line_start
                if group == "string":
                    append(self.string_token(start, pos))
                elif (
                    group == "number"
                    and tokens
                    and tokens[-1].kind is Tok.PERIOD
                    and not text.isdigit()
                ):
                    # A projection index is digits only: `(%t).0.1` is two projections.
                    pos = start + len(text) - len(text.lstrip("0123456789"))
                    append(self.number_token(start, pos, src[start:pos], False))
                else:
                    append(self.number_token(start, pos, text, False))
        self.line, self.line_start, self.pos = line, line_start, pos

    # --- the slow path ----------------------------------------------------------------------

    def bad_token(self) -> None:
        src, pos = self.src, self.pos
        char = src[pos]
        m = _BAD_NUMBER.match(src, pos)
        if m is not None:
            self.error(pos, f"invalid number `{m.group()}`")
            self.add(Tok.INTEGER, pos, m.end(), name="int32")
            return
        if char in "%@":
            raise self.diags.fatal(self.line, self.column(pos), f"expected a name after `{char}`")
        if char == "\r":
            message = "a carriage return must be followed by a line feed"
        else:
            message = f"unexpected character `{char}` ({ord(char):#x})"
        raise self.diags.fatal(self.line, self.column(pos), message)

    def minus(self) -> None:
        """``->``, binary ``-``, or the sign run of a literal."""
        src = self.src
        start = self.pos
        if src.startswith("->", start):
            self.add(Tok.ARROW, start, start + 2)
            return
        if not self.tokens or self.tokens[-1].kind not in OPERAND_END:
            end = start
            while end < len(src) and src[end] == "-":
                end += 1
            m = _SIGNED.match(src, end)
            if m is not None:
                negative = (end - start) % 2 == 1
                self.tokens.append(self.number_token(start, m.end(), m.group(), negative))
                self.pos = m.end()
                return
        self.add(Tok.MINUS, start, start + 1)

    def block_comment(self, start: int) -> None:
        depth = 0
        pos = start
        while True:
            m = _COMMENT_EDGE.search(self.src, pos)
            if m is None:
                raise self.diags.fatal(self.line, self.column(start), "unterminated block comment")
            depth += 1 if m.group() == "/*" else -1
            pos = m.end()
            if depth == 0:
                break
        count = self.src.count("\n", start, pos)
        if count:
            self.line += count
            self.line_start = self.src.rfind("\n", start, pos) + 1
        self.pos = pos

    def string_token(self, start: int, end: int) -> Token:
        try:
            value = decode_string(self.src[start + 1 : end - 1])
        except LiteralError as err:
            self.error(start, str(err))
            value = ""
        col = self.column(start)
        return Token(
            Tok.STRING, self.src[start:end], self.line, col, self.line, col + end - start, value
        )

    def string(self) -> None:
        """A string the master pattern left: one spanning lines, or an unterminated one."""
        start = self.pos
        m = _STRING.match(self.src, start)
        if m is None:
            raise self.diags.fatal(self.line, self.column(start), "unterminated string literal")
        token = self.string_token(start, m.end())
        self.add(Tok.STRING, start, m.end(), name=token.name)

    def attribute(self) -> Lexed | None:
        """``#[version = "0.0.5"]`` becomes a token; ``#[metadata]`` ends the text."""
        start = self.pos
        m = _ATTRIBUTE.match(self.src, start)
        if m is None:
            raise self.diags.fatal(
                self.line,
                self.column(start),
                '`#` must start an attribute: `#[version = "0.0.5"]` or `#[metadata]`',
            )
        content = m.group(1).strip()
        if content == "metadata":
            line, col = self.line, self.column(start)
            self.tokens.append(Token(Tok.EOF, "", line, col, line, col))
            return Lexed(self.tokens, self.src[m.end() :], line)
        version = _VERSION.fullmatch(content)
        if version is None:
            raise self.diags.fatal(
                self.line,
                self.column(start),
                f'unknown attribute `#[{content}]`; expected `#[version = "0.0.5"]` '
                "or `#[metadata]`",
            )
        self.add(Tok.VERSION, start, m.end(), name=version.group(1))
        return None


def tokenize(source: str, diags: Diagnostics) -> Lexed:
    """The tokens of ``source``. Malformed literals are reported to ``diags`` and read as 0;
    a character that starts no token, or an unterminated comment or string, stops at once."""
    return _Lexer(source, diags).run()
