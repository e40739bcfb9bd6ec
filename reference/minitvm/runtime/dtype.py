"""Data types as TVM spells them (``"float32"``, ``"int64"``, ``"bool"``) and their numpy twins."""

from __future__ import annotations

import numpy as np

from minitvm.error import DiagnosticError

__all__ = ["DTYPES", "check_dtype", "is_bool", "is_float", "is_int", "is_uint", "to_numpy_dtype"]

DTYPES: tuple[str, ...] = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
)
_DTYPE_SET = frozenset(DTYPES)


def check_dtype(dtype: object) -> str:
    """Return ``dtype`` as a canonical TVM dtype string, or raise DiagnosticError."""
    if isinstance(dtype, np.dtype):
        name = str(dtype)
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = str(np.dtype(dtype))
    elif isinstance(dtype, str):
        name = "int32" if dtype == "int" else dtype
    else:
        raise DiagnosticError(f"expected a dtype string, got {dtype!r}")
    if name not in _DTYPE_SET:
        raise DiagnosticError(f"unsupported dtype {name!r}; supported: {', '.join(DTYPES)}")
    return name


def to_numpy_dtype(dtype: str) -> np.dtype[np.generic]:
    return np.dtype(check_dtype(dtype))


def is_float(dtype: str) -> bool:
    return dtype.startswith("float")


def is_int(dtype: str) -> bool:
    return dtype.startswith("int")


def is_uint(dtype: str) -> bool:
    return dtype.startswith("uint")


def is_bool(dtype: str) -> bool:
    return dtype == "bool"
