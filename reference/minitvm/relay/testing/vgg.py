"""VGG (TVM ``python/tvm/relay/testing/vgg.py``): Simonyan and Zisserman, "Very Deep
Convolutional Networks for Large-Scale Image Recognition".

Five groups of 3x3 convolutions (with bias, optionally batch_norm, and relu) each closed by a
2x2 max pool, then three dense layers (4096, 4096, ``num_classes``) with relu and dropout
between them, and a softmax.
"""

from __future__ import annotations

from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.testing import layers as wrapper
from minitvm.relay.testing.init import create_workload
from minitvm.runtime.ndarray import NDArray

__all__ = ["get_classifier", "get_feature", "get_net", "get_workload"]


def get_feature(
    internal_layer: Expr, layers: list[int], filters: list[int], batch_norm: bool = False
) -> Expr:
    """The convolutional part: ``layers[i]`` convolutions of ``filters[i]`` channels in group
    ``i``."""
    for i, num in enumerate(layers):
        for j in range(num):
            name = f"conv{i + 1}_{j + 1}"
            internal_layer = wrapper.conv2d(
                internal_layer, kernel_size=(3, 3), padding=(1, 1), channels=filters[i], name=name
            )
            bias = wrapper.channel_param(internal_layer, f"{name}_bias")
            internal_layer = relay.nn.bias_add(internal_layer, bias)
            if batch_norm:
                internal_layer = wrapper.batch_norm_infer(internal_layer, name=f"bn{i + 1}_{j + 1}")
            internal_layer = relay.nn.relu(data=internal_layer)
        internal_layer = relay.nn.max_pool2d(data=internal_layer, pool_size=(2, 2), strides=(2, 2))
    return internal_layer


def get_classifier(input_data: Expr, num_classes: int) -> Expr:
    """The dense part, without the final softmax."""
    flatten = relay.nn.batch_flatten(data=input_data)
    fc6 = wrapper.dense_add_bias(flatten, units=4096, name="fc6")
    drop6 = relay.nn.dropout(data=relay.nn.relu(data=fc6), rate=0.5)
    fc7 = wrapper.dense_add_bias(drop6, units=4096, name="fc7")
    drop7 = relay.nn.dropout(data=relay.nn.relu(data=fc7), rate=0.5)
    return wrapper.dense_add_bias(drop7, units=num_classes, name="fc8")


_SPEC = {
    11: ([1, 1, 2, 2, 2], [64, 128, 256, 512, 512]),
    13: ([2, 2, 2, 2, 2], [64, 128, 256, 512, 512]),
    16: ([2, 2, 3, 3, 3], [64, 128, 256, 512, 512]),
    19: ([2, 2, 4, 4, 4], [64, 128, 256, 512, 512]),
}


def get_net(
    batch_size: int,
    image_shape: tuple[int, ...],
    num_classes: int,
    dtype: str,
    num_layers: int = 11,
    batch_norm: bool = False,
) -> Function:
    """VGG-11, 13, 16 or 19."""
    if num_layers not in _SPEC:
        raise TVMError(f"vgg: num_layers must be one of 11, 13, 16, 19, got {num_layers}")
    layers, filters = _SPEC[num_layers]
    data = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    feature = get_feature(data, layers, filters, batch_norm)
    classifier = get_classifier(feature, num_classes)
    symbol = relay.nn.softmax(data=classifier)
    return relay.Function(relay.analysis.free_vars(symbol), symbol)


def get_workload(
    batch_size: int,
    num_classes: int = 1000,
    image_shape: tuple[int, ...] = (3, 224, 224),
    dtype: str = "float32",
    num_layers: int = 11,
    batch_norm: bool = False,
) -> tuple[IRModule, dict[str, NDArray]]:
    """The VGG module and its parameters."""
    net = get_net(batch_size, image_shape, num_classes, dtype, num_layers, batch_norm)
    return create_workload(net)
