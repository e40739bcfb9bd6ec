"""Property: on generated elementwise/broadcast/reduction programs, both automatic
differentiation modes give the gradients that central finite differences of an independent
numpy evaluation give, and LazyGradientInit keeps them.

A program is a sequence of steps ``v_i = op(a, b)`` over the parameters ``x`` (2x3) and ``y``
(a shape broadcasting to it) and earlier steps; a step may be used several times. The
higher-order program let-binds every step; the first-order one is the same computation as a
dataflow graph (each step one shared node).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.testing import run_infer_type
from minitvm.relay.transform import FirstOrderGradient, InferType, LazyGradientInit, gradient
from minitvm.runtime.container import ADT
from minitvm.runtime.ndarray import NDArray

Array = np.ndarray[Any, np.dtype[np.float64]]
ONE = relay.const(1.0, "float64")

UNARY: dict[str, tuple[Callable[[Expr], Expr], Callable[[Array], Array]]] = {
    "tanh": (relay.tanh, np.tanh),
    "sigmoid": (relay.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
    "negative": (relay.negative, np.negative),
    "exp_tanh": (lambda e: relay.exp(relay.tanh(e)), lambda a: np.exp(np.tanh(a))),
    "relu": (relay.nn.relu, lambda a: np.maximum(a, 0)),
    "sum_last": (
        lambda e: relay.sum(e, axis=-1, keepdims=True),
        lambda a: np.sum(a, axis=-1, keepdims=True),
    ),
}
BINARY: dict[str, tuple[Callable[[Expr, Expr], Expr], Callable[[Array, Array], Array]]] = {
    "add": (relay.add, np.add),
    "subtract": (relay.subtract, np.subtract),
    "multiply": (relay.multiply, np.multiply),
    "divide": (
        lambda a, b: relay.divide(a, relay.add(relay.multiply(b, b), ONE)),
        lambda a, b: a / (b * b + 1),
    ),
    "maximum": (relay.maximum, np.maximum),
}


@dataclass(frozen=True)
class Step:
    op: str
    args: tuple[int, ...]
    """Operand indices: 0 is x, 1 is y, 2 + i is step i."""


@dataclass(frozen=True)
class Program:
    y_shape: tuple[int, ...]
    steps: tuple[Step, ...]
    seed: int


@st.composite
def programs(draw: st.DrawFn) -> Program:
    y_shape = draw(st.sampled_from([(3,), (2, 1), (1, 3), (2, 3)]))
    count = draw(st.integers(1, 6))
    steps: list[Step] = []
    for i in range(count):
        operand = st.integers(0, i + 1)
        if draw(st.booleans()):
            steps.append(Step(draw(st.sampled_from(sorted(UNARY))), (draw(operand),)))
        else:
            name = draw(st.sampled_from(sorted(BINARY)))
            steps.append(Step(name, (draw(operand), draw(operand))))
    return Program(y_shape, tuple(steps), draw(st.integers(0, 2**16)))


def numpy_eval(p: Program, x: Array, y: Array) -> Array:
    values = [x, y]
    for step in p.steps:
        if len(step.args) == 1:
            values.append(UNARY[step.op][1](values[step.args[0]]))
        else:
            a, b = (values[i] for i in step.args)
            values.append(BINARY[step.op][1](a, b))
    return values[-1]


def relay_program(p: Program, let_bound: bool) -> Function:
    x = relay.var("x", relay.TensorType((2, 3), "float64"))
    y = relay.var("y", relay.TensorType(p.y_shape, "float64"))
    values: list[Expr] = [x, y]
    bindings: list[tuple[relay.Var, Expr]] = []
    for i, step in enumerate(p.steps):
        operands = [values[k] for k in step.args]
        if len(operands) == 1:
            value = UNARY[step.op][0](operands[0])
        else:
            value = BINARY[step.op][0](operands[0], operands[1])
        if let_bound:
            var = relay.var(f"v{i}")
            bindings.append((var, value))
            values.append(var)
        else:
            values.append(value)
    body = values[-1]
    for var, value in reversed(bindings):
        body = relay.Let(var, value, body)
    func = run_infer_type(relay.Function([x, y], body))
    assert isinstance(func, Function)
    return func


def finite_differences(p: Program, inputs: list[Array], eps: float = 1e-6) -> list[Array]:
    grads = []
    for k, value in enumerate(inputs):
        grad = np.zeros(value.shape)
        for index in np.ndindex(*value.shape):
            shifted = [v.copy() for v in inputs]
            shifted[k][index] = value[index] + eps
            plus = np.sum(numpy_eval(p, *shifted))
            shifted[k][index] = value[index] - eps
            minus = np.sum(numpy_eval(p, *shifted))
            grad[index] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def gradients(func: Expr, inputs: list[Array], mod: IRModule | None = None) -> list[Array]:
    result = relay.create_executor(mod=mod).evaluate(func)(*inputs)
    assert isinstance(result, ADT)
    grads = result.fields[1]
    assert isinstance(grads, ADT)
    out = []
    for g in grads.fields:
        assert isinstance(g, NDArray)
        out.append(g.numpy())
    return out


@given(programs())
def test_gradients_match_finite_differences(p: Program) -> None:
    rng = np.random.default_rng(p.seed)
    inputs = [rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, p.y_shape)]
    want = finite_differences(p, inputs)

    higher = gradient(relay_program(p, let_bound=True))
    first = FirstOrderGradient()(IRModule.from_expr(relay_program(p, let_bound=False)))["main"]
    lazy = LazyGradientInit()(InferType()(IRModule.from_expr(higher)))
    lazy_main = lazy["main"]
    assert isinstance(first, Function)
    assert isinstance(lazy_main, Function)
    for got in [
        gradients(higher, inputs),
        gradients(first, inputs),
        gradients(lazy_main, inputs, lazy),
    ]:
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
