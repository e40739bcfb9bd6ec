"""Helpers shared by the operators (TVM's ``python/tvm/topi/utils.py``).

``compute`` here is TOPI's C++-style compute: the body receives the list of axis variables,
named ``ax0, ax1, ...`` as TVM's C++ operators name them, so a lowered TOPI operator prints
the loop names TVM prints.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute as te_compute
from minitvm.te.tensor import Tensor
from minitvm.tir.analyzer import Analyzer
from minitvm.tir.expr import ExprLike, IntImm, PrimExpr, Var
from minitvm.tir.op import convert

__all__ = [
    "compute",
    "const_vector",
    "equal_const_int",
    "get_const_int",
    "get_const_tuple",
    "normalize_axis",
    "prod",
    "simplify",
]

Body = Callable[[list[Var]], ExprLike | Sequence[ExprLike]]


def compute(
    shape: Sequence[ExprLike],
    fbody: Body,
    name: str,
    tag: str = "",
    attrs: Mapping[str, object] | None = None,
    axis_prefix: str = "ax",
) -> Tensor:
    """One output tensor whose element at ``axes`` is ``fbody(axes)``."""
    names = [f"{axis_prefix}{k}" for k in range(len(shape))]
    out = te_compute(
        tuple(shape),
        lambda *i: fbody(list(i)),
        name=name,
        tag=tag,
        attrs=attrs,
        varargs_names=names,
    )
    if not isinstance(out, Tensor):
        raise DiagnosticError(f"{name}: expected one output")
    return out


def simplify(e: ExprLike) -> PrimExpr:
    return Analyzer().simplify(e)


def get_const_int(e: ExprLike) -> int:
    """The value of a constant integer expression; DiagnosticError if it is symbolic."""
    value = simplify(e) if not isinstance(e, int) else e
    if isinstance(value, int):
        return value
    if isinstance(value, IntImm):
        return value.value
    raise DiagnosticError(f"expected a constant integer, got {value}")


def get_const_tuple(shape: Sequence[ExprLike]) -> tuple[int, ...]:
    """A shape of constant dimensions as Python ints."""
    return tuple(get_const_int(d) for d in shape)


def equal_const_int(e: ExprLike, value: int) -> bool:
    x = simplify(e)
    return isinstance(x, IntImm) and x.value == value


def prod(values: Sequence[ExprLike]) -> PrimExpr:
    result: PrimExpr = convert(1)
    for v in values:
        result = result * convert(v)
    return simplify(result)


def normalize_axis(axis: int, ndim: int, op: str) -> int:
    """``axis`` in ``[-ndim, ndim)`` as a non-negative axis; DiagnosticError otherwise."""
    if not -ndim <= axis < ndim:
        raise DiagnosticError(f"{op}: axis {axis} is out of range for {ndim} dimensions")
    return axis + ndim if axis < 0 else axis


def const_vector(values: Sequence[int | float], dtype: str, name: str = "const_vector") -> Tensor:
    """A 1-d tensor holding ``values`` (a chain of selects over the index, as TVM's)."""
    from minitvm.tir.expr import const
    from minitvm.tir.op import if_then_else

    def body(ax: list[Var]) -> PrimExpr:
        result: PrimExpr = const(0, dtype)
        for k, v in enumerate(values):
            result = if_then_else(ax[0] == k, const(v, dtype), result)
        return result

    return compute([len(values)], body, name, "elemwise")
