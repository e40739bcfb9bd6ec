"""PARSE: spans of parsed nodes and the parser's diagnostics."""

from __future__ import annotations

import pytest

from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.node import Span

SEMVER = '#[version = "0.0.5"]\n'


def error_of(text: str, module: bool = False) -> DiagnosticError:
    read = relay.parse if module else relay.parse_expr
    with pytest.raises(DiagnosticError) as info:
        read(text)
    return info.value


# --- PARSE-15: spans ----------------------------------------------------------------------


@pytest.mark.spec("PARSE-15")
def test_parsed_nodes_carry_spans() -> None:
    text = "fn (%x: int32) {\n  let %y = add(%x, 1);\n  (%y, %y.0)\n}"
    func = relay.parse_expr(text)
    assert isinstance(func, relay.Function)
    assert func.span == Span("string", 1, 4, 1, 2)
    x = func.params[0]
    assert x.span == Span("string", 1, 1, 5, 7)
    assert isinstance(x.type_annotation, relay.TensorType)
    assert x.type_annotation.span == Span("string", 1, 1, 9, 14)
    let = func.body
    assert isinstance(let, relay.Let)
    assert let.span == Span("string", 2, 3, 3, 13)
    assert let.var.span == Span("string", 2, 2, 7, 9)
    call = let.value
    assert isinstance(call, relay.Call)
    assert call.span == Span("string", 2, 2, 12, 22)
    one = call.args[1]
    assert isinstance(one, relay.Constant)
    assert one.span == Span("string", 2, 2, 20, 21)
    assert call.args[0] is x, "a use is the bound variable itself"
    tup = let.body
    assert isinstance(tup, relay.Tuple)
    assert tup.span == Span("string", 3, 3, 3, 13)
    item = tup.fields[1]
    assert isinstance(item, relay.TupleGetItem)
    assert item.span == Span("string", 3, 3, 8, 12)
    binop = relay.parse_expr("1 +\n  2 * 3")
    assert isinstance(binop, relay.Call)
    assert binop.span == Span("string", 1, 2, 1, 8)
    assert isinstance(binop.args[1], relay.Call)
    assert binop.args[1].span == Span("string", 2, 2, 3, 8)
    cond = relay.parse_expr("if (True) { 1 } else { 2 }")
    assert isinstance(cond, relay.If)
    assert cond.span == Span("string", 1, 1, 1, 27)
    mod = relay.parse(SEMVER + "def @f() { 1 }", source_name="lib.rly")
    f = mod["f"]
    assert f.span == Span("lib.rly", 2, 2, 1, 15)
    assert str(f.span) == "lib.rly:2:1"


@pytest.mark.spec("PARSE-15")
def test_spans_appear_in_type_comments() -> None:
    text = relay.parse_expr("(1, 2)").astext()
    assert text.endswith("(1 /* span=string:1:2 */, 2 /* span=string:1:5 */) /* span=string:1:1 */")


@pytest.mark.spec("PARSE-15")
def test_type_errors_in_parsed_modules_point_at_the_text() -> None:
    err = error_of(SEMVER + "def @f(%x: float32) {\n  %0 = add(%x, 1);\n  %0\n}", module=True)
    assert "(from_string:3:8)" in str(err)
    assert "float32 and int32" in str(err)


# --- PARSE-16: diagnostics ----------------------------------------------------------------


@pytest.mark.spec("PARSE-16")
def test_syntax_error_names_location_token_and_expectation() -> None:
    err = error_of("let %x = 1;\nadd(%x 2)")
    assert err.path == "string:2:8"
    assert err.message == (
        "expected `,` or `)` in the arguments of a call, found an integer `2`\n"
        "  add(%x 2)\n"
        "         ^"
    )
    assert str(err) == f"string:2:8: {err.message}"
    cases = {
        "(1, 2": "string:1:6: expected `)` to close the tuple, found the end of the input",
        "fn (%x) { %x": "string:1:13: expected `}` to close the function body, found the end",
        "fn (%x %y) { %x }": "string:1:8: expected `,` or `)` in the parameters, found a local",
        "let %x = 1 %x": "string:1:12: expected `;` after the value of a let, found a local",
        "let @x = 1; ()": "string:1:5: expected a local variable `%name` after `let`, found a gl",
        "let x = 1; ()": "string:1:5: expected a local variable `%name` after `let`, found an id",
        "if (True) { 1 } { 2 }": "string:1:17: expected `else` after the true branch of an if",
        "1 2": "string:1:3: expected `;` or the end of the input after an expression, found an",
        "": "string:1:1: expected an expression, found the end of the input",
        "(1, 2).x": "string:1:8: expected an integer as the tuple index after `.`, found an id",
        "foo(1)": "string:1:1: unknown operator `foo`",
        "1 $ 2": "string:1:3: unexpected character `$` (0x24)",
        "1 \r 2": "string:1:3: a carriage return must be followed by a line feed",
        '"abc': "string:1:1: unterminated string literal",
        "/* abc": "string:1:1: unterminated block comment",
        "%": "string:1:1: expected a name after `%`",
        "#[foo] 1": "string:1:1: unknown attribute `#[foo]`",
        "# 1": "string:1:1: `#` must start an attribute",
        "1 ; " + SEMVER: "string:1:5: expected an expression, found the version header",
    }
    for text, start in cases.items():
        assert str(error_of(text)).startswith(start), text


@pytest.mark.spec("PARSE-16")
def test_errors_are_collected_and_reported_together() -> None:
    err = error_of(SEMVER + "def @f() {\n  (2147483648i32, %y, 1.5, @g)\n}", module=True)
    lines = str(err).split("\n")
    headers = [line for line in lines if line.startswith("from_string:")]
    assert headers == [
        "from_string:3:4: integer `2147483648i32` does not fit in int32",
        "from_string:3:19: the local variable `%y` is not in scope",
        "from_string:3:23: `1.5` is not an integer; a floating-point literal needs a suffix, "
        "as in `1.5f`",
        "from_string:3:28: the global `@g` is not defined",
    ]
    assert err.path == "from_string:3:4"
    # A syntax error stops the parse, reporting what was collected before it.
    err = error_of("(2147483648i32, %y 1)")
    assert [line.split(": ")[1] for line in str(err).split("\n") if line.startswith("string:")] == [
        "integer `2147483648i32` does not fit in int32",
        "the local variable `%y` is not in scope",
        "expected `)` to close the tuple, found an integer `1`",
    ]


@pytest.mark.spec("PARSE-16")
def test_missing_or_wrong_version_header() -> None:
    err = error_of("def @f() { 1 }", module=True)
    assert str(err).startswith(
        'from_string:1:1: expected the version header `#[version = "0.0.5"]`, found `def`'
    )
    err = error_of('#[version = "0.0.4"]\n1')
    assert str(err).startswith('string:1:1: unsupported text format version "0.0.4"')
    err = error_of(SEMVER + "1", module=True)
    assert (
        "expected a definition `def @name(...) { ... }`, a type definition or the end of the input"
        in str(err)
    )


# --- PARSE-22: not yet supported ----------------------------------------------------------


@pytest.mark.spec("PARSE-22")
def test_unsupported_syntax_is_reported() -> None:
    assert "dynamic dimension `?`" in str(error_of("free_var %x: Tensor[(?, 2), float32]; %x"))
    assert "unknown dtype `float32x4`" in str(error_of("free_var %x: Tensor[(2), float32x4]; %x"))
    assert "expected `,` or `)` in the parameters" in str(
        error_of("fn (%x {virtual_device=1}) { %x }")
    )
    assert "expected an attribute value" in str(error_of("fn (a=%x) { 1 }"))
