"""Shared helpers of the neural-network operators (TVM's ``topi/nn/utils.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError

__all__ = ["get_pad_tuple", "get_pad_tuple_nd", "expand"]

Padding = int | str | Sequence[int]


def expand(value: int | Sequence[int], n: int, what: str) -> list[int]:
    """An int or an ``n``-sequence as ``n`` ints."""
    if isinstance(value, int):
        return [value] * n
    items = [int(v) for v in value]
    if len(items) == 1:
        return items * n
    if len(items) != n:
        raise DiagnosticError(f"{what}: expected {n} values, got {items}")
    return items


def get_pad_tuple_nd(padding: Padding, kernel: Sequence[int]) -> tuple[list[int], list[int]]:
    """(pad_before, pad_after) per spatial dimension, as TVM's ``get_pad_tuple``.

    ``padding`` is an int (all sides), ``n`` ints (symmetric), ``2n`` ints (all befores, then
    all afters), ``"VALID"`` (none) or ``"SAME"`` (``kernel - 1`` split, the extra after).
    """
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "VALID":
            total = [0] * n
        elif padding == "SAME":
            total = [k - 1 for k in kernel]
        else:
            raise DiagnosticError(f"unknown padding {padding!r}; expected 'SAME' or 'VALID'")
        before = [(t + 1) // 2 for t in total]
        return before, [t - b for t, b in zip(total, before, strict=True)]
    items = [padding] * n if isinstance(padding, int) else [int(p) for p in padding]
    if len(items) == n:
        return items, list(items)
    if len(items) == 2 * n:
        return items[:n], items[n:]
    if len(items) == 1:
        return items * n, items * n
    raise DiagnosticError(f"padding {items} does not fit {n} spatial dimensions")


def get_pad_tuple(padding: Padding, kernel: Sequence[int]) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) for 2-d windows."""
    before, after = get_pad_tuple_nd(padding, kernel)
    return before[0], before[1], after[0], after[1]
