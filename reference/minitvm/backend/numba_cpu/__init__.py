"""The numba-CPU target: TIR ``PrimFunc`` -> Python source -> ``numba.njit`` kernels.

``codegen`` (statements) and ``expr_codegen`` (expressions) write the source, ``intrinsics``
holds the scalar helpers it calls, ``kernel_cache`` stores kernels as content-addressed
modules, ``build`` compiles a PrimFunc. Only ``options`` is imported here, so that importing
minitvm does not import numba.
"""

from minitvm.backend.numba_cpu import options
from minitvm.backend.numba_cpu.options import CompileOptions, set_cache_dir

__all__ = ["CompileOptions", "options", "set_cache_dir"]
