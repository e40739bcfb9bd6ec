"""Neural-network operator builders (``tvm.relay.nn``)."""

from minitvm.relay.op.nn import nn
from minitvm.relay.op.nn.nn import *  # noqa: F403 - TVM's flat namespace
from minitvm.relay.op.nn.nn import __all__ as _nn_all

__all__ = ["nn", *_nn_all]
