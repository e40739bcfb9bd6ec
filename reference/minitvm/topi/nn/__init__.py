"""Neural-network operators (``tvm.topi.nn``)."""

from minitvm.topi.nn.bnn import binarize_pack, binary_dense
from minitvm.topi.nn.conv import (
    conv,
    conv1d,
    conv1d_ncw,
    conv1d_nwc,
    conv2d,
    conv2d_nchw,
    conv2d_nhwc,
    conv3d_ncdhw,
    conv3d_ndhwc,
    depthwise_conv2d_nchw,
    depthwise_conv2d_nhwc,
    group_conv2d_nchw,
    group_conv2d_nhwc,
)
from minitvm.topi.nn.conv_transpose import (
    conv1d_transpose_ncw,
    conv2d_transpose_nchw,
    conv3d_transpose_ncdhw,
    conv_transpose,
    group_conv2d_transpose_nchw,
)
from minitvm.topi.nn.dense import batch_matmul, dense, matmul
from minitvm.topi.nn.dilate import dilate
from minitvm.topi.nn.elemwise import leaky_relu, prelu, relu
from minitvm.topi.nn.flatten import flatten
from minitvm.topi.nn.loss import nll_loss
from minitvm.topi.nn.lrn import lrn
from minitvm.topi.nn.mapping import bias_add, scale_shift_nchw, scale_shift_nhwc
from minitvm.topi.nn.norm import batch_norm, group_norm, instance_norm, layer_norm, rms_norm
from minitvm.topi.nn.pad import edge_pad, mirror_pad, pad
from minitvm.topi.nn.pooling import (
    adaptive_pool,
    adaptive_pool1d,
    adaptive_pool3d,
    global_pool,
    pool1d,
    pool2d,
    pool3d,
    pool_grad,
)
from minitvm.topi.nn.softmax import fast_softmax, log_softmax, softmax
from minitvm.topi.nn.space import (
    batch_to_space_nd,
    depth_to_space,
    space_to_batch_nd,
    space_to_depth,
)
from minitvm.topi.nn.upsampling import upsampling
from minitvm.topi.nn.utils import get_pad_tuple

__all__ = [
    "adaptive_pool",
    "adaptive_pool1d",
    "adaptive_pool3d",
    "batch_matmul",
    "batch_norm",
    "batch_to_space_nd",
    "bias_add",
    "binarize_pack",
    "binary_dense",
    "conv",
    "conv1d",
    "conv1d_ncw",
    "conv1d_nwc",
    "conv1d_transpose_ncw",
    "conv2d",
    "conv2d_nchw",
    "conv2d_nhwc",
    "conv2d_transpose_nchw",
    "conv3d_ncdhw",
    "conv3d_ndhwc",
    "conv3d_transpose_ncdhw",
    "conv_transpose",
    "dense",
    "depth_to_space",
    "depthwise_conv2d_nchw",
    "depthwise_conv2d_nhwc",
    "dilate",
    "edge_pad",
    "fast_softmax",
    "flatten",
    "get_pad_tuple",
    "global_pool",
    "group_conv2d_nchw",
    "group_conv2d_nhwc",
    "group_conv2d_transpose_nchw",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "leaky_relu",
    "log_softmax",
    "lrn",
    "matmul",
    "mirror_pad",
    "nll_loss",
    "pad",
    "pool1d",
    "pool2d",
    "pool3d",
    "pool_grad",
    "prelu",
    "relu",
    "rms_norm",
    "scale_shift_nchw",
    "scale_shift_nhwc",
    "softmax",
    "space_to_batch_nd",
    "space_to_depth",
    "upsampling",
]
