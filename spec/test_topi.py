"""TOPI: broadcast, elementwise, reductions and transforms, each checked against numpy through
both te.evaluate and the TIR interpreter on the lowered function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import scipy.special

from minitvm import te, topi
from minitvm.error import DiagnosticError
from spec.topi_harness import check

Array = npt.NDArray[Any]
RNG = np.random.default_rng(0)


def ph(shape: tuple[int, ...], dtype: str = "float32", name: str = "x") -> te.Tensor:
    return te.placeholder(shape, dtype, name)


def rnd(*shape: int, dtype: str = "float32") -> Array:
    return RNG.standard_normal(shape).astype(dtype)


def ints(lo: int, hi: int, *shape: int, dtype: str = "int32") -> Array:
    return RNG.integers(lo, hi, shape).astype(dtype)


FLOAT_BINARY: list[tuple[Callable[[Any, Any], te.Tensor], Callable[[Array, Array], Array]]] = [
    (topi.add, np.add),
    (topi.subtract, np.subtract),
    (topi.multiply, np.multiply),
    (topi.divide, np.divide),
    (topi.maximum, np.maximum),
    (topi.minimum, np.minimum),
    (topi.power, lambda a, b: np.power(np.abs(a), b)),
    (topi.floor_divide, lambda a, b: np.floor(a / b)),
    (topi.mod, np.fmod),
    (topi.floor_mod, lambda a, b: a - np.floor(a / b) * b),
]


@pytest.mark.spec("TOPI-1")
@pytest.mark.parametrize(("op", "ref"), FLOAT_BINARY, ids=lambda v: getattr(v, "__name__", ""))
def test_float_broadcast_binary(
    op: Callable[[Any, Any], te.Tensor], ref: Callable[[Array, Array], Array]
) -> None:
    a, b = ph((2, 1, 3), name="a"), ph((4, 1), name="b")
    x, y = rnd(2, 1, 3), rnd(4, 1)
    if op is topi.power:
        x = np.abs(x)
    out = op(a, b)
    assert isinstance(out.op, te.ComputeOp)
    assert out.op.name == f"T_{op.__name__}"
    assert [iv.var.name_hint for iv in out.op.axis] == ["ax0", "ax1", "ax2"]
    check([a, b], out, [x, y], ref(x, y).astype("float32"), rtol=1e-5)


@pytest.mark.spec("TOPI-1")
def test_integer_division_semantics_and_overflow() -> None:
    a, b = ph((2, 4), "int32", "a"), ph((4,), "int32", "b")
    x = np.array([[7, -7, 5, -(2**31)], [0, 9, -9, 3]], "int32")
    y = np.array([2, 2, 0, -1], "int32")
    check(
        [a, b], topi.divide(a, b), [x, y], np.array([[3, -3, 0, -(2**31)], [0, 4, 0, -3]], "int32")
    )
    check([a, b], topi.mod(a, b), [x, y], np.array([[1, -1, 0, 0], [0, 1, 0, 0]], "int32"))
    check(
        [a, b],
        topi.floor_divide(a, b),
        [x, y],
        np.array([[3, -4, 0, -(2**31)], [0, 4, 0, -3]], "int32"),
    )
    check([a, b], topi.floor_mod(a, b), [x, y], np.array([[1, 1, 0, 0], [0, 1, 0, 0]], "int32"))
    c = ph((2,), "int8", "c")
    check([c], topi.add(c, 10), [np.array([120, -128], "int8")], np.array([-126, -118], "int8"))
    u = ph((1,), "uint8", "u")
    check([u], topi.subtract(u, 2), [np.array([1], "uint8")], np.array([255], "uint8"))
    r = np.array([1, 1, 40, 0], "int32")
    check([a, b], topi.right_shift(a, b), [x, r], np.right_shift(x, r))
    sh = np.array([1, 33, 2, 0], "int32")
    check([a, b], topi.left_shift(a, b), [x, sh], np.left_shift(x, sh))


@pytest.mark.spec("TOPI-1")
def test_comparisons_logical_and_bitwise() -> None:
    a, b = ph((3,), "int32", "a"), ph((3,), "int32", "b")
    x, y = np.array([0, 2, -3], "int32"), np.array([0, 0, 5], "int32")
    compare: list[tuple[Callable[[Any, Any], te.Tensor], Callable[[Array, Array], Array]]] = [
        (topi.greater, np.greater),
        (topi.less, np.less),
        (topi.equal, np.equal),
        (topi.not_equal, np.not_equal),
        (topi.greater_equal, np.greater_equal),
        (topi.less_equal, np.less_equal),
    ]
    for cmp, cmp_ref in compare:
        check([a, b], cmp(a, b), [x, y], cmp_ref(x, y))
    check([a, b], topi.logical_and(a, b), [x, y], np.logical_and(x, y).astype("int32"))
    check([a, b], topi.logical_or(a, b), [x, y], np.logical_or(x, y).astype("int32"))
    check([a, b], topi.logical_xor(a, b), [x, y], np.logical_xor(x, y).astype("int32"))
    check([a], topi.logical_not(a), [x], np.logical_not(x).astype("int32"))
    bitwise: list[tuple[Callable[[Any, Any], te.Tensor], Callable[[Array, Array], Array]]] = [
        (topi.bitwise_and, np.bitwise_and),
        (topi.bitwise_or, np.bitwise_or),
        (topi.bitwise_xor, np.bitwise_xor),
    ]
    for op, ref in bitwise:
        check([a, b], op(a, b), [x, y], ref(x, y))
    check([a], topi.bitwise_not(a), [x], np.invert(x))
    p, q = ph((2,), "bool", "p"), ph((2,), "bool", "q")
    tv, fv = np.array([True, False]), np.array([True, True])
    check([p, q], topi.logical_and(p, q), [tv, fv], tv & fv)


@pytest.mark.spec("TOPI-1")
def test_broadcast_errors_and_broadcast_to() -> None:
    a = ph((2, 3), name="a")
    x = rnd(2, 3)
    check([a], topi.broadcast_to(a, (4, 2, 3)), [x], np.broadcast_to(x, (4, 2, 3)))
    with pytest.raises(DiagnosticError, match="do not broadcast"):
        topi.add(a, ph((4,), name="b"))
    with pytest.raises(DiagnosticError, match="broadcast"):
        topi.broadcast_to(a, (3, 3))


UNARY: list[tuple[Callable[[te.Tensor], te.Tensor], Callable[[Array], Array]]] = [
    (topi.exp, np.exp),
    (topi.erf, scipy.special.erf),
    (topi.tanh, np.tanh),
    (topi.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    (topi.sqrt, lambda v: np.sqrt(np.abs(v))),
    (topi.rsqrt, lambda v: 1 / np.sqrt(np.abs(v))),
    (topi.log, lambda v: np.log(np.abs(v))),
    (topi.log2, lambda v: np.log2(np.abs(v))),
    (topi.log10, lambda v: np.log10(np.abs(v))),
    (topi.sin, np.sin),
    (topi.cos, np.cos),
    (topi.tan, np.tan),
    (topi.sinh, np.sinh),
    (topi.cosh, np.cosh),
    (topi.atan, np.arctan),
    (topi.asinh, np.arcsinh),
    (topi.floor, np.floor),
    (topi.ceil, np.ceil),
    (topi.round, np.round),
    (topi.trunc, np.trunc),
    (topi.abs, np.abs),
    (topi.negative, np.negative),
    (topi.identity, lambda v: v),
    (topi.sign, np.sign),
    (topi.fast_exp, np.exp),
    (topi.fast_tanh, np.tanh),
    (topi.fast_erf, scipy.special.erf),
]


@pytest.mark.spec("TOPI-2")
@pytest.mark.parametrize(("op", "ref"), UNARY, ids=lambda v: getattr(v, "__name__", ""))
def test_unary_math(op: Callable[[te.Tensor], te.Tensor], ref: Callable[[Array], Array]) -> None:
    a = ph((2, 5), name="a")
    x = np.concatenate([np.array([-2.5, -0.5, 0.0, 0.5, 1.5], "float32"), rnd(5)]).reshape(2, 5)
    if op in (topi.sqrt, topi.rsqrt, topi.log, topi.log2, topi.log10):
        x = np.abs(x) + np.float32(0.1)
    check([a], op(a), [x], ref(x).astype("float32"), rtol=1e-5, atol=1e-5)


@pytest.mark.spec("TOPI-2")
def test_inverse_trig_and_predicates() -> None:
    a = ph((4,), name="a")
    x = np.array([-0.9, -0.2, 0.3, 0.8], "float32")
    for op, ref in [(topi.asin, np.arcsin), (topi.acos, np.arccos), (topi.atanh, np.arctanh)]:
        check([a], op(a), [x], ref(x), rtol=1e-5)
    check([a], topi.acosh(a), [x + 2], np.arccosh(x + 2), rtol=1e-5)
    y = np.array([np.nan, np.inf, -1.0, 0.0], "float32")
    check([a], topi.isnan(a), [y], np.isnan(y))
    check([a], topi.isinf(a), [y], np.isinf(y))
    check([a], topi.isfinite(a), [y], np.isfinite(y))
    b = ph((4,), name="b")
    check([a, b], topi.atan2(a, b), [x, x[::-1].copy()], np.arctan2(x, x[::-1]), rtol=1e-5)
    with pytest.raises(DiagnosticError, match="float"):
        topi.exp(ph((2,), "int32"))


@pytest.mark.spec("TOPI-2")
def test_fast_approximations_are_close_over_a_wide_range() -> None:
    a = ph((2001,), name="a")
    x = np.linspace(-10, 10, 2001, dtype="float32")
    check([a], topi.fast_exp(a), [x], np.exp(x), rtol=1e-5, interp=False)
    check([a], topi.fast_tanh(a), [x], np.tanh(x), atol=1e-5, interp=False)
    check(
        [a], topi.fast_erf(a), [x], scipy.special.erf(x).astype("float32"), atol=1e-5, interp=False
    )


@pytest.mark.spec("TOPI-3")
def test_clip_cast_reinterpret_sign_and_fill() -> None:
    a = ph((5,), name="a")
    x = np.array([-3.0, -0.4, 0.0, 0.7, 9.0], "float32")
    check([a], topi.clip(a, -0.5, 0.5), [x], np.clip(x, -0.5, 0.5))
    check([a], topi.clip(a, 1.0, -1.0), [x], np.full(5, 1.0, "float32"))
    i8 = ph((3,), "int8", "i8")
    check(
        [i8],
        topi.clip(i8, -300, 300.7),
        [np.array([-128, 0, 127], "int8")],
        np.array([-128, 0, 127], "int8"),
    )
    as_int, as_bool = topi.cast(a, "int32"), topi.cast(a, "bool")
    assert isinstance(as_int, te.Tensor)
    assert isinstance(as_bool, te.Tensor)
    check([a], as_int, [x], x.astype("int32"))
    check([a], as_bool, [x], x != 0)
    check([a], topi.reinterpret(a, "int32"), [x], x.view("int32"))
    n = ph((3,), "int32", "n")
    check([n], topi.sign(n), [np.array([-5, 0, 7], "int32")], np.array([-1, 0, 1], "int32"))
    check([], topi.full((2, 3), "int8", 300), [], np.full((2, 3), 44, "int8"))
    check([a], topi.full_like(a, 2.5), [x], np.full(5, 2.5, "float32"))
    b, c = ph((5,), name="b"), ph((5,), name="c")
    check([a, b, c], topi.elemwise_sum([a, b, c]), [x, x * 2, x * 3], x * 6, rtol=1e-6)


@pytest.mark.spec("TOPI-4")
def test_reductions() -> None:
    c = ph((2, 3, 4), name="c")
    z = rnd(2, 3, 4)
    out = topi.sum(c, axis=1)
    assert isinstance(out.op, te.ComputeOp)
    assert out.op.name == "c_red"
    assert [iv.var.name_hint for iv in out.op.reduce_axis] == ["k1"]
    check([c], out, [z], z.sum(1), rtol=1e-5)
    total = topi.sum(c)
    assert total.shape == ()
    check([c], total, [z], np.asarray(z.sum(), "float32"), rtol=1e-5)
    check([c], topi.sum(c, keepdims=True), [z], z.sum(keepdims=True), rtol=1e-5)
    check([c], topi.max(c, axis=(0, 2), keepdims=True), [z], z.max((0, 2), keepdims=True))
    check([c], topi.min(c, axis=-1), [z], z.min(-1))
    check([c], topi.prod(c, axis=-1), [z], z.prod(-1), rtol=1e-5)
    i = ph((2, 3), "int8", "i")
    iv = np.array([[100, 100, 100], [-1, 2, 3]], "int8")
    check([i], topi.sum(i, axis=1), [iv], iv.sum(1, dtype="int8"))
    b = ph((2, 3), "bool", "b")
    bv = np.array([[True, False, True], [True, True, True]])
    check([b], topi.all(b, axis=1), [bv], np.all(bv, axis=1))
    check([b], topi.any(b), [bv], np.asarray(np.any(bv)))
    check([i], topi.all(i, axis=1), [iv], (iv != 0).all(1))
    with pytest.raises(DiagnosticError, match="repeated"):
        topi.sum(c, axis=(1, -2))
    with pytest.raises(DiagnosticError, match="out of range"):
        topi.sum(c, axis=3)


@pytest.mark.spec("TOPI-4")
def test_argmax_argmin() -> None:
    c = ph((2, 3, 4), name="c")
    z = rnd(2, 3, 4)
    z[0, :, 0] = 1.0  # ties: the first index wins
    out = topi.argmax(c, axis=1)
    assert out.dtype == "int32"
    assert out.op.input_tensors[0].op.name == "c_red_temp"
    check([c], out, [z], z.argmax(1).astype("int32"))
    check(
        [c],
        topi.argmin(c, axis=(1, 2), keepdims=True),
        [z],
        z.reshape(2, -1).argmin(1).reshape(2, 1, 1).astype("int32"),
    )
    last = topi.argmax(c, axis=1, select_last_index=True)
    expected = (2 - np.flip(z, 1).argmax(1)).astype("int32")
    check([c], last, [z], expected)
    check([c], topi.argmax(c), [z], np.asarray(z.argmax(), "int32"))
    e = ph((2, 0), name="e")
    got = te.evaluate(topi.argmax(e, axis=1), {e: np.zeros((2, 0), "float32")})
    assert got.tolist() == [-1, -1]


@pytest.mark.spec("TOPI-5")
def test_layout_transforms() -> None:
    c = ph((2, 3, 4), name="c")
    z = rnd(2, 3, 4)
    check([c], topi.transpose(c, (2, 0, 1)), [z], z.transpose(2, 0, 1))
    check([c], topi.transpose(c), [z], z.transpose())
    check([c], topi.reshape(c, (4, -1)), [z], z.reshape(4, 6))
    check([c], topi.expand_dims(c, 1, 2), [z], z.reshape(2, 1, 1, 3, 4))
    s = ph((1, 3, 1), name="s")
    w = rnd(1, 3, 1)
    check([s], topi.squeeze(s), [w], w.squeeze())
    check([s], topi.squeeze(s, axis=-1), [w], w.squeeze(-1))
    with pytest.raises(DiagnosticError, match="size 3"):
        topi.squeeze(s, axis=1)
    check([c], topi.tile(c, (2, 1, 1, 2)), [z], np.tile(z, (2, 1, 1, 2)))
    check([c], topi.repeat(c, 2, 1), [z], np.repeat(z, 2, 1))
    check([c], topi.flip(c, -1), [z], np.flip(z, -1))
    with pytest.raises(DiagnosticError, match="permutation"):
        topi.transpose(c, (0, 0, 1))
    with pytest.raises(DiagnosticError, match="cannot reshape"):
        topi.reshape(c, (5, 5))


@pytest.mark.spec("TOPI-5")
def test_joins_and_splits() -> None:
    a, b = ph((2, 3), name="a"), ph((2, 2), name="b")
    x, y = rnd(2, 3), rnd(2, 2)
    check([a, b], topi.concatenate([a, b], axis=1), [x, y], np.concatenate([x, y], 1))
    b2 = ph((2, 3), name="b2")
    y2 = rnd(2, 3)
    check([a, b2], topi.stack([a, b2], axis=2), [x, y2], np.stack([x, y2], 2))
    c = ph((2, 6), name="c")
    z = rnd(2, 6)
    check([c], topi.split(c, 3, axis=1), [z], np.split(z, 3, 1))
    check([c], topi.split(c, [1, 4], axis=-1), [z], np.split(z, [1, 4], -1))
    with pytest.raises(DiagnosticError, match="sections"):
        topi.split(c, 4, axis=1)


@pytest.mark.spec("TOPI-5")
def test_where_arange_matmul_and_scans() -> None:
    a, b = ph((2, 3), name="a"), ph((3,), name="b")
    x, y = rnd(2, 3), rnd(3)
    cond = topi.greater(a, b)
    check([a, b], topi.where(cond, a, b), [x, y], np.where(x > y, x, y))
    check([a], topi.where(a, a, 0.0), [x], np.where(x != 0, x, 0).astype("float32"))
    check([], topi.arange(1, 6, 2, "int32"), [], np.arange(1, 6, 2, dtype="int32"))
    check([], topi.arange(3.0), [], np.arange(3.0, dtype="float32"))
    m1, m2 = ph((3, 4), name="m1"), ph((5, 4), name="m2")
    v1, v2 = rnd(3, 4), rnd(5, 4)
    check([m1, m2], topi.matmul(m1, m2, transp_b=True), [v1, v2], v1 @ v2.T, rtol=1e-5)
    c = ph((2, 4), name="c")
    z = rnd(2, 4)
    check([c], topi.cumsum(c, axis=1), [z], np.cumsum(z, 1), rtol=1e-5)
    check([c], topi.cumsum(c), [z], np.cumsum(z), rtol=1e-5)
    check(
        [c],
        topi.cumprod(c, axis=0, exclusive=True),
        [z],
        np.concatenate([np.ones((1, 4), "float32"), z[:1]]),
        rtol=1e-6,
    )
    i = ph((5,), "int8", "i")
    iv = np.array([100, 100, 1, 2, 3], "int8")
    check([i], topi.cumsum(i, dtype="int32"), [iv], np.cumsum(iv, dtype="int32"))


@pytest.mark.spec("TOPI-6")
def test_take_modes() -> None:
    c = ph((2, 3, 4), name="c")
    z = rnd(2, 3, 4)
    idx = ph((2, 2), "int32", "idx")
    iv = np.array([[0, 2], [-1, 5]], "int32")
    check([c, idx], topi.take(c, idx, axis=1), [z, iv], np.take(z, np.clip(iv, 0, 2), axis=1))
    check([c, idx], topi.take(c, idx, axis=1, mode="wrap"), [z, iv], np.take(z, iv % 3, axis=1))
    check(
        [c, idx],
        topi.take(c, idx, axis=1, mode="fast"),
        [z, iv],
        np.take(z, np.clip(iv, 0, 2), axis=1),
    )
    check([c, idx], topi.take(c, idx), [z, iv], np.take(z.ravel(), np.clip(iv, 0, 23)))
    bidx = ph((2, 3), "int32", "bidx")
    bv = np.array([[0, 3, 1], [2, 2, 0]], "int32")
    expected = np.stack([np.take(z[k], bv[k], axis=1) for k in range(2)])
    check([c, bidx], topi.take(c, bidx, axis=2, batch_dims=1), [z, bv], expected)
    with pytest.raises(DiagnosticError, match="mode"):
        topi.take(c, idx, axis=1, mode="raise")


@pytest.mark.spec("TOPI-6")
def test_gather_gather_nd_one_hot_and_strided_slice() -> None:
    c = ph((2, 3, 4), name="c")
    z = rnd(2, 3, 4)
    gi = ph((2, 2, 4), "int32", "gi")
    gv = ints(0, 3, 2, 2, 4)
    check([c, gi], topi.gather(c, 1, gi), [z, gv], topi.testing.gather_python(z, 1, gv))
    ni = ph((2, 3), "int32", "ni")
    nv = np.array([[0, 1, 1], [2, 0, 1]], "int32")
    check([c, ni], topi.gather_nd(c, ni), [z, nv], topi.testing.gather_nd_python(z, nv))
    bi = ph((1, 2), "int32", "bi")
    bv = np.array([[1, 2]], "int32")
    check(
        [c, bi],
        topi.gather_nd(c, bi, batch_dims=1),
        [z, bv],
        topi.testing.gather_nd_python(z, bv, 1),
    )
    ind = ph((2, 2), "int32", "ind")
    indv = np.array([[0, 3], [1, 4]], "int32")
    for axis in (-1, 0, 1):
        check(
            [ind],
            topi.one_hot(ind, 1.0, -1.0, 4, axis, "float32"),
            [indv],
            topi.testing.one_hot(indv, 1.0, -1.0, 4, axis, "float32"),
        )
    cases: list[tuple[list[int | None], list[int | None], list[int] | None]] = [
        ([1, -1, 0], [2, 0, 4], [1, -1, 2]),
        ([0, None, None], [None, None, None], [1, -1, -2]),
        ([-5, 1], [7, 3], None),
    ]
    for begin, end, strides in cases:
        out = topi.strided_slice(c, begin, end, strides)
        check([c], out, [z], topi.testing.strided_slice_python(z, begin, end, strides))
    out = topi.strided_slice(c, [1, 0], [2, -1], slice_mode="size", axes=[2, 0])
    check(
        [c],
        out,
        [z],
        topi.testing.strided_slice_python(z, [1, 0], [2, -1], slice_mode="size", axes=[2, 0]),
    )
    with pytest.raises(DiagnosticError, match="against"):
        topi.strided_slice(c, [2], [1])
    with pytest.raises(DiagnosticError, match="cannot be 0"):
        topi.strided_slice(c, [0], [1], [0])
