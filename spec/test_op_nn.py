"""OP: dense layers, activations, softmax, dropout and normalization."""

from __future__ import annotations

import numpy as np
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.type import TupleType
from spec.op_helpers import evaluate, infer, tt

RNG = np.random.default_rng(0)


def _rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype("float32")


@pytest.mark.spec("OP-16")
def test_dense_matmul_batch_matmul() -> None:
    x = relay.var("x", shape=(2, 3, 4))
    w = relay.var("w", shape=(5, 4))
    d = relay.nn.dense(x, w)
    assert infer(d) == tt((2, 3, 5))
    xv, wv = _rand(2, 3, 4), _rand(5, 4)
    expected = np.einsum("abk,nk->abn", xv.astype("float64"), wv.astype("float64"))
    np.testing.assert_allclose(evaluate(d, {x: xv, w: wv}), expected, rtol=1e-5)
    with pytest.raises(DiagnosticError, match=r"^nn.dense: reduction dimensions differ"):
        infer(relay.nn.dense(x, relay.var("w2", shape=(5, 3))))
    with pytest.raises(DiagnosticError, match="units=6"):
        infer(relay.nn.dense(x, w, units=6))

    xi = relay.var("xi", shape=(1, 2), dtype="int8")
    wi = relay.var("wi", shape=(1, 2), dtype="int8")
    di = relay.nn.dense(xi, wi, out_dtype="int32")
    assert infer(di) == tt((1, 1), "int32")
    assert evaluate(di, {xi: [[127, 127]], wi: [[127, 2]]}).tolist() == [[127 * 127 + 254]]
    wu = relay.var("wu", shape=(1, 2), dtype="uint8")
    assert infer(relay.nn.dense(xi, wu)) == tt((1, 1), "int8")  # the data's dtype, as in TVM
    mixed = relay.nn.dense(xi, wu, out_dtype="int32")
    assert evaluate(mixed, {xi: [[-3, 4]], wu: [[200, 1]]}).tolist() == [[-600 + 4]]

    a = relay.var("a", shape=(4, 3))
    b = relay.var("b", shape=(4, 5))
    m = relay.nn.matmul(a, b, transpose_a=True)
    assert isinstance(m.op, relay.op.op.Op)
    assert m.op.name == "nn.matmul"
    assert infer(m) == tt((3, 5))
    av, bv = _rand(4, 3), _rand(4, 5)
    np.testing.assert_allclose(evaluate(m, {a: av, b: bv}), av.T @ bv, rtol=1e-5)
    assert relay.nn.matmul(a, b, transpose_b=True).op is Op.get("nn.dense")

    p = relay.var("p", shape=(1, 3, 4))
    q = relay.var("q", shape=(2, 5, 4))
    bm = relay.nn.batch_matmul(p, q)
    assert infer(bm) == tt((2, 3, 5))
    pv, qv = _rand(1, 3, 4), _rand(2, 5, 4)
    expected = np.einsum("ik,bjk->bij", pv[0].astype("float64"), qv.astype("float64"))
    np.testing.assert_allclose(evaluate(bm, {p: pv, q: qv}), expected, rtol=1e-5)
    with pytest.raises(DiagnosticError, match="batch dimensions differ"):
        infer(relay.nn.batch_matmul(q, relay.var("r", shape=(3, 5, 4))))
    for name in ("nn.dense", "nn.matmul", "nn.batch_matmul"):
        assert Op.get(name).definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.spec("OP-17")
def test_bias_add_and_activations() -> None:
    x = relay.var("x", shape=(2, 3, 2))
    bias = relay.var("b", shape=(3,))
    ba = relay.nn.bias_add(x, bias)
    assert infer(ba) == tt((2, 3, 2))
    xv = _rand(2, 3, 2)
    out = evaluate(ba, {x: xv, bias: [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(out, xv + np.array([1.0, 2.0, 3.0])[None, :, None], rtol=1e-6)
    assert infer(relay.nn.bias_add(x, relay.var("b2", shape=(2,)), axis=-1)) == tt((2, 3, 2))
    with pytest.raises(DiagnosticError, match=r"^nn.bias_add: bias must be"):
        infer(relay.nn.bias_add(x, relay.var("b3", shape=(2,))))
    with pytest.raises(DiagnosticError, match="out of range"):
        infer(relay.nn.bias_add(x, bias, axis=3))
    assert Op.get("nn.bias_add").definition.pattern == OpPattern.BROADCAST

    v = relay.var("v", shape=(4,))
    vals = [-2.0, -0.5, 0.0, 3.0]
    assert evaluate(relay.nn.relu(v), {v: vals}).tolist() == [0.0, 0.0, 0.0, 3.0]
    vi = relay.var("vi", shape=(2,), dtype="int32")
    assert evaluate(relay.nn.relu(vi), {vi: [-3, 4]}).tolist() == [0, 4]
    lr = relay.nn.leaky_relu(v, alpha=0.5)
    assert evaluate(lr, {v: vals}).tolist() == [-1.0, -0.25, 0.0, 3.0]
    slope = relay.var("s", shape=(3,))
    pr = relay.nn.prelu(x, slope)
    sv = np.array([0.1, 0.2, 0.3], "float32")
    expected = np.where(xv < 0, xv * sv[None, :, None], xv)
    np.testing.assert_allclose(evaluate(pr, {x: xv, slope: sv}), expected, rtol=1e-6)
    with pytest.raises(DiagnosticError, match="alpha must be"):
        infer(relay.nn.prelu(x, relay.var("s2", shape=(2,))))
    assert Op.get("nn.relu").definition.pattern == OpPattern.ELEMWISE
    assert Op.get("nn.leaky_relu").definition.pattern == OpPattern.ELEMWISE
    assert Op.get("nn.prelu").definition.pattern == OpPattern.BROADCAST


@pytest.mark.spec("OP-18")
def test_softmax_family() -> None:
    x = relay.var("x", shape=(2, 3))
    xv = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 1000.0]], "float32")
    sm = relay.nn.softmax(x)
    assert infer(sm) == tt((2, 3))
    e = np.exp([1.0, 2.0, 3.0])
    out = evaluate(sm, {x: xv})
    np.testing.assert_allclose(out[0], e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(out[1], [1 / 3] * 3, rtol=1e-6)
    ls = evaluate(relay.nn.log_softmax(x, axis=0), {x: xv})
    np.testing.assert_allclose(ls[:, 0], [-999.0, 0.0], atol=1e-4)
    np.testing.assert_allclose(evaluate(relay.nn.fast_softmax(x), {x: xv}), out, rtol=1e-6)
    with pytest.raises(DiagnosticError, match=r"^nn.softmax: axis 2 is out of range"):
        infer(relay.nn.softmax(x, axis=2))
    with pytest.raises(DiagnosticError, match="numeric"):
        infer(relay.nn.softmax(relay.var("b", shape=(2,), dtype="bool")))
    xi = relay.var("xi", shape=(2,), dtype="int32")
    assert evaluate(relay.nn.softmax(xi), {xi: [0, 1]}).tolist() == [0, 0]  # 0.27, 0.73 truncated
    for name in ("nn.softmax", "nn.fast_softmax", "nn.log_softmax"):
        assert Op.get(name).definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.spec("OP-19")
def test_dropout() -> None:
    x = relay.var("x", shape=(2, 2))
    out = relay.nn.dropout(x, rate=0.3)
    assert isinstance(out, relay.TupleGetItem)
    assert out.index == 0
    raw = out.tuple_value
    assert isinstance(raw, relay.Call)
    assert raw.attrs == relay.op.op_attrs.DropoutAttrs(0.3)
    assert infer(raw) == TupleType([tt((2, 2)), tt((2, 2))])
    xv = _rand(2, 2)
    value, mask = evaluate(raw, {x: xv})
    np.testing.assert_array_equal(value, xv)
    np.testing.assert_array_equal(mask, np.ones((2, 2)))
    d = Op.get("nn.dropout").definition
    assert (d.stateful, d.pattern) == (True, OpPattern.OPAQUE)
    with pytest.raises(DiagnosticError, match="rate"):
        infer(relay.nn.dropout_raw(x, rate=1.5))


@pytest.mark.spec("OP-20")
def test_batch_norm() -> None:
    x = relay.var("x", shape=(2, 3, 2))
    gamma, beta, mean, var = params = [
        relay.var(n, shape=(3,)) for n in ("gamma", "beta", "mean", "var")
    ]
    bn = relay.nn.batch_norm(x, gamma, beta, mean, var, epsilon=1e-3)
    assert isinstance(bn, relay.TupleWrapper)
    assert len(bn) == 3
    vec = tt((3,))
    assert infer(bn) == TupleType([tt((2, 3, 2)), vec, vec])
    xv = _rand(2, 3, 2)
    g, b, m, v = (np.array(a, "float32") for a in ([1, 2, 3], [0, 1, -1], [0.5, 0, 1], [1, 4, 9]))
    env = {x: xv, **dict(zip(params, (g, b, m, v), strict=True))}
    out, mm, mv = evaluate(bn, env)
    col = (slice(None), None)
    expected = (xv - m[col]) / np.sqrt(v[col] + 1e-3) * g[col] + b[col]
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    np.testing.assert_array_equal(mm, m)
    np.testing.assert_array_equal(mv, v)
    plain = relay.nn.batch_norm(x, gamma, beta, mean, var, axis=-2, center=False, scale=False)
    np.testing.assert_allclose(
        evaluate(plain[0], env), (xv - m[col]) / np.sqrt(v[col] + 1e-5), rtol=1e-5
    )
    with pytest.raises(DiagnosticError, match=r"^nn.batch_norm: moving_var must be"):
        infer(relay.nn.batch_norm(x, gamma, beta, mean, relay.var("bad", shape=(2,))))
    assert Op.get("nn.batch_norm").definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


def _norm(x: np.ndarray, axes: tuple[int, ...], eps: float) -> np.ndarray:
    x64 = x.astype("float64")
    mean = x64.mean(axis=axes, keepdims=True)
    var = x64.var(axis=axes, keepdims=True)
    return np.asarray((x64 - mean) / np.sqrt(var + eps))


@pytest.mark.spec("OP-21")
def test_layer_instance_group_norm() -> None:
    x = relay.var("x", shape=(2, 4, 3))
    xv = _rand(2, 4, 3)
    g4, b4 = relay.var("g", shape=(4,)), relay.var("b", shape=(4,))
    g3, b3 = relay.var("g3", shape=(3,)), relay.var("b3", shape=(3,))
    gv4 = np.array([1.0, 2.0, 0.5, -1.0], "float32")
    bv4 = np.array([0.0, 1.0, 2.0, 3.0], "float32")
    gv3 = np.array([1.0, 2.0, 3.0], "float32")
    env = {x: xv, g4: gv4, b4: bv4, g3: gv3, b3: np.zeros(3, "float32")}
    ln = relay.nn.layer_norm(x, g3, b3)
    assert infer(ln) == tt((2, 4, 3))
    np.testing.assert_allclose(evaluate(ln, env), _norm(xv, (2,), 1e-5) * gv3, atol=1e-4)
    inn = relay.nn.instance_norm(x, g4, b4)
    expected = _norm(xv, (2,), 1e-5) * gv4[:, None] + bv4[:, None]
    np.testing.assert_allclose(evaluate(inn, env), expected, atol=1e-4)
    gn = relay.nn.group_norm(x, g4, b4, num_groups=2, scale=False)
    grouped = _norm(xv.reshape(2, 2, 2, 3), (2, 3), 1e-5).reshape(2, 4, 3)
    np.testing.assert_allclose(evaluate(gn, env), grouped + bv4[:, None], atol=1e-4)
    # Channels on axis 2: each (batch, row) is normalized over its group of channels; the
    # rows (axis 1, between the batch and the channels) are not reduced, as in TVM.
    gl = relay.nn.group_norm(x, g3, b3, num_groups=1, axis=2, scale=False, center=False)
    np.testing.assert_allclose(evaluate(gl, env), _norm(xv, (2,), 1e-5), atol=1e-4)
    with pytest.raises(DiagnosticError, match="num_groups"):
        infer(relay.nn.group_norm(x, g4, b4, num_groups=3))
    with pytest.raises(DiagnosticError, match=r"^nn.layer_norm: gamma must be"):
        infer(relay.nn.layer_norm(x, g4, b4))
    with pytest.raises(DiagnosticError, match="rank >= 3"):
        infer(relay.nn.instance_norm(relay.var("y", shape=(4, 3)), g3, b3, axis=1))
    for name in ("nn.layer_norm", "nn.instance_norm", "nn.group_norm", "nn.lrn"):
        assert Op.get(name).definition.pattern == OpPattern.OPAQUE


@pytest.mark.spec("OP-21")
def test_lrn() -> None:
    x = relay.var("x", shape=(1, 4, 1, 1))
    xv = np.array([1.0, 2.0, 3.0, 4.0], "float32").reshape(1, 4, 1, 1)
    call = relay.nn.lrn(x, size=3, axis=1, bias=1.0, alpha=0.3, beta=0.5)
    sq = [1.0, 4.0, 9.0, 16.0]
    windows = [sq[0] + sq[1], sq[0] + sq[1] + sq[2], sq[1] + sq[2] + sq[3], sq[2] + sq[3]]
    expected = [v / (1.0 + 0.3 / 3 * w) ** 0.5 for v, w in zip([1, 2, 3, 4], windows, strict=True)]
    np.testing.assert_allclose(evaluate(call, {x: xv}).reshape(-1), expected, rtol=1e-6)
    with pytest.raises(DiagnosticError, match="odd"):
        infer(relay.nn.lrn(x, size=2))


@pytest.mark.spec("OP-21")
def test_lrn_over_an_empty_axis() -> None:
    x = relay.var("x", shape=(2, 0, 3))
    call = relay.nn.lrn(x, size=3, axis=1)
    assert infer(call) == tt((2, 0, 3))
    assert evaluate(call, {x: np.zeros((2, 0, 3), "float32")}).shape == (2, 0, 3)
