"""FSA: FoldScaleAxis on TVM's cases (test_pass_fold_scale_axis.py, in simple layouts)."""

from __future__ import annotations

import numpy as np
import pytest
from typing_extensions import override

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass
from minitvm.relay import transform
from minitvm.relay.expr import Expr
from minitvm.relay.testing import count_ops, create_workload, run_opt_pass
from minitvm.relay.transform.fold_scale_axis_forward import ScaledExpr

RNG = np.random.default_rng(0)


def positive(*shape: int) -> np.ndarray:
    return RNG.uniform(0.5, 1, size=shape).astype("float32")


def typed(func: relay.Function) -> relay.Function:
    out = run_opt_pass(func, transform.InferType())
    assert isinstance(out, relay.Function)
    return out


def fold(func: relay.Function, opt: Pass) -> relay.Function:
    out = run_opt_pass(func, opt)
    assert isinstance(out, relay.Function)
    return out


def run(func: relay.Function, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    args = []
    for p in func.params:
        ty = p.checked_type
        assert isinstance(ty, relay.TensorType)
        args.append(rng.uniform(-1, 1, ty.shape).astype(ty.dtype))
    result = relay.create_executor("debug", mod=IRModule.from_expr(func)).evaluate()(*args)
    fields = list(result) if isinstance(result, tvm.runtime.container.ADT) else [result]
    out = []
    for f in fields:
        assert isinstance(f, tvm.nd.NDArray)
        out.append(f.numpy())
    return out


def check(before: relay.Function, expected: relay.Function, opt: Pass) -> None:
    """Structurally equal to TVM's expectation, and computing the same values."""
    typed_before = typed(before)
    folded = fold(typed_before, opt)
    tvm.ir.assert_structural_equal(folded, typed(expected))
    for got, want in zip(run(folded), run(typed_before), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def check_unchanged(before: relay.Function, opt: Pass) -> None:
    typed_before = typed(before)
    tvm.ir.assert_structural_equal(fold(typed_before, opt), typed_before)


def conv(x: Expr, w: Expr, **attrs: object) -> Expr:
    return relay.nn.conv2d(x, w, kernel_size=(3, 3), padding=(1, 1), **attrs)  # type: ignore[arg-type]


FORWARD = transform.ForwardFoldScaleAxis
BACKWARD = transform.BackwardFoldScaleAxis


@pytest.mark.spec("FSA-1")
def test_pass_info() -> None:
    for make, name in ((FORWARD, "ForwardFoldScaleAxis"), (BACKWARD, "BackwardFoldScaleAxis")):
        p = make()
        assert (p.info.name, p.info.opt_level, p.info.required) == (name, 3, ("InferType",))
        assert tvm.transform.get_pass(name).info.name == name
    seq = transform.FoldScaleAxis()
    assert isinstance(seq, tvm.transform.Sequential)
    assert seq.info.name == "FoldScaleAxis"
    assert [p.info.name for p in seq.passes] == [
        "BackwardFoldScaleAxis",
        "ForwardFoldScaleAxis",
        "FoldConstant",
    ]


@pytest.mark.spec("FSA-1")
def test_fold_bwd_simple_constant() -> None:
    """The Sequential at opt_level 3 folds a constant scale into bound parameters."""

    class Zeros(relay.testing.init.Initializer):
        @override
        def __call__(self, desc: str, arr: np.ndarray) -> None:
            arr[...] = 0

    def build(scale: bool) -> IRModule:
        data = relay.var("data", relay.TensorType((1, 3, 8, 8), "float32"))
        weight = relay.var("weight", shape=(16, 3, 3, 3))
        bias = relay.var("in_bias", shape=(16, 1, 1))
        y = relay.nn.relu(relay.add(conv(data, weight, channels=16), bias))
        if scale:
            y = relay.multiply(y, relay.const(2.0))
        mod, params = create_workload(relay.Function([data, weight, bias], y), Zeros())
        main = mod["main"]
        assert isinstance(main, relay.Function)
        mod["main"] = relay.build_module.bind_params_by_name(main, params)
        return mod

    seq = tvm.transform.Sequential([transform.InferType(), transform.FoldScaleAxis()])
    with tvm.transform.PassContext(opt_level=3):
        folded = seq(build(scale=True))
    tvm.ir.assert_structural_equal(folded, transform.InferType()(build(scale=False)))
    # At the default opt_level the folding passes are skipped: only FoldConstant runs.
    unfolded = seq(build(scale=True))
    main = unfolded["main"]
    assert isinstance(main, relay.Function)
    assert count_ops(main)["multiply"] == 1


def fwd_simple(x: relay.Var, w: relay.Var, b: relay.Var, s: Expr) -> relay.Function:
    y = relay.add(relay.nn.relu(relay.multiply(x, s)), b)
    return relay.Function([x, w, b], conv(y, w, channels=2))


@pytest.mark.spec("FSA-2")
def test_fold_fwd_simple() -> None:
    x = relay.var("x", shape=(2, 4, 10, 10))
    w = relay.var("weight", shape=(2, 4, 3, 3))
    b = relay.var("in_bias", shape=(4, 1, 1))
    scale = relay.const(positive(4, 1, 1))
    squeezed = relay.squeeze(scale, axis=[1, 2])
    y = relay.nn.relu(x)
    y = relay.add(y, relay.divide(b, relay.expand_dims(squeezed, axis=1, num_newaxis=2)))
    weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=2))
    expected = relay.Function([x, w, b], conv(y, weight, channels=2))
    check(fwd_simple(x, w, b, scale), expected, FORWARD())


@pytest.mark.spec("FSA-2")
def test_fold_fwd_dual_path() -> None:
    """The scale consumed by two depthwise convolutions in NHWC."""
    x = relay.var("x", shape=(2, 4, 10, 3))
    w = relay.var("weight", shape=(3, 3, 1, 3))
    b = relay.var("in_bias", shape=(3,))
    scale = relay.const(positive(3))
    nhwc = {"data_layout": "NHWC", "kernel_layout": "HWIO", "groups": 3, "channels": 3}
    y = relay.subtract(relay.nn.relu(relay.multiply(scale, x)), b)
    before = relay.Function([x, w, b], relay.add(conv(y, w, **nhwc), conv(y, w, **nhwc)))
    e = relay.subtract(relay.nn.relu(x), relay.divide(b, scale))
    e1 = conv(e, relay.multiply(w, scale), **nhwc)
    e2 = conv(e, relay.multiply(w, scale), **nhwc)
    check(before, relay.Function([x, w, b], relay.add(e1, e2)), FORWARD())


@pytest.mark.spec("FSA-2")
def test_fold_fwd_fail() -> None:
    """The scaled value is also added to the result: nothing can fold."""
    x = relay.var("x", shape=(2, 11, 10, 4))
    w = relay.var("weight", shape=(3, 3, 4, 4))
    nhwc = {"data_layout": "NHWC", "kernel_layout": "HWIO", "channels": 4}
    scaled = relay.multiply(x, relay.const(positive(4)))
    y = relay.add(conv(relay.nn.leaky_relu(scaled, alpha=0.1), w, **nhwc), scaled)
    check_unchanged(relay.Function([x, w], y), FORWARD())


@pytest.mark.spec("FSA-2")
@pytest.mark.parametrize("kind", ["variable", "negative"])
def test_fold_fwd_relu_fail(kind: str) -> None:
    """A scale that is not a non-negative constant cannot pass a relu."""
    x = relay.var("x", shape=(2, 11, 10, 4))
    w = relay.var("weight", shape=(3, 3, 4, 4))
    s = relay.var("in_scale", shape=(4,)) if kind == "variable" else relay.const(-positive(4))
    nhwc = {"data_layout": "NHWC", "kernel_layout": "HWIO", "channels": 4}
    scaled = relay.multiply(x, s)
    y = relay.add(conv(relay.nn.relu(scaled), w, **nhwc), scaled)
    check_unchanged(relay.Function(relay.analysis.free_vars(y), y), FORWARD())


@pytest.mark.spec("FSA-2")
def test_fold_fwd_let_fail() -> None:
    x = relay.var("x", shape=(2, 11, 10, 4))
    w = relay.var("weight", shape=(3, 3, 4, 4))
    b = relay.var("in_bias", shape=(4,))
    y = relay.add(relay.nn.relu(relay.multiply(x, relay.const(positive(4)))), b)
    bound = relay.Var("x_var")
    nhwc = {"data_layout": "NHWC", "kernel_layout": "HWIO", "channels": 4}
    body = relay.Let(bound, y, relay.add(conv(bound, w, **nhwc), y))
    check_unchanged(relay.Function([x, w, b], body), FORWARD())


@pytest.mark.spec("FSA-2")
def test_fold_fwd_negative_scale() -> None:
    """Without a relu on the way, a negative scale folds."""
    x = relay.var("x", shape=(2, 4, 10, 10))
    w = relay.var("weight", shape=(4, 4, 3, 3))
    scale = relay.const(-positive(4, 1, 1))
    before = relay.Function([x, w], conv(relay.multiply(x, scale), w, channels=4))
    squeezed = relay.squeeze(scale, axis=[1, 2])
    weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=2))
    check(before, relay.Function([x, w], conv(x, weight, channels=4)), FORWARD())


@pytest.mark.spec("FSA-2")
@pytest.mark.parametrize(("data_shape", "weight_shape"), [((2, 4), (3, 4)), ((3, 5), (4, 5))])
def test_fold_fwd_dense(data_shape: tuple[int, int], weight_shape: tuple[int, int]) -> None:
    x = relay.var("x", shape=data_shape)
    w = relay.var("weight", shape=weight_shape)
    b = relay.var("in_bias", shape=(data_shape[1],))
    scale = relay.const(positive(data_shape[1]))
    y = relay.add(relay.nn.relu(relay.multiply(x, scale)), b)
    before = relay.Function([x, w, b], relay.nn.dense(y, w))
    e = relay.add(relay.nn.relu(x), relay.divide(b, scale))
    expected = relay.Function([x, w, b], relay.nn.dense(e, relay.multiply(w, scale)))
    check(before, expected, FORWARD())


@pytest.mark.spec("FSA-2")
def test_fold_fwd_conv3d() -> None:
    x = relay.var("x", shape=(2, 4, 6, 6, 6))
    w = relay.var("weight", shape=(2, 4, 3, 3, 3))
    b = relay.var("in_bias", shape=(4, 1, 1, 1))
    scale = relay.const(positive(4, 1, 1, 1))

    def conv3d(data: Expr, weight: Expr) -> Expr:
        return relay.nn.conv3d(data, weight, channels=2, kernel_size=(3, 3, 3), padding=(1, 1, 1))

    y = relay.add(relay.nn.relu(relay.multiply(x, scale)), b)
    before = relay.Function([x, w, b], conv3d(y, w))
    squeezed = relay.squeeze(scale, axis=[1, 2, 3])
    e = relay.add(relay.nn.relu(x), relay.divide(b, relay.expand_dims(squeezed, 1, 3)))
    weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=3))
    check(before, relay.Function([x, w, b], conv3d(e, weight)), FORWARD())


@pytest.mark.spec("FSA-3")
def test_fold_bwd_simple() -> None:
    x = relay.var("x", shape=(2, 4, 10, 10))
    w = relay.var("weight", shape=(8, 4, 3, 3))
    b = relay.var("out_bias", shape=(8,))
    scale = relay.const(positive(8, 1, 1))
    bias = relay.expand_dims(b, axis=1, num_newaxis=2)
    y = relay.nn.relu(relay.add(conv(x, w, channels=8), bias))
    before = relay.Function([x, w, b], relay.multiply(y, scale))
    squeezed = relay.squeeze(scale, axis=[1, 2])
    weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=3))
    e = conv(x, weight, channels=8)
    e = relay.add(e, relay.multiply(bias, relay.expand_dims(squeezed, axis=1, num_newaxis=2)))
    check(before, relay.Function([x, w, b], relay.nn.relu(e)), BACKWARD())


@pytest.mark.spec("FSA-3")
def test_fold_bwd_dual_path() -> None:
    x = relay.var("x", shape=(2, 4, 10, 10))
    w = relay.var("weight", shape=(8, 4, 3, 3))
    scale = relay.const(positive(8, 1, 1))
    y1 = relay.nn.relu(conv(x, w, channels=8))
    y2 = relay.nn.relu(conv(x, w, channels=8))
    before = relay.Function([x, w], relay.multiply(relay.add(y1, y2), scale))
    squeezed = relay.squeeze(scale, axis=[1, 2])

    def folded() -> Expr:
        weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=3))
        return relay.nn.relu(conv(x, weight, channels=8))

    check(before, relay.Function([x, w], relay.add(folded(), folded())), BACKWARD())


@pytest.mark.spec("FSA-3")
def test_fold_bwd_dual_consumer() -> None:
    x = relay.var("x", shape=(2, 4, 10, 10))
    w = relay.var("weight", shape=(4, 4, 3, 3))
    scale = relay.const(positive(4, 1, 1))

    def layer(data: Expr) -> Expr:
        return relay.nn.relu(relay.multiply(conv(data, w, channels=4), scale))

    y0 = layer(x)
    before = relay.Function([x, w], relay.add(layer(y0), layer(y0)))

    def folded(data: Expr) -> Expr:
        squeezed = relay.squeeze(scale, axis=[1, 2])
        weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=3))
        return relay.nn.relu(conv(data, weight, channels=4))

    e0 = folded(x)
    check(before, relay.Function([x, w], relay.add(folded(e0), folded(e0))), BACKWARD())


@pytest.mark.spec("FSA-3")
def test_fold_bwd_fail() -> None:
    x = relay.var("x", shape=(4, 4, 10, 10))
    w = relay.var("weight", shape=(4, 4, 3, 3))
    scale = relay.const(positive(4, 1, 1))
    # The two paths scale different axes (the second convolution's output is CNHW).
    y1 = relay.nn.relu(conv(x, w, channels=4))
    y2 = relay.nn.relu(conv(x, w, channels=4, out_layout="CNHW"))
    fail1 = relay.Function([x, w], relay.multiply(relay.add(y1, y2), scale))
    check_unchanged(fail1, BACKWARD())
    # The convolution is also used by the relu: it cannot take the scale alone.
    c = conv(x, w, channels=4)
    fail2 = relay.Function([x, w], relay.add(relay.multiply(c, scale), relay.nn.relu(c)))
    check_unchanged(fail2, BACKWARD())


@pytest.mark.spec("FSA-3")
@pytest.mark.parametrize("kind", ["variable", "negative"])
def test_fold_bwd_relu_fail(kind: str) -> None:
    x = relay.var("x", shape=(4, 4, 10, 10))
    w = relay.var("weight", shape=(4, 4, 3, 3))
    if kind == "variable":
        scale: Expr = relay.var("in_scale", shape=(4, 1, 1))
    else:
        scale = relay.const(-positive(4, 1, 1))
    y = relay.multiply(relay.nn.relu(conv(x, w, channels=4)), scale)
    check_unchanged(relay.Function(relay.analysis.free_vars(y), y), BACKWARD())


@pytest.mark.spec("FSA-3")
def test_fold_bwd_negative_scale() -> None:
    x = relay.var("x", shape=(2, 4, 10, 10))
    w = relay.var("weight", shape=(8, 4, 3, 3))
    scale = relay.const(-positive(8, 1, 1))
    before = relay.Function([x, w], relay.multiply(conv(x, w, channels=8), scale))
    squeezed = relay.squeeze(scale, axis=[1, 2])
    weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=3))
    check(before, relay.Function([x, w], conv(x, weight, channels=8)), BACKWARD())


@pytest.mark.spec("FSA-3")
@pytest.mark.parametrize(("data_shape", "weight_shape"), [((2, 4), (3, 4)), ((3, 5), (4, 5))])
def test_fold_bwd_dense(data_shape: tuple[int, int], weight_shape: tuple[int, int]) -> None:
    x = relay.var("x", shape=data_shape)
    w = relay.var("weight", shape=weight_shape)
    b = relay.var("in_bias", shape=(weight_shape[0],))
    scale = relay.const(positive(weight_shape[0]))
    y = relay.nn.relu(relay.add(relay.nn.dense(x, w), b))
    before = relay.Function([x, w, b], relay.multiply(y, scale))
    weight = relay.multiply(w, relay.expand_dims(scale, axis=1))
    e = relay.add(relay.nn.dense(x, weight), relay.multiply(b, scale))
    check(before, relay.Function([x, w, b], relay.nn.relu(e)), BACKWARD())


@pytest.mark.spec("FSA-3")
def test_fold_bwd_bias_add() -> None:
    x = relay.var("x", shape=(2, 4, 10, 10))
    w = relay.var("weight", shape=(4, 4, 3, 3))
    b = relay.var("out_bias", shape=(4,))
    scale = relay.const(positive(4, 1, 1))
    y = relay.nn.relu(relay.nn.bias_add(conv(x, w, channels=4), b))
    before = relay.Function([x, w, b], relay.multiply(y, scale))
    squeezed = relay.squeeze(scale, axis=[1, 2])
    weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=3))
    e = relay.nn.bias_add(conv(x, weight, channels=4), relay.multiply(b, squeezed))
    check(before, relay.Function([x, w, b], relay.nn.relu(e)), BACKWARD())


@pytest.mark.spec("FSA-3")
def test_fold_bwd_conv3d() -> None:
    x = relay.var("x", shape=(2, 4, 6, 6, 6))
    w = relay.var("weight", shape=(8, 4, 3, 3, 3))
    b = relay.var("out_bias", shape=(8,))
    scale = relay.const(positive(8, 1, 1, 1))

    def conv3d(data: Expr, weight: Expr) -> Expr:
        return relay.nn.conv3d(data, weight, channels=8, kernel_size=(3, 3, 3), padding=(1, 1, 1))

    bias = relay.expand_dims(b, axis=1, num_newaxis=3)
    y = relay.nn.relu(relay.add(conv3d(x, w), bias))
    before = relay.Function([x, w, b], relay.multiply(y, scale))
    squeezed = relay.squeeze(scale, axis=[1, 2, 3])
    weight = relay.multiply(w, relay.expand_dims(squeezed, axis=1, num_newaxis=4))
    e = relay.add(conv3d(x, weight), relay.multiply(bias, relay.expand_dims(squeezed, 1, 3)))
    check(before, relay.Function([x, w, b], relay.nn.relu(e)), BACKWARD())


@pytest.mark.spec("FSA-4")
def test_scalar_and_single_element_scales() -> None:
    x = relay.var("x", shape=(2, 4, 6, 6))
    w = relay.var("weight", shape=(3, 4, 3, 3))
    # A scalar scale is expanded and repeated to one value per channel.
    before = relay.Function([x, w], conv(relay.multiply(x, relay.const(2.0)), w, channels=3))
    folded = fold(typed(before), FORWARD())
    assert count_ops(folded)["repeat"] == 1
    np.testing.assert_allclose(run(folded)[0], run(typed(before))[0], rtol=1e-5)
    # A one-element (1,) scale covers no channel axis: TVM would build an ill-typed program.
    single = relay.const(np.array([2.0], "float32"))
    check_unchanged(
        relay.Function([x, w], conv(relay.multiply(x, single), w, channels=3)), FORWARD()
    )


@pytest.mark.spec("FSA-4")
def test_conflicting_requests_leave_the_scale() -> None:
    # One consumer wants the channel axis 1 (NCHW), the other axis 3 (NHWC): the requests
    # intersect to no axis, and the multiply stays (TVM fails on the empty axis set).
    x = relay.var("x", shape=(1, 4, 6, 4))
    w1 = relay.var("w1", shape=(2, 4, 3, 3))
    w2 = relay.var("w2", shape=(3, 3, 4, 2))
    scaled = relay.multiply(x, relay.const(positive(4, 1, 1)))
    nhwc = {"data_layout": "NHWC", "kernel_layout": "HWIO", "channels": 2}
    y = relay.Tuple([conv(scaled, w1, channels=2), conv(scaled, w2, **nhwc)])
    check_unchanged(relay.Function([x, w1, w2], y), FORWARD())


@pytest.mark.spec("FSA-4")
def test_mixed_relu_requirements_in_a_sum() -> None:
    # (relu(conv1) + conv2) * s with s negative: the relu side needs s >= 0; TVM keeps only the
    # first operand's requirement and would fold s through the relu.
    x = relay.var("x", shape=(2, 4, 6, 6))
    w = relay.var("weight", shape=(4, 4, 3, 3))
    scale = relay.const(-positive(4, 1, 1))
    y = relay.add(conv(x, w, channels=4), relay.nn.relu(conv(x, w, channels=4)))
    before = relay.Function([x, w], relay.multiply(y, scale))
    check_unchanged(before, BACKWARD())


@pytest.mark.spec("FSA-4")
def test_dense_on_three_dimensional_input_folds_its_last_axis() -> None:
    x = relay.var("x", shape=(2, 3, 5))
    w = relay.var("weight", shape=(4, 5))
    scale = relay.const(positive(5))
    before = relay.Function([x, w], relay.nn.dense(relay.multiply(x, scale), w))
    expected = relay.Function([x, w], relay.nn.dense(x, relay.multiply(w, scale)))
    check(before, expected, FORWARD())
    out_scale = relay.const(positive(4))
    before = relay.Function([x, w], relay.multiply(relay.nn.dense(x, w), out_scale))
    weight = relay.multiply(w, relay.expand_dims(out_scale, axis=1))
    check(before, relay.Function([x, w], relay.nn.dense(x, weight)), BACKWARD())


@pytest.mark.spec("FSA-4")
def test_a_scaled_value_that_is_not_consumed_is_multiplied_back() -> None:
    # Where TVM would fail with "outstanding scale", the value is multiplied by its scale,
    # widened to the value's rank along its axes.
    scaled = ScaledExpr(relay.var("v", shape=(2, 3)), (1,), relay.var("s", shape=(3,)), (2, 3))
    realized = scaled.realize()
    assert isinstance(realized, relay.Call)
    assert realized.args[1] is scaled.scale


@pytest.mark.spec("FSA-5")
@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_deep_relu_chain(direction: str) -> None:
    depth = 100_000
    x = relay.var("x", shape=(1, 2, 4, 4))
    w = relay.var("weight", shape=(2, 2, 3, 3))
    scale = relay.const(positive(2, 1, 1))
    y: Expr
    if direction == "forward":
        y = relay.multiply(x, scale)
        for _ in range(depth):
            y = relay.nn.relu(y)
        y = conv(y, w, channels=2)
        opt = FORWARD()
    else:
        y = conv(x, w, channels=2)
        for _ in range(depth):
            y = relay.nn.relu(y)
        y = relay.multiply(y, scale)
        opt = BACKWARD()
    folded = fold(relay.Function([x, w], y), opt)
    ops = count_ops(folded)
    assert ops["nn.relu"] == depth
    assert ops["multiply"] == 1
    assert ops["squeeze"] == 1


@pytest.mark.spec("FSA-1")
def test_a_scale_behind_another_folds_on_the_next_run() -> None:
    x = relay.var("x", shape=(1, 2, 4, 4))
    w = relay.var("weight", shape=(2, 2, 3, 3))
    s1, s2 = relay.const(positive(2, 1, 1)), relay.const(positive(2, 1, 1))
    y = relay.multiply(relay.nn.relu(relay.multiply(conv(x, w, channels=2), s1)), s2)
    before = typed(relay.Function([x, w], y))
    once = fold(before, BACKWARD())
    twice = fold(once, BACKWARD())
    assert _op_name(once.body) == "multiply"  # s2 is still there, s1 is in the weight
    assert _op_name(twice.body) == "nn.relu"  # now both are
    assert count_ops(twice)["multiply"] == 2
    tvm.ir.assert_structural_equal(fold(twice, BACKWARD()), twice)
    np.testing.assert_allclose(run(twice)[0], run(before)[0], rtol=1e-4, atol=1e-5)


def _op_name(expr: Expr) -> str:
    assert isinstance(expr, relay.Call)
    assert isinstance(expr.op, tvm.ir.Op)
    return expr.op.name
