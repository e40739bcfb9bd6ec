"""Literals of the Relay text format: scalar constants, numbers and string literals.

TVM: ``src/support/scalars.cc`` (``NDArrayScalarToString``, ``IntImmToString``,
``FloatImmToString``) and ``src/support/str_escape.h``. Numbers are written the way C++'s
``std::ostream`` writes them with its default settings, so that the text is TVM's to the byte.
"""

from __future__ import annotations

import math

from minitvm.runtime.ndarray import NDArray
from minitvm.tir.expr import FloatImm, IntImm

__all__ = [
    "SIMPLE_SCALAR_DTYPES",
    "cpp_float",
    "float_imm_literal",
    "int_imm_literal",
    "scalar_literal",
    "str_literal",
]

SIMPLE_SCALAR_DTYPES = frozenset(
    {"int16", "int32", "int64", "float16", "float32", "float64", "bool"}
)
"""The dtypes whose rank-0 constants are written inline (``IsSimpleScalarDtype``)."""

_INT_SUFFIX = {"int16": "i16", "int32": "", "int64": "i64"}
_FLOAT_SUFFIX = {"float16": "f16", "float32": "f", "float64": "f64"}


def cpp_float(value: float) -> str:
    """``value`` as ``std::ostream << double`` writes it: ``%g``, 6 significant digits
    (``3``, ``0.1``, ``1e-05``, ``1e+11``, ``inf``); glibc writes a negative NaN ``-nan``."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    return f"{value:g}"


def scalar_literal(data: NDArray) -> str | None:
    """The inline literal of a rank-0 constant of a simple dtype (``42i16``, ``3f``,
    ``True``), or None when the constant must go to the metadata section."""
    dtype = data.dtype
    if data.shape != () or dtype not in SIMPLE_SCALAR_DTYPES:
        return None
    value = data.numpy().item()
    if dtype == "bool":
        return "True" if value else "False"
    if dtype in _INT_SUFFIX:
        return f"{int(value)}{_INT_SUFFIX[dtype]}"
    return cpp_float(float(value)) + _FLOAT_SUFFIX[dtype]


def int_imm_literal(imm: IntImm) -> str:
    """An integer immediate: suffixed for int16/int64, ``True``/``False`` for bool, and a
    bare number for int32 and for the dtypes the text format has no suffix for."""
    if imm.dtype == "bool":
        return "True" if imm.value else "False"
    return f"{imm.value}{_INT_SUFFIX.get(imm.dtype, '')}"


def float_imm_literal(imm: FloatImm) -> str:
    return cpp_float(imm.value) + _FLOAT_SUFFIX[imm.dtype]


def str_literal(value: str) -> str:
    """A double-quoted string with TVM's escapes: ``\\"``, ``\\\\``, ``\\t``, ``\\r``,
    ``\\n``, and ``\\xHH`` for every other byte of the UTF-8 encoding outside printable
    ASCII."""
    out: list[str] = ['"']
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if 0x20 <= byte <= 0x7E and char not in '\\"':
            out.append(char)
        elif char in '\\"':
            out.append("\\" + char)
        elif char in _CONTROL_ESCAPES:
            out.append(_CONTROL_ESCAPES[char])
        else:
            out.append(f"\\x{byte:02X}")
    out.append('"')
    return "".join(out)


_CONTROL_ESCAPES = {"\t": "\\t", "\r": "\\r", "\n": "\\n"}
