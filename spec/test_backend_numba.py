"""NUMBA: the numba-CPU target, ``tvm.build(prim_func, target="numba")``, checked against the
TIR interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import minitvm as tvm
from minitvm import te, tir
from minitvm.backend.numba_cpu.build import NumbaKernel, build_prim_func
from minitvm.backend.numba_cpu.codegen import generate
from minitvm.backend.numba_cpu.options import CompileOptions, cache_dir, set_cache_dir
from minitvm.error import DiagnosticError
from minitvm.tir import op as tir_op
from minitvm.tir.build import BuiltFunc

Array = npt.NDArray[Any]
ROOT = Path(__file__).resolve().parent.parent


def run_both(
    func: tir.PrimFunc, *arrays: Array, target: str = "numba"
) -> tuple[list[Array], list[Array]]:
    """Run ``func`` with the TIR interpreter and ``target`` on copies of ``arrays``."""
    a = [x.copy() for x in arrays]
    b = [x.copy() for x in arrays]
    tvm.build(func, target="interp")(*a)
    tvm.build(func, target=target)(*b)
    return a, b


def _kernel(built: BuiltFunc) -> NumbaKernel:
    assert isinstance(built.kernel, NumbaKernel)
    return built.kernel


@pytest.mark.spec("NUMBA-1")
def test_build_targets_run_the_interpreters_semantics() -> None:
    a = te.placeholder((4, 6), name="A")
    b = te.compute((4, 6), lambda i, j: a[i, j] * 2.0 + 1.0, name="B")
    k = te.reduce_axis((0, 6), name="k")
    c = te.compute((4,), lambda i: te.sum(b[i, k], axis=k), name="C")
    func = te.create_prim_func([a, c])
    rng = np.random.default_rng(0)
    data = rng.standard_normal((4, 6)).astype("float32")
    for target in ("numba", "llvm", "c", "llvm -mcpu=native"):
        f = tvm.build(func, target=target)
        assert isinstance(f, BuiltFunc)
        assert isinstance(f.kernel, NumbaKernel)
        out = np.zeros(4, "float32")
        f(data, out)
        np.testing.assert_allclose(out, (data * 2 + 1).sum(1), rtol=1e-5)
        f["main"](tvm.nd.array(data), tvm.nd.array(out))
    ref, got = run_both(func, data, np.zeros(4, "float32"))
    np.testing.assert_allclose(got[1], ref[1], rtol=1e-5)


@pytest.mark.spec("NUMBA-1")
def test_arguments_are_checked_like_the_interpreter() -> None:
    a = te.placeholder((3,), name="A")
    b = te.compute((3,), lambda i: a[i] + 1.0, name="B")
    f = tvm.build(te.create_prim_func([a, b]), target="numba")
    with pytest.raises(DiagnosticError, match="takes 2 arguments"):
        f(np.zeros(3, "float32"))
    with pytest.raises(DiagnosticError, match="dtype float32"):
        f(np.zeros(3, "float64"), np.zeros(3, "float32"))
    with pytest.raises(DiagnosticError, match="shape"):
        f(np.zeros(4, "float32"), np.zeros(3, "float32"))
    with pytest.raises(DiagnosticError, match="must be an NDArray"):
        f([0.0, 1.0, 2.0], np.zeros(3, "float32"))  # type: ignore[arg-type]  # checked at run time
    # A non-contiguous output is written through a contiguous copy.
    out = np.zeros((3, 2), "float32")
    f(np.arange(3, dtype="float32"), out[:, 0])
    np.testing.assert_array_equal(out[:, 0], [1, 2, 3])


@pytest.mark.spec("NUMBA-1")
def test_symbolic_shapes_and_scalar_parameters() -> None:
    n = tir.SizeVar("n", "int32")
    a_buf = tir.decl_buffer((n,), "float32", "A")
    b_buf = tir.decl_buffer((n,), "float32", "B")
    a, b, s = tir.Var("a", "handle"), tir.Var("b", "handle"), tir.Var("s", "float32")
    i = tir.Var("i", "int32")
    body = tir.For(
        i, tir.const(0), n, tir.ForKind.SERIAL, tir.BufferStore(b_buf, a_buf[i] * s, (i,))
    )
    func = tir.PrimFunc([a, b, s], body, buffer_map={a: a_buf, b: b_buf})
    data = np.arange(5, dtype="float32")
    ref, got = np.zeros(5, "float32"), np.zeros(5, "float32")
    tvm.build(func, target="interp")(data, ref, np.asarray(2.5))
    f = tvm.build(func, target="numba")
    f(data, got, np.asarray(2.5, dtype="float32"))
    np.testing.assert_array_equal(got, ref)
    with pytest.raises(DiagnosticError, match="shape"):
        f(data, np.zeros(4, "float32"), np.asarray(1.0, dtype="float32"))


def _int_outputs(a: te.Tensor, b: te.Tensor) -> tuple[te.Tensor, ...]:
    def body(i: tir.Var) -> tuple[tir.PrimExpr, ...]:
        x, y = a[i], b[i]
        return (
            x + y,
            x * y,
            tir_op.truncdiv(x, y),
            tir_op.truncmod(x, y),
            tir_op.floordiv(x, y),
            tir_op.floormod(x, y),
            tir_op.left_shift(x, y % 40),
            tir_op.right_shift(x, y % 40),
            tir_op.power(x, y % 5),
            tir_op.max(x, y) - tir_op.min(x, y),
        )

    outs = te.compute(a.shape, body, name="ints")
    assert isinstance(outs, tuple)
    return outs


@pytest.mark.spec("NUMBA-2")
@pytest.mark.parametrize("dtype", ["int32", "int8", "uint8", "int64"])
def test_integer_semantics_match_exactly(dtype: str) -> None:
    info = np.iinfo(dtype)
    special = [info.min, info.max, 0, -1, 1, 7, -7, 3]
    a = te.placeholder((16,), dtype, "A")
    b = te.placeholder((16,), dtype, "B")
    outs = _int_outputs(a, b)
    func = te.create_prim_func([a, b, *outs])
    rng = np.random.default_rng(1)
    xa = np.array((special * 2)[:16]).astype(dtype)
    xb = np.array(([-1, 0, 0, 2, info.max, 3, -2, 0] * 2)[:16]).astype(dtype)
    xa[8:] = rng.integers(info.min, info.max, 8, dtype=dtype, endpoint=True)
    bufs = [xa, xb] + [np.zeros(16, t.dtype) for t in outs]
    ref, got = run_both(func, *bufs)
    for r, g in zip(ref[2:], got[2:], strict=True):
        np.testing.assert_array_equal(g, r)


@pytest.mark.spec("NUMBA-2")
def test_casts_and_bool_arithmetic_match_exactly() -> None:
    x = te.placeholder((8,), "float32", "X")
    p = te.placeholder((8,), "bool", "P")
    q = te.placeholder((8,), "bool", "Q")
    outs = te.compute(
        (8,),
        lambda i: (
            tir_op.cast(x[i], "int8"),
            tir_op.cast(tir_op.abs(x[i]), "uint8"),
            tir_op.cast(x[i], "bool"),
            tir_op.cast(tir_op.cast(x[i], "int32"), "float32"),
            tir.Add(p[i], q[i]),
            tir.Mul(p[i], q[i]),
            tir_op.if_then_else(p[i], x[i], -x[i]),
        ),
        name="casts",
    )
    assert isinstance(outs, tuple)
    func = te.create_prim_func([x, p, q, *outs])
    xs = np.array([-3.7, -0.5, 0.0, 0.9, 2.5, 127.9, 100.0, 41.0], "float32")
    ps = np.array([0, 1, 0, 1, 1, 0, 1, 0], bool)
    qs = np.array([0, 0, 1, 1, 1, 0, 0, 1], bool)
    bufs = [xs, ps, qs] + [np.zeros(8, t.dtype) for t in outs]
    ref, got = run_both(func, *bufs)
    for r, g in zip(ref[3:], got[3:], strict=True):
        np.testing.assert_array_equal(g, r)


@pytest.mark.spec("NUMBA-3")
def test_loads_are_clamped_and_bad_stores_raise() -> None:
    a_buf = tir.decl_buffer((4,), "int32", "A")
    b_buf = tir.decl_buffer((4,), "int32", "B")
    a, b, i = tir.Var("a", "handle"), tir.Var("b", "handle"), tir.Var("i", "int32")
    read = tir.BufferStore(b_buf, a_buf[i + 2] + a_buf[i - 3], (i,))
    func = tir.PrimFunc(
        [a, b],
        tir.For(i, tir.const(0), tir.const(4), tir.ForKind.SERIAL, read),
        None,
        {a: a_buf, b: b_buf},
    )
    data = np.array([10, 20, 30, 40], "int32")
    ref, got = run_both(func, data, np.zeros(4, "int32"))
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_array_equal(got[1], [40, 50, 50, 50])
    write = tir.BufferStore(b_buf, a_buf[i], (i + 1,))
    bad = tir.PrimFunc(
        [a, b],
        tir.For(i, tir.const(0), tir.const(4), tir.ForKind.SERIAL, write),
        None,
        {a: a_buf, b: b_buf},
    )
    for target in ("interp", "numba"):
        with pytest.raises(DiagnosticError, match="out of range"):
            tvm.build(bad, target=target)(data, np.zeros(4, "int32"))


@pytest.mark.spec("NUMBA-4")
def test_float_semantics_nan_inf_and_exp() -> None:
    x = te.placeholder((12,), "float32", "X")
    y = te.placeholder((12,), "float32", "Y")
    outs = te.compute(
        (12,),
        lambda i: (
            tir_op.max(x[i], y[i]),
            tir_op.min(x[i], y[i]),
            x[i] / y[i],
            tir_op.floordiv(x[i], y[i]),
            tir_op.floormod(x[i], y[i]),
            tir.Mod(x[i], y[i]),
            tir.exp(x[i]),
            tir.sigmoid(x[i]),
        ),
        name="floats",
    )
    assert isinstance(outs, tuple)
    k = te.reduce_axis((0, 12), "k")
    biggest = te.compute((1,), lambda i: te.max(x[k], axis=k), name="biggest")
    func = te.create_prim_func([x, y, *outs, biggest])
    xs = np.array(
        [np.nan, 1.0, np.inf, -np.inf, 88.7, 88.8, -87.5, -103.5, -110.0, 0.0, -2.5, 7.0], "float32"
    )
    ys = np.array([1.0, np.nan, 2.0, 0.0, 0.0, -3.0, 1.0, 2.0, 1.0, 0.0, 2.0, -2.0], "float32")
    bufs = [xs, ys] + [np.zeros(12, "float32") for _ in outs] + [np.zeros(1, "float32")]
    ref, got = run_both(func, *bufs)
    with np.errstate(all="ignore"):
        for r, g in zip(ref[2:], got[2:], strict=True):
            np.testing.assert_allclose(g, r, rtol=5e-7, atol=1e-44, equal_nan=True)
    assert np.isnan(got[-1][0])
    assert np.isnan(got[2][0])
    assert np.isnan(got[2][1])


@pytest.mark.spec("NUMBA-4")
def test_fastmath_flags_keep_nan_semantics() -> None:
    a = te.placeholder((4,), name="A")
    b = te.compute((4,), lambda i: a[i] + 1.0, name="B")
    func = te.create_prim_func([a, b])
    on = generate(func, CompileOptions()).source
    assert 'fastmath={"reassoc", "contract", "arcp"}' in on
    assert "nnan" not in on
    assert "fastmath=True" not in on
    off = generate(func, CompileOptions(fastmath=False)).source
    assert "fastmath" not in off
    with tvm.transform.PassContext(config={"numba.fastmath": False}):
        f = tvm.build(func, target="numba")
    assert "fastmath" not in _kernel(f).source.source


@pytest.mark.spec("NUMBA-5")
def test_parallel_loops_and_register_accumulation() -> None:
    a = te.placeholder((2, 64, 8), name="A")
    k = te.reduce_axis((0, 8), name="k")
    s = te.compute((2, 64), lambda i, j: te.sum(a[i, j, k] * a[i, j, k], axis=k), name="S")
    func = te.create_prim_func([a, s])
    small = generate(func, CompileOptions()).source
    assert "prange" not in small
    assert "acc_S = np.float32(0.0)" in small
    assert "for k in range(8):" in small
    with tvm.transform.PassContext(config={"numba.parallel_min_work": 16}):
        f = tvm.build(func, target="numba")
    src = _kernel(f).source
    assert src.parallel
    # i and j fuse into one prange (2 * 64 chunks); the reduce loop stays serial inside.
    assert "for fused in prange(128):" in src.source
    data = np.random.default_rng(2).standard_normal((2, 64, 8)).astype("float32")
    out = np.zeros((2, 64), "float32")
    f(data, out)
    np.testing.assert_allclose(out, (data * data).sum(-1), rtol=1e-5)
    b = te.compute((64, 8), lambda i, j: a[0, i, j] + 1.0, name="B")
    inner = generate(te.create_prim_func([a, b]), CompileOptions(parallel_min_work=16)).source
    assert "for i in prange(64):" in inner
    assert "for j in range(8):" in inner
    # By default a nest runs in parallel from 2^20 iterations on: 1024 x 1024, not 1024 x 1023.
    assert CompileOptions().parallel_min_work == 1 << 20
    big = te.placeholder((1024, 1024), name="Big")
    for cols, parallel in ((1024, True), (1023, False)):
        c = te.compute((1024, cols), lambda i, j: big[i, j] * 2.0, name="C")
        assert generate(te.create_prim_func([big, c]), CompileOptions()).parallel is parallel


@pytest.mark.spec("NUMBA-6")
def test_kernels_are_cached_on_disk_by_content(tmp_path: Path) -> None:
    a = te.placeholder((5,), name="A")
    b = te.compute((5,), lambda i: a[i] * 3.0 + 0.25, name="B")
    func = te.create_prim_func([a, b])
    with tvm.transform.PassContext(config={"numba.cache_dir": str(tmp_path)}):
        assert cache_dir() == tmp_path
        first = build_prim_func(func)
        again = build_prim_func(func)
        other = build_prim_func(func, CompileOptions(fastmath=False))
    assert first.module is again.module
    assert first.module.digest != other.module.digest
    files = sorted(p.name for p in (tmp_path / "kernels").glob("k_*.py"))
    assert files == sorted([f"k_{first.module.digest}.py", f"k_{other.module.digest}.py"])
    script = (
        "import minitvm as tvm, numpy as np\n"
        "from minitvm import te\n"
        "from minitvm.backend.numba_cpu.build import build_prim_func\n"
        "a = te.placeholder((5,), name='A')\n"
        "b = te.compute((5,), lambda i: a[i] * 3.0 + 0.25, name='B')\n"
        f"cfg = {{'numba.cache_dir': {str(tmp_path)!r}}}\n"
        "with tvm.transform.PassContext(config=cfg):\n"
        "    k = build_prim_func(te.create_prim_func([a, b]))\n"
        "out = np.zeros(5, 'float32')\n"
        "k([np.arange(5, dtype='float32'), out])\n"
        "print(k.module.digest, sum(k.dispatcher.stats.cache_hits.values()), out.tolist())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "reference"))
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    digest, hits, values = done.stdout.split(" ", 2)
    assert digest == first.module.digest
    assert int(hits) >= 1
    assert values.strip() == "[0.25, 3.25, 6.25, 9.25, 12.25]"


@pytest.mark.spec("NUMBA-6")
def test_without_the_disk_cache_kernels_live_in_a_scratch_directory(tmp_path: Path) -> None:
    a = te.placeholder((5,), name="A")
    b = te.compute((5,), lambda i: a[i] - 0.75, name="B")
    config = {"numba.cache_dir": str(tmp_path), "numba.disk_cache": False}
    with tvm.transform.PassContext(config=config):
        kernel = build_prim_func(te.create_prim_func([a, b]))
    assert not (tmp_path / "kernels").exists()
    assert kernel.module.path.exists()
    assert tmp_path not in kernel.module.path.parents


@pytest.mark.spec("NUMBA-6")
def test_cache_dir_function_and_default(tmp_path: Path) -> None:
    set_cache_dir(tmp_path / "mine")
    try:
        assert cache_dir() == tmp_path / "mine"
        with tvm.transform.PassContext(config={"numba.cache_dir": str(tmp_path / "ctx")}):
            assert cache_dir() == tmp_path / "ctx"
    finally:
        set_cache_dir(None)
    assert cache_dir().parts[-2:] == ("minitvm", "numba")


@pytest.mark.spec("NUMBA-7")
def test_float16_is_not_supported() -> None:
    a = te.placeholder((3,), "float16", name="A")
    b = te.compute((3,), lambda i: a[i] + tir.const(1.0, "float16"), name="B")
    with pytest.raises(DiagnosticError, match="float16"):
        tvm.build(te.create_prim_func([a, b]), target="numba")


@pytest.mark.spec("NUMBA-8")
def test_deep_expressions_generate_without_recursion() -> None:
    a = te.placeholder((2,), name="A")

    def chain(i: tir.Var) -> tir.PrimExpr:
        e: tir.PrimExpr = a[i]
        for _ in range(100_000):
            e = e * 1.0001 + 0.5
        return e

    b = te.compute((2,), chain, name="B")
    src = generate(te.create_prim_func([a, b]), CompileOptions()).source
    longest = max(len(line) for line in src.splitlines())
    assert longest < 2000
    assert src.count("\n") > 1000


@pytest.mark.spec("NUMBA-3")
def test_uint64_indices_are_clamped_exactly() -> None:
    data = te.placeholder((2, 3), name="A")
    index = te.placeholder((4,), dtype="uint64", name="I")
    out = te.compute((4,), lambda i: data[index[i], i % 3], name="B")
    kernel = tvm.build(te.create_prim_func([data, index, out]), target="numba")
    a = np.arange(6, dtype="float32").reshape(2, 3)
    got = np.zeros(4, "float32")
    kernel(a, np.array([0, 1, 7, 2**64 - 1], "uint64"), got)
    np.testing.assert_array_equal(got, [0.0, 4.0, 5.0, 3.0])


@pytest.mark.spec("NUMBA-9")
def test_small_reductions_along_the_inner_axis_sweep_it() -> None:
    # A 3x3 max pool with stride 2 and padding 1: 9 steps per element, inputs laid out along
    # the innermost spatial axis j.
    a = te.placeholder((2, 9, 18), name="A")
    r = te.reduce_axis((0, 3), name="r")
    s = te.reduce_axis((0, 3), name="s")

    def window(c: Any, i: Any, j: Any) -> Any:
        y, x = i * 2 + r - 1, j * 2 + s - 1
        inside = tir_op.all(y >= 0, y < 9, x >= 0, x < 18)
        return te.max(tir_op.if_then_else(inside, a[c, y, x], tir_op.min_value("float32")), [r, s])

    pool = te.compute((2, 5, 9), window, name="P")
    func = te.create_prim_func([a, pool])
    src = generate(func, CompileOptions()).source
    # init in a loop of its own, then the reduce loops around the inner spatial loop.
    init = "P[c, i, j] = np.float32(-3.4028234663852886e+38)"
    assert init in src
    assert "acc_P" not in src
    lines = [line.strip() for line in src.splitlines()]
    at = lines.index("for r in range(3):")
    assert lines[at + 1 : at + 3] == ["for s in range(3):", "for j_1 in range(9):"]
    data = np.random.default_rng(9).standard_normal((2, 9, 18)).astype("float32")
    padded = np.pad(data, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    want = np.full((2, 5, 9), -np.inf, "float32")
    for dy in range(3):
        for dx in range(3):
            want = np.maximum(want, padded[:, dy : dy + 9 : 2, dx : dx + 17 : 2])
    got = np.empty((2, 5, 9), "float32")
    tvm.build(func, target="numba")(data, got)
    np.testing.assert_array_equal(got, want)
    # Inputs laid out along the reduce axis, more steps, or a short inner axis: registers.
    k = te.reduce_axis((0, 8), name="k")
    b = te.placeholder((4, 16, 8), name="B")
    rowsum = te.compute((4, 16), lambda i, j: te.sum(b[i, j, k], axis=k), name="S")
    assert "acc_S" in generate(te.create_prim_func([b, rowsum]), CompileOptions()).source
    big = te.reduce_axis((0, 17), name="big")
    c = te.placeholder((17, 16), name="C")
    colsum = te.compute((16,), lambda j: te.sum(c[big, j], axis=big), name="T")
    assert "acc_T" in generate(te.create_prim_func([c, colsum]), CompileOptions()).source
    small = te.reduce_axis((0, 4), name="small")
    d = te.placeholder((4, 7), name="D")
    short = te.compute((7,), lambda j: te.sum(d[small, j], axis=small), name="U")
    assert "acc_U" in generate(te.create_prim_func([d, short]), CompileOptions()).source
    wide = te.placeholder((4, 8), name="W")
    swept = te.compute((8,), lambda j: te.sum(wide[small, j], axis=small), name="V")
    source = generate(te.create_prim_func([wide, swept]), CompileOptions()).source
    assert "acc_V" not in source
    cols = np.arange(32, dtype="float32").reshape(4, 8)
    out = np.empty(8, "float32")
    tvm.build(te.create_prim_func([wide, swept]), target="numba")(cols, out)
    np.testing.assert_array_equal(out, cols.sum(0))
