"""Annotations (TVM ``src/relay/op/annotation/annotation.cc``).

``annotation.stop_fusion(x)`` is the identity; it is opaque so that FuseOps ends a group at
``x``, and FuseOps drops it from its output.
"""

from __future__ import annotations

from minitvm.ir.op import OpPattern
from minitvm.ir.type import Type
from minitvm.relay.op.define import Value, define_op, tensor_value
from minitvm.relay.op.relation import tensor_arg

__all__: list[str] = []


def _identity_rel(arg_types: list[Type], attrs: None) -> Type:
    return tensor_arg(arg_types, 0)


def _identity_kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
    return tensor_value(args[0]).copy()


define_op(
    "annotation.stop_fusion",
    _identity_rel,
    _identity_kernel,
    pattern=OpPattern.OPAQUE,
    stateful=False,
)
