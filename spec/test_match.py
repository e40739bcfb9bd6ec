"""MATCH: pattern matching: the nodes, typing of patterns, the completeness check, evaluation,
the text format, and the scopes of pattern variables."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay.adt import pattern_str, pattern_vars
from minitvm.relay.analysis import bound_vars, free_vars, unmatched_cases, well_formed
from minitvm.relay.analysis.well_formed import ill_formed_reasons
from minitvm.relay.expr import Expr
from minitvm.relay.interpreter import evaluate_expr
from minitvm.relay.transform import InferType
from spec.adt_helpers import F32, I32, ListType, c


def pcons(t: ListType, head: relay.Pattern, tail: relay.Pattern) -> relay.PatternConstructor:
    return relay.PatternConstructor(t.cons, [head, tail])


def pnil(t: ListType) -> relay.PatternConstructor:
    return relay.PatternConstructor(t.nil)


def pvar(v: relay.Var) -> relay.PatternVar:
    return relay.PatternVar(v)


WILD = relay.PatternWildcard()


def typed_main(t: ListType, params: list[relay.Var], body: Expr) -> IRModule:
    mod = t.module()
    mod["main"] = relay.Function(params, body)
    return InferType()(mod)


def infer_error(t: ListType, params: list[relay.Var], body: Expr) -> str:
    with pytest.raises(DiagnosticError) as info:
        typed_main(t, params, body)
    return str(info.value)


# --- nodes -------------------------------------------------------------------------------------


@pytest.mark.spec("MATCH-1")
def test_match_clause_and_pattern_nodes() -> None:
    t = ListType()
    xs = relay.var("xs", t.gtv(I32))
    h = relay.var("h")
    clause = relay.Clause(pcons(t, pvar(h), WILD), h)
    default = relay.Clause(WILD, c(0))
    m = relay.Match(xs, [clause, default])
    assert m.data is xs
    assert m.clauses == (clause, default)
    assert m.complete  # complete unless asked otherwise
    assert not relay.Match(xs, [clause], complete=False).complete
    assert clause.lhs.constructor is t.cons  # type: ignore[union-attr]  # a PatternConstructor
    assert pattern_vars(clause.lhs) == [h]
    assert pattern_str(relay.PatternTuple([pvar(h), pnil(t)])) == "(%h, Nil)"
    with pytest.raises(DiagnosticError, match="PatternVar needs a Var"):
        relay.PatternVar(c(1))  # type: ignore[arg-type]  # the error under test
    with pytest.raises(DiagnosticError, match="PatternConstructor needs a Constructor"):
        relay.PatternConstructor(t.gtv)  # type: ignore[arg-type]  # the error under test
    with pytest.raises(DiagnosticError, match="sub-patterns must be patterns"):
        relay.PatternTuple([h])  # type: ignore[list-item]  # the error under test


@pytest.mark.spec("MATCH-1")
def test_matches_compare_up_to_renaming_of_pattern_variables() -> None:
    t = ListType()
    xs = relay.var("xs", t.gtv(I32))

    def build(name: str, complete: bool = True) -> relay.Function:
        h = relay.var(name)
        return relay.Function(
            [xs], relay.Match(xs, [relay.Clause(pcons(t, pvar(h), WILD), h)], complete)
        )

    tvm.ir.assert_structural_equal(build("h"), build("g"))
    assert tvm.ir.structural_hash(build("h")) == tvm.ir.structural_hash(build("g"))
    assert not tvm.ir.structural_equal(build("h"), build("h", complete=False))


# --- typing ------------------------------------------------------------------------------------


@pytest.mark.spec("MATCH-2")
def test_patterns_bind_typed_variables() -> None:
    t = ListType()
    xs = relay.var("xs", t.gtv(F32))
    h, rest = relay.var("h"), relay.var("rest")
    m = relay.Match(xs, [relay.Clause(pcons(t, pvar(h), pvar(rest)), rest), relay.Clause(WILD, xs)])
    typed = typed_main(t, [xs], m)
    main = typed["main"]
    assert isinstance(main, relay.Function)
    assert main.checked_type == relay.FuncType([t.gtv(F32)], t.gtv(F32))
    body = main.body
    assert isinstance(body, relay.Match)
    lhs = body.clauses[0].lhs
    assert isinstance(lhs, relay.PatternConstructor)
    bound = [p.var for p in lhs.patterns if isinstance(p, relay.PatternVar)]
    assert [v.checked_type for v in bound] == [F32, t.gtv(F32)]


@pytest.mark.spec("MATCH-2")
def test_tuple_patterns_and_data_typed_from_the_patterns() -> None:
    t = ListType()
    p = relay.var("p", relay.TupleType([I32, t.gtv(I32)]))
    a, b = relay.var("a"), relay.var("b")
    swap = relay.Match(
        p, [relay.Clause(relay.PatternTuple([pvar(a), pvar(b)]), relay.Tuple([b, a]))]
    )
    main = typed_main(t, [p], swap)["main"]
    assert main.checked_type == relay.FuncType(
        [relay.TupleType([I32, t.gtv(I32)])], relay.TupleType([t.gtv(I32), I32])
    )
    # An unannotated parameter gets its type from the patterns and the right-hand sides.
    ys, h = relay.var("ys"), relay.var("h")
    head_or_zero = relay.Match(
        ys, [relay.Clause(pcons(t, pvar(h), WILD), h), relay.Clause(pnil(t), c(0))]
    )
    main2 = typed_main(t, [ys], head_or_zero)["main"]
    assert main2.checked_type == relay.FuncType([t.gtv(I32)], I32)


@pytest.mark.spec("MATCH-2")
def test_pattern_typing_errors() -> None:
    t = ListType()
    xs = relay.var("xs", t.gtv(I32))
    h = relay.var("h")
    msg = infer_error(t, [xs], relay.Match(xs, [relay.Clause(pcons(t, pvar(h), WILD), h)][:1]))
    assert "missing case(s) Nil" in msg  # (the completeness check, MATCH-3)
    short = relay.PatternConstructor(t.cons, [pvar(h)])
    msg = infer_error(t, [xs], relay.Match(xs, [relay.Clause(short, h)], complete=False))
    assert "the pattern `Cons(%h)` of the match?: constructor Cons has 2 field(s)" in msg
    assert "clauses[0].lhs" in msg
    hf = relay.var("hf", F32)
    annotated = pcons(t, pvar(hf), WILD)
    msg = infer_error(t, [xs], relay.Match(xs, [relay.Clause(annotated, hf)], complete=False))
    assert "the pattern `%hf` of the match?: expected `float32`, found `int32`" in msg
    mixed = relay.Match(
        xs, [relay.Clause(pcons(t, pvar(h), WILD), h), relay.Clause(WILD, relay.const(1.0))]
    )
    msg = infer_error(t, [xs], mixed)
    assert "clause 1 of the match (every clause must have the type of the first)" in msg
    assert "expected `int32`, found `float32`" in msg
    x = relay.var("x", I32)
    not_a_list = relay.Match(x, [relay.Clause(pnil(t), c(0)), relay.Clause(WILD, c(1))])
    assert "the pattern `Nil` of the match: expected `List[_]`, found `int32`" in infer_error(
        t, [x], not_a_list
    )
    p = relay.var("p", relay.TupleType([I32, I32]))
    one = relay.Match(p, [relay.Clause(relay.PatternTuple([pvar(h)]), h)])
    assert "a tuple of 1 fields vs one of 2" in infer_error(t, [p], one)


# --- completeness ------------------------------------------------------------------------------


@pytest.mark.spec("MATCH-3")
def test_unmatched_cases_lists_what_no_clause_covers() -> None:
    t = ListType()
    mod = t.module()
    xs = relay.var("xs", t.gtv(I32))
    h, g = relay.var("h"), relay.var("g")

    def missing(*lhs: relay.Pattern) -> list[str]:
        m = relay.Match(xs, [relay.Clause(p, c(0)) for p in lhs])
        return sorted(pattern_str(p) for p in unmatched_cases(m, mod))

    assert missing(WILD) == []
    assert missing(pvar(h)) == []
    assert missing(pnil(t), pcons(t, WILD, WILD)) == []
    assert missing(pnil(t)) == ["Cons(_, _)"]
    assert missing(pcons(t, pvar(h), pnil(t))) == ["Cons(_, Cons(_, _))", "Nil"]
    assert (
        missing(pnil(t), pcons(t, WILD, pnil(t)), pcons(t, pvar(h), pcons(t, pvar(g), WILD))) == []
    )
    # Tuples of ADTs: each position is refined.
    p = relay.var("p")
    both = relay.Match(
        p,
        [
            relay.Clause(relay.PatternTuple([pnil(t), WILD]), c(0)),
            relay.Clause(relay.PatternTuple([WILD, pnil(t)]), c(1)),
        ],
    )
    assert [pattern_str(q) for q in unmatched_cases(both, mod)] == ["(Cons(_, _), Cons(_, _))"]


@pytest.mark.spec("MATCH-3")
def test_a_complete_match_must_cover_every_value_a_partial_one_need_not() -> None:
    t = ListType()
    xs = relay.var("xs", t.gtv(I32))
    h = relay.var("h")
    clauses = [relay.Clause(pcons(t, pvar(h), pnil(t)), h)]
    msg = infer_error(t, [xs], relay.Match(xs, clauses))
    assert "@main: body: the match does not handle every value" in msg
    assert "missing case(s) Nil; Cons(_, Cons(_, _))" in msg
    assert "write `match?` for a partial match" in msg
    main = typed_main(t, [xs], relay.Match(xs, clauses, complete=False))["main"]
    assert main.checked_type == relay.FuncType([t.gtv(I32)], I32)


# --- evaluation --------------------------------------------------------------------------------


@pytest.mark.spec("MATCH-4")
def test_the_first_matching_clause_is_taken() -> None:
    t = ListType()
    xs = relay.var("xs", t.gtv(I32))
    h, g = relay.var("h"), relay.var("g")
    # [h] => h; [h, g, ...] => h * 10 + g; _ (Nil) => -1; the wildcard comes last.
    body = relay.Match(
        xs,
        [
            relay.Clause(pcons(t, pvar(h), pnil(t)), h),
            relay.Clause(
                pcons(t, pvar(h), pcons(t, pvar(g), WILD)),
                relay.add(relay.multiply(h, c(10)), g),
            ),
            relay.Clause(WILD, c(-1)),
        ],
    )
    mod = typed_main(t, [xs], body)
    gv = mod.get_global_var("main")

    def call(*items: int) -> int:
        expr = gv(t.of(*[c(i) for i in items]))
        return int(relay.create_executor(mod=mod).evaluate(expr).numpy())

    assert call(7) == 7
    assert call(3, 4, 5) == 34
    assert call() == -1
    # An earlier wildcard shadows every later clause.
    first = relay.Match(xs, [relay.Clause(WILD, c(1)), relay.Clause(pnil(t), c(2))])
    mod2 = typed_main(t, [xs], first)
    got = relay.create_executor(mod=mod2).evaluate(mod2.get_global_var("main")(t.nil()))
    assert int(got.numpy()) == 1


@pytest.mark.spec("MATCH-4")
def test_tuple_patterns_and_nested_bindings_evaluate() -> None:
    t = ListType()
    a, b, h = relay.var("a"), relay.var("b"), relay.var("h")
    data = relay.Tuple([c(5), t.of(c(6))])
    m = relay.Match(
        data,
        [
            relay.Clause(relay.PatternTuple([pvar(a), pcons(t, pvar(h), WILD)]), relay.add(a, h)),
            relay.Clause(relay.PatternTuple([pvar(b), WILD]), b),
        ],
    )
    assert int(np.asarray(evaluate_expr(m, t.module()))) == 11


@pytest.mark.spec("MATCH-4")
def test_a_partial_match_without_a_matching_clause_is_a_runtime_error() -> None:
    t = ListType()
    h = relay.var("h")
    m = relay.Match(t.of(c(1), c(2)), [relay.Clause(pcons(t, pvar(h), pnil(t)), h)], False)
    with pytest.raises(DiagnosticError) as info:
        evaluate_expr(m, t.module())
    msg = str(info.value)
    assert "match: no clause matches a value built by constructor Cons" in msg
    assert "(patterns: Cons(%h, Nil))" in msg


@pytest.mark.spec("MATCH-4")
def test_the_data_is_evaluated_once_before_any_clause() -> None:
    t = ListType()
    r = relay.var("r")
    h = relay.var("h")
    # The data bumps a counter cell; two clauses are tried, the counter moves once.
    bump = relay.Let(
        relay.var("u"), relay.RefWrite(r, relay.add(relay.RefRead(r), c(1))), t.of(c(4))
    )
    m = relay.Match(bump, [relay.Clause(pnil(t), c(0)), relay.Clause(pcons(t, pvar(h), WILD), h)])
    prog = relay.Let(r, relay.RefCreate(c(0)), relay.Tuple([m, relay.RefRead(r)]))
    value = evaluate_expr(prog, t.module())
    assert isinstance(value, tuple)
    assert [int(np.asarray(v)) for v in value] == [4, 1]


# --- text format -------------------------------------------------------------------------------


MATCH_TEXT = """#[version = "0.0.5"]
type List[a] {
  Cons(a, List[a]),
  Nil,
}

def @second(%xs: List[int32], %p: (int32, List[int32])) -> int32 {
  let %n = match (%xs) {
    Cons(_, Cons(%y, _)) => {
      %y
    },
    _ => {
      0
    },
  };
  match? (%p) {
    (%a, Nil) => {
      %a + %n
    },
  }
}
"""


@pytest.mark.spec("MATCH-5")
def test_matches_print_and_parse() -> None:
    mod = relay.parse(MATCH_TEXT)
    func = mod["second"]
    assert isinstance(func, relay.Function)
    let = func.body
    assert isinstance(let, relay.Let)
    inner = let.value
    assert isinstance(inner, relay.Match)
    assert inner.complete
    assert isinstance(inner.clauses[1].lhs, relay.PatternWildcard)
    outer = let.body
    assert isinstance(outer, relay.Match)
    assert not outer.complete
    assert isinstance(outer.clauses[0].lhs, relay.PatternTuple)
    printed = mod.astext()
    assert "match (%xs) {" in printed
    assert "Cons(_, Cons(%y" in printed
    assert "match? (%p) {" in printed
    assert "(%a: int32" in printed  # a pattern variable prints with its type
    assert ", Nil) => {" in printed
    tvm.ir.assert_structural_equal(relay.parse(printed), mod)
    gv = mod.get_global_var("second")
    cons, nil = mod[mod.get_global_type_var("List")].constructors
    xs = cons(c(1), cons(c(2), nil()))
    got = relay.create_executor(mod=mod).evaluate(gv(xs, relay.Tuple([c(40), nil()])))
    assert int(got.numpy()) == 42


@pytest.mark.spec("MATCH-5")
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("match (1) { Foo(%a) => 1 }", "undefined constructor `Foo` in a pattern"),
        ("match (1) { _ => 1 _ => 2 }", "expected `}` to close the clauses of a match"),
    ],
)
def test_match_syntax_errors(text: str, needle: str) -> None:
    with pytest.raises(DiagnosticError) as info:
        relay.parse_expr(text)
    assert needle in str(info.value)


# --- scopes ------------------------------------------------------------------------------------


@pytest.mark.spec("MATCH-6")
def test_pattern_variables_are_bound_in_their_clause_only() -> None:
    t = ListType()
    xs = relay.var("xs", t.gtv(I32))
    h = relay.var("h")
    m = relay.Match(xs, [relay.Clause(pcons(t, pvar(h), WILD), h)], complete=False)
    assert free_vars(m) == [xs]
    assert well_formed(m)
    assert bound_vars(m) == [h]
    # Used outside its clause, the variable is out of scope: ill formed (as in TVM, free_vars
    # counts a variable bound anywhere in the expression as bound everywhere in it).
    outside = relay.Tuple([m, h])
    assert free_vars(outside) == [xs]
    assert ill_formed_reasons(outside) == ["variable %h is used outside the scope binding it"]
    # Bound twice in one pattern, or by two clauses, is ill formed.
    twice = relay.Match(xs, [relay.Clause(pcons(t, pvar(h), pvar(h)), h)], complete=False)
    assert not well_formed(twice)
    assert ill_formed_reasons(twice) == [
        "variable %h is bound more than once (again by a match pattern)"
    ]
    two_clauses = relay.Match(
        xs, [relay.Clause(pcons(t, pvar(h), WILD), h), relay.Clause(pvar(h), c(0))]
    )
    assert not well_formed(two_clauses)
