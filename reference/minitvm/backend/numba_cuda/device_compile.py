"""Compile generated CUDA kernels for a GPU architecture without running them: numba-cuda's
typing and lowering to NVVM IR (``compile_cuda``, no CUDA toolkit needed), and PTX
(``compile_ptx``, which needs the toolkit's NVVM library, numba-cuda's ``cu12``/``cu13``
extra). Both need numba's real CUDA target: numba imported without
``NUMBA_ENABLE_CUDASIM``.

This is how kernels are checked on machines without a GPU: lowering types every
expression (so a float32 kernel whose IR holds no ``double`` arithmetic keeps float32 in
float32), and PTX is what the driver would load.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from unittest import mock

import numpy as np

from minitvm.backend.numba_cuda.build import CudaKernel
from minitvm.backend.numba_cuda.options import simulated
from minitvm.error import TVMError

if TYPE_CHECKING:
    from minitvm.backend.numba_cuda.matmul import Tiling

__all__ = [
    "DeviceCode",
    "compile_kernel",
    "compile_matmul",
    "kernel_signature",
    "ptx_available",
]


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """One stage kernel compiled for a GPU: its NVVM IR, and PTX when requested."""

    name: str
    llvm_ir: str
    ptx: str | None


def _numba_cuda() -> Any:
    if simulated():
        raise TVMError("compiling for a GPU needs numba without NUMBA_ENABLE_CUDASIM")
    from numba import cuda

    return cuda


def kernel_signature(kernel: CudaKernel) -> tuple[Any, ...]:
    """The numba argument types of every stage kernel of ``kernel``."""
    from numba import from_dtype, types

    sig: list[Any] = []
    for p, buf in zip(kernel.func.params, kernel.func.param_buffers, strict=True):
        if buf is None:
            scalar = (
                types.float64
                if p.dtype.startswith("float")
                else types.boolean
                if p.dtype == "bool"
                else types.int64
            )
            sig.append(scalar)
        else:
            sig.append(types.Array(from_dtype(np.dtype(buf.dtype)), max(len(buf.shape), 1), "C"))
    for shape, dtype in kernel.source.temps:
        sig.append(types.Array(from_dtype(np.dtype(dtype)), len(shape), "C"))
    sig.append(types.Array(types.int32, 1, "C"))  # the fault flag
    return tuple(sig)


def ptx_available() -> bool:
    """Whether numba-cuda can find the CUDA toolkit's NVVM library to emit PTX."""
    try:
        cuda = _numba_cuda()
        cuda.compile_ptx(lambda: None, (), cc=(9, 0))
    except Exception:  # any failure means: no toolkit
        return False
    return True


def compile_kernel(
    kernel: CudaKernel, cc: tuple[int, int] = (9, 0), ptx: bool = False
) -> list[DeviceCode]:
    """Each stage kernel of ``kernel`` typed and lowered for compute capability ``cc``."""
    cuda = _numba_cuda()
    from numba.cuda import dispatcher
    from numba.cuda.compiler import compile_cuda

    sig = kernel_signature(kernel)
    out: list[DeviceCode] = []
    # The device functions (``rt.*``) compile for "the current device" when a kernel calling
    # them is typed; without a GPU there is none, so they are given the requested one.
    target = SimpleNamespace(compute_capability=cc)
    with mock.patch.object(dispatcher, "get_current_device", return_value=target):
        for stage in kernel.source.stages:
            pyfunc = getattr(kernel.module.module, stage.name).py_func
            cres = compile_cuda(pyfunc, None, sig, cc=cc)
            ir = str(cres.library.get_llvm_str())
            code = cuda.compile_ptx(pyfunc, sig, cc=cc)[0] if ptx else None
            out.append(DeviceCode(stage.name, ir, code))
    return out


def compile_matmul(
    dtype: str = "float32",
    tiling: Tiling | None = None,
    cc: tuple[int, int] = (9, 0),
    ptx: bool = False,
    transposed: tuple[bool, bool] = (False, False),
) -> DeviceCode:
    """The tiled matrix product of ``numba_cuda.matmul`` (for operands ``transposed`` or
    not) typed and lowered for ``cc``."""
    cuda = _numba_cuda()
    from numba import from_dtype, types
    from numba.cuda.compiler import compile_cuda

    array = types.Array(from_dtype(np.dtype(dtype)), 3, "C")
    sig = (array, array, array)
    from minitvm.backend.numba_cuda.matmul import GPU_TILING, matmul_kernel

    pyfunc = matmul_kernel(tiling or GPU_TILING, dtype, *transposed).py_func
    cres = compile_cuda(pyfunc, None, sig, cc=cc)
    code = cuda.compile_ptx(pyfunc, sig, cc=cc)[0] if ptx else None
    suffix = "".join("t" if t else "n" for t in transposed)
    return DeviceCode(f"tiled_matmul_{dtype}_{suffix}", str(cres.library.get_llvm_str()), code)
