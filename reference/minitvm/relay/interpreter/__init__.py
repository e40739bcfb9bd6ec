"""The reference interpreter: the oracle every pass and backend is checked against.

``create_executor`` / ``Interpreter.evaluate`` are TVM's Python API. ``evaluate_expr`` and
``eval_op`` are the internal API other passes use (FoldConstant evaluates operator calls on
constants); they work on the machine's values: numpy arrays, tuples of values, closures.
"""

from __future__ import annotations

from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.interpreter.convert import InterpreterClosure
from minitvm.relay.interpreter.executor import (
    EXECUTOR_KINDS,
    Interpreter,
    bind_params_by_name,
    create_executor,
    type_check,
)
from minitvm.relay.interpreter.machine import Machine, eval_op, infer_op_type
from minitvm.relay.interpreter.values import Closure, ConstructorValue, RefValue, Value

__all__ = [
    "EXECUTOR_KINDS",
    "Closure",
    "ConstructorValue",
    "Interpreter",
    "InterpreterClosure",
    "Machine",
    "RefValue",
    "Value",
    "bind_params_by_name",
    "create_executor",
    "eval_op",
    "evaluate_expr",
    "infer_op_type",
    "type_check",
]


def evaluate_expr(expr: Expr, mod: IRModule | None = None) -> Value:
    """The value of a closed expression, with ``mod``'s globals in scope.

    The expression is not type checked first: operator calls use their checked types when
    present and their type relations otherwise.
    """
    return Machine(mod).evaluate(expr)
