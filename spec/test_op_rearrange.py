"""OP: rearranging, selecting, gathering, scanning, sorting and layout transforms."""

from __future__ import annotations

import numpy as np
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.type import TupleType
from spec.op_helpers import evaluate, infer, tt


def _data(shape: tuple[int, ...], dtype: str = "float32") -> np.ndarray:
    return np.arange(int(np.prod(shape))).reshape(shape).astype(dtype)


@pytest.mark.spec("OP-28")
def test_reshape_like_tile_repeat_reverse() -> None:
    x = relay.var("x", shape=(2, 3, 4))
    like = relay.var("like", shape=(6, 5, 7))
    rl = relay.reshape_like(x, like, lhs_begin=0, lhs_end=2, rhs_begin=0, rhs_end=1)
    assert infer(rl) == tt((6, 4))
    env = {x: _data((2, 3, 4)), like: np.zeros((6, 5, 7))}
    np.testing.assert_array_equal(evaluate(rl, env), _data((6, 4)))
    assert infer(relay.reshape_like(x, relay.var("f", shape=(24,)))) == tt((24,))
    with pytest.raises(DiagnosticError, match=r"^reshape_like: cannot reshape"):
        infer(relay.reshape_like(x, like))

    big = relay.var("big", shape=(2, 3, 4))
    small = relay.var("small", shape=(3, 1))
    cs = relay.collapse_sum_like(big, small)
    assert infer(cs) == tt((3, 1))
    bdata = _data((2, 3, 4))
    np.testing.assert_array_equal(
        evaluate(cs, {big: bdata, small: np.zeros((3, 1))}), bdata.sum(axis=(0, 2))[:, None]
    )
    ct = relay.collapse_sum_to(big, (4,))
    assert infer(ct) == tt((4,))
    np.testing.assert_array_equal(evaluate(ct, {big: bdata}), bdata.sum(axis=(0, 1)))
    with pytest.raises(DiagnosticError, match=r"^collapse_sum_to: .*not broadcastable"):
        infer(relay.collapse_sum_to(big, (2,)))
    with pytest.raises(DiagnosticError, match=r"is not a broadcast of \(1, 2, 3, 4\)"):
        infer(relay.collapse_sum_to(big, (1, 2, 3, 4)))
    assert Op.get("collapse_sum_like").definition.pattern == OpPattern.COMM_REDUCE

    y = relay.var("y", shape=(2, 3))
    t = relay.tile(y, (2, 1, 2))
    assert infer(t) == tt((2, 2, 6))
    data = _data((2, 3))
    np.testing.assert_array_equal(evaluate(t, {y: data}), np.tile(data, (2, 1, 2)))
    assert infer(relay.tile(y, (3,))) == tt((2, 9))
    with pytest.raises(DiagnosticError, match="reps"):
        infer(relay.tile(y, (0,)))
    r = relay.repeat(y, 2, axis=-1)
    assert infer(r) == tt((2, 6))
    assert evaluate(r, {y: data})[0].tolist() == [0, 0, 1, 1, 2, 2]
    with pytest.raises(DiagnosticError, match="repeats"):
        infer(relay.repeat(y, 0, 0))
    rv = relay.reverse(y, 1)
    assert evaluate(rv, {y: data}).tolist() == [[2, 1, 0], [5, 4, 3]]
    with pytest.raises(DiagnosticError, match="out of range"):
        infer(relay.reverse(y, 2))
    patterns = [Op.get(n).definition.pattern for n in ("reshape_like", "tile", "repeat", "reverse")]
    assert patterns == [
        OpPattern.INJECTIVE,
        OpPattern.BROADCAST,
        OpPattern.BROADCAST,
        OpPattern.INJECTIVE,
    ]


@pytest.mark.spec("OP-29")
def test_where() -> None:
    c = relay.var("c", shape=(2, 1), dtype="bool")
    x = relay.var("x", shape=(3,))
    y = relay.var("y", shape=())
    w = relay.where(c, x, y)
    assert infer(w) == tt((2, 3))
    out = evaluate(w, {c: [[True], [False]], x: [1.0, 2.0, 3.0], y: 9.0})
    assert out.tolist() == [[1.0, 2.0, 3.0], [9.0, 9.0, 9.0]]
    ci = relay.var("ci", shape=(3,), dtype="int32")
    assert evaluate(relay.where(ci, x, y), {ci: [0, 5, -1], x: [1, 2, 3], y: 0}).tolist() == [
        0.0,
        2.0,
        3.0,
    ]
    with pytest.raises(DiagnosticError, match="same dtype"):
        infer(relay.where(c, x, relay.var("z", shape=(), dtype="int32")))
    assert Op.get("where").definition.pattern == OpPattern.BROADCAST


@pytest.mark.spec("OP-30")
def test_gather() -> None:
    x = relay.var("x", shape=(2, 3))
    i = relay.var("i", shape=(2, 4), dtype="int32")
    g = relay.gather(x, 1, i)
    assert infer(g) == tt((2, 4))
    data = _data((2, 3))
    idx = np.array([[0, 2, 1, 0], [2, 2, 0, 1]], "int32")
    expected = [[data[r, idx[r, k]] for k in range(4)] for r in range(2)]
    assert evaluate(g, {x: data, i: idx}).tolist() == expected
    # Out-of-range indices read clamped: 3 -> 2, -1 -> 0.
    wild = np.array([[3, -1, 9, 0], [-4, 2, 5, 1]], "int32")
    clamped = np.clip(wild, 0, 2)
    expected = [[data[r, clamped[r, k]] for k in range(4)] for r in range(2)]
    assert evaluate(g, {x: data, i: wild}).tolist() == expected
    with pytest.raises(DiagnosticError, match="except on axis"):
        infer(relay.gather(x, 0, i))
    with pytest.raises(DiagnosticError, match="rank"):
        infer(relay.gather(x, 0, relay.var("j", shape=(2,), dtype="int32")))


@pytest.mark.spec("OP-30")
def test_gather_nd() -> None:
    x = relay.var("x", shape=(2, 3, 4))
    i = relay.var("i", shape=(2, 5), dtype="int64")
    g = relay.gather_nd(x, i)
    assert infer(g) == tt((5, 4))
    data = _data((2, 3, 4))
    idx = np.array([[0, 1, 1, 0, 1], [2, 0, 1, 1, 2]], "int64")
    expected = np.stack([data[idx[0, k], idx[1, k]] for k in range(5)])
    np.testing.assert_array_equal(evaluate(g, {x: data, i: idx}), expected)
    b = relay.var("b", shape=(1, 2, 3), dtype="int32")
    gb = relay.gather_nd(x, b, batch_dims=1)
    assert infer(gb) == tt((2, 3, 4))
    bidx = np.array([[[0, 2, 1], [1, 1, 0]]], "int32")
    expected_b = np.stack([np.stack([data[n, bidx[0, n, k]] for k in range(3)]) for n in range(2)])
    np.testing.assert_array_equal(evaluate(gb, {x: data, b: bidx}), expected_b)
    far = np.full((2, 5), 3, "int64")
    np.testing.assert_array_equal(
        evaluate(g, {x: data, i: far}), np.stack([data[1, 2]] * 5)
    )  # rows clamp to 1, columns to 2
    empty = relay.var("e", shape=(0, 2))
    j = relay.var("j", shape=(1, 1), dtype="int32")
    with pytest.raises(TVMError, match="extent 0"):
        evaluate(relay.gather_nd(empty, j), {empty: np.zeros((0, 2)), j: [[0]]})
    with pytest.raises(DiagnosticError, match="more axes"):
        infer(relay.gather_nd(x, relay.var("k", shape=(4, 2), dtype="int32")))
    for name in ("gather", "gather_nd"):
        assert Op.get(name).definition.pattern == OpPattern.INJECTIVE


@pytest.mark.spec("OP-31")
def test_cumsum_cumprod() -> None:
    x = relay.var("x", shape=(2, 3), dtype="int32")
    data = np.array([[1, 2, 3], [4, 5, 6]], "int32")
    assert infer(relay.cumsum(x)) == tt((6,), "int32")
    assert evaluate(relay.cumsum(x), {x: data}).tolist() == [1, 3, 6, 10, 15, 21]
    assert evaluate(relay.cumsum(x, axis=0), {x: data}).tolist() == [[1, 2, 3], [5, 7, 9]]
    excl = relay.cumsum(x, axis=1, exclusive=True)
    assert evaluate(excl, {x: data}).tolist() == [[0, 1, 3], [0, 4, 9]]
    cp = relay.cumprod(x, axis=1, dtype="int64", exclusive=True)
    assert infer(cp) == tt((2, 3), "int64")
    assert evaluate(cp, {x: data}).tolist() == [[1, 1, 2], [1, 4, 20]]
    x8 = relay.var("x8", shape=(3,), dtype="int8")
    assert evaluate(relay.cumsum(x8), {x8: [100, 100, 100]}).tolist() == [100, -56, 44]
    for name in ("cumsum", "cumprod"):
        assert Op.get(name).definition.pattern == OpPattern.OPAQUE


@pytest.mark.spec("OP-32")
def test_sort_argsort_topk() -> None:
    x = relay.var("x", shape=(2, 4))
    data = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, 0.0, -1.0, 5.0]], "float32")
    assert evaluate(relay.sort(x), {x: data}).tolist() == [[1, 2, 3, 3], [-1, 0, 0, 5]]
    asc = evaluate(relay.argsort(x), {x: data})
    assert asc.dtype == np.int32
    assert asc.tolist() == [[1, 3, 0, 2], [2, 0, 1, 3]]
    desc = relay.argsort(x, is_ascend=0, dtype="int64")
    assert infer(desc) == tt((2, 4), "int64")
    # Ties keep ascending index order in a descending sort too.
    assert evaluate(desc, {x: data}).tolist() == [[0, 2, 3, 1], [3, 0, 1, 2]]
    tk = relay.topk(x, k=2)
    assert isinstance(tk, relay.TupleWrapper)
    assert infer(tk) == TupleType([tt((2, 2)), tt((2, 2), "int32")])
    values, indices = evaluate(tk, {x: data})
    assert values.tolist() == [[3.0, 3.0], [5.0, 0.0]]
    assert indices.tolist() == [[0, 2], [3, 0]]
    small = relay.topk(x, k=1, axis=0, ret_type="indices", is_ascend=True)
    assert isinstance(small, relay.Call)
    assert evaluate(small, {x: data}).tolist() == [[1, 1, 1, 0]]
    every = relay.topk(x, k=0, ret_type="values")
    assert infer(every) == tt((2, 4))
    with pytest.raises(DiagnosticError, match="k=5 exceeds"):
        infer(relay.topk(x, k=5))
    with pytest.raises(DiagnosticError, match="ret_type"):
        infer(relay.topk(x, ret_type="all"))
    with pytest.raises(DiagnosticError, match="integer type"):
        infer(relay.argsort(x, dtype="float32"))
    for name in ("sort", "argsort", "topk"):
        assert Op.get(name).definition.pattern == OpPattern.OPAQUE


@pytest.mark.spec("OP-33")
def test_layout_transform() -> None:
    x = relay.var("x", shape=(1, 8, 2, 3))
    data = _data((1, 8, 2, 3))
    blocked = relay.layout_transform(x, "NCHW", "NCHW4c")
    assert infer(blocked) == tt((1, 2, 2, 3, 4))
    out = evaluate(blocked, {x: data})
    expected = data.reshape(1, 2, 4, 2, 3).transpose(0, 1, 3, 4, 2)
    np.testing.assert_array_equal(out, expected)
    nhwc = relay.layout_transform(x, "NCHW", "NHWC")
    np.testing.assert_array_equal(evaluate(nhwc, {x: data}), data.transpose(0, 2, 3, 1))
    b = relay.var("b", shape=(1, 2, 2, 3, 4))
    back = relay.layout_transform(b, "NCHW4c", "NHWC2c")
    assert infer(back) == tt((1, 2, 3, 4, 2))
    np.testing.assert_array_equal(
        evaluate(back, {b: expected}), data.transpose(0, 2, 3, 1).reshape(1, 2, 3, 4, 2)
    )
    with pytest.raises(DiagnosticError, match="cannot be split by 3"):
        infer(relay.layout_transform(x, "NCHW", "NCHW3c"))
    with pytest.raises(DiagnosticError, match="different primal axes"):
        infer(relay.layout_transform(x, "NCHW", "NCDW"))
    with pytest.raises(DiagnosticError, match="not a layout"):
        infer(relay.layout_transform(x, "NCHW", "NC-HW"))
    assert Op.get("layout_transform").definition.pattern == OpPattern.INJECTIVE
