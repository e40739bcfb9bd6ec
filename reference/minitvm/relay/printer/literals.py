"""Literals of the Relay text format: scalar constants, numbers and string literals.

TVM: ``src/support/scalars.cc`` (``NDArrayScalarToString``, ``IntImmToString``,
``FloatImmToString``) and ``src/support/str_escape.h``. Numbers are written the way C++'s
``std::ostream`` writes them with its default settings, so that the text is TVM's to the byte.
"""

from __future__ import annotations

import math

import numpy as np

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


def cpp_float(value: float, dtype: str = "float64") -> str:
    """``value`` as ``std::ostream << double`` writes it: ``%g``, 6 significant digits
    (``3``, ``0.1``, ``1e-05``, ``1e+11``, ``inf``); glibc writes a negative NaN ``-nan``.
    Where six digits would not read back as the same ``dtype`` value, the shortest digits
    that do are written instead (``0.5859375``; TVM would write ``0.585938`` and lose the
    rest), so printed text loses nothing."""
    if math.isnan(value):
        return "-nan" if math.copysign(1.0, value) < 0 else "nan"
    text = f"{value:g}"
    if math.isinf(value) or _same(float(text), value, dtype):
        return text
    if dtype in ("float16", "float32"):
        return str(np.dtype(dtype).type(value))
    return repr(value)


def _same(a: float, b: float, dtype: str) -> bool:
    if dtype in ("float16", "float32"):
        kind = np.dtype(dtype).type
        return bool(kind(a) == kind(b))
    return a == b


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
    return cpp_float(float(value), dtype) + _FLOAT_SUFFIX[dtype]


def int_imm_literal(imm: IntImm) -> str:
    """An integer immediate: suffixed for int16/int64, ``True``/``False`` for bool, and a
    bare number for int32 and for the dtypes the text format has no suffix for."""
    if imm.dtype == "bool":
        return "True" if imm.value else "False"
    return f"{imm.value}{_INT_SUFFIX.get(imm.dtype, '')}"


def float_imm_literal(imm: FloatImm) -> str:
    return cpp_float(imm.value, imm.dtype) + _FLOAT_SUFFIX[imm.dtype]


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
