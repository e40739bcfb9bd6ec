"""Samplers of the creating and broadcasting operators: ``zeros``, ``ones``, ``full``,
``full_like``, ``arange``, ``one_hot``, ``broadcast_to``, ``broadcast_to_like``, ``where``,
``collapse_sum_like``, ``collapse_sum_to`` and ``annotation.stop_fusion``.

A broadcast target is drawn from its source (leading axes added, unit axes widened) and a
collapse source from its target the same way, so both directions are valid by construction.
``arange``'s bounds are constants whose values its attrs repeat.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from minitvm.ir.type import TensorType
from minitvm.relay.op.defs.create import ArangeAttrs, OneHotAttrs
from minitvm.relay.op.defs.transform import InitOpAttrs
from minitvm.relay.testing.samplers.base import (
    ALL,
    FLOATS,
    INTS,
    UNSIGNED,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    dtype_of,
    flag,
    shape_of,
    tensor,
)
from minitvm.relay.testing.samplers.elemwise import broadcast_partner

__all__ = ["SAMPLERS", "fill_arg", "widened"]


def widened(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape ``shape`` broadcasts to: a leading axis now and then, unit axes widened."""
    lead = (draw(st.integers(1, 3)),) if flag(draw) else ()
    return (*lead, *(draw(st.integers(1, 3)) if d == 1 and flag(draw) else d for d in shape))


def _not_broadcast(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(source, target): the target is no broadcast of the source."""
    src = list(shape_of(draw, min_rank=1, min_dim=2))
    dst = list(src)
    dst[-1] += draw(st.integers(1, 2))
    return tuple(src), tuple(dst)


def _broadcast_to(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    return OpCall("broadcast_to", (Arg(ty),), InitOpAttrs(widened(draw, ty.shape)))


def _broadcast_to_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    src, dst = _not_broadcast(draw)
    shape = draw(st.sampled_from([dst, None, (-1, *src)]))
    return OpCall("broadcast_to", (Arg(TensorType(src, "float32")),), InitOpAttrs(shape))


def _broadcast_to_like(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    like = TensorType(widened(draw, ty.shape), draw(st.sampled_from(ALL)))
    return OpCall("broadcast_to_like", (Arg(ty), Arg(like)))


def _broadcast_to_like_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    src, dst = _not_broadcast(draw)
    args = (Arg(TensorType(src, "float32")), Arg(TensorType(dst, "int8")))
    return OpCall("broadcast_to_like", args)


def _init(name: str) -> OpSampler:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, ALL, hint, zero_ok=True)
        return OpCall(name, (), InitOpAttrs(ty.shape, ty.dtype))

    def bad(draw: st.DrawFn, hint: Hint) -> OpCall:
        attrs = draw(
            st.sampled_from(
                [InitOpAttrs(None, "float32"), InitOpAttrs((2, -1), "int8"), InitOpAttrs((2,), "")]
            )
        )
        return OpCall(name, (), attrs)

    return OpSampler(sample, (bad,), bounded=True)


def fill_arg(fill: TensorType, dtype: str) -> Arg:
    """A fill value the output dtype represents (a negative float has no unsigned value)."""
    if fill.dtype in FLOATS and dtype in UNSIGNED:
        return Arg(fill, 0.0, 1.0)
    return Arg(fill)


def _full(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    fill = TensorType((), dtype_of(draw, ALL, hint))
    dtype = "" if fill.dtype == ty.dtype and flag(draw) else ty.dtype
    return OpCall("full", (fill_arg(fill, ty.dtype),), InitOpAttrs(ty.shape, dtype))


def _full_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    if flag(draw):
        return OpCall("full", (Arg(tensor(draw, ALL, min_rank=1)),), InitOpAttrs((2,)))
    return OpCall("full", (Arg(TensorType((), "float32")),), InitOpAttrs(None))


def _full_like(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    fill = TensorType((), draw(st.sampled_from(ALL)))
    return OpCall("full_like", (Arg(ty), fill_arg(fill, ty.dtype)))


def _full_like_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    return OpCall("full_like", (Arg(tensor(draw, ALL)), Arg(tensor(draw, ALL, min_rank=1))))


# --- arange, one_hot ---------------------------------------------------------------------------


def _arange(draw: st.DrawFn, hint: Hint) -> OpCall:
    dtype = dtype_of(draw, ALL, hint)
    n = draw(st.integers(1, 8))
    if dtype in FLOATS:
        start = float(draw(st.integers(-6, 6))) / 2
        step = draw(st.sampled_from([0.5, 1.0, 1.5, -0.5, -1.0, -2.0]))
        stop = start + step * (n - 0.5)
    else:
        lo = 0 if dtype in UNSIGNED or dtype == "bool" else -5
        start = draw(st.integers(lo, 5))
        step = draw(st.sampled_from([1, 2, 3] if lo == 0 else [1, 2, -1, -3]))
        stop = start + step * (n - 1) + (1 if step > 0 else -1)
    return _arange_call(dtype, start, stop, step)


def _arange_call(dtype: str, start: float, stop: float, step: float) -> OpCall:
    args = tuple(
        Arg(TensorType((), dtype), value=np.asarray(v).astype(dtype)) for v in (start, stop, step)
    )
    return OpCall("arange", args, ArangeAttrs(start, stop, step, dtype))


def _arange_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return _arange_call("float32", 0.0, 3.0, 0.0)
    if kind == 1:
        return _arange_call("int32", 3, 3, 1)
    if kind == 2:
        return _arange_call("float32", 2.0, 1.0, 1.0)
    call = _arange_call("float32", 0.0, 3.0, 1.0)
    return call.replace(1, Arg(TensorType(draw(st.sampled_from([(), (1,)])), "int32")))


def _one_hot(draw: st.DrawFn, hint: Hint) -> OpCall:
    indices = tensor(draw, INTS, hint, zero_ok=True)
    depth = draw(st.integers(0, 4))
    value = TensorType((), draw(st.sampled_from(ALL)))
    attrs = OneHotAttrs(
        depth,
        draw(st.integers(-1, indices.ndim)),
        draw(st.sampled_from(["", value.dtype])),
    )
    lo = 0 if indices.dtype in UNSIGNED else -1
    return OpCall("one_hot", (Arg(indices, lo, depth), Arg(value), Arg(value)), attrs)


def _one_hot_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    indices = tensor(draw, INTS)
    on = TensorType((), "float32")
    off = on
    kind = draw(st.integers(0, 4))
    attrs = OneHotAttrs(3, -1, "")
    if kind == 0:
        attrs = OneHotAttrs(3, draw(st.sampled_from([-2, indices.ndim + 1])))
    elif kind == 1:
        attrs = OneHotAttrs(-1)
    elif kind == 2:
        off = TensorType((), "int32")
    elif kind == 3:
        attrs = OneHotAttrs(3, -1, "int8")
    else:
        indices = TensorType(indices.shape, draw(st.sampled_from([*FLOATS, "bool"])))
    return OpCall("one_hot", (Arg(indices), Arg(on), Arg(off)), attrs)


# --- where, collapse_sum -------------------------------------------------------------------------


def _where(draw: st.DrawFn, hint: Hint) -> OpCall:
    cond = tensor(draw, ALL, hint, zero_ok=True)
    xs = broadcast_partner(draw, cond.shape)
    out = tuple(int(d) for d in np.broadcast_shapes(cond.shape, xs))
    ys = tuple(1 if flag(draw) else d for d in out[draw(st.integers(0, len(out))) :])
    dtype = draw(st.sampled_from(ALL))
    x, y = TensorType(xs, dtype), TensorType(ys, dtype)
    if flag(draw):
        x, y = y, x
    return OpCall("where", (Arg(cond), Arg(x), Arg(y)))


def _where_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    src, dst = _not_broadcast(draw)
    if flag(draw):
        args = (TensorType(src, "bool"), TensorType(src, "float32"), TensorType(dst, "float32"))
    else:
        args = (TensorType(src, "bool"), TensorType(src, "float32"), TensorType(src, "int32"))
    return OpCall("where", tuple(Arg(a) for a in args))


def _collapse_sum_like(draw: st.DrawFn, hint: Hint) -> OpCall:
    target = tensor(draw, ALL, hint, zero_ok=True)
    data = TensorType(widened(draw, target.shape), target.dtype)
    return OpCall("collapse_sum_like", (Arg(data), Arg(target)))


def _collapse_sum_like_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    src, dst = _not_broadcast(draw)
    if flag(draw):
        return OpCall("collapse_sum_like", (Arg(TensorType(dst)), Arg(TensorType(src))))
    return OpCall("collapse_sum_like", (Arg(TensorType(src)), Arg(TensorType(src, "int32"))))


def _shape_arg(shape: tuple[int, ...]) -> Arg:
    return Arg(TensorType((len(shape),), "int64"), value=np.asarray(shape, "int64"))


def _collapse_sum_to(draw: st.DrawFn, hint: Hint) -> OpCall:
    target = tensor(draw, ALL, hint, zero_ok=True)
    data = TensorType(widened(draw, target.shape), target.dtype)
    return OpCall(
        "collapse_sum_to", (Arg(data), _shape_arg(target.shape)), InitOpAttrs(target.shape)
    )


def _collapse_sum_to_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    src, dst = _not_broadcast(draw)
    kind = draw(st.integers(0, 2))
    if kind == 0:  # not a broadcast
        return OpCall("collapse_sum_to", (Arg(TensorType(dst)), _shape_arg(src)), InitOpAttrs(src))
    if kind == 1:  # the shape argument has another length
        args = (Arg(TensorType(src)), _shape_arg((*src, 1)))
        return OpCall("collapse_sum_to", args, InitOpAttrs(src))
    return OpCall("collapse_sum_to", (Arg(TensorType(src)), _shape_arg(src)), InitOpAttrs(None))


def _stop_fusion(draw: st.DrawFn, hint: Hint) -> OpCall:
    return OpCall("annotation.stop_fusion", (Arg(tensor(draw, ALL, hint, zero_ok=True)),))


def _samplers() -> dict[str, OpSampler]:
    return {
        "broadcast_to": OpSampler(_broadcast_to, (_broadcast_to_bad,), bounded=True),
        "broadcast_to_like": OpSampler(_broadcast_to_like, (_broadcast_to_like_bad,), bounded=True),
        "zeros": _init("zeros"),
        "ones": _init("ones"),
        "full": OpSampler(_full, (_full_bad,), bounded=True),
        "full_like": OpSampler(_full_like, (_full_like_bad,), bounded=True),
        "arange": OpSampler(_arange, (_arange_bad,)),
        "one_hot": OpSampler(_one_hot, (_one_hot_bad,), accepts=INTS, bounded=True),
        "where": OpSampler(_where, (_where_bad,), bounded=True),
        "collapse_sum_like": OpSampler(_collapse_sum_like, (_collapse_sum_like_bad,)),
        "collapse_sum_to": OpSampler(_collapse_sum_to, (_collapse_sum_to_bad,)),
        "annotation.stop_fusion": OpSampler(_stop_fusion, bounded=True, any_kind=True),
    }


SAMPLERS: dict[str, OpSampler] = _samplers()
