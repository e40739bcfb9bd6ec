"""Backends: compile TIR to kernels (``numba_cpu``) and register them as ``tvm.build`` targets.

Importing this package registers the targets ``"numba"``, ``"llvm"`` and ``"c"`` (one CPU
code path) and ``"cuda"`` (``numba_cuda``), and the PassContext options of both, without
importing numba: a target loads its compiler the first time it builds something.
"""

from __future__ import annotations

from typing import Any

from minitvm.backend.numba_cpu import options
from minitvm.backend.numba_cuda import options as cuda_options
from minitvm.tir.build import register_target
from minitvm.tir.function import PrimFunc

__all__ = ["CPU_TARGETS", "cuda_options", "options"]

CPU_TARGETS = ("numba", "llvm", "c")


def _numba_cpu(func: PrimFunc) -> Any:
    from minitvm.backend.numba_cpu.build import as_kernel

    return as_kernel(func)


for _name in CPU_TARGETS:
    register_target(_name, _numba_cpu)


def _numba_cuda(func: PrimFunc) -> Any:
    from minitvm.backend.numba_cuda.build import as_cuda_kernel

    return as_cuda_kernel(func)


register_target("cuda", _numba_cuda)
