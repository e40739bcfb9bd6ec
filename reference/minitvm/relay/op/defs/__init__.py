"""Operator definitions: attrs, type relations, fusion patterns and numpy kernels, one module
per family (TVM's ``src/relay/op/tensor/*.cc`` and ``src/relay/op/nn/*.cc``). Importing this
package registers every built-in operator."""

from minitvm.relay.op.defs import (
    algorithm,
    annotation,
    binary,
    conv,
    create,
    index,
    layout_transform,
    nn,
    nn_transform,
    norm,
    pool,
    rearrange,
    reduce,
    training,
    transform,
    unary,
)

__all__ = [
    "algorithm",
    "annotation",
    "binary",
    "conv",
    "create",
    "index",
    "layout_transform",
    "nn",
    "nn_transform",
    "norm",
    "pool",
    "rearrange",
    "reduce",
    "training",
    "transform",
    "unary",
]
