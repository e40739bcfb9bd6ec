"""Samplers of the indexing operators: ``take``, ``gather``, ``gather_nd`` and
``strided_slice``.

Index tensors reach one past each end of their axis, so the out-of-range rules (``clip``,
``wrap``, the clamped reads of ``fast``, ``gather``, ``gather_nd``) are exercised; indexed axes
are never empty. ``strided_slice`` bounds are drawn as canonical ranges in the stride's
direction and then written as TVM accepts them: as is, counted from the end, omitted (None),
or past the end.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from minitvm.ir.type import TensorType
from minitvm.relay.op.defs.index import GatherAttrs, GatherNDAttrs, StridedSliceAttrs, TakeAttrs
from minitvm.relay.testing.samplers.base import (
    ALL,
    FLOATS,
    INTS,
    UNSIGNED,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    axis_of,
    flag,
    invalid_axis,
    shape_of,
    tensor,
)

__all__ = ["SAMPLERS"]


def _indices(draw: st.DrawFn, shape: tuple[int, ...], extent: int) -> Arg:
    """Indices into an axis of ``extent``, one past either end included."""
    ty = TensorType(shape, draw(st.sampled_from(INTS)))
    lo = 0 if ty.dtype in UNSIGNED else -extent - 1
    return Arg(ty, lo, extent)


def _take(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, hint)
    mode = draw(st.sampled_from(["clip", "wrap", "fast"]))
    if data.ndim == 0 or flag(draw):
        idx = _indices(draw, shape_of(draw, max_rank=2, zero_ok=True), math.prod(data.shape))
        # Without an axis, batch_dims plays no part.
        return OpCall("take", (Arg(data), idx), TakeAttrs(draw(st.integers(-1, 2)), None, mode))
    axis = axis_of(draw, data.ndim)
    a = axis % data.ndim
    b = draw(st.integers(0, a))
    ishape = (*data.shape[:b], *shape_of(draw, max_rank=2, zero_ok=True))
    idx = _indices(draw, ishape, data.shape[a])
    batch_dims = b - len(ishape) if b < len(ishape) and flag(draw) else b
    return OpCall("take", (Arg(data), idx), TakeAttrs(batch_dims, axis, mode))


def _take_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, min_rank=2, min_dim=2)
    idx = Arg(TensorType((data.shape[0] + 1, 2), "int32"))
    kind = draw(st.integers(0, 4))
    attrs = TakeAttrs(0, 1, "clip")
    if kind == 0:
        attrs = TakeAttrs(0, None, draw(st.sampled_from(["raise", "", "CLIP"])))
    elif kind == 1:
        idx = Arg(TensorType((2,), draw(st.sampled_from([*FLOATS, "bool"]))))
    elif kind == 2:
        attrs = TakeAttrs(0, invalid_axis(draw, data.ndim))
    elif kind == 3:
        attrs = TakeAttrs(2, 1)  # more batch axes than the axis leaves
    else:
        attrs = TakeAttrs(1, 1)  # the batch extents differ
    return OpCall("take", (Arg(data), idx), attrs)


def _gather(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, hint, min_rank=1, zero_ok=True)
    axis = axis_of(draw, data.ndim)
    ishape = list(data.shape)
    # An empty axis has nothing to read (TVMError): only no indices are valid along it.
    ishape[axis] = draw(st.integers(0, 4)) if data.shape[axis] else 0
    idx = _indices(draw, tuple(ishape), data.shape[axis])
    return OpCall("gather", (Arg(data), idx), GatherAttrs(axis))


def _gather_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, min_rank=2, min_dim=2)
    kind = draw(st.integers(0, 4))
    ishape = data.shape
    attrs = GatherAttrs(0)
    dtype = "int32"
    if kind == 0:
        attrs = GatherAttrs(None)
    elif kind == 1:
        ishape = data.shape[:-1]
    elif kind == 2:
        ishape = (*data.shape[:-1], data.shape[-1] + 1)
    elif kind == 3:
        attrs = GatherAttrs(invalid_axis(draw, data.ndim))
    else:
        dtype = draw(st.sampled_from([*FLOATS, "bool"]))
    return OpCall("gather", (Arg(data), Arg(TensorType(ishape, dtype))), attrs)


def _gather_nd(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, hint, min_rank=1)
    b = draw(st.integers(0, data.ndim - 1))
    m = draw(st.integers(0, data.ndim - b))
    ishape = (m, *data.shape[:b], *shape_of(draw, max_rank=2, zero_ok=True))
    idx = _indices(draw, ishape, max(data.shape))
    attrs = GatherNDAttrs(b, m if flag(draw) else None)
    return OpCall("gather_nd", (Arg(data), idx), attrs)


def _gather_nd_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, min_rank=2, min_dim=2)
    kind = draw(st.integers(0, 4))
    ishape: tuple[int, ...] = (1, 2)
    attrs = GatherNDAttrs()
    dtype = "int32"
    if kind == 0:  # more index components than axes
        ishape = (data.ndim + 1, 2)
    elif kind == 1:
        attrs = GatherNDAttrs(0, 2)
    elif kind == 2:  # batch extents differ
        ishape, attrs = (1, data.shape[0] + 1), GatherNDAttrs(1)
    elif kind == 3:
        ishape = ()
    else:
        dtype = draw(st.sampled_from([*FLOATS, "bool"]))
    return OpCall("gather_nd", (Arg(data), Arg(TensorType(ishape, dtype))), attrs)


# --- strided_slice -------------------------------------------------------------------------------

Bound = int | None


def _written(draw: st.DrawFn, index: int, n: int, omitted: bool, past_end: bool) -> Bound:
    """A canonical index written as TVM reads it back: as is, from the end, None (when
    ``omitted`` means the same) or beyond the extent (when clamping gives it back)."""
    forms: list[Bound] = [index]
    if 0 <= index < n:
        forms.append(index - n)
    if omitted:
        forms.append(None)
    if past_end:
        forms.append(index + draw(st.integers(1, 3)))
    return draw(st.sampled_from(forms))


def _slice_axis(draw: st.DrawFn, n: int) -> tuple[Bound, Bound, int]:
    stride = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
    if stride > 0:
        b = draw(st.integers(0, n))
        e = draw(st.integers(b, n))
        return _written(draw, b, n, b == 0, False), _written(draw, e, n, e == n, e == n), stride
    b = draw(st.integers(0, n - 1)) if n else -1
    e = draw(st.integers(-1, b))
    begin = _written(draw, b, n, b == n - 1, b == n - 1)
    end = -n - draw(st.integers(1, 3)) if e == -1 else _written(draw, e, n, False, False)
    return begin, end, stride


def _strided_slice(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, hint, min_rank=1, max_dim=6, zero_ok=True)
    if flag(draw):
        chosen = draw(st.lists(st.integers(0, data.ndim - 1), min_size=1, unique=True))
        axes: tuple[int, ...] | None = tuple(a - data.ndim if flag(draw) else a for a in chosen)
    else:
        chosen = list(range(draw(st.integers(0, data.ndim))))
        axes = None
    if draw(st.integers(0, 3)) == 0:  # slice_mode "size": end is a length, strides ignored
        begins = [draw(st.integers(0, data.shape[a])) for a in chosen]
        sizes = [
            draw(st.integers(-1, data.shape[a] - b)) for a, b in zip(chosen, begins, strict=True)
        ]
        attrs = StridedSliceAttrs(tuple(begins), tuple(sizes), None, "size", axes)
        return OpCall("strided_slice", (Arg(data),), attrs)
    triples = [_slice_axis(draw, data.shape[a]) for a in chosen]
    strides: tuple[int, ...] | None = tuple(s for _, _, s in triples)
    if strides and all(s == 1 for s in strides) and flag(draw):
        strides = None if flag(draw) else strides[:1]
    attrs = StridedSliceAttrs(
        tuple(b for b, _, _ in triples), tuple(e for _, e, _ in triples), strides, "end", axes
    )
    return OpCall("strided_slice", (Arg(data),), attrs)


def _strided_slice_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, ALL, min_rank=1, min_dim=4)
    attrs = draw(
        st.sampled_from(
            [
                StridedSliceAttrs((0,), (2,), (0,)),  # a zero stride
                StridedSliceAttrs((3,), (1,), (1,)),  # against the stride's direction
                StridedSliceAttrs((1,), (3,), (-1,)),
                StridedSliceAttrs((0, 0), (1,), None, "end", (0,)),  # lengths differ
                StridedSliceAttrs((0,), (1,), None, "xx"),
                StridedSliceAttrs(None, (1,)),
                StridedSliceAttrs((0,), (1,), None, "end", (data.ndim,)),
                StridedSliceAttrs((0, 0), (1, 1), None, "end", (0, -data.ndim)),
            ]
        )
    )
    return OpCall("strided_slice", (Arg(data),), attrs)


def _samplers() -> dict[str, OpSampler]:
    return {
        "take": OpSampler(_take, (_take_bad,), bounded=True),
        "gather": OpSampler(_gather, (_gather_bad,), bounded=True),
        "gather_nd": OpSampler(_gather_nd, (_gather_nd_bad,), bounded=True),
        "strided_slice": OpSampler(_strided_slice, (_strided_slice_bad,), bounded=True),
    }


SAMPLERS: dict[str, OpSampler] = _samplers()
