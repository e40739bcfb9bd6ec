"""Samplers of the elementwise operators: unary math, rounding and predicates, broadcasting
binary operators and comparisons, ``clip``, the casts, ``shape_of`` and ``ndarray_size``.

Domains keep results finite: ``log``/``rsqrt`` take positive inputs, ``acosh`` inputs above 1,
``atanh`` ``|x| < 1``, divisors stay away from zero for floats, ``power`` has a positive base.
On integer dtypes the transcendental functions compute in float64 and cast back, so their
integer domains keep the result representable.
"""

from __future__ import annotations

from hypothesis import strategies as st

from minitvm.ir.type import TensorType
from minitvm.relay.op.defs.unary import CastAttrs, ClipAttrs, NdarraySizeAttrs, ShapeOfAttrs
from minitvm.relay.testing.samplers.base import (
    ALL,
    FLOATS,
    INTS,
    NUMERIC,
    SIGNED,
    UNSIGNED,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    SampleFn,
    dtype_of,
    shape_of,
    tensor,
)

__all__ = ["SAMPLERS", "broadcast_pair", "broadcast_partner"]

Domain = tuple[float, float]

# name: (float domain, integer domain, bounded)
_MATH: dict[str, tuple[Domain, Domain, bool]] = {
    "exp": ((-1, 1), (-2, 2), False),
    "fast_exp": ((-1, 1), (-2, 2), False),
    "log": ((0.1, 2), (1, 8), False),
    "log2": ((0.1, 2), (1, 8), False),
    "log10": ((0.1, 2), (1, 8), False),
    "sqrt": ((0, 2), (0, 8), False),
    "rsqrt": ((0.1, 2), (1, 8), False),
    "erf": ((-1, 1), (-8, 8), True),
    "fast_erf": ((-1, 1), (-8, 8), True),
    "sigmoid": ((-1, 1), (-8, 8), True),
    "tanh": ((-1, 1), (-8, 8), True),
    "fast_tanh": ((-1, 1), (-8, 8), True),
    "sin": ((-1, 1), (-8, 8), True),
    "cos": ((-1, 1), (-8, 8), True),
    "tan": ((-1, 1), (-4, 4), False),
    "sinh": ((-1, 1), (-4, 4), False),
    "cosh": ((-1, 1), (-4, 4), False),
    "asin": ((-1, 1), (-1, 1), False),
    "acos": ((-1, 1), (-1, 1), False),
    "atan": ((-1, 1), (-8, 8), True),
    "asinh": ((-1, 1), (-8, 8), True),
    "acosh": ((1.05, 3), (1, 8), False),
    "atanh": ((-0.9, 0.9), (0, 0), False),
}


def _domain_arg(ty: TensorType, float_dom: Domain, int_dom: Domain) -> Arg:
    if ty.dtype in FLOATS:
        return Arg(ty, *float_dom)
    if ty.dtype in UNSIGNED:
        return Arg(ty, max(int_dom[0], 0), max(int_dom[1], 0))
    if ty.dtype in SIGNED:
        return Arg(ty, *int_dom)
    return Arg(ty)


def _unary(name: str, dtypes: tuple[str, ...], float_dom: Domain, int_dom: Domain) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, dtypes, hint, zero_ok=True)
        return OpCall(name, (_domain_arg(ty, float_dom, int_dom),))

    return sample


def _unary_sampler(
    name: str, dtypes: tuple[str, ...], bounded: bool, dom: Domain = (-1, 1)
) -> OpSampler:
    return OpSampler(_unary(name, dtypes, dom, (-8, 8)), accepts=dtypes, bounded=bounded)


# --- broadcasting binary operators -------------------------------------------------------------


def broadcast_partner(draw: st.DrawFn, a: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with ``a``: a suffix of a widening of ``a``, some axes 1."""
    lead = [draw(st.integers(1, 3))] if draw(st.booleans()) else []
    wide = [draw(st.integers(1, 3)) if d == 1 and draw(st.booleans()) else d for d in a]
    out = [*lead, *wide]
    k = draw(st.integers(0, len(out)))
    return tuple(1 if draw(st.booleans()) else d for d in out[len(out) - k :])


def broadcast_pair(draw: st.DrawFn, hint: Hint) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that broadcast together; the first is the hint's when it fits."""
    a = shape_of(draw, hint, zero_ok=True)
    return a, broadcast_partner(draw, a)


def _mismatched_pair(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes that do not broadcast: one axis has extents 2+ that differ."""
    a = list(shape_of(draw, min_rank=1))
    i = draw(st.integers(0, len(a) - 1))
    a[i] = max(a[i], 2)
    b = list(a[i:])
    b[0] = a[i] + draw(st.integers(1, 2))
    return tuple(a), tuple(b)


# name: (dtypes, rhs float domain and nonzero, bounded)
_DIVISIONS = ("divide", "trunc_divide", "floor_divide", "mod", "trunc_mod", "floor_mod")


def _binary_args(name: str, a: TensorType, b: TensorType) -> tuple[Arg, Arg]:
    if name in _DIVISIONS and a.dtype in FLOATS:
        return Arg(a), Arg(b, 0.5, 2.0, nonzero=True)
    if name == "power":
        if a.dtype in FLOATS:
            return Arg(a, 0.5, 2.0), Arg(b, -2.0, 2.0)
        lo = 0.0 if a.dtype in UNSIGNED else -4.0
        return Arg(a, lo, 4.0), Arg(b, -3.0, 4.0)
    if name in ("left_shift", "right_shift"):
        lo = 0.0 if a.dtype in UNSIGNED else -3.0
        return Arg(a), Arg(b, lo, 70.0)
    return Arg(a), Arg(b)


def _binary(name: str, dtypes: tuple[str, ...]) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        dtype = dtype_of(draw, dtypes, hint)
        sa, sb = broadcast_pair(draw, hint)
        if draw(st.booleans()):
            sa, sb = sb, sa
        return OpCall(name, _binary_args(name, TensorType(sa, dtype), TensorType(sb, dtype)))

    return sample


def _binary_invalid(name: str, dtypes: tuple[str, ...]) -> tuple[SampleFn, ...]:
    def shapes(draw: st.DrawFn, hint: Hint) -> OpCall:
        dtype = draw(st.sampled_from(dtypes))
        sa, sb = _mismatched_pair(draw)
        return OpCall(name, (Arg(TensorType(sa, dtype)), Arg(TensorType(sb, dtype))))

    def dtypes_differ(draw: st.DrawFn, hint: Hint) -> OpCall:
        da = draw(st.sampled_from(dtypes))
        db = draw(st.sampled_from([d for d in ALL if d != da]))
        sa, sb = broadcast_pair(draw, None)
        return OpCall(name, (Arg(TensorType(sa, da)), Arg(TensorType(sb, db))))

    return shapes, dtypes_differ


def _binary_sampler(name: str, dtypes: tuple[str, ...], bounded: bool = False) -> OpSampler:
    return OpSampler(
        _binary(name, dtypes), _binary_invalid(name, dtypes), accepts=dtypes, bounded=bounded
    )


# --- clip, casts, shape queries ----------------------------------------------------------------


def _clip(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    lo = draw(st.floats(-1, 1, width=32))
    hi = draw(st.floats(lo, 1, width=32)) if draw(st.integers(0, 5)) else lo - 0.5
    return OpCall("clip", (Arg(ty),), ClipAttrs(lo, hi))


def _clip_bad_bound(draw: st.DrawFn, hint: Hint) -> OpCall:
    bad = draw(st.sampled_from([None, "1", True, (0.0,)]))
    attrs = ClipAttrs(bad, 1.0) if draw(st.booleans()) else ClipAttrs(0.0, bad)  # type: ignore[arg-type]  # a wrong field type, as parsed text may give
    return OpCall("clip", (Arg(tensor(draw, ALL)),), attrs)


def _cast_source(ty: TensorType, target: str) -> Arg:
    """Sources whose values the target dtype represents (a float out of range casts to an
    unspecified value)."""
    if ty.dtype in FLOATS:
        return Arg(ty, 0.0 if target in UNSIGNED else -8.0, 8.0)
    return Arg(ty)


def _cast(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    target = draw(st.sampled_from(ALL))
    return OpCall("cast", (_cast_source(ty, target),), CastAttrs(target))


def _cast_like(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    like = tensor(draw, ALL)
    return OpCall("cast_like", (_cast_source(ty, like.dtype), Arg(like)))


def _bad_dtype_attr(name: str, attrs_type: type[CastAttrs] | type[ShapeOfAttrs]) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        bad = draw(st.sampled_from(["float8", "xx", "", "int3"]))
        return OpCall(name, (Arg(tensor(draw, ALL)),), attrs_type(bad))

    return sample


_WIDTHS: tuple[tuple[str, ...], ...] = (
    ("int8", "uint8"),
    ("int16", "uint16", "float16"),
    ("int32", "uint32", "float32"),
    ("int64", "uint64", "float64"),
)


def _reinterpret(draw: st.DrawFn, hint: Hint) -> OpCall:
    group = next((g for g in _WIDTHS if hint is not None and hint.dtype in g), None)
    group = group or draw(st.sampled_from(_WIDTHS))
    ty = tensor(draw, group, hint, zero_ok=True)
    target = draw(st.sampled_from(group))
    # Small non-negative integers are denormal floats; negative ones would be NaNs.
    arg = Arg(ty, 0, 8) if ty.dtype in INTS and target in FLOATS else Arg(ty)
    return OpCall("reinterpret", (arg,), CastAttrs(target))


def _reinterpret_invalid(draw: st.DrawFn, hint: Hint) -> OpCall:
    src = draw(st.sampled_from(ALL))
    size = {d: i for i, g in enumerate(_WIDTHS) for d in g}
    others = [d for d in ALL if d == "bool" or src == "bool" or size[d] != size[src]]
    ty = tensor(draw, (src,))
    return OpCall("reinterpret", (Arg(ty),), CastAttrs(draw(st.sampled_from(others))))


def _shape_query(name: str, attrs_type: type[ShapeOfAttrs] | type[NdarraySizeAttrs]) -> OpSampler:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, ALL, hint, zero_ok=True)
        return OpCall(name, (Arg(ty),), attrs_type(draw(st.sampled_from(INTS))))

    def bad(draw: st.DrawFn, hint: Hint) -> OpCall:
        dtype = draw(st.sampled_from([*FLOATS, "bool", "xx"]))
        return OpCall(name, (Arg(tensor(draw, ALL)),), attrs_type(dtype))

    return OpSampler(sample, (bad,))


def _samplers() -> dict[str, OpSampler]:
    table: dict[str, OpSampler] = {}
    for name, (fdom, idom, bounded) in _MATH.items():
        table[name] = OpSampler(_unary(name, ALL, fdom, idom), bounded=bounded)
    for name in ("abs", "negative", "sign", "floor", "ceil", "round", "trunc"):
        table[name] = _unary_sampler(name, NUMERIC, True)
    for name in ("copy", "zeros_like", "ones_like", "isnan", "isinf", "isfinite"):
        table[name] = _unary_sampler(name, ALL, True)
    table["bitwise_not"] = _unary_sampler("bitwise_not", (*INTS, "bool"), True)
    table["logical_not"] = _unary_sampler("logical_not", ("bool",), True)
    for name in ("add", "subtract", *_DIVISIONS):
        table[name] = _binary_sampler(name, ALL)
    for name in ("multiply", "maximum", "minimum"):
        table[name] = _binary_sampler(name, ALL, bounded=True)
    table["power"] = _binary_sampler("power", NUMERIC)
    for name in ("logical_and", "logical_or", "logical_xor"):
        table[name] = _binary_sampler(name, ("bool",), bounded=True)
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        table[name] = _binary_sampler(name, (*INTS, "bool"), bounded=True)
    for name in ("left_shift", "right_shift"):
        table[name] = _binary_sampler(name, INTS)
    for name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal"):
        table[name] = _binary_sampler(name, ALL, bounded=True)
    table["clip"] = OpSampler(_clip, (_clip_bad_bound,), bounded=True)
    table["cast"] = OpSampler(_cast, (_bad_dtype_attr("cast", CastAttrs),))
    table["cast_like"] = OpSampler(_cast_like)
    table["reinterpret"] = OpSampler(
        _reinterpret,
        (_reinterpret_invalid, _bad_dtype_attr("reinterpret", CastAttrs)),
        accepts=NUMERIC,
    )
    table["shape_of"] = _shape_query("shape_of", ShapeOfAttrs)
    table["ndarray_size"] = _shape_query("ndarray_size", NdarraySizeAttrs)
    return table


SAMPLERS: dict[str, OpSampler] = _samplers()
