"""ResNet (TVM ``python/tvm/relay/testing/resnet.py``): He et al., "Identity Mappings in Deep
Residual Networks", as ported from MXNet's ``symbol_resnet.py``.

Pre-activation residual units (batch_norm, relu, conv), bottleneck units from 50 layers up;
the input is batch-normalized without scale; images of height <= 32 (CIFAR) get a 3x3 stem and
three stages, larger ones a 7x7/2 stem with max pooling and four stages; the head is batch_norm,
relu, global average pooling, a dense layer with bias and a softmax.
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

__all__ = ["get_net", "get_workload", "residual_unit", "resnet"]

_EPS = 2e-5


def residual_unit(
    data: Expr,
    num_filter: int,
    stride: tuple[int, int],
    dim_match: bool,
    name: str,
    bottle_neck: bool = True,
    data_layout: str = "NCHW",
    kernel_layout: str = "IOHW",
) -> Expr:
    """One residual unit; ``dim_match`` False adds a 1x1 projection shortcut from the first
    activation (with the unit's stride)."""
    bn_axis = data_layout.index("C")

    def bn_relu(x: Expr, suffix: str) -> Expr:
        bn = layers.batch_norm_infer(x, epsilon=_EPS, axis=bn_axis, name=name + suffix)
        return relay.nn.relu(data=bn)

    def conv(x: Expr, channels: int, kernel: int, strides: tuple[int, int], suffix: str) -> Expr:
        pad = (kernel // 2, kernel // 2)
        return layers.conv2d(
            x,
            channels=channels,
            kernel_size=(kernel, kernel),
            strides=strides,
            padding=pad,
            name=name + suffix,
            data_layout=data_layout,
            kernel_layout=kernel_layout,
        )

    act1 = bn_relu(data, "_bn1")
    if bottle_neck:
        conv1 = conv(act1, int(num_filter * 0.25), 1, stride, "_conv1")
        conv2 = conv(bn_relu(conv1, "_bn2"), int(num_filter * 0.25), 3, (1, 1), "_conv2")
        out = conv(bn_relu(conv2, "_bn3"), num_filter, 1, (1, 1), "_conv3")
    else:
        conv1 = conv(act1, num_filter, 3, stride, "_conv1")
        out = conv(bn_relu(conv1, "_bn2"), num_filter, 3, (1, 1), "_conv2")
    shortcut = data if dim_match else conv(act1, num_filter, 1, stride, "_sc")
    return relay.add(out, shortcut)


def resnet(
    units: list[int],
    num_stages: int,
    filter_list: list[int],
    num_classes: int,
    data_shape: tuple[int, ...],
    bottle_neck: bool = True,
    layout: str = "NCHW",
    dtype: str = "float32",
) -> Function:
    """The network: ``units[i]`` residual units in stage ``i`` with ``filter_list[i + 1]``
    filters (``filter_list[0]`` for the stem)."""
    if len(units) != num_stages:
        raise TVMError(f"resnet: {len(units)} unit counts for {num_stages} stages")
    kernel_layout = "OIHW" if layout == "NCHW" else "HWIO"
    bn_axis = layout.index("C")
    data = relay.var("data", shape=data_shape, dtype=dtype)
    body = layers.batch_norm_infer(data, epsilon=_EPS, axis=bn_axis, scale=False, name="bn_data")
    height = data_shape[1] if layout == "NHWC" else data_shape[2]
    small = height <= 32  # CIFAR-sized input
    body = layers.conv2d(
        body,
        channels=filter_list[0],
        kernel_size=(3, 3) if small else (7, 7),
        strides=(1, 1) if small else (2, 2),
        padding=(1, 1) if small else (3, 3),
        name="conv0",
        data_layout=layout,
        kernel_layout=kernel_layout,
    )
    if not small:
        body = layers.batch_norm_infer(body, epsilon=_EPS, axis=bn_axis, name="bn0")
        body = relay.nn.relu(data=body)
        body = relay.nn.max_pool2d(
            data=body, pool_size=(3, 3), strides=(2, 2), padding=(1, 1), layout=layout
        )
    for i in range(num_stages):
        stride = (1, 1) if i == 0 else (2, 2)
        for j in range(units[i]):
            body = residual_unit(
                body,
                filter_list[i + 1],
                stride if j == 0 else (1, 1),
                j > 0,
                name=f"stage{i + 1}_unit{j + 1}",
                bottle_neck=bottle_neck,
                data_layout=layout,
                kernel_layout=kernel_layout,
            )
    bn1 = layers.batch_norm_infer(body, epsilon=_EPS, axis=bn_axis, name="bn1")
    relu1 = relay.nn.relu(data=bn1)
    pool1 = relay.nn.global_avg_pool2d(data=relu1, layout=layout)
    flat = relay.nn.batch_flatten(data=pool1)
    fc1 = layers.dense_add_bias(flat, units=num_classes, name="fc1")
    net = relay.nn.softmax(data=fc1)
    return relay.Function(relay.analysis.free_vars(net), net)


_IMAGENET_UNITS = {
    18: [2, 2, 2, 2],
    34: [3, 4, 6, 3],
    50: [3, 4, 6, 3],
    101: [3, 4, 23, 3],
    152: [3, 8, 36, 3],
    200: [3, 24, 36, 3],
    269: [3, 30, 48, 8],
}


def _cifar_config(num_layers: int) -> tuple[list[int], list[int], bool]:
    if (num_layers - 2) % 9 == 0 and num_layers >= 164:
        return [(num_layers - 2) // 9] * 3, [16, 64, 128, 256], True
    if (num_layers - 2) % 6 == 0 and num_layers < 164:
        return [(num_layers - 2) // 6] * 3, [16, 16, 32, 64], False
    raise TVMError(f"resnet: no configuration for {num_layers} layers on images of height <= 28")


def get_net(
    batch_size: int,
    num_classes: int,
    num_layers: int = 50,
    image_shape: tuple[int, ...] = (3, 224, 224),
    layout: str = "NCHW",
    dtype: str = "float32",
    **kwargs: object,
) -> Function:
    """The ResNet of ``num_layers`` layers for ``image_shape`` (CHW, or HWC with NHWC)."""
    height = image_shape[0] if layout == "NHWC" else image_shape[1]
    data_shape = (batch_size, *image_shape)
    if height <= 28:
        units, filter_list, bottle_neck = _cifar_config(num_layers)
    else:
        if num_layers not in _IMAGENET_UNITS:
            raise TVMError(f"resnet: no configuration for {num_layers} layers")
        units = _IMAGENET_UNITS[num_layers]
        bottle_neck = num_layers >= 50
        filter_list = [64, 256, 512, 1024, 2048] if bottle_neck else [64, 64, 128, 256, 512]
    return resnet(
        units=units,
        num_stages=len(units),
        filter_list=filter_list,
        num_classes=num_classes,
        data_shape=data_shape,
        bottle_neck=bottle_neck,
        layout=layout,
        dtype=dtype,
    )


def get_workload(
    batch_size: int = 1,
    num_classes: int = 1000,
    num_layers: int = 18,
    image_shape: tuple[int, ...] = (3, 224, 224),
    layout: str = "NCHW",
    dtype: str = "float32",
    **kwargs: object,
) -> tuple[IRModule, dict[str, NDArray]]:
    """The ResNet module and its Xavier-initialized parameters."""
    net = get_net(
        batch_size=batch_size,
        num_classes=num_classes,
        num_layers=num_layers,
        image_shape=image_shape,
        dtype=dtype,
        layout=layout,
        **kwargs,
    )
    return create_workload(net)
