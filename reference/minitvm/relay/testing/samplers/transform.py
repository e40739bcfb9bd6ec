"""Samplers of the shape-changing operators: ``expand_dims``, ``squeeze``, ``reshape`` (with
TVM's special values), ``transpose``, ``concatenate``, ``stack``, ``split``, ``reshape_like``,
``tile``, ``repeat``, ``reverse`` and ``layout_transform``.

``reshape``'s valid new shapes are built in the forms ``InferNewShape`` reads: a factorization
of the element count with input dimensions copied by ``0`` and one dimension left to ``-1``;
copies followed by ``-2``; a ``-3`` merge; a ``-4`` split (with ``-1`` for one half).
"""

from __future__ import annotations

import math
import re

from hypothesis import strategies as st

from minitvm.ir.type import TensorType, TupleType
from minitvm.relay.op.defs.layout_transform import LayoutTransformAttrs
from minitvm.relay.op.defs.rearrange import RepeatAttrs, ReshapeLikeAttrs, ReverseAttrs, TileAttrs
from minitvm.relay.op.defs.transform import (
    ConcatenateAttrs,
    ExpandDimsAttrs,
    ReshapeAttrs,
    SplitAttrs,
    SqueezeAttrs,
    StackAttrs,
    TransposeAttrs,
)
from minitvm.relay.testing.samplers.base import (
    ALL,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    SampleFn,
    axis_of,
    dtype_of,
    flag,
    invalid_axis,
    shape_of,
    tensor,
)

__all__ = ["SAMPLERS", "factor"]


def factor(draw: st.DrawFn, total: int, max_parts: int = 3) -> list[int]:
    """Dimensions whose product is ``total`` (>= 1), with a unit dimension now and then."""
    dims: list[int] = []
    n = total
    while n > 1 and len(dims) < max_parts - 1:
        d = draw(st.sampled_from([k for k in range(2, n + 1) if n % k == 0]))
        dims.append(d)
        n //= d
    if n > 1:
        dims.append(n)
    if draw(st.integers(0, 3)) == 0:
        dims.insert(draw(st.integers(0, len(dims))), 1)
    return dims


def _expand_dims(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    axis = draw(st.integers(-ty.ndim - 1, ty.ndim))
    return OpCall("expand_dims", (Arg(ty),), ExpandDimsAttrs(axis, draw(st.integers(0, 2))))


def _expand_dims_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL)
    if flag(draw):
        return OpCall("expand_dims", (Arg(ty),), ExpandDimsAttrs(0, -1))
    axis = draw(st.sampled_from([ty.ndim + 1, -ty.ndim - 2]))
    return OpCall("expand_dims", (Arg(ty),), ExpandDimsAttrs(axis))


def _squeeze(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, max_dim=3, zero_ok=True)
    units = [i for i, d in enumerate(ty.shape) if d == 1]
    if not units or flag(draw):
        return OpCall("squeeze", (Arg(ty),), SqueezeAttrs(None))
    chosen = draw(st.lists(st.sampled_from(units), unique=True))
    axes = tuple(a - ty.ndim if flag(draw) else a for a in chosen)
    return OpCall("squeeze", (Arg(ty),), SqueezeAttrs(axes))


def _squeeze_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1, min_dim=2)
    axis = axis_of(draw, ty.ndim) if flag(draw) else invalid_axis(draw, ty.ndim)
    return OpCall("squeeze", (Arg(ty),), SqueezeAttrs((axis,)))


# --- reshape ---------------------------------------------------------------------------------


def _plain_newshape(draw: st.DrawFn, shape: tuple[int, ...]) -> list[int]:
    spec = factor(draw, math.prod(shape))
    spec = [0 if i < len(shape) and d == shape[i] and flag(draw) else d for i, d in enumerate(spec)]
    if spec and flag(draw):
        spec[draw(st.integers(0, len(spec) - 1))] = -1
    return spec


def _newshape(draw: st.DrawFn, shape: tuple[int, ...]) -> list[int]:
    kind = draw(st.integers(0, 3))
    k = draw(st.integers(0, len(shape)))
    if kind == 1:
        return [0] * k + [-2]
    if kind == 2 and len(shape) >= 2:
        k = min(k, len(shape) - 2)
        return [0] * k + [-3, -2]
    if kind == 3 and shape:
        k = min(k, len(shape) - 1)
        a = draw(st.sampled_from([d for d in range(1, shape[k] + 1) if shape[k] % d == 0]))
        b = shape[k] // a
        if flag(draw):
            a, b = (-1, b) if flag(draw) else (a, -1)
        return [0] * k + [-4, a, b, -2]
    return _plain_newshape(draw, shape)


def _reshape(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    if 0 in ty.shape:  # only literal dimensions can say where the empty axis goes
        spec = tuple(draw(st.permutations(ty.shape)))
        return OpCall("reshape", (Arg(ty),), ReshapeAttrs(spec, True))
    spec = tuple(_newshape(draw, ty.shape))
    allowzero = 0 not in spec and flag(draw)
    return OpCall("reshape", (Arg(ty),), ReshapeAttrs(spec, allowzero))


def _reshape_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1)
    n = math.prod(ty.shape)
    spec = draw(
        st.sampled_from(
            [
                (n + 1,),
                (2 * n, -2),
                (-1, -1),
                (-5,),
                (-4, ty.shape[0] + 1, -1, -2),
                (0,) * (ty.ndim + 1),
            ]
        )
    )
    return OpCall("reshape", (Arg(ty),), ReshapeAttrs(spec))


# --- transpose, concatenate, stack, split ------------------------------------------------------


def _transpose(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    if flag(draw):
        return OpCall("transpose", (Arg(ty),), TransposeAttrs(draw(st.sampled_from([None, ()]))))
    perm = draw(st.permutations(range(ty.ndim)))
    axes = tuple(a - ty.ndim if flag(draw) else a for a in perm)
    return OpCall("transpose", (Arg(ty),), TransposeAttrs(axes))


def _transpose_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=2)
    perm = list(range(ty.ndim))
    kind = draw(st.integers(0, 2))
    if kind == 0:
        perm.pop()
    elif kind == 1:
        perm[0] = perm[1]
    else:
        perm[0] = invalid_axis(draw, ty.ndim)
    return OpCall("transpose", (Arg(ty),), TransposeAttrs(tuple(perm)))


def _joined(draw: st.DrawFn, hint: Hint, stack: bool) -> tuple[list[TensorType], int]:
    """Two or three tensors to concatenate (agreeing off the axis) or stack (one type)."""
    first = tensor(draw, ALL, hint, min_rank=0 if stack else 1, zero_ok=True)
    n = draw(st.integers(1, 3))
    if stack:
        return [first] * n, draw(st.integers(-first.ndim - 1, first.ndim))
    axis = axis_of(draw, first.ndim)
    fields = [first]
    for _ in range(n - 1):
        shape = list(first.shape)
        shape[axis] = draw(st.integers(0, 3))
        fields.append(TensorType(shape, first.dtype))
    return fields, axis


def _concatenate(draw: st.DrawFn, hint: Hint) -> OpCall:
    fields, axis = _joined(draw, hint, False)
    return OpCall("concatenate", (Arg(TupleType(fields)),), ConcatenateAttrs(axis))


def _stack(draw: st.DrawFn, hint: Hint) -> OpCall:
    fields, axis = _joined(draw, hint, True)
    return OpCall("stack", (Arg(TupleType(fields)),), StackAttrs(axis))


def _join_bad(name: str) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        first = tensor(draw, ALL, min_rank=2, min_dim=2)
        kind = draw(st.integers(0, 3))
        if kind == 0:  # extents differ off the axis (and so the types differ)
            other = TensorType((first.shape[0], first.shape[1] + 1, *first.shape[2:]), first.dtype)
        elif kind == 1:  # another rank
            other = TensorType(first.shape[:-1], first.dtype)
        elif kind == 2:  # another dtype
            other = TensorType(first.shape, "bool" if first.dtype != "bool" else "int32")
        else:
            fields = TupleType([first] if flag(draw) else [])
            axis = invalid_axis(draw, first.ndim + (name == "stack"))
            attrs = StackAttrs(axis) if name == "stack" else ConcatenateAttrs(axis)
            return OpCall(name, (Arg(fields),), attrs)
        attrs = StackAttrs(0) if name == "stack" else ConcatenateAttrs(0)
        return OpCall(name, (Arg(TupleType([first, other])),), attrs)

    return sample


def _split(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, min_rank=1, max_dim=6, zero_ok=True)
    axis = axis_of(draw, ty.ndim)
    n = ty.shape[axis]
    if n == 0 or flag(draw):  # an empty axis splits only into sections (indices stay below n)
        sections = draw(st.sampled_from([k for k in range(1, max(n, 3) + 1) if n % k == 0]))
        return OpCall("split", (Arg(ty),), SplitAttrs(sections, axis))
    cuts = draw(st.lists(st.integers(1, n - 1), unique=True)) if n > 1 else []
    return OpCall("split", (Arg(ty),), SplitAttrs(tuple(sorted(cuts)), axis))


def _split_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1, min_dim=2)
    n = ty.shape[0]
    options: list[int | tuple[int, ...]] = [n + 1, 0, -2, (1, 1), (n,), (2, 1), (0, 1)]
    bad = draw(st.sampled_from(options))
    return OpCall("split", (Arg(ty),), SplitAttrs(bad, 0))


# --- reshape_like, tile, repeat, reverse -------------------------------------------------------


def _from_end(draw: st.DrawFn, index: int, ndim: int) -> int:
    """``index`` written as is or, when it is not ``ndim``, counted from the end."""
    return index - ndim if index < ndim and flag(draw) else index


def _reshape_like(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint)
    lb = draw(st.integers(0, ty.ndim))
    le = draw(st.integers(lb, ty.ndim))
    middle = factor(draw, math.prod(ty.shape[lb:le]))
    prefix = shape_of(draw, max_rank=1)
    suffix = shape_of(draw, max_rank=1)
    like = TensorType((*prefix, *middle, *suffix), draw(st.sampled_from(ALL)))
    rb, re_ = len(prefix), len(prefix) + len(middle)
    rhs_end = None if not suffix and flag(draw) else _from_end(draw, re_, like.ndim)
    lhs_end = None if le == ty.ndim and flag(draw) else _from_end(draw, le, ty.ndim)
    attrs = ReshapeLikeAttrs(
        _from_end(draw, lb, ty.ndim), lhs_end, _from_end(draw, rb, like.ndim), rhs_end
    )
    return OpCall("reshape_like", (Arg(ty), Arg(like)), attrs)


def _reshape_like_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1)
    if flag(draw):  # element counts differ
        like = TensorType((2 * math.prod(ty.shape),), "float32")
        return OpCall("reshape_like", (Arg(ty), Arg(like)), ReshapeLikeAttrs())
    like = tensor(draw, ALL)
    attrs = ReshapeLikeAttrs(ty.ndim, 0) if flag(draw) else ReshapeLikeAttrs(0, ty.ndim + 1)
    return OpCall("reshape_like", (Arg(ty), Arg(like)), attrs)


def _tile(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    reps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=ty.ndim + 1))
    return OpCall("tile", (Arg(ty),), TileAttrs(tuple(reps)))


def _tile_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL)
    return OpCall("tile", (Arg(ty),), TileAttrs((1, draw(st.integers(-2, 0)))))


def _repeat(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, min_rank=1, zero_ok=True)
    attrs = RepeatAttrs(draw(st.integers(1, 3)), axis_of(draw, ty.ndim))
    return OpCall("repeat", (Arg(ty),), attrs)


def _repeat_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1)
    attrs = draw(
        st.sampled_from(
            [RepeatAttrs(0, 0), RepeatAttrs(2, None), RepeatAttrs(2, invalid_axis(draw, ty.ndim))]
        )
    )
    return OpCall("repeat", (Arg(ty),), attrs)


def _reverse(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, min_rank=1, zero_ok=True)
    return OpCall("reverse", (Arg(ty),), ReverseAttrs(axis_of(draw, ty.ndim)))


def _reverse_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL)
    axis = None if flag(draw) else invalid_axis(draw, ty.ndim)
    return OpCall("reverse", (Arg(ty),), ReverseAttrs(axis))


# --- layout_transform -------------------------------------------------------------------------


def _layout(draw: st.DrawFn, letters: list[str], extents: dict[str, int]) -> str:
    """A permutation of ``letters`` with, now and then, one of them split by a divisor."""
    order = draw(st.permutations(letters))
    parts = list(order)
    if flag(draw):
        i = draw(st.integers(0, len(parts) - 1))
        e = extents[parts[i]]
        f = draw(st.sampled_from([k for k in range(1, e + 1) if e % k == 0]))
        parts.insert(draw(st.integers(0, len(parts))), f"{f}{parts[i].lower()}")
    return "".join(parts)


def _layout_shape(layout: str, extents: dict[str, int]) -> tuple[int, ...]:
    """The data shape of ``layout``: a split primal axis keeps ``extent / factor``."""
    axes = [(int(f) if f else 0, c) for f, c in re.findall(r"(\d*)([A-Za-z])", layout)]
    factors = {c.upper(): f for f, c in axes if f}
    return tuple(f if f else extents[c] // factors.get(c, 1) for f, c in axes)


def _layout_transform(draw: st.DrawFn, hint: Hint) -> OpCall:
    letters = draw(st.sampled_from([list("NC"), list("NCW"), list("NCHW"), list("NCDHW")]))
    extents = {c: draw(st.integers(1, 6)) for c in letters}
    src = _layout(draw, letters, extents)
    dst = _layout(draw, letters, extents)
    ty = TensorType(_layout_shape(src, extents), dtype_of(draw, ALL, hint))
    return OpCall("layout_transform", (Arg(ty),), LayoutTransformAttrs(src, dst))


def _layout_transform_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = TensorType((2, 3, 4, 5), draw(st.sampled_from(ALL)))
    src, dst = draw(
        st.sampled_from(
            [
                ("NCHW", "NCH"),  # other primal axes
                ("NCHW", "NCHW2c"),  # 2 does not divide 3
                ("NCH", "NCH"),  # the source does not fit the data
                ("NCHW", "nchw"),
                ("NCHW", "NC4"),
                ("NCHW", "NCHH"),
                ("", "NCHW"),
                ("NCHW3c", "NCHW"),  # a sub-axis on a data of rank 4
            ]
        )
    )
    return OpCall("layout_transform", (Arg(ty),), LayoutTransformAttrs(src, dst))


def _samplers() -> dict[str, OpSampler]:
    return {
        "expand_dims": OpSampler(_expand_dims, (_expand_dims_bad,), bounded=True),
        "squeeze": OpSampler(_squeeze, (_squeeze_bad,), bounded=True),
        "reshape": OpSampler(_reshape, (_reshape_bad,), bounded=True),
        "transpose": OpSampler(_transpose, (_transpose_bad,), bounded=True),
        "concatenate": OpSampler(_concatenate, (_join_bad("concatenate"),), bounded=True),
        "stack": OpSampler(_stack, (_join_bad("stack"),), bounded=True),
        "split": OpSampler(_split, (_split_bad,), bounded=True),
        "reshape_like": OpSampler(_reshape_like, (_reshape_like_bad,), bounded=True),
        "tile": OpSampler(_tile, (_tile_bad,), bounded=True),
        "repeat": OpSampler(_repeat, (_repeat_bad,), bounded=True),
        "reverse": OpSampler(_reverse, (_reverse_bad,), bounded=True),
        "layout_transform": OpSampler(_layout_transform, (_layout_transform_bad,), bounded=True),
    }


SAMPLERS: dict[str, OpSampler] = _samplers()
