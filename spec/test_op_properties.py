"""OP: properties over random inputs, seeded so every run checks the same cases.

Every built-in operator is called with random argument types and random attribute values
(including values of the wrong kind): its relation either returns a type or raises
DiagnosticError, and when it returns a type the kernel runs on random data of those types and
produces exactly that type (``define_op`` checks the result), raising at most TVMError.
Convolutions and pools, whose valid attribute space random values rarely hit, get random
valid geometries checked against direct loop formulations.
"""

from __future__ import annotations

import dataclasses
import itertools
import random

import numpy as np
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError, InternalError, TVMError
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.op.define import Value, defined_op_names
from spec.op_helpers import evaluate, infer, tt

_STRINGS = [
    "NCHW", "NHWC", "OIHW", "HWIO", "NCW", "NCDHW", "", "clip", "wrap", "fast", "end", "size",
    "mean", "sum", "none", "both", "values", "indices", "constant", "edge", "reflect",
    "bilinear", "nearest_neighbor", "bicubic", "DCR", "CRD", "float32", "int32", "int8",
    "bool", "xx", "NCHW4c",
]  # fmt: skip
_DTYPES = ["float32", "int32", "int8", "bool", "float16", "uint8", "int64"]


def _random_attr(rng: random.Random, default: object) -> object:
    k = rng.randrange(12)
    choices: list[object] = [
        default,
        rng.randint(-3, 5),
        tuple(rng.randint(-2, 4) for _ in range(rng.randint(0, 6))),
        None,
        rng.choice(_STRINGS),
        rng.choice([0.5, -1.0, 2.0, 1e-5]),
        rng.choice([True, False]),
        tuple((rng.randint(0, 2), rng.randint(0, 2)) for _ in range(rng.randint(0, 4))),
    ]
    return choices[k] if k < len(choices) else default


def _random_type(rng: random.Random, first: Type | None) -> TensorType:
    shape = tuple(rng.randint(0 if rng.random() < 0.2 else 1, 4) for _ in range(rng.randint(0, 4)))
    ty = TensorType(shape, rng.choice(_DTYPES))
    if not isinstance(first, TensorType):
        return ty
    r = rng.random()
    if r < 0.3:
        return first
    if r < 0.5 and first.ndim > 1:
        return TensorType((first.shape[1],), first.dtype)
    if r < 0.6 and first.ndim > 0:
        return TensorType((first.shape[-1],), first.dtype)
    if r < 0.75:
        return TensorType(tuple(rng.randint(1, 2) for _ in range(first.ndim)), first.dtype)
    if r < 0.85:
        return TensorType((), first.dtype)
    return ty


def _random_value(rng: random.Random, ty: Type) -> Value:
    if isinstance(ty, TupleType):
        return tuple(_random_value(rng, f) for f in ty.fields)
    assert isinstance(ty, TensorType)
    data = np.random.default_rng(rng.randrange(1000)).integers(-3, 4, ty.shape)
    return data.astype(ty.dtype)


def _arg_types(rng: random.Random, name: str, n: int) -> list[Type]:
    args: list[Type] = []
    for i in range(n):
        if name in ("concatenate", "stack") and i == 0:
            args.append(TupleType([_random_type(rng, None)] * rng.randint(1, 3)))
        else:
            args.append(_random_type(rng, args[0] if args else None))
    return args


@pytest.mark.spec("OP-39")
def test_random_attrs_and_types_raise_only_diagnostics() -> None:
    rng = random.Random(2024)
    accepted = 0
    for name in defined_op_names():
        if name.startswith("spec_"):
            continue
        d = Op.get(name).definition
        assert d.type_rel is not None
        assert d.kernel is not None
        for _ in range(40):
            args = _arg_types(rng, name, d.num_inputs)
            attrs = None
            if d.attrs_type is not None:
                fields = {
                    f.name: _random_attr(
                        rng, f.default if f.default is not dataclasses.MISSING else 1
                    )
                    for f in dataclasses.fields(d.attrs_type)
                }
                attrs = d.attrs_type(**fields)
            try:
                out = d.type_rel(args, attrs)
            except DiagnosticError:
                continue
            accepted += 1
            values = [_random_value(rng, a) for a in args]
            try:
                d.kernel(attrs, values, out)
            except InternalError:
                raise
            except TVMError:
                pass  # reads from an empty axis (take, gather, gather_nd, nll_loss)
    assert accepted > 1000


# --- convolutions and pools on random valid geometries ----------------------------------------


def _direct_conv2d(
    x: np.ndarray,
    w: np.ndarray,
    strides: tuple[int, int],
    pads: tuple[int, int, int, int],
    dilation: tuple[int, int],
    groups: int,
) -> np.ndarray:
    xp = np.pad(x.astype("float64"), [(0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])])
    n, _, hp, wp = xp.shape
    o, cg, kh, kw = w.shape
    oh = (hp - (kh - 1) * dilation[0] - 1) // strides[0] + 1
    ow = (wp - (kw - 1) * dilation[1] - 1) // strides[1] + 1
    out = np.zeros((n, o, oh, ow))
    og = o // groups
    for oc, i, j in itertools.product(range(o), range(oh), range(ow)):
        g = oc // og
        for a, b in itertools.product(range(kh), range(kw)):
            r, c = i * strides[0] + a * dilation[0], j * strides[1] + b * dilation[1]
            out[:, oc, i, j] += xp[:, g * cg : (g + 1) * cg, r, c] @ w[oc, :, a, b]
    return out


@pytest.mark.spec("OP-22")
def test_random_conv2d_geometries() -> None:
    rng = random.Random(7)
    checked = 0
    for _ in range(25):
        groups = rng.choice([1, 2])
        cin, cout = 2 * rng.randint(1, 2), 2 * rng.randint(1, 2)
        kh, kw = rng.randint(1, 3), rng.randint(1, 3)
        h, w_ = rng.randint(3, 7), rng.randint(3, 7)
        strides = (rng.randint(1, 2), rng.randint(1, 2))
        dilation = (rng.randint(1, 2), rng.randint(1, 2))
        pads = (rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 2), rng.randint(0, 2))
        nhwc = rng.random() < 0.5
        xv = np.random.default_rng(checked).standard_normal((1, cin, h, w_)).astype("float32")
        wv = np.random.default_rng(checked + 99).standard_normal((cout, cin // groups, kh, kw))
        wv = wv.astype("float32")
        x = relay.var("x", shape=xv.transpose(0, 2, 3, 1).shape if nhwc else xv.shape)
        w = relay.var("w", shape=wv.transpose(2, 3, 1, 0).shape if nhwc else wv.shape)
        layouts = {"data_layout": "NHWC", "kernel_layout": "HWIO"} if nhwc else {}
        call = relay.nn.conv2d(x, w, strides, pads, dilation, groups, **layouts)  # type: ignore[arg-type]  # layout kwargs are str
        try:
            ty = infer(call)
        except DiagnosticError:
            continue  # a window larger than the padded input
        expected = _direct_conv2d(xv, wv, strides, pads, dilation, groups)
        if nhwc:
            expected = expected.transpose(0, 2, 3, 1)
        assert ty == tt(expected.shape)
        env = {
            x: xv.transpose(0, 2, 3, 1) if nhwc else xv,
            w: wv.transpose(2, 3, 1, 0) if nhwc else wv,
        }
        np.testing.assert_allclose(evaluate(call, env), expected, rtol=1e-4, atol=1e-4)
        checked += 1
    assert checked >= 15


@pytest.mark.spec("OP-24")
def test_random_pool2d_geometries() -> None:
    rng = random.Random(11)
    checked = 0
    for case in range(30):
        k = (rng.randint(1, 3), rng.randint(1, 3))
        s = (rng.randint(1, 3), rng.randint(1, 2))
        d = (rng.randint(1, 2), 1)
        pads = (rng.randint(0, 1), rng.randint(0, 1), rng.randint(0, 1), rng.randint(0, 1))
        ceil_mode = rng.random() < 0.5
        include = rng.random() < 0.5
        xv = np.random.default_rng(case).standard_normal((1, 2, 6, 5)).astype("float32")
        x = relay.var("x", shape=(1, 2, 6, 5))
        mp = relay.nn.max_pool2d(x, k, s, d, pads, ceil_mode=ceil_mode)
        ap = relay.nn.avg_pool2d(x, k, s, d, pads, ceil_mode=ceil_mode, count_include_pad=include)
        try:
            ty = infer(mp)
        except DiagnosticError:
            continue
        oh, ow = ty.shape[2:] if isinstance(ty, TensorType) else (0, 0)
        max_out = np.zeros((1, 2, oh, ow))
        avg_out = np.zeros((1, 2, oh, ow))
        in_tail = False  # a window wholly in the ceil_mode tail: see the OP-24 corner test
        for i, j in itertools.product(range(oh), range(ow)):
            rows = [i * s[0] - pads[0] + a * d[0] for a in range(k[0])]
            cols = [j * s[1] - pads[1] + b * d[1] for b in range(k[1])]
            cells = [(r, c) for r in rows for c in cols if 0 <= r < 6 and 0 <= c < 5]
            padded = [
                (r, c) for r in rows for c in cols
                if -pads[0] <= r < 6 + pads[2] and -pads[1] <= c < 5 + pads[3]
            ]  # fmt: skip
            vals = np.array([xv[0, :, r, c] for r, c in cells]).reshape(len(cells), 2)
            lowest = np.finfo("float32").min
            max_out[0, :, i, j] = vals.max(axis=0) if cells else lowest
            in_tail = in_tail or not padded
            count = max(len(padded) if include else len(cells), 1)
            avg_out[0, :, i, j] = vals.sum(axis=0) / count
        np.testing.assert_allclose(evaluate(mp, {x: xv}), max_out, rtol=1e-6)
        if not in_tail:
            np.testing.assert_allclose(evaluate(ap, {x: xv}), avg_out, rtol=1e-5, atol=1e-6)
        checked += 1
    assert checked >= 15
