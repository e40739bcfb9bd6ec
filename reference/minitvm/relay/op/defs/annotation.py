"""Annotations (TVM ``src/relay/op/annotation/annotation.cc``).

``annotation.stop_fusion(x)`` is the identity; it is opaque so that FuseOps ends a group at
``x``, and FuseOps drops it from its output. Like TVM's ``Identity`` relation it accepts a
tuple as well as a tensor: SplitArgs wraps the tuples it concatenates in it.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.op.define import Value, define_op

__all__: list[str] = []


def _identity_rel(arg_types: list[Type], attrs: None) -> Type:
    data = arg_types[0]
    if not isinstance(data, TensorType | TupleType):
        raise DiagnosticError(f"argument 0 (data) must be a tensor or a tuple, got {data}")
    return data


def _identity_kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
    return args[0]  # define_op copies results that share memory with an argument


define_op(
    "annotation.stop_fusion",
    _identity_rel,
    _identity_kernel,
    pattern=OpPattern.OPAQUE,
    stateful=False,
)
