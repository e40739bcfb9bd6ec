"""COMBINE: CombineParallelDense and CombineParallelConv2D on TVM's cases
(test_pass_combine_parallel_dense.py, test_pass_combine_parallel_conv2d.py)."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass
from minitvm.relay import transform
from minitvm.relay.expr import Expr
from minitvm.relay.testing import count_ops, run_opt_pass


def check(before: relay.Function, expected: relay.Function, opt_pass: Pass) -> None:
    actual = run_opt_pass(before, opt_pass)
    want = run_opt_pass(expected, transform.InferType())
    tvm.ir.assert_structural_equal(actual, want, map_free_vars=True)


def check_unchanged(before: relay.Function, opt_pass: Pass) -> None:
    check(before, before, opt_pass)


def values(func: relay.Function, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    args = []
    for p in func.params:
        ty = p.type_annotation
        assert isinstance(ty, relay.TensorType)
        args.append(rng.uniform(-1, 1, ty.shape).astype(ty.dtype))
    result = relay.create_executor("debug", mod=IRModule.from_expr(func)).evaluate()(*args)
    fields = list(result) if isinstance(result, tvm.runtime.container.ADT) else [result]
    arrays = []
    for f in fields:
        assert isinstance(f, tvm.nd.NDArray)
        arrays.append(f.numpy())
    return arrays


def check_values(before: relay.Function, opt_pass: Pass) -> None:
    after = run_opt_pass(before, opt_pass)
    assert isinstance(after, relay.Function)
    for got, want in zip(values(after), values(before), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def dense_pass(min_num_branches: int = 2, to_batch: bool = True) -> Pass:
    return transform.CombineParallelDense(min_num_branches=min_num_branches, to_batch=to_batch)


@pytest.mark.spec("COMBINE-1")
def test_pass_info() -> None:
    dense = transform.CombineParallelDense()
    assert (dense.info.name, dense.info.opt_level, dense.info.required) == (
        "CombineParallelDense",
        4,
        ("InferType",),
    )
    conv = transform.CombineParallelConv2D()
    assert (conv.info.name, conv.info.opt_level) == ("CombineParallelConv2d", 4)
    assert tvm.transform.get_pass("CombineParallelConv2d").info.name == "CombineParallelConv2d"
    assert tvm.transform.get_pass("CombineParallelDense").info.name == "CombineParallelDense"


@pytest.mark.spec("COMBINE-1")
def test_min_num_branches_and_untyped_input() -> None:
    x = relay.var("x", shape=(3, 4))
    ws = [relay.var(f"w{i}", shape=(5, 4)) for i in range(2)]
    before = relay.Function([x, *ws], relay.Tuple([relay.nn.dense(x, w) for w in ws]))
    check_unchanged(before, transform.CombineParallelDense())  # 2 < 3
    mod = IRModule.from_expr(before)
    text = mod.astext()
    out = dense_pass()(mod)
    assert mod.astext() == text
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert count_ops(main)["nn.batch_matmul"] == 1


@pytest.mark.spec("COMBINE-2")
@pytest.mark.parametrize(("i", "j", "k"), [(3, 5, 4), (10, 20, 30)])
def test_combine_parallel_dense(i: int, j: int, k: int) -> None:
    x = relay.var("x", shape=(i, k))
    w1, w2, w4 = (relay.var(f"w{n}", shape=(j, k)) for n in (1, 2, 4))
    w3 = relay.var("w3", shape=(j + 1, k))
    args = [x, w1, w2, w3, w4]
    before = relay.Function(args, relay.Tuple([relay.nn.dense(x, w) for w in (w1, w2, w3, w4)]))
    y = relay.nn.batch_matmul(relay.stack((x, x, x), axis=0), relay.stack((w1, w2, w4), axis=0))
    y1, y2, y4 = (relay.squeeze(part, [0]) for part in relay.split(y, 3))
    expected = relay.Function(args, relay.Tuple((y1, y2, relay.nn.dense(x, w3), y4)))
    check(before, expected, dense_pass())
    check_values(before, dense_pass())


@pytest.mark.spec("COMBINE-2")
@pytest.mark.parametrize("is_2d_bias", [False, True])
def test_combine_parallel_dense_biasadd(is_2d_bias: bool) -> None:
    i, j, k = 3, 5, 4
    x = relay.var("x", shape=(i, k))
    w1, w2 = relay.var("w1", shape=(j, k)), relay.var("w2", shape=(j, k))
    bias_shape = (i, j) if is_2d_bias else (j,)
    b1, b2 = relay.var("b1", shape=bias_shape), relay.var("b2", shape=bias_shape)
    args = [x, w1, w2, b1, b2]
    y1 = relay.add(relay.nn.dense(x, w1), b1)
    y2 = relay.add(relay.nn.dense(x, w2), b2)
    before = relay.Function(args, relay.Tuple((y1, y2)))
    y = relay.nn.batch_matmul(relay.stack((x, x), axis=0), relay.stack((w1, w2), axis=0))
    e1, e2 = (b1, b2) if is_2d_bias else (relay.expand_dims(b1, 0), relay.expand_dims(b2, 0))
    y = relay.add(y, relay.stack((e1, e2), axis=0))
    parts = relay.split(y, 2)
    expected = relay.Function(args, relay.Tuple([relay.squeeze(p, [0]) for p in parts]))
    check(before, expected, dense_pass())
    check_values(before, dense_pass())


@pytest.mark.spec("COMBINE-2")
def test_combine_parallel_dense_biasadd_scale_reshape() -> None:
    i, j, k = 3, 5, 4
    x = relay.var("x", shape=(i, k))
    w1, w2 = relay.var("w1", shape=(j, k)), relay.var("w2", shape=(j, k))
    b1, b2 = relay.var("b1", shape=(j,)), relay.var("b2", shape=(j,))
    s1, s2 = relay.var("scale1", shape=(1,)), relay.var("scale2", shape=(1,))
    args = [x, w1, w2, b1, b2, s1, s2]
    branches = [
        relay.reshape(relay.multiply(relay.add(relay.nn.dense(x, w), b), s), (1, 1, 15))
        for w, b, s in ((w1, b1, s1), (w2, b2, s2))
    ]
    before = relay.Function(args, relay.Tuple(branches))
    y = relay.nn.batch_matmul(relay.stack((x, x), axis=0), relay.stack((w1, w2), axis=0))
    y = relay.add(y, relay.stack((relay.expand_dims(b1, 0), relay.expand_dims(b2, 0)), axis=0))
    scale = relay.stack((relay.expand_dims(s1, 0), relay.expand_dims(s2, 0)), axis=0)
    y = relay.multiply(y, scale)
    outs = [relay.reshape(relay.squeeze(p, [0]), (1, 1, 15)) for p in relay.split(y, 2)]
    check(before, relay.Function(args, relay.Tuple(outs)), dense_pass())
    check_values(before, dense_pass())


@pytest.mark.spec("COMBINE-2")
def test_batch_combining_deviations_from_tvm() -> None:
    # A 3-d input cannot go through a 3-d batch_matmul stacked: not combined.
    x3 = relay.var("x3", shape=(2, 3, 4))
    ws = [relay.var(f"w{n}", shape=(5, 4)) for n in range(3)]
    check_unchanged(
        relay.Function([x3, *ws], relay.Tuple([relay.nn.dense(x3, w) for w in ws])),
        dense_pass(),
    )
    # A scalar operand of a follower is stacked as (1, 1) per branch, and out_dtype is kept.
    x = relay.var("x", shape=(3, 4))
    outs = [
        relay.add(relay.nn.dense(x, w, out_dtype="float64"), relay.const(float(n), "float64"))
        for n, w in enumerate(ws)
    ]
    before = relay.Function([x, *ws], relay.Tuple(outs))
    after = run_opt_pass(before, dense_pass())
    assert count_ops(after)["nn.batch_matmul"] == 1
    assert count_ops(after)["add"] == 1
    check_values(before, dense_pass())
    # expand_dims would move the stacked axis: the branch ends before it.
    ex = [relay.expand_dims(relay.nn.dense(x, w), axis=1) for w in ws]
    after = run_opt_pass(relay.Function([x, *ws], relay.Tuple(ex)), dense_pass())
    assert count_ops(after)["expand_dims"] == 3
    check_values(relay.Function([x, *ws], relay.Tuple(ex)), dense_pass())


@pytest.mark.spec("COMBINE-3")
def test_combine_parallel_dense_flat() -> None:
    i, j, k = 3, 5, 4
    x = relay.var("x", shape=(i, k))
    w1, w2, w3 = (relay.var(f"w{n}", shape=(n * j, k)) for n in (1, 2, 3))
    args = [x, w1, w2, w3]
    before = relay.Function(args, relay.Tuple([relay.nn.dense(x, w) for w in (w1, w2, w3)]))
    y = relay.nn.dense(x, relay.concatenate((w1, w2, w3), axis=0), units=6 * j)

    def part(begin: int, size: int) -> Expr:
        return relay.strided_slice(y, [0, begin], [-1, size], [1, 1], slice_mode="size")

    expected = relay.Function(args, relay.Tuple((part(0, j), part(j, 2 * j), part(3 * j, 3 * j))))
    check(before, expected, dense_pass(3, to_batch=False))
    check_values(before, dense_pass(3, to_batch=False))


BIAS_SHAPES = [
    ((), ()),
    ((1,), (1,)),
    ((5,), (1,)),
    ((1,), (10,)),
    ((3, 1), (3, 1)),
    ((3, 5), (3, 10)),
    ((3, 1), (3, 10)),
    ((3, 5), (3, 1)),
    ((9, 3, 5), (9, 3, 10)),
    ((9, 3, 5), (9, 3, 1)),
    ((9, 3, 1), (9, 3, 10)),
]


@pytest.mark.spec("COMBINE-3")
@pytest.mark.parametrize(("shape1", "shape2"), BIAS_SHAPES)
def test_combine_parallel_dense_flat_biasadd(
    shape1: tuple[int, ...], shape2: tuple[int, ...]
) -> None:
    i, j, k = 3, 5, 4
    x = relay.var("x", shape=(i, k))
    w1, w2 = relay.var("w1", shape=(j, k)), relay.var("w2", shape=(2 * j, k))
    b1, b2 = relay.var("b1", shape=shape1), relay.var("b2", shape=shape2)
    args = [x, w1, w2, b1, b2]
    y1 = relay.add(relay.nn.dense(x, w1), b1)
    y2 = relay.add(relay.nn.dense(x, w2), b2)
    before = relay.Function(args, relay.Tuple((y1, y2)))

    y = relay.nn.dense(x, relay.concatenate((w1, w2), axis=0), units=3 * j)
    rank = max(len(shape1), 2)

    def widened(b: Expr, shape: tuple[int, ...], units: int) -> Expr:
        if not shape:
            return relay.repeat(relay.expand_dims(b, -1), units, 0)
        if shape[-1] == 1:
            return relay.repeat(b, units, len(shape) - 1)
        return b

    bias = relay.concatenate(
        (widened(b1, shape1, j), widened(b2, shape2, 2 * j)), axis=max(0, len(shape1) - 1)
    )
    y = relay.add(y, bias)
    head, tail = [0] * (rank - 1), [-1] * (rank - 1)
    ones = [1] * rank
    p1 = relay.strided_slice(y, [*head, 0], [*tail, j], ones, slice_mode="size")
    p2 = relay.strided_slice(y, [*head, j], [*tail, 2 * j], ones, slice_mode="size")
    check(before, relay.Function(args, relay.Tuple((p1, p2))), dense_pass(to_batch=False))
    check_values(before, dense_pass(to_batch=False))


@pytest.mark.spec("COMBINE-3")
def test_combine_parallel_dense_flat_biasadd_scale_reshape() -> None:
    i, j, k = 3, 5, 4
    x = relay.var("x", shape=(i, k))
    w1, w2 = relay.var("w1", shape=(j, k)), relay.var("w2", shape=(2 * j, k))
    b1, b2 = relay.var("b1", shape=(j,)), relay.var("b2", shape=(2 * j,))
    s1, s2 = relay.var("scale1", shape=(1,)), relay.var("scale2", shape=(1,))
    args = [x, w1, w2, b1, b2, s1, s2]
    y1 = relay.reshape(relay.multiply(relay.add(relay.nn.dense(x, w1), b1), s1), (1, 1, 15))
    y2 = relay.reshape(relay.multiply(relay.add(relay.nn.dense(x, w2), b2), s2), (1, 1, 30))
    before = relay.Function(args, relay.Tuple((y1, y2)))
    y = relay.nn.dense(x, relay.concatenate((w1, w2), axis=0), units=3 * j)
    y = relay.add(y, relay.concatenate((b1, b2), axis=0))
    scale = relay.concatenate((relay.repeat(s1, j, 0), relay.repeat(s2, 2 * j, 0)), axis=0)
    y = relay.multiply(y, scale)
    p1 = relay.strided_slice(y, [0, 0], [-1, j], [1, 1], slice_mode="size")
    p2 = relay.strided_slice(y, [0, j], [-1, 2 * j], [1, 1], slice_mode="size")
    expected = relay.Tuple((relay.reshape(p1, (1, 1, 15)), relay.reshape(p2, (1, 1, 30))))
    check(before, relay.Function(args, expected), dense_pass(to_batch=False))
    check_values(before, dense_pass(to_batch=False))


@pytest.mark.spec("COMBINE-3")
def test_combine_parallel_dense_expand_dims() -> None:
    x = relay.var("x", shape=(2, 32))
    w1, w2 = relay.var("w1", shape=(16, 32)), relay.var("w2", shape=(8, 32))
    y1 = relay.expand_dims(relay.nn.dense(x, w1), axis=2)
    y2 = relay.expand_dims(relay.nn.dense(x, w2), axis=2)
    before = relay.Function([x, w1, w2], relay.Tuple((y1, y2)))
    y = relay.nn.dense(x, relay.concatenate((w1, w2), axis=0), units=24)
    y = relay.expand_dims(y, axis=2)
    p1 = relay.strided_slice(y, [0, 0, 0], [-1, 16, -1], [1, 1, 1], slice_mode="size")
    p2 = relay.strided_slice(y, [0, 16, 0], [-1, 8, -1], [1, 1, 1], slice_mode="size")
    check(before, relay.Function([x, w1, w2], relay.Tuple((p1, p2))), dense_pass(to_batch=False))
    check_values(before, dense_pass(to_batch=False))


@pytest.mark.spec("COMBINE-3")
def test_channel_axis_is_tracked_not_searched() -> None:
    # The input has as many rows as the layers have units. expand_dims(axis=2) leaves the
    # units on axis 1, no longer the last one, so the add after it (whose operand would be
    # concatenated on its last axis, as TVM does) is not combined.
    x = relay.var("x", shape=(4, 3))
    ws = [relay.var(f"w{n}", shape=(4, 3)) for n in range(2)]
    rows = relay.var("rows", shape=(4, 1, 1))
    outs = [relay.add(relay.expand_dims(relay.nn.dense(x, w), axis=2), rows) for w in ws]
    before = relay.Function([x, rows, *ws], relay.Tuple(outs))
    after = run_opt_pass(before, dense_pass(to_batch=False))
    assert count_ops(after)["nn.dense"] == 1
    assert count_ops(after)["add"] == 2
    check_values(before, dense_pass(to_batch=False))


def _conv(x: Expr, w: Expr, **attrs: object) -> Expr:
    return relay.nn.conv2d(x, w, **attrs)  # type: ignore[arg-type]


@pytest.mark.spec("COMBINE-4")
@pytest.mark.parametrize("channels", [(4, 4, 4, 4), (4, 8, 4, 7)])
def test_combine_parallel_conv2d(channels: tuple[int, int, int, int]) -> None:
    c1, c2, c3, c4 = channels
    x = relay.var("x", shape=(1, 4, 8, 8))
    w1, w2, w4 = (relay.var(f"w{n}", shape=(c, 4, 1, 1)) for n, c in ((1, c1), (2, c2), (4, c4)))
    w3 = relay.var("w3", shape=(c3, 4, 3, 3))
    args = [x, w1, w2, w3, w4]
    convs = [_conv(x, w) for w in (w1, w2, w3, w4)]
    before = relay.Function(args, relay.Tuple([*convs, relay.nn.max_pool2d(x)]))
    y = _conv(x, relay.concatenate((w1, w2, w4), axis=0), channels=c1 + c2 + c4)

    def part(begin: int, size: int) -> Expr:
        return relay.strided_slice(y, [0, begin], [-1, size], [1, 1], slice_mode="size")

    expected = relay.Tuple(
        (part(0, c1), part(c1, c2), _conv(x, w3), part(c1 + c2, c4), relay.nn.max_pool2d(x))
    )
    opt = transform.CombineParallelConv2D(min_num_branches=2)
    check(before, relay.Function(args, expected), opt)
    check_values(before, opt)


@pytest.mark.spec("COMBINE-4")
def test_combine_parallel_conv2d_scale_relu() -> None:
    c1, c2 = 4, 8
    x = relay.var("x", shape=(1, 4, 8, 8))
    w1, w2 = relay.var("w1", shape=(c1, 4, 1, 1)), relay.var("w2", shape=(c2, 4, 1, 1))
    s1, s2 = relay.var("scale1", shape=(c1, 1, 1)), relay.var("scale2", shape=(c2, 1, 1))
    bias = relay.var("bias", shape=(c2, 1, 1))
    args = [x, w1, w2, s1, s2, bias]
    y1 = relay.nn.relu(relay.multiply(_conv(x, w1), s1))
    y2 = relay.add(relay.nn.relu(relay.multiply(_conv(x, w2), s2)), bias)
    before = relay.Function(args, relay.Tuple((y1, y2)))
    y = _conv(x, relay.concatenate((w1, w2), axis=0), channels=c1 + c2)
    y = relay.nn.relu(relay.multiply(y, relay.concatenate((s1, s2), axis=0)))
    p1 = relay.strided_slice(y, [0, 0], [-1, c1], [1, 1], slice_mode="size")
    p2 = relay.strided_slice(y, [0, c1], [-1, c2], [1, 1], slice_mode="size")
    expected = relay.Function(args, relay.Tuple((p1, relay.add(p2, bias))))
    opt = transform.CombineParallelConv2D(min_num_branches=2)
    check(before, expected, opt)
    check_values(before, opt)


@pytest.mark.spec("COMBINE-4")
def test_combine_parallel_conv2d_scale_not_combinable() -> None:
    c1, c2 = 4, 8
    x = relay.var("x", shape=(1, 4, 8, 8))
    w1, w2 = relay.var("w1", shape=(c1, 4, 1, 1)), relay.var("w2", shape=(c2, 4, 1, 1))
    s1, s2 = relay.var("scale1", shape=(1,)), relay.var("scale2", shape=(1,))
    args = [x, w1, w2, s1, s2]
    before = relay.Function(
        args, relay.Tuple((relay.multiply(_conv(x, w1), s1), relay.multiply(_conv(x, w2), s2)))
    )
    y = _conv(x, relay.concatenate((w1, w2), axis=0), channels=c1 + c2)
    p1 = relay.strided_slice(y, [0, 0], [-1, c1], [1, 1], slice_mode="size")
    p2 = relay.strided_slice(y, [0, c1], [-1, c2], [1, 1], slice_mode="size")
    expected = relay.Tuple((relay.multiply(p1, s1), relay.multiply(p2, s2)))
    check(before, relay.Function(args, expected), transform.CombineParallelConv2D(2))


@pytest.mark.spec("COMBINE-4")
def test_combine_parallel_conv2d_multiple_blocks() -> None:
    x = relay.var("x", shape=(1, 4, 8, 8))
    w = relay.var("w", shape=(2, 4, 1, 1))
    y: Expr = x
    for _ in range(4):
        y = relay.concatenate((_conv(y, w), _conv(y, w)), axis=1)
    before = relay.Function([x, w], y)
    e: Expr = x
    for _ in range(4):
        e = _conv(e, relay.concatenate((w, w), axis=0), channels=4)
        p1 = relay.strided_slice(e, [0, 0], [-1, 2], [1, 1], slice_mode="size")
        p2 = relay.strided_slice(e, [0, 2], [-1, 2], [1, 1], slice_mode="size")
        e = relay.concatenate((p1, p2), axis=1)
    check(before, relay.Function([x, w], e), transform.CombineParallelConv2D(2))
    check_values(before, transform.CombineParallelConv2D(2))


@pytest.mark.spec("COMBINE-4")
def test_conv2d_nhwc_and_unsupported_convolutions() -> None:
    x = relay.var("x", shape=(1, 6, 6, 4))
    ws = [relay.var(f"w{n}", shape=(1, 1, 4, 2 + n)) for n in range(3)]
    attrs = {"data_layout": "NHWC", "kernel_layout": "HWIO"}
    before = relay.Function([x, *ws], relay.Tuple([_conv(x, w, **attrs) for w in ws]))
    opt = transform.CombineParallelConv2D()
    after = run_opt_pass(before, opt)
    assert count_ops(after)["nn.conv2d"] == 1
    assert count_ops(after)["concatenate"] == 1
    check_values(before, opt)
    # Grouped convolutions are not combined, nor are different strides.
    g = [relay.var(f"g{n}", shape=(4, 2, 1, 1)) for n in range(3)]
    xc = relay.var("xc", shape=(1, 4, 6, 6))
    grouped = relay.Tuple([_conv(xc, w, groups=2) for w in g])
    check_unchanged(relay.Function([xc, *g], grouped), opt)
    h = [relay.var(f"h{n}", shape=(4, 4, 1, 1)) for n in range(3)]
    strided = relay.Tuple([_conv(xc, w, strides=(1 + n % 2, 1)) for n, w in enumerate(h)])
    check_unchanged(relay.Function([xc, *h], strided), opt)
    # A follower with attributes (bias_add) ends the branch.
    b = [relay.var(f"b{n}", shape=(4,)) for n in range(3)]
    biased = relay.Tuple([relay.nn.bias_add(_conv(xc, w), c) for w, c in zip(h, b, strict=True)])
    after = run_opt_pass(relay.Function([xc, *h, *b], biased), opt)
    assert count_ops(after)["nn.conv2d"] == 1
    assert count_ops(after)["nn.bias_add"] == 3


@pytest.mark.spec("COMBINE-5")
def test_deep_chain_and_shared_input() -> None:
    x = relay.var("x", shape=(2, 3))
    y: Expr = x
    for _ in range(100_000):
        y = relay.negative(y)
    func = relay.Function([x], y)
    for opt in (transform.CombineParallelDense(), transform.CombineParallelConv2D()):
        out = run_opt_pass(func, opt)
        assert count_ops(out)["negative"] == 100_000
