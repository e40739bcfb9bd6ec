"""SqueezeNet 1.0 and 1.1 (TVM ``python/tvm/relay/testing/squeezenet.py``): Iandola et al.,
"SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size".

A strided stem convolution, eight fire modules (a 1x1 squeeze conv feeding a 1x1 and a 3x3
expand conv, concatenated along the channels; every conv with bias and relu) with max pools
between them, dropout, a 1x1 conv to ``num_classes`` channels, global average pooling,
flatten and softmax. The layout is NCHW.
"""

from __future__ import annotations

from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.testing import layers
from minitvm.relay.testing.init import create_workload
from minitvm.runtime.ndarray import NDArray

__all__ = ["get_net", "get_workload"]


def _make_fire_conv(
    net: Expr, channels: int, kernel_size: int, padding: int = 0, prefix: str = ""
) -> Expr:
    net = layers.conv2d(
        net,
        channels=channels,
        kernel_size=(kernel_size, kernel_size),
        padding=(padding, padding),
        name=f"{prefix}_conv",
    )
    net = relay.nn.bias_add(net, layers.channel_param(net, f"{prefix}_conv_bias"))
    return relay.nn.relu(net)


def _make_fire(
    net: Expr,
    squeeze_channels: int,
    expand1x1_channels: int,
    expand3x3_channels: int,
    prefix: str,
) -> Expr:
    net = _make_fire_conv(net, squeeze_channels, 1, 0, f"{prefix}_input")
    left = _make_fire_conv(net, expand1x1_channels, 1, 0, f"{prefix}_left")
    right = _make_fire_conv(net, expand3x3_channels, 3, 1, f"{prefix}_right")
    return relay.concatenate((left, right), axis=1)


def _stem(net: Expr, channels: int, kernel: int, padding: int) -> Expr:
    net = layers.conv2d(
        net,
        channels=channels,
        kernel_size=(kernel, kernel),
        strides=(2, 2),
        padding=(padding, padding),
        name="conv1",
    )
    net = relay.nn.bias_add(net, layers.channel_param(net, "conv1_bias"))
    net = relay.nn.relu(net)
    return relay.nn.max_pool2d(net, pool_size=(3, 3), strides=(2, 2))


def _max_pool(net: Expr) -> Expr:
    return relay.nn.max_pool2d(net, pool_size=(3, 3), strides=(2, 2))


def get_net(
    batch_size: int,
    image_shape: tuple[int, ...],
    num_classes: int,
    version: str,
    dtype: str,
) -> Function:
    """SqueezeNet ``version`` "1.0" or "1.1"."""
    if version not in ("1.0", "1.1"):
        raise TVMError(f"squeezenet: unsupported version {version!r}: '1.0' or '1.1' expected")
    net: Expr = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    if version == "1.0":
        net = _stem(net, 96, 7, 3)
        net = _make_fire(net, 16, 64, 64, "fire1")
        net = _make_fire(net, 16, 64, 64, "fire2")
        net = _make_fire(net, 32, 128, 128, "fire3")
        net = _max_pool(net)
        net = _make_fire(net, 32, 128, 128, "fire4")
        net = _make_fire(net, 48, 192, 192, "fire5")
        net = _make_fire(net, 48, 192, 192, "fire6")
        net = _make_fire(net, 64, 256, 256, "fire7")
        net = _max_pool(net)
        net = _make_fire(net, 64, 256, 256, "fire8")
    else:
        net = _stem(net, 64, 3, 1)
        net = _make_fire(net, 16, 64, 64, "fire1")
        net = _make_fire(net, 16, 64, 64, "fire2")
        net = _max_pool(net)
        net = _make_fire(net, 32, 128, 128, "fire3")
        net = _make_fire(net, 32, 128, 128, "fire4")
        net = _max_pool(net)
        net = _make_fire(net, 48, 192, 192, "fire5")
        net = _make_fire(net, 48, 192, 192, "fire6")
        net = _make_fire(net, 64, 256, 256, "fire7")
        net = _make_fire(net, 64, 256, 256, "fire8")
    net = relay.nn.dropout(net, rate=0.5)
    net = layers.conv2d(net, channels=num_classes, kernel_size=(1, 1), name="conv_final")
    net = relay.nn.bias_add(net, layers.channel_param(net, "conv_final_bias"))
    net = relay.nn.relu(net)
    net = relay.nn.global_avg_pool2d(net)
    net = relay.nn.batch_flatten(net)
    net = relay.nn.softmax(net)
    return relay.Function(relay.analysis.free_vars(net), net)


def get_workload(
    batch_size: int = 1,
    num_classes: int = 1000,
    version: str = "1.0",
    image_shape: tuple[int, ...] = (3, 224, 224),
    dtype: str = "float32",
) -> tuple[IRModule, dict[str, NDArray]]:
    """The SqueezeNet module and its parameters."""
    return create_workload(get_net(batch_size, image_shape, num_classes, version, dtype))
