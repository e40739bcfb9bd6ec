"""Builder argument conversion: what TVM's FFI does to Python values before an attrs object
is made (``Array<Integer>`` from lists, tuples, ints, ``IntImm`` and numpy integers;
``DataType`` from strings). Attrs store plain ints in tuples."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import SupportsIndex

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.expr import RelayExpr
from minitvm.relay.expr import Constant
from minitvm.runtime.dtype import check_dtype

__all__ = ["axes_or_none", "const_number", "dtype_or_empty", "int_of", "ints", "pad_tuple"]


def _describe(value: object) -> str:
    """A value for a message; expressions by kind only (printing them is another layer)."""
    return f"a {type(value).__name__} expression" if isinstance(value, RelayExpr) else repr(value)


def int_of(value: object, what: str) -> int:
    """An integer argument (``axis=1``, ``IntImm``, numpy integers); bools are rejected."""
    if isinstance(value, bool | float):
        raise DiagnosticError(f"{what} must be an integer, got {_describe(value)}")
    if isinstance(value, Constant):
        data = value.data.numpy()
        if data.ndim == 0 and np.issubdtype(data.dtype, np.integer):
            return int(data)
    if isinstance(value, SupportsIndex):
        return operator.index(value)
    raise DiagnosticError(f"{what} must be an integer, got {_describe(value)}")


def ints(value: object, what: str, length: int | None = None) -> tuple[int, ...]:
    """An integer tuple: an int repeats ``length`` times (or is a 1-tuple); a sequence or a
    1-D integer constant is converted element by element."""
    if isinstance(value, Constant):
        value = value.data.numpy().reshape(-1).tolist()
    elif isinstance(value, np.ndarray):
        value = value.reshape(-1).tolist()
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(int_of(v, what) for v in value)
    if isinstance(value, RelayExpr):
        raise DiagnosticError(
            f"{what} must be static; minitvm has no dynamic-shape operators, got an expression"
        )
    v = int_of(value, what)
    return (v,) * (length or 1)


def axes_or_none(axis: object, what: str = "axis") -> tuple[int, ...] | None:
    """TVM's optional axis list: None stays None, an int becomes a 1-tuple."""
    if axis is None:
        return None
    return ints(axis, what)


def dtype_or_empty(dtype: object, what: str = "dtype") -> str:
    """A dtype argument where "" means "the default" (TVM's null DataType)."""
    if dtype is None or dtype == "":
        return ""
    return check_dtype(dtype)


def const_number(value: object, what: str) -> float:
    """A Python number or a scalar constant (``arange``'s bounds)."""
    if isinstance(value, Constant):
        data = value.data.numpy()
        if data.ndim == 0:
            return float(data)
    if isinstance(value, bool | int | float | np.number):
        return float(value)
    raise DiagnosticError(
        f"{what} must be a number or a scalar constant (static shapes only), got {_describe(value)}"
    )


def pad_tuple(padding: object, ndim: int) -> tuple[int, ...]:
    """TVM's ``get_pad_tuple1d/2d/3d``: an int or one value per axis pads both sides (the
    odd unit of an odd total going first); ``2 * ndim`` values are (befores..., afters...)."""
    if isinstance(padding, int | SupportsIndex) and not isinstance(padding, Sequence):
        vals: tuple[int, ...] = (int_of(padding, "padding"),) * ndim
    else:
        vals = ints(padding, "padding")
    if len(vals) == 2 * ndim:
        return vals
    if len(vals) != ndim:
        raise DiagnosticError(f"padding must have {ndim} or {2 * ndim} entries, got {vals}")
    totals = [v * 2 for v in vals]
    before = tuple((t + 1) // 2 for t in totals)
    after = tuple(t - b for t, b in zip(totals, before, strict=True))
    return before + after
