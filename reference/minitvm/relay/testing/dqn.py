"""The deep Q-network of Mnih et al., "Human-level control through deep reinforcement
learning" (TVM ``python/tvm/relay/testing/dqn.py``): three convolutions (8x8/4, 4x4/2, 3x3/1)
with bias and relu, then a 512-unit dense layer with relu and a dense layer with one output
per action (no softmax)."""

from __future__ import annotations

from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.testing import layers
from minitvm.relay.testing.init import create_workload
from minitvm.runtime.ndarray import NDArray

__all__ = ["get_net", "get_workload"]


def _conv_bias_relu(
    data: Expr, name: str, channels: int, kernel: int, stride: int, layout: str
) -> Expr:
    conv = layers.conv2d(
        data,
        kernel_size=(kernel, kernel),
        strides=(stride, stride),
        padding=(0, 0),
        channels=channels,
        name=name,
        data_layout=layout,
        kernel_layout=layers.conv_kernel_layout(layout),
    )
    bias_axis = layout.index("C")
    conv = relay.nn.bias_add(conv, layers.channel_param(conv, f"{name}_bias", bias_axis), bias_axis)
    return relay.nn.relu(conv)


def get_net(
    batch_size: int,
    num_actions: int = 18,
    image_shape: tuple[int, ...] = (4, 84, 84),
    dtype: str = "float32",
    layout: str = "NCHW",
) -> Function:
    """The network for ``image_shape`` (in the order of ``layout``)."""
    data = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    relu1 = _conv_bias_relu(data, "conv1", 32, 8, 4, layout)
    relu2 = _conv_bias_relu(relu1, "conv2", 64, 4, 2, layout)
    relu3 = _conv_bias_relu(relu2, "conv3", 64, 3, 1, layout)
    bf1 = relay.nn.batch_flatten(relu3)
    dense1 = layers.dense_add_bias(bf1, units=512, name="dense1")
    relu4 = relay.nn.relu(dense1)
    dense2 = layers.dense_add_bias(relu4, units=num_actions, name="dense2")
    return relay.Function(relay.analysis.free_vars(dense2), dense2)


def get_workload(
    batch_size: int,
    num_actions: int = 18,
    image_shape: tuple[int, ...] = (4, 84, 84),
    dtype: str = "float32",
    layout: str = "NCHW",
) -> tuple[IRModule, dict[str, NDArray]]:
    """The DQN module and its parameters."""
    net = get_net(
        batch_size, num_actions=num_actions, image_shape=image_shape, dtype=dtype, layout=layout
    )
    return create_workload(net)
