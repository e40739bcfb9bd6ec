"""``tvm.build(prim_func, target="numba")``: a PrimFunc compiled to a numba kernel.

The kernel is generated (``codegen``), loaded through the kernel cache and compiled eagerly
for the exact argument types (C-contiguous arrays of the buffers' dtypes and ranks), so the
first call runs at full speed and numba never compiles a second specialization. Calls check
the arguments as the TIR interpreter does (count, dtype, rank, shape, symbolic dimensions
consistent) and raise DiagnosticError. An array that is not C-contiguous or not writable is
copied in, and copied back when the kernel writes it.
"""

from __future__ import annotations

from typing import Any, cast

import numba
import numpy as np
import numpy.typing as npt
from numba import types

from minitvm.backend.numba_cpu.codegen import KernelSource, generate
from minitvm.backend.numba_cpu.kernel_cache import KernelModule, load_kernel
from minitvm.backend.numba_cpu.options import CompileOptions, current_options
from minitvm.error import DiagnosticError, InternalError
from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import IntImm, Var
from minitvm.tir.function import PrimFunc
from minitvm.tir.functor import walk_stmt
from minitvm.tir.stmt import BufferStore

__all__ = ["NumbaKernel", "build_prim_func", "check_args"]

Array = npt.NDArray[Any]


def _numba_type(dtype: str, ndim: int | None) -> object:
    scalar = numba.from_dtype(np.dtype(dtype))
    if ndim is None:
        return scalar
    return types.Array(scalar, ndim, "C")


def _scalar_type(dtype: str) -> object:
    if dtype.startswith("float"):
        return types.float64
    if dtype == "bool":
        return types.boolean
    return types.int64


class NumbaKernel:
    """A PrimFunc compiled by numba; ``kernel(arrays)`` runs it in destination-passing style."""

    __slots__ = ("dispatcher", "func", "module", "name", "source", "written")

    def __init__(self, func: PrimFunc, source: KernelSource, module: KernelModule) -> None:
        self.func = func
        self.source = source
        self.module = module
        self.name = source.name
        self.dispatcher: Any = module.function
        stored = {id(s.buffer.data) for s in walk_stmt(func.body) if isinstance(s, BufferStore)}
        self.written = tuple(
            buf is not None and id(buf.data) in stored for buf in func.param_buffers
        )
        sig = []
        for p, buf in zip(func.params, func.param_buffers, strict=True):
            if buf is None:
                sig.append(_scalar_type(p.dtype))
            else:
                sig.append(_numba_type(buf.dtype, len(buf.shape)))
        self.dispatcher.compile(tuple(sig))

    @property
    def parallel(self) -> bool:
        return self.source.parallel

    def check(self, args: list[Any]) -> None:
        """The interpreter's argument checks: count, dtypes, ranks and shapes."""
        check_args(self.func, self.name, args)

    def __call__(self, args: list[Any]) -> None:
        self.check(args)
        call: list[Any] = []
        copies: list[tuple[int, Array]] = []
        for k, (arr, buf) in enumerate(zip(args, self.func.param_buffers, strict=True)):
            if buf is None:
                call.append(arr.item() if isinstance(arr, np.ndarray) else arr)
            elif arr.flags.c_contiguous and arr.flags.writeable:
                call.append(arr)
            else:
                tmp = np.ascontiguousarray(arr).copy()
                call.append(tmp)
                if self.written[k]:
                    copies.append((k, tmp))
        try:
            self.dispatcher(*call)
        except IndexError as exc:  # raised by a generated range check
            raise DiagnosticError(f"{self.name}: {exc}") from None
        for k, tmp in copies:
            args[k][...] = tmp

    def run(self, *args: Array) -> None:
        """Call without the checks (the graph executor has checked shapes when planning)."""
        self.dispatcher(*args)


def check_args(func: PrimFunc, name: str, args: list[Any]) -> None:
    """The TIR interpreter's argument checks (count, dtypes, ranks, shapes), shared by the
    compiled targets."""
    if len(args) != len(func.params):
        raise DiagnosticError(
            f"{name}: PrimFunc takes {len(func.params)} arguments, got {len(args)}"
        )
    sizes: dict[Var, int] = {}
    for arr, buf in zip(args, func.param_buffers, strict=True):
        if buf is not None:
            _check_buffer(buf, arr, sizes)


def _check_buffer(buf: Buffer, arr: object, sizes: dict[Var, int]) -> None:
    if not isinstance(arr, np.ndarray):
        raise DiagnosticError(f"argument {buf.name}: expected an array, got {type(arr).__name__}")
    if str(arr.dtype) != buf.dtype:
        raise DiagnosticError(f"argument {buf.name}: expected dtype {buf.dtype}, got {arr.dtype}")
    if arr.ndim != len(buf.shape):
        raise DiagnosticError(
            f"argument {buf.name}: expected {len(buf.shape)} dimensions, got shape {arr.shape}"
        )
    for dim, n in zip(buf.shape, arr.shape, strict=True):
        if isinstance(dim, IntImm):
            ok = dim.value == n
        elif isinstance(dim, Var):
            ok = sizes.setdefault(dim, n) == n
        else:
            ok = True
        if not ok:
            shape = ", ".join(str(d) for d in buf.shape)
            raise DiagnosticError(f"argument {buf.name}: expected shape ({shape}), got {arr.shape}")


def build_prim_func(
    func: PrimFunc, options: CompileOptions | None = None, name: str | None = None
) -> NumbaKernel:
    """Compile ``func`` (options default to the current PassContext's)."""
    if not isinstance(func, PrimFunc):
        raise InternalError(f"build_prim_func expects a PrimFunc, got {type(func).__name__}")
    opts = options if options is not None else current_options()
    symbol = func.attrs.get("global_symbol")
    kname = name or (str(symbol) if symbol is not None else "kernel")
    source = generate(func, opts, kname)
    module = load_kernel(source, opts, f"PrimFunc {kname}")
    return NumbaKernel(func, source, module)


def as_kernel(func: PrimFunc) -> Any:
    """The ``tvm.build`` target hook: a callable on the list of argument arrays."""
    return cast(Any, build_prim_func(func))
