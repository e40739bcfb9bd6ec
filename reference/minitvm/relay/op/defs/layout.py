"""Tensor layouts such as ``NCHW``/``NHWC`` and ``OIHW``/``HWIO`` (TVM ``tir.Layout``,
``BijectiveLayout``), limited to permutations of one letter per axis: each operator computes in
its canonical layout and the layout strings say how to transpose into and out of it.
Blocked layouts (``NCHW8c``) are rejected.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.relay.op.define import Array

__all__ = ["SPATIAL", "Layout", "from_canonical", "pad_pairs", "to_canonical"]

SPATIAL: dict[int, str] = {1: "W", 2: "HW", 3: "DHW"}
"""The spatial axis letters of 1-D, 2-D and 3-D operators, outermost first."""


class Layout:
    """A layout that is a permutation of ``canonical`` (``"NCHW"``, ``"OIHW"``...)."""

    __slots__ = ("canonical", "name", "perm")

    def __init__(self, name: object, canonical: str, what: str = "layout") -> None:
        if not isinstance(name, str) or sorted(name) != sorted(canonical):
            raise DiagnosticError(
                f"{what} must be a permutation of {canonical!r} (one letter per axis, no "
                f"blocking), got {name!r}"
            )
        self.name = name
        self.canonical = canonical
        self.perm = tuple(name.index(c) for c in canonical)
        """``canonical_array = transpose(array, perm)``."""

    def to_canonical_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(shape[p] for p in self.perm)

    def from_canonical_shape(self, shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(shape[self.canonical.index(c)] for c in self.name)

    def index(self, letter: str) -> int:
        return self.name.index(letter)


def to_canonical(x: Array, layout: Layout) -> Array:
    return np.transpose(x, layout.perm)


def from_canonical(x: Array, layout: Layout) -> Array:
    return np.transpose(x, [layout.canonical.index(c) for c in layout.name])


def pad_pairs(padding: object, ndim: int, what: str = "padding") -> list[tuple[int, int]]:
    """TVM's padding forms for ``ndim`` spatial axes: one value for all sides, one per axis
    (both sides), or all befores then all afters (``(top, left, bottom, right)``)."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        padding = (padding,)
    if not isinstance(padding, tuple | list) or not all(
        isinstance(p, int) and not isinstance(p, bool) for p in padding
    ):
        raise DiagnosticError(f"{what} must be a tuple of integers, got {padding!r}")
    if any(p < 0 for p in padding):
        raise DiagnosticError(f"{what} must be non-negative, got {tuple(padding)}")
    vals = list(padding)
    if len(vals) == 1:
        return [(vals[0], vals[0])] * ndim
    if len(vals) == ndim:
        return [(v, v) for v in vals]
    if len(vals) == 2 * ndim:
        return list(zip(vals[:ndim], vals[ndim:], strict=True))
    raise DiagnosticError(
        f"{what} must have 1, {ndim} or {2 * ndim} entries, got {len(vals)}: {tuple(vals)}"
    )
