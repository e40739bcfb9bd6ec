"""The compile engine: primitive Relay functions to runnable kernels, cached (TVM's
``TECompiler``, ``src/relay/backend/te_compiler.cc``, and ``python/tvm/relay/backend/
te_compiler.py``).

``lower(func, target)`` turns a ``Primitive`` function made by FuseOps into a
``CompiledFunc``: its TE graph (``te_lower``), scheduled (``schedule``), lowered with
``te.create_prim_func`` and compiled by the target (``minitvm.backend.numba_cpu``, or
``minitvm.backend.numba_cuda`` for ``cuda``, whose library calls run a shared-memory tiled
matrix product instead of numpy's BLAS). A
library-call anchor (``externs``) splits the function into up to three steps: a prologue
kernel computing the call's inputs that are not parameters (the im2col columns of a
convolution), the call, and an epilogue kernel computing the outputs from the parameters and
the call's result. A function the TE path cannot express (an operator without
``FTVMCompute``, a float16 tensor) runs its operators' reference kernels instead, with the
same calling convention, and says so (``backend == "interpreter"``).

Functions are cached by structural hash, confirmed by structural equality, together with the
target and the compile options; the kernels themselves are also cached on disk by the target.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.backend.numba_cpu.build import build_prim_func
from minitvm.backend.numba_cpu.expr_codegen import Unsupported
from minitvm.backend.numba_cpu.kernel_cache import KernelModule
from minitvm.backend.numba_cpu.options import CompileOptions, current_options
from minitvm.backend.numba_cuda.options import CudaOptions, current_cuda_options
from minitvm.error import DiagnosticError, InternalError, TVMError
from minitvm.ir.structural import structural_equal
from minitvm.ir.structural_hash import structural_hash
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.backend.cost import estimate_flops
from minitvm.relay.backend.externs import ExternCall
from minitvm.relay.backend.schedule import schedule_outputs
from minitvm.relay.backend.te_lower import LoweredFunc, NotLowerable, flat_types, lower_to_te
from minitvm.relay.function import Function
from minitvm.target import Target
from minitvm.te.create_prim_func import create_prim_func
from minitvm.te.graph import post_dfs_order
from minitvm.te.tensor import PlaceholderOp, Tensor
from minitvm.tir.function import PrimFunc
from minitvm.topi.utils import get_const_int

__all__ = ["CompileEngine", "CompiledFunc", "ExternStep", "Kernel", "KernelStep", "get"]

Array = npt.NDArray[Any]
Buffer = Any
"""A host numpy array, or on a CUDA graph a numba device array (numba is untyped)."""
Slot = tuple[str, int]
"""Where a step finds an array: ``("in"|"out"|"tmp"|"const", index)``."""


class Kernel(Protocol):
    """A compiled PrimFunc, whatever the target: ``run`` takes its arrays unchecked."""

    @property
    def func(self) -> PrimFunc: ...

    @property
    def module(self) -> KernelModule: ...

    @property
    def name(self) -> str: ...

    def __call__(self, args: list[Any]) -> None: ...

    def run(self, *args: Any) -> None: ...


@dataclass(frozen=True, slots=True)
class KernelStep:
    kernel: Kernel
    args: tuple[Slot, ...]


@dataclass(frozen=True, slots=True)
class ExternStep:
    call: ExternCall
    args: tuple[Slot, ...]
    out: Slot


Step = KernelStep | ExternStep


class CompiledFunc:
    """A primitive function compiled for a target: ``f(inputs, outputs)`` computes the
    flattened outputs from the flattened inputs, writing into the given arrays."""

    def __init__(
        self,
        name: str,
        func: Function,
        steps: Sequence[Step] = (),
        temps: Sequence[TensorType] = (),
        constants: Sequence[Array] = (),
        backend: str = "numba",
        reason: str = "",
    ) -> None:
        self.name = name
        self.func = func
        self.in_types: list[TensorType] = [
            t for p in func.params for t in flat_types(p.checked_type_ or p.type_annotation)
        ]
        self.out_types: list[TensorType] = flat_types(_ret_type(func))
        self.steps = tuple(steps)
        self.temps = tuple(temps)
        self.constants = tuple(constants)
        self.backend = backend
        self.reason = reason
        self._on_device_constants: list[Any] | None = None
        self.flops = sum(
            s.call.flops if isinstance(s, ExternStep) else estimate_flops(s.kernel.func)
            for s in self.steps
        )

    def __call__(self, inputs: Sequence[Buffer], outputs: Sequence[Buffer]) -> None:
        self.bind(inputs, outputs)()

    @property
    def scratch_bytes(self) -> int:
        """Bytes of scratch memory ``bind`` lays the temporaries out in (each 64-aligned)."""
        return sum(_aligned_size(nbytes(t.shape, t.dtype)) for t in self.temps)

    def bind(
        self, inputs: Sequence[Buffer], outputs: Sequence[Buffer], scratch: Buffer | None = None
    ) -> Callable[[], None]:
        """A call of this function on these arrays, prepared once: every step's arguments
        resolved, and the temporaries laid out in ``scratch`` (a uint8 array of at least
        ``scratch_bytes``, which the caller may share between calls that never overlap;
        allocated here when None). Calling the result runs the steps and nothing else.

        On the CUDA target the arrays may be device arrays (a graph's storage on the
        device): the scratch is then device memory too, and the constants are copied to the
        device once per function."""
        if self.backend == "interpreter":
            return _interpreted(self.func, list(inputs), list(outputs))
        on_device = self.backend == "cuda" and not all(
            isinstance(a, np.ndarray) for a in (*inputs, *outputs)
        )
        if scratch is None:
            scratch = (
                device_bytes(self.scratch_bytes)
                if on_device
                else np.empty(self.scratch_bytes, np.uint8)
            )
        elif int(scratch.shape[0]) < self.scratch_bytes:
            raise InternalError(
                f"{self.name}: scratch of {scratch.shape[0]} bytes, {self.scratch_bytes} needed"
            )
        temps: list[Buffer] = []
        offset = 0
        for t in self.temps:
            n = nbytes(t.shape, t.dtype)
            temps.append(scratch[offset : offset + n].view(t.dtype).reshape(t.shape))
            offset += _aligned_size(n)
        pools: dict[str, Sequence[Buffer]] = {
            "in": inputs,
            "out": outputs,
            "tmp": temps,
            "const": self._device_constants() if on_device else self.constants,
        }
        calls: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        for step in self.steps:
            if isinstance(step, KernelStep):
                calls.append((step.kernel.run, tuple(pools[k][i] for k, i in step.args)))
            else:
                k, i = step.out
                ins = [pools[a][b] for a, b in step.args]
                calls.append((step.call.run, (ins, pools[k][i])))
        if len(calls) == 1:
            fn, args = calls[0]
            return lambda: fn(*args)

        def run() -> None:
            for fn, args in calls:
                fn(*args)

        return run

    def _device_constants(self) -> list[Any]:
        """The constants copied to the device once."""
        if self._on_device_constants is None:
            from numba import cuda

            self._on_device_constants = [cuda.to_device(c) for c in self.constants]
        return self._on_device_constants

    @property
    def kernels(self) -> list[Kernel]:
        return [s.kernel for s in self.steps if isinstance(s, KernelStep)]

    def get_source(self) -> str:
        """The generated source of the function's kernels, in step order."""
        parts = []
        for s in self.steps:
            if isinstance(s, KernelStep):
                parts.append(s.kernel.module.source)
            else:
                how = "tiled CUDA matmul" if self.backend == "cuda" else "numpy BLAS"
                parts.append(f"# library call: {s.call.name} ({how})\n")
        return "\n".join(parts) if parts else f"# {self.name}: {self.reason}\n"

    @override
    def __repr__(self) -> str:
        return f"<CompiledFunc {self.name} ({self.backend}, {len(self.steps)} steps)>"


ALIGN = 64
"""Byte alignment of the temporaries in a scratch buffer and of a graph's storages."""


def nbytes(shape: Sequence[int], dtype: object) -> int:
    """The bytes of a dense array of ``shape`` and ``dtype``."""
    return int(np.prod(shape, dtype=np.int64)) * int(np.dtype(dtype).itemsize)  # type: ignore[call-overload]


def _aligned_size(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def _ret_type(func: Function) -> Type | None:
    ty = func.checked_type_
    from minitvm.ir.type import FuncType

    if isinstance(ty, FuncType):
        return ty.ret_type
    return func.ret_type or func.body.checked_type_


def device_bytes(n: int) -> Buffer:
    """``n`` bytes of CUDA device memory, as a uint8 device array."""
    from numba import cuda

    return cuda.device_array(max(n, 1), np.uint8)[:n]


def _interpreted(func: Function, inputs: list[Buffer], outputs: list[Buffer]) -> Callable[[], None]:
    """A call running ``func``'s reference kernels; device arrays (a CUDA graph's storage)
    are copied to the host and the outputs back."""
    if all(isinstance(a, np.ndarray) for a in (*inputs, *outputs)):
        return lambda: _interpret(func, inputs, outputs)

    def run() -> None:
        ins = [a if isinstance(a, np.ndarray) else a.copy_to_host() for a in inputs]
        outs = [a if isinstance(a, np.ndarray) else np.empty(a.shape, a.dtype) for a in outputs]
        _interpret(func, ins, outs)
        for dev, host in zip(outputs, outs, strict=True):
            if dev is not host:
                dev.copy_to_device(host)

    return run


def _interpret(func: Function, inputs: Sequence[Array], outputs: Sequence[Array]) -> None:
    """Run ``func`` with the reference interpreter, in the compiled calling convention."""
    from minitvm.relay.interpreter.machine import Machine
    from minitvm.relay.interpreter.values import Closure, Value

    flat = iter(inputs)
    args: list[Value] = []
    for p in func.params:
        ty = p.checked_type_ or p.type_annotation
        args.append(_regroup(flat, ty))
    result = Machine().apply(Closure(func, {}), args, "a primitive function")
    leaves: list[Value] = [result]
    k = 0
    while leaves:
        v = leaves.pop()
        if isinstance(v, tuple):
            leaves.extend(reversed(v))
        elif isinstance(v, np.ndarray):
            outputs[k][...] = v
            k += 1


def _regroup(flat: Any, ty: Type | None) -> Any:
    if isinstance(ty, TupleType):
        return tuple(_regroup(flat, f) for f in ty.fields)
    return next(flat)


class _Planner:
    """Slots and steps of one function."""

    def __init__(self, lowered: LoweredFunc, options: CompileOptions | CudaOptions) -> None:
        self.lowered = lowered
        self.options = options
        self.slots: dict[Tensor, Slot] = {}
        self.temps: list[TensorType] = []
        for k, t in enumerate(lowered.inputs):
            self.slots[t] = ("in", k)
        for k, (t, _) in enumerate(lowered.constants):
            self.slots[t] = ("const", k)
        for k, t in enumerate(lowered.outputs):
            self.slots[t] = ("out", k)

    def temp(self, t: Tensor) -> Slot:
        slot = self.slots.get(t)
        if slot is None:
            shape = tuple(get_const_int(d) for d in t.shape)
            slot = self.slots[t] = ("tmp", len(self.temps))
            self.temps.append(TensorType(shape, t.dtype))
        return slot

    def kernel(self, outs: list[Tensor], name: str) -> KernelStep:
        scheduled = schedule_outputs(outs)
        reads = [op.output(0) for op in post_dfs_order(scheduled) if isinstance(op, PlaceholderOp)]
        order = {t: k for k, t in enumerate(self.slots)}
        reads.sort(key=lambda t: order.get(t, len(order)))
        prim = create_prim_func([*reads, *scheduled]).with_attr("global_symbol", name)
        kernel: Kernel
        if isinstance(self.options, CudaOptions):
            from minitvm.backend.numba_cuda.build import build_cuda_prim_func

            kernel = build_cuda_prim_func(prim, self.options, name)
        else:
            kernel = build_prim_func(prim, self.options, name)
        args = tuple(self.slots[t] for t in reads) + tuple(self.temp(t) for t in outs)
        return KernelStep(kernel, args)

    def steps(self) -> list[Step]:
        low = self.lowered
        if not low.externs:
            return [self.kernel(low.outputs, low.name)]
        ext = low.externs[0]
        steps: list[Step] = []
        computed = [t for t in ext.inputs if not isinstance(t.op, PlaceholderOp)]
        if computed:
            steps.append(self.kernel(computed, f"{low.name}_prologue"))
        out_slot = self.temp(ext.output)
        if isinstance(self.options, CudaOptions):
            from minitvm.backend.numba_cuda.matmul import tiled_matmul

            ext = dataclasses.replace(ext, run=tiled_matmul(ext.product))
        steps.append(ExternStep(ext, tuple(self.slots[t] for t in ext.inputs), out_slot))
        rest = [t for t in low.outputs if t is not ext.output]
        if rest:
            steps.append(self.kernel(rest, low.name))
        return steps


class CompileEngine:
    """Lowers and compiles primitive functions, each once per target and options."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, str], list[tuple[Function, CompiledFunc]]] = {}
        self._lock = threading.RLock()

    def lower(
        self,
        func: Function,
        target: str | Target = "llvm",
        cpu_options: CompileOptions | None = None,
    ) -> CompiledFunc:
        """The compiled form of ``func`` (a type-checked ``Primitive`` function); a CPU
        target compiles with ``cpu_options``, else the current PassContext's."""
        if not isinstance(func, Function):
            raise DiagnosticError(f"lower: expected a relay.Function, got {type(func).__name__}")
        tgt = target if isinstance(target, Target) else Target(target)
        options: CompileOptions | CudaOptions
        if tgt.kind.device_type == 1:
            options = cpu_options if cpu_options is not None else current_options()
        elif tgt.kind.name == "cuda":
            options = current_cuda_options()
        else:
            raise TVMError(f"the compile engine has no backend for target {tgt}")
        key = (structural_hash(func), str(tgt), options.key())
        with self._lock:
            for known, compiled in self._cache.get(key, []):
                if known is func or structural_equal(known, func):
                    return compiled
            compiled = self._compile(func, options)
            self._cache.setdefault(key, []).append((func, compiled))
            return compiled

    def _compile(self, func: Function, options: CompileOptions | CudaOptions) -> CompiledFunc:
        use_blas = options.use_blas if isinstance(options, CompileOptions) else options.tiled_matmul
        try:
            lowered = lower_to_te(func, use_blas)
        except NotLowerable as exc:
            name = _fallback_name(func)
            return CompiledFunc(name, func, backend="interpreter", reason=exc.message)
        try:
            planner = _Planner(lowered, options)
            steps = planner.steps()
        except Unsupported as exc:
            return CompiledFunc(lowered.name, func, backend="interpreter", reason=exc.message)
        constants = [data for _, data in lowered.constants]
        backend = "cuda" if isinstance(options, CudaOptions) else "numba"
        return CompiledFunc(lowered.name, func, steps, planner.temps, constants, backend)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def items(self) -> list[CompiledFunc]:
        with self._lock:
            return [c for entries in self._cache.values() for _, c in entries]


def _fallback_name(func: Function) -> str:
    from minitvm.ir.op import Op
    from minitvm.relay.backend.te_lower import fused_name
    from minitvm.relay.expr import Call
    from minitvm.relay.expr_functor import iter_post_order

    names = [
        n.op.name
        for n in iter_post_order(func.body)
        if isinstance(n, Call) and isinstance(n.op, Op)
    ]
    return fused_name(names)


_ENGINE = CompileEngine()


def get() -> CompileEngine:
    """The process-wide engine (TVM's ``relay.backend.te_compiler.get()``)."""
    return _ENGINE
