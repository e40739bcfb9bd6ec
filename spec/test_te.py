"""TE: tensors, compute, reductions, create_prim_func, the evaluator and compute_inline."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import te, tir, topi
from minitvm.error import DiagnosticError
from minitvm.te import evaluator as evaluate_module
from spec.topi_harness import run_interp

SEED_SCRIPT = """# from tvm.script import tir as T

@T.prim_func
def main(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32")):
    T.func_attr({"tir.noalias": T.bool(True)})
    # with T.block("root"):
    for i0 in range(8):
        with T.block("B"):
            v_i0 = T.axis.spatial(8, i0)
            T.reads(A[v_i0])
            T.writes(B[v_i0])
            B[v_i0] = A[v_i0] + T.float32(1)"""


@pytest.mark.spec("TE-1")
def test_placeholders_and_tensor_indexing() -> None:
    a = te.placeholder((2, 3), name="A")
    assert a.dtype == "float32"
    assert a.ndim == 2
    assert a.name == "A"
    assert [d.dtype for d in a.shape] == ["int32", "int32"]
    assert a.shape[1] == 3
    i, j = te.var("i"), te.var("j")
    load = a[i, j]
    assert isinstance(load, tir.ProducerLoad)
    assert load.producer == a
    assert isinstance(a(i, j), tir.ProducerLoad)
    sl: object = a[i]
    assert isinstance(sl, te.TensorSlice)
    assert isinstance(sl[j], tir.ProducerLoad)
    with pytest.raises(DiagnosticError, match="2 dimensions"):
        a(i)
    with pytest.raises(DiagnosticError, match="integer"):
        a(i, te.var("f", "float32"))
    n = te.size_var("n")
    assert te.placeholder((n, 4), "int8").shape[0] is n
    assert a == a.op.output(0)
    assert a != te.placeholder((2, 3), name="A")


@pytest.mark.spec("TE-2")
def test_compute_axes_bodies_and_outputs() -> None:
    a = te.placeholder((2, 3), name="A")
    b = te.compute((2, 3), lambda x, y: a[x, y] * 2.0, name="B", tag="scale")
    assert isinstance(b.op, te.ComputeOp)
    assert [iv.var.name_hint for iv in b.op.axis] == ["x", "y"]
    assert b.op.tag == "scale"
    c = te.compute((2, 3), lambda *i: a(*i))
    assert isinstance(c.op, te.ComputeOp)
    assert [iv.var.name_hint for iv in c.op.axis] == ["i0", "i1"]
    assert c.op.name == "compute"
    d = te.compute((2,), lambda *i: 1, varargs_names=["w"])
    assert isinstance(d.op, te.ComputeOp)
    assert d.dtype == "int32"
    assert d.op.axis[0].var.name_hint == "w"
    pair = te.compute((2, 3), lambda x, y: (a[x, y], a[x, y] + 1.0), name="P")
    assert isinstance(pair, tuple)
    assert [t.name for t in pair] == ["P.v0", "P.v1"]
    with pytest.raises(DiagnosticError, match="2 dimensions"):
        te.compute((2, 3), lambda x: a[x, 0])
    k = te.reduce_axis((0, 3), name="k")
    with pytest.raises(DiagnosticError, match="whole body"):
        te.compute((2,), lambda x: te.sum(a[x, k], axis=k) * 2.0)


@pytest.mark.spec("TE-3")
def test_reducers_where_init_and_tuple_reduction() -> None:
    a = te.placeholder((3, 4), name="A")
    k = te.reduce_axis((0, 4), name="k")
    s = te.compute((3,), lambda i: te.sum(a[i, k], axis=k, where=k > 0))
    m = te.compute((3,), lambda i: te.max(a[i, k], axis=k))
    k2 = te.reduce_axis((0, 4), name="k")
    start = te.compute((3,), lambda i: te.sum(a[i, k2], axis=k2, init=10.0))
    argmax = te.comm_reducer(
        lambda x, y: (tir.Select(x[1] >= y[1], x[0], y[0]), tir.max(x[1], y[1])),
        lambda t0, t1: (tir.const(-1, t0), tir.min_value(t1)),
        name="argmax",
    )
    k3 = te.reduce_axis((0, 4), name="k")
    idx_val = te.compute((3,), lambda i: argmax((k3.var, a[i, k3]), axis=k3), name="am")
    assert isinstance(idx_val, tuple)
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    got = te.evaluate([s, m, start, *idx_val], {a: x})
    np.testing.assert_allclose(got[0], x[:, 1:].sum(1), rtol=1e-6)
    np.testing.assert_array_equal(got[1], x.max(1))
    np.testing.assert_allclose(got[2], x.sum(1) + 10, rtol=1e-6)
    np.testing.assert_array_equal(got[3], x.argmax(1))
    np.testing.assert_array_equal(got[4], x.max(1))
    assert te.max(tir.const(1), tir.const(2)) == 2


@pytest.mark.spec("TE-4")
def test_tensor_arithmetic_broadcasts() -> None:
    a = te.placeholder((2, 3), name="A")
    b = te.placeholder((3,), name="B")
    c = (a + b) * 2.0 - a / b
    d = -a
    assert isinstance(c, te.Tensor)
    assert c.op.name == "T_subtract"
    x = np.arange(6, dtype="float32").reshape(2, 3)
    y = np.array([1, 2, 4], "float32")
    got = te.evaluate([c, d], {a: x, b: y})
    np.testing.assert_allclose(got[0], (x + y) * 2 - x / y)
    np.testing.assert_array_equal(got[1], -x)


@pytest.mark.spec("TE-5")
def test_create_prim_func_structure() -> None:
    n = 4
    a = te.placeholder((n, n), name="A")
    b = te.placeholder((n, n), name="B")
    k = te.reduce_axis((0, n), name="k")
    c = te.compute((n, n), lambda i, j: te.sum(a[i, k] * b[k, j], axis=k), name="C")
    d = te.compute((n, n), lambda i, j: c[i, j] + a[i, j], name="C")
    f = te.create_prim_func([a, b, d])
    assert [p.name_hint for p in f.params] == ["var_A", "var_B", "var_C"]
    assert f.attrs["global_symbol"] == "main"
    assert bool(f.attrs["tir.noalias"])
    assert (
        f.script()
        == """# from tvm.script import tir as T

@T.prim_func
def main({ARGS}):
    T.func_attr({"tir.noalias": T.bool(True)})
    # with T.block("root"):
    C_1 = T.alloc_buffer((4, 4))
    for i, j, k in T.grid(4, 4, 4):
        with T.block("C"):
            v_i, v_j, v_k = T.axis.remap("SSR", [i, j, k])
            T.reads(A[v_i, v_k], B[v_k, v_j])
            T.writes(C_1[v_i, v_j])
            with T.init():
                C_1[v_i, v_j] = T.float32(0)
            C_1[v_i, v_j] = C_1[v_i, v_j] + A[v_i, v_k] * B[v_k, v_j]
    for i_1, j_1 in T.grid(4, 4):
        with T.block("C_1"):
            v_i_1, v_j_1 = T.axis.remap("SS", [i_1, j_1])
            T.reads(C_1[v_i_1, v_j_1], A[v_i_1, v_j_1])
            T.writes(C[v_i_1, v_j_1])
            C[v_i_1, v_j_1] = C_1[v_i_1, v_j_1] + A[v_i_1, v_j_1]""".replace(
            "{ARGS}",
            'A: T.Buffer((4, 4), "float32"), B: T.Buffer((4, 4), "float32"), '
            'C: T.Buffer((4, 4), "float32")',
        )
    )
    with pytest.raises(DiagnosticError, match="not an argument"):
        te.create_prim_func([d])


@pytest.mark.spec("TE-5")
def test_create_prim_func_regions_tuple_reduction_and_scalars() -> None:
    a = te.placeholder((6,), "int32", name="A")
    s = te.compute((4,), lambda i: a[i] + a[i + 2], name="S")
    text = te.create_prim_func([a, s]).script()
    assert "T.reads(A[v_i:v_i + 3])" in text
    am = topi.argmax(te.placeholder((2, 3), name="X"), axis=1)
    x = am.op.input_tensors[0].op.input_tensors[0]
    text = te.create_prim_func([x, am]).script()
    assert "v_X_red_temp_v0: T.int32 = T.Select(" in text
    assert "X_red_temp_v0[v_ax0] = T.int32(-1)" not in text
    assert "X_red_temp_v0[v_ax0] = -1" in text
    total = topi.sum(a)
    text = te.create_prim_func([a, total]).script()
    assert "vi = T.axis.spatial(1, 0)" not in text  # the reduce axis is a block variable
    scalar = te.compute((), lambda: a[0] * 2, name="Z")
    text = te.create_prim_func([a, scalar]).script()
    assert "vi = T.axis.spatial(1, 0)" in text
    assert "Z[()] = A[0] * 2" in text


@pytest.mark.spec("TE-5")
def test_dense_weight_is_layout_free() -> None:
    d = te.placeholder((2, 3), name="d")
    w = te.placeholder((4, 3), name="w")
    f = te.create_prim_func([d, w, topi.nn.dense(d, w)])
    assert f.script().splitlines()[4] == (
        '    T.func_attr({"layout_free_buffers": [1], "tir.noalias": T.bool(True)})'
    )


@pytest.mark.spec("TE-6")
def test_seed_example_script() -> None:
    A = te.placeholder((8,), dtype="float32", name="A")  # noqa: N806  (the seed example's names)
    B = te.compute((8,), lambda *i: A(*i) + 1.0, name="B")  # noqa: N806
    assert isinstance(B, te.Tensor)
    assert te.create_prim_func([A, B]).script() == SEED_SCRIPT


@pytest.mark.spec("TE-7")
def test_evaluate_inputs_shapes_and_errors() -> None:
    n = te.size_var("n")
    a = te.placeholder((n,), "int32", name="A")
    b = te.compute((n,), lambda i: a[i] // 0 + a[n - 1 - i], name="B")
    got = te.evaluate(b, {a: [1, 2, 3]})
    assert isinstance(got, np.ndarray)
    assert got.dtype == np.int32
    assert got.tolist() == [3, 2, 1]
    c = te.placeholder((2,), name="C")
    with pytest.raises(DiagnosticError, match="no value"):
        te.evaluate(topi.exp(c), {})
    with pytest.raises(DiagnosticError, match="dimensions"):
        te.evaluate(topi.exp(c), {c: np.zeros((2, 2))})
    with pytest.raises(DiagnosticError, match="shape"):
        te.evaluate(topi.exp(c), {c: np.zeros(3)})


@pytest.mark.spec("TE-7")
def test_evaluate_chunks_large_reductions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluate_module, "GRID_LIMIT", 7)
    x = te.placeholder((1, 3, 6, 6), name="x")
    w = te.placeholder((4, 3, 3, 3), name="w")
    out = topi.nn.conv2d_nchw(x, w, 1, 1, 1)
    rng = np.random.default_rng(1)
    xv, wv = (
        rng.standard_normal((1, 3, 6, 6)).astype("float32"),
        rng.standard_normal((4, 3, 3, 3)).astype("float32"),
    )
    np.testing.assert_allclose(
        te.evaluate(out, {x: xv, w: wv}),
        topi.testing.conv2d_nchw_python(xv, wv, 1, 1),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.spec("TE-8")
def test_compute_inline_substitutes_injective_stages() -> None:
    a = te.placeholder((3, 4), name="A")
    b = topi.exp(a)
    c = topi.add(b, 1.0)
    d = topi.sum(c, axis=1)
    e = topi.multiply(d, 2.0)
    (e2,) = te.compute_inline([e])
    ops = [op.name for op in te.post_dfs_order([e2])]
    assert ops == ["A", f"{c.op.name}_red", "T_multiply"]
    assert [op.name for op in te.post_dfs_order([e])] == [
        "A",
        "T_exp",
        "T_add",
        "T_add_red",
        "T_multiply",
    ]
    x = np.random.default_rng(2).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(te.evaluate(e2, {a: x}), te.evaluate(e, {a: x}), rtol=1e-6)
    (only_b,) = te.compute_inline([e], [b])
    assert [op.name for op in te.post_dfs_order([only_b])] == [
        "A",
        "T_add",
        "T_add_red",
        "T_multiply",
    ]
    with pytest.raises(DiagnosticError, match="not an injective"):
        te.compute_inline([e], [d])
    with pytest.raises(DiagnosticError, match="output"):
        te.compute_inline([e], [e])


@pytest.mark.spec("TE-9")
def test_lowering_preserves_meaning() -> None:
    a = te.placeholder((2, 5), "int32", name="A")
    b = te.placeholder((5,), "int32", name="B")
    c = topi.floor_mod(topi.add(a, b), topi.subtract(b, 2))
    d = topi.max(c, axis=1, keepdims=True)
    rng = np.random.default_rng(3)
    vals = {
        a: rng.integers(-9, 9, (2, 5)).astype("int32"),
        b: rng.integers(0, 4, (5,)).astype("int32"),
    }
    want = te.evaluate(d, vals)
    assert isinstance(want, np.ndarray)
    (got,) = run_interp([a, b], [d], vals)
    np.testing.assert_array_equal(got, want)
    (inlined,) = te.compute_inline([d])
    (got_inlined,) = run_interp([a, b], [inlined], vals)
    np.testing.assert_array_equal(got_inlined, want)


@pytest.mark.slow
@pytest.mark.spec("TE-10")
def test_deep_compute_bodies() -> None:
    depth = 100_000
    a = te.placeholder((2,), "int32", name="A")

    def body(i: tir.Var) -> tir.PrimExpr:
        e: tir.PrimExpr = a[i]
        for _ in range(depth):
            e = e + 1
        return e

    b = te.compute((2,), body, name="B")
    assert isinstance(b, te.Tensor)
    assert te.evaluate(b, {a: [1, 2]}).tolist() == [depth + 1, depth + 2]
    f = te.create_prim_func([a, b])
    assert f.script().endswith(f"B[v_i] = A[v_i] + {depth}")
    out = np.zeros(2, "int32")
    tvm.build(f)(np.array([1, 2], "int32"), out)
    assert out.tolist() == [depth + 1, depth + 2]


@pytest.mark.spec("TE-10")
def test_heavily_shared_compute_bodies() -> None:
    a = te.placeholder((2,), "int64", name="A")

    def body(i: tir.Var) -> tir.PrimExpr:
        e: tir.PrimExpr = a[i]
        for _ in range(40):
            e = e + e
        return e

    b = te.compute((2,), body, name="B")
    got = te.evaluate(b, {a: [1, 3]})
    assert got.tolist() == [2**40, 3 * 2**40]
    f = te.create_prim_func([a, b])
    assert f.script().endswith(f"B[v_i] = A[v_i] * T.int64({2**40})")
