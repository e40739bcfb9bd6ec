"""Shared checking for the TOPI spec tests: evaluator vs reference vs TIR interpreter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

import minitvm as tvm
from minitvm import te
from minitvm.topi.utils import get_const_tuple

Array = npt.NDArray[Any]


def run_interp(
    args: Sequence[te.Tensor], outs: Sequence[te.Tensor], values: dict[te.Tensor, Array]
) -> list[Array]:
    """Lower ``args + outs`` with create_prim_func and run it on the TIR interpreter."""
    func = te.create_prim_func([*args, *outs])
    arrays = [np.array(values[a], copy=True, order="C") for a in args]
    results = [np.zeros(get_const_tuple(o.shape), dtype=o.dtype) for o in outs]
    tvm.build(func, target="interp")(*arrays, *results)
    return results


def check(
    args: Sequence[te.Tensor],
    outs: te.Tensor | Sequence[te.Tensor],
    values: Sequence[Array],
    expected: Array | Sequence[Array] | None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    interp: bool = True,
) -> list[Array]:
    """Evaluate ``outs`` with te.evaluate, compare with ``expected`` (if given) and with the
    TIR interpreter on the lowered function (if ``interp``)."""
    out_list = [outs] if isinstance(outs, te.Tensor) else list(outs)
    feed = dict(zip(args, values, strict=True))
    got = te.evaluate(out_list, feed)
    assert isinstance(got, list)
    for g, o in zip(got, out_list, strict=True):
        assert g.dtype == np.dtype(o.dtype), (g.dtype, o.dtype)
    if expected is not None:
        exp_list = [expected] if isinstance(expected, np.ndarray) else list(expected)
        for g, e in zip(got, exp_list, strict=True):
            assert g.shape == e.shape, (g.shape, e.shape)
            _close(g, e, rtol, atol)
    if interp:
        lowered = run_interp(args, out_list, feed)
        for g, r in zip(got, lowered, strict=True):
            _close(r, g, rtol, atol)
    return got


def _close(a: Array, b: Array, rtol: float, atol: float) -> None:
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    else:
        np.testing.assert_array_equal(a, b)
