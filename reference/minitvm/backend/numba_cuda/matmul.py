"""A shared-memory tiled matrix product for matmul-like anchors on the CUDA target (the
classic tiling of TVM's CUDA dense/batch_matmul schedules, as a fixed kernel).

``nn.dense``, ``nn.matmul``, ``nn.batch_matmul`` and the im2col form of ``nn.conv1d`` /
``nn.conv2d`` reach the compile engine as library calls (``relay.backend.externs``) that say
which views of their inputs and output form the product ``out[b] = lhs[b] @ rhs[b]``
(a 2-d operand is shared by every batch). On the CUDA target the call runs this kernel: each
block computes a ``TILE x TILE`` tile of one batch's output; per step along ``k`` its threads
load one tile of each operand into shared memory, synchronize, and accumulate the tiles'
product in a register, in the output's dtype. Edges are handled by loading zeros outside the
operands. The tile is 16 on a GPU and 4 under the simulator (whose threads are Python
threads).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from minitvm.backend.numba_cuda.options import simulated

__all__ = ["GPU_TILE", "SIMULATOR_TILE", "matmul_kernel", "tiled_matmul"]

Array = npt.NDArray[Any]
Views = Callable[[list[Array], Array], tuple[Array, Array, Array]]

GPU_TILE = 16
SIMULATOR_TILE = 4

_KERNELS: dict[tuple[int, str], Any] = {}

cuda: Any = importlib.import_module("numba.cuda")
"""A module global, which the simulator replaces by its own ``cuda`` in the kernel."""


def matmul_kernel(tile: int, dtype: str) -> Any:
    """The tiled kernel for ``tile`` and ``dtype`` (compiled once per process)."""
    key = (tile, dtype)
    found = _KERNELS.get(key)
    if found is not None:
        return found
    scalar = np.dtype(dtype).type
    zero = scalar(0)

    @cuda.jit  # type: ignore[untyped-decorator]  # numba is untyped
    def matmul(a: Any, b: Any, c: Any) -> None:  # pragma: no cover - runs as a kernel
        sa = cuda.shared.array((tile, tile), scalar)
        sb = cuda.shared.array((tile, tile), scalar)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        col = cuda.blockIdx.x * tile + tx
        row = cuda.blockIdx.y * tile + ty
        batch = cuda.blockIdx.z
        ab = batch if a.shape[0] > 1 else 0
        bb = batch if b.shape[0] > 1 else 0
        m, n, k = c.shape[1], c.shape[2], a.shape[2]
        acc = zero
        for t in range(0, k, tile):
            sa[ty, tx] = a[ab, row, t + tx] if row < m and t + tx < k else zero
            sb[ty, tx] = b[bb, t + ty, col] if t + ty < k and col < n else zero
            cuda.syncthreads()
            for q in range(tile):
                acc = scalar(acc + scalar(sa[ty, q] * sb[q, tx]))
            cuda.syncthreads()
        if row < m and col < n:
            c[batch, row, col] = acc

    _KERNELS[key] = matmul
    return matmul


def _as3d(x: Array) -> Array:
    return x.reshape(1, *x.shape) if x.ndim == 2 else x


def tiled_matmul(views: Views) -> Callable[[list[Array], Array], None]:
    """A library-call ``run`` computing the product named by ``views`` with the kernel."""
    tile = SIMULATOR_TILE if simulated() else GPU_TILE

    def run(ins: list[Array], out: Array) -> None:
        lhs, rhs, res = views(ins, out)
        c = _as3d(res)
        a = cuda.to_device(np.ascontiguousarray(_as3d(lhs)))
        b = cuda.to_device(np.ascontiguousarray(_as3d(rhs)))
        dc = cuda.device_array(c.shape, c.dtype)
        grid = (-(-c.shape[2] // tile), -(-c.shape[1] // tile), c.shape[0])
        matmul_kernel(tile, str(c.dtype))[grid, (tile, tile)](a, b, dc)
        c[...] = dc.copy_to_host()

    return run
