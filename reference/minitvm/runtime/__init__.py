"""The runtime: devices, NDArray, containers."""

from minitvm.runtime import container, ndarray
from minitvm.runtime.device import Device, cpu, cuda, device, gpu
from minitvm.runtime.ndarray import NDArray

__all__ = [
    "Device",
    "NDArray",
    "container",
    "cpu",
    "cuda",
    "cuda_available",
    "device",
    "gpu",
    "ndarray",
]


def cuda_available() -> bool:
    """Whether numba can reach a CUDA device (real or simulated)."""
    try:
        from numba import cuda as numba_cuda
    except ImportError:
        return False
    available: object = numba_cuda.is_available()  # type: ignore[no-untyped-call]  # numba is untyped
    return bool(available)
