"""Annotation builders (TVM ``python/tvm/relay/op/annotation/annotation.py``)."""

from __future__ import annotations

from minitvm.relay.expr import Call, Expr
from minitvm.relay.op.define import make_call

__all__ = ["stop_fusion"]


def stop_fusion(data: Expr) -> Call:
    """Mark ``data`` as the end of a fusion group."""
    return make_call("annotation.stop_fusion", [data])
