"""The DCGAN generator of Radford et al., "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks" (TVM ``python/tvm/relay/testing/dcgan.py``).

A dense layer (no bias) with relu maps the code to a 4x4 feature map of ``ngf * 8``
channels; three strided 4x4 transposed convolutions with batch_norm (no scale) and relu
double the size up to 32x32, a fourth gives the 64x64 image, and ``tanh`` bounds it.
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

__all__ = ["deconv2d", "deconv2d_bn_relu", "get_net", "get_workload"]

Shape3 = tuple[int, int, int]


def deconv2d(
    data: Expr,
    ishape: Shape3,
    oshape: Shape3,
    kshape: tuple[int, int],
    layout: str,
    name: str,
    stride: tuple[int, int] = (2, 2),
) -> Expr:
    """A transposed convolution reaching ``oshape`` (CHW): "same"-style padding and the output
    padding that makes up for the stride."""
    target_shape = (oshape[-2], oshape[-1])
    pad_y = (kshape[0] - 1) // 2
    pad_x = (kshape[1] - 1) // 2
    adj_y = (target_shape[0] + 2 * pad_y - kshape[0]) % stride[0]
    adj_x = (target_shape[1] + 2 * pad_x - kshape[1]) % stride[1]
    kernel_layouts = {"NCHW": "IOHW", "NHWC": "HWOI"}
    if layout not in kernel_layouts:
        raise TVMError(f"dcgan: invalid layout {layout!r}")
    return layers.conv2d_transpose(
        data,
        kernel_size=kshape,
        strides=stride,
        channels=oshape[0],
        padding=(pad_y, pad_x),
        output_padding=(adj_y, adj_x),
        data_layout=layout,
        kernel_layout=kernel_layouts[layout],
        name=name,
    )


def deconv2d_bn_relu(
    data: Expr,
    prefix: str,
    ishape: Shape3,
    oshape: Shape3,
    kshape: tuple[int, int],
    layout: str = "NCHW",
) -> Expr:
    """``deconv2d``, batch_norm without scale, relu."""
    eps = 1e-5 + 1e-12
    net = deconv2d(data, ishape, oshape, kshape, layout, name=f"{prefix}_deconv")
    bn_axis = layout.index("C")
    net = layers.batch_norm_infer(
        net, epsilon=eps, scale=False, axis=bn_axis, name=f"{prefix}_batch_norm"
    )
    return relay.nn.relu(net)


def get_net(
    batch_size: int,
    random_len: int = 100,
    oshape: Shape3 = (3, 64, 64),
    ngf: int = 128,
    code: Expr | None = None,
    layout: str = "NCHW",
    dtype: str = "float32",
) -> Function:
    """The generator of 64x64 images from a code of ``random_len`` values."""
    if oshape[-1] != 64 or oshape[-2] != 64:
        raise TVMError(f"dcgan: only 64x64 images are supported, got {oshape}")
    if code is None:
        code = relay.var("data", dtype=dtype, shape=(batch_size, random_len))
    units = 4 * 4 * ngf * 8
    dense_weight = layers.dense_weight(code, units, "dense_weight")
    dense = relay.nn.dense(code, weight=dense_weight, units=units)
    relu = relay.nn.relu(dense)
    if layout == "NCHW":
        reshape = relay.reshape(relu, newshape=(-1, ngf * 8, 4, 4))
    elif layout == "NHWC":
        reshape = relay.reshape(relu, newshape=(-1, 4, 4, ngf * 8))
    else:
        raise TVMError(f"dcgan: invalid layout {layout!r}")
    dc8 = deconv2d_bn_relu(
        reshape, "g2", ishape=(ngf * 8, 4, 4), oshape=(ngf * 4, 8, 8), kshape=(4, 4), layout=layout
    )
    dc16 = deconv2d_bn_relu(
        dc8, "g3", ishape=(ngf * 4, 8, 8), oshape=(ngf * 2, 16, 16), kshape=(4, 4), layout=layout
    )
    dc32 = deconv2d_bn_relu(
        dc16, "g4", ishape=(ngf * 2, 16, 16), oshape=(ngf, 32, 32), kshape=(4, 4), layout=layout
    )
    dc64 = deconv2d(
        dc32, ishape=(ngf, 32, 32), oshape=oshape, kshape=(4, 4), layout=layout, name="g5_deconv"
    )
    tanh = relay.tanh(dc64)
    return relay.Function(relay.analysis.free_vars(tanh), tanh)


def get_workload(
    batch_size: int,
    oshape: Shape3 = (3, 64, 64),
    ngf: int = 128,
    random_len: int = 100,
    layout: str = "NCHW",
    dtype: str = "float32",
) -> tuple[IRModule, dict[str, NDArray]]:
    """The generator's module and its parameters."""
    net = get_net(batch_size, random_len, oshape=oshape, ngf=ngf, layout=layout, dtype=dtype)
    return create_workload(net)
