"""Options of the numba-CUDA target, read from the current PassContext.

The code generated for a kernel does not depend on the launch configuration (every kernel
is a grid-stride loop), so ``CudaOptions.key()`` holds only what changes the code: whether
it is generated for numba's simulator, and whether matmul-like anchors are split off as
the tiled kernel (``cuda.tiled_matmul``). ``cuda.threads_per_block`` and ``cuda.max_blocks``
choose the launch; 0 picks a default, small under the simulator (which runs every thread
as a Python thread) and large on a GPU.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any

from minitvm.ir.transform import PassContext, register_config

__all__ = ["CudaOptions", "configure", "current_cuda_options", "simulated"]

register_config(
    "cuda.threads_per_block", int, 0, "threads per block of CUDA launches (0: the default)"
)
register_config(
    "cuda.max_blocks", int, 0, "most blocks of a CUDA launch; grid-stride loops do the rest"
)
register_config(
    "cuda.tiled_matmul",
    bool,
    True,
    "run dense, batch_matmul and conv anchors as a shared-memory tiled matrix product",
)

SIMULATOR_LAUNCH = (8, 2)
GPU_LAUNCH = (256, 4096)


def simulated() -> bool:
    """Whether numba runs CUDA kernels on its simulator (read as numba reads it)."""
    try:
        from numba import config
    except ImportError:  # pragma: no cover - numba is a dependency
        return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")
    return bool(getattr(config, "ENABLE_CUDASIM", 0))


def configure(kernel: Any, griddim: Any, blockdim: Any) -> Any:
    """``kernel[griddim, blockdim]``, a launcher to call once per run. numba warns when a
    grid has fewer than 128 blocks; launches here are sized to the work (a small tensor gets
    a small grid on purpose), so that warning is not raised for them. The simulator's
    ``kernel[...]`` reconfigures the kernel object itself, so there the launcher indexes it
    again at every call."""
    if simulated():
        return lambda *args: kernel[griddim, blockdim](*args)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*GPU under-utilization")
        return kernel[griddim, blockdim]


@dataclass(frozen=True, slots=True)
class CudaOptions:
    """The launch configuration, whether code is generated for the simulator, and whether
    matmul-like anchors run as the tiled kernel (``numba_cuda.matmul``)."""

    threads_per_block: int = GPU_LAUNCH[0]
    max_blocks: int = GPU_LAUNCH[1]
    simulator: bool = False
    tiled_matmul: bool = True

    def key(self) -> str:
        """What changes the generated code (part of every kernel's cache key)."""
        return f"cuda;sim={int(self.simulator)};tiled={int(self.tiled_matmul)}"

    def launch(self, work: int, block_threads: int = 0) -> tuple[int, int]:
        """(blocks, threads) for ``work`` independent iterations (0: one thread), or for a
        block reduction of ``work`` outputs with ``block_threads`` threads each."""
        if block_threads:
            return (max(1, min(self.max_blocks, work)), block_threads)
        if work <= 0:
            return (1, 1)
        threads = min(self.threads_per_block, work)
        blocks = min(self.max_blocks, -(-work // threads))
        return (blocks, threads)


def current_cuda_options() -> CudaOptions:
    ctx = PassContext.current()
    sim = simulated()
    default = SIMULATOR_LAUNCH if sim else GPU_LAUNCH
    threads = int(ctx.get_config("cuda.threads_per_block")) or default[0]
    blocks = int(ctx.get_config("cuda.max_blocks")) or default[1]
    tiled = bool(ctx.get_config("cuda.tiled_matmul"))
    return CudaOptions(max(threads, 1), max(blocks, 1), sim, tiled)
