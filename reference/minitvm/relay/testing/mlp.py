"""A multilayer perceptron (TVM ``python/tvm/relay/testing/mlp.py``): three dense layers
(128, 64, ``num_classes`` units) with biases, ReLU between them and a softmax at the end."""

from __future__ import annotations

from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.function import Function
from minitvm.relay.testing import layers
from minitvm.relay.testing.init import create_workload
from minitvm.runtime.ndarray import NDArray

__all__ = ["get_net", "get_workload"]


def get_net(
    batch_size: int,
    num_classes: int = 10,
    image_shape: tuple[int, ...] = (1, 28, 28),
    dtype: str = "float32",
) -> Function:
    """The network as a function of ``data`` and its weights."""
    data_shape = (batch_size, *image_shape)
    data = relay.var("data", shape=data_shape, dtype=dtype)
    net = relay.nn.batch_flatten(data)
    for i, units in enumerate((128, 64, num_classes), start=1):
        if i > 1:
            net = relay.nn.relu(net)
        weight = layers.dense_weight(net, units, f"fc{i}_weight")
        net = relay.nn.dense(net, weight, units=units)
        net = relay.nn.bias_add(net, layers.channel_param(net, f"fc{i}_bias", -1), axis=-1)
    net = relay.nn.softmax(data=net)
    return relay.Function(relay.analysis.free_vars(net), net)


def get_workload(
    batch_size: int,
    num_classes: int = 10,
    image_shape: tuple[int, ...] = (1, 28, 28),
    dtype: str = "float32",
) -> tuple[IRModule, dict[str, NDArray]]:
    """The MLP's module and its Xavier-initialized parameters."""
    return create_workload(get_net(batch_size, num_classes, image_shape, dtype))
