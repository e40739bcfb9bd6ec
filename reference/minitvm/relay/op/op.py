"""TVM's Python module for operator registration (``tvm.relay.op.op``).

Custom operators are declared as in TVM::

    op.register("custom_log", "a log")
    custom = op.get("custom_log")
    custom.set_num_inputs(1)
    custom.add_type_rel("Identity")
    op.register_pattern("custom_log", op.OpPattern.ELEMWISE)
    op.register_stateful("custom_log", False)

Everything lands in the single ``OpDef`` record of ``minitvm.ir.op``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeAlias, overload

from minitvm.ir.op import Op, OpPattern, register_op, register_op_attr
from minitvm.ir.op import register_pattern as _register_pattern
from minitvm.ir.op import register_stateful as _register_stateful
from minitvm.relay.expr import Call, Expr

__all__ = [
    "GRADIENT_ATTR",
    "FPrimalGradient",
    "Op",
    "OpPattern",
    "get",
    "get_gradient",
    "register",
    "register_gradient",
    "register_op_attr",
    "register_pattern",
    "register_stateful",
]


def get(op_name: str) -> Op:
    """The operator ``op_name``; TVMError if it is not registered."""
    return Op.get(op_name)


def register(op_name: str, describe: str = "") -> Op:
    """Register a new operator with no relation yet; a second registration raises TVMError."""
    return register_op(op_name, describe)


def register_pattern(op_name: str, pattern: OpPattern | int, level: int = 10) -> None:
    """Set the fusion pattern FuseOps reads for ``op_name``."""
    _register_pattern(op_name, pattern, level)


def register_stateful(op_name: str, stateful: bool, level: int = 10) -> None:
    """Mark ``op_name`` stateful: passes never fold, eliminate or duplicate its calls."""
    _register_stateful(op_name, stateful, level)


FPrimalGradient: TypeAlias = Callable[[Call, Expr], Sequence[Expr]]
"""``grad_fn(orig, grad) -> [gradient of each argument]``: ``orig`` is the forward call (its
arguments typed), ``grad`` the gradient of its result."""

GRADIENT_ATTR = "FPrimalGradient"


@overload
def register_gradient(
    op_name: str, fgradient: None = None, level: int = 10
) -> Callable[[FPrimalGradient], FPrimalGradient]: ...


@overload
def register_gradient(op_name: str, fgradient: FPrimalGradient, level: int = 10) -> None: ...


def register_gradient(
    op_name: str, fgradient: FPrimalGradient | None = None, level: int = 10
) -> Callable[[FPrimalGradient], FPrimalGradient] | None:
    """Register ``op_name``'s gradient as its ``FPrimalGradient`` attribute, the rule both
    automatic differentiation passes apply (TVM's ``register_gradient``): with ``fgradient``,
    or as a decorator without it. A level above 10 replaces an earlier registration."""

    def decorate(f: FPrimalGradient) -> FPrimalGradient:
        register_op_attr(op_name, GRADIENT_ATTR, f, level)
        return f

    if fgradient is None:
        return decorate
    decorate(fgradient)
    return None


def get_gradient(op: Op) -> FPrimalGradient | None:
    """The gradient registered for ``op``, or None."""
    value = op.get_attr(GRADIENT_ATTR)
    return value if callable(value) else None
