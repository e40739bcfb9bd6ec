"""Backends: compile TIR to kernels (``numba_cpu``) and register them as ``tvm.build`` targets.

Importing this package registers the targets ``"numba"``, ``"llvm"`` and ``"c"`` (one CPU
code path) and the PassContext options of the numba target, without importing numba: the
target loads its compiler the first time it builds something.
"""

from __future__ import annotations

from typing import Any

from minitvm.backend.numba_cpu import options
from minitvm.tir.build import register_target
from minitvm.tir.function import PrimFunc

__all__ = ["CPU_TARGETS", "options"]

CPU_TARGETS = ("numba", "llvm", "c")


def _numba_cpu(func: PrimFunc) -> Any:
    from minitvm.backend.numba_cpu.build import as_kernel

    return as_kernel(func)


for _name in CPU_TARGETS:
    register_target(_name, _numba_cpu)
