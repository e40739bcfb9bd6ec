"""Builders with TVM's signatures: ``relay.var``, ``relay.const``, ``relay.scalar_type``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsIndex

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.node import Span
from minitvm.ir.type import TensorType, Type
from minitvm.relay.expr import Constant, Var
from minitvm.runtime.dtype import check_dtype
from minitvm.runtime.ndarray import NDArray

__all__ = ["const", "scalar_type", "var"]


def scalar_type(dtype: str) -> TensorType:
    """The rank-0 tensor type of ``dtype``."""
    return TensorType((), dtype)


def var(
    name_hint: str,
    type_annotation: Type | str | None = None,
    shape: Sequence[SupportsIndex] | None = None,
    dtype: str = "float32",
    span: Span | None = None,
) -> Var:
    """A local variable: ``var("x", shape=(2, 3))``, ``var("x", TensorType(...))``,
    ``var("x", "int32")`` (a scalar) or ``var("x")`` (type to be inferred)."""
    if type_annotation is not None and shape is not None:
        raise DiagnosticError("relay.var: give either a type annotation or a shape, not both")
    ann: Type | None
    if shape is not None:
        ann = TensorType(shape, dtype)
    elif isinstance(type_annotation, str):
        ann = TensorType((), type_annotation)
    else:
        ann = type_annotation
    return Var(name_hint, ann, span=span)


def _dtype_of(dtype: object) -> str:
    # TVM lets a TensorType stand for its dtype here, through numpy's `.dtype` protocol.
    if isinstance(dtype, TensorType):
        return dtype.dtype
    return check_dtype(dtype)


def const(value: Any, dtype: object = None, span: Span | None = None) -> Constant:
    """A constant, with TVM's dtype rules: Python int -> int32, float -> float32,
    bool -> bool, numpy int64/float64 arrays narrowed to int32/float32 unless ``dtype`` is
    given; an NDArray keeps its dtype."""
    if isinstance(value, NDArray):
        data = value.numpy()
        if dtype is not None:
            data = data.astype(_dtype_of(dtype))
        return Constant(NDArray(data), span=span)
    if isinstance(value, bool | np.bool_) and dtype is None:
        arr = np.array(value, dtype="bool")
    elif isinstance(value, int) and dtype is None:
        arr = np.array(value, dtype="int32")
    elif isinstance(value, float) and dtype is None:
        arr = np.array(value, dtype="float32")
    else:
        arr = np.array(value)
        if dtype is not None:
            arr = arr.astype(_dtype_of(dtype))
        elif arr.dtype == np.int64:
            arr = arr.astype("int32")
        elif arr.dtype == np.float64:
            arr = arr.astype("float32")
    check_dtype(arr.dtype)
    arr = np.array(arr, order="C")  # ascontiguousarray would make a 0-d array 1-d
    arr.flags.writeable = False
    return Constant(NDArray(arr), span=span)
