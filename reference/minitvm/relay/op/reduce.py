"""Builders of the reductions (TVM ``python/tvm/relay/op/reduce.py``): ``relay.sum``,
``relay.argmax``, ``relay.mean``... ``std``, ``mean_variance``, ``mean_std`` and
``logsumexp`` are compositions of operators, as in TVM."""

from __future__ import annotations

import builtins

from minitvm.relay.expr import Call, Expr, Tuple, TupleWrapper
from minitvm.relay.op.arguments import axes_or_none
from minitvm.relay.op.define import make_call
from minitvm.relay.op.defs.reduce import ArgReduceAttrs, ReduceAttrs, VarianceAttrs
from minitvm.relay.op.tensor import exp, log, sqrt
from minitvm.relay.op.transform import squeeze

__all__ = [
    "all",
    "any",
    "argmax",
    "argmin",
    "logsumexp",
    "max",
    "mean",
    "mean_std",
    "mean_variance",
    "min",
    "prod",
    "std",
    "sum",
    "variance",
]

Axis = int | tuple[int, ...] | list[int] | None


def _reduce(name: str, data: Expr, axis: Axis, keepdims: bool, exclude: bool) -> Call:
    attrs = ReduceAttrs(axes_or_none(axis), builtins.bool(keepdims), builtins.bool(exclude))
    return make_call(name, [data], attrs)


def _arg_reduce(
    name: str, data: Expr, axis: Axis, keepdims: bool, exclude: bool, select_last_index: bool
) -> Call:
    attrs = ArgReduceAttrs(
        axes_or_none(axis),
        builtins.bool(keepdims),
        builtins.bool(select_last_index),
        builtins.bool(exclude),
    )
    return make_call(name, [data], attrs)


def argmax(
    data: Expr,
    axis: Axis = None,
    keepdims: bool = False,
    exclude: bool = False,
    select_last_index: bool = False,
) -> Call:
    return _arg_reduce("argmax", data, axis, keepdims, exclude, select_last_index)


def argmin(
    data: Expr,
    axis: Axis = None,
    keepdims: bool = False,
    exclude: bool = False,
    select_last_index: bool = False,
) -> Call:
    return _arg_reduce("argmin", data, axis, keepdims, exclude, select_last_index)


def sum(data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False) -> Call:
    return _reduce("sum", data, axis, keepdims, exclude)


def all(data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False) -> Call:
    return _reduce("all", data, axis, keepdims, exclude)


def any(data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False) -> Call:
    return _reduce("any", data, axis, keepdims, exclude)


def max(data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False) -> Call:
    return _reduce("max", data, axis, keepdims, exclude)


def min(data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False) -> Call:
    return _reduce("min", data, axis, keepdims, exclude)


def mean(data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False) -> Call:
    return _reduce("mean", data, axis, keepdims, exclude)


def prod(data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False) -> Call:
    return _reduce("prod", data, axis, keepdims, exclude)


def _variance(
    data: Expr, m: Expr, axis: Axis, keepdims: bool, exclude: bool, unbiased: bool
) -> Call:
    attrs = VarianceAttrs(
        axes_or_none(axis),
        builtins.bool(keepdims),
        builtins.bool(exclude),
        builtins.bool(unbiased),
    )
    return make_call("variance", [data, m], attrs)


def variance(
    data: Expr,
    axis: Axis = None,
    keepdims: bool = False,
    exclude: bool = False,
    unbiased: bool = False,
    with_mean: Expr | None = None,
) -> Call:
    """The variance around ``with_mean`` (default: the mean, computed with keepdims)."""
    m = mean(data, axis, True, exclude) if with_mean is None else with_mean
    return _variance(data, m, axis, keepdims, exclude, unbiased)


def std(
    data: Expr,
    axis: Axis = None,
    keepdims: bool = False,
    exclude: bool = False,
    unbiased: bool = False,
) -> Call:
    m = mean(data, axis, True, exclude)
    return sqrt(_variance(data, m, axis, keepdims, exclude, unbiased))


def mean_variance(
    data: Expr,
    axis: Axis = None,
    keepdims: bool = False,
    exclude: bool = False,
    unbiased: bool = False,
) -> TupleWrapper:
    m: Expr = mean(data, axis, True, exclude)
    var = _variance(data, m, axis, keepdims, exclude, unbiased)
    if not keepdims:
        m = squeeze(m, axis=axis)
    return TupleWrapper(Tuple([m, var]), 2)


def mean_std(
    data: Expr, axis: Axis = None, keepdims: bool = False, exclude: bool = False
) -> TupleWrapper:
    m: Expr = mean(data, axis, True, exclude)
    s = sqrt(_variance(data, m, axis, keepdims, exclude, False))
    if not keepdims:
        m = squeeze(m)
    return TupleWrapper(Tuple([m, s]), 2)


def logsumexp(data: Expr, axis: Axis = None, keepdims: bool = False) -> Expr:
    """``log(sum(exp(x - max))) + max``, the numerically stable form."""
    max_x = max(data, axis, True)
    out: Expr = log(sum(exp(data - max_x), axis, True)) + max_x
    if not keepdims:
        out = squeeze(out, axis)
    return out
