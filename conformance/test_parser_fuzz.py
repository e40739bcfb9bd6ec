"""The parser on damaged texts: random mutations of valid texts (pieces dropped, swapped,
duplicated or replaced, the text cut short, random characters or bytes spliced in) give a
module or expression or a ``DiagnosticError``, never another exception and never a hang
(PARSE-16, PARSE-17).

Each property runs ``FUZZ_EXAMPLES`` examples: five times the profile's count (200 in the
``ci`` profile, 10,000 in ``deep``).
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.parser_strategies import expressions
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay.parser import read_module
from minitvm.relay.printer import astext
from minitvm.relay.testing.program_gen import Program, programs

FUZZ_EXAMPLES = settings().max_examples * 5
TIME_LIMIT_S = 60

_PIECES = re.compile(r"\s+|\w+|.", re.DOTALL)
_VOCABULARY = [
    "(", ")", "{", "}", "[", "]", ",", ";", ":", "=", "==", "->", "-", "--", ".", "/", "*",
    "let", "fn", "if", "else", "def", "free_var", "type", "match", "ref", "_", "?",
    "%0", "%99", "%x", "%x.0", "@main", "@undefined", "add", "nn.conv2d", "Tensor", "float32",
    "meta[relay.Constant][0]", "meta[relay.Constant][9]", "meta[x][0]", "#[metadata]",
    '#[version = "0.0.5"]', "#[", '"', '"\\q"', "/*", "*/", "//", "1", "1.5", "0.0", "3i8",
    "1e+40f16", "2147483648i32", "-inff", "nanf64", "True", "\\", "\r", "\x00", "é", "\ufeff",
    "((((((((", "[[[[[[[[", "fn () {" * 8, "padding=", "attrs_type_key=",
]  # fmt: skip


class _TimeLimit(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail if the block runs longer than ``seconds`` (where SIGALRM exists)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _TimeLimit(f"parsing took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@st.composite
def mutations(draw: st.DrawFn, text: str) -> str | bytes:
    """``text`` damaged by one to four random edits."""
    pieces = _PIECES.findall(text) or [""]
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["drop", "swap", "dup", "replace", "insert", "cut", "chars"]))
        i = draw(st.integers(0, len(pieces) - 1))
        j = draw(st.integers(0, len(pieces) - 1))
        if edit == "drop" and len(pieces) > 1:
            del pieces[i]
        elif edit == "swap":
            pieces[i], pieces[j] = pieces[j], pieces[i]
        elif edit == "dup":
            pieces.insert(i, pieces[j])
        elif edit == "replace":
            pieces[i] = draw(st.sampled_from(_VOCABULARY))
        elif edit == "insert":
            pieces.insert(i, draw(st.sampled_from(_VOCABULARY)))
        elif edit == "cut":
            pieces = pieces[:i] or [""]
        else:
            pieces.insert(i, draw(st.text(max_size=4)))
    mutated = "".join(pieces)
    if draw(st.integers(0, 9)) == 0:
        raw = mutated.encode("utf-8")
        k = draw(st.integers(0, len(raw)))
        return raw[:k] + draw(st.binary(min_size=1, max_size=4)) + raw[k:]
    return mutated


_LOCATION = re.compile(r"(from_string|string):\d+:\d+")


def _survives(read: str, text: str | bytes) -> None:
    """Reading ``text`` gives a result or a DiagnosticError, in bounded time; the parser's
    own errors are located. A module read is then type checked (``parse`` is both)."""
    with time_limit(TIME_LIMIT_S):
        result: object
        try:
            # UTF-8 bytes are accepted too.
            if read == "expression":
                result = relay.parse_expr(text)  # type: ignore[arg-type]
            else:
                result = read_module(text)  # type: ignore[arg-type]
        except DiagnosticError as err:
            result = err
        if isinstance(result, DiagnosticError):
            assert result.path is None or _LOCATION.fullmatch(result.path), result.path
        elif isinstance(result, IRModule):
            with suppress(DiagnosticError):
                relay.transform.InferType()(result)


@settings(max_examples=FUZZ_EXAMPLES)
@given(programs(), st.data())
def test_mutated_module_texts(p: Program, data: st.DataObject) -> None:
    text = astext(relay.transform.InferType()(p.mod))
    _survives("module", data.draw(mutations(text)))


@settings(max_examples=FUZZ_EXAMPLES)
@given(expressions(), st.data())
def test_mutated_expression_texts(expr: relay.Expr, data: st.DataObject) -> None:
    _survives("expression", data.draw(mutations(astext(expr))))
