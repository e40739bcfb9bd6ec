"""Builders of the data-movement operators (TVM ``python/tvm/relay/op/transform.py``):
``relay.cast``, ``relay.reshape``, ``relay.take``, ``relay.split``...
"""

from __future__ import annotations

from minitvm.relay.expr import Call, Expr
from minitvm.relay.op.define import make_call
from minitvm.relay.op.defs.unary import CastAttrs
from minitvm.runtime.dtype import check_dtype

__all__ = ["cast", "cast_like", "reinterpret"]


def cast(data: Expr, dtype: str) -> Call:
    """Cast ``data`` to ``dtype`` elementwise."""
    return make_call("cast", [data], CastAttrs(check_dtype(dtype)))


def cast_like(data: Expr, dtype_like: Expr) -> Call:
    """Cast ``data`` to the dtype of ``dtype_like``."""
    return make_call("cast_like", [data, dtype_like])


def reinterpret(data: Expr, dtype: str) -> Call:
    """Reinterpret the bits of ``data`` as ``dtype`` (same bit width)."""
    return make_call("reinterpret", [data], CastAttrs(check_dtype(dtype)))
