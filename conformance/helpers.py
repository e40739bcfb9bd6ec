"""Shared helpers for the property suites: running programs and comparing their results."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.runtime.container import ADT
from minitvm.runtime.ndarray import NDArray

__all__ = ["assert_same_results", "flatten", "run_main"]


def flatten(value: object) -> list[npt.NDArray[Any]]:
    """The tensors of an executor result, depth-first (tuples flattened)."""
    out: list[npt.NDArray[Any]] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, ADT):
            stack.extend(reversed(v.fields))
        elif isinstance(v, NDArray):
            out.append(v.numpy())
        else:
            raise TypeError(f"unexpected result value {type(v).__name__}")
    return out


def run_main(mod: IRModule, inputs: dict[str, npt.NDArray[Any]]) -> list[npt.NDArray[Any]]:
    """Evaluate ``main`` with the reference interpreter."""
    return flatten(relay.create_executor("debug", mod=mod).evaluate()(**inputs))


def assert_same_results(
    got: list[npt.NDArray[Any]], want: list[npt.NDArray[Any]], rtol: float = 0.0
) -> None:
    """Same number of outputs, same dtypes and shapes, values equal (within ``rtol`` for
    floats when given; NaNs compare equal)."""
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype
        assert g.shape == w.shape
        if rtol and np.issubdtype(w.dtype, np.floating):
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol, equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)
