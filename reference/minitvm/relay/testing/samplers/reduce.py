"""Samplers of the reductions (``sum`` ... ``any``, ``argmax``/``argmin``, ``variance``), the
scans ``cumsum``/``cumprod`` and the sorts ``sort``/``argsort``/``topk``.

Reduced axes are drawn as TVM's ``GetReduceAxes`` reads them: None, empty, a list of distinct
(possibly negative) axes, or the complement of one with ``exclude``. ``mean`` and ``variance``
never reduce an empty extent (0 / 0), and ``variance`` is unbiased only over two or more
elements.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from minitvm.ir.type import TensorType
from minitvm.relay.op.defs.algorithm import ArgsortAttrs, TopKAttrs
from minitvm.relay.op.defs.rearrange import ScanopAttrs
from minitvm.relay.op.defs.reduce import ArgReduceAttrs, ReduceAttrs, VarianceAttrs, reduce_axes
from minitvm.relay.testing.samplers.base import (
    ALL,
    FLOATS,
    INTS,
    NUMERIC,
    UNSIGNED,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    SampleFn,
    axis_of,
    flag,
    invalid_axis,
    tensor,
)

__all__ = ["SAMPLERS"]


def _axes(draw: st.DrawFn, ndim: int) -> tuple[int, ...] | None:
    """None, (), or distinct axes, each written positive or negative."""
    if ndim == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from([None, ()]))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


def _bad_axes(draw: st.DrawFn, ndim: int) -> tuple[int, ...]:
    if ndim and draw(st.booleans()):
        a = draw(st.integers(0, ndim - 1))
        return (a, a - ndim)  # one axis twice
    return (invalid_axis(draw, ndim),)


def _reduce(name: str, dtypes: tuple[str, ...], zero_ok: bool) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, dtypes, hint, zero_ok=zero_ok)
        attrs = ReduceAttrs(_axes(draw, ty.ndim), draw(st.booleans()), draw(st.booleans()))
        return OpCall(name, (Arg(ty),), attrs)

    return sample


def _reduce_sampler(name: str, dtypes: tuple[str, ...], bounded: bool, zero_ok: bool) -> OpSampler:
    def bad(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, dtypes)
        return OpCall(name, (Arg(ty),), ReduceAttrs(_bad_axes(draw, ty.ndim)))

    return OpSampler(_reduce(name, dtypes, zero_ok), (bad,), accepts=dtypes, bounded=bounded)


def _arg_reduce(name: str) -> OpSampler:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, ALL, hint, zero_ok=True)
        attrs = ArgReduceAttrs(_axes(draw, ty.ndim), flag(draw), flag(draw), flag(draw))
        return OpCall(name, (Arg(ty),), attrs)

    def bad(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, ALL)
        return OpCall(name, (Arg(ty),), ArgReduceAttrs(_bad_axes(draw, ty.ndim)))

    return OpSampler(sample, (bad,), bounded=True)


def _variance(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, FLOATS, hint, min_rank=1)
    axis = _axes(draw, ty.ndim)
    attrs = VarianceAttrs(axis, flag(draw), flag(draw), False)
    reduced = reduce_axes(ty.ndim, attrs)
    if math.prod(ty.shape[a] for a in reduced) > 1:
        attrs = VarianceAttrs(axis, attrs.keepdims, attrs.exclude, flag(draw))
    mean = TensorType([1 if i in reduced else d for i, d in enumerate(ty.shape)], ty.dtype)
    return OpCall("variance", (Arg(ty), Arg(mean)), attrs)


def _variance_bad_mean(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, FLOATS, min_rank=1, min_dim=2)
    kind = draw(st.integers(0, 2))
    if kind == 0:  # the reduced axes not kept
        mean = TensorType((), ty.dtype)
    elif kind == 1:  # another dtype
        mean = TensorType((1,) * ty.ndim, draw(st.sampled_from([d for d in ALL if d != ty.dtype])))
    else:  # an extent where 1 is expected
        mean = TensorType(ty.shape, ty.dtype)
    return OpCall("variance", (Arg(ty), Arg(mean)), VarianceAttrs())


# --- scans and sorts -----------------------------------------------------------------------------


def _scan(name: str) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, ALL, hint, zero_ok=True)
        axis = axis_of(draw, ty.ndim) if ty.ndim and draw(st.booleans()) else None
        dtype = draw(st.sampled_from(["", *ALL]))
        # Products stay within [-1, 1]; sums of a few dozen small values fit every dtype.
        lo, hi = (-1.0, 1.0) if name == "cumprod" else (-2.0, 2.0)
        if ty.dtype in INTS and name == "cumsum":
            lo, hi = -8.0, 8.0
        if dtype in UNSIGNED and ty.dtype in FLOATS:
            lo = 0.0  # a negative float has no unsigned value
        attrs = ScanopAttrs(axis, dtype, flag(draw))
        return OpCall(name, (Arg(ty, lo, hi),), attrs)

    return sample


def _scan_bad(name: str) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, NUMERIC)
        if draw(st.booleans()):
            return OpCall(name, (Arg(ty),), ScanopAttrs(invalid_axis(draw, ty.ndim)))
        return OpCall(name, (Arg(ty),), ScanopAttrs(None, "xx"))

    return sample


def _sort(name: str) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, ALL, hint, min_rank=1, zero_ok=True)
        dtype = draw(st.sampled_from(["", *INTS])) if name == "argsort" else ""
        attrs = ArgsortAttrs(axis_of(draw, ty.ndim), draw(st.booleans()), dtype)
        return OpCall(name, (Arg(ty),), attrs)

    return sample


def _sort_bad(name: str) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, ALL, min_rank=0)
        if name == "argsort" and ty.ndim and draw(st.booleans()):
            bad = draw(st.sampled_from([*FLOATS, "bool"]))
            return OpCall(name, (Arg(ty),), ArgsortAttrs(-1, True, bad))
        return OpCall(name, (Arg(ty),), ArgsortAttrs(invalid_axis(draw, ty.ndim)))

    return sample


def _topk(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, min_rank=1, zero_ok=True)
    axis = axis_of(draw, ty.ndim)
    k = draw(st.one_of(st.none(), st.integers(-1, ty.shape[axis])))
    ret = draw(st.sampled_from(["both", "values", "indices"]))
    attrs = TopKAttrs(k, axis, ret, draw(st.booleans()), draw(st.sampled_from(["", *INTS])))
    return OpCall("topk", (Arg(ty),), attrs)


def _topk_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, min_rank=1)
    kind = draw(st.integers(0, 3))
    if kind == 0:
        attrs = TopKAttrs(ty.shape[-1] + draw(st.integers(1, 3)))
    elif kind == 1:
        attrs = TopKAttrs(1, -1, draw(st.sampled_from(["all", "", "value"])))
    elif kind == 2:
        attrs = TopKAttrs(1, -1, "both", False, draw(st.sampled_from([*FLOATS, "bool"])))
    else:
        attrs = TopKAttrs(1, invalid_axis(draw, ty.ndim))
    return OpCall("topk", (Arg(ty),), attrs)


def _samplers() -> dict[str, OpSampler]:
    table: dict[str, OpSampler] = {
        "sum": _reduce_sampler("sum", ALL, False, True),
        "prod": _reduce_sampler("prod", ALL, True, True),
        # An empty max/min is the dtype's lowest/highest value: not bounded.
        "max": _reduce_sampler("max", ALL, False, True),
        "min": _reduce_sampler("min", ALL, False, True),
        "mean": _reduce_sampler("mean", NUMERIC, True, False),
        "all": _reduce_sampler("all", ("bool",), True, True),
        "any": _reduce_sampler("any", ("bool",), True, True),
        "argmax": _arg_reduce("argmax"),
        "argmin": _arg_reduce("argmin"),
        "variance": OpSampler(_variance, (_variance_bad_mean,), accepts=FLOATS),
        "cumsum": OpSampler(_scan("cumsum"), (_scan_bad("cumsum"),)),
        "cumprod": OpSampler(_scan("cumprod"), (_scan_bad("cumprod"),)),
        "topk": OpSampler(_topk, (_topk_bad,), bounded=True),
    }
    for name in ("sort", "argsort"):
        table[name] = OpSampler(_sort(name), (_sort_bad(name),), bounded=True)
    return table


SAMPLERS: dict[str, OpSampler] = _samplers()
