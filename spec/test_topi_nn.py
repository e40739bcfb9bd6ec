"""TOPI nn: activations, padding, convolutions, pooling, dense, softmax, norms and the rest,
each against its topi.testing reference through te.evaluate and the TIR interpreter."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from minitvm import te, topi
from minitvm.error import DiagnosticError
from minitvm.topi import testing as tt
from spec.topi_harness import check

Array = npt.NDArray[Any]
RNG = np.random.default_rng(1)


def ph(shape: tuple[int, ...], dtype: str = "float32", name: str = "x") -> te.Tensor:
    return te.placeholder(shape, dtype, name)


def rnd(*shape: int, dtype: str = "float32") -> Array:
    return RNG.standard_normal(shape).astype(dtype)


@pytest.mark.spec("TOPI-7")
def test_activations_and_affine_maps() -> None:
    x = ph((1, 2, 3, 3), name="x")
    v = rnd(1, 2, 3, 3)
    check([x], topi.nn.relu(x), [v], np.maximum(v, 0))
    check([x], topi.nn.leaky_relu(x, 0.1), [v], np.where(v > 0, v, v * np.float32(0.1)))
    s, t = ph((2,), name="s"), ph((2,), name="t")
    sv, tv = rnd(2), rnd(2)
    check([x, s], topi.nn.prelu(x, s), [v, sv], np.where(v > 0, v, v * sv.reshape(1, 2, 1, 1)))
    check([x, s], topi.nn.bias_add(x, s, 1), [v, sv], v + sv.reshape(1, 2, 1, 1))
    check(
        [x, s, t],
        topi.nn.scale_shift_nchw(x, s, t),
        [v, sv, tv],
        v * sv.reshape(1, 2, 1, 1) + tv.reshape(1, 2, 1, 1),
    )
    y = ph((1, 3, 3, 2), name="y")
    yv = rnd(1, 3, 3, 2)
    check([y, s, t], topi.nn.scale_shift_nhwc(y, s, t), [yv, sv, tv], yv * sv + tv)
    with pytest.raises(DiagnosticError, match="slope"):
        topi.nn.prelu(x, ph((3,), name="bad"))


@pytest.mark.spec("TOPI-7")
def test_pad_dilate_flatten() -> None:
    x = ph((1, 2, 3, 4), name="x")
    v = rnd(1, 2, 3, 4)
    padded = topi.nn.pad(x, [0, 0, 1, 2], [0, 0, 2, 1], 3.0)
    assert padded.op.name == "PadInput"
    check([x], padded, [v], np.pad(v, [(0, 0), (0, 0), (1, 2), (2, 1)], constant_values=3))
    widths = [(0, 0), (0, 0), (2, 1), (1, 3)]
    out = topi.nn.mirror_pad(x, [0, 0, 2, 1], [0, 0, 1, 3], "SYMMETRIC")
    check([x], out, [v], np.pad(v, widths, mode="symmetric"))
    out = topi.nn.mirror_pad(x, [0, 0, 2, 1], [0, 0, 1, 3], "REFLECT")
    check([x], out, [v], np.pad(v, widths, mode="reflect"))
    out = topi.nn.edge_pad(x, [0, 1, 2, 0], [1, 0, 1, 3])
    check([x], out, [v], np.pad(v, [(0, 1), (1, 0), (2, 1), (0, 3)], mode="edge"))
    check([x], topi.nn.dilate(x, [1, 1, 2, 3], 0.5), [v], tt.dilate_python(v, [1, 1, 2, 3], 0.5))
    check([x], topi.nn.flatten(x), [v], v.reshape(1, -1))


CONV_CASES = [(1, 1, 1, 1), (2, (1, 0, 2, 1), 1, 1), (1, "SAME", 2, 2), (2, "VALID", 1, 2)]


@pytest.mark.spec("TOPI-8")
@pytest.mark.parametrize(("stride", "padding", "dilation", "groups"), CONV_CASES)
def test_conv2d_nchw_groups_dilation_padding(
    stride: int, padding: Any, dilation: int, groups: int
) -> None:
    x, w = ph((1, 4, 7, 6), name="x"), ph((6, 4 // groups, 3, 2), name="w")
    xv, wv = rnd(1, 4, 7, 6), rnd(6, 4 // groups, 3, 2)
    out = topi.nn.conv(x, w, stride, padding, dilation, groups, "NCHW", "OIHW")
    check(
        [x, w],
        out,
        [xv, wv],
        tt.conv2d_nchw_python(xv, wv, stride, padding, groups, dilation),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.spec("TOPI-8")
def test_conv_layouts_and_dimensions() -> None:
    xn, wn = ph((1, 7, 6, 4), name="xn"), ph((3, 2, 4, 5), name="wn")
    xnv, wnv = rnd(1, 7, 6, 4), rnd(3, 2, 4, 5)
    check(
        [xn, wn],
        topi.nn.conv2d_nhwc(xn, wn, 1, 1, 1),
        [xnv, wnv],
        tt.conv2d_nhwc_python(xnv, wnv, 1, 1),
        rtol=1e-4,
        atol=1e-5,
    )
    check(
        [xn, wn],
        topi.nn.conv2d(xn, wn, 2, "SAME", 1, "NHWC"),
        [xnv, wnv],
        tt.conv2d_nhwc_python(xnv, wnv, 2, "SAME"),
        rtol=1e-4,
        atol=1e-5,
    )
    x1, w1 = ph((2, 3, 9), name="x1"), ph((4, 3, 3), name="w1")
    x1v, w1v = rnd(2, 3, 9), rnd(4, 3, 3)
    check(
        [x1, w1],
        topi.nn.conv1d_ncw(x1, w1, 2, 1, 1),
        [x1v, w1v],
        tt.conv1d_ncw_python(x1v, w1v, 2, 1),
        rtol=1e-4,
        atol=1e-5,
    )
    x3, w3 = ph((1, 2, 4, 4, 4), name="x3"), ph((3, 2, 2, 2, 2), name="w3")
    x3v, w3v = rnd(1, 2, 4, 4, 4), rnd(3, 2, 2, 2, 2)
    check(
        [x3, w3],
        topi.nn.conv3d_ncdhw(x3, w3, 1, 1, 1),
        [x3v, w3v],
        tt.conv3d_ncdhw_python(x3v, w3v, 1, 1),
        rtol=1e-4,
        atol=1e-5,
    )
    xi, wi = ph((1, 2, 4, 4), "int8", "xi"), ph((2, 2, 2, 2), "int8", "wi")
    xiv, wiv = (
        RNG.integers(-128, 127, (1, 2, 4, 4)).astype("int8"),
        RNG.integers(-128, 127, (2, 2, 2, 2)).astype("int8"),
    )
    want = tt.conv2d_nchw_python(xiv.astype("int32"), wiv.astype("int32"), 1, 0)
    check([xi, wi], topi.nn.conv2d_nchw(xi, wi, 1, 0, 1, "int32"), [xiv, wiv], want)
    with pytest.raises(DiagnosticError, match="groups"):
        topi.nn.conv(ph((1, 4, 5, 5)), ph((3, 2, 3, 3)), 1, 0, 1, 2)


@pytest.mark.spec("TOPI-8")
def test_depthwise_and_transposed_convolutions() -> None:
    xd, wd = ph((1, 3, 5, 5), name="xd"), ph((3, 2, 3, 3), name="wd")
    xdv, wdv = rnd(1, 3, 5, 5), rnd(3, 2, 3, 3)
    check(
        [xd, wd],
        topi.nn.depthwise_conv2d_nchw(xd, wd, 1, 1, 1),
        [xdv, wdv],
        tt.depthwise_conv2d_python_nchw(xdv, wdv, 1, 1),
        rtol=1e-4,
        atol=1e-5,
    )
    xh, wh = ph((1, 5, 5, 3), name="xh"), ph((3, 3, 3, 2), name="wh")
    xhv, whv = rnd(1, 5, 5, 3), rnd(3, 3, 3, 2)
    check(
        [xh, wh],
        topi.nn.depthwise_conv2d_nhwc(xh, wh, 2, "SAME", 1),
        [xhv, whv],
        tt.depthwise_conv2d_python_nhwc(xhv, whv, 2, "SAME"),
        rtol=1e-4,
        atol=1e-5,
    )
    xt, wt = ph((1, 3, 4, 4), name="xt"), ph((3, 2, 3, 3), name="wt")
    xtv, wtv = rnd(1, 3, 4, 4), rnd(3, 2, 3, 3)
    out = topi.nn.conv2d_transpose_nchw(xt, wt, (2, 2), (1, 1), "float32", (1, 0))
    check(
        [xt, wt],
        out,
        [xtv, wtv],
        tt.conv2d_transpose_nchw_python(xtv, wtv, (2, 2), (1, 1), (1, 0)),
        rtol=1e-4,
        atol=1e-5,
    )
    xg, wg = ph((1, 4, 4, 4), name="xg"), ph((4, 1, 3, 3), name="wg")
    xgv, wgv = rnd(1, 4, 4, 4), rnd(4, 1, 3, 3)
    out = topi.nn.group_conv2d_transpose_nchw(xg, wg, 2, 1, "float32", 0, 2)
    check(
        [xg, wg],
        out,
        [xgv, wgv],
        tt.conv_transpose_nd_python(xgv, wgv, 2, 1, 0, 2),
        rtol=1e-4,
        atol=1e-5,
    )
    x1, w1 = ph((1, 2, 5), name="x1"), ph((2, 3, 3), name="w1")
    x1v, w1v = rnd(1, 2, 5), rnd(2, 3, 3)
    out = topi.nn.conv1d_transpose_ncw(x1, w1, 3, 0, "float32", 2)
    check(
        [x1, w1],
        out,
        [x1v, w1v],
        tt.conv1d_transpose_ncw_python(x1v, w1v, 3, 0, 2),
        rtol=1e-4,
        atol=1e-5,
    )
    with pytest.raises(DiagnosticError, match="output_padding"):
        topi.nn.conv2d_transpose_nchw(xt, wt, (2, 2), 0, "float32", (2, 0))


@pytest.mark.spec("TOPI-9")
@pytest.mark.parametrize("pool_type", ["max", "avg"])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_pool2d(pool_type: str, ceil_mode: bool, count_include_pad: bool) -> None:
    x = ph((1, 2, 6, 7), name="x")
    v = rnd(1, 2, 6, 7)
    out = topi.nn.pool2d(
        x, (3, 2), (2, 2), (1, 1), (1, 0, 1, 1), pool_type, ceil_mode, "NCHW", count_include_pad
    )
    want = tt.poolnd_python(
        v, (3, 2), (2, 2), (1, 1), (1, 0), (1, 1), pool_type, count_include_pad, ceil_mode
    )
    check([x], out, [v], want, rtol=1e-5)


@pytest.mark.spec("TOPI-9")
def test_pool_layouts_dilation_integers_and_adaptive() -> None:
    x = ph((1, 6, 7, 2), name="x")
    v = rnd(1, 6, 7, 2)
    out = topi.nn.pool2d(
        x, (2, 2), (1, 2), (2, 1), (0, 1, 0, 1), "avg", layout="NHWC", count_include_pad=False
    )
    check(
        [x],
        out,
        [v],
        tt.poolnd_python(v, (2, 2), (1, 2), (2, 1), (0, 1), (0, 1), "avg", False, layout="NHWC"),
        rtol=1e-5,
    )
    x1 = ph((2, 3, 8), name="x1")
    v1 = rnd(2, 3, 8)
    check(
        [x1],
        topi.nn.pool1d(x1, 3, 2, 1, (1, 1), "max"),
        [v1],
        tt.poolnd_python(v1, (3,), (2,), (1,), (1,), (1,), "max", layout="NCW"),
    )
    x3 = ph((1, 1, 4, 4, 4), name="x3")
    v3 = rnd(1, 1, 4, 4, 4)
    out = topi.nn.pool3d(x3, 2, 2, 1, (0, 0, 0, 1, 1, 1), "avg", True)
    check(
        [x3],
        out,
        [v3],
        tt.poolnd_python(
            v3, (2, 2, 2), (2, 2, 2), (1, 1, 1), (0, 0, 0), (1, 1, 1), "avg", True, True, "NCDHW"
        ),
        rtol=1e-5,
    )
    xi = ph((1, 1, 3, 3), "int32", "xi")
    vi = RNG.integers(-9, 9, (1, 1, 3, 3)).astype("int32")
    out = topi.nn.pool2d(xi, 2, 1, 1, (0, 0, 0, 0), "avg")
    check([xi], out, [vi], tt.poolnd_python(vi, (2, 2), (1, 1), (1, 1), (0, 0), (0, 0), "avg"))
    p = ph((1, 2, 6, 7), name="p")
    pv = rnd(1, 2, 6, 7)
    for pool_type in ("max", "avg"):
        check(
            [p],
            topi.nn.global_pool(p, pool_type),
            [pv],
            tt.adaptive_pool(pv, (1, 1), pool_type),
            rtol=1e-5,
        )
        check(
            [p],
            topi.nn.adaptive_pool(p, (4, 3), pool_type),
            [pv],
            tt.adaptive_pool(pv, (4, 3), pool_type),
            rtol=1e-5,
        )
    a3 = ph((1, 2, 5, 4, 3), name="a3")
    a3v = rnd(1, 2, 5, 4, 3)
    check(
        [a3],
        topi.nn.adaptive_pool3d(a3, (2, 3, 2), "avg"),
        [a3v],
        tt.adaptive_pool(a3v, (2, 3, 2), "avg", "NCDHW"),
        rtol=1e-5,
    )
    with pytest.raises(DiagnosticError, match="pool_type"):
        topi.nn.global_pool(p, "min")


@pytest.mark.spec("TOPI-9")
@pytest.mark.parametrize("pool_type", ["max", "avg"])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_pool_grad(pool_type: str, count_include_pad: bool) -> None:
    g, x = ph((1, 2, 3, 4), name="g"), ph((1, 2, 6, 7), name="x")
    gv, xv = rnd(1, 2, 3, 4), rnd(1, 2, 6, 7)
    xv[0, 0, 0, 0] = xv[0, 0, 0, 1] = 5.0  # a tie: the first maximum takes the gradient
    out = topi.nn.pool_grad(g, x, (3, 2), (2, 2), (1, 0, 1, 1), pool_type, False, count_include_pad)
    want = tt.pool_grad_nchw(
        xv, gv, (3, 2), (2, 2), (1, 0, 1, 1), pool_type, False, count_include_pad
    )
    check([g, x], out, [gv, xv], want, rtol=1e-5, atol=1e-6)


@pytest.mark.spec("TOPI-10")
def test_dense_matmul_batch_matmul() -> None:
    d, w, b = ph((3, 4), name="d"), ph((5, 4), name="w"), ph((5,), name="b")
    dv, wv, bv = rnd(3, 4), rnd(5, 4), rnd(5)
    out = topi.nn.dense(d, w)
    assert out.op.name == "T_matmul_NT"
    check([d, w], out, [dv, wv], dv @ wv.T, rtol=1e-5)
    check([d, w, b], topi.nn.dense(d, w, b), [dv, wv, bv], dv @ wv.T + bv, rtol=1e-5)
    m = ph((4, 5), name="m")
    mv = rnd(4, 5)
    check([d, m], topi.nn.matmul(d, m), [dv, mv], dv @ mv, rtol=1e-5)
    check(
        [m, d],
        topi.nn.matmul(m, d, transpose_a=True, transpose_b=True),
        [mv, dv],
        mv.T @ dv.T,
        rtol=1e-5,
    )
    ia, ib = ph((2, 3), "int8", "ia"), ph((4, 3), "int8", "ib")
    iav, ibv = (
        RNG.integers(-100, 100, (2, 3)).astype("int8"),
        RNG.integers(-100, 100, (4, 3)).astype("int8"),
    )
    check(
        [ia, ib],
        topi.nn.dense(ia, ib, out_dtype="int32"),
        [iav, ibv],
        iav.astype("int32") @ ibv.T.astype("int32"),
    )
    ba, bb = ph((2, 3, 4), name="ba"), ph((1, 5, 4), name="bb")
    bav, bbv = rnd(2, 3, 4), rnd(1, 5, 4)
    check(
        [ba, bb],
        topi.nn.batch_matmul(ba, bb),
        [bav, bbv],
        tt.batch_matmul(bav, np.broadcast_to(bbv, (2, 5, 4))),
        rtol=1e-5,
    )
    bn = ph((2, 4, 5), name="bn")
    bnv = rnd(2, 4, 5)
    check(
        [ba, bn], topi.nn.batch_matmul(ba, bn, transpose_b=False), [bav, bnv], bav @ bnv, rtol=1e-5
    )
    with pytest.raises(DiagnosticError, match="reduction dimensions"):
        topi.nn.dense(d, ph((5, 3), name="bad"))


@pytest.mark.spec("TOPI-11")
def test_softmax_lrn_and_norms() -> None:
    x = ph((1, 6, 3, 3), name="x")
    v = rnd(1, 6, 3, 3)
    check([x], topi.nn.softmax(x, axis=1), [v], tt.softmax_python(v, 1), rtol=1e-5)
    check([x], topi.nn.log_softmax(x), [v], tt.log_softmax_python(v), rtol=1e-4, atol=1e-5)
    check(
        [x],
        topi.nn.lrn(x, 3, 1, 0.0001, 0.75, 2.0),
        [v],
        tt.lrn_python(v, 3, 1, 2.0, 0.0001, 0.75),
        rtol=1e-5,
    )
    g, b = ph((6,), name="g"), ph((6,), name="b")
    gv, bv = rnd(6), rnd(6)
    check(
        [x, g, b],
        topi.nn.group_norm(x, g, b, 2, 1, [2, 3]),
        [v, gv, bv],
        tt.group_norm_python(v, gv, bv, 2, 1, [2, 3]),
        rtol=1e-4,
        atol=1e-5,
    )
    check(
        [x, g, b],
        topi.nn.instance_norm(x, g, b, 1, [2, 3]),
        [v, gv, bv],
        tt.instance_norm_python(v, gv, bv, 1, [2, 3]),
        rtol=1e-4,
        atol=1e-5,
    )
    y = ph((2, 3, 4), name="y")
    yv = rnd(2, 3, 4)
    g2, b2 = ph((3, 4), name="g2"), ph((3, 4), name="b2")
    g2v, b2v = rnd(3, 4), rnd(3, 4)
    check(
        [y, g2, b2],
        topi.nn.layer_norm(y, g2, b2, [-2, -1]),
        [yv, g2v, b2v],
        tt.layer_norm_python(yv, g2v, b2v, [-2, -1]),
        rtol=1e-4,
        atol=1e-5,
    )
    w = ph((4,), name="w")
    wv = rnd(4)
    check(
        [y, w],
        topi.nn.rms_norm(y, w, [-1]),
        [yv, wv],
        tt.rms_norm_python(yv, wv, [-1]),
        rtol=1e-4,
        atol=1e-5,
    )


@pytest.mark.spec("TOPI-11")
@pytest.mark.parametrize("training", [False, True])
def test_batch_norm(training: bool) -> None:
    x = ph((2, 4, 3, 3), name="x")
    g, b, m, v = (ph((4,), name=n) for n in ("gamma", "beta", "mean", "var"))
    xv, gv, bv, mv, vv = rnd(2, 4, 3, 3), rnd(4), rnd(4), rnd(4), np.abs(rnd(4))
    outs = topi.nn.batch_norm(x, g, b, m, v, 1, 1e-5, True, True, training, 0.1)
    want = tt.batch_norm(xv, gv, bv, mv, vv, 1, 1e-5, True, True, training, 0.1)
    check([x, g, b, m, v], outs, [xv, gv, bv, mv, vv], want, rtol=1e-4, atol=1e-5)
    plain = topi.nn.batch_norm(x, g, b, m, v, scale=False, center=False)
    want_plain = tt.batch_norm(xv, gv, bv, mv, vv, 1, 1e-5, False, False)[0]
    check([x, g, b, m, v], plain[0], [xv, gv, bv, mv, vv], want_plain, rtol=1e-4, atol=1e-5)


@pytest.mark.spec("TOPI-12")
def test_binary_networks_and_nll_loss() -> None:
    x = ph((2, 64), name="x")
    xv = rnd(2, 64)
    packed = topi.nn.binarize_pack(x)
    assert packed.dtype == "uint32"
    check([x], packed, [xv], tt.binarize_pack_python(xv))
    a, w = ph((2, 2), "uint32", "a"), ph((3, 2), "uint32", "w")
    av = RNG.integers(0, 2**32, (2, 2), dtype=np.uint64).astype("uint32")
    wv = RNG.integers(0, 2**32, (3, 2), dtype=np.uint64).astype("uint32")
    check([a, w], topi.nn.binary_dense(a, w), [av, wv], tt.binary_dense_python(av, wv))
    p, t, wt = ph((3, 4, 2), name="p"), ph((3, 2), "int32", "t"), ph((4,), name="wt")
    pv, tv, wtv = rnd(3, 4, 2), np.array([[0, 1], [2, -1], [3, 3]], "int32"), np.abs(rnd(4))
    for reduction in ("mean", "sum", "none"):
        out = topi.nn.nll_loss(p, t, wt, reduction, -1)
        check([p, t, wt], out, [pv, tv, wtv], tt.nll_loss(pv, tv, wtv, reduction, -1), rtol=1e-5)
    with pytest.raises(DiagnosticError, match="reduction"):
        topi.nn.nll_loss(p, t, wt, "max", -1)


@pytest.mark.spec("TOPI-13")
def test_space_batch_depth_and_upsampling() -> None:
    sb = ph((2, 4, 6, 3), name="sb")
    sbv = rnd(2, 4, 6, 3)
    check(
        [sb],
        topi.nn.space_to_batch_nd(sb, [2, 3], [0, 1], [2, 2]),
        [sbv],
        tt.space_to_batch_nd_python(sbv, [2, 3], [0, 1], [2, 2]),
    )
    bs = ph((12, 2, 3, 3), name="bs")
    bsv = rnd(12, 2, 3, 3)
    check(
        [bs],
        topi.nn.batch_to_space_nd(bs, [2, 3], [1, 0], [0, 2]),
        [bsv],
        tt.batch_to_space_nd_python(bsv, [2, 3], [1, 0], [0, 2]),
    )
    ds = ph((1, 8, 2, 3), name="ds")
    dsv = rnd(1, 8, 2, 3)
    for mode in ("DCR", "CRD"):
        check(
            [ds],
            topi.nn.depth_to_space(ds, 2, "NCHW", mode),
            [dsv],
            tt.depth_to_space_python(dsv, 2, mode),
        )
    sd = ph((1, 2, 4, 6), name="sd")
    sdv = rnd(1, 2, 4, 6)
    check([sd], topi.nn.space_to_depth(sd, 2), [sdv], tt.space_to_depth_python(sdv, 2))
    x = ph((1, 2, 3, 4), name="x")
    v = rnd(1, 2, 3, 4)
    for method in ("nearest_neighbor", "bilinear"):
        for align in (False, True):
            out = topi.nn.upsampling(x, 2.0, 1.5, "NCHW", method, align)
            check(
                [x],
                out,
                [v],
                tt.upsampling_python(v, (2.0, 1.5), "NCHW", method, align),
                rtol=1e-5,
                atol=1e-5,
            )
    xh = ph((1, 3, 4, 2), name="xh")
    xhv = rnd(1, 3, 4, 2)
    out = topi.nn.upsampling(xh, 2.0, 2.0, "NHWC")
    check([xh], out, [xhv], tt.upsampling_python(xhv, (2.0, 2.0), "NHWC"))


@pytest.mark.spec("TOPI-14")
def test_references_follow_tvm_names() -> None:
    for name in (
        "softmax_python",
        "log_softmax_python",
        "conv2d_nchw_python",
        "conv2d_nhwc_python",
        "conv2d_transpose_nchw_python",
        "depthwise_conv2d_python_nchw",
        "poolnd_python",
        "pool_grad_nchw",
        "adaptive_pool",
        "layer_norm_python",
        "batch_norm",
        "gather_python",
        "gather_nd_python",
        "one_hot",
        "strided_slice_python",
    ):
        assert callable(getattr(tt, name)), name
    a = rnd(2, 3)
    np.testing.assert_allclose(tt.softmax_python(a).sum(-1), np.ones(2), rtol=1e-6)


@pytest.mark.spec("TOPI-15")
def test_relay_operators_get_te_computes() -> None:
    from minitvm import relay
    from minitvm.ir.op import Op, list_op_names
    from minitvm.ir.type import TensorType
    from minitvm.relay.expr import Call
    from minitvm.topi import relay_compute

    relay_compute.register()
    relay_compute.register()  # idempotent
    assert set(relay_compute.COMPUTES) <= set(list_op_names())
    for name in ("add", "nn.conv2d", "sum", "take", "nn.batch_norm", "split"):
        assert Op.get(name).definition.get_extra("FTVMCompute") is relay_compute.COMPUTES[name]
    call = relay.nn.softmax(relay.var("x", shape=(2, 3)), axis=1)
    assert isinstance(call, Call)
    p = te.placeholder((2, 3), name="p")
    (out,) = relay_compute.COMPUTES["nn.softmax"](call.attrs, [p], TensorType((2, 3), "float32"))
    v = rnd(2, 3)
    check([p], out, [v], tt.softmax_python(v, 1), rtol=1e-5)
    shapes = [(2, 3, 2), (3,), (3,), (3,), (3,)]
    d, g, b, m, var = (relay.var(f"a{i}", shape=s) for i, s in enumerate(shapes))
    bn = relay.nn.batch_norm(d, g, b, m, var)
    bn_call = bn.astuple()
    assert isinstance(bn_call, Call)
    phs = [te.placeholder(s) for s in shapes]
    outs = relay_compute.COMPUTES["nn.batch_norm"](bn_call.attrs, phs, TensorType((2, 3, 2)))
    assert len(outs) == 3
