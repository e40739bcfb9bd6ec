"""A shared-memory tiled matrix product for matmul-like anchors on the CUDA target (the
tiling of TVM's CUDA dense/batch_matmul schedules, as a fixed kernel).

``nn.dense``, ``nn.matmul``, ``nn.batch_matmul`` and the im2col form of ``nn.conv1d`` /
``nn.conv2d`` reach the compile engine as library calls (``relay.backend.externs``) whose
``Product`` says which inputs form ``out[b] = lhs[b] @ rhs[b]``, each read as a contiguous
``(batch, rows, cols)`` array, possibly transposed (a batch of one is shared by every batch).
On the CUDA target the call runs this kernel on device arrays, reshaped in place.

Each block of ``threads x threads`` threads computes a square tile of ``threads * micro``
rows and columns of one batch's output; each thread holds ``micro x micro`` of its elements
in registers, at rows ``ty + threads * i`` and columns ``tx + threads * j`` (so a warp's
stores are adjacent). Per step of ``depth`` along ``k``, the block's threads copy a
``depth``-deep slice of each operand's rows and columns into shared memory (adjacent threads
reading adjacent elements, whichever way the operand is laid out), synchronize, and every
thread accumulates its elements' products, reading one shared value of each operand per
``micro`` multiply-adds. Every element is accumulated along ``k`` in order, in the output's
dtype, as a single thread would. The kernel is specialized for the operands' transposition,
so no transposed copy is made. Edges load zeros outside the operands and store only inside
the result.

On a GPU a product takes the largest tile of ``GPU_TILINGS`` (64, 32 or 16: 16 x 16
threads holding 4 x 4, 2 x 2 or one element each, 16 deep) whose grid still gives every
multiprocessor a block, else the smallest: a large tile reuses each shared value more but
leaves most of the GPU idle on the narrow products of a CNN's late layers. Under the
simulator, whose threads are Python threads, the tile is 4 (2 x 2 threads, 2 x 2 each, 4
deep).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from minitvm.backend.numba_cuda.options import configure, simulated
from minitvm.relay.backend.externs import Product

__all__ = [
    "GPU_TILING",
    "GPU_TILINGS",
    "SIMULATOR_TILING",
    "Tiling",
    "choose_tiling",
    "matmul_kernel",
    "tiled_matmul",
]


@dataclass(frozen=True, slots=True)
class Tiling:
    """``threads x threads`` threads per block, ``micro x micro`` outputs per thread, and
    ``depth`` steps along ``k`` per shared-memory slice."""

    threads: int
    micro: int
    depth: int

    @property
    def tile(self) -> int:
        """The rows (and columns) of the output one block computes."""
        return self.threads * self.micro

    @property
    def loads(self) -> int:
        """Elements of each operand every thread copies into shared memory per slice."""
        return self.tile * self.depth // (self.threads * self.threads)


GPU_TILINGS = (Tiling(16, 4, 16), Tiling(16, 2, 16), Tiling(16, 1, 16))
GPU_TILING = GPU_TILINGS[0]
SIMULATOR_TILING = Tiling(2, 2, 4)


def choose_tiling(shape: tuple[int, int, int], multiprocessors: int) -> Tiling:
    """The largest GPU tiling whose grid for an output of ``shape`` (batch, rows, cols) has
    at least ``multiprocessors`` blocks, else the smallest."""
    batch, rows, cols = shape
    for tiling in GPU_TILINGS:
        blocks = batch * -(-rows // tiling.tile) * -(-cols // tiling.tile)
        if blocks >= multiprocessors:
            return tiling
    return GPU_TILINGS[-1]


_KERNELS: dict[tuple[Tiling, str, bool, bool], Any] = {}

cuda: Any = importlib.import_module("numba.cuda")
"""A module global, which the simulator replaces by its own ``cuda`` in the kernel."""


def matmul_kernel(tiling: Tiling, dtype: str, ta: bool = False, tb: bool = False) -> Any:  # noqa: C901
    """The tiled kernel for ``tiling``, ``dtype`` and the operands' transposition (compiled
    once per process)."""
    key = (tiling, dtype, ta, tb)
    found = _KERNELS.get(key)
    if found is not None:
        return found
    if tiling.tile * tiling.depth % (tiling.threads * tiling.threads):
        raise ValueError(f"{tiling}: the threads cannot share a slice's elements evenly")
    scalar = np.dtype(dtype).type
    zero = scalar(0)
    nt, mr, bk, bm, loads = tiling.threads, tiling.micro, tiling.depth, tiling.tile, tiling.loads

    @cuda.jit  # type: ignore[untyped-decorator]  # numba is untyped
    def matmul(a: Any, b: Any, c: Any) -> None:  # noqa: C901  # pragma: no cover - a kernel
        sa = cuda.shared.array((bk, bm), scalar)
        sb = cuda.shared.array((bk, bm), scalar)
        acc = cuda.local.array((mr, mr), scalar)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * nt + tx
        row0 = cuda.blockIdx.y * bm
        col0 = cuda.blockIdx.x * bm
        batch = cuda.blockIdx.z
        ab = batch if a.shape[0] > 1 else 0
        bb = batch if b.shape[0] > 1 else 0
        m, n = c.shape[1], c.shape[2]
        k = a.shape[1] if ta else a.shape[2]
        for i in range(mr):
            for j in range(mr):
                acc[i, j] = zero
        for t in range(0, k, bk):
            for step in range(loads):
                e = tid + step * nt * nt
                if ta:  # a[k, rows]: adjacent threads along the rows
                    q, r = e // bm, e % bm
                else:  # a[rows, k]: along k
                    r, q = e // bk, e % bk
                if row0 + r < m and t + q < k:
                    sa[q, r] = a[ab, t + q, row0 + r] if ta else a[ab, row0 + r, t + q]
                else:
                    sa[q, r] = zero
                if tb:  # b[cols, k]: along k
                    r, q = e // bk, e % bk
                else:  # b[k, cols]: along the columns
                    q, r = e // bm, e % bm
                if col0 + r < n and t + q < k:
                    sb[q, r] = b[bb, col0 + r, t + q] if tb else b[bb, t + q, col0 + r]
                else:
                    sb[q, r] = zero
            cuda.syncthreads()
            for q in range(bk):
                for i in range(mr):
                    av = sa[q, ty + nt * i]
                    for j in range(mr):
                        acc[i, j] = scalar(acc[i, j] + scalar(av * sb[q, tx + nt * j]))
            cuda.syncthreads()
        for i in range(mr):
            row = row0 + ty + nt * i
            for j in range(mr):
                col = col0 + tx + nt * j
                if row < m and col < n:
                    c[batch, row, col] = acc[i, j]

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
    arrays, or host arrays (copied to the device and the result back). The tiling is chosen
    at the first launch, on the device that runs it."""
    lhs, rhs, shape = product.lhs, product.rhs, product.out
    launchers: dict[str, Any] = {}

    def launcher(dtype: str) -> Any:
        if simulated():
            tiling = SIMULATOR_TILING
        else:  # pragma: no cover - needs a GPU
            tiling = choose_tiling(shape, cuda.get_current_device().MULTIPROCESSOR_COUNT)
        tile = tiling.tile
        grid = (-(-shape[2] // tile), -(-shape[1] // tile), shape[0])
        kernel = matmul_kernel(tiling, dtype, lhs.transposed, rhs.transposed)
        return configure(kernel, grid, (tiling.threads, tiling.threads))

    def run(ins: list[Any], out: Any) -> None:
        a = _on_device(ins[lhs.index], lhs.shape)
        b = _on_device(ins[rhs.index], rhs.shape)
        host = isinstance(out, np.ndarray)
        c = cuda.device_array(shape, out.dtype) if host else out.reshape(shape)
        dtype = str(out.dtype)
        launch = launchers.get(dtype)
        if launch is None:
            launch = launchers[dtype] = launcher(dtype)
        launch(a, b, c)
        if host:
            out[...] = c.copy_to_host().reshape(out.shape)

    return run
