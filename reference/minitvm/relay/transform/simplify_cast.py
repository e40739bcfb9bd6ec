"""SimplifyExpr's rules for ``cast`` and ``clip`` (TVM ``src/relay/transforms/simplify_expr.cc``:
``SimplifySameCast``, ``SimplifyConsecutiveCast``, ``SimplifyClipAndConsecutiveCast``,
``SimplifyClip``).

TVM's rules decide from dtype ranges alone; each rule here fires only when TVM's does *and* the
result provably computes the same values, which TVM's conditions do not always ensure:

* two casts become one only when the first is *lossless* on every value of its input dtype
  (TVM also merges ``int8 -> uint16 -> int32``, which turns -1 into 65535, and
  ``int32 -> float32 -> int64``, which rounds);
* ``clip -> cast -> ... -> cast`` keeps only the casts that can change a clipped value. The
  original chain and the rewritten one are both summarised as the sequence of their lossy
  steps (a truncation of in-range floats to integers, or a cast that can wrap or round); the
  rewrite happens only when both sequences are equal, so the values are;
* a float ``clip`` is removed only when its bounds are infinite: a finite bound, even the
  dtype's largest value, changes an infinity.
"""

from __future__ import annotations

import math

import numpy as np
from typing_extensions import override

from minitvm.relay.dataflow_pattern import ChainPattern, is_op, wildcard
from minitvm.relay.dataflow_rewrite import DFPatternCallback, NodeMap
from minitvm.relay.expr import Call, Expr
from minitvm.relay.op.defs.unary import ClipAttrs
from minitvm.relay.op.transform import cast
from minitvm.relay.transform.local_types import tensor_type
from minitvm.runtime.dtype import is_bool, is_float, is_int

__all__ = [
    "SimplifyClip",
    "SimplifyClipAndConsecutiveCast",
    "SimplifyConsecutiveCast",
    "SimplifySameCast",
    "dtype_range",
    "is_widen_cast",
]

_CODES = {"int": 0, "uint": 1, "float": 2}


def _code_bits(dtype: str) -> tuple[int, int]:
    """TVM's (type code, bits): ``bool`` is a one-bit unsigned integer."""
    if is_bool(dtype):
        return _CODES["uint"], 1
    for name, code in _CODES.items():
        if dtype.startswith(name):
            return code, int(dtype[len(name) :])
    raise ValueError(dtype)


def dtype_range(dtype: str) -> tuple[float, float]:
    """The smallest and largest finite values of ``dtype``."""
    if is_bool(dtype):
        return 0.0, 1.0
    if is_float(dtype):
        info = np.finfo(dtype)
        return float(info.min), float(info.max)
    iinfo = np.iinfo(dtype)
    return float(iinfo.min), float(iinfo.max)


def _mantissa_bits(dtype: str) -> int:
    return int(np.finfo(dtype).nmant) + 1


def _lossless(origin: str, target: str) -> bool:
    """Whether casting every value of ``origin`` to ``target`` keeps it exactly."""
    if is_bool(origin):
        return True
    (oc, ob), (tc, tb) = _code_bits(origin), _code_bits(target)
    if is_bool(target):
        return False
    if oc == _CODES["float"]:
        return tc == oc and tb >= ob
    if tc == _CODES["float"]:
        magnitude_bits = ob - 1 if is_int(origin) else ob
        return magnitude_bits <= _mantissa_bits(target)
    lo, hi = dtype_range(origin)
    tlo, thi = dtype_range(target)
    return tlo <= lo and hi <= thi


def is_widen_cast(origin: str, target: str) -> bool:
    """TVM's ``IsWidenCast`` (a loose hierarchy int < uint < float by code, bits not fewer),
    restricted to casts that are lossless."""
    (oc, ob), (tc, tb) = _code_bits(origin), _code_bits(target)
    tvm_widen = (oc == tc or oc < tc) and ob <= tb
    return tvm_widen and _lossless(origin, target)


def _covers(outer: tuple[float, float], inner: tuple[float, float]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


class SimplifySameCast(DFPatternCallback):
    """``cast(x, t)`` or ``cast_like(x, y)`` to ``x`` when ``x`` already has dtype ``t``."""

    def __init__(self) -> None:
        self.data = wildcard()
        self.pattern = is_op("cast_like")(self.data, wildcard()) | is_op("cast")(self.data)

    @override
    def may_fire(self, pre: Call) -> bool:
        return tensor_type(pre).dtype == tensor_type(pre.args[0]).dtype

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        assert isinstance(pre, Call)
        return node_map[self.data] if self.may_fire(pre) else post


class SimplifyConsecutiveCast(DFPatternCallback):
    """``cast(cast(x, t1), t2)`` to ``cast(x, t2)`` when the first cast widens losslessly."""

    def __init__(self) -> None:
        self.data = wildcard()
        self.cast1 = is_op("cast_like")(self.data, wildcard()) | is_op("cast")(self.data)
        self.pattern = is_op("cast_like")(self.cast1, wildcard()) | is_op("cast")(self.cast1)

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        data = node_map[self.data]
        cast1 = node_map[self.cast1]
        if not is_widen_cast(tensor_type(data).dtype, tensor_type(cast1).dtype):
            return post
        return cast(data, tensor_type(post).dtype)


def _clip_bounds(call: Expr) -> tuple[float, float]:
    assert isinstance(call, Call)
    assert isinstance(call.attrs, ClipAttrs)
    return float(call.attrs.a_min), float(call.attrs.a_max)


def _lossy_steps(source: str, bounds: tuple[float, float], dtypes: list[str]) -> list[object]:
    """The steps of casting clipped values of ``source`` through ``dtypes`` that may change
    them: ``"trunc"`` (in-range floats to an integer type) or ``(from, to)`` (anything else
    not exact), in order. Between steps the value set is tracked as an interval."""
    steps: list[object] = []
    lo, hi = max(bounds[0], dtype_range(source)[0]), min(bounds[1], dtype_range(source)[1])
    if not is_float(source):
        lo, hi = math.ceil(lo), math.floor(hi)
    for dtype in dtypes:
        integral = not is_float(source)
        in_range = _covers(dtype_range(dtype), (lo, hi))
        if in_range and is_float(dtype):
            exact = (
                max(abs(lo), abs(hi)) <= 2.0 ** _mantissa_bits(dtype)
                if integral
                else _code_bits(dtype)[1] >= _code_bits(source)[1]
            )
            if not exact:
                steps.append((source, dtype))
        elif in_range and not is_bool(dtype):
            if not integral:
                steps.append("trunc")
                lo, hi = math.trunc(lo), math.trunc(hi)
        elif in_range and integral:
            pass  # an integer 0 or 1 cast to bool
        else:
            steps.append((source, dtype))
            lo, hi = dtype_range(dtype)
        source = dtype
    return steps


class SimplifyClipAndConsecutiveCast(DFPatternCallback):
    """``clip -> cast -> ... -> cast``: drop the casts whose dtype holds the clipped range, and
    end with a cast to the final dtype if the last kept step does not produce it."""

    def __init__(self) -> None:
        self.clip = is_op("clip")(wildcard())
        self.pattern = ChainPattern(is_op("cast"), self.clip)

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        clip = node_map[self.clip]
        bounds = _clip_bounds(clip)
        casts: list[Call] = []
        node = post
        while node is not clip:
            assert isinstance(node, Call)
            casts.append(node)
            node = node.args[0]
        casts.reverse()  # innermost first
        dtypes = [tensor_type(c).dtype for c in casts]
        source = tensor_type(clip).dtype
        kept = [d for d in dtypes if not _covers(dtype_range(d), bounds)]
        if (kept[-1] if kept else source) != dtypes[-1]:
            kept.append(dtypes[-1])
        if kept == dtypes:
            return post
        if _lossy_steps(source, bounds, dtypes) != _lossy_steps(source, bounds, kept):
            return post
        result: Expr = clip
        for dtype in kept:
            result = cast(result, dtype)
        return result


class SimplifyClip(DFPatternCallback):
    """``clip(x)`` to ``x`` when the bounds cover every value of ``x``'s dtype."""

    def __init__(self) -> None:
        self.data = wildcard()
        self.pattern = is_op("clip")(self.data)

    @override
    def may_fire(self, pre: Call) -> bool:
        dtype = tensor_type(pre).dtype
        a_min, a_max = _clip_bounds(pre)
        bounds = (-math.inf, math.inf) if is_float(dtype) else dtype_range(dtype)
        return a_min <= bounds[0] and bounds[1] <= a_max

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        assert isinstance(pre, Call)
        return node_map[self.data] if self.may_fire(pre) else post
