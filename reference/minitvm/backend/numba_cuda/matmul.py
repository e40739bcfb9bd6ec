"""A shared-memory tiled matrix product for matmul-like anchors on the CUDA target (the
classic tiling of TVM's CUDA dense/batch_matmul schedules, as a fixed kernel).

``nn.dense``, ``nn.matmul``, ``nn.batch_matmul`` and the im2col form of ``nn.conv1d`` /
``nn.conv2d`` reach the compile engine as library calls (``relay.backend.externs``) whose
``Product`` says which inputs form ``out[b] = lhs[b] @ rhs[b]``, each read as a contiguous
``(batch, rows, cols)`` array, possibly transposed (a batch of one is shared by every batch).
On the CUDA target the call runs this kernel on device arrays, reshaped in place: each block
computes a ``TILE x TILE`` tile of one batch's output; per step along ``k`` its threads load
one tile of each operand into shared memory, synchronize, and accumulate the tiles' product
in a register, in the output's dtype. The kernel is specialized for the operands'
transposition, so no transposed copy is made. Edges are handled by loading zeros outside the
operands. The tile is 16 on a GPU and 4 under the simulator (whose threads are Python
threads).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from minitvm.backend.numba_cuda.options import configure, simulated
from minitvm.relay.backend.externs import Product

__all__ = ["GPU_TILE", "SIMULATOR_TILE", "matmul_kernel", "tiled_matmul"]


GPU_TILE = 16
SIMULATOR_TILE = 4

_KERNELS: dict[tuple[int, str, bool, bool], Any] = {}

cuda: Any = importlib.import_module("numba.cuda")
"""A module global, which the simulator replaces by its own ``cuda`` in the kernel."""


def matmul_kernel(tile: int, dtype: str, ta: bool = False, tb: bool = False) -> Any:
    """The tiled kernel for ``tile``, ``dtype`` and the operands' transposition (compiled
    once per process)."""
    key = (tile, dtype, ta, tb)
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
        m, n = c.shape[1], c.shape[2]
        k = a.shape[1] if ta else a.shape[2]
        acc = zero
        for t in range(0, k, tile):
            if row < m and t + tx < k:
                sa[ty, tx] = a[ab, t + tx, row] if ta else a[ab, row, t + tx]
            else:
                sa[ty, tx] = zero
            if t + ty < k and col < n:
                sb[ty, tx] = b[bb, col, t + ty] if tb else b[bb, t + ty, col]
            else:
                sb[ty, tx] = zero
            cuda.syncthreads()
            for q in range(tile):
                acc = scalar(acc + scalar(sa[ty, q] * sb[q, tx]))
            cuda.syncthreads()
        if row < m and col < n:
            c[batch, row, col] = acc

    _KERNELS[key] = matmul
    return matmul


def _on_device(x: Any, shape: tuple[int, int, int]) -> Any:
    """``x`` as a device array of ``shape``: a device array is reshaped in place, a host
    array is copied over."""
    if isinstance(x, np.ndarray):
        return cuda.to_device(np.ascontiguousarray(x).reshape(shape))
    return x.reshape(shape)


def tiled_matmul(product: Product) -> Callable[[list[Any], Any], None]:
    """A library-call ``run`` computing ``product`` with the kernel. Its arrays are device
    arrays, or host arrays (copied to the device and the result back)."""
    tile = SIMULATOR_TILE if simulated() else GPU_TILE
    lhs, rhs, shape = product.lhs, product.rhs, product.out
    launchers: dict[str, Any] = {}

    def run(ins: list[Any], out: Any) -> None:
        a = _on_device(ins[lhs.index], lhs.shape)
        b = _on_device(ins[rhs.index], rhs.shape)
        host = isinstance(out, np.ndarray)
        c = cuda.device_array(shape, out.dtype) if host else out.reshape(shape)
        dtype = str(out.dtype)
        launch = launchers.get(dtype)
        if launch is None:
            grid = (-(-shape[2] // tile), -(-shape[1] // tile), shape[0])
            kernel = matmul_kernel(tile, dtype, lhs.transposed, rhs.transposed)
            launch = launchers[dtype] = configure(kernel, grid, (tile, tile))
        launch(a, b, c)
        if host:
            out[...] = c.copy_to_host().reshape(out.shape)

    return run
