"""``relay.create_executor`` and the executor behind it.

Mirrors TVM's ``python/tvm/relay/build_module.py`` (``create_executor``) and
``python/tvm/relay/backend/interpreter.py`` (``Executor.evaluate``, ``Interpreter``):

* ``evaluate()`` gives a callable for ``mod["main"]``; ``evaluate(gv)`` one for a global;
  ``evaluate(func)`` one for a closed function; any other expression is evaluated at once.
  ``binds`` maps free variables of the expression to values.
* Each ``evaluate`` first type checks the module (with the expression added as a fresh
  global when it is not one), as TVM prepares the module on each call, so changes to the
  module between calls are seen.
* The kinds ``"graph"`` and ``"vm"`` run compiled code for CPU targets
  (``minitvm.relay.backend.executors``); for other targets they run this interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from typing_extensions import override

from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.transform import get_pass, registered_passes
from minitvm.relay.analysis import free_vars
from minitvm.relay.builder import const
from minitvm.relay.expr import Constant, Expr, Let, Var
from minitvm.relay.expr_functor import ExprMutator
from minitvm.relay.function import Function
from minitvm.relay.interpreter.convert import (
    ExecutorResult,
    InterpreterClosure,
    from_python,
    param_type,
    value_to_expr,
)
from minitvm.relay.interpreter.machine import Machine
from minitvm.relay.interpreter.values import Value, check_value
from minitvm.runtime.device import Device, device
from minitvm.runtime.ndarray import NDArray
from minitvm.target import Target

__all__ = ["EXECUTOR_KINDS", "Interpreter", "create_executor", "type_check"]

EXECUTOR_KINDS = ("debug", "graph", "vm")

_ENTRY = "__evaluate_entry"


def type_check(mod: IRModule) -> IRModule:
    """The module as InferType types it (InferType raises DiagnosticError on ill-typed code).

    Without a registered InferType the module is returned as is; the machine then types
    operator calls from their argument values.
    """
    if "InferType" not in registered_passes():
        return mod
    return get_pass("InferType")(mod)


class Interpreter:
    """The executor ``create_executor`` returns: evaluates Relay with the reference machine."""

    def __init__(self, mod: IRModule, device: Device, target: Target, kind: str = "debug") -> None:
        self.mod = mod
        self.device = device
        self.target = target
        self.kind = kind

    def evaluate(
        self, expr: Expr | None = None, binds: Mapping[Var, object] | None = None
    ) -> ExecutorResult:
        """A callable for ``main`` / a global / a function, or the value of an expression."""
        if binds:
            if expr is None:
                raise TVMError("evaluate: binds need an expression to bind in")
            expr = _bind_let(expr, binds)
        if expr is None:
            if not self.mod.contains_global_var("main"):
                raise DiagnosticError("evaluate: the module has no function named @main")
            return self._global_entry(self.mod.get_global_var("main"))
        if isinstance(expr, GlobalVar):
            return self._global_entry(expr)
        unbound = free_vars(expr)
        if unbound:
            names = ", ".join(f"%{v.name_hint}" for v in unbound)
            raise DiagnosticError(
                f"evaluate: the expression has free variables {names}; bind them with binds="
            )
        if isinstance(expr, Function):
            return self._function_entry(expr, "fn")
        return self._function_entry(Function([], expr), "expression")()

    def _global_entry(self, gv: GlobalVar) -> InterpreterClosure:
        if not self.mod.contains_global_var(gv.name_hint):
            raise DiagnosticError(f"evaluate: global function @{gv.name_hint} is not in the module")
        return self._entry(type_check(self.mod), gv.name_hint, f"@{gv.name_hint}")

    def _function_entry(self, func: Function, name: str) -> InterpreterClosure:
        mod = self.mod.copy()
        entry = _ENTRY
        while mod.contains_global_var(entry):
            entry += "_"
        mod[entry] = func
        return self._entry(type_check(mod), entry, name)

    def _entry(self, typed: IRModule, global_name: str, name: str) -> InterpreterClosure:
        machine = Machine(typed)
        closure = machine.global_closure(typed.get_global_var(global_name))
        return InterpreterClosure(machine, closure, self.device, name)

    @override
    def __repr__(self) -> str:
        return f"Interpreter(kind={self.kind!r}, target={self.target}, device={self.device})"


def create_executor(
    kind: str = "debug",
    mod: IRModule | None = None,
    device: Device | None = None,
    target: str | Target = "llvm",
    params: Mapping[str, object] | None = None,
) -> Interpreter:
    """TVM's ``relay.create_executor``. ``params`` are bound to ``main``'s parameters of the
    same names (as ``bind_params_by_name``); the other functions of ``mod`` are kept."""
    if kind not in EXECUTOR_KINDS:
        raise TVMError(
            f"unknown execution strategy {kind!r}; minitvm supports {', '.join(EXECUTOR_KINDS)}"
        )
    if not isinstance(target, Target):
        target = Target(target)
    if device is None:
        device = _device_of(target)
    elif device.device_type != target.kind.device_type:
        raise TVMError(f"create_executor: device {device} does not match target {target}")
    mod = IRModule() if mod is None else mod
    if params:
        main = mod["main"]
        if not isinstance(main, Function):
            raise DiagnosticError("create_executor: params need a Relay function @main")
        mod = mod.copy()
        mod["main"] = bind_params_by_name(main, params)
    if kind != "debug" and (target.kind.device_type == 1 or target.kind.name == "cuda"):
        from minitvm.relay.backend.executors import GraphExecutor, VMExecutor

        compiled = GraphExecutor if kind == "graph" else VMExecutor
        return compiled(mod, device, target, kind)
    return Interpreter(mod, device, target, kind)


def _device_of(target: Target) -> Device:
    return device(target.kind.device_type, 0)


def bind_params_by_name(func: Function, params: Mapping[str, object]) -> Function:
    """``func`` with the parameters named in ``params`` replaced by constants.

    As TVM, names not among the parameters are ignored, and a name shared by two parameters
    is an error. Values follow ``relay.const``'s dtype rules, except that an array whose own
    dtype is the parameter's is kept as is.
    """
    by_name: dict[str, Var] = {}
    shared: set[str] = set()
    for p in func.params:
        if p.name_hint in by_name:
            shared.add(p.name_hint)
        by_name[p.name_hint] = p
    binds: dict[Var, Expr] = {}
    for key, value in params.items():
        param = by_name.get(key)
        if param is None:
            continue
        if key in shared:
            raise DiagnosticError(f"bind_params_by_name: several parameters are named {key!r}")
        binds[param] = _param_constant(value, param)
    body = _Substitute(binds).visit(func.body)
    remaining = [p for p in func.params if p not in binds]
    return Function(remaining, body, func.ret_type, func.type_params, func.attrs, func.span)


def _param_constant(value: object, param: Var) -> Expr:
    what = f"params: %{param.name_hint}"
    expected = param_type(param)
    if isinstance(value, np.ndarray | NDArray | np.generic | bool | int | float | list):
        narrowed = np.asarray(const(value).data)
        try:
            check_value(narrowed, expected, what)
        except DiagnosticError:
            pass
        else:
            return Constant(NDArray(narrowed))
    return value_to_expr(from_python(value, expected, what), what)


def _bind_let(expr: Expr, binds: Mapping[Var, object]) -> Expr:
    """``let v1 = c1; ...; expr``: TVM's way of binding free variables for ``evaluate``."""
    for var, value in reversed(list(binds.items())):
        what = f"binds: %{var.name_hint}"
        val: Value = from_python(value, param_type(var), what)
        expr = Let(var, value_to_expr(val, what), expr)
    return expr


class _Substitute(ExprMutator):
    def __init__(self, binds: Mapping[Var, Expr]) -> None:
        super().__init__()
        self.binds = binds

    @override
    def visit_var(self, var: Var) -> Expr:
        return self.binds.get(var, var)
