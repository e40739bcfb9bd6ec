"""REF: mutable references: nodes, typing, evaluation order, the executor boundary, the text
format, analyses and passes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay.analysis import Feature, detect_feature
from minitvm.relay.analysis.purity import let_purity
from minitvm.relay.expr import Expr
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.interpreter import RefValue
from minitvm.relay.transform import (
    DeadCodeElimination,
    FoldConstant,
    FuseOps,
    InferType,
    ToANormalForm,
    ToGraphNormalForm,
)

I32 = relay.scalar_type("int32")
F32 = relay.TensorType((2,), "float32")


def c(value: int) -> relay.Constant:
    return relay.const(value, "int32")


def evaluate(expr: Expr, mod: IRModule | None = None) -> object:
    return relay.create_executor(mod=mod).evaluate(expr)


def as_int(value: object) -> int:
    assert isinstance(value, tvm.nd.NDArray)
    return int(value.numpy())


def counter_program() -> Expr:
    """``let r = ref(1); let a = r!; r := 2; let b = r!; a + b`` (TVM's test_ref)."""
    r = relay.var("r")
    a = relay.var("a")
    u = relay.var("u")
    b = relay.var("b")
    body = relay.Let(b, relay.RefRead(r), relay.add(a, b))
    body = relay.Let(u, relay.RefWrite(r, c(2)), body)
    body = relay.Let(a, relay.RefRead(r), body)
    return relay.Let(r, relay.RefCreate(c(1)), body)


# --- nodes -------------------------------------------------------------------------------


@pytest.mark.spec("REF-1")
def test_nodes_fields_and_identity() -> None:
    x = relay.var("x", I32)
    create = relay.RefCreate(x)
    read = relay.RefRead(create)
    write = relay.RefWrite(create, c(3))
    assert create.value is x
    assert read.ref is create
    assert write.ref is create
    assert isinstance(write.value, relay.Constant)
    assert relay.RefCreate(x) is not create  # expression nodes are distinct objects
    # Structural equality: graph nodes, compared by their fields.
    tvm.ir.assert_structural_equal(
        relay.RefRead(relay.RefCreate(x)), relay.RefRead(relay.RefCreate(x))
    )
    assert not tvm.ir.structural_equal(relay.RefCreate(x), relay.RefRead(x))
    shared = relay.RefCreate(x)
    assert not tvm.ir.structural_equal(
        relay.Tuple([shared, shared]), relay.Tuple([relay.RefCreate(x), relay.RefCreate(x)])
    )
    assert tvm.ir.structural_hash(relay.RefCreate(x)) == tvm.ir.structural_hash(relay.RefCreate(x))


@pytest.mark.spec("REF-1")
def test_ref_type_is_compared_by_value() -> None:
    assert relay.RefType(I32) == relay.RefType(relay.scalar_type("int32"))
    assert relay.RefType(I32) != relay.RefType(F32)
    assert relay.RefType is tvm.ir.RelayRefType
    assert str(relay.RefType(F32)) == "ref(Tensor[(2), float32])"
    assert hash(relay.RefType(I32)) == hash(relay.RefType(I32))


# --- typing ------------------------------------------------------------------------------


@pytest.mark.spec("REF-2")
def test_types_of_reference_operations() -> None:
    x = relay.var("x", F32)
    r = relay.var("r")
    read = relay.RefRead(r)
    write = relay.RefWrite(r, x)
    body = relay.Let(r, relay.RefCreate(x), relay.Tuple([read, write]))
    func = relay.testing.run_infer_type(relay.Function([x], body))
    assert isinstance(func, relay.Function)
    assert func.checked_type == relay.FuncType([F32], relay.TupleType([F32, relay.TupleType([])]))
    let = func.body
    assert isinstance(let, relay.Let)
    assert let.var.checked_type == relay.RefType(F32)
    assert let.value.checked_type == relay.RefType(F32)


@pytest.mark.spec("REF-2")
def test_reference_type_inferred_from_a_write() -> None:
    # The content type of a reference parameter is only known from what is written to it.
    r = relay.var("r")
    func = relay.Function([r], relay.RefWrite(r, c(1)))
    typed = relay.testing.run_infer_type(func)
    assert isinstance(typed, relay.Function)
    assert typed.params[0].checked_type == relay.RefType(I32)


@pytest.mark.spec("REF-2")
@pytest.mark.parametrize(
    ("build", "needle"),
    [
        (
            lambda x: relay.RefRead(x),
            "the reference ref_read reads: expected `ref(_)`, found `int32`",
        ),
        (lambda x: relay.RefWrite(x, x), "the reference ref_write writes: expected `ref(_)`"),
        (
            lambda x: relay.RefWrite(relay.RefCreate(x), relay.const(1.0)),
            "the value ref_write writes (it must match the reference's contents): "
            "expected `int32`, found `float32`",
        ),
    ],
)
def test_typing_errors_name_the_construct(build: Callable[[relay.Var], Expr], needle: str) -> None:
    x = relay.var("x", I32)
    mod = IRModule.from_expr(relay.Function([x], build(x)))
    with pytest.raises(DiagnosticError) as info:
        InferType()(mod)
    assert needle in str(info.value)
    assert "@main" in str(info.value)


# --- evaluation --------------------------------------------------------------------------


@pytest.mark.spec("REF-3")
def test_reads_and_writes_happen_in_order() -> None:
    assert as_int(evaluate(counter_program())) == 3  # 1 read before the write, 2 after


@pytest.mark.spec("REF-3")
def test_each_evaluation_of_ref_makes_a_new_cell() -> None:
    # fn () { ref(0) } called twice gives two cells: writing one leaves the other alone.
    mk = relay.var("mk")
    r1, r2, u = relay.var("r1"), relay.var("r2"), relay.var("u")
    body = relay.Let(u, relay.RefWrite(r1, c(5)), relay.add(relay.RefRead(r1), relay.RefRead(r2)))
    body = relay.Let(r2, relay.Call(mk, []), body)
    body = relay.Let(r1, relay.Call(mk, []), body)
    prog = relay.Let(mk, relay.Function([], relay.RefCreate(c(0))), body)
    assert as_int(evaluate(prog)) == 5


@pytest.mark.spec("REF-3")
def test_aliases_see_writes_made_through_a_function() -> None:
    # A function incrementing the cell it is given; the caller sees each increment.
    cell = relay.var("cell", relay.RefType(I32))
    incr = relay.Function([cell], relay.RefWrite(cell, relay.add(relay.RefRead(cell), c(1))))
    mod = IRModule()
    mod["incr"] = incr
    gv = mod.get_global_var("incr")
    r, u1, u2 = relay.var("r"), relay.var("u1"), relay.var("u2")
    body = relay.Let(u2, gv(r), relay.RefRead(r))
    body = relay.Let(u1, gv(r), body)
    main = relay.Function([], relay.Let(r, relay.RefCreate(c(40)), body))
    mod["main"] = main
    assert as_int(relay.create_executor(mod=mod).evaluate()()) == 42


@pytest.mark.spec("REF-3")
def test_call_arguments_then_callee_left_to_right() -> None:
    # f(write 10; 1, write 20; 2) where the callee itself reads the cell: args run left to
    # right, then the callee is evaluated, so the callee sees 20.
    r = relay.var("r")
    a, b = relay.var("a", I32), relay.var("b", I32)
    first = relay.Let(relay.var("u"), relay.RefWrite(r, c(10)), c(1))
    second = relay.Let(relay.var("v"), relay.RefWrite(r, c(20)), c(2))
    seen = relay.var("seen")
    callee = relay.Let(
        seen,
        relay.RefRead(r),
        relay.Function([a, b], relay.add(relay.multiply(seen, c(100)), relay.add(a, b))),
    )
    prog = relay.Let(r, relay.RefCreate(c(0)), relay.Call(callee, [first, second]))
    assert as_int(evaluate(prog)) == 2003
    # ToANormalForm binds them in that order too.
    anf = relay.testing.run_opt_pass(prog, ToANormalForm())
    assert as_int(evaluate(anf)) == 2003


@pytest.mark.spec("REF-3")
def test_ref_write_evaluates_the_reference_then_the_value() -> None:
    r = relay.var("r")
    target = relay.Let(relay.var("u"), relay.RefWrite(r, c(7)), r)  # writes 7, gives r
    value = relay.RefRead(r)  # read after the reference was evaluated: 7
    prog = relay.Let(
        r,
        relay.RefCreate(c(0)),
        relay.Let(relay.var("w"), relay.RefWrite(target, value), relay.RefRead(r)),
    )
    assert as_int(evaluate(prog)) == 7


@pytest.mark.spec("REF-3")
def test_loop_with_a_counter_cell_is_deep_safe() -> None:
    # A recursive global decrements a cell 20,000 times (tail calls through the machine).
    cell = relay.var("cell", relay.RefType(I32))
    mod = IRModule()
    loop = relay.GlobalVar("loop")
    cur = relay.var("cur")
    step = relay.Let(relay.var("u"), relay.RefWrite(cell, relay.subtract(cur, c(1))), loop(cell))
    body = relay.Let(cur, relay.RefRead(cell), relay.If(relay.equal(cur, c(0)), c(0), step))
    mod[loop] = relay.Function([cell], body, I32)
    r = relay.var("r")
    mod["main"] = relay.Function(
        [], relay.Let(r, relay.RefCreate(c(20000)), relay.Tuple([loop(r), relay.RefRead(r)]))
    )
    result = relay.create_executor(mod=mod).evaluate()()
    assert [int(v.numpy()) for v in result] == [0, 0]


@pytest.mark.spec("REF-3")
def test_runtime_errors_are_diagnostics() -> None:
    from minitvm.relay.interpreter import evaluate_expr

    with pytest.raises(DiagnosticError, match="ref_read: expected a reference"):
        evaluate_expr(relay.RefRead(c(1)))
    with pytest.raises(DiagnosticError, match="ref_write: expected a reference"):
        evaluate_expr(relay.RefWrite(c(1), c(2)))


# --- the executor boundary ---------------------------------------------------------------


@pytest.mark.spec("REF-4")
def test_references_cross_the_executor_boundary() -> None:
    r = relay.var("r", relay.RefType(I32))
    mod = IRModule()
    mod["main"] = relay.Function([r], relay.Tuple([relay.RefRead(r), r]))
    result = relay.create_executor(mod=mod).evaluate()(RefValue(np.int32(9)))
    assert int(result[0].numpy()) == 9
    returned = result[1]
    assert isinstance(returned, RefValue)
    assert isinstance(returned.value, tvm.nd.NDArray)
    assert int(returned.value.numpy()) == 9
    # A reference of the wrong content type is refused, naming the parameter.
    with pytest.raises(DiagnosticError, match="argument %r"):
        relay.create_executor(mod=mod).evaluate()(RefValue(np.float32(1.0)))


@pytest.mark.spec("REF-4")
def test_a_cyclic_value_is_returned_as_a_cycle() -> None:
    # type Node { Link(ref(Node)), End }: a cell that ends up holding a Link to itself.
    node = relay.GlobalTypeVar("Node")
    link = relay.Constructor("Link", [relay.RefType(relay.TypeCall(node, []))], node)
    end = relay.Constructor("End", [], node)
    mod = IRModule()
    mod[node] = relay.TypeData(node, [], [link, end])
    r = relay.var("r")
    body = relay.Let(relay.var("u"), relay.RefWrite(r, link(r)), r)
    mod["main"] = relay.Function([], relay.Let(r, relay.RefCreate(end()), body))
    cell = relay.create_executor(mod=mod).evaluate()()
    assert isinstance(cell, RefValue)
    assert cell.value.constructor.name_hint == "Link"
    assert cell.value.fields[0] is cell


# --- text format -------------------------------------------------------------------------


@pytest.mark.spec("REF-5")
def test_print_and_parse_references() -> None:
    text = """#[version = "0.0.5"]
def @main(%x: int32, %r: ref(int32)) -> int32 {
  let %c = ref(%x);
  let %u = ref_write(%c, ref_read(%r));
  ref_read(%c)
}
"""
    mod = relay.parse(text)
    main = mod["main"]
    assert isinstance(main, relay.Function)
    assert main.params[1].type_annotation == relay.RefType(I32)
    printed = mod.astext()
    assert "ref(%x)" in printed
    assert "ref_write(%c, %0)" in printed or "ref_write(%c, ref_read(%r))" in printed
    assert "%r: ref(int32)" in printed
    tvm.ir.assert_structural_equal(relay.parse(printed), mod)
    expr = relay.parse_expr("ref_read(ref(1))")
    assert isinstance(expr, relay.RefRead)
    assert isinstance(expr.ref, relay.RefCreate)


@pytest.mark.spec("REF-5")
def test_parse_errors_in_reference_syntax() -> None:
    with pytest.raises(DiagnosticError, match="expected `,` between the reference and the value"):
        relay.parse_expr("ref_write(ref(1))")
    with pytest.raises(DiagnosticError, match="expected `\\(` after `ref`"):
        relay.parse_expr("ref 1")


# --- analyses ----------------------------------------------------------------------------


@pytest.mark.spec("REF-6")
def test_features_and_purity() -> None:
    prog = counter_program()
    assert {Feature.fRefCreate, Feature.fRefRead, Feature.fRefWrite} <= detect_feature(prog)
    mod = InferType()(IRModule.from_expr(prog))
    purity = let_purity(mod)
    by_name = {var.name_hint: pure for var, pure in purity.items()}
    assert by_name["r"] is True  # creating a reference is pure
    assert by_name["a"] is False
    assert by_name["u"] is False
    assert by_name["b"] is False
    # Creating a reference from an impure value is impure (TVM calls every `ref` pure).
    s = relay.var("s")
    t = relay.var("t")
    inner = relay.Let(t, relay.RefCreate(relay.RefRead(s)), relay.RefRead(t))
    mod2 = InferType()(IRModule.from_expr(relay.Let(s, relay.RefCreate(c(1)), inner)))
    assert {v.name_hint: p for v, p in let_purity(mod2).items()}["t"] is False


# --- passes ------------------------------------------------------------------------------


@pytest.mark.spec("REF-7")
def test_dead_code_keeps_every_effect() -> None:
    # TVM's test_refs: nothing here may be elided, even with inline_once.
    text = """#[version = "0.0.5"]
def @main() -> int32 {
  let %r = ref(0);
  let %v = ref_read(%r);
  let %u = ref_write(%r, %v + 1);
  let %w = ref_read(%r);
  %w
}
"""
    mod = relay.parse(text)
    for p in (DeadCodeElimination(), DeadCodeElimination(inline_once=True)):
        out = InferType()(p(mod))
        tvm.ir.assert_structural_equal(out, mod)
    # A dead pure reference creation goes, a dead write stays.
    r, dead, u = relay.var("r"), relay.var("dead"), relay.var("u")
    before = relay.Function(
        [],
        relay.Let(
            r,
            relay.RefCreate(c(1)),
            relay.Let(dead, relay.RefCreate(c(2)), relay.Let(u, relay.RefWrite(r, c(3)), c(0))),
        ),
    )
    out = DeadCodeElimination()(InferType()(IRModule.from_expr(before)))
    r2, u2 = relay.var("r"), relay.var("u")
    expected = relay.Function(
        [], relay.Let(r2, relay.RefCreate(c(1)), relay.Let(u2, relay.RefWrite(r2, c(3)), c(0)))
    )
    tvm.ir.assert_structural_equal(
        InferType()(out)["main"], InferType()(IRModule.from_expr(expected))["main"]
    )


@pytest.mark.spec("REF-7")
def test_graph_normal_form_keeps_effectful_lets() -> None:
    prog = relay.Function([], counter_program())
    mod = InferType()(IRModule.from_expr(prog))
    out = ToGraphNormalForm()(mod)
    # The let-bound reference operations stay lets; the result is unchanged.
    assert as_int(relay.create_executor(mod=out).evaluate()()) == 3
    main = out["main"]
    assert isinstance(main, relay.Function)
    names = []
    body: Expr = main.body
    while isinstance(body, relay.Let):
        names.append(body.var.name_hint)
        body = body.body
    assert names == ["r", "a", "u", "b"]  # `r` creates the cell: kept, though pure
    # A pure let still dissolves.
    x = relay.var("x")
    pure = InferType()(IRModule.from_expr(relay.Function([], relay.Let(x, c(1), relay.add(x, x)))))
    gnf = ToGraphNormalForm()(pure)
    main2 = gnf["main"]
    assert isinstance(main2, relay.Function)
    assert isinstance(main2.body, relay.Call)


@pytest.mark.spec("REF-7")
def test_anf_keeps_reads_and_writes_in_order() -> None:
    prog = counter_program()
    anf = relay.testing.run_opt_pass(prog, ToANormalForm())
    assert as_int(evaluate(anf)) == 3
    assert Feature.fGraph not in detect_feature(anf)


@pytest.mark.spec("REF-7")
def test_fold_constant_never_folds_references() -> None:
    r, u = relay.var("r"), relay.var("u")
    before = relay.Function(
        [],
        relay.Let(
            r,
            relay.RefCreate(relay.add(c(1), c(2))),
            relay.Let(u, relay.RefWrite(r, c(4)), relay.RefRead(r)),
        ),
    )
    out = FoldConstant()(InferType()(IRModule.from_expr(before)))
    r2, u2 = relay.var("r"), relay.var("u")
    expected = relay.Function(
        [],
        relay.Let(
            r2, relay.RefCreate(c(3)), relay.Let(u2, relay.RefWrite(r2, c(4)), relay.RefRead(r2))
        ),
    )
    tvm.ir.assert_structural_equal(out["main"], InferType()(IRModule.from_expr(expected))["main"])
    # A projection keeps a tuple whose other field writes a reference.
    s = relay.var("s")
    keep = relay.Function(
        [],
        relay.Let(
            s,
            relay.RefCreate(c(0)),
            relay.add(
                relay.TupleGetItem(relay.Tuple([c(5), relay.RefWrite(s, c(9))]), 0),
                relay.RefRead(s),
            ),
        ),
    )
    folded = FoldConstant()(InferType()(IRModule.from_expr(keep)))
    assert as_int(relay.create_executor(mod=folded).evaluate()()) == 14
    assert Feature.fRefWrite in detect_feature(folded)
    # The projected field itself may have an effect: it is kept, the tuple goes.
    write = relay.RefWrite(s, c(9))
    projected = relay.Function(
        [], relay.Let(s, relay.RefCreate(c(0)), relay.TupleGetItem(relay.Tuple([write, c(5)]), 0))
    )
    main = FoldConstant()(InferType()(IRModule.from_expr(projected)))["main"]
    assert isinstance(main, relay.Function)
    assert isinstance(main.body, relay.Let)
    assert isinstance(main.body.body, relay.RefWrite)


@pytest.mark.spec("REF-7")
def test_fuse_ops_treats_references_as_opaque() -> None:
    x = relay.var("x", F32)
    r = relay.var("r")
    before = relay.Function(
        [x],
        relay.Let(
            r,
            relay.RefCreate(relay.exp(x)),
            relay.add(relay.RefRead(r), relay.const(np.ones(2, "float32"))),
        ),
    )
    mod = InferType()(IRModule.from_expr(before))
    fused = FuseOps()(mod)
    main = fused["main"]
    assert isinstance(main, relay.Function)
    # Each operator ends up in a primitive function of its own: the reference operations in
    # between are not fused through.
    prims = [
        node
        for node in iter_post_order(main)
        if isinstance(node, relay.Function) and node.is_primitive()
    ]
    assert len(prims) == 2
    data = np.array([0.0, 1.0], "float32")
    got = relay.create_executor(mod=fused).evaluate()(data).numpy()
    np.testing.assert_allclose(got, np.exp(data) + 1.0, rtol=1e-6)


@pytest.mark.spec("REF-8")
def test_the_store_model_on_an_aliasing_case() -> None:
    # c0 = ref(1); f = fn() { c0 := c0 + 3 }; r0 = c0; f(); r1 = c0; c0 := r1 + 0.5
    from conformance.test_ref_model import Call, Command, Defer, New, Read, Write, model, to_relay

    program: list[Command] = [New(1.0), Defer(0, 3.0), Read(0), Call(0), Read(0), Write(0, 1, 0.5)]
    assert [float(v) for v in model(program)] == [1.0, 4.0, 4.5]
    mod = relay.transform.InferType()(to_relay(program))
    result = relay.create_executor("debug", mod=mod).evaluate()()
    assert [float(r.numpy()) for r in result] == [1.0, 4.0, 4.5]


@pytest.mark.spec("REF-7")
def test_graph_normal_form_keeps_a_reference_created_for_a_closure() -> None:
    # let c = ref(1); let f = fn() { c := c + 2 }; f(); c: a dissolved `ref(1)` node shared by
    # the closure and main would make two cells, and main would read 1.
    from conformance.test_ref_model import Call, Command, Defer, New, to_relay

    program: list[Command] = [New(1.0), Defer(0, 2.0), Call(0)]
    mod = relay.transform.InferType()(to_relay(program))
    out = relay.transform.ToGraphNormalForm()(mod)
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert isinstance(main.body, relay.Let)
    assert isinstance(main.body.value, relay.RefCreate)
    result = relay.create_executor("debug", mod=out).evaluate()()
    assert [float(r.numpy()) for r in result] == [3.0]
