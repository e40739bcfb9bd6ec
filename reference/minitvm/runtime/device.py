"""Devices, as TVM's ``tvm.cpu(0)`` / ``tvm.cuda(0)`` / ``tvm.device("llvm", 0)``."""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import override

from minitvm.error import TVMError

__all__ = ["Device", "cpu", "cuda", "device", "gpu"]

_TYPE_CODES: dict[str, int] = {
    "cpu": 1,
    "llvm": 1,
    "numba": 1,
    "stackvm": 1,
    "c": 1,
    "cuda": 2,
    "gpu": 2,
    "nvptx": 2,
}
_TYPE_NAMES: dict[int, str] = {1: "cpu", 2: "cuda"}


@dataclass(frozen=True, slots=True)
class Device:
    """A device: ``device_type`` is DLPack's code (1 = CPU, 2 = CUDA)."""

    device_type: int
    device_id: int = 0

    def __post_init__(self) -> None:
        if self.device_type not in _TYPE_NAMES:
            raise TVMError(f"unknown device type code {self.device_type}")

    @property
    def exist(self) -> bool:
        if self.device_type == 1:
            return True
        from minitvm.runtime import cuda_available

        return cuda_available()

    @override
    def __str__(self) -> str:
        return f"{_TYPE_NAMES[self.device_type]}({self.device_id})"

    def sync(self) -> None:
        """Kernels run synchronously here; kept for TVM compatibility."""


def device(dev_type: str | int, dev_id: int = 0) -> Device:
    """``tvm.device("llvm", 0)``, ``tvm.device("cuda")``, ``tvm.device(1)``."""
    if isinstance(dev_type, int):
        return Device(dev_type, dev_id)
    name = dev_type.split()[0].split("-")[0]
    if name not in _TYPE_CODES:
        raise TVMError(f"unknown device {dev_type!r}; expected one of {sorted(_TYPE_CODES)}")
    return Device(_TYPE_CODES[name], dev_id)


def cpu(dev_id: int = 0) -> Device:
    return Device(1, dev_id)


def cuda(dev_id: int = 0) -> Device:
    return Device(2, dev_id)


gpu = cuda
