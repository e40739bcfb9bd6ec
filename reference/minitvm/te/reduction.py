"""Commutative reducers: ``comm_reducer``, ``sum``, ``min``, ``max`` (TVM's ``tir/op.py``).

``comm_reducer(fcombine, fidentity)`` returns a reducer ``r``. ``r(expr, axis, where=None,
init=None)`` builds ``Reduce`` nodes: ``fcombine`` is called once on fresh variables (named
after its parameters) to make the combiner, ``fidentity(*dtypes)`` gives the identities. A
tuple ``expr`` makes a tuple reducer whose outputs are reduced together (argmax keeps an index
and a value); then ``fcombine`` receives and returns tuples. Called with two expressions
instead of an axis, ``r(a, b)`` simply combines them (``te.max(a, b)``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Protocol, cast, overload

from minitvm.error import DiagnosticError
from minitvm.tir import op as tir_op
from minitvm.tir.expr import CommReducer, ExprLike, IterVar, PrimExpr, Reduce, Var, const
from minitvm.tir.op import convert

__all__ = ["Reducer", "comm_reducer", "max", "min", "sum"]

Combine = Callable[..., object]
Identity = Callable[..., object]


class Reducer(Protocol):
    """A reducer: one expression gives one ``Reduce``, a tuple gives a tuple of them."""

    @overload
    def __call__(
        self,
        expr: ExprLike,
        axis: IterVar | Sequence[IterVar] | ExprLike,
        where: ExprLike | None = None,
        init: ExprLike | None = None,
    ) -> PrimExpr: ...

    @overload
    def __call__(
        self,
        expr: Sequence[ExprLike],
        axis: IterVar | Sequence[IterVar] | ExprLike,
        where: ExprLike | None = None,
        init: Sequence[ExprLike] | None = None,
    ) -> tuple[PrimExpr, ...]: ...


def _exprs(value: object, what: str) -> tuple[PrimExpr, ...]:
    items = value if isinstance(value, list | tuple) else (value,)
    out: list[PrimExpr] = []
    for x in items:
        try:
            out.append(convert(x))
        except DiagnosticError:
            raise DiagnosticError(f"comm_reducer: {what} must be expressions, got {x!r}") from None
    return tuple(out)


def comm_reducer(fcombine: Combine, fidentity: Identity, name: str = "reduce") -> Reducer:
    """A reducer from a combining function and an identity function (see module docstring)."""
    params = list(inspect.signature(fcombine).parameters)
    if len(params) != 2:
        raise DiagnosticError(f"comm_reducer {name}: fcombine must take two arguments")

    def make_reduce(
        expr: ExprLike | Sequence[ExprLike],
        axis: Sequence[IterVar],
        where: ExprLike | None,
        init: ExprLike | Sequence[ExprLike] | None,
    ) -> PrimExpr | tuple[PrimExpr, ...]:
        sources = _exprs(expr, "reduced values")
        size = len(sources)
        dtypes = [s.dtype for s in sources]
        if size == 1:
            lhs: tuple[Var, ...] = (Var(params[0], dtypes[0]),)
            rhs: tuple[Var, ...] = (Var(params[1], dtypes[0]),)
            result = _exprs(fcombine(lhs[0], rhs[0]), "combiner results")
        else:
            lhs = tuple(Var(f"{params[0]}_{i}", d) for i, d in enumerate(dtypes))
            rhs = tuple(Var(f"{params[1]}_{i}", d) for i, d in enumerate(dtypes))
            result = _exprs(fcombine(lhs, rhs), "combiner results")
        identity = _exprs(fidentity(*dtypes), "identities")
        for r, i, d in zip(result, identity, dtypes, strict=True):
            if r.dtype != d or i.dtype != d:
                raise DiagnosticError(
                    f"comm_reducer {name}: combiner and identity must keep dtype {d}, got "
                    f"{r.dtype} and {i.dtype}"
                )
        combiner = CommReducer(lhs, rhs, result, identity)
        cond = const(True, "bool") if where is None else convert(where)
        inits = () if init is None else _exprs(init, "initial values")
        if inits and len(inits) != size:
            raise DiagnosticError(f"comm_reducer {name}: {size} initial values expected")
        outs = tuple(Reduce(combiner, sources, tuple(axis), cond, i, inits) for i in range(size))
        return outs[0] if size == 1 else outs

    def reducer(
        expr: ExprLike | Sequence[ExprLike],
        axis: IterVar | Sequence[IterVar] | ExprLike,
        where: ExprLike | None = None,
        init: ExprLike | Sequence[ExprLike] | None = None,
    ) -> PrimExpr | tuple[PrimExpr, ...]:
        if isinstance(axis, IterVar):
            return make_reduce(expr, [axis], where, init)
        if isinstance(axis, list | tuple) and all(isinstance(a, IterVar) for a in axis):
            return make_reduce(expr, cast("Sequence[IterVar]", axis), where, init)
        # r(a, b): combine two values directly
        combined = fcombine(convert(cast("ExprLike", expr)), convert(cast("ExprLike", axis)))
        return convert(cast("ExprLike", combined))

    return reducer  # type: ignore[return-value]  # reducer implements both overloads


sum = comm_reducer(lambda x, y: x + y, lambda t: const(0, t), name="sum")
min = comm_reducer(tir_op.min, tir_op.max_value, name="min")
max = comm_reducer(tir_op.max, tir_op.min_value, name="max")
