"""The vocabulary of the operator samplers: sampled calls, their arguments' value domains,
and the shape, dtype and attribute strategies the per-operator samplers share.

A sampler describes one operator's *valid* calls (argument types, attrs, and the values the
arguments may hold so that every result stays finite) and *invalid* ones (types or attrs the
relation must reject with DiagnosticError). Generic invalid variants, derived from a valid
call, apply to every operator: a tensor argument replaced by a tuple, a wrong argument count,
attrs of the wrong type, and a dtype the operator does not accept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy.typing as npt
from hypothesis import strategies as st

from minitvm.ir.attrs import Attrs
from minitvm.ir.type import TensorType, TupleType, Type

__all__ = [
    "ALL",
    "FLOATS",
    "INTS",
    "NUMERIC",
    "SIGNED",
    "UNSIGNED",
    "Arg",
    "Hint",
    "OpCall",
    "OpSampler",
    "SampleFn",
    "axis_of",
    "castable",
    "dtype_of",
    "flag",
    "in_layout",
    "invalid_axis",
    "permuted",
    "shape_of",
    "tensor",
]

FLOATS: tuple[str, ...] = ("float32", "float64", "float16")
SIGNED: tuple[str, ...] = ("int8", "int16", "int32", "int64")
UNSIGNED: tuple[str, ...] = ("uint8", "uint16", "uint32", "uint64")
INTS: tuple[str, ...] = SIGNED + UNSIGNED
NUMERIC: tuple[str, ...] = FLOATS + INTS
ALL: tuple[str, ...] = (*NUMERIC, "bool")

Array: TypeAlias = npt.NDArray[Any]
Hint: TypeAlias = TensorType | None
"""A tensor type the caller would like the first argument to have (a program generator
passes one it already holds); samplers use it when the operator allows it."""


@dataclass(frozen=True, eq=False)
class Arg:
    """One argument of a sampled call: its type and the values it may hold.

    Floats lie in ``[low, high]``; integers in the integers of that range (clipped to the
    dtype); ``nonzero`` draws the magnitude from ``[low, high]`` (``low > 0``) and the sign
    at random. ``None`` bounds mean the dtype's default: ``[-1, 1]`` for floats, ``[-8, 8]``
    for signed and ``[0, 8]`` for unsigned integers. ``value`` fixes the argument (passed as a
    constant): ``arange``'s bounds and ``collapse_sum_to``'s shape.
    """

    type: TensorType | TupleType
    low: float | None = None
    high: float | None = None
    nonzero: bool = False
    value: Array | None = None

    def bounds(self, dtype: str) -> tuple[float, float]:
        if self.low is not None and self.high is not None:
            return self.low, self.high
        if dtype.startswith("float"):
            return -1.0, 1.0
        if dtype.startswith("uint") or dtype == "bool":
            return 0.0, 8.0
        return -8.0, 8.0

    def in_unit(self) -> bool:
        """Whether every value lies in ``[-1, 1]``."""
        fields = self.type.fields if isinstance(self.type, TupleType) else (self.type,)
        for f in fields:
            assert isinstance(f, TensorType)
            if f.dtype == "bool":
                continue
            lo, hi = self.bounds(f.dtype)
            if self.nonzero:
                lo = -hi
            if lo < -1 or hi > 1:
                return False
        return True


@dataclass(frozen=True, eq=False)
class OpCall:
    """A call of operator ``op``: its arguments and attrs."""

    op: str
    args: tuple[Arg, ...]
    attrs: Attrs | None = None

    def arg_types(self) -> list[Type]:
        return [a.type for a in self.args]

    def replace(self, index: int, arg: Arg) -> OpCall:
        args = list(self.args)
        args[index] = arg
        return OpCall(self.op, tuple(args), self.attrs)


SampleFn: TypeAlias = Callable[[st.DrawFn, Hint], OpCall]


@dataclass(frozen=True)
class OpSampler:
    """Valid and invalid calls of one operator.

    ``accepts`` lists the dtypes the first tensor argument may have (the generic invalid
    variant draws one outside it). ``bounded`` promises that when every argument is a float
    tensor holding values in ``[-1, 1]``, every float result does too (a program generator
    then needs no guard before the next operator). ``any_kind`` says the operator takes a
    tuple wherever it takes a tensor (TVM's Identity relation), so passing one is no error.
    """

    valid: SampleFn
    invalid: tuple[SampleFn, ...] = ()
    accepts: tuple[str, ...] = ALL
    bounded: bool = False
    any_kind: bool = False


# --- shared strategies -------------------------------------------------------------------------


def _fits(hint: TensorType, min_rank: int, max_rank: int, min_dim: int, max_dim: int) -> bool:
    if not min_rank <= hint.ndim <= max_rank:
        return False
    if any(d < min_dim or d > 2 * max_dim for d in hint.shape):
        return False
    return math.prod(hint.shape) <= 64


def shape_of(
    draw: st.DrawFn,
    hint: Hint = None,
    *,
    min_rank: int = 0,
    max_rank: int = 3,
    min_dim: int = 1,
    max_dim: int = 4,
    zero_ok: bool = False,
) -> tuple[int, ...]:
    """A shape; the hint's when it fits, and with ``zero_ok`` now and then an empty axis."""
    if hint is not None and _fits(hint, min_rank, max_rank, min_dim, max_dim):
        return hint.shape
    rank = draw(st.integers(min_rank, max_rank))
    dims = [draw(st.integers(min_dim, max_dim)) for _ in range(rank)]
    if zero_ok and rank and draw(st.integers(0, 7)) == 0:
        dims[draw(st.integers(0, rank - 1))] = 0
    return tuple(dims)


def dtype_of(draw: st.DrawFn, dtypes: Sequence[str], hint: Hint = None) -> str:
    """A dtype from ``dtypes``; the hint's when it is one of them."""
    if hint is not None and hint.dtype in dtypes:
        return hint.dtype
    return draw(st.sampled_from(list(dtypes)))


def tensor(
    draw: st.DrawFn, dtypes: Sequence[str], hint: Hint = None, **shape_kw: Any
) -> TensorType:
    return TensorType(shape_of(draw, hint, **shape_kw), dtype_of(draw, dtypes, hint))


def axis_of(draw: st.DrawFn, ndim: int) -> int:
    """An axis in ``[-ndim, ndim)``, negative half the time (``ndim >= 1``)."""
    return draw(st.integers(-ndim, ndim - 1))


def invalid_axis(draw: st.DrawFn, ndim: int) -> int:
    """An axis outside ``[-ndim, ndim)``."""
    return draw(st.sampled_from([ndim, ndim + 1, -ndim - 1, -ndim - 3]))


def flag(draw: st.DrawFn) -> bool:
    return draw(st.booleans())


def castable(ty: TensorType, target: str) -> Arg:
    """An argument an operator casts to ``target``: a float source meeting an unsigned target
    stays non-negative (a negative float has no unsigned value; TVM leaves it unspecified)."""
    if ty.dtype in FLOATS and target in UNSIGNED:
        return Arg(ty, 0.0, 1.0)
    return Arg(ty)


def permuted(draw: st.DrawFn, canonical: str) -> str:
    """A layout: a permutation of ``canonical``'s letters."""
    return "".join(draw(st.permutations(canonical)))


def in_layout(canonical_shape: Sequence[int], canonical: str, layout: str) -> tuple[int, ...]:
    return tuple(canonical_shape[canonical.index(c)] for c in layout)
