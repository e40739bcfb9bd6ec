"""Reductions (TVM's ``include/tvm/topi/reduction.h``).

``axis=None`` reduces every axis; an int or a list picks axes (negative counts from the end).
The result drops the reduced axes, or keeps them as 1 with ``keepdims``; reducing every axis
without ``keepdims`` gives a 0-d tensor. Reduce axes are named ``k<axis>``; the output is
``<input>_red``. ``argmax``/``argmin`` reduce (index, value) pairs with a tuple reducer and
return the int32 index, raveled over the reduced axes, of the first extreme value (the last
with ``select_last_index``).
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.te import reduction as te_red
from minitvm.te.operation import compute as te_compute
from minitvm.te.operation import reduce_axis
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import IterVar, PrimExpr, Select, Var, const
from minitvm.topi.utils import compute, normalize_axis

__all__ = ["all", "any", "argmax", "argmin", "max", "min", "prod", "sum"]

Axis = int | Sequence[int] | None


def _axes(data: Tensor, axis: Axis, op: str) -> list[int]:
    if axis is None:
        return list(range(data.ndim))
    items = [axis] if isinstance(axis, int) else list(axis)
    axes = sorted({normalize_axis(int(a), data.ndim, op) for a in items})
    if len(axes) != len(items):
        raise DiagnosticError(f"{op}: repeated axis in {items}")
    return axes


def _layout(data: Tensor, axes: list[int], keepdims: bool) -> tuple[list[PrimExpr], list[IterVar]]:
    shape: list[PrimExpr] = []
    for k, d in enumerate(data.shape):
        if k not in axes:
            shape.append(d)
        elif keepdims:
            shape.append(const(1, d.dtype))
    red = [reduce_axis((const(0, data.shape[k].dtype), data.shape[k]), name=f"k{k}") for k in axes]
    return shape, red


def _read_index(
    ax: list[Var], axes: list[int], red: list[IterVar], ndim: int, keepdims: bool
) -> list[PrimExpr]:
    idx: list[PrimExpr] = []
    out_k = 0
    red_k = 0
    for k in range(ndim):
        if k in axes:
            idx.append(red[red_k].var)
            red_k += 1
            if keepdims:
                out_k += 1
        else:
            idx.append(ax[out_k])
            out_k += 1
    return idx


def _comm_reduce(
    data: Tensor, axis: Axis, keepdims: bool, reducer: te_red.Reducer, op: str
) -> Tensor:
    axes = _axes(data, axis, op)
    shape, red = _layout(data, axes, keepdims)

    def body(ax: list[Var]) -> PrimExpr:
        value = data(*_read_index(ax, axes, red, data.ndim, keepdims))
        return reducer(value, red)

    return compute(shape, body, f"{data.op.name}_red", "comm_reduce")


def sum(data: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return _comm_reduce(data, axis, keepdims, te_red.sum, "sum")


def max(data: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return _comm_reduce(data, axis, keepdims, te_red.max, "max")


def min(data: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return _comm_reduce(data, axis, keepdims, te_red.min, "min")


_prod = te_red.comm_reducer(lambda x, y: x * y, lambda t: const(1, t), name="prod")
_all = te_red.comm_reducer(tir_op.logical_and, lambda t: const(True, t), name="all")
_any = te_red.comm_reducer(tir_op.logical_or, lambda t: const(False, t), name="any")


def prod(data: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    return _comm_reduce(data, axis, keepdims, _prod, "prod")


def _boolean(data: Tensor) -> Tensor:
    if data.dtype == "bool":
        return data
    return compute(
        data.shape,
        lambda ax: tir_op.not_equal(data(*ax), const(0, data.dtype)),
        "T_cast",
        "elemwise",
    )


def all(data: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Logical AND over the axes (non-bool inputs compare with zero)."""
    return _comm_reduce(_boolean(data), axis, keepdims, _all, "all")


def any(data: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Logical OR over the axes (non-bool inputs compare with zero)."""
    return _comm_reduce(_boolean(data), axis, keepdims, _any, "any")


def _arg_reducer(is_max: bool, select_last_index: bool) -> te_red.Reducer:
    def combine(lhs: Sequence[PrimExpr], rhs: Sequence[PrimExpr]) -> tuple[PrimExpr, PrimExpr]:
        li, lv = lhs
        ri, rv = rhs
        better = tir_op.greater(lv, rv) if is_max else tir_op.less(lv, rv)
        same = tir_op.equal(lv, rv)
        proper = tir_op.greater(li, ri) if select_last_index else tir_op.less(li, ri)
        keep = tir_op.logical_or(better, tir_op.logical_and(same, proper))
        return Select(keep, li, ri), Select(better, lv, rv)

    def identity(idx_t: str, val_t: str) -> tuple[PrimExpr, PrimExpr]:
        extreme = tir_op.min_value(val_t) if is_max else tir_op.max_value(val_t)
        return const(-1, idx_t), extreme

    name = "argmax" if is_max else "argmin"
    return te_red.comm_reducer(combine, identity, name=name)


def _arg_reduce(
    data: Tensor, axis: Axis, keepdims: bool, select_last_index: bool, is_max: bool
) -> Tensor:
    op = "argmax" if is_max else "argmin"
    axes = _axes(data, axis, op)
    shape, red = _layout(data, axes, keepdims)
    reducer = _arg_reducer(is_max, select_last_index)

    def body(*ax: Var) -> tuple[PrimExpr, ...]:
        idx = _read_index(list(ax), axes, red, data.ndim, keepdims)
        flat: PrimExpr = const(0, "int32")
        for iv, k in zip(red, axes, strict=True):
            flat = flat * tir_op.cast(data.shape[k], "int32") + tir_op.cast(iv.var, "int32")
        out = reducer((flat, data(*idx)), red)
        if not isinstance(out, tuple):
            raise DiagnosticError(f"{op}: expected a tuple reducer")
        return out

    names = [f"ax{k}" for k in range(len(shape))]
    temp = te_compute(
        tuple(shape),
        body,
        name=f"{data.op.name}_red_temp",
        tag="comm_reduce_idx",
        varargs_names=names,
    )
    if not isinstance(temp, tuple):
        raise DiagnosticError(f"{op}: expected two outputs")
    index = temp[0]
    return compute(shape, lambda ax: index(*ax), f"{data.op.name}_red", "comm_reduce_idx")


def argmax(
    data: Tensor, axis: Axis = None, keepdims: bool = False, select_last_index: bool = False
) -> Tensor:
    return _arg_reduce(data, axis, keepdims, select_last_index, True)


def argmin(
    data: Tensor, axis: Axis = None, keepdims: bool = False, select_last_index: bool = False
) -> Tensor:
    return _arg_reduce(data, axis, keepdims, select_last_index, False)
