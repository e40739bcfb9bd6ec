"""MobileNet v1 (TVM ``python/tvm/relay/testing/mobilenet.py``, ported from NNVM).

A strided 3x3 conv block, then separable blocks (a depthwise 3x3 conv with one group per
channel, then a pointwise 1x1 conv, each followed by batch_norm and relu), global average
pooling, a dense layer with bias and a softmax. As in TVM, the first conv block normalizes
axis 1 whatever the layout, and the depthwise weights (``separable_conv_block_<i>_weight``) do
not contain ``depthwise`` in their names, so Xavier scales them by both fans.
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

__all__ = ["conv_block", "get_workload", "mobile_net", "separable_conv_block"]


def conv_block(
    data: Expr,
    name: str,
    channels: int,
    kernel_size: tuple[int, int] = (3, 3),
    strides: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (1, 1),
    epsilon: float = 1e-5,
    layout: str = "NCHW",
) -> Expr:
    """conv2d, batch_norm (on axis 1, as TVM's), relu."""
    conv = layers.conv2d(
        data,
        channels=channels,
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        data_layout=layout,
        kernel_layout=layers.conv_kernel_layout(layout),
        name=name + "_conv",
    )
    bn = layers.batch_norm_infer(conv, epsilon=epsilon, name=name + "_bn")
    return relay.nn.relu(data=bn)


def separable_conv_block(
    data: Expr,
    name: str,
    depthwise_channels: int,
    pointwise_channels: int,
    kernel_size: tuple[int, int] = (3, 3),
    downsample: bool = False,
    padding: tuple[int, int] = (1, 1),
    epsilon: float = 1e-5,
    layout: str = "NCHW",
    dtype: str = "float32",
) -> Expr:
    """A depthwise conv (stride 2 when ``downsample``) and a pointwise conv, each with
    batch_norm and relu."""
    strides = (2, 2) if downsample else (1, 1)
    if layout == "NCHW":
        wshape = (depthwise_channels, 1, *kernel_size)
    elif layout == "NHWC":
        wshape = (*kernel_size, depthwise_channels, 1)
    else:
        raise TVMError(f"mobilenet: invalid layout {layout!r}")
    bn_axis = layout.index("C")
    weight = relay.var(name + "_weight", shape=wshape, dtype=dtype)
    conv1 = layers.conv2d(
        data,
        weight,
        channels=depthwise_channels,
        groups=depthwise_channels,
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        data_layout=layout,
        kernel_layout=layers.conv_kernel_layout(layout, True),
        name=name + "_depthwise_conv1",
    )
    bn1 = layers.batch_norm_infer(conv1, epsilon=epsilon, axis=bn_axis, name=name + "_bn1")
    act1 = relay.nn.relu(data=bn1)
    conv2 = layers.conv2d(
        act1,
        channels=pointwise_channels,
        kernel_size=(1, 1),
        strides=(1, 1),
        padding=(0, 0),
        data_layout=layout,
        kernel_layout=layers.conv_kernel_layout(layout),
        name=name + "_conv2",
    )
    bn2 = layers.batch_norm_infer(conv2, epsilon=epsilon, axis=bn_axis, name=name + "_bn2")
    return relay.nn.relu(data=bn2)


def _blocks(alpha: float, is_shallow: bool) -> list[tuple[int, int, bool]]:
    """(depthwise channels, pointwise channels, downsample) of each separable block."""
    blocks = [
        (32, 64, False),
        (64, 128, True),
        (128, 128, False),
        (128, 256, True),
        (256, 256, False),
        (256, 512, True),
    ]
    if is_shallow:
        blocks += [(512, 1024, True), (1024, 1024, True)]
    else:
        blocks += [(512, 512, False)] * 5 + [(512, 1024, True), (1024, 1024, False)]
    return [(int(d * alpha), int(p * alpha), down) for d, p, down in blocks]


def mobile_net(
    num_classes: int = 1000,
    data_shape: tuple[int, ...] = (1, 3, 224, 224),
    dtype: str = "float32",
    alpha: float = 1.0,
    is_shallow: bool = False,
    layout: str = "NCHW",
) -> Function:
    """The network; ``alpha`` scales every channel count."""
    data = relay.var("data", shape=data_shape, dtype=dtype)
    body = conv_block(data, "conv_block_1", int(32 * alpha), strides=(2, 2), layout=layout)
    for i, (depthwise, pointwise, downsample) in enumerate(_blocks(alpha, is_shallow), start=1):
        body = separable_conv_block(
            body,
            f"separable_conv_block_{i}",
            depthwise,
            pointwise,
            downsample=downsample,
            layout=layout,
            dtype=dtype,
        )
    pool = relay.nn.global_avg_pool2d(data=body, layout=layout)
    flatten = relay.nn.batch_flatten(data=pool)
    weight = layers.dense_weight(flatten, num_classes, "fc_weight")
    fc = relay.nn.dense(data=flatten, weight=weight, units=num_classes)
    fc = relay.nn.bias_add(fc, layers.channel_param(fc, "fc_bias"))
    softmax = relay.nn.softmax(data=fc)
    return relay.Function(relay.analysis.free_vars(softmax), softmax)


def get_workload(
    batch_size: int = 1,
    num_classes: int = 1000,
    image_shape: tuple[int, ...] = (3, 224, 224),
    dtype: str = "float32",
    layout: str = "NCHW",
) -> tuple[IRModule, dict[str, NDArray]]:
    """The MobileNet module (``image_shape`` in the order of ``layout``) and its parameters."""
    data_shape = (batch_size, *image_shape)
    net = mobile_net(
        num_classes=num_classes,
        data_shape=data_shape,
        dtype=dtype,
        alpha=1.0,
        is_shallow=False,
        layout=layout,
    )
    return create_workload(net)
