"""``relay.build``: optimize, fuse, compile every primitive function and plan the graph
(TVM's ``python/tvm/relay/build_module.py`` and ``executor_factory.py``).

``build(mod, target, params)`` runs ``relay.optimize`` (TVM's pass sequence, FuseOps last),
turns ``main`` into a graph of calls (``graph_codegen``), compiles each primitive function
with the compile engine, plans memory (``memory_plan``) and returns a
``GraphExecutorFactoryModule``. ``factory["default"](dev)`` creates a ``GraphRuntime``
loaded with the parameters, which ``contrib.graph_executor.GraphModule`` wraps.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.backend.numba_cpu.options import CompileOptions, current_options
from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext
from minitvm.ir.type import TensorType, Type
from minitvm.relay.backend import compile_engine
from minitvm.relay.backend.compile_engine import CompiledFunc
from minitvm.relay.backend.externs import library_call_applies
from minitvm.relay.backend.graph_codegen import GraphProgram, graph_codegen
from minitvm.relay.backend.graph_json import dump
from minitvm.relay.backend.graph_runtime import GraphRuntime
from minitvm.relay.backend.memory_plan import MemoryPlan, plan_memory
from minitvm.relay.expr import Call
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.runtime.device import Device
from minitvm.runtime.module import Module
from minitvm.runtime.ndarray import NDArray
from minitvm.target import Target

__all__ = ["GraphExecutorFactoryModule", "KernelLibrary", "build", "compile_options"]

Array = npt.NDArray[Any]


class KernelLibrary(Module):
    """The compiled functions of a build, by name (the ``lib`` of TVM's factory)."""

    type_key = "numba"

    def __init__(self, functions: Mapping[str, CompiledFunc]) -> None:
        self.functions = dict(functions)

    @override
    def _functions(self) -> Mapping[str, Callable[..., Any]]:
        return self.functions

    @override
    def get_source(self, fmt: str = "") -> str:
        return "\n".join(
            f"# ---- {name} ----\n{fn.get_source()}" for name, fn in self.functions.items()
        )


class GraphExecutorFactoryModule(Module):
    """What ``relay.build`` returns: the graph, the library and the parameters.

    ``factory["default"](dev)`` (or ``factory[mod_name]``) creates a runtime module.
    """

    type_key = "GraphExecutorFactory"

    def __init__(
        self,
        ir_mod: IRModule,
        target: Target,
        graph_json: str,
        lib: KernelLibrary,
        libmod_name: str,
        params: Mapping[str, Array],
        program: GraphProgram,
        plan: MemoryPlan,
    ) -> None:
        self.ir_mod = ir_mod
        self.target = target
        self.graph_json = graph_json
        self.lib = lib
        self.libmod_name = libmod_name
        self.params = {name: NDArray(np.array(v)) for name, v in params.items()}
        self.program = program
        self.memory_plan = plan

    def _create(self, device: Device) -> GraphRuntime:
        if device.device_type != self.target.kind.device_type:
            raise TVMError(f"the graph was built for {self.target}, not for device {device}")
        return GraphRuntime(self.graph_json, self.lib, device, self.params)

    @override
    def _functions(self) -> Mapping[str, Callable[..., Any]]:
        return {
            self.libmod_name: self._create,
            "get_graph_json": self.get_graph_json,
            "get_params": self.get_params,
        }

    def get_graph_json(self) -> str:
        return self.graph_json

    def get_executor_config(self) -> str:
        return self.graph_json

    def get_lib(self) -> KernelLibrary:
        return self.lib

    def get_params(self) -> dict[str, NDArray]:
        return dict(self.params)

    @property
    def ret_type(self) -> Type | None:
        return self.program.ret_type

    @override
    def get_source(self, fmt: str = "") -> str:
        return self.lib.get_source(fmt)


def build(
    ir_mod: IRModule | Function,
    target: str | Target | None = None,
    target_host: str | Target | None = None,
    executor: object = None,
    runtime: object = None,
    params: Mapping[str, object] | None = None,
    mod_name: str = "default",
) -> GraphExecutorFactoryModule:
    """TVM's ``relay.build`` for the graph executor, on the CPU or (``cuda``) a GPU."""
    from minitvm.relay.build_module import optimize

    if isinstance(ir_mod, Function):
        warnings.warn(
            "relay.build: pass an IRModule; passing a relay.Function is deprecated",
            DeprecationWarning,
            stacklevel=2,
        )
        ir_mod = IRModule.from_expr(ir_mod)
    if not isinstance(ir_mod, IRModule):
        raise DiagnosticError(f"relay.build: expected an IRModule, got {type(ir_mod).__name__}")
    kind = getattr(executor, "name", executor)
    if kind not in (None, "graph"):
        raise TVMError(f"relay.build: minitvm has only the graph executor, not {kind!r}")
    tgt = _target(target)
    if tgt.kind.device_type != 1 and tgt.kind.name != "cuda":
        raise TVMError(f"relay.build: no compiled backend for target {tgt}")
    if not ir_mod.contains_global_var("main"):
        raise DiagnosticError("relay.build: the module has no function named @main")
    opt_mod, _ = optimize(ir_mod, tgt, params)
    main = opt_mod["main"]
    if not isinstance(main, Function):
        raise DiagnosticError("relay.build: @main must be a Relay function")
    engine = compile_engine.get()
    options = compile_options([main]) if tgt.kind.device_type == 1 else None
    program = graph_codegen(main, lambda f: engine.lower(f, tgt, options))
    plan = plan_memory(program.nodes, program.heads)
    lib = KernelLibrary(program.functions)
    return GraphExecutorFactoryModule(
        opt_mod, tgt, dump(program, plan), lib, mod_name, program.params, program, plan
    )


BESIDE_BLAS = 16
"""Beside library calls, loop nests go parallel from this many times ``parallel_min_work``."""


def compile_options(funcs: Iterable[Function]) -> CompileOptions:
    """The PassContext's CPU compile options for the primitive functions within ``funcs``
    (a built ``main``, or every function of a module the vm executor runs), with a 16 times
    higher parallel threshold when one of them makes a library call. BLAS runs the matrix
    products on its own thread pool, whose workers keep spinning on the cores for a while
    after each call; a numba parallel region between two such calls competes with them for
    the cores and waits at its join for a descheduled thread, which costs more than it saves
    unless the kernel is large. So in such a graph the library owns the threads and the generated
    kernels mostly run on one (``numba.parallel_beside_blas`` keeps the usual threshold)."""
    options = current_options()
    if not options.use_blas or PassContext.current().get_config("numba.parallel_beside_blas"):
        return options
    calls = (node for func in funcs for node in iter_post_order(func.body))
    for node in calls:
        if not (isinstance(node, Call) and isinstance(node.op, Op)):
            continue
        out = node.checked_type_
        tensors = [t for a in node.args if isinstance(t := a.checked_type_, TensorType)]
        if not isinstance(out, TensorType) or len(tensors) != len(node.args):
            continue
        if library_call_applies(node.op.name, node.attrs, tensors, out):
            work = options.parallel_min_work * BESIDE_BLAS
            return dataclasses.replace(options, parallel_min_work=work)
    return options


def _target(target: str | Target | Mapping[object, object] | None) -> Target:
    if target is None:
        return Target.current() or Target("llvm")
    if isinstance(target, Target):
        return target
    if isinstance(target, str):
        return Target(target)
    raise TVMError(f"relay.build: expected a target string or Target, got {target!r}")
