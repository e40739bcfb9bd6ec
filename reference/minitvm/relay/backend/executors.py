"""``relay.create_executor("graph" | "vm", ...)`` on compiled code (TVM's ``GraphExecutor``
and ``VMExecutor`` in ``python/tvm/relay/build_module.py`` and ``backend/vm.py``).

Both reuse the interpreter's front end (``evaluate`` with its entry points, argument
conversion and checks, results as NDArray / ``ADT``):

* ``graph`` builds the entry function as ``main`` with ``relay.build`` and runs it on the graph
  runtime; ``main`` must be a dataflow graph (control flow raises DiagnosticError);
* ``vm`` optimizes the module (fusion included) and runs it on the interpreter's machine,
  where every call of a primitive function runs the compiled kernel: control flow, closures,
  recursion and globals work as in the interpreter, and the operators run compiled.

Results are fresh NDArrays, as the interpreter's are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.backend.numba_cpu.options import CompileOptions
from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.type import FuncType, TupleType, Type
from minitvm.relay.backend import compile_engine
from minitvm.relay.backend.build import build, compile_options
from minitvm.relay.backend.graph_runtime import GraphRuntime
from minitvm.relay.build_module import optimize
from minitvm.relay.function import Function
from minitvm.relay.interpreter.convert import (
    ExecutorResult,
    InterpreterClosure,
    convert_args,
)
from minitvm.relay.interpreter.executor import Interpreter
from minitvm.relay.interpreter.machine import Machine
from minitvm.relay.interpreter.values import Closure, Value
from minitvm.runtime.container import ADT
from minitvm.runtime.device import Device
from minitvm.runtime.ndarray import NDArray

__all__ = ["GraphClosure", "GraphExecutor", "VMExecutor", "run_compiled"]

Array = npt.NDArray[Any]


def _entry_module(typed: IRModule, global_name: str) -> IRModule:
    """``typed`` with the entry function as ``main`` (the other functions kept)."""
    mod = typed.copy()
    if global_name != "main":
        mod["main"] = typed[global_name]
    return mod


def _flatten(value: Value, what: str) -> list[Array]:
    out: list[Array] = []
    stack: list[Value] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, tuple):
            stack.extend(reversed(v))
        elif isinstance(v, np.ndarray):
            out.append(v if v.flags.c_contiguous and v.flags.writeable else np.array(v))
        else:
            raise DiagnosticError(f"{what}: compiled code takes tensors and tuples, not {v!r}")
    return out


def _regroup(flat: Sequence[Any], ty: Type | None, leaf: Any, tup: Any) -> Any:
    """``flat`` (depth first) regrouped as ``ty``'s tuples, without recursion."""
    it = iter(flat)
    if not isinstance(ty, TupleType):
        return leaf(next(it))
    pending: list[tuple[TupleType, list[Any]]] = [(ty, [])]
    while True:
        tt, built = pending[-1]
        if len(built) == len(tt.fields):
            pending.pop()
            value = tup(built)
            if not pending:
                return value
            pending[-1][1].append(value)
            continue
        nxt = tt.fields[len(built)]
        if isinstance(nxt, TupleType):
            pending.append((nxt, []))
        else:
            built.append(leaf(next(it)))


def run_compiled(
    func: Function, args: list[Value], target: object, cpu_options: CompileOptions | None = None
) -> Value:
    """Call the compiled form of a primitive function on machine values (compiled with
    ``cpu_options`` on a CPU target, else the PassContext's)."""
    compiled = compile_engine.get().lower(func, target, cpu_options)  # type: ignore[arg-type]  # str | Target
    inputs = [a for v in args for a in _flatten(v, compiled.name)]
    outputs = [np.empty(t.shape, t.dtype) for t in compiled.out_types]
    compiled(inputs, outputs)
    ret = func.checked_type_.ret_type if isinstance(func.checked_type_, FuncType) else None
    result: Value = _regroup(outputs, ret, lambda a: a, tuple)
    return result


class VMExecutor(Interpreter):
    """The ``vm`` kind: the machine for control flow, compiled kernels for operators."""

    @override
    def _entry(self, typed: IRModule, global_name: str, name: str) -> InterpreterClosure:
        opt, _ = optimize(_entry_module(typed, global_name), self.target)
        target = self.target
        # on a CPU, the kernels of a module with library calls mostly run serially (BUILD-8)
        options = compile_options(f for f in opt.functions.values() if isinstance(f, Function))

        def primitive(func: Function, args: list[Value]) -> Value:
            return run_compiled(func, args, target, options)

        machine = Machine(opt, primitive)
        closure = machine.global_closure(opt.get_global_var("main"))
        return InterpreterClosure(machine, closure, self.device, name)


class GraphClosure(InterpreterClosure):
    """A built ``main`` as a callable: arguments as the interpreter takes them."""

    __slots__ = ("ret_type", "runtime")

    def __init__(
        self,
        machine: Machine,
        closure: Closure,
        device: Device,
        name: str,
        runtime: GraphRuntime,
        ret_type: Type | None,
    ) -> None:
        super().__init__(machine, closure, device, name)
        self.runtime = runtime
        self.ret_type = ret_type

    @override
    def __call__(self, *args: object, **kwargs: object) -> ExecutorResult:
        values = convert_args(self.closure.func.params, args, kwargs, self.name)
        flat = [a for v in values for a in _flatten(v, self.name)]
        for k, a in enumerate(flat):
            self.runtime.set_input(k, a)
        self.runtime.run()
        outs = [self.runtime.get_output(i).numpy() for i in range(self.runtime.get_num_outputs())]
        device = self.device
        return _regroup(outs, self.ret_type, lambda a: NDArray(a, device), lambda f: ADT(0, f))


class GraphExecutor(Interpreter):
    """The ``graph`` kind: ``relay.build`` of the entry function, run by the graph runtime."""

    @override
    def _entry(self, typed: IRModule, global_name: str, name: str) -> InterpreterClosure:
        mod = _entry_module(typed, global_name)
        factory = build(mod, self.target)
        runtime = factory["default"](self.device)
        main = mod["main"]
        if not isinstance(main, Function):
            raise DiagnosticError("graph executor: the entry is not a Relay function")
        machine = Machine(mod)
        closure = Closure(main, {})
        return GraphClosure(machine, closure, self.device, name, runtime, factory.ret_type)
