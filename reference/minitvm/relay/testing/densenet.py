"""DenseNet (TVM ``python/tvm/relay/testing/densenet.py``, ported from MXNet Gluon's model zoo).

Kept as TVM builds it: inside a dense block each layer (batch_norm, relu, 1x1 conv,
batch_norm, relu, 3x3 conv) takes the previous layer's output, and the block's output
concatenates every layer's output along the channels; transitions halve the channels with a
1x1 conv and a 2x2 average pool; the head is batch_norm, relu, a 7x7 average pool, flatten and
a dense layer with bias (no softmax).
"""

from __future__ import annotations

from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.type import TensorType
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.testing import layers
from minitvm.relay.testing.init import create_workload
from minitvm.runtime.ndarray import NDArray

__all__ = ["get_workload"]


def _make_dense_layer(data: Expr, growth_rate: int, bn_size: int, index: str) -> Expr:
    bn1 = layers.batch_norm_infer(data, name=f"batch_1_{index}")
    relu1 = relay.nn.relu(bn1)
    conv1 = layers.conv2d(
        relu1, channels=bn_size * growth_rate, kernel_size=(1, 1), name=f"conv2d_1_{index}"
    )
    bn2 = layers.batch_norm_infer(conv1, name=f"batch_2_{index}")
    relu2 = relay.nn.relu(bn2)
    return layers.conv2d(
        relu2, channels=growth_rate, kernel_size=(3, 3), padding=(1, 1), name=f"conv2d_2_{index}"
    )


def _make_dense_block(
    data: Expr, num_layers: int, bn_size: int, growth_rate: int, index: int
) -> Expr:
    layer_out = data
    blocks: list[Expr] = []
    for i in range(num_layers):
        layer_out = _make_dense_layer(layer_out, growth_rate, bn_size, f"{index}_{i}")
        blocks.append(layer_out)
    return relay.concatenate(blocks, 1)


def _make_transition(data: Expr, num_output_features: int, index: int) -> Expr:
    bn = layers.batch_norm_infer(data, name=f"batch_t_{index}")
    relu = relay.nn.relu(bn)
    conv = layers.conv2d(
        relu, channels=num_output_features, kernel_size=(1, 1), name=f"conv_t_{index}"
    )
    return relay.nn.avg_pool2d(conv, pool_size=(2, 2), strides=(2, 2))


def _make_dense_net(
    num_init_features: int,
    growth_rate: int,
    block_config: list[int],
    data_shape: tuple[int, ...],
    data_dtype: str,
    bn_size: int = 4,
    classes: int = 1000,
) -> Function:
    data = relay.Var("data", TensorType(data_shape, data_dtype))
    conv1 = layers.conv2d(
        data,
        channels=num_init_features,
        kernel_size=(7, 7),
        strides=(2, 2),
        padding=(3, 3),
        name="conv1",
    )
    bn1 = layers.batch_norm_infer(conv1, name="batch1")
    relu1 = relay.nn.relu(bn1)
    layer_out: Expr = relay.nn.max_pool2d(relu1, pool_size=(3, 3), strides=(2, 2), padding=(1, 1))
    num_features = num_init_features
    for i, num_layers in enumerate(block_config):
        layer_out = _make_dense_block(layer_out, num_layers, bn_size, growth_rate, i)
        num_features = num_features + num_layers * growth_rate
        if i != len(block_config) - 1:
            layer_out = _make_transition(layer_out, num_features // 2, i)
            num_features = num_features // 2
    bn2 = layers.batch_norm_infer(layer_out, name="batch2")
    relu2 = relay.nn.relu(bn2)
    avg = relay.nn.avg_pool2d(relu2, pool_size=(7, 7))
    flat = relay.nn.batch_flatten(avg)
    ret = layers.dense_add_bias(flat, units=classes, name="dense")
    return relay.Function(relay.analysis.free_vars(ret), ret)


_SPECS = {
    121: (64, 32, [6, 12, 24, 16]),
    161: (96, 48, [6, 12, 36, 24]),
    169: (69, 32, [6, 12, 32, 32]),
    201: (64, 32, [6, 12, 48, 32]),
}


def get_workload(
    densenet_size: int = 121,
    classes: int = 1000,
    batch_size: int = 4,
    image_shape: tuple[int, ...] = (3, 224, 224),
    dtype: str = "float32",
) -> tuple[IRModule, dict[str, NDArray]]:
    """The DenseNet module (121, 161, 169 or 201 layers) and its parameters."""
    if densenet_size not in _SPECS:
        raise TVMError(f"densenet: size must be one of {sorted(_SPECS)}, got {densenet_size}")
    num_init_features, growth_rate, block_config = _SPECS[densenet_size]
    data_shape = (batch_size, *image_shape)
    net = _make_dense_net(
        num_init_features, growth_rate, block_config, data_shape, dtype, 4, classes
    )
    return create_workload(net)
