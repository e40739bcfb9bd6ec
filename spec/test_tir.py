"""TIR: expressions, builders, statements, structural equality, analyzer, semantics,
interpreter, build and printer."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import tir
from minitvm.error import DiagnosticError, TVMError
from minitvm.tir import semantics
from minitvm.tir.expr import EqualOp

# --- nodes ------------------------------------------------------------------------------------


@pytest.mark.spec("TIR-1")
def test_expression_nodes_are_immutable_identity_compared_and_typed() -> None:
    x = tir.Var("x", "int32")
    a, b = tir.Add(x, tir.const(1)), tir.Add(x, tir.const(1))
    assert a is not b
    assert len({a, b}) == 2
    with pytest.raises(AttributeError):
        a.a = x  # type: ignore[misc]
    assert tir.IntImm("int32", 3) == tir.IntImm("int32", 3) == 3
    assert tir.IntImm("int32", 3) != tir.IntImm("int64", 3)
    assert tir.FloatImm("float32", 0.5) == 0.5
    assert tir.LT(x, x).dtype == "bool"
    assert a.dtype == "int32"
    with pytest.raises(DiagnosticError, match="operand dtypes differ"):
        tir.Add(x, tir.const(1.0))
    with pytest.raises(DiagnosticError, match="bool"):
        tir.And(x, x)
    with pytest.raises(DiagnosticError, match="bool"):
        tir.Select(x, x, x)


@pytest.mark.spec("TIR-2")
def test_python_operators_convert_and_match_dtypes() -> None:
    x = tir.Var("x", "int32")
    f = tir.Var("f", "float16")
    assert (x + 1).dtype == "int32"
    assert (x + 2**40).dtype == "int64"
    e = x + 1.5
    assert e.dtype == "float32"
    assert isinstance(e, tir.Add)
    assert isinstance(e.a, tir.Cast)
    assert (f * 2.0).dtype == "float32"  # float16 meets float32: widened
    assert (f * tir.const(2.0, "float16")).dtype == "float16"
    i8, u32 = tir.Var("a", "int8"), tir.Var("b", "uint32")
    assert (i8 + tir.Var("c", "int16")).dtype == "int16"
    assert (tir.Var("d", "int32") + u32).dtype == "uint32"
    assert isinstance(x // 2, tir.FloorDiv)
    assert isinstance(x % 2, tir.FloorMod)
    with pytest.raises(DiagnosticError, match="ambiguous"):
        _ = x / 2
    assert isinstance(-x, tir.Sub)
    assert (x & 3).op == "tir.bitwise_and"  # type: ignore[union-attr]
    cond = x > 0
    assert isinstance(cond & (x < 5), tir.And)


@pytest.mark.spec("TIR-2")
def test_equality_builds_eq_nodes_and_is_identity_as_truth_value() -> None:
    x, y = tir.Var("x"), tir.Var("y")
    eq = x == y
    assert isinstance(eq, EqualOp)
    assert not bool(eq)
    assert bool(x == x)
    assert bool(x != y)
    node = tir.if_then_else(x == y, x, y)
    sel = tir.Select(x == y, x, y)  # type: ignore[arg-type]  # TVM code passes ``a == b`` here
    assert isinstance(sel.condition, tir.EQ)
    stmt = tir.IfThenElse(x != y, tir.Evaluate(0))  # type: ignore[arg-type]  # likewise
    assert isinstance(stmt.condition, tir.NE)
    assert isinstance(node, tir.Call)
    assert isinstance(node.args[0], tir.EQ)
    with pytest.raises(DiagnosticError, match="truth value"):
        bool(x < y)


@pytest.mark.spec("TIR-3")
def test_builders_fold_constants_and_identities() -> None:
    x = tir.Var("x")
    assert tir.const(3) + tir.const(4) == 7
    assert tir.op.add(tir.const(2**31 - 1), 1) == -(2**31)  # wraps
    assert tir.op.add(x, 0) is x
    assert tir.op.mul(x, 1) is x
    assert tir.op.sub(x, 0) is x
    assert tir.op.mul(x, 0) == 0
    assert tir.floordiv(0, x) == 0
    assert tir.floormod(x, 1) == 0
    assert tir.truncdiv(tir.const(-7), tir.const(2)) == -3
    assert tir.floordiv(tir.const(-7), tir.const(2)) == -4
    assert tir.truncmod(tir.const(-7), tir.const(2)) == -1
    assert tir.floormod(tir.const(-7), tir.const(2)) == 1
    assert isinstance(tir.floordiv(tir.const(7), tir.const(0)), tir.FloorDiv)  # not folded
    assert tir.op.less(tir.const(1), tir.const(2)) == tir.const(True, "bool")
    c = x < 3
    assert tir.op.logical_and(tir.const(True, "bool"), c) is c
    assert tir.if_then_else(tir.const(False, "bool"), x, tir.const(5)) == 5
    assert tir.cast(tir.const(2.7), "int32") == 2


@pytest.mark.spec("TIR-4")
def test_intrinsics_check_their_operands() -> None:
    f, i = tir.Var("f", "float32"), tir.Var("i", "int32")
    assert tir.exp(f).op == "tir.exp"  # type: ignore[union-attr]
    with pytest.raises(DiagnosticError, match="float"):
        tir.exp(i)
    assert tir.floor(i) is i
    assert tir.round(i) is i
    assert tir.isnan(i) == tir.const(False, "bool")
    assert tir.isfinite(i) == tir.const(True, "bool")
    with pytest.raises(DiagnosticError, match="integer"):
        tir.popcount(f)
    with pytest.raises(DiagnosticError, match="widths"):
        tir.reinterpret(f, "int8")
    with pytest.raises(DiagnosticError, match="unknown intrinsic"):
        tir.call_intrin("float32", "tir.nonesuch", f)
    with pytest.raises(DiagnosticError, match="takes 1 arguments"):
        tir.call_intrin("float32", "tir.exp", f, f)


# --- statements and functions -----------------------------------------------------------------


def _copy_func(n: int = 4, name: str = "main") -> tir.PrimFunc:
    a = tir.decl_buffer((n,), "float32", "A")
    b = tir.decl_buffer((n,), "float32", "B")
    pa, pb = tir.Var("var_A", "handle"), tir.Var("var_B", "handle")
    i = tir.Var("i")
    body = tir.For(
        i, tir.const(0), tir.const(n), tir.ForKind.SERIAL, tir.BufferStore(b, a[i] * 2.0, (i,))
    )
    return tir.PrimFunc([pa, pb], body, None, {pa: a, pb: b}, {"global_symbol": name})


@pytest.mark.spec("TIR-5")
def test_statements_buffers_and_primfunc() -> None:
    a = tir.decl_buffer((4,), "int32", "A")
    i = tir.Var("i")
    with pytest.raises(DiagnosticError, match="dtype"):
        tir.BufferStore(a, tir.const(1.0), (i,))
    with pytest.raises(DiagnosticError, match="indices"):
        tir.BufferStore(a, tir.const(1), (i, i))
    s1, s2 = tir.Evaluate(tir.const(0)), tir.Evaluate(tir.const(1))
    seq = tir.SeqStmt([s1, tir.SeqStmt([s2, s1])])
    assert seq.seq == (s1, s2, s1)
    f = _copy_func()
    mod = tvm.IRModule({"main": f})
    assert mod["main"] is f
    assert isinstance(f, tvm.ir.BaseFunc)
    assert list(f.buffer_map) == list(f.params)
    with pytest.raises(DiagnosticError, match="not parameters"):
        tir.PrimFunc([], f.body, None, {tir.Var("p", "handle"): a})
    block = tir.Block([], [], [], "b", s1)
    with pytest.raises(DiagnosticError, match="iteration values"):
        tir.BlockRealize([tir.const(0)], None, block)


@pytest.mark.spec("TIR-6")
def test_structural_equality_is_alpha_equivalence() -> None:
    tvm.ir.assert_structural_equal(_copy_func(), _copy_func())
    assert tvm.ir.structural_hash(_copy_func()) == tvm.ir.structural_hash(_copy_func())
    assert not tvm.ir.structural_equal(_copy_func(4), _copy_func(5))
    x, y = tir.Var("x"), tir.Var("y")
    assert not tvm.ir.structural_equal(x + 1, y + 1)
    assert tvm.ir.structural_equal(x + 1, y + 1, map_free_vars=True)
    lx, ly = tir.Var("a"), tir.Var("b")
    assert tvm.ir.structural_equal(tir.Let(lx, x, lx * 2), tir.Let(ly, x, ly * 2))


# --- analyzer -----------------------------------------------------------------------------------


@pytest.mark.spec("TIR-7")
def test_simplifier_canonical_sums_and_division() -> None:
    ana = tir.Analyzer()
    x, y, j = tir.Var("x"), tir.Var("y"), tir.Var("j")
    ana.bind(j, tir.Range(tir.const(0), tir.const(4)))
    assert str(ana.simplify(x + 1 - 1 + y * 2 - y)) == "x + y"
    assert str(ana.simplify((x + 3) * 2 - x)) == "x + 6"
    assert str(ana.simplify(4 - x * 3 + y)) == "y - x * 3 + 4"
    assert ana.simplify((x * 4 + j) // 4) is x
    assert ana.simplify((x * 4 + j) % 4) is j
    assert str(ana.simplify((x * 8 + j + 9) // 4)) == "x * 2 + (j + 1) // 4 + 2"
    assert ana.simplify(j < 4) == tir.const(True, "bool")
    assert ana.simplify(tir.min(j, 7)) is j
    assert ana.can_prove(j * 2 <= 6)
    assert not ana.can_prove(x < 3)
    b = ana.const_int_bound(j * 3 - 1)
    assert (b.min_value, b.max_value) == (-1, 8)
    assert ana.const_int_bound(tir.SizeVar("n")).min_value == 0


@pytest.mark.spec("TIR-7")
def test_simplifier_preserves_values() -> None:
    x, j = tir.Var("x"), tir.Var("j")
    ana = tir.Analyzer()
    ana.bind(j, tir.Range(tir.const(0), tir.const(6)))
    exprs = [
        (x * 6 + j) // 3,
        (x * 6 + j) % 3,
        tir.truncdiv(x * 4 + j + 2, 4),
        tir.max(j - 3, x) + (x - j) * 2,
    ]
    for e in exprs:
        s = ana.simplify(e)
        for xv in range(-7, 8):
            for jv in range(6):
                env = {x: np.asarray(xv, "int32"), j: np.asarray(jv, "int32")}
                interp = tir.interpreter.Interpreter()
                interp.env.update(env)
                assert int(interp.eval(s)) == int(interp.eval(e)), (str(e), str(s), xv, jv)


# --- semantics and interpreter ---------------------------------------------------------------


@pytest.mark.spec("TIR-8")
def test_scalar_semantics() -> None:
    i32 = np.array([7, -7, 5, -(2**31)], "int32")
    z = np.array([0, 2, 0, -1], "int32")
    with semantics.quiet():
        assert semantics.binary(tir.Div, i32, z, "int32").tolist() == [0, -3, 0, -(2**31)]
        assert semantics.binary(tir.Mod, i32, z, "int32").tolist() == [0, -1, 0, 0]
        assert semantics.binary(tir.FloorDiv, i32, z, "int32").tolist() == [0, -4, 0, -(2**31)]
        assert semantics.binary(tir.FloorMod, i32, z, "int32").tolist() == [0, 1, 0, 0]
        i8 = np.array([120], "int8")
        assert semantics.binary(tir.Add, i8, np.array([10], "int8"), "int8").tolist() == [-126]
        t = np.array([True, True, False])
        assert semantics.binary(tir.Add, t, t, "bool").tolist() == [False, False, False]
        f = np.array([5.5, -5.5], "float32")
        g = np.array([2.0, 2.0], "float32")
        assert semantics.binary(tir.FloorMod, f, g, "float32").tolist() == [1.5, 0.5]
        assert semantics.binary(tir.Mod, f, g, "float32").tolist() == [1.5, -1.5]
        assert semantics.cast(np.array([2.7, -2.7]), "int32").tolist() == [2, -2]
        one = np.array([1, -8], "int32")
        big = np.array([40, 40], "int32")
        assert semantics.intrinsic("tir.shift_left", [one, big], "int32").tolist() == [0, 0]
        assert semantics.intrinsic("tir.shift_right", [one, big], "int32").tolist() == [0, -1]
        base, ex = np.array([2, 1, -1, 3], "int32"), np.array([31, -3, -3, -1], "int32")
        assert semantics.intrinsic("tir.pow", [base, ex], "int32").tolist() == [-(2**31), 1, -1, 0]
        halves = np.array([0.5, 1.5, 2.5, -0.5], "float32")
        assert semantics.intrinsic("tir.round", [halves], "float32").tolist() == [0, 2, 2, -0.0]


@pytest.mark.spec("TIR-9")
def test_interpreter_runs_primfuncs_in_place() -> None:
    f = _copy_func()
    a = np.arange(4, dtype="float32")
    b = np.zeros(4, "float32")
    tir.interpreter.run_prim_func(f, [a, b])
    np.testing.assert_array_equal(b, a * 2)
    with pytest.raises(DiagnosticError, match="dtype"):
        tir.interpreter.run_prim_func(f, [a.astype("int32"), b])
    with pytest.raises(DiagnosticError, match="shape"):
        tir.interpreter.run_prim_func(f, [np.zeros(5, "float32"), b])
    with pytest.raises(DiagnosticError, match="2 arguments"):
        tir.interpreter.run_prim_func(f, [a])


@pytest.mark.spec("TIR-9")
def test_interpreter_clamps_loads_and_rejects_out_of_range_stores() -> None:
    a = tir.decl_buffer((3,), "int32", "A")
    b = tir.decl_buffer((5,), "int32", "B")
    pa, pb = tir.Var("pa", "handle"), tir.Var("pb", "handle")
    i = tir.Var("i")
    load = tir.BufferStore(b, a[i - 1], (i,))
    f = tir.PrimFunc(
        [pa, pb],
        tir.For(i, tir.const(0), tir.const(5), tir.ForKind.SERIAL, load),
        None,
        {pa: a, pb: b},
    )
    out = np.zeros(5, "int32")
    tir.interpreter.run_prim_func(f, [np.array([10, 20, 30], "int32"), out])
    assert out.tolist() == [10, 10, 20, 30, 30]
    store = tir.BufferStore(a, tir.const(1), (i,))
    g = tir.PrimFunc(
        [pa], tir.For(i, tir.const(0), tir.const(4), tir.ForKind.SERIAL, store), None, {pa: a}
    )
    with pytest.raises(DiagnosticError, match="out of range"):
        tir.interpreter.run_prim_func(g, [np.zeros(3, "int32")])


@pytest.mark.spec("TIR-9")
def test_interpreter_runs_block_init_at_first_reduction_step_and_binds_symbolic_shapes() -> None:
    n = tir.SizeVar("n")
    a = tir.decl_buffer((n,), "int32", "A")
    s = tir.decl_buffer((1,), "int32", "S")
    pa, ps = tir.Var("pa", "handle"), tir.Var("ps", "handle")
    k = tir.Var("k")
    vk = tir.Var("vk")
    iv = tir.IterVar(tir.Range(tir.const(0), n), vk, tir.IterVarType.CommReduce)
    update = tir.BufferStore(s, s[0] + a[vk], (tir.const(0),))
    init = tir.BufferStore(s, tir.const(100), (tir.const(0),))
    block = tir.Block([iv], [], [], "sum", update, init)
    loop = tir.For(k, tir.const(0), n, tir.ForKind.SERIAL, tir.BlockRealize([k], None, block))
    f = tir.PrimFunc([pa, ps], loop, None, {pa: a, ps: s})
    out = np.zeros(1, "int32")
    tir.interpreter.run_prim_func(f, [np.arange(6, dtype="int32"), out])
    assert out.tolist() == [115]


@pytest.mark.spec("TIR-10")
def test_build_interp_target() -> None:
    f = _copy_func()
    built = tvm.build(f, target="interp")
    a = tvm.nd.array(np.arange(4, dtype="float32"))
    b = tvm.nd.array(np.zeros(4, "float32"))
    built(a, b)
    np.testing.assert_array_equal(b.numpy(), [0, 2, 4, 6])
    assert built["main"] is built
    mod_built = tvm.build(tvm.IRModule({"main": f}), target="interp")
    c = np.zeros(4, "float32")
    mod_built(np.ones(4, "float32"), c)
    assert c.tolist() == [2, 2, 2, 2]
    with pytest.raises(DiagnosticError, match="unknown build target"):
        tvm.build(f, target="nonesuch")
    with pytest.raises(TVMError, match="already registered"):
        tir.build.register_target("interp", lambda func: lambda arrays: None)
    with pytest.raises(DiagnosticError, match="numpy array"):
        built([1, 2], b)  # type: ignore[arg-type]


# --- printer --------------------------------------------------------------------------------------


@pytest.mark.spec("TIR-11")
def test_script_of_a_handwritten_function() -> None:
    expected = """# from tvm.script import tir as T

@T.prim_func
def main(A: T.Buffer((4,), "float32"), B: T.Buffer((4,), "float32")):
    for i in range(4):
        B[i] = A[i] * T.float32(2)"""
    assert _copy_func().script() == expected
    private = tir.PrimFunc(_copy_func().params, _copy_func().body)
    assert "@T.prim_func(private=True)" in private.script()


@pytest.mark.spec("TIR-11")
def test_expression_printing_rules() -> None:
    x, y = tir.Var("x"), tir.Var("y")
    f = tir.Var("f", "float32")
    assert str((x + 1) * (y - 2)) == "(x + 1) * (y - 2)"
    assert str(x - (y - 1)) == "x - (y - 1)"
    assert str(tir.Add(tir.const(1), tir.const(2))) == "T.Add(1, 2)"
    assert str(tir.truncdiv(x, y)) == "T.Div(x, y)"
    assert str(tir.truncmod(x, y)) == "T.truncmod(x, y)"
    assert str(f / 2.0) == "f / T.float32(2)"
    assert str(tir.min(x, y)) == "T.min(x, y)"
    assert str(tir.Var("z", "int64") + 5) == "z + T.int64(5)"
    assert str(f + 0.1) == "f + T.float32(0.10000000000000001)"
    assert str(tir.cast(x, "float32")) == 'T.Cast("float32", x)'
    assert str(tir.exp(f)) == "T.exp(f)"
    assert str(tir.all(x < 1, y > 2)) == "x < 1 and y > 2"
    assert str(tir.op.logical_not(x < 1)) == "not x < 1"
    assert str(tir.op.logical_and(x < 1, tir.Var("p", "bool"))) == "x < 1 and p"
    assert (
        str(tir.Select(x < 1, tir.const(True, "bool"), x > 2))
        == "T.Select(x < 1, T.bool(True), x > 2)"
    )


@pytest.mark.spec("TIR-11")
def test_symbolic_shapes_print_as_match_buffer() -> None:
    n = tir.Var("n")
    a = tir.decl_buffer((n,), "float32", "A")
    pa = tir.Var("var_A", "handle")
    i = tir.Var("i")
    body = tir.For(
        i, tir.const(0), n, tir.ForKind.PARALLEL, tir.BufferStore(a, tir.const(0.0), (i,))
    )
    text = tir.PrimFunc([pa], body, None, {pa: a}, {"global_symbol": "main"}).script()
    assert text.splitlines()[3:] == [
        "def main(var_A: T.handle):",
        "    n = T.int32()",
        "    A = T.match_buffer(var_A, (n,))",
        "    for i in T.parallel(n):",
        "        A[i] = T.float32(0)",
    ]


# --- deep programs ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.spec("TIR-12")
def test_hundred_thousand_deep_expressions() -> None:
    depth = 100_000
    x = tir.Var("x")
    e: tir.PrimExpr = x
    for _ in range(depth):
        e = e + 1
    text = str(e)
    assert text.startswith("x + 1 + 1")
    assert text.count("+") == depth
    assert str(tir.Analyzer().simplify(e)) == f"x + {depth}"
    y = tir.Var("y")
    swapped = tir.substitute(e, {x: y})
    assert tvm.ir.structural_equal(swapped, e, map_free_vars=True)
    assert not tvm.ir.structural_equal(swapped, e)
    interp = tir.interpreter.Interpreter()
    interp.env[y] = np.asarray(5, "int32")
    assert int(interp.eval(swapped)) == depth + 5


@pytest.mark.spec("TIR-12")
def test_heavily_shared_expressions_are_walked_once() -> None:
    x = tir.Var("x", "int64")
    e: tir.PrimExpr = x
    for _ in range(40):  # a diamond ladder: its tree has 2**40 leaves
        e = e + e
    assert str(tir.Analyzer().simplify(e)) == f"x * T.int64({2**40})"
    y = tir.Var("y", "int64")
    swapped = tir.substitute(e, {x: y})
    assert tvm.ir.structural_equal(swapped, e, map_free_vars=True)
    interp = tir.interpreter.Interpreter()
    interp.env[y] = np.asarray(3, "int64")
    assert int(interp.eval(swapped)) == 3 * 2**40
    assert len(list(tir.functor.post_order(e))) == 41


@pytest.mark.spec("TIR-5")
@pytest.mark.spec("TIR-9")
def test_allocate_let_if_and_evaluate_statements() -> None:
    out = tir.decl_buffer((4,), "int32", "Out")
    scratch_var = tir.Var("scratch", "handle")
    scratch = tir.Buffer(scratch_var, "int32", (tir.const(4),), "scratch")
    po = tir.Var("po", "handle")
    i, j, t = tir.Var("i"), tir.Var("j"), tir.Var("t")
    fill = tir.For(
        i, tir.const(0), tir.const(4), tir.ForKind.UNROLLED, tir.BufferStore(scratch, i * i, (i,))
    )
    branch = tir.IfThenElse(
        (j % 2).equal(0),
        tir.BufferStore(out, scratch[j] + t, (j,)),
        tir.BufferStore(out, -scratch[j], (j,)),
    )
    use = tir.For(
        j,
        tir.const(0),
        tir.const(4),
        tir.ForKind.VECTORIZED,
        tir.LetStmt(t, tir.const(100), branch),
    )
    body = tir.Allocate(
        scratch_var,
        "int32",
        (tir.const(4),),
        tir.const(True, "bool"),
        tir.SeqStmt([fill, tir.Evaluate(tir.const(0)), use]),
    )
    f = tir.PrimFunc([po], body, None, {po: out}, {"global_symbol": "main"})
    result = np.zeros(4, "int32")
    tvm.build(f)(result)
    assert result.tolist() == [100, -1, 104, -9]
    text = f.script()
    assert 'scratch = T.allocate([4], "int32", "global")' in text
    assert "for i in T.unroll(4):" in text
    assert "t: T.int32 = 100" in text
    assert "for j in T.vectorized(4):" in text
    assert "if j % 2 == 0:" in text
    assert "Out[j] = 0 - scratch[j]" in text
