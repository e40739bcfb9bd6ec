"""OP: padding, upsampling, block rearrangements, the NLL loss and pooling gradients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.op import Op, OpPattern
from spec.op_helpers import evaluate, infer, tt

RNG = np.random.default_rng(2)


def _data(shape: tuple[int, ...]) -> np.ndarray:
    return np.arange(int(np.prod(shape))).reshape(shape).astype("float32")


@pytest.mark.spec("OP-34")
def test_pad_and_dilate() -> None:
    x = relay.var("x", shape=(2, 3))
    p = relay.nn.pad(x, ((1, 0), (0, 2)), pad_value=7.5)
    assert infer(p) == tt((3, 5))
    assert evaluate(p, {x: _data((2, 3))}).tolist() == [
        [7.5] * 5,
        [0, 1, 2, 7.5, 7.5],
        [3, 4, 5, 7.5, 7.5],
    ]
    e = relay.nn.pad(x, ((0, 0), (2, 1)), pad_mode="edge")
    assert evaluate(e, {x: _data((2, 3))})[0].tolist() == [0, 0, 0, 1, 2, 2]
    r = relay.nn.pad(x, ((0, 0), (2, 1)), pad_mode="reflect")
    assert evaluate(r, {x: _data((2, 3))})[0].tolist() == [2, 1, 0, 1, 2, 1]
    xi = relay.var("xi", shape=(2,), dtype="int8")
    assert evaluate(relay.nn.pad(xi, ((1, 1),)), {xi: [3, 4]}).tolist() == [0, 3, 4, 0]
    with pytest.raises(DiagnosticError, match=r"^nn.pad: pad_width must have 2"):
        infer(relay.nn.pad(x, ((1, 1),)))
    with pytest.raises(DiagnosticError, match="reflect padding"):
        infer(relay.nn.pad(x, ((0, 0), (3, 0)), pad_mode="reflect"))
    with pytest.raises(DiagnosticError, match=">= 0"):
        infer(relay.nn.pad(x, ((0, -1), (0, 0))))
    d = relay.nn.dilate(x, (2, 3), dilation_value=-1.0)
    assert infer(d) == tt((3, 7))
    out = evaluate(d, {x: _data((2, 3))})
    assert out[0].tolist() == [0, -1, -1, 1, -1, -1, 2]
    assert out[1].tolist() == [-1] * 7
    for name in ("nn.pad", "nn.dilate"):
        assert Op.get(name).definition.pattern == OpPattern.INJECTIVE


@pytest.mark.spec("OP-35")
def test_upsampling() -> None:
    x = relay.var("x", shape=(1, 1, 2, 3))
    data = _data((1, 1, 2, 3))
    nn_up = relay.nn.upsampling(x, 2, 3)
    assert infer(nn_up) == tt((1, 1, 4, 9))
    np.testing.assert_array_equal(
        evaluate(nn_up, {x: data}), data.repeat(2, axis=2).repeat(3, axis=3)
    )
    odd = relay.nn.upsampling(x, 1.5, 1.0)
    assert infer(odd) == tt((1, 1, 3, 3))  # round(2 * 1.5) = 3
    # floor(out * 2 / 3): rows 0, 0, 1
    assert evaluate(odd, {x: data})[0, 0, :, 0].tolist() == [0.0, 0.0, 3.0]
    bl = relay.nn.upsampling(x, 2, 2, method="bilinear", align_corners=True)
    out = evaluate(bl, {x: data})[0, 0]
    # align_corners: rows sample at out * 1/3, columns at out * 2/5 of a linear ramp.
    expected = [[3 * (r / 3) + 2 * c / 5 for c in range(6)] for r in range(4)]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    asym = relay.nn.upsampling(x, 2, 2, method="bilinear")
    got = evaluate(asym, {x: data})[0, 0]
    # asymmetric: src = out / 2, clamped at the last row and column.
    assert got[0].tolist() == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert got[:, 0].tolist() == [0.0, 1.5, 3.0, 3.0]
    const = relay.var("c", shape=(1, 2, 3, 3))
    cubic = relay.nn.upsampling(const, 2, 2, method="bicubic")
    np.testing.assert_allclose(evaluate(cubic, {const: np.full((1, 2, 3, 3), 4.0)}), 4.0)
    nhwc = relay.var("n", shape=(1, 2, 3, 1))
    assert infer(relay.nn.upsampling(nhwc, 2, 2, layout="NHWC")) == tt((1, 4, 6, 1))
    with pytest.raises(DiagnosticError, match="method"):
        infer(relay.nn.upsampling(x, 2, 2, method="linear"))
    with pytest.raises(DiagnosticError, match="layout"):
        infer(relay.nn.upsampling(x, 2, 2, layout="CHWN"))
    assert Op.get("nn.upsampling").definition.pattern == OpPattern.INJECTIVE


@pytest.mark.spec("OP-36")
def test_depth_space_rearrangements() -> None:
    x = relay.var("x", shape=(1, 8, 2, 3))
    data = _data((1, 8, 2, 3))
    b, cp = 2, 2
    for mode in ("DCR", "CRD"):
        call = relay.nn.depth_to_space(x, b, mode=mode)
        assert infer(call) == tt((1, 2, 4, 6))
        out = evaluate(call, {x: data})
        for c, h, w, i, j in itertools.product(range(cp), range(2), range(3), range(b), range(b)):
            src = (i * b + j) * cp + c if mode == "DCR" else c * b * b + i * b + j
            assert out[0, c, h * b + i, w * b + j] == data[0, src, h, w]
    y = relay.var("y", shape=(1, 2, 4, 6))
    s2d = relay.nn.space_to_depth(y, 2)
    assert infer(s2d) == tt((1, 8, 2, 3))
    back = evaluate(s2d, {y: evaluate(relay.nn.depth_to_space(x, 2), {x: data})})
    np.testing.assert_array_equal(back, data)
    with pytest.raises(DiagnosticError, match="divisible"):
        infer(relay.nn.depth_to_space(relay.var("z", shape=(1, 6, 2, 2)), 2))

    t = relay.var("t", shape=(1, 4, 4, 1))
    tdata = _data((1, 4, 4, 1))
    s2b = relay.nn.space_to_batch_nd(t, [2, 2], [[0, 0], [0, 0]])
    assert infer(s2b) == tt((4, 2, 2, 1))
    out = evaluate(s2b, {t: tdata})
    for i, j in itertools.product(range(2), range(2)):
        np.testing.assert_array_equal(out[i * 2 + j], tdata[0, i::2, j::2])
    padded = relay.nn.space_to_batch_nd(t, [3], [[1, 1]], pad_value=-1)
    assert infer(padded) == tt((3, 2, 4, 1))
    assert evaluate(padded, {t: tdata})[0, 0].reshape(-1).tolist() == [-1.0] * 4
    u = relay.var("u", shape=(4, 2, 2, 1))
    b2s = relay.nn.batch_to_space_nd(u, [2, 2], [[0, 0], [1, 0]])
    assert infer(b2s) == tt((1, 4, 3, 1))
    np.testing.assert_array_equal(evaluate(b2s, {u: out}), tdata[:, :, 1:])
    with pytest.raises(DiagnosticError, match="not divisible"):
        infer(relay.nn.space_to_batch_nd(t, [3, 3], [[0, 0], [0, 0]]))
    for name in ("nn.depth_to_space", "nn.space_to_depth", "nn.space_to_batch_nd"):
        assert Op.get(name).definition.pattern == OpPattern.INJECTIVE


@pytest.mark.spec("OP-37")
def test_nll_loss() -> None:
    pred = relay.var("p", shape=(3, 4))
    tgt = relay.var("t", shape=(3,), dtype="int32")
    wts = relay.var("w", shape=(4,))
    pv = RNG.standard_normal((3, 4)).astype("float32")
    tv = np.array([1, 3, -100], "int32")
    wv = np.array([1.0, 2.0, 3.0, 4.0], "float32")
    env = {pred: pv, tgt: tv, wts: wv}
    losses = [-pv[0, 1] * 2.0, -pv[1, 3] * 4.0, 0.0]
    none = relay.nn.nll_loss(pred, tgt, wts, reduction="none")
    assert infer(none) == tt((3,))
    np.testing.assert_allclose(evaluate(none, env), losses, rtol=1e-6)
    mean = relay.nn.nll_loss(pred, tgt, wts)
    assert infer(mean) == tt(())
    np.testing.assert_allclose(evaluate(mean, env), sum(losses) / 6.0, rtol=1e-6)
    total = relay.nn.nll_loss(pred, tgt, wts, reduction="sum")
    np.testing.assert_allclose(evaluate(total, env), sum(losses), rtol=1e-6)
    # An out-of-range target reads the clamped class (4 -> 3).
    clamped = evaluate(none, {**env, tgt: np.array([4, 0, -100], "int32")})
    np.testing.assert_allclose(clamped, [-pv[0, 3] * 4.0, -pv[1, 0] * 1.0, 0.0], rtol=1e-6)
    with pytest.raises(DiagnosticError, match="weights must be"):
        infer(relay.nn.nll_loss(pred, tgt, relay.var("w3", shape=(3,))))
    with pytest.raises(DiagnosticError, match="reduction"):
        infer(relay.nn.nll_loss(pred, tgt, wts, reduction="max"))
    assert Op.get("nn.nll_loss").definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.spec("OP-38")
def test_pool_gradients() -> None:
    x = relay.var("x", shape=(1, 1, 4, 5))
    xv = np.array(
        [[3, 1, 3, 0, 2], [0, 2, 1, 5, 5], [4, 4, 0, 1, 2], [1, 0, 2, 2, 9]], "float32"
    ).reshape(1, 1, 4, 5)
    pooled = infer(relay.nn.max_pool2d(x, (2, 2), (2, 2), padding=(0, 0, 0, 1)))
    assert pooled == tt((1, 1, 2, 3))
    g = relay.var("g", shape=(1, 1, 2, 3))
    gv = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "float32").reshape(1, 1, 2, 3)
    mg = relay.nn.max_pool2d_grad(g, x, (2, 2), (2, 2), (0, 0, 0, 1))
    assert infer(mg) == tt((1, 1, 4, 5))
    expected = np.zeros((4, 5), "float32")
    for i, j in itertools.product(range(2), range(3)):
        best, where = -np.inf, (0, 0)
        for a, b in itertools.product(range(2), range(2)):
            r, c = 2 * i + a, 2 * j + b
            if c < 5 and xv[0, 0, r, c] > best:
                best, where = xv[0, 0, r, c], (r, c)
        expected[where] += gv[0, 0, i, j]
    np.testing.assert_array_equal(evaluate(mg, {g: gv, x: xv})[0, 0], expected)

    ag = relay.nn.avg_pool2d_grad(g, x, (2, 2), (2, 2), (0, 0, 0, 1))
    expected_avg = np.zeros((4, 5), "float32")
    for i, j in itertools.product(range(2), range(3)):
        cells = [(2 * i + a, 2 * j + b) for a in range(2) for b in range(2) if 2 * j + b < 5]
        for cell in cells:
            expected_avg[cell] += gv[0, 0, i, j] / len(cells)
    np.testing.assert_allclose(evaluate(ag, {g: gv, x: xv})[0, 0], expected_avg, rtol=1e-6)
    with pytest.raises(DiagnosticError, match="pooled type"):
        infer(relay.nn.max_pool2d_grad(g, x, (2, 2), (1, 1)))
    for name in ("nn.max_pool2d_grad", "nn.avg_pool2d_grad"):
        assert Op.get(name).definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.spec("OP-38")
@pytest.mark.parametrize("shape", [(0, 2, 4, 4), (1, 0, 4, 4)])
def test_pool_gradients_of_empty_batches_and_channels(shape: tuple[int, ...]) -> None:
    x = relay.var("x", shape=shape)
    g = relay.var("g", shape=(*shape[:2], 2, 2))
    xv = np.zeros(shape, "float32")
    gv = np.zeros((*shape[:2], 2, 2), "float32")
    for grad in (relay.nn.max_pool2d_grad, relay.nn.avg_pool2d_grad):
        call = grad(g, x, (2, 2), (2, 2))
        assert infer(call) == tt(shape)
        assert evaluate(call, {g: gv, x: xv}).shape == shape
