"""``relay.testing.check_grad``: compare automatic differentiation with finite differences
(TVM ``python/tvm/relay/testing/__init__.py``).

The gradient program's gradients are compared, element by element, with central differences
``(f(x + eps) - f(x - eps)) / 2 eps`` of the sum of the forward function's result, both run
by the interpreter. Work in float64 to compare tightly: in float32 the differences are
dominated by rounding unless ``eps`` and the tolerances are loose.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.type import TensorType
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.interpreter import create_executor
from minitvm.relay.transform.first_order_gradient import FirstOrderGradient
from minitvm.relay.transform.higher_order_gradient import higher_order_gradient
from minitvm.relay.transform.type_infer import InferType
from minitvm.runtime.container import ADT
from minitvm.runtime.ndarray import NDArray

__all__ = ["check_grad"]

Array = npt.NDArray[np.generic]


def _typed(func: Function) -> Function:
    result = InferType()(IRModule.from_expr(func))["main"]
    if not isinstance(result, Function):
        raise DiagnosticError("check_grad: InferType did not return a function")
    return result


def _leaves(value: object) -> list[Array]:
    """The tensors of a result, left to right."""
    found: list[Array] = []
    stack: list[object] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, NDArray):
            found.append(v.numpy())
        elif isinstance(v, ADT):
            stack.extend(reversed(v.fields))
        else:
            raise DiagnosticError(f"check_grad: unexpected result value {v!r}")
    return found


def _objective(value: object, mode: str) -> float:
    """What the gradient differentiates: the sum of the result's first tensor (higher
    order), or of every tensor (first order)."""
    leaves = _leaves(value)
    if not leaves:
        raise DiagnosticError("check_grad: the function returns no tensor")
    chosen = leaves[:1] if mode == "higher_order" else leaves
    return float(sum(np.sum(leaf.astype("float64")) for leaf in chosen))


def _gradient(func: Function, mode: str) -> Function:
    if mode == "higher_order":
        return _typed(higher_order_gradient(func))
    if mode == "first_order":
        result = FirstOrderGradient()(IRModule.from_expr(func))["main"]
        if isinstance(result, Function):
            return _typed(result)
    raise DiagnosticError(f"check_grad: unknown mode {mode!r}")


def check_grad(
    func: Expr,
    inputs: Sequence[Array] | None = None,
    test_inputs: Sequence[Array] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    scale: float | None = None,
    mean: float = 0.0,
    mode: str = "higher_order",
    executor_kind: str = "debug",
) -> None:
    """Raise AssertionError unless ``gradient(func, mode=mode)`` matches central differences.

    ``inputs`` default to normal samples around ``mean`` with deviation ``scale`` (10 eps).
    Only the gradients of ``test_inputs`` (a subset of ``inputs``, by identity) are checked.
    """
    if not isinstance(func, Function):
        raise DiagnosticError(f"check_grad: expected a Relay function, got {type(func).__name__}")
    fwd_func = _typed(func)
    bwd_func = _gradient(fwd_func, mode)
    if inputs is None:
        deviation = 10 * eps if scale is None else scale
        arrays: list[Array] = []
        for p in fwd_func.params:
            ty = p.checked_type_
            if not isinstance(ty, TensorType):
                raise DiagnosticError(f"check_grad: parameter %{p.name_hint} is not a tensor")
            sample = np.random.normal(loc=mean, scale=deviation, size=ty.shape)
            arrays.append(np.asarray(sample).astype(ty.dtype))
        inputs = arrays
    values = [np.array(x) for x in inputs]
    tested = list(range(len(values)))
    if test_inputs is not None:
        tested = [i for i, x in enumerate(inputs) if any(x is t for t in test_inputs)]
    executor = create_executor(executor_kind)
    forward = executor.evaluate(fwd_func)
    backward = executor.evaluate(bwd_func)
    result = backward(*values)
    if not isinstance(result, ADT) or len(result) != 2:
        raise DiagnosticError("check_grad: the gradient program must return (result, grads)")
    grads = [g.astype("float64") for g in _leaves(result.fields[1])]
    for i in tested:
        x = values[i]
        approx = np.zeros(x.shape, "float64")
        for index in np.ndindex(*x.shape):
            original = float(x[index])
            x[index] = original + eps
            plus = _objective(forward(*values), mode)
            x[index] = original - eps
            minus = _objective(forward(*values), mode)
            x[index] = original
            approx[index] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(grads[i], approx, rtol=rtol, atol=atol)
