"""ADT: algebraic data types: nodes, module type definitions, tags, typing, evaluation, deep
programs, the text format, the standard library, and every facility over them."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from typing_extensions import override

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.adt import Constructor, tag_prefix
from minitvm.ir.module import IRModule
from minitvm.relay.analysis import Feature, detect_feature, free_type_vars
from minitvm.relay.analysis.well_formed import ill_formed_reasons
from minitvm.relay.expr import Expr
from minitvm.relay.expr_functor import ExprMutator, ExprVisitor, children, iter_post_order
from minitvm.relay.interpreter import ConstructorValue, evaluate_expr
from minitvm.relay.interpreter.convert import ExecutorResult
from minitvm.relay.transform import (
    DeadCodeElimination,
    FoldConstant,
    FuseOps,
    InferType,
    Inline,
    RemoveUnusedFunctions,
    ToANormalForm,
    ToBasicBlockNormalForm,
    ToGraphNormalForm,
)
from spec.adt_helpers import F32, I32, ListType, c


def prelude() -> IRModule:
    mod = IRModule()
    mod.import_from_std("prelude.rly")
    return mod


def ctors(mod: IRModule, name: str) -> tuple[Constructor, ...]:
    return mod[mod.get_global_type_var(name)].constructors


def to_ints(value: object) -> list[int]:
    """A List value of int32 scalars as Python ints (iteratively: lists may be long)."""
    out: list[int] = []
    while isinstance(value, ConstructorValue) and value.constructor.name_hint == "Cons":
        head = value.fields[0]  # an NDArray from an executor, an array from the machine
        out.append(int(head.numpy() if isinstance(head, tvm.nd.NDArray) else head))
        value = value.fields[1]
    assert isinstance(value, ConstructorValue)
    assert value.constructor.name_hint == "Nil"
    return out


def run(mod: IRModule, expr: Expr) -> ExecutorResult:
    return relay.create_executor(mod=mod).evaluate(expr)


# --- nodes ---------------------------------------------------------------------------------


@pytest.mark.spec("ADT-1")
def test_global_type_var_and_type_call() -> None:
    lst = relay.GlobalTypeVar("List")
    assert lst.kind == relay.TypeKind.AdtHandle
    assert lst == relay.GlobalTypeVar("List")
    assert lst != relay.GlobalTypeVar("Tree")
    call = lst(I32)
    assert isinstance(call, relay.TypeCall)
    assert call.func is lst
    assert call.args == (I32,)
    assert call == relay.TypeCall(relay.GlobalTypeVar("List"), [I32])
    assert str(call) == "List[int32]"
    assert str(relay.TypeCall(relay.GlobalTypeVar("nat"), [])) == "nat[]"
    tvm.ir.assert_structural_equal(call, relay.TypeCall(relay.GlobalTypeVar("List"), [I32]))
    assert tvm.ir.structural_hash(lst) == tvm.ir.structural_hash(relay.GlobalTypeVar("List"))


@pytest.mark.spec("ADT-1")
def test_constructor_and_type_data() -> None:
    t = ListType()
    assert t.cons.name_hint == "Cons"
    assert t.cons.inputs == (t.a, t.gtv(t.a))
    assert t.cons.belong_to is t.gtv
    assert t.data.header is t.gtv
    assert t.data.type_vars == (t.a,)
    assert t.data.constructors == (t.cons, t.nil)
    call = t.cons(c(1), t.nil())
    assert isinstance(call, relay.Call)
    assert call.op is t.cons
    assert str(t.cons) == "Cons"
    assert t.cons.astext().endswith("Cons")
    # Constructors are atoms: no children; a constructor compares by name and fields.
    assert children(t.cons) == ()
    other = ListType()
    tvm.ir.assert_structural_equal(t.data, other.data)
    assert not tvm.ir.structural_equal(t.cons, other.nil)


@pytest.mark.spec("ADT-1")
def test_type_data_checks_its_constructors() -> None:
    t = ListType()
    tree = relay.GlobalTypeVar("Tree")
    with pytest.raises(DiagnosticError, match="constructor Cons belongs to type List"):
        relay.TypeData(tree, [], [t.cons])
    twice = relay.Constructor("Leaf", [], tree)
    with pytest.raises(DiagnosticError, match="constructor Leaf is defined twice"):
        relay.TypeData(tree, [], [twice, relay.Constructor("Leaf", [], tree)])
    with pytest.raises(DiagnosticError, match="belong_to must be a GlobalTypeVar"):
        relay.Constructor("Bad", [], relay.TypeVar("a"))  # type: ignore[arg-type]  # the error under test


# --- module type definitions ---------------------------------------------------------------


@pytest.mark.spec("ADT-2")
def test_module_type_definitions() -> None:
    t = ListType()
    mod = IRModule()
    mod[t.gtv] = t.data
    assert mod.type_definitions == {t.gtv: t.data}
    assert mod[t.gtv] is t.data
    assert t.gtv in mod
    assert mod.get_global_type_var("List") is t.gtv
    assert mod.get_global_type_vars() == [t.gtv]
    assert mod.get_type("List") == (t.gtv, t.cons, t.nil)
    assert mod.get_constructor(t.cons.tag) is t.cons
    # By name, and through the constructor argument of IRModule.
    mod2 = IRModule({}, {"List": t.data})
    assert mod2.get_type("List") == (t.gtv, t.cons, t.nil)
    # copy and update carry the types.
    assert mod.copy().type_definitions == mod.type_definitions
    mod3 = IRModule()
    mod3.update(mod)
    assert mod3.get_global_type_var("List") is t.gtv


@pytest.mark.spec("ADT-2")
def test_replacing_a_type_and_errors() -> None:
    t = ListType()
    mod = IRModule({}, {t.gtv: t.data})
    old_tag = t.cons.tag
    stack = relay.GlobalTypeVar("List")
    push = relay.Constructor("Push", [I32, stack()], stack)
    mod["List"] = relay.TypeData(stack, [], [push])
    assert mod.get_type("List") == (stack, push)
    assert push.tag == old_tag  # the same name gives the same tag prefix, and Push is first
    with pytest.raises(TVMError, match="no constructor with tag"):
        mod.get_constructor(t.nil.tag)  # Nil went with the old definition
    with pytest.raises(TVMError, match="no type named Tree"):
        mod.get_global_type_var("Tree")
    with pytest.raises(TVMError, match="type Tree cannot be bound to the definition of List"):
        mod["Tree"] = t.data
    with pytest.raises(TVMError, match="names a function"):
        mod[relay.GlobalVar("f")] = t.data
    with pytest.raises(TVMError, match="cannot be bound to a function"):
        mod[t.gtv] = relay.Function([], c(1))


@pytest.mark.spec("ADT-3")
def test_constructor_tags() -> None:
    t = ListType()
    assert t.cons.tag >> 24 == t.nil.tag >> 24  # one prefix per type
    assert [t.cons.tag & 0xFFFFFF, t.nil.tag & 0xFFFFFF] == [0, 1]  # then the position
    fresh = ListType()
    assert fresh.cons.tag == t.cons.tag  # deterministic: derived from the type's name
    # Two types whose prefixes collide get different prefixes in one module.
    mod = IRModule({}, {t.gtv: t.data})
    prefix = t.cons.tag >> 24
    other = next(name for name in (f"T{i}" for i in range(100_000)) if tag_prefix(name) == prefix)
    gtv = relay.GlobalTypeVar(other)
    ctor = relay.Constructor("Only", [], gtv)
    mod[gtv] = relay.TypeData(gtv, [], [ctor])
    assert ctor.tag >> 24 != prefix
    assert mod.get_constructor(ctor.tag) is ctor
    assert mod.get_constructor(t.cons.tag) is t.cons


# --- typing ----------------------------------------------------------------------------------


@pytest.mark.spec("ADT-4")
def test_constructor_types_are_polymorphic() -> None:
    t = ListType()
    mod = IRModule({}, {t.gtv: t.data})
    x = relay.var("x", F32)
    mod["main"] = relay.Function([x], relay.Tuple([t.of(x, x), t.of(c(1))]))
    typed = InferType()(mod)
    main = typed["main"]
    assert isinstance(main, relay.Function)
    assert main.checked_type.ret_type == relay.TupleType([t.gtv(F32), t.gtv(I32)])  # type: ignore[union-attr]  # a FuncType here
    # Each constructor call is instantiated: its type_args are the ADT's arguments.
    calls = [n for n in iter_post_order(main) if isinstance(n, relay.Call) and n.op is t.cons]
    assert sorted(str(call.type_args[0]) for call in calls) == ["float32", "float32", "int32"]
    # A constructor used as a value has its polymorphic type.
    f = relay.var("f")
    mod["apply"] = relay.Function([f], relay.Call(f, [c(1), t.nil()]), t.gtv(I32))
    mod["use"] = relay.Function([], relay.Call(mod.get_global_var("apply"), [t.cons]))
    typed2 = InferType()(mod)
    assert typed2["use"].checked_type == relay.FuncType([], t.gtv(I32))


@pytest.mark.spec("ADT-4")
@pytest.mark.parametrize(
    ("annotation", "needle"),
    [
        ("Tree", "type Tree is not defined in the module"),
        ("List2", "List takes 1 type argument(s), but 2 are given"),
        ("List0", "List takes 1 type argument(s), but 0 are given"),
    ],
)
def test_annotations_must_name_defined_types(annotation: str, needle: str) -> None:
    t = ListType()
    ann = {
        "Tree": relay.TypeCall(relay.GlobalTypeVar("Tree"), []),
        "List2": t.gtv(I32, I32),
        "List0": relay.TypeCall(t.gtv, []),
    }[annotation]
    x = relay.var("x", ann)
    mod = IRModule({"main": relay.Function([x], x)}, {t.gtv: t.data})
    with pytest.raises(DiagnosticError) as info:
        InferType()(mod)
    assert needle in str(info.value)


@pytest.mark.spec("ADT-4")
def test_constructor_errors() -> None:
    t = ListType()
    # The module does not define the constructor's type.
    with pytest.raises(DiagnosticError, match="constructor Cons: type List is not defined"):
        InferType()(IRModule.from_expr(relay.Function([], t.of(c(1)))))
    # A constructor of another definition of the type.
    mod = IRModule({}, {t.gtv: t.data})
    stranger = relay.Constructor("Snoc", [t.a], t.gtv)
    mod["main"] = relay.Function([], stranger(c(1)))
    with pytest.raises(DiagnosticError, match="constructor Snoc is not a constructor of type List"):
        InferType()(mod)
    # Wrong field types.
    mod["main"] = relay.Function([], t.cons(c(1), t.of(relay.const(1.0))))
    with pytest.raises(DiagnosticError, match="argument 1 of the call of constructor Cons"):
        InferType()(mod)
    # InferTypeLocal has no module.
    with pytest.raises(DiagnosticError, match="cannot be typed without a module"):
        relay.transform.InferTypeLocal(t.nil())


# --- evaluation ------------------------------------------------------------------------------


@pytest.mark.spec("ADT-5")
def test_values_carry_tag_fields_and_constructor() -> None:
    t = ListType()
    mod = IRModule({}, {t.gtv: t.data})
    value = run(mod, t.of(c(1), c(2)))
    assert isinstance(value, ConstructorValue)
    assert value.tag == t.cons.tag
    assert value.constructor is t.cons
    assert int(value.fields[0].numpy()) == 1
    assert to_ints(value) == [1, 2]
    assert "ConstructorValue(Cons" in repr(value)


@pytest.mark.spec("ADT-5")
def test_constructors_are_first_class_functions() -> None:
    mod = prelude()
    cons, nil = ctors(mod, "List")
    foldr = mod.get_global_var("foldr")
    # foldr(Cons, [3], [1, 2]) is the concatenation [1, 2, 3].
    xs = cons(c(1), cons(c(2), nil()))
    ys = cons(c(3), nil())
    assert to_ints(run(mod, foldr(cons, ys, xs))) == [1, 2, 3]


@pytest.mark.spec("ADT-6")
def test_constructor_values_as_arguments() -> None:
    mod = prelude()
    cons, nil = ctors(mod, "List")
    length = mod.get_global_var("length")
    lst = relay.var("l", relay.TypeCall(mod.get_global_type_var("List"), [I32]))
    mod["main"] = relay.Function([lst], length(lst))
    ex = relay.create_executor(mod=mod).evaluate()
    value = ConstructorValue(
        cons.tag, [tvm.nd.array(np.int32(7)), ConstructorValue(nil.tag, [], nil)], cons
    )
    assert int(ex(value).numpy()) == 1
    with pytest.raises(DiagnosticError, match="argument %l"):
        ex(
            ConstructorValue(
                cons.tag, [tvm.nd.array(np.float32(7)), ConstructorValue(nil.tag, [], nil)], cons
            )
        )
    with pytest.raises(DiagnosticError, match="argument %l: expected List"):
        ex(np.int32(1))


# --- deep programs ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.spec("ADT-7")
@pytest.mark.without_wellformed_check
def test_a_100000_element_list_built_and_summed() -> None:
    mod = prelude()
    cons, nil = ctors(mod, "List")
    n = relay.var("n", I32)
    build = relay.GlobalVar("build")
    list_of_int = relay.TypeCall(mod.get_global_type_var("List"), [I32])
    mod[build] = relay.Function(
        [n],
        relay.If(relay.equal(n, c(0)), nil(), cons(n, build(relay.subtract(n, c(1))))),
        list_of_int,
    )
    size = 100_000
    assert sys.getrecursionlimit() <= 10_000
    # One evaluation builds the list once, then sums it and returns it.
    lst = relay.var("lst", list_of_int)
    program = relay.Let(lst, build(c(size)), relay.Tuple([mod.get_global_var("sum")(lst), lst]))
    total, value = run(mod, program)
    want = np.arange(1, size + 1, dtype=np.int64).sum().astype(np.int32)  # int32 wraps around
    assert int(total.numpy()) == int(want)
    assert isinstance(value, ConstructorValue)
    assert value.constructor.name_hint == "Cons"
    assert int(value.fields[0].numpy()) == size


@pytest.mark.slow
@pytest.mark.spec("ADT-7")
@pytest.mark.without_wellformed_check
def test_a_100000_deep_list_literal() -> None:
    t = ListType()
    size = 100_000
    expr: Expr = t.nil()
    for i in range(size):
        expr = t.cons(c(i % 7), expr)
    assert sys.getrecursionlimit() <= 10_000
    mod = IRModule({}, {t.gtv: t.data})
    mod["main"] = relay.Function([], expr)
    typed = InferType()(mod)
    main = typed["main"]
    assert isinstance(main, relay.Function)
    assert main.checked_type == relay.FuncType([], t.gtv(I32))
    # The machine alone: create_executor would type-check the module a second time.
    value = evaluate_expr(main.body, typed)
    assert to_ints(value) == [i % 7 for i in range(size - 1, -1, -1)]


@pytest.mark.spec("ADT-7")
@pytest.mark.without_wellformed_check
def test_a_deep_list_literal_prints_parses_compares_and_hashes() -> None:
    # Ten times Python's recursion limit deep: any recursion per level would fail; the
    # 100,000-deep cases of these facilities are checked on call chains in their own tests.
    t = ListType()
    size = 10_000
    expr: Expr = t.nil()
    for i in range(size):
        expr = t.cons(c(i % 7), expr)
    assert sys.getrecursionlimit() * 10 <= size
    mod = InferType()(IRModule({"main": relay.Function([], expr)}, {t.gtv: t.data}))
    text = mod.astext()
    assert text.count(" = Cons(") == size - 1
    parsed = relay.parse(text)
    tvm.ir.assert_structural_equal(parsed, mod)
    assert tvm.ir.structural_hash(parsed) == tvm.ir.structural_hash(mod)


# --- text format -------------------------------------------------------------------------------


ADT_TEXT = """#[version = "0.0.5"]
type Pair[A, B] {
  MkPair(A, B),
}

type Shape {
  Circle(float32),
  Rect(float32, float32),
  Dot,
}

extern type Handle

def @area(%s: Shape[]) -> float32 {
  match (%s) {
    Circle(%r) => {
      3f * %r * %r
    },
    Rect(%w, %h) => {
      %w * %h
    },
    Dot => {
      0f
    },
  }
}

def @main(%p: Pair[Shape[], int32]) -> float32 {
  match? (%p) {
    MkPair(%s, _) => {
      @area(%s)
    },
  }
}
"""


@pytest.mark.spec("ADT-8")
def test_type_definitions_print_and_parse() -> None:
    mod = relay.parse(ADT_TEXT)
    assert [g.name_hint for g in sorted(mod.type_definitions, key=lambda g: g.name_hint)] == [
        "Handle",
        "Pair",
        "Shape",
    ]
    handle = mod[mod.get_global_type_var("Handle")]
    assert handle.constructors == ()
    assert handle.type_vars == ()
    pair = mod[mod.get_global_type_var("Pair")]
    assert [tv.name_hint for tv in pair.type_vars] == ["A", "B"]
    printed = mod.astext()
    assert printed.index("type Handle") < printed.index("type Pair") < printed.index("def @area")
    assert "  Rect(float32, float32),\n  Dot,\n}" in printed
    tvm.ir.assert_structural_equal(relay.parse(printed), mod)
    shape_ctors = ctors(mod, "Shape")
    circle, rect, _dot = shape_ctors
    mkpair = ctors(mod, "Pair")[0]
    got = run(
        mod, mod.get_global_var("main")(mkpair(rect(relay.const(2.0), relay.const(3.0)), c(1)))
    )
    assert float(got.numpy()) == 6.0
    got = run(mod, mod.get_global_var("area")(circle(relay.const(1.0))))
    assert float(got.numpy()) == pytest.approx(3.0)


@pytest.mark.spec("ADT-8")
def test_zero_field_constructors_read_as_calls() -> None:
    mod = relay.parse(ADT_TEXT)
    dot = ctors(mod, "Shape")[2]
    text = ADT_TEXT.replace("@area(%s)", "@area(Dot)")
    parsed = relay.parse(text)
    main = parsed["main"]
    assert isinstance(main, relay.Function)
    calls = [n.op for n in iter_post_order(main) if isinstance(n, relay.Call) and n.args == ()]
    assert len(calls) == 1
    assert isinstance(calls[0], Constructor)
    assert calls[0].name_hint == dot.name_hint
    # Printed bare, not `Dot()`; like any call used once as an argument, it is bound to a
    # temporary (TVM's graph form), and the text reads back as the same call.
    printed = parsed.astext()
    assert "Dot()" not in printed
    assert " = Dot /* ty=Shape[]" in printed
    tvm.ir.assert_structural_equal(relay.parse(printed), parsed)


@pytest.mark.spec("ADT-8")
@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("type T { A }\ntype T { B }", "the type `T` is defined twice"),
        ("type T { A }\ntype U { A }", "the constructor `A` is defined twice"),
        ("extern type T { A }", "the extern type `T` cannot have constructors"),
        ("def @f(%x: Unknown) { %x }", "unknown type `Unknown`"),
        ("def @f() { Nope(1) }", "unknown operator `Nope`"),
        ("type T[A] { C(B) }", "unknown type `B`"),
    ],
)
def test_type_definition_errors(text: str, needle: str) -> None:
    with pytest.raises(DiagnosticError) as info:
        relay.parse('#[version = "0.0.5"]\n' + text)
    assert needle in str(info.value)


@pytest.mark.spec("ADT-8")
def test_types_may_be_used_before_their_definition_and_init_module_types() -> None:
    text = """#[version = "0.0.5"]
def @f(%x: Box[]) -> Box[] { %x }
type Box { Wrap(int32) }
def @g() -> Box[] { @f(Wrap(1)) }
"""
    mod = relay.parse(text)
    assert [ct.name_hint for ct in ctors(mod, "Box")] == ["Wrap"]
    more = relay.parse('#[version = "0.0.5"]\ndef @h() -> Box { Wrap(2) }', init_module=mod)
    assert set(more.type_definitions) == set(mod.type_definitions)
    value = run(more, more.get_global_var("h")())
    assert isinstance(value, ConstructorValue)
    assert int(value.fields[0].numpy()) == 2


# --- standard library --------------------------------------------------------------------------


@pytest.mark.spec("ADT-9")
def test_prelude_types_and_functions() -> None:
    mod = prelude()
    for name, ctor_names in (
        ("List", ["Cons", "Nil"]),
        ("Option", ["Some", "None"]),
        ("Tree", ["Rose"]),
    ):
        assert [ct.name_hint for ct in ctors(mod, name)] == ctor_names
    names = {gv.name_hint for gv in mod.get_global_vars()}
    expected = {
        "id", "compose", "flip", "hd", "tl", "nth", "update", "map", "foldl", "foldr", "foldr1",
        "concat", "filter", "zip", "rev", "map_accuml", "map_accumr", "unfoldl", "unfoldr",
        "sum", "length", "tmap", "size", "iterate",
    }  # fmt: skip
    assert expected <= names
    # Importing twice changes nothing; every function is typed.
    again = mod.import_from_std("prelude.rly")
    assert {gv.name_hint for gv in again.get_global_vars()} == names
    for func in again.functions.values():
        assert func.checked_type_ is not None


@pytest.mark.spec("ADT-9")
def test_prelude_list_functions_compute() -> None:
    mod = prelude()
    cons, nil = ctors(mod, "List")
    some, none = ctors(mod, "Option")
    g = mod.get_global_var

    def lst(*items: int) -> Expr:
        out: Expr = nil()
        for item in reversed(items):
            out = cons(c(item), out)
        return out

    x, y = relay.var("x", I32), relay.var("y", I32)
    double = relay.Function([x], relay.multiply(x, c(2)))
    sub = relay.Function([x, y], relay.subtract(x, y))
    odd = relay.Function([x], relay.equal(relay.mod(x, c(2)), c(1)))
    assert int(run(mod, g("hd")(lst(4, 5))).numpy()) == 4
    assert to_ints(run(mod, g("tl")(lst(4, 5)))) == [5]
    assert int(run(mod, g("nth")(lst(4, 5, 6), c(2))).numpy()) == 6
    assert int(run(mod, g("length")(lst(4, 5, 6))).numpy()) == 3
    assert to_ints(run(mod, g("update")(lst(4, 5, 6), c(1), c(9)))) == [4, 9, 6]
    assert to_ints(run(mod, g("map")(double, lst(1, 2, 3)))) == [2, 4, 6]
    assert int(run(mod, g("foldl")(sub, c(10), lst(1, 2, 3))).numpy()) == (10 - 1 - 2 - 3)
    assert int(run(mod, g("foldr")(sub, c(10), lst(1, 2, 3))).numpy()) == (1 - (2 - (3 - 10)))
    assert int(run(mod, g("foldr1")(sub, lst(1, 2, 3))).numpy()) == (1 - (2 - 3))
    assert int(run(mod, g("sum")(lst(1, 2, 3, 4))).numpy()) == 10
    assert to_ints(run(mod, g("concat")(lst(1, 2), lst(3)))) == [1, 2, 3]
    assert to_ints(run(mod, g("filter")(odd, lst(1, 2, 3, 5)))) == [1, 3, 5]
    assert to_ints(run(mod, g("rev")(lst(1, 2, 3)))) == [3, 2, 1]
    zipped = run(mod, g("zip")(lst(1, 2, 3), lst(7, 8)))
    pairs = []
    while zipped.constructor.name_hint == "Cons":
        head = zipped.fields[0]
        pairs.append((int(head[0].numpy()), int(head[1].numpy())))
        zipped = zipped.fields[1]
    assert pairs == [(1, 7), (2, 8)]
    # map_accuml / map_accumr: running sums, from either end.
    acc, item = relay.var("acc", I32), relay.var("item", I32)
    step = relay.Function([acc, item], relay.Tuple([relay.add(acc, item), relay.add(acc, item)]))
    left = run(mod, g("map_accuml")(step, c(0), lst(1, 2, 3)))
    assert int(left[0].numpy()) == 6
    assert to_ints(left[1]) == [6, 3, 1]  # consed onto the front as it goes, as in TVM
    right = run(mod, g("map_accumr")(step, c(0), lst(1, 2, 3)))
    assert int(right[0].numpy()) == 6
    assert to_ints(right[1]) == [6, 5, 3]
    # unfoldr / unfoldl: count down from a seed.
    seed = relay.var("seed", I32)
    down = relay.Function(
        [seed],
        relay.If(
            relay.equal(seed, c(0)),
            none(),
            some(relay.Tuple([relay.subtract(seed, c(1)), seed])),
        ),
    )
    assert to_ints(run(mod, g("unfoldr")(down, c(3)))) == [3, 2, 1]
    assert to_ints(run(mod, g("unfoldl")(down, c(3)))) == [1, 2, 3]


@pytest.mark.spec("ADT-9")
def test_prelude_combinators_and_trees() -> None:
    mod = prelude()
    cons, nil = ctors(mod, "List")
    (rose,) = ctors(mod, "Tree")
    g = mod.get_global_var
    x, y = relay.var("x", I32), relay.var("y", I32)
    inc = relay.Function([x], relay.add(x, c(1)))
    dbl = relay.Function([x], relay.multiply(x, c(2)))
    sub = relay.Function([x, y], relay.subtract(x, y))
    assert int(run(mod, g("id")(c(5))).numpy()) == 5
    assert int(run(mod, relay.Call(g("compose")(inc, dbl), [c(5)])).numpy()) == 11
    assert int(run(mod, relay.Call(g("flip")(sub), [c(1), c(10)])).numpy()) == 9
    assert int(run(mod, relay.Call(g("iterate")(dbl, c(3)), [c(1)])).numpy()) == 8
    # A tree 1 { 2, 3 { 4 } }: size 4; tmap doubles every value.
    leaf2 = rose(c(2), nil())
    leaf4 = rose(c(4), nil())
    node3 = rose(c(3), cons(leaf4, nil()))
    tree = rose(c(1), cons(leaf2, cons(node3, nil())))
    assert int(run(mod, g("size")(tree)).numpy()) == 4
    mapped = run(mod, g("tmap")(dbl, tree))
    assert isinstance(mapped, ConstructorValue)
    assert int(mapped.fields[0].numpy()) == 2
    second_child = mapped.fields[1].fields[1].fields[0]
    assert int(second_child.fields[0].numpy()) == 6


@pytest.mark.spec("ADT-9")
def test_nat_and_core() -> None:
    mod = IRModule()
    mod.import_from_std("nat.rly")  # imports the prelude first
    assert mod.contains_global_var("map")
    assert mod.contains_global_var("nat_add")
    nat = mod.get_global_type_var("nat")
    zero, succ = ctors(mod, "nat")
    assert (zero.name_hint, succ.name_hint) == ("zero", "succ")
    add = mod.get_global_var("nat_add")
    assert mod[add].checked_type == relay.FuncType([nat(), nat()], nat())

    def num(n: int) -> Expr:
        out: Expr = zero()
        for _ in range(n):
            out = succ(out)
        return out

    def count(value: object) -> int:
        k = 0
        while isinstance(value, ConstructorValue) and value.tag == succ.tag:
            k += 1
            value = value.fields[0]
        assert isinstance(value, ConstructorValue)
        assert value.tag == zero.tag
        return k

    assert count(run(mod, add(num(2), num(3)))) == 5
    assert count(run(mod, mod.get_global_var("nat_double")(num(3)))) == 6
    cons, nil = ctors(mod, "List")
    lst = cons(c(4), cons(c(5), cons(c(6), nil())))
    assert int(run(mod, mod.get_global_var("nat_nth")(lst, num(1))).numpy()) == 5
    assert to_ints(run(mod, mod.get_global_var("nat_update")(lst, num(1), c(9)))) == [4, 9, 6]
    x = relay.var("x", I32)
    inc = relay.Function([x], relay.add(x, c(1)))
    it = mod.get_global_var("nat_iterate")(inc, num(4))
    assert int(run(mod, relay.Call(it, [c(0)])).numpy()) == 4
    core = IRModule().import_from_std("core.rly")
    storage = core[core.get_global_type_var("Storage")]
    assert storage.constructors == ()
    with pytest.raises(DiagnosticError, match=r"no standard library file 'gradients\.rly'"):
        IRModule().import_from_std("gradients.rly")


# --- structural equality, visitors, analyses ---------------------------------------------------


@pytest.mark.spec("ADT-10")
def test_modules_with_types_compare_and_hash_structurally() -> None:
    a = relay.parse(ADT_TEXT)
    b = relay.parse(ADT_TEXT)
    tvm.ir.assert_structural_equal(a, b)
    assert tvm.ir.structural_hash(a) == tvm.ir.structural_hash(b)
    changed = relay.parse(ADT_TEXT.replace("Dot,", "Dot(int32),").replace("Dot =>", "Dot(_) =>"))
    assert not tvm.ir.structural_equal(a, changed)
    assert tvm.ir.structural_hash(a) != tvm.ir.structural_hash(changed)
    # Constructor field types are compared, through the type's own variables.
    renamed = relay.parse(
        ADT_TEXT.replace("Pair[A, B]", "Pair[X, Y]").replace("MkPair(A, B)", "MkPair(X, Y)")
    )
    tvm.ir.assert_structural_equal(a, renamed)
    swapped = relay.parse(
        ADT_TEXT.replace("MkPair(A, B)", "MkPair(B, A)").replace(
            "Pair[Shape[], int32]", "Pair[int32, Shape[]]"
        )
    )
    assert not tvm.ir.structural_equal(a, swapped)


@pytest.mark.spec("ADT-11")
def test_visitors_and_mutators_cover_the_new_nodes() -> None:
    t = ListType()
    x = relay.var("x", I32)
    r = relay.var("r")
    h = relay.var("h")
    match = relay.Match(
        t.of(x),
        [
            relay.Clause(
                relay.PatternConstructor(t.cons, [relay.PatternVar(h), relay.PatternWildcard()]), h
            )
        ],
    )
    body = relay.Let(
        r, relay.RefCreate(match), relay.Tuple([relay.RefRead(r), relay.RefWrite(r, x)])
    )
    seen: list[str] = []

    class Visitor(ExprVisitor):
        @override
        def visit_ref_create(self, ref: relay.RefCreate) -> None:
            seen.append("ref_create")

        @override
        def visit_ref_read(self, ref: relay.RefRead) -> None:
            seen.append("ref_read")

        @override
        def visit_ref_write(self, ref: relay.RefWrite) -> None:
            seen.append("ref_write")

        @override
        def visit_constructor(self, con: Constructor) -> None:
            seen.append("constructor " + con.name_hint)

        @override
        def visit_match(self, match: relay.Match) -> None:
            seen.append("match")

    Visitor().visit(body)
    assert seen == [  # a call's callee is visited before its arguments, as in TVM
        "constructor Cons",
        "constructor Nil",
        "match",
        "ref_create",
        "ref_read",
        "ref_write",
    ]

    class Rename(ExprMutator):
        @override
        def visit_var(self, var: relay.Var) -> Expr:
            return relay.Var(var.name_hint + "_", var.type_annotation)

    renamed = Rename().visit(relay.Function([x], body))
    assert isinstance(renamed, relay.Function)
    tvm.ir.assert_structural_equal(renamed, relay.Function([x], body))
    # The pattern variable was renamed consistently, with its use.
    ms = [n for n in iter_post_order(renamed) if isinstance(n, relay.Match)]
    pattern = ms[0].clauses[0].lhs
    assert isinstance(pattern, relay.PatternConstructor)
    pvar = pattern.patterns[0]
    assert isinstance(pvar, relay.PatternVar)
    assert pvar.var.name_hint == "h_"
    assert ms[0].clauses[0].rhs is pvar.var
    # An identity mutator returns the very same nodes.
    assert ExprMutator().visit(body) is body


@pytest.mark.spec("ADT-11")
def test_analyses() -> None:
    t = ListType()
    x = relay.var("x", I32)
    h, rest = relay.var("h"), relay.var("rest")
    match = relay.Match(
        t.of(x),
        [
            relay.Clause(
                relay.PatternConstructor(t.cons, [relay.PatternVar(h), relay.PatternVar(rest)]), h
            ),
            relay.Clause(relay.PatternWildcard(), x),
        ],
    )
    assert relay.analysis.free_vars(match) == [x]
    assert set(relay.analysis.bound_vars(match)) == {h, rest}
    assert relay.analysis.well_formed(match)
    outside = relay.Tuple([match, h])
    assert not relay.analysis.well_formed(outside)
    twice = relay.Match(
        x, [relay.Clause(relay.PatternTuple([relay.PatternVar(h), relay.PatternVar(h)]), h)]
    )
    assert not relay.analysis.well_formed(twice)
    assert "bound more than once (again by a match pattern)" in ill_formed_reasons(twice)[0]
    feats = detect_feature(match)
    assert {Feature.fConstructor, Feature.fMatch, Feature.fCall} <= feats
    # free_type_vars: with the module, the ADT's parameters bind the constructor's field types.
    mod = IRModule({}, {t.gtv: t.data})
    assert free_type_vars(t.cons) == [t.a]
    assert free_type_vars(t.cons, mod) == []


# --- passes --------------------------------------------------------------------------------------


@pytest.mark.spec("ADT-12")
def test_normal_forms_treat_clauses_as_scopes() -> None:
    t = ListType()
    x = relay.var("x", I32)
    h = relay.var("h")
    shared = relay.add(x, c(1))  # used in both clauses: bound before the match
    only_here = relay.multiply(x, c(3))  # used in one clause: bound inside it
    match = relay.Match(
        t.of(x),
        [
            relay.Clause(
                relay.PatternConstructor(t.cons, [relay.PatternVar(h), relay.PatternWildcard()]),
                relay.add(relay.add(h, shared), only_here),
            ),
            relay.Clause(relay.PatternWildcard(), shared),
        ],
    )
    mod = IRModule({"main": relay.Function([x], match)}, {t.gtv: t.data})
    typed = InferType()(mod)
    anf = ToANormalForm()(typed)
    main = anf["main"]
    assert isinstance(main, relay.Function)
    assert Feature.fGraph not in detect_feature(main)
    # Walk the outer let chain to the match.
    outer: list[Expr] = []
    body: Expr = main.body
    while isinstance(body, relay.Let):
        outer.append(body.value)
        body = body.body
    matches = [v for v in outer if isinstance(v, relay.Match)]
    assert len(matches) == 1
    m = matches[0]
    assert isinstance(m.data, relay.Var)  # the data is atomic
    # x + 1, used by both clauses, is bound before the match.
    assert any(
        isinstance(v, relay.Call) and isinstance(v.op, tvm.ir.Op) and v.op.name == "add"
        for v in outer
    )
    first_clause = m.clauses[0].rhs
    assert isinstance(first_clause, relay.Let)  # multiply(x, 3) is bound inside the clause
    for p in (ToANormalForm(), ToGraphNormalForm(), ToBasicBlockNormalForm()):
        out = InferType()(p(typed))
        for value in (0, 5):
            got = relay.create_executor(mod=out).evaluate()(np.int32(value))
            want = relay.create_executor(mod=typed).evaluate()(np.int32(value))
            assert int(got.numpy()) == int(want.numpy()) == value + (value + 1) + 3 * value
    back = ToGraphNormalForm()(anf)
    tvm.ir.assert_structural_equal(back, typed)


@pytest.mark.spec("ADT-12")
def test_dead_code_and_unused_functions_with_adts() -> None:
    t = ListType()
    mod = IRModule({}, {t.gtv: t.data})
    y = relay.var("y", I32)
    for name in ("in_ctor", "in_clause", "as_arg", "unused"):
        mod[name] = relay.Function([y], y)
    f = relay.var("f")
    mod["apply"] = relay.Function([f], relay.Call(f, [c(1)]))
    x = relay.var("x", I32)
    h = relay.var("h")
    dead = relay.var("dead")
    g = mod.get_global_var
    match = relay.Match(
        t.of(g("in_ctor")(x)),
        [
            relay.Clause(
                relay.PatternConstructor(t.cons, [relay.PatternVar(h), relay.PatternWildcard()]),
                g("in_clause")(h),
            ),
            relay.Clause(relay.PatternWildcard(), g("apply")(g("as_arg"))),
        ],
    )
    mod["main"] = relay.Function([x], relay.Let(dead, t.of(x), match))
    kept = RemoveUnusedFunctions()(mod)
    assert {gv.name_hint for gv in kept.functions} == {
        "main",
        "in_ctor",
        "in_clause",
        "apply",
        "as_arg",
    }
    assert kept.type_definitions == mod.type_definitions
    out = DeadCodeElimination()(InferType()(kept))
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert isinstance(main.body, relay.Match)  # the dead list binding is gone


@pytest.mark.spec("ADT-12")
def test_inline_fold_and_fuse_with_adts() -> None:
    t = ListType()
    mod = IRModule({}, {t.gtv: t.data})
    x = relay.var("x", F32)
    h = relay.var("h")
    first = relay.Function(
        [x],
        relay.Match(
            t.of(x),
            [
                relay.Clause(
                    relay.PatternConstructor(
                        t.cons, [relay.PatternVar(h), relay.PatternWildcard()]
                    ),
                    h,
                )
            ],
            False,
        ),
    ).with_attr("Inline", tvm.tir.IntImm("int32", 1))
    mod["first"] = first
    z = relay.var("z", F32)
    g = mod.get_global_var("first")
    mod["main"] = relay.Function(
        [z], relay.add(g(relay.exp(z)), g(relay.add(relay.const(1.0), relay.const(2.0))))
    )
    typed = InferType()(mod)
    inlined = InferType()(Inline()(typed))
    assert not inlined.contains_global_var("first")
    main = inlined["main"]
    assert isinstance(main, relay.Function)
    pvars = [
        p
        for n in iter_post_order(main)
        if isinstance(n, relay.Match)
        for p in relay.analysis.bound_vars(n)
    ]
    assert len(pvars) == len(set(pvars)) == 2  # each copy has its own pattern variable
    folded = FoldConstant()(inlined)
    fmain = folded["main"]
    assert isinstance(fmain, relay.Function)
    assert sum(isinstance(n, relay.Match) for n in iter_post_order(fmain)) == 2  # not folded
    ctor_calls = [
        n
        for n in iter_post_order(fmain)
        if isinstance(n, relay.Call) and isinstance(n.op, Constructor)
    ]
    # Cons(_, Nil()) twice (the copies share the closed Nil()), even around the folded 3.
    assert sorted(n.op.name_hint for n in ctor_calls) == ["Cons", "Cons", "Nil"]  # type: ignore[union-attr]  # Constructors, filtered above
    consts = [n for n in iter_post_order(fmain) if isinstance(n, relay.Constant)]
    assert any(float(n.data.numpy()) == 3.0 for n in consts)  # 1 + 2 was folded
    fused = FuseOps()(folded)
    data = np.float32(0.5)
    want = float(np.exp(data) + 3.0)
    for m in (typed, inlined, folded, fused):
        got = relay.create_executor(mod=m).evaluate()(data)
        assert float(got.numpy()) == pytest.approx(want, rel=1e-6)


@pytest.mark.spec("PARSE-20")
def test_gradient_cells_skip_zeros_and_ones() -> None:
    mod = IRModule()
    mod.import_from_std("gradient.rly")
    raw, one, zero = ctors(mod, "GradCell")
    assert [k.name_hint for k in (raw, one, zero)] == ["Raw", "One", "Zero"]
    x, y = relay.var("x", I32), relay.var("y", I32)
    add = relay.Function([x, y], relay.add(x, y))
    mul = relay.Function([x, y], relay.multiply(x, y))
    unit = relay.Function([], c(1))
    nothing = relay.Function([], c(0))
    gv = mod.get_global_var
    value = gv("FromGradCell")

    def read(cell: Expr) -> int:
        return int(run(mod, value(cell)).numpy())

    assert read(gv("AddGradCell")(add, raw(c(3)), raw(c(4)))) == 7
    assert read(gv("AddGradCell")(add, zero(nothing), raw(c(4)))) == 4
    assert read(gv("MultiplyGradCell")(mul, raw(c(3)), raw(c(4)))) == 12
    assert read(gv("MultiplyGradCell")(mul, one(unit), raw(c(5)))) == 5
    kept = run(mod, gv("MultiplyGradCell")(mul, raw(c(5)), zero(nothing)))
    assert isinstance(kept, ConstructorValue)
    assert kept.constructor.name_hint == "Zero"
