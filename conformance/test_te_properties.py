"""Properties of TIR and TE over generated expressions and graphs: the simplifier preserves
values, lowering is well formed and preserves meaning, compute_inline preserves results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st

import minitvm as tvm
from minitvm import te, tir, topi
from minitvm.tir.interpreter import Interpreter
from minitvm.tir.stmt import BlockRealize, BufferStore
from minitvm.topi.utils import get_const_tuple
from spec.topi_harness import run_interp

Array = npt.NDArray[Any]

# --- the simplifier ---------------------------------------------------------------------------

X, Y, J = tir.Var("x"), tir.Var("y"), tir.Var("j")
J_RANGE = (0, 6)


def _leaf() -> st.SearchStrategy[tir.PrimExpr]:
    return st.one_of(
        st.sampled_from([X, Y, J]),
        st.integers(-9, 9).map(lambda v: tir.const(v)),
    )


def _extend(children: st.SearchStrategy[tir.PrimExpr]) -> st.SearchStrategy[tir.PrimExpr]:
    pairs = st.tuples(children, children)
    consts = st.integers(1, 7)
    return st.one_of(
        pairs.map(lambda p: p[0] + p[1]),
        pairs.map(lambda p: p[0] - p[1]),
        st.tuples(children, st.integers(-4, 4)).map(lambda p: p[0] * p[1]),
        st.tuples(children, consts).map(lambda p: tir.floordiv(p[0], p[1])),
        st.tuples(children, consts).map(lambda p: tir.floormod(p[0], p[1])),
        st.tuples(children, consts).map(lambda p: tir.truncdiv(p[0], p[1])),
        pairs.map(lambda p: tir.min(p[0], p[1])),
        pairs.map(lambda p: tir.max(p[0], p[1])),
        st.tuples(pairs, pairs).map(lambda q: tir.Select(q[0][0] < q[0][1], q[1][0], q[1][1])),
    )


index_exprs = st.recursive(_leaf(), _extend, max_leaves=12)


def _value(e: tir.PrimExpr, x: int, y: int, j: int) -> int:
    interp = Interpreter()
    interp.env.update(
        {X: np.asarray(x, "int32"), Y: np.asarray(y, "int32"), J: np.asarray(j, "int32")}
    )
    return int(interp.eval(e))


@given(
    index_exprs,
    st.lists(
        st.tuples(st.integers(-20, 20), st.integers(-20, 20), st.integers(*J_RANGE)),
        min_size=1,
        max_size=6,
    ),
)
def test_simplify_preserves_values(e: tir.PrimExpr, points: list[tuple[int, int, int]]) -> None:
    ana = tir.Analyzer()
    ana.bind(J, tir.Range(tir.const(J_RANGE[0]), tir.const(J_RANGE[1] - J_RANGE[0] + 1)))
    s = ana.simplify(e)
    for x, y, j in points:
        assert _value(s, x, y, j) == _value(e, x, y, j), (str(e), str(s), x, y, j)
    again = ana.simplify(s)
    for x, y, j in points:
        assert _value(again, x, y, j) == _value(s, x, y, j)


# --- TE graphs ---------------------------------------------------------------------------------

Unary = Callable[[te.Tensor], te.Tensor]
Binary = Callable[[te.Tensor, te.Tensor], te.Tensor]

UNARY: list[Unary] = [
    topi.negative,
    topi.abs,
    lambda t: topi.add(t, 1.5),
    lambda t: topi.multiply(t, 0.5),
    topi.exp,
    topi.sigmoid,
    lambda t: topi.clip(t, -1.0, 1.0),
    lambda t: topi.sum(t, axis=-1, keepdims=True),
    lambda t: topi.max(t, axis=0, keepdims=True),
    lambda t: topi.transpose(topi.transpose(t)),
    lambda t: topi.nn.relu(t),
]
BINARY: list[Binary] = [topi.add, topi.subtract, topi.multiply, topi.maximum, topi.minimum]


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[te.Tensor], te.Tensor]:
    """A random float32 graph over two placeholders of shapes (2, 3) and (3,)."""
    a = te.placeholder((2, 3), name="A")
    b = te.placeholder((3,), name="B")
    pool: list[te.Tensor] = [a, b]
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            f = draw(st.sampled_from(UNARY))
            pool.append(f(draw(st.sampled_from(pool))))
        else:
            g = draw(st.sampled_from(BINARY))
            pool.append(g(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))))
    return [a, b], pool[-1]


def _inputs(seed: int, args: list[te.Tensor]) -> dict[te.Tensor, Array]:
    rng = np.random.default_rng(seed)
    return {t: rng.standard_normal(get_const_tuple(t.shape)).astype("float32") for t in args}


@given(graphs(), st.integers(0, 2**16))
def test_lowered_functions_are_well_formed(g: tuple[list[te.Tensor], te.Tensor], seed: int) -> None:
    args, out = g
    if out in args:
        return
    f = te.create_prim_func([*args, out])
    tvm.ir.assert_structural_equal(f, te.create_prim_func([*args, out]))
    blocks = [s for s in tir.functor.walk_stmt(f.body) if isinstance(s, BlockRealize)]
    assert blocks[0].block.name_hint == "root"
    names = [b.block.name_hint for b in blocks]
    assert len(names) == len(set(names))
    for s in tir.functor.walk_stmt(f.body):
        if isinstance(s, BufferStore):
            assert s.value.dtype == s.buffer.dtype
    assert f.script().startswith("# from tvm.script import tir as T")


@given(graphs(), st.integers(0, 2**16))
def test_interpreter_agrees_with_the_evaluator(
    g: tuple[list[te.Tensor], te.Tensor], seed: int
) -> None:
    args, out = g
    if out in args:
        return
    vals = _inputs(seed, args)
    want = te.evaluate(out, vals)
    assert isinstance(want, np.ndarray)
    (got,) = run_interp(args, [out], vals)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@given(graphs(), st.integers(0, 2**16))
def test_compute_inline_preserves_results(g: tuple[list[te.Tensor], te.Tensor], seed: int) -> None:
    args, out = g
    if out in args:
        return
    vals = _inputs(seed, args)
    (inlined,) = te.compute_inline([out])
    want = te.evaluate(out, vals)
    assert isinstance(want, np.ndarray)
    np.testing.assert_allclose(te.evaluate(inlined, vals), want, rtol=1e-5, atol=1e-6)
    (lowered,) = run_interp(args, [inlined], vals)
    np.testing.assert_allclose(lowered, want, rtol=1e-5, atol=1e-6)


@given(st.sampled_from(["int8", "int32", "uint8"]), st.integers(0, 2**16))
def test_integer_graphs_agree_exactly(dtype: str, seed: int) -> None:
    a = te.placeholder((3, 4), dtype, name="A")
    b = te.placeholder((4,), dtype, name="B")
    out = topi.sum(topi.floor_mod(topi.multiply(a, b), topi.subtract(b, 1)), axis=0)
    out2 = topi.divide(topi.add(a, b), topi.right_shift(b, 1))
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    vals = {
        a: rng.integers(info.min, info.max, (3, 4), endpoint=True).astype(dtype),
        b: rng.integers(info.min, info.max, (4,), endpoint=True).astype(dtype),
    }
    for o in (out, out2):
        want = te.evaluate(o, vals)
        assert isinstance(want, np.ndarray)
        (got,) = run_interp([a, b], [o], vals)
        np.testing.assert_array_equal(got, want)
