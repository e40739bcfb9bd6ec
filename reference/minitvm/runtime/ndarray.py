"""NDArray: a thin holder of a numpy array and its device (``tvm.nd.array``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.error import TVMError
from minitvm.runtime.device import Device, cpu
from minitvm.runtime.dtype import check_dtype

__all__ = ["NDArray", "array", "empty"]


class NDArray:
    """An n-dimensional array on a device. Its data is a numpy array owned by the NDArray."""

    __slots__ = ("_data", "device")

    def __init__(self, data: npt.NDArray[Any], device: Device | None = None) -> None:
        check_dtype(data.dtype)
        self._data = data
        self.device = device or cpu(0)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self._data.shape)

    @property
    def dtype(self) -> str:
        return str(self._data.dtype)

    def numpy(self) -> npt.NDArray[Any]:
        """A copy of the data as a numpy array."""
        return self._data.copy()

    def asnumpy(self) -> npt.NDArray[Any]:
        return self.numpy()

    def copyfrom(self, source: NDArray | npt.ArrayLike) -> NDArray:
        src = source.numpy() if isinstance(source, NDArray) else np.asarray(source)
        if src.shape != self._data.shape:
            raise TVMError(f"copyfrom: shape {src.shape} does not match {self._data.shape}")
        self._data[...] = src.astype(self._data.dtype, copy=False)
        return self

    def copyto(self, target: Device | NDArray) -> NDArray:
        if isinstance(target, NDArray):
            return target.copyfrom(self)
        return NDArray(self._data.copy(), target)

    @override
    def __repr__(self) -> str:
        return f"<tvm.nd.NDArray shape={self.shape}, {self.device}>\n{self._data!r}"

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> npt.NDArray[Any]:
        return self._data if dtype is None else self._data.astype(dtype)

    def __len__(self) -> int:
        return int(self._data.shape[0])


def array(
    arr: npt.ArrayLike | NDArray, device: Device | None = None, dtype: str | None = None
) -> NDArray:
    """``tvm.nd.array``: copy ``arr`` into a new NDArray (keeping float64 as float64)."""
    data = arr.numpy() if isinstance(arr, NDArray) else np.array(arr)
    if dtype is not None:
        data = data.astype(check_dtype(dtype))
    return NDArray(np.array(data, order="C"), device)


def empty(shape: tuple[int, ...], dtype: str = "float32", device: Device | None = None) -> NDArray:
    return NDArray(np.empty(shape, dtype=check_dtype(dtype)), device)
