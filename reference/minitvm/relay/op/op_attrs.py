"""The attrs types of the built-in operators (TVM ``tvm.relay.op.op_attrs``)."""

from minitvm.relay.op.defs.unary import CastAttrs, ClipAttrs, NdarraySizeAttrs, ShapeOfAttrs

__all__ = ["CastAttrs", "ClipAttrs", "NdarraySizeAttrs", "ShapeOfAttrs"]
