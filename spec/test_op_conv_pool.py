"""OP: convolutions and pooling, checked against direct loop formulations on small shapes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.op import Op, OpPattern
from spec.op_helpers import evaluate, infer, tt

RNG = np.random.default_rng(1)


def _rand(*shape: int, dtype: str = "float32") -> np.ndarray:
    if dtype.startswith("int"):
        return RNG.integers(-5, 6, shape).astype(dtype)
    return RNG.standard_normal(shape).astype(dtype)


def _direct_conv(
    x: np.ndarray,
    w: np.ndarray,
    strides: tuple[int, ...],
    pads: list[tuple[int, int]],
    dilation: tuple[int, ...],
    groups: int,
) -> np.ndarray:
    """out[n, o, p...] = sum_{c, k...} xpad[n, g*Cg + c, p*s + k*d] * w[o, c, k...]."""
    d = len(strides)
    xp = np.pad(x.astype("float64"), [(0, 0), (0, 0), *pads])
    n = x.shape[0]
    o, cg = w.shape[:2]
    ks = w.shape[2:]
    out_sp = [(xp.shape[2 + i] - (ks[i] - 1) * dilation[i] - 1) // strides[i] + 1 for i in range(d)]
    out = np.zeros((n, o, *out_sp))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for pos in itertools.product(*[range(s) for s in out_sp]):
            for k in itertools.product(*[range(s) for s in ks]):
                idx = tuple(pos[i] * strides[i] + k[i] * dilation[i] for i in range(d))
                patch = xp[(slice(None), slice(g * cg, (g + 1) * cg), *idx)]  # type: ignore[arg-type]  # numpy index tuple
                weights = w[(oc, slice(None), *k)]  # type: ignore[arg-type]  # numpy index tuple
                out[(slice(None), oc, *pos)] += patch @ weights  # type: ignore[arg-type]  # numpy index tuple
    return out


@pytest.mark.spec("OP-22")
@pytest.mark.parametrize(
    ("groups", "strides", "padding", "dilation"),
    [
        (1, (1, 1), (0, 0), (1, 1)),
        (2, (2, 1), (1, 0, 2, 1), (1, 2)),
        (4, (1, 2), (1, 1), (2, 1)),
    ],
)
def test_conv2d_nchw_against_direct_sum(
    groups: int, strides: tuple[int, int], padding: tuple[int, ...], dilation: tuple[int, int]
) -> None:
    x = relay.var("x", shape=(2, 4, 7, 6))
    w = relay.var("w", shape=(8, 4 // groups, 3, 2))
    call = relay.nn.conv2d(x, w, strides, padding, dilation, groups, channels=8, kernel_size=(3, 2))
    xv, wv = _rand(2, 4, 7, 6), _rand(8, 4 // groups, 3, 2)
    pads4 = padding if len(padding) == 4 else (*padding, *padding)
    pads = [(pads4[0], pads4[2]), (pads4[1], pads4[3])]
    expected = _direct_conv(xv, wv, strides, pads, dilation, groups)
    assert infer(call) == tt(expected.shape)
    np.testing.assert_allclose(evaluate(call, {x: xv, w: wv}), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.spec("OP-22")
def test_conv2d_nhwc_hwio_int_and_attrs() -> None:
    x = relay.var("x", shape=(1, 5, 5, 2), dtype="int8")
    w = relay.var("w", shape=(3, 3, 2, 4), dtype="int8")
    call = relay.nn.conv2d(
        x, w, padding=1, data_layout="NHWC", kernel_layout="HWIO", out_dtype="int32"
    )
    assert call.attrs == relay.op.op_attrs.Conv2DAttrs(
        padding=(1, 1, 1, 1), data_layout="NHWC", kernel_layout="HWIO", out_dtype="int32"
    )
    assert infer(call) == tt((1, 5, 5, 4), "int32")
    xv, wv = _rand(1, 5, 5, 2, dtype="int8"), _rand(3, 3, 2, 4, dtype="int8")
    expected = _direct_conv(
        xv.transpose(0, 3, 1, 2), wv.transpose(3, 2, 0, 1), (1, 1), [(1, 1)] * 2, (1, 1), 1
    ).transpose(0, 2, 3, 1)
    out = evaluate(call, {x: xv, w: wv})
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, expected.astype("int32"))
    odd = relay.nn.conv2d(x, w, padding=(1, 2), data_layout="NHWC", kernel_layout="HWIO")
    assert isinstance(odd.attrs, relay.op.op_attrs.Conv2DAttrs)
    assert odd.attrs.padding == (1, 2, 1, 2)
    assert relay.nn.conv2d(x, w, kernel_size=3).attrs.kernel_size == (3, 3)  # type: ignore[union-attr]


@pytest.mark.spec("OP-22")
def test_conv_relation_rejections() -> None:
    x = relay.var("x", shape=(1, 4, 5, 5))
    w = relay.var("w", shape=(6, 4, 3, 3))
    with pytest.raises(DiagnosticError, match=r"^nn.conv2d: the input channels \(4\) divided"):
        infer(relay.nn.conv2d(x, relay.var("w2", shape=(6, 3, 3, 3))))
    with pytest.raises(DiagnosticError, match="groups=3 must divide"):
        infer(relay.nn.conv2d(x, w, groups=3))
    with pytest.raises(DiagnosticError, match="kernel_size"):
        infer(relay.nn.conv2d(x, w, kernel_size=(2, 2)))
    with pytest.raises(DiagnosticError, match="channels=5"):
        infer(relay.nn.conv2d(x, w, channels=5))
    with pytest.raises(DiagnosticError, match="larger than the padded input"):
        infer(relay.nn.conv2d(x, w, dilation=3))
    with pytest.raises(DiagnosticError, match="data_layout must be a permutation"):
        infer(relay.nn.conv2d(x, w, data_layout="NCHW4c"))
    with pytest.raises(DiagnosticError, match="rank 4"):
        infer(relay.nn.conv2d(relay.var("v", shape=(4, 5, 5)), w))
    for d in (1, 2, 3):
        for name in (f"nn.conv{d}d", f"nn.conv{d}d_transpose"):
            assert Op.get(name).definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.spec("OP-22")
def test_conv1d_and_conv3d() -> None:
    x1 = relay.var("x1", shape=(2, 3, 9))
    w1 = relay.var("w1", shape=(4, 3, 3))
    c1 = relay.nn.conv1d(x1, w1, strides=2, padding=1, dilation=2)
    xv, wv = _rand(2, 3, 9), _rand(4, 3, 3)
    expected = _direct_conv(xv, wv, (2,), [(1, 1)], (2,), 1)
    assert infer(c1) == tt(expected.shape)
    np.testing.assert_allclose(evaluate(c1, {x1: xv, w1: wv}), expected, rtol=1e-4, atol=1e-5)
    x3 = relay.var("x3", shape=(1, 2, 4, 3, 3))
    w3 = relay.var("w3", shape=(2, 1, 2, 2, 2))
    c3 = relay.nn.conv3d(x3, w3, padding=(1, 0, 0), groups=2)
    xv3, wv3 = _rand(1, 2, 4, 3, 3), _rand(2, 1, 2, 2, 2)
    expected3 = _direct_conv(xv3, wv3, (1, 1, 1), [(1, 1), (0, 0), (0, 0)], (1, 1, 1), 2)
    assert infer(c3) == tt(expected3.shape)
    np.testing.assert_allclose(evaluate(c3, {x3: xv3, w3: wv3}), expected3, rtol=1e-4, atol=1e-5)


def _direct_conv_transpose(
    x: np.ndarray,
    w: np.ndarray,
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    out_pad: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> np.ndarray:
    """Scatter each input element times the kernel, then crop the padding."""
    n, c, h, wd = x.shape
    og, kh, kw = w.shape[1:]
    full_h = (h - 1) * strides[0] + (kh - 1) * dilation[0] + 1 + out_pad[0]
    full_w = (wd - 1) * strides[1] + (kw - 1) * dilation[1] + 1 + out_pad[1]
    full = np.zeros((n, og * groups, full_h, full_w))
    cg = c // groups
    for ci, i, j, a, b in itertools.product(range(c), range(h), range(wd), range(kh), range(kw)):
        g = ci // cg
        full[
            :,
            g * og : (g + 1) * og,
            i * strides[0] + a * dilation[0],
            j * strides[1] + b * dilation[1],
        ] += x[:, ci, i, j][:, None] * w[ci, :, a, b][None, :]
    return full[:, :, pads[0] : full_h - pads[2], pads[1] : full_w - pads[3]]


@pytest.mark.spec("OP-23")
def test_conv2d_transpose_against_scatter() -> None:
    x = relay.var("x", shape=(1, 4, 3, 4))
    w = relay.var("w", shape=(4, 3, 3, 2))
    call = relay.nn.conv2d_transpose(
        x,
        w,
        strides=(2, 3),
        padding=(1, 0, 0, 1),
        dilation=(2, 1),
        groups=2,
        output_padding=(1, 2),
    )
    xv, wv = _rand(1, 4, 3, 4), _rand(4, 3, 3, 2)
    expected = _direct_conv_transpose(xv, wv, (2, 3), (1, 0, 0, 1), (1, 2), (2, 1), 2)
    assert infer(call) == tt(expected.shape)
    assert expected.shape[1] == 6
    np.testing.assert_allclose(evaluate(call, {x: xv, w: wv}), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(DiagnosticError, match="output_padding"):
        infer(relay.nn.conv2d_transpose(x, w, strides=(1, 1), output_padding=(1, 0)))
    x1 = relay.var("x1", shape=(1, 2, 5))
    w1 = relay.var("w1", shape=(2, 3, 3))
    c1 = relay.nn.conv1d_transpose(x1, w1, strides=(2,), padding=(1,))
    assert infer(c1) == tt((1, 3, (5 - 1) * 2 + 3 - 2))


def _direct_pool(
    x: np.ndarray,
    k: tuple[int, int],
    s: tuple[int, int],
    pads: tuple[int, int, int, int],
    ceil_mode: bool,
    kind: str,
    include_pad: bool = False,
) -> np.ndarray:
    n, c, h, w = x.shape

    def extent(size: int, kk: int, st: int, total_pad: int) -> int:
        num = size + total_pad - kk + (st - 1 if ceil_mode else 0)
        return num // st + 1

    oh, ow = extent(h, k[0], s[0], pads[0] + pads[2]), extent(w, k[1], s[1], pads[1] + pads[3])
    out = np.zeros((n, c, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        rows = [i * s[0] - pads[0] + a for a in range(k[0])]
        cols = [j * s[1] - pads[1] + b for b in range(k[1])]
        vals = [x[:, :, r, q] for r in rows for q in cols if 0 <= r < h and 0 <= q < w]
        if kind == "max":
            out[:, :, i, j] = np.max(vals, axis=0)
        else:
            inside = sum(
                1
                for r in rows
                for q in cols
                if -pads[0] <= r < h + pads[2] and -pads[1] <= q < w + pads[3]
            )
            count = inside if include_pad else len(vals)
            out[:, :, i, j] = np.sum(vals, axis=0) / count
    return out


@pytest.mark.spec("OP-24")
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("include_pad", [False, True])
def test_pool2d_against_direct(ceil_mode: bool, include_pad: bool) -> None:
    x = relay.var("x", shape=(1, 2, 6, 7))
    xv = _rand(1, 2, 6, 7)
    mp = relay.nn.max_pool2d(x, (3, 2), (2, 2), padding=(1, 0, 0, 1), ceil_mode=ceil_mode)
    expected = _direct_pool(xv, (3, 2), (2, 2), (1, 0, 0, 1), ceil_mode, "max")
    assert infer(mp) == tt(expected.shape)
    np.testing.assert_allclose(evaluate(mp, {x: xv}), expected)
    ap = relay.nn.avg_pool2d(
        x,
        (3, 2),
        (2, 2),
        padding=(1, 0, 0, 1),
        ceil_mode=ceil_mode,
        count_include_pad=include_pad,
    )
    expected = _direct_pool(xv, (3, 2), (2, 2), (1, 0, 0, 1), ceil_mode, "avg", include_pad)
    np.testing.assert_allclose(evaluate(ap, {x: xv}), expected, rtol=1e-5)


@pytest.mark.spec("OP-24")
def test_avg_pool_divisor_follows_tvm_in_the_ceil_tail() -> None:
    # Extent 2, padding (1, 0), stride 3, ceil_mode: windows start at -1 and at 2; the
    # second lies wholly in the ceil tail. TVM counts it 0 with count_include_pad (0 / 0)
    # and floors the count at 1 without.
    x = relay.var("x", shape=(1, 1, 2))
    data = {x: [[[5.0, 7.0]]]}
    inc = relay.nn.avg_pool1d(x, 1, 3, padding=(1, 0), ceil_mode=True, count_include_pad=True)
    exc = relay.nn.avg_pool1d(x, 1, 3, padding=(1, 0), ceil_mode=True)
    assert infer(inc) == tt((1, 1, 2))
    out = evaluate(inc, data)[0, 0]
    assert out[0] == 0.0
    assert np.isnan(out[1])
    assert evaluate(exc, data)[0, 0].tolist() == [0.0, 0.0]
    xi = relay.var("xi", shape=(1, 1, 4), dtype="int32")
    avg = relay.nn.avg_pool1d(xi, 3, 1, padding=1)
    # Truncating integer division: -5 / 2 -> -2, (-5 + 1 + 2) / 3 -> 0, ...
    assert evaluate(avg, {xi: [[[-5, 1, 2, -9]]]}).tolist() == [[[-2, 0, -2, -3]]]


@pytest.mark.spec("OP-24")
def test_pool_layouts_dims_and_rejections() -> None:
    x = relay.var("x", shape=(1, 6, 7, 2))
    xv = _rand(1, 6, 7, 2)
    mp = relay.nn.max_pool2d(x, 2, 2, layout="NHWC")
    assert infer(mp) == tt((1, 3, 3, 2))
    expected = _direct_pool(xv.transpose(0, 3, 1, 2), (2, 2), (2, 2), (0, 0, 0, 0), False, "max")
    np.testing.assert_allclose(evaluate(mp, {x: xv}), expected.transpose(0, 2, 3, 1))
    x1 = relay.var("x1", shape=(1, 1, 5))
    p1 = relay.nn.avg_pool1d(x1, 2, 2, padding=1, count_include_pad=True)
    assert infer(p1) == tt((1, 1, 3))
    np.testing.assert_allclose(evaluate(p1, {x1: [[[1, 2, 3, 4, 5]]]}), [[[0.5, 2.5, 4.5]]])
    x3 = relay.var("x3", shape=(1, 1, 2, 2, 2))
    assert evaluate(relay.nn.max_pool3d(x3, 2), {x3: np.arange(8).reshape(1, 1, 2, 2, 2)}).reshape(
        -1
    ).tolist() == [7.0]
    dil = relay.nn.max_pool1d(x1, 2, dilation=2)
    assert evaluate(dil, {x1: [[[1, 9, 2, 0, 3]]]}).tolist() == [[[2.0, 9.0, 3.0]]]
    with pytest.raises(DiagnosticError, match=r"^nn.max_pool2d: the dilated pool window"):
        infer(relay.nn.max_pool2d(x, 8, layout="NHWC"))
    with pytest.raises(DiagnosticError, match="pool_size"):
        infer(relay.nn.max_pool2d(x, (2, 2, 2)))
    for d in (1, 2, 3):
        for name in (f"nn.max_pool{d}d", f"nn.avg_pool{d}d"):
            assert Op.get(name).definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE


@pytest.mark.spec("OP-25")
def test_adaptive_and_global_pools() -> None:
    x = relay.var("x", shape=(1, 1, 5, 4))
    xv = np.arange(20, dtype="float32").reshape(1, 1, 5, 4)
    ap = relay.nn.adaptive_avg_pool2d(x, (2, 3))
    assert infer(ap) == tt((1, 1, 2, 3))
    # rows [0,3) and [2,5); cols [0,2), [1,3), [2,4)
    rows, cols = [(0, 3), (2, 5)], [(0, 2), (1, 3), (2, 4)]
    expected = [[xv[0, 0, r0:r1, c0:c1].mean() for c0, c1 in cols] for r0, r1 in rows]
    np.testing.assert_allclose(evaluate(ap, {x: xv})[0, 0], expected)
    mx = relay.nn.adaptive_max_pool2d(x, 2)
    assert evaluate(mx, {x: xv})[0, 0].tolist() == [[9.0, 11.0], [17.0, 19.0]]
    assert infer(relay.nn.adaptive_avg_pool2d(x)) == tt((1, 1, 5, 4))
    g = relay.nn.global_avg_pool2d(x)
    assert infer(g) == tt((1, 1, 1, 1))
    assert evaluate(g, {x: xv}).item() == pytest.approx(9.5)
    assert evaluate(relay.nn.global_max_pool2d(x), {x: xv}).item() == 19.0
    x1 = relay.var("x1", shape=(2, 3, 4))
    assert infer(relay.nn.global_avg_pool1d(x1)) == tt((2, 3, 1))
    x3 = relay.var("x3", shape=(1, 2, 2, 2, 2))
    assert infer(relay.nn.global_max_pool3d(x3)) == tt((1, 2, 1, 1, 1))
    with pytest.raises(DiagnosticError, match="output_size"):
        infer(relay.nn.adaptive_avg_pool2d(x, (1, 2, 3)))
    for name in ("nn.adaptive_avg_pool2d", "nn.global_avg_pool2d", "nn.global_max_pool2d"):
        assert Op.get(name).definition.pattern == OpPattern.OUT_ELEMWISE_FUSABLE
