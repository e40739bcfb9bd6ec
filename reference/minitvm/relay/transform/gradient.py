"""``relay.transform.gradient``: TVM's Python entry point to automatic differentiation
(``python/tvm/relay/transform/transform.py``).

``mode="higher_order"`` (the default) runs ``higher_order_gradient`` (references and
closures; any program). ``mode="first_order"`` differentiates a dataflow function through the
``FirstOrderGradient`` module pass and, as in TVM, warns that this spelling is deprecated.
"""

from __future__ import annotations

import warnings

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.transform.first_order_gradient import FirstOrderGradient
from minitvm.relay.transform.higher_order_gradient import higher_order_gradient

__all__ = ["gradient"]

MODES = ("higher_order", "first_order")


def gradient(expr: Expr, mod: IRModule | None = None, mode: str = "higher_order") -> Function:
    """The function ``fn(params) -> (result, (gradient of each parameter))`` of ``expr``, a
    type-checked function (or a global of ``mod``) whose parameters are tensors.

    The gradients are those of the sum of the result (of its first tensor, for a tuple result
    in higher-order mode; of every tensor in first-order mode).
    """
    if mode == "first_order":
        warnings.warn(
            "using transform.gradient for first-order AD is deprecated, please use the "
            "FirstOrderGradient module pass",
            DeprecationWarning,
            stacklevel=2,
        )
        if mod is not None:
            raise DiagnosticError(
                "gradient (first_order): to run first-order AD on a module, use the "
                "FirstOrderGradient module pass"
            )
        if not isinstance(expr, Function):
            raise DiagnosticError(
                f"gradient (first_order): expected a Relay function, got {type(expr).__name__}"
            )
        result = FirstOrderGradient()(IRModule.from_expr(expr))["main"]
        if not isinstance(result, Function):
            raise DiagnosticError("gradient (first_order): the pass did not return a function")
        return result
    if mode == "higher_order":
        return higher_order_gradient(expr, mod)
    raise DiagnosticError(f"gradient: unknown mode {mode!r}; expected one of {list(MODES)}")
