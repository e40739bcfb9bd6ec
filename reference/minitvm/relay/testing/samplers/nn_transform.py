"""Samplers of ``relay.nn``'s data movement: ``pad``, ``dilate``, ``upsampling``,
``depth_to_space``, ``space_to_depth``, ``space_to_batch_nd`` and ``batch_to_space_nd``.

Block sizes, paddings and crops are drawn so extents divide; fill values are ones every
dtype represents.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from minitvm.ir.type import TensorType
from minitvm.relay.op.defs.nn_transform import (
    BatchToSpaceNDAttrs,
    DilateAttrs,
    PadAttrs,
    SpaceToBatchNDAttrs,
    SubPixelAttrs,
    UpSamplingAttrs,
)
from minitvm.relay.testing.samplers.base import (
    ALL,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    castable,
    dtype_of,
    flag,
    in_layout,
    permuted,
    shape_of,
    tensor,
)

__all__ = ["SAMPLERS"]


def _pad(draw: st.DrawFn, hint: Hint) -> OpCall:
    mode = draw(st.sampled_from(["constant", "constant", "edge", "reflect"]))
    ty = tensor(draw, ALL, hint, zero_ok=mode == "constant")
    pads = []
    for d in ty.shape:
        top = 2 if mode == "constant" else (d - 1 if mode == "reflect" else 2)
        pads.append((draw(st.integers(0, top)), draw(st.integers(0, top))))
    value = TensorType((), draw(st.sampled_from(ALL)))
    return OpCall("nn.pad", (Arg(ty), castable(value, ty.dtype)), PadAttrs(tuple(pads), mode))


def _pad_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1, max_dim=3)
    value = TensorType((), "float32")
    ok = tuple((1, 1) for _ in ty.shape)
    kind = draw(st.integers(0, 4))
    attrs = PadAttrs(ok)
    if kind == 0:
        attrs = PadAttrs(((-1, 0), *ok[1:]))
    elif kind == 1:
        attrs = PadAttrs(ok[1:])
    elif kind == 2:
        attrs = PadAttrs(ok, draw(st.sampled_from(["symmetric", "", "wrap"])))
    elif kind == 3:
        attrs = PadAttrs(((ty.shape[0], 0), *ok[1:]), "reflect")
    else:
        value = TensorType((1,), "float32")
    return OpCall("nn.pad", (Arg(ty), Arg(value)), attrs)


def _dilate(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    strides = tuple(draw(st.integers(1, 3)) for _ in ty.shape)
    return OpCall("nn.dilate", (Arg(ty),), DilateAttrs(strides, draw(st.floats(0, 1, width=32))))


def _dilate_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1)
    attrs = draw(
        st.sampled_from(
            [
                DilateAttrs((1,) * (ty.ndim + 1)),
                DilateAttrs((0,) * ty.ndim),
                DilateAttrs((1,) * ty.ndim, "x"),  # type: ignore[arg-type]  # a wrong field type, as parsed text may give
            ]
        )
    )
    return OpCall("nn.dilate", (Arg(ty),), attrs)


def _upsampling(draw: st.DrawFn, hint: Hint) -> OpCall:
    layout = draw(st.sampled_from(["NCHW", "NHWC"]))
    n, c, h, w = (
        draw(st.sampled_from([1, 2, 3, 0])) if i < 2 else draw(st.integers(1, 3)) for i in range(4)
    )
    ty = TensorType(in_layout((n, c, h, w), "NCHW", layout), dtype_of(draw, ALL, hint))
    scales = [0.5, 1.0, 1.5, 2.0, 3.0]
    scale_h = draw(st.sampled_from([s for s in scales if round(h * s) > 0]))
    scale_w = draw(st.sampled_from([s for s in scales if round(w * s) > 0]))
    method = draw(st.sampled_from(["nearest_neighbor", "bilinear", "bicubic"]))
    attrs = UpSamplingAttrs(scale_h, scale_w, layout, method, flag(draw))
    return OpCall("nn.upsampling", (Arg(ty),), attrs)


def _upsampling_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = TensorType((1, 2, 3, 3), "float32")
    attrs = draw(
        st.sampled_from(
            [
                UpSamplingAttrs(2.0, 2.0, "NCWH"),
                UpSamplingAttrs(2.0, 2.0, "NCHW", "linear"),
                UpSamplingAttrs(0.1, 2.0),
                UpSamplingAttrs(2.0, -1.0),
            ]
        )
    )
    if flag(draw):
        return OpCall("nn.upsampling", (Arg(TensorType((1, 2, 3), "float32")),), attrs)
    return OpCall("nn.upsampling", (Arg(ty),), attrs)


def _sub_pixel(name: str) -> OpSampler:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        layout = permuted(draw, "NCHW")
        b = draw(st.integers(1, 3))
        n, c, h, w = (
            draw(st.sampled_from([1, 2, 0])) if i < 2 else draw(st.integers(1, 2)) for i in range(4)
        )
        if name == "nn.depth_to_space":
            c *= b * b
        else:
            h, w = h * b, w * b
        ty = TensorType(in_layout((n, c, h, w), "NCHW", layout), dtype_of(draw, ALL, hint))
        mode = draw(st.sampled_from(["DCR", "CRD"])) if name == "nn.depth_to_space" else "DCR"
        return OpCall(name, (Arg(ty),), SubPixelAttrs(b, layout, mode))

    def bad(draw: st.DrawFn, hint: Hint) -> OpCall:
        kind = draw(st.integers(0, 3))
        ty = TensorType((1, 3, 3, 3), "float32")
        attrs = SubPixelAttrs(2)
        if kind == 1:
            attrs = SubPixelAttrs(0)
        elif kind == 2:
            ty = TensorType((1, 4, 4), "float32")
        elif kind == 3:
            attrs = SubPixelAttrs(1, draw(st.sampled_from(["NCH", "NCHWc", "ABCD"])))
        return OpCall(name, (Arg(ty),), attrs)

    return OpSampler(sample, (bad,), bounded=True)


def _space_to_batch(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, min_rank=2, max_rank=4, max_dim=3)
    m = draw(st.integers(1, ty.ndim - 1))
    blocks, pads = [], []
    for d in ty.shape[1 : 1 + m]:
        b = draw(st.integers(1, 3))
        lo = draw(st.integers(0, 2))
        hi = (-(d + lo)) % b + b * draw(st.integers(0, 1))
        blocks.append(b)
        pads.append((lo, hi))
    attrs = SpaceToBatchNDAttrs(tuple(blocks), tuple(pads), draw(st.floats(0, 1, width=32)))
    return OpCall("nn.space_to_batch_nd", (Arg(ty),), attrs)


def _space_to_batch_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = TensorType((1, 3, 4), "float32")
    attrs = draw(
        st.sampled_from(
            [
                SpaceToBatchNDAttrs((2,), ((0, 0),)),  # 3 is not divisible by 2
                SpaceToBatchNDAttrs((1, 1, 1), ((0, 0),) * 3),  # more blocks than axes
                SpaceToBatchNDAttrs((1, 1), ((0, 0),)),  # one pair short
                SpaceToBatchNDAttrs((1,), ((-1, 1),)),
                SpaceToBatchNDAttrs((0,), ((0, 0),)),
            ]
        )
    )
    return OpCall("nn.space_to_batch_nd", (Arg(ty),), attrs)


def _batch_to_space(draw: st.DrawFn, hint: Hint) -> OpCall:
    rest = shape_of(draw, min_rank=1, max_rank=3, max_dim=3)
    m = draw(st.integers(1, len(rest)))
    blocks = tuple(draw(st.integers(1, 3)) for _ in range(m))
    n = draw(st.integers(1, 2)) * math.prod(blocks)
    crops = []
    for d, b in zip(rest, blocks, strict=False):
        lo = draw(st.integers(0, d * b))
        crops.append((lo, draw(st.integers(0, d * b - lo))))
    ty = TensorType((n, *rest), dtype_of(draw, ALL, hint))
    return OpCall("nn.batch_to_space_nd", (Arg(ty),), BatchToSpaceNDAttrs(blocks, tuple(crops)))


def _batch_to_space_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = TensorType((3, 2, 2), "float32")
    attrs = draw(
        st.sampled_from(
            [
                BatchToSpaceNDAttrs((2,), ((0, 0),)),  # batch 3 is not divisible by 2
                BatchToSpaceNDAttrs((1,), ((2, 1),)),  # crops exceed the extent 2
                BatchToSpaceNDAttrs((1, 1), ((0, 0),)),
                BatchToSpaceNDAttrs((1, 1, 1), ((0, 0),) * 3),
            ]
        )
    )
    return OpCall("nn.batch_to_space_nd", (Arg(ty),), attrs)


def _samplers() -> dict[str, OpSampler]:
    return {
        "nn.pad": OpSampler(_pad, (_pad_bad,), bounded=True),
        "nn.dilate": OpSampler(_dilate, (_dilate_bad,), bounded=True),
        "nn.upsampling": OpSampler(_upsampling, (_upsampling_bad,)),
        "nn.depth_to_space": _sub_pixel("nn.depth_to_space"),
        "nn.space_to_depth": _sub_pixel("nn.space_to_depth"),
        "nn.space_to_batch_nd": OpSampler(_space_to_batch, (_space_to_batch_bad,), bounded=True),
        "nn.batch_to_space_nd": OpSampler(_batch_to_space, (_batch_to_space_bad,), bounded=True),
    }


SAMPLERS: dict[str, OpSampler] = _samplers()
