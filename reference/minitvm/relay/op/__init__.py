"""Relay's operators (``tvm.relay.op``): the builders, the registration API (``op``) and
the attrs types (``op_attrs``). Importing it registers every built-in operator."""

from minitvm.relay.op import (
    _nn_grad,  # noqa: F401  (registers the convolution and pooling gradients)
    _tensor_grad,  # noqa: F401  (registers the gradients)
    annotation,
    defs,
    nn,
    op,
    op_attrs,
)
from minitvm.relay.op.algorithm import *  # noqa: F403 - TVM's flat namespace
from minitvm.relay.op.algorithm import __all__ as _algorithm_all
from minitvm.relay.op.define import define_op
from minitvm.relay.op.op import (
    OpPattern,
    get,
    register_gradient,
    register_pattern,
    register_stateful,
)
from minitvm.relay.op.reduce import *  # noqa: F403
from minitvm.relay.op.reduce import __all__ as _reduce_all
from minitvm.relay.op.tensor import *  # noqa: F403
from minitvm.relay.op.tensor import __all__ as _tensor_all
from minitvm.relay.op.transform import *  # noqa: F403
from minitvm.relay.op.transform import __all__ as _transform_all

__all__ = [
    "OpPattern",
    "annotation",
    "defs",
    "define_op",
    "get",
    "nn",
    "op",
    "op_attrs",
    "register_gradient",
    "register_pattern",
    "register_stateful",
    *_algorithm_all,
    *_reduce_all,
    *_tensor_all,
    *_transform_all,
]
