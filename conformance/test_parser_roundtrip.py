"""Properties of the parser: printing then parsing gives the program back (PARSE-18)."""

from __future__ import annotations

from hypothesis import given

import minitvm as tvm
from conformance.parser_strategies import expressions
from minitvm import relay
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.printer import astext
from minitvm.relay.testing.program_gen import Program, programs

_ANNOTATED = (
    relay.Constant,
    relay.Call,
    relay.Var,
    relay.Function,
    relay.Tuple,
    relay.TupleGetItem,
)


def type_comment(expr: Expr) -> str:
    """The printer's default comment without its span part (parsed nodes have spans)."""
    if isinstance(expr, _ANNOTATED) and expr.checked_type_ is not None:
        return f" /* ty={expr.checked_type_} */"
    return ""


@given(programs())
def test_typed_module_round_trip(p: Program) -> None:
    typed = relay.transform.InferType()(p.mod)
    text = astext(typed)
    parsed = relay.parse(text)
    tvm.ir.assert_structural_equal(parsed, typed, map_free_vars=True)
    assert astext(parsed, annotate=type_comment) == astext(typed, annotate=type_comment)
    # Printing the parsed module and parsing that again changes nothing but the spans.
    again = relay.parse(astext(parsed))
    tvm.ir.assert_structural_equal(again, typed, map_free_vars=True)


@given(programs())
def test_untyped_functions_round_trip(p: Program) -> None:
    for func in p.mod.functions.values():
        assert isinstance(func, Function)
        parsed = relay.parse_expr(astext(func))
        tvm.ir.assert_structural_equal(parsed, func, map_free_vars=True)
        assert astext(parsed, annotate=type_comment) == astext(func, annotate=type_comment)


@given(expressions())
def test_expression_round_trip(expr: Expr) -> None:
    text = astext(expr)
    parsed = relay.parse_expr(text)
    tvm.ir.assert_structural_equal(parsed, expr, map_free_vars=True)
    assert astext(parsed, annotate=type_comment) == astext(expr, annotate=type_comment)


@given(programs())
def test_annotate_spans_preserves_the_module(p: Program) -> None:
    typed = relay.transform.InferType()(p.mod)
    annotated = relay.transform.AnnotateSpans()(p.mod)
    tvm.ir.assert_structural_equal(annotated, typed)
    main = annotated["main"]
    assert isinstance(main, Function)
    assert main.span is not None
    assert main.span.source_name == "GeneratedSource"
