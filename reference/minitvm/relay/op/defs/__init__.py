"""Operator definitions: attrs, type relations, fusion patterns and numpy kernels, one module
per family (TVM's ``src/relay/op/tensor/*.cc`` and ``src/relay/op/nn/*.cc``). Importing this
package registers every built-in operator."""

from minitvm.relay.op.defs import binary, unary

__all__ = ["binary", "unary"]
