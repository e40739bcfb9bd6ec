"""Building TE graphs: ``placeholder``, ``compute``, ``reduce_axis``, ``var``
(TVM's ``python/tvm/te/operation.py``).

``compute(shape, fcompute)`` calls ``fcompute`` once with one fresh variable per output axis,
named after its parameters (``lambda i, j: ...`` gives axes ``i`` and ``j``; ``lambda *i``
gives ``i0``, ``i1``, ...). The returned expression, or tuple of expressions for several
outputs, is the body; Python numbers are converted as in TIR (int32, float32). A body that
reduces must be a ``Reduce`` at the top (``te.sum(...)``), and every output of a reducing
compute reduces with the same combiner over the same axes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import overload

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import check_dtype
from minitvm.te.tensor import ComputeOp, PlaceholderOp, Tensor, attrs_tuple, shape_tuple
from minitvm.tir.expr import (
    ExprLike,
    IterVar,
    IterVarType,
    PrimExpr,
    Range,
    Reduce,
    SizeVar,
    Var,
)
from minitvm.tir.expr import const as tir_const
from minitvm.tir.functor import post_order
from minitvm.tir.op import convert, sub

__all__ = ["compute", "const", "placeholder", "reduce_axis", "size_var", "thread_axis", "var"]

Shape = ExprLike | Sequence[ExprLike]


def placeholder(shape: Shape, dtype: str | None = None, name: str = "placeholder") -> Tensor:
    """An input tensor (float32 unless ``dtype`` is given)."""
    op = PlaceholderOp(name, shape_tuple(shape), check_dtype(dtype or "float32"))
    return op.output(0)


def _axis_names(
    fcompute: Callable[..., object], ndim: int, varargs_names: Sequence[str] | None
) -> list[str]:
    try:
        spec = inspect.getfullargspec(fcompute)
    except TypeError as err:
        raise DiagnosticError(f"compute: fcompute must be a Python function ({err})") from None
    if spec.varargs is not None:
        if varargs_names is not None:
            if len(varargs_names) != ndim:
                raise DiagnosticError(
                    f"compute: {ndim} varargs names expected, got {len(varargs_names)}"
                )
            return list(varargs_names)
        return [f"i{k}" for k in range(ndim)]
    names = list(spec.args)
    if len(names) != ndim:
        raise DiagnosticError(
            f"compute: fcompute takes {len(names)} arguments but the shape has {ndim} dimensions"
        )
    return names


@overload
def compute(
    shape: Shape,
    fcompute: Callable[..., ExprLike],
    name: str = ...,
    tag: str = ...,
    attrs: Mapping[str, object] | None = ...,
    varargs_names: Sequence[str] | None = ...,
) -> Tensor: ...


@overload
def compute(
    shape: Shape,
    fcompute: Callable[..., tuple[ExprLike, ...] | list[ExprLike]],
    name: str = ...,
    tag: str = ...,
    attrs: Mapping[str, object] | None = ...,
    varargs_names: Sequence[str] | None = ...,
) -> tuple[Tensor, ...]: ...


@overload
def compute(
    shape: Shape,
    fcompute: Callable[..., object],
    name: str = ...,
    tag: str = ...,
    attrs: Mapping[str, object] | None = ...,
    varargs_names: Sequence[str] | None = ...,
) -> Tensor | tuple[Tensor, ...]: ...


def compute(
    shape: Shape,
    fcompute: Callable[..., object],
    name: str = "compute",
    tag: str = "",
    attrs: Mapping[str, object] | None = None,
    varargs_names: Sequence[str] | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """A tensor (or a tuple, for several bodies) whose elements are ``fcompute(*axes)``."""
    dims = shape_tuple(shape)
    names = _axis_names(fcompute, len(dims), varargs_names)
    axis = tuple(
        IterVar(Range(tir_const(0, d.dtype), d), Var(n, d.dtype), IterVarType.DataPar)
        for n, d in zip(names, dims, strict=True)
    )
    result = fcompute(*[iv.var for iv in axis])
    raw = list(result) if isinstance(result, list | tuple) else [result]
    body: list[PrimExpr] = []
    for b in raw:
        body.append(_body_expr(b, name))
    _check_reductions(body, name)
    op = ComputeOp(name, tag, attrs_tuple(attrs), axis, tuple(body))
    return op.outputs if len(op.outputs) > 1 else op.outputs[0]


def _body_expr(b: object, name: str) -> PrimExpr:
    from minitvm.tir.expr import EqualOp, NotEqualOp, PrimExprBase

    if isinstance(b, PrimExprBase | EqualOp | NotEqualOp | bool | int | float):
        return convert(b)  # type: ignore[arg-type]  # narrowed to ExprLike members
    raise DiagnosticError(f"compute {name}: the body must be an expression, got {type(b).__name__}")


def _check_reductions(body: list[PrimExpr], name: str) -> None:
    reduces = [b for b in body if isinstance(b, Reduce)]
    if reduces and len(reduces) != len(body):
        raise DiagnosticError(f"compute {name}: either every output reduces or none does")
    first = reduces[0] if reduces else None
    for b in body:
        for node in post_order(b):
            if isinstance(node, Reduce) and node is not b:
                raise DiagnosticError(
                    f"compute {name}: a reduction must be the whole body, not a sub-expression"
                )
        if first is not None and isinstance(b, Reduce):
            same = b.combiner is first.combiner and b.axis == first.axis
            if not same:
                raise DiagnosticError(
                    f"compute {name}: the outputs of a tuple reduction must share combiner and axes"
                )


def reduce_axis(
    dom: Range | tuple[ExprLike, ExprLike], name: str = "rv", thread_tag: str = ""
) -> IterVar:
    """A reduction axis over ``[begin, end)`` (or a ``Range``)."""
    if isinstance(dom, Range):
        rng = dom
    else:
        if len(dom) != 2:
            raise DiagnosticError(f"reduce_axis: dom must be (begin, end), got {dom!r}")
        lo, hi = convert(dom[0]), convert(dom[1])
        rng = Range(lo, sub(hi, lo))
    return IterVar(rng, Var(name, rng.extent.dtype), IterVarType.CommReduce, thread_tag)


def thread_axis(
    dom: Range | tuple[ExprLike, ExprLike] | None = None, tag: str = "", name: str = ""
) -> IterVar:
    """An axis bound to a thread index (for API compatibility: TE here has no schedules)."""
    if dom is None:
        rng = Range(convert(0), convert(1))
    elif isinstance(dom, Range):
        rng = dom
    else:
        lo = convert(dom[0])
        rng = Range(lo, sub(dom[1], lo))
    return IterVar(rng, Var(name or tag or "thread", "int32"), IterVarType.ThreadIndex, tag)


def var(name: str = "tindex", dtype: str = "int32") -> Var:
    return Var(name, dtype)


def size_var(name: str = "size", dtype: str = "int32") -> SizeVar:
    return SizeVar(name, dtype)


def const(value: int | float | bool, dtype: str = "int32") -> PrimExpr:
    """``te.const``: an immediate of ``dtype`` (int32 by default, as TVM)."""
    return tir_const(value, dtype)
