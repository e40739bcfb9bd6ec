"""Annotation operators (``tvm.relay.annotation``)."""

from minitvm.relay.op.annotation.annotation import stop_fusion

__all__ = ["stop_fusion"]
