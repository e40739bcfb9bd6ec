"""Scalar immediates of TIR (``IntImm``, ``FloatImm``, ``StringImm``) and ``tir.const``.

Relay uses them as attribute values (``Primitive=IntImm("int32", 1)``); the full TIR expression
language builds on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.node import Node
from minitvm.runtime.dtype import check_dtype, is_bool, is_float

__all__ = ["FloatImm", "IntImm", "StringImm", "const"]


@dataclass(frozen=True, slots=True)
class IntImm(Node):
    """An integer (or bool) constant of a given dtype."""

    dtype: str
    value: int

    def __post_init__(self) -> None:
        dtype = check_dtype(self.dtype)
        if is_float(dtype):
            raise DiagnosticError(f"IntImm needs an integer dtype, got {dtype}")
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "value", int(self.value))

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value

    def __bool__(self) -> bool:
        return self.value != 0

    @override
    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class FloatImm(Node):
    """A floating-point constant of a given dtype."""

    dtype: str
    value: float

    def __post_init__(self) -> None:
        dtype = check_dtype(self.dtype)
        if not is_float(dtype):
            raise DiagnosticError(f"FloatImm needs a float dtype, got {dtype}")
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "value", float(self.value))

    def __float__(self) -> float:
        return self.value

    @override
    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class StringImm(Node):
    value: str

    @override
    def __str__(self) -> str:
        return self.value


def const(value: int | float | bool, dtype: str | None = None) -> IntImm | FloatImm:
    """``tvm.tir.const``: an immediate, int32 / float32 / bool by default."""
    if dtype is None:
        if isinstance(value, bool):
            dtype = "bool"
        elif isinstance(value, int):
            dtype = "int32" if -(2**31) <= value < 2**31 else "int64"
        else:
            dtype = "float32"
    dtype = check_dtype(dtype)
    if is_float(dtype):
        return FloatImm(dtype, float(value))
    if is_bool(dtype):
        return IntImm(dtype, int(bool(value)))
    return IntImm(dtype, int(value))
