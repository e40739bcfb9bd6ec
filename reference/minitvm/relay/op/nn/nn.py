"""Builders of the neural-network operators (TVM ``python/tvm/relay/op/nn/nn.py``):
``relay.nn.conv2d``, ``relay.nn.max_pool2d``, ``relay.nn.batch_norm``...

Signatures and defaults are TVM v0.14's, including its argument conversions: an int
``kernel_size``/``strides``/``dilation`` is repeated per spatial axis, and ``padding`` goes
through ``get_pad_tuple`` (one value per axis pads both sides).
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.relay.builder import const
from minitvm.relay.expr import Call, Expr, TupleGetItem, TupleWrapper
from minitvm.relay.op.arguments import dtype_or_empty, int_of, ints, pad_tuple
from minitvm.relay.op.define import make_call
from minitvm.relay.op.defs.conv import (
    Conv1DAttrs,
    Conv1DTransposeAttrs,
    Conv2DAttrs,
    Conv2DTransposeAttrs,
    Conv3DAttrs,
    Conv3DTransposeAttrs,
)
from minitvm.relay.op.defs.nn import (
    BatchMatmulAttrs,
    BiasAddAttrs,
    DenseAttrs,
    DropoutAttrs,
    LeakyReluAttrs,
    MatmulAttrs,
    PReluAttrs,
    SoftmaxAttrs,
)
from minitvm.relay.op.defs.nn_transform import (
    BatchToSpaceNDAttrs,
    DilateAttrs,
    PadAttrs,
    SpaceToBatchNDAttrs,
    SubPixelAttrs,
    UpSamplingAttrs,
)
from minitvm.relay.op.defs.norm import (
    BatchNormAttrs,
    GroupNormAttrs,
    InstanceNormAttrs,
    LayerNormAttrs,
    LRNAttrs,
)
from minitvm.relay.op.defs.pool import (
    AdaptivePool1DAttrs,
    AdaptivePool2DAttrs,
    AdaptivePool3DAttrs,
    AvgPool1DAttrs,
    AvgPool2DAttrs,
    AvgPool3DAttrs,
    GlobalPool2DAttrs,
    MaxPool1DAttrs,
    MaxPool2DAttrs,
    MaxPool3DAttrs,
)
from minitvm.relay.op.defs.training import NLLLossAttrs

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "adaptive_max_pool3d",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool2d_grad",
    "avg_pool3d",
    "batch_flatten",
    "batch_matmul",
    "batch_norm",
    "batch_to_space_nd",
    "bias_add",
    "conv1d",
    "conv1d_transpose",
    "conv2d",
    "conv2d_transpose",
    "conv3d",
    "conv3d_transpose",
    "dense",
    "depth_to_space",
    "dilate",
    "dropout",
    "dropout_raw",
    "fast_softmax",
    "global_avg_pool1d",
    "global_avg_pool2d",
    "global_avg_pool3d",
    "global_max_pool1d",
    "global_max_pool2d",
    "global_max_pool3d",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "leaky_relu",
    "log_softmax",
    "lrn",
    "matmul",
    "max_pool1d",
    "max_pool2d",
    "max_pool2d_grad",
    "max_pool3d",
    "nll_loss",
    "pad",
    "prelu",
    "relu",
    "softmax",
    "space_to_batch_nd",
    "space_to_depth",
    "upsampling",
]

IntOrTuple = int | tuple[int, ...] | list[int]


def _opt_ints(value: IntOrTuple | None, what: str, n: int) -> tuple[int, ...] | None:
    return None if value is None else ints(value, what, n)


def _opt_int(value: object, what: str) -> int | None:
    return None if value is None else int_of(value, what)


# --- convolutions -------------------------------------------------------------------------------


def conv1d(
    data: Expr,
    weight: Expr,
    strides: IntOrTuple = 1,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCW",
    kernel_layout: str = "OIW",
    out_layout: str = "",
    out_dtype: str = "",
) -> Call:
    attrs = Conv1DAttrs(
        ints(strides, "strides", 1),
        pad_tuple(padding, 1),
        ints(dilation, "dilation", 1),
        int_of(groups, "groups"),
        _opt_int(channels, "channels"),
        _opt_ints(kernel_size, "kernel_size", 1),
        data_layout,
        kernel_layout,
        out_layout,
        dtype_or_empty(out_dtype),
    )
    return make_call("nn.conv1d", [data, weight], attrs)


def conv2d(
    data: Expr,
    weight: Expr,
    strides: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    dilation: IntOrTuple = (1, 1),
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCHW",
    kernel_layout: str = "OIHW",
    out_layout: str = "",
    out_dtype: str = "",
) -> Call:
    """2-D convolution; ``padding`` is expanded to (top, left, bottom, right)."""
    attrs = Conv2DAttrs(
        ints(strides, "strides", 2),
        pad_tuple(padding, 2),
        ints(dilation, "dilation", 2),
        int_of(groups, "groups"),
        _opt_int(channels, "channels"),
        _opt_ints(kernel_size, "kernel_size", 2),
        data_layout,
        kernel_layout,
        out_layout,
        dtype_or_empty(out_dtype),
    )
    return make_call("nn.conv2d", [data, weight], attrs)


def conv3d(
    data: Expr,
    weight: Expr,
    strides: IntOrTuple = (1, 1, 1),
    padding: IntOrTuple = (0, 0, 0),
    dilation: IntOrTuple = (1, 1, 1),
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCDHW",
    kernel_layout: str = "OIDHW",
    out_layout: str = "",
    out_dtype: str = "",
) -> Call:
    attrs = Conv3DAttrs(
        ints(strides, "strides", 3),
        pad_tuple(padding, 3),
        ints(dilation, "dilation", 3),
        int_of(groups, "groups"),
        _opt_int(channels, "channels"),
        _opt_ints(kernel_size, "kernel_size", 3),
        data_layout,
        kernel_layout,
        out_layout,
        dtype_or_empty(out_dtype),
    )
    return make_call("nn.conv3d", [data, weight], attrs)


def conv1d_transpose(
    data: Expr,
    weight: Expr,
    strides: IntOrTuple = (1,),
    padding: IntOrTuple = (0,),
    dilation: IntOrTuple = (1,),
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCW",
    kernel_layout: str = "IOW",
    out_layout: str = "",
    output_padding: IntOrTuple = (0,),
    out_dtype: str = "",
) -> Call:
    attrs = Conv1DTransposeAttrs(
        _opt_int(channels, "channels"),
        _opt_ints(kernel_size, "kernel_size", 1),
        ints(strides, "strides", 1),
        ints(output_padding, "output_padding", 1),
        ints(padding, "padding", 1),
        ints(dilation, "dilation", 1),
        int_of(groups, "groups"),
        data_layout,
        kernel_layout,
        out_layout,
        dtype_or_empty(out_dtype),
    )
    return make_call("nn.conv1d_transpose", [data, weight], attrs)


def conv2d_transpose(
    data: Expr,
    weight: Expr,
    strides: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    dilation: IntOrTuple = (1, 1),
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCHW",
    kernel_layout: str = "IOHW",
    out_layout: str = "",
    output_padding: IntOrTuple = (0, 0),
    out_dtype: str = "",
) -> Call:
    attrs = Conv2DTransposeAttrs(
        _opt_int(channels, "channels"),
        _opt_ints(kernel_size, "kernel_size", 2),
        ints(strides, "strides", 2),
        ints(output_padding, "output_padding", 2),
        pad_tuple(padding, 2),
        ints(dilation, "dilation", 2),
        int_of(groups, "groups"),
        data_layout,
        kernel_layout,
        out_layout,
        dtype_or_empty(out_dtype),
    )
    return make_call("nn.conv2d_transpose", [data, weight], attrs)


def conv3d_transpose(
    data: Expr,
    weight: Expr,
    strides: IntOrTuple = (1, 1, 1),
    padding: IntOrTuple = (0, 0, 0),
    dilation: IntOrTuple = (1, 1, 1),
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCDHW",
    kernel_layout: str = "IODHW",
    out_layout: str = "",
    output_padding: IntOrTuple = (0, 0, 0),
    out_dtype: str = "",
) -> Call:
    attrs = Conv3DTransposeAttrs(
        _opt_int(channels, "channels"),
        _opt_ints(kernel_size, "kernel_size", 3),
        ints(strides, "strides", 3),
        ints(output_padding, "output_padding", 3),
        pad_tuple(padding, 3),
        ints(dilation, "dilation", 3),
        int_of(groups, "groups"),
        data_layout,
        kernel_layout,
        out_layout,
        dtype_or_empty(out_dtype),
    )
    return make_call("nn.conv3d_transpose", [data, weight], attrs)


# --- pooling ----------------------------------------------------------------------------------


def max_pool1d(
    data: Expr,
    pool_size: IntOrTuple = (1,),
    strides: IntOrTuple = (1,),
    dilation: IntOrTuple = (1,),
    padding: IntOrTuple = (0,),
    layout: str = "NCW",
    out_layout: str = "",
    ceil_mode: bool = False,
) -> Call:
    attrs = MaxPool1DAttrs(
        ints(pool_size, "pool_size", 1),
        ints(strides, "strides", 1),
        ints(dilation, "dilation", 1),
        pad_tuple(padding, 1),
        layout,
        out_layout,
        bool(ceil_mode),
    )
    return make_call("nn.max_pool1d", [data], attrs)


def max_pool2d(
    data: Expr,
    pool_size: IntOrTuple = (1, 1),
    strides: IntOrTuple = (1, 1),
    dilation: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    layout: str = "NCHW",
    out_layout: str = "",
    ceil_mode: bool = False,
) -> Call:
    attrs = MaxPool2DAttrs(
        ints(pool_size, "pool_size", 2),
        ints(strides, "strides", 2),
        ints(dilation, "dilation", 2),
        pad_tuple(padding, 2),
        layout,
        out_layout,
        bool(ceil_mode),
    )
    return make_call("nn.max_pool2d", [data], attrs)


def max_pool3d(
    data: Expr,
    pool_size: IntOrTuple = (1, 1, 1),
    strides: IntOrTuple = (1, 1, 1),
    dilation: IntOrTuple = (1, 1, 1),
    padding: IntOrTuple = (0, 0, 0),
    layout: str = "NCDHW",
    out_layout: str = "",
    ceil_mode: bool = False,
) -> Call:
    attrs = MaxPool3DAttrs(
        ints(pool_size, "pool_size", 3),
        ints(strides, "strides", 3),
        ints(dilation, "dilation", 3),
        pad_tuple(padding, 3),
        layout,
        out_layout,
        bool(ceil_mode),
    )
    return make_call("nn.max_pool3d", [data], attrs)


def avg_pool1d(
    data: Expr,
    pool_size: IntOrTuple = (1,),
    strides: IntOrTuple = (1,),
    dilation: IntOrTuple = (1,),
    padding: IntOrTuple = (0,),
    layout: str = "NCW",
    out_layout: str = "",
    ceil_mode: bool = False,
    count_include_pad: bool = False,
) -> Call:
    attrs = AvgPool1DAttrs(
        ints(pool_size, "pool_size", 1),
        ints(strides, "strides", 1),
        ints(dilation, "dilation", 1),
        pad_tuple(padding, 1),
        layout,
        out_layout,
        bool(ceil_mode),
        bool(count_include_pad),
    )
    return make_call("nn.avg_pool1d", [data], attrs)


def avg_pool2d(
    data: Expr,
    pool_size: IntOrTuple = (1, 1),
    strides: IntOrTuple = (1, 1),
    dilation: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    layout: str = "NCHW",
    out_layout: str = "",
    ceil_mode: bool = False,
    count_include_pad: bool = False,
) -> Call:
    attrs = AvgPool2DAttrs(
        ints(pool_size, "pool_size", 2),
        ints(strides, "strides", 2),
        ints(dilation, "dilation", 2),
        pad_tuple(padding, 2),
        layout,
        out_layout,
        bool(ceil_mode),
        bool(count_include_pad),
    )
    return make_call("nn.avg_pool2d", [data], attrs)


def avg_pool3d(
    data: Expr,
    pool_size: IntOrTuple = (1, 1, 1),
    strides: IntOrTuple = (1, 1, 1),
    dilation: IntOrTuple = (1, 1, 1),
    padding: IntOrTuple = (0, 0, 0),
    layout: str = "NCDHW",
    out_layout: str = "",
    ceil_mode: bool = False,
    count_include_pad: bool = False,
) -> Call:
    attrs = AvgPool3DAttrs(
        ints(pool_size, "pool_size", 3),
        ints(strides, "strides", 3),
        ints(dilation, "dilation", 3),
        pad_tuple(padding, 3),
        layout,
        out_layout,
        bool(ceil_mode),
        bool(count_include_pad),
    )
    return make_call("nn.avg_pool3d", [data], attrs)


def global_max_pool2d(data: Expr, layout: str = "NCHW", out_layout: str = "") -> Call:
    return make_call("nn.global_max_pool2d", [data], GlobalPool2DAttrs(layout, out_layout))


def global_avg_pool2d(data: Expr, layout: str = "NCHW", out_layout: str = "") -> Call:
    return make_call("nn.global_avg_pool2d", [data], GlobalPool2DAttrs(layout, out_layout))


def _output_size(output_size: IntOrTuple | None) -> tuple[int, ...]:
    return () if output_size is None else ints(output_size, "output_size")


def adaptive_max_pool1d(
    data: Expr, output_size: IntOrTuple | None = None, layout: str = "NCW", out_layout: str = ""
) -> Call:
    attrs = AdaptivePool1DAttrs(_output_size(output_size), layout, out_layout)
    return make_call("nn.adaptive_max_pool1d", [data], attrs)


def adaptive_avg_pool1d(
    data: Expr, output_size: IntOrTuple | None = None, layout: str = "NCW", out_layout: str = ""
) -> Call:
    attrs = AdaptivePool1DAttrs(_output_size(output_size), layout, out_layout)
    return make_call("nn.adaptive_avg_pool1d", [data], attrs)


def adaptive_max_pool2d(
    data: Expr, output_size: IntOrTuple | None = None, layout: str = "NCHW", out_layout: str = ""
) -> Call:
    attrs = AdaptivePool2DAttrs(_output_size(output_size), layout, out_layout)
    return make_call("nn.adaptive_max_pool2d", [data], attrs)


def adaptive_avg_pool2d(
    data: Expr, output_size: IntOrTuple | None = None, layout: str = "NCHW", out_layout: str = ""
) -> Call:
    attrs = AdaptivePool2DAttrs(_output_size(output_size), layout, out_layout)
    return make_call("nn.adaptive_avg_pool2d", [data], attrs)


def adaptive_max_pool3d(
    data: Expr,
    output_size: IntOrTuple | None = None,
    layout: str = "NCDHW",
    out_layout: str = "",
) -> Call:
    attrs = AdaptivePool3DAttrs(_output_size(output_size), layout, out_layout)
    return make_call("nn.adaptive_max_pool3d", [data], attrs)


def adaptive_avg_pool3d(
    data: Expr,
    output_size: IntOrTuple | None = None,
    layout: str = "NCDHW",
    out_layout: str = "",
) -> Call:
    attrs = AdaptivePool3DAttrs(_output_size(output_size), layout, out_layout)
    return make_call("nn.adaptive_avg_pool3d", [data], attrs)


def global_max_pool1d(data: Expr, layout: str = "NCW", out_layout: str = "") -> Call:
    return adaptive_max_pool1d(data, [1], layout, out_layout)


def global_avg_pool1d(data: Expr, layout: str = "NCW", out_layout: str = "") -> Call:
    return adaptive_avg_pool1d(data, [1], layout, out_layout)


def global_max_pool3d(data: Expr, layout: str = "NCDHW", out_layout: str = "") -> Call:
    return adaptive_max_pool3d(data, [1, 1, 1], layout, out_layout)


def global_avg_pool3d(data: Expr, layout: str = "NCDHW", out_layout: str = "") -> Call:
    return adaptive_avg_pool3d(data, [1, 1, 1], layout, out_layout)


# --- dense layers and activations -------------------------------------------------------------


def batch_flatten(data: Expr) -> Call:
    return make_call("nn.batch_flatten", [data])


def bias_add(data: Expr, bias: Expr, axis: int = 1) -> Call:
    return make_call("nn.bias_add", [data, bias], BiasAddAttrs(int_of(axis, "axis")))


def matmul(
    tensor_a: Expr,
    tensor_b: Expr,
    units: int | None = None,
    out_dtype: str = "",
    transpose_a: bool = False,
    transpose_b: bool = False,
) -> Call:
    """``nn.matmul``; the ``(False, True)`` case is ``nn.dense``, as in TVM."""
    if not transpose_a and transpose_b:
        return dense(tensor_a, tensor_b, units, out_dtype)
    attrs = MatmulAttrs(
        _opt_int(units, "units"), dtype_or_empty(out_dtype), bool(transpose_a), bool(transpose_b)
    )
    return make_call("nn.matmul", [tensor_a, tensor_b], attrs)


def dense(data: Expr, weight: Expr, units: int | None = None, out_dtype: str = "") -> Call:
    """``data @ weight.T``."""
    attrs = DenseAttrs(_opt_int(units, "units"), dtype_or_empty(out_dtype))
    return make_call("nn.dense", [data, weight], attrs)


def batch_matmul(
    tensor_a: Expr,
    tensor_b: Expr,
    out_dtype: str = "",
    transpose_a: bool = False,
    transpose_b: bool = True,
) -> Call:
    attrs = BatchMatmulAttrs(dtype_or_empty(out_dtype), bool(transpose_a), bool(transpose_b))
    return make_call("nn.batch_matmul", [tensor_a, tensor_b], attrs)


def relu(data: Expr) -> Call:
    return make_call("nn.relu", [data])


def leaky_relu(data: Expr, alpha: float = 0.01) -> Call:
    return make_call("nn.leaky_relu", [data], LeakyReluAttrs(float(alpha)))


def prelu(data: Expr, alpha: Expr, axis: int = 1) -> Call:
    return make_call("nn.prelu", [data, alpha], PReluAttrs(int_of(axis, "axis")))


def softmax(data: Expr, axis: int = -1) -> Call:
    return make_call("nn.softmax", [data], SoftmaxAttrs(int_of(axis, "axis")))


def fast_softmax(data: Expr, axis: int = -1) -> Call:
    return make_call("nn.fast_softmax", [data], SoftmaxAttrs(int_of(axis, "axis")))


def log_softmax(data: Expr, axis: int = -1) -> Call:
    return make_call("nn.log_softmax", [data], SoftmaxAttrs(int_of(axis, "axis")))


def lrn(
    data: Expr,
    size: int = 5,
    axis: int = 1,
    bias: float = 2,
    alpha: float = 0.00001,
    beta: float = 0.75,
) -> Call:
    attrs = LRNAttrs(
        int_of(size, "size"), int_of(axis, "axis"), float(bias), float(alpha), float(beta)
    )
    return make_call("nn.lrn", [data], attrs)


def dropout(data: Expr, rate: float = 0.5) -> Expr:
    """The first output of ``nn.dropout`` (TVM returns the projection)."""
    return TupleGetItem(dropout_raw(data, rate), 0)


def dropout_raw(data: Expr, rate: float = 0.5) -> Call:
    """The ``nn.dropout`` call itself, whose value is ``(out, mask)``."""
    return make_call("nn.dropout", [data], DropoutAttrs(float(rate)))


# --- normalization ------------------------------------------------------------------------------


def batch_norm(
    data: Expr,
    gamma: Expr,
    beta: Expr,
    moving_mean: Expr,
    moving_var: Expr,
    axis: int = 1,
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
) -> TupleWrapper:
    """``(out, moving_mean, moving_var)`` as a TupleWrapper (inference form)."""
    attrs = BatchNormAttrs(int_of(axis, "axis"), float(epsilon), bool(center), bool(scale))
    call = make_call("nn.batch_norm", [data, gamma, beta, moving_mean, moving_var], attrs)
    return TupleWrapper(call, 3)


def instance_norm(
    data: Expr,
    gamma: Expr,
    beta: Expr,
    axis: int = 1,
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
) -> Call:
    attrs = InstanceNormAttrs(int_of(axis, "axis"), float(epsilon), bool(center), bool(scale))
    return make_call("nn.instance_norm", [data, gamma, beta], attrs)


def layer_norm(
    data: Expr,
    gamma: Expr,
    beta: Expr,
    axis: int = -1,
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
) -> Call:
    attrs = LayerNormAttrs(int_of(axis, "axis"), float(epsilon), bool(center), bool(scale))
    return make_call("nn.layer_norm", [data, gamma, beta], attrs)


def group_norm(
    data: Expr,
    gamma: Expr,
    beta: Expr,
    num_groups: int,
    axis: int = 1,
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
) -> Call:
    attrs = GroupNormAttrs(
        int_of(num_groups, "num_groups"),
        int_of(axis, "axis"),
        float(epsilon),
        bool(center),
        bool(scale),
    )
    return make_call("nn.group_norm", [data, gamma, beta], attrs)


# --- data movement, loss and pooling gradients --------------------------------------------------


def _pairs(value: Sequence[Sequence[int]], what: str) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for pair in value:
        lo, hi = ints(pair, what)
        out.append((lo, hi))
    return tuple(out)


def pad(
    data: Expr,
    pad_width: Sequence[Sequence[int]],
    pad_value: float | Expr = 0,
    pad_mode: str = "constant",
) -> Call:
    """Pad each axis by (before, after); ``pad_mode`` is constant, edge or reflect."""
    value = pad_value if not isinstance(pad_value, int | float) else const(pad_value)
    attrs = PadAttrs(_pairs(pad_width, "pad_width"), pad_mode)
    return make_call("nn.pad", [data, value], attrs)


def dilate(data: Expr, strides: IntOrTuple, dilation_value: float = 0.0) -> Call:
    attrs = DilateAttrs(ints(strides, "strides"), float(dilation_value))
    return make_call("nn.dilate", [data], attrs)


def upsampling(
    data: Expr,
    scale_h: float = 1,
    scale_w: float = 1,
    layout: str = "NCHW",
    method: str = "nearest_neighbor",
    align_corners: bool = False,
) -> Call:
    attrs = UpSamplingAttrs(float(scale_h), float(scale_w), layout, method, bool(align_corners))
    return make_call("nn.upsampling", [data], attrs)


def depth_to_space(data: Expr, block_size: int, layout: str = "NCHW", mode: str = "DCR") -> Call:
    attrs = SubPixelAttrs(int_of(block_size, "block_size"), layout, mode)
    return make_call("nn.depth_to_space", [data], attrs)


def space_to_depth(data: Expr, block_size: int, layout: str = "NCHW") -> Call:
    attrs = SubPixelAttrs(int_of(block_size, "block_size"), layout, "DCR")
    return make_call("nn.space_to_depth", [data], attrs)


def space_to_batch_nd(
    data: Expr,
    block_shape: IntOrTuple,
    paddings: Sequence[Sequence[int]],
    pad_value: float = 0,
) -> Call:
    attrs = SpaceToBatchNDAttrs(
        ints(block_shape, "block_shape"), _pairs(paddings, "paddings"), float(pad_value)
    )
    return make_call("nn.space_to_batch_nd", [data], attrs)


def batch_to_space_nd(data: Expr, block_shape: IntOrTuple, crops: Sequence[Sequence[int]]) -> Call:
    attrs = BatchToSpaceNDAttrs(ints(block_shape, "block_shape"), _pairs(crops, "crops"))
    return make_call("nn.batch_to_space_nd", [data], attrs)


def nll_loss(
    predictions: Expr,
    targets: Expr,
    weights: Expr,
    reduction: str = "mean",
    ignore_index: int = -100,
) -> Call:
    attrs = NLLLossAttrs(reduction, int_of(ignore_index, "ignore_index"))
    return make_call("nn.nll_loss", [predictions, targets, weights], attrs)


def max_pool2d_grad(
    out_grad: Expr,
    data: Expr,
    pool_size: IntOrTuple = (1, 1),
    strides: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    layout: str = "NCHW",
    out_layout: str = "",
    ceil_mode: bool = False,
) -> Call:
    attrs = MaxPool2DAttrs(
        ints(pool_size, "pool_size", 2),
        ints(strides, "strides", 2),
        (1, 1),
        ints(padding, "padding", 2),
        layout,
        out_layout,
        bool(ceil_mode),
    )
    return make_call("nn.max_pool2d_grad", [out_grad, data], attrs)


def avg_pool2d_grad(
    out_grad: Expr,
    data: Expr,
    pool_size: IntOrTuple = (1, 1),
    strides: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    layout: str = "NCHW",
    out_layout: str = "",
    ceil_mode: bool = False,
    count_include_pad: bool = False,
) -> Call:
    attrs = AvgPool2DAttrs(
        ints(pool_size, "pool_size", 2),
        ints(strides, "strides", 2),
        (1, 1),
        ints(padding, "padding", 2),
        layout,
        out_layout,
        bool(ceil_mode),
        bool(count_include_pad),
    )
    return make_call("nn.avg_pool2d_grad", [out_grad, data], attrs)
