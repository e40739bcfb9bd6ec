"""OP: shape transforms, indexing, creation and annotation operators."""

from __future__ import annotations

import numpy as np
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.type import TupleType
from spec.op_helpers import evaluate, infer, tt


def _x(shape: tuple[int, ...], dtype: str = "float32") -> relay.Var:
    return relay.var("x", shape=shape, dtype=dtype)


def _data(shape: tuple[int, ...]) -> np.ndarray:
    return np.arange(int(np.prod(shape)), dtype="float32").reshape(shape)


@pytest.mark.spec("OP-7")
@pytest.mark.parametrize(
    ("ishape", "newshape", "expected"),
    [
        ((2, 3, 4), (6, 4), (6, 4)),
        ((2, 3, 4), (-1,), (24,)),
        ((2, 3, 4), (0, -1), (2, 12)),
        ((2, 3, 4), (4, 0, 2), (4, 3, 2)),
        ((2, 3, 4), (-2,), (2, 3, 4)),
        ((2, 3, 4), (2, -2), (2, 3, 4)),
        ((2, 3, 4), (-3, 4), (6, 4)),
        ((2, 3, 4), (0, -3), (2, 12)),
        ((2, 3, 4), (-4, 1, 2, -2), (1, 2, 3, 4)),
        ((2, 3, 4), (2, -4, -1, 3, 4), (2, 1, 3, 4)),
        ((2, 3, 4), (-1, 0), (8, 3)),
        ((2, 3, 4, 5), (-4, 2, -1, -2), (2, 1, 3, 4, 5)),
        ((6, 1, 4), (0, -1, 0), (6, 1, 4)),
    ],
)
def test_reshape_special_values(
    ishape: tuple[int, ...], newshape: tuple[int, ...], expected: tuple[int, ...]
) -> None:
    # Hand-derived from TVM's InferNewShape, e.g. (-1, 0) on (2,3,4): -1 advances to the 3,
    # 0 copies it, and -1 is inferred as 24 / 3 = 8.
    x = _x(ishape)
    call = relay.reshape(x, newshape)
    assert infer(call) == tt(expected)
    out = evaluate(call, {x: _data(ishape)})
    np.testing.assert_array_equal(out, _data(ishape).reshape(expected))


@pytest.mark.spec("OP-7")
def test_reshape_rejects_and_flags() -> None:
    x = _x((2, 3, 4))
    with pytest.raises(DiagnosticError, match=r"^reshape: cannot reshape"):
        infer(relay.reshape(x, (5, 5)))
    with pytest.raises(DiagnosticError, match="only one dimension can be -1"):
        infer(relay.reshape(x, (-1, -1)))
    with pytest.raises(DiagnosticError, match="unsupported special value"):
        infer(relay.reshape(x, (-5, 24)))
    with pytest.raises(DiagnosticError, match="-4"):
        infer(relay.reshape(x, (-4, 5, -1, 3, 4)))
    assert infer(relay.reshape(_x((0, 3)), (3, 0), allowzero=True)) == tt((3, 0))
    assert relay.reshape(x, 24).attrs == relay.op.op_attrs.ReshapeAttrs((24,), False)
    d = Op.get("reshape").definition
    assert (d.pattern, d.reshape_only) == (OpPattern.INJECTIVE, True)


@pytest.mark.spec("OP-8")
def test_transpose_squeeze_expand_dims() -> None:
    x = _x((2, 3, 4))
    data = _data((2, 3, 4))
    t = relay.transpose(x, (1, -1, 0))
    assert infer(t) == tt((3, 4, 2))
    np.testing.assert_array_equal(evaluate(t, {x: data}), data.transpose(1, 2, 0))
    assert infer(relay.transpose(x)) == tt((4, 3, 2))
    with pytest.raises(DiagnosticError, match="transpose"):
        infer(relay.transpose(x, (0, 1)))
    with pytest.raises(DiagnosticError, match="twice"):
        infer(relay.transpose(x, (0, 1, 1)))

    y = _x((1, 3, 1, 2))
    assert infer(relay.squeeze(y)) == tt((3, 2))
    assert infer(relay.squeeze(y, axis=[-2])) == tt((1, 3, 2))
    assert infer(relay.squeeze(y, axis=[])) == tt((1, 3, 1, 2))
    with pytest.raises(DiagnosticError, match="cannot squeeze axis 1"):
        infer(relay.squeeze(y, axis=[1]))

    e = relay.expand_dims(x, 1, 2)
    assert infer(e) == tt((2, 1, 1, 3, 4))
    assert infer(relay.expand_dims(x, -1)) == tt((2, 3, 4, 1))
    assert infer(relay.expand_dims(x, -4)) == tt((1, 2, 3, 4))
    np.testing.assert_array_equal(evaluate(e, {x: data}), data[:, None, None])
    with pytest.raises(DiagnosticError, match="axis must be in"):
        infer(relay.expand_dims(x, 4))

    bf = relay.nn.batch_flatten(x)
    assert infer(bf) == tt((2, 12))
    for name, pattern in [
        ("transpose", OpPattern.INJECTIVE),
        ("squeeze", OpPattern.INJECTIVE),
        ("nn.batch_flatten", OpPattern.INJECTIVE),
        ("expand_dims", OpPattern.BROADCAST),
    ]:
        assert Op.get(name).definition.pattern == pattern
    assert [Op.get(n).definition.reshape_only for n in ("squeeze", "expand_dims", "transpose")] == [
        True,
        True,
        False,
    ]


@pytest.mark.spec("OP-9")
def test_concatenate_stack_split() -> None:
    a = relay.var("a", shape=(2, 3))
    b = relay.var("b", shape=(2, 5))
    c = relay.concatenate([a, b], axis=1)
    assert isinstance(c.args[0], relay.Tuple)
    assert infer(c) == tt((2, 8))
    va, vb = _data((2, 3)), _data((2, 5)) + 100
    np.testing.assert_array_equal(evaluate(c, {a: va, b: vb}), np.hstack([va, vb]))
    with pytest.raises(DiagnosticError, match="outside the concatenation axis"):
        infer(relay.concatenate([a, b], axis=0))
    with pytest.raises(DiagnosticError, match="concatenate: axis 2 is out of range"):
        infer(relay.concatenate((a, b), 2))
    with pytest.raises(DiagnosticError, match="rank and dtype"):
        infer(relay.concatenate([a, relay.var("i", shape=(2, 3), dtype="int32")], 0))

    s = relay.stack([a, a], axis=-1)
    assert infer(s) == tt((2, 3, 2))
    np.testing.assert_array_equal(evaluate(s, {a: va}), np.stack([va, va], -1))

    x = _x((6, 4))
    parts = relay.split(x, 3)
    assert isinstance(parts, relay.TupleWrapper)
    assert len(parts) == 3
    assert infer(parts) == TupleType([tt((2, 4))] * 3)
    out = evaluate(parts, {x: _data((6, 4))})
    np.testing.assert_array_equal(out[2], _data((6, 4))[4:])
    at = relay.split(x, [1, 3], axis=1)
    assert len(at) == 3
    assert infer(at) == TupleType([tt((6, 1)), tt((6, 2)), tt((6, 1))])
    with pytest.raises(DiagnosticError, match="divisor"):
        infer(relay.split(x, 4))
    with pytest.raises(DiagnosticError, match="ascending"):
        infer(relay.split(x, [3, 3]))
    with pytest.raises(DiagnosticError, match="below the axis extent"):
        infer(relay.split(x, [2, 6]))
    for name in ("concatenate", "stack", "split"):
        assert Op.get(name).definition.pattern == OpPattern.INJECTIVE


@pytest.mark.spec("OP-10")
def test_broadcast_to() -> None:
    x = _x((3, 1))
    call = relay.broadcast_to(x, (2, 3, 4))
    assert infer(call) == tt((2, 3, 4))
    out = evaluate(call, {x: [[1.0], [2.0], [3.0]]})
    assert out.shape == (2, 3, 4)
    assert out[1, 2, 3] == 3.0
    assert out.flags.writeable
    with pytest.raises(DiagnosticError, match=r"^broadcast_to: .*not broadcastable"):
        infer(relay.broadcast_to(x, (3, 4, 2)))
    with pytest.raises(DiagnosticError, match=r"cannot broadcast \(3, 1\) to \(3,\)"):
        infer(relay.broadcast_to(x, (3,)))
    like = relay.var("like", shape=(5, 3, 7), dtype="int8")
    assert infer(relay.broadcast_to_like(x, like)) == tt((5, 3, 7))
    assert Op.get("broadcast_to").definition.pattern == OpPattern.BROADCAST
    assert Op.get("broadcast_to_like").definition.pattern == OpPattern.BROADCAST


@pytest.mark.spec("OP-11")
def test_take_shapes_and_modes() -> None:
    x = _x((3, 4))
    i = relay.var("i", shape=(2, 2), dtype="int32")
    data = _data((3, 4))
    idx = np.array([[0, 5], [-1, 2]], "int32")
    assert infer(relay.take(x, i)) == tt((2, 2))
    assert infer(relay.take(x, i, axis=1)) == tt((3, 2, 2))
    clip = evaluate(relay.take(x, i, axis=1), {x: data, i: idx})
    np.testing.assert_array_equal(clip, data[:, [[0, 3], [0, 2]]])
    wrap = evaluate(relay.take(x, i, axis=1, mode="wrap"), {x: data, i: idx})
    np.testing.assert_array_equal(wrap, data[:, [[0, 1], [3, 2]]])
    flat = evaluate(relay.take(x, i, mode="clip"), {x: data, i: idx})
    np.testing.assert_array_equal(flat, [[0, 5], [0, 2]])
    ok = np.array([[0, 1], [2, 3]], "int32")
    fast = evaluate(relay.take(x, i, axis=1, mode="fast"), {x: data, i: ok})
    np.testing.assert_array_equal(fast, data[:, ok])
    # Out-of-range reads in "fast" mode are defined as clamped, like "clip".
    fast_out = evaluate(relay.take(x, i, axis=1, mode="fast"), {x: data, i: idx})
    np.testing.assert_array_equal(fast_out, clip)
    with pytest.raises(DiagnosticError, match="integer"):
        infer(relay.take(x, relay.var("f", shape=(2,)), axis=0))
    with pytest.raises(DiagnosticError, match="mode"):
        infer(relay.take(x, i, axis=0, mode="nearest"))
    empty = _x((0,))
    with pytest.raises(TVMError, match="extent 0"):
        evaluate(relay.take(empty, i), {empty: np.zeros(0), i: ok})
    assert Op.get("take").definition.pattern == OpPattern.INJECTIVE


@pytest.mark.spec("OP-11")
def test_take_batch_dims() -> None:
    x = _x((2, 3, 4))
    i = relay.var("i", shape=(2, 5), dtype="int64")
    call = relay.take(x, i, axis=2, batch_dims=1)
    assert infer(call) == tt((2, 3, 5))
    data = _data((2, 3, 4))
    idx = np.array([[0, 1, 2, 3, 0], [3, 3, 2, 1, 0]], "int64")
    out = evaluate(call, {x: data, i: idx})
    expected = np.stack([data[b][:, idx[b]] for b in range(2)])
    np.testing.assert_array_equal(out, expected)
    with pytest.raises(DiagnosticError, match="batch_dims"):
        infer(relay.take(x, i, axis=0, batch_dims=1))


@pytest.mark.spec("OP-12")
@pytest.mark.parametrize(
    ("begin", "end", "strides", "axes", "mode", "index"),
    [
        ((1,), (3,), None, None, "end", np.s_[1:3]),
        ((0, 1), (4, -1), (2,), None, "end", np.s_[0:4:2, 1:-1]),
        ((-1,), (-5,), (-1,), None, "end", np.s_[::-1]),
        ((3,), (0,), (-2,), None, "end", np.s_[3:0:-2]),
        ((1,), (2,), None, (1,), "end", np.s_[:, 1:2]),
        ((1, 0), (2, -1), None, None, "size", np.s_[1:3, 0:]),
        ((None, 2), (None, 100), None, None, "end", np.s_[:, 2:]),
        ((-100,), (100,), None, None, "end", np.s_[:]),
    ],
)
def test_strided_slice(
    begin: tuple[int | None, ...],
    end: tuple[int | None, ...],
    strides: tuple[int, ...] | None,
    axes: tuple[int, ...] | None,
    mode: str,
    index: slice | tuple[slice, ...],
) -> None:
    x = _x((4, 5))
    data = _data((4, 5))
    call = relay.strided_slice(x, begin, end, strides, axes, mode)
    expected = data[index]
    assert infer(call) == tt(expected.shape)
    np.testing.assert_array_equal(evaluate(call, {x: data}), expected)


@pytest.mark.spec("OP-12")
def test_strided_slice_rejects() -> None:
    x = _x((4, 5))
    with pytest.raises(DiagnosticError, match="negative range"):
        infer(relay.strided_slice(x, (3,), (1,)))
    with pytest.raises(DiagnosticError, match="nonzero"):
        infer(relay.strided_slice(x, (0,), (1,), (0,)))
    with pytest.raises(DiagnosticError, match="one entry per sliced axis"):
        infer(relay.strided_slice(x, (0, 0, 0), (1, 1, 1)))
    with pytest.raises(DiagnosticError, match="slice_mode"):
        infer(relay.strided_slice(x, (0,), (1,), slice_mode="begin"))
    assert Op.get("strided_slice").definition.pattern == OpPattern.INJECTIVE


@pytest.mark.spec("OP-26")
def test_creation_ops() -> None:
    z = relay.zeros((2, 3), "int8")
    assert z.args == ()
    assert infer(z) == tt((2, 3), "int8")
    assert evaluate(z).tolist() == [[0, 0, 0]] * 2
    assert evaluate(relay.ones(4, "float32")).tolist() == [1.0] * 4
    f = relay.full(relay.const(2.7), (2,), "int32")
    assert infer(f) == tt((2,), "int32")
    assert evaluate(f).tolist() == [2, 2]
    assert infer(relay.full(relay.const(1.5), (3,))) == tt((3,))
    with pytest.raises(DiagnosticError, match="fill_value must be a scalar"):
        infer(relay.full(relay.const([1.0, 2.0]), (3,)))
    x = _x((2, 2), "int32")
    fl = relay.full_like(x, relay.const(7))
    assert evaluate(fl, {x: np.zeros((2, 2))}).tolist() == [[7, 7], [7, 7]]
    a = relay.arange(relay.const(1.0), relay.const(2.0), relay.const(0.25))
    assert len(a.args) == 3
    assert infer(a) == tt((4,))
    assert evaluate(a).tolist() == [1.0, 1.25, 1.5, 1.75]
    assert evaluate(relay.arange(5, dtype="int32")).tolist() == [0, 1, 2, 3, 4]
    assert infer(relay.arange(10, 0, -3, "int64")) == tt((4,), "int64")
    with pytest.raises(DiagnosticError, match="give no elements"):
        infer(relay.arange(3, 3))
    with pytest.raises(DiagnosticError, match="static shapes"):
        relay.arange(relay.var("n", shape=()))
    i = relay.var("i", shape=(3,), dtype="int32")
    oh = relay.one_hot(i, relay.const(1.0), relay.const(0.0), 4, -1, "float32")
    assert infer(oh) == tt((3, 4))
    np.testing.assert_array_equal(
        evaluate(oh, {i: [0, 3, 7]}), [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    )
    oh0 = relay.one_hot(i, relay.const(5), relay.const(-1), 2, 0, "int32")
    assert infer(oh0) == tt((2, 3), "int32")
    assert evaluate(oh0, {i: [1, 0, 1]}).tolist() == [[-1, 5, -1], [5, -1, 5]]
    patterns = {n: Op.get(n).definition.pattern for n in ("zeros", "full", "arange", "one_hot")}
    assert patterns == {
        "zeros": OpPattern.ELEMWISE,
        "full": OpPattern.ELEMWISE,
        "arange": OpPattern.OPAQUE,
        "one_hot": OpPattern.OUT_ELEMWISE_FUSABLE,
    }


@pytest.mark.spec("OP-27")
def test_stop_fusion() -> None:
    x = _x((2,))
    call = relay.annotation.stop_fusion(x)
    assert infer(call) == tt((2,))
    assert evaluate(call, {x: [1.0, 2.0]}).tolist() == [1.0, 2.0]
    pair = relay.annotation.stop_fusion(relay.Tuple([x, x]))
    assert infer(pair) == TupleType([tt((2,)), tt((2,))])
    assert [v.tolist() for v in evaluate(pair, {x: [1.0, 2.0]})] == [[1.0, 2.0], [1.0, 2.0]]
    d = Op.get("annotation.stop_fusion").definition
    assert (d.pattern, d.stateful) == (OpPattern.OPAQUE, False)
