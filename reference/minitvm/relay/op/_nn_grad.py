"""Gradients of convolution and pooling (TVM ``python/tvm/relay/op/_tensor_grad.py``,
``conv2d_grad`` and the pooling gradients).

``nn.conv2d`` (NCHW data, OIHW kernel, one group): the data gradient is a transposed
convolution of the output gradient with the kernel, its ``output_padding`` restoring the rows
and columns a stride skipped. The kernel gradient is a convolution too: with batch and
channels swapped, the data convolved with the output gradient as kernel, the original stride
becoming the dilation and the dilation the stride (TVM calls ``nn.conv2d_backward_weight``,
which minitvm does not have; this is the formulation TVM used before it). Pooling gradients
are the ``nn.max_pool2d_grad`` / ``nn.avg_pool2d_grad`` operators.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.relay.expr import Call, Expr
from minitvm.relay.op._tensor_grad import type_of
from minitvm.relay.op.defs.conv import Conv2DAttrs
from minitvm.relay.op.defs.pool import AvgPool2DAttrs, GlobalPool2DAttrs, MaxPool2DAttrs
from minitvm.relay.op.nn.nn import avg_pool2d_grad, conv2d, conv2d_transpose, max_pool2d_grad
from minitvm.relay.op.op import register_gradient
from minitvm.relay.op.transform import strided_slice, transpose

__all__: list[str] = []


def _unsupported(what: str) -> DiagnosticError:
    return DiagnosticError(f"no gradient for {what}")


@register_gradient("nn.conv2d")
def conv2d_grad(orig: Call, grad: Expr) -> list[Expr]:
    attrs = orig.attrs
    if not isinstance(attrs, Conv2DAttrs):
        raise _unsupported(f"nn.conv2d with attrs {type(attrs).__name__}")
    if attrs.data_layout != "NCHW" or attrs.kernel_layout != "OIHW":
        raise _unsupported(
            f"nn.conv2d in layout {attrs.data_layout}/{attrs.kernel_layout} (NCHW/OIHW only)"
        )
    if attrs.out_layout not in ("", "NCHW") or attrs.groups != 1:
        raise _unsupported(f"nn.conv2d with groups={attrs.groups}, out_layout={attrs.out_layout}")
    data, weight = orig.args
    _, _, in_h, in_w = type_of(data).shape
    out_c, in_c, filter_h, filter_w = type_of(weight).shape
    _, _, grad_h, grad_w = type_of(orig).shape
    top, left, bottom, right = _pad4(attrs.padding)
    stride_h, stride_w = attrs.strides
    dil_h, dil_w = attrs.dilation
    span_h = (filter_h - 1) * dil_h + 1
    span_w = (filter_w - 1) * dil_w + 1
    out_h = (grad_h - 1) * stride_h - top - bottom + span_h
    out_w = (grad_w - 1) * stride_w - left - right + span_w
    backward_data = conv2d_transpose(
        grad,
        weight,
        strides=attrs.strides,
        padding=(top, left, bottom, right),
        dilation=attrs.dilation,
        channels=in_c,
        kernel_size=(filter_h, filter_w),
        output_padding=(in_h - out_h, in_w - out_w),
    )
    swapped = conv2d(
        transpose(data, [1, 0, 2, 3]),
        transpose(grad, [1, 0, 2, 3]),
        strides=attrs.dilation,
        padding=(top, left, bottom, right),
        dilation=attrs.strides,
    )
    backward_weight: Expr = transpose(swapped, [1, 0, 2, 3])
    full_h = (in_h + top + bottom - (grad_h - 1) * stride_h - 1) // dil_h + 1
    full_w = (in_w + left + right - (grad_w - 1) * stride_w - 1) // dil_w + 1
    if (full_h, full_w) != (filter_h, filter_w):
        end = [out_c, in_c, filter_h, filter_w]
        backward_weight = strided_slice(backward_weight, [0, 0, 0, 0], end)
    return [backward_data, backward_weight]


def _pad4(padding: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(padding) == 4:
        return padding[0], padding[1], padding[2], padding[3]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    return padding[0], padding[0], padding[0], padding[0]


@register_gradient("nn.max_pool2d")
def max_pool2d_grad_(orig: Call, grad: Expr) -> list[Expr]:
    attrs = orig.attrs
    if not isinstance(attrs, MaxPool2DAttrs) or attrs.dilation != (1, 1):
        raise _unsupported("nn.max_pool2d with dilation")
    pooled = max_pool2d_grad(
        grad,
        orig.args[0],
        pool_size=attrs.pool_size,
        strides=attrs.strides,
        padding=attrs.padding,
        layout=attrs.layout,
        ceil_mode=attrs.ceil_mode,
    )
    return [pooled]


@register_gradient("nn.avg_pool2d")
def avg_pool2d_grad_(orig: Call, grad: Expr) -> list[Expr]:
    attrs = orig.attrs
    if not isinstance(attrs, AvgPool2DAttrs) or attrs.dilation != (1, 1):
        raise _unsupported("nn.avg_pool2d with dilation")
    pooled = avg_pool2d_grad(
        grad,
        orig.args[0],
        pool_size=attrs.pool_size,
        strides=attrs.strides,
        padding=attrs.padding,
        layout=attrs.layout,
        ceil_mode=attrs.ceil_mode,
        count_include_pad=attrs.count_include_pad,
    )
    return [pooled]


@register_gradient("nn.global_avg_pool2d")
def global_avg_pool2d_grad(orig: Call, grad: Expr) -> list[Expr]:
    attrs = orig.attrs
    layout = attrs.layout if isinstance(attrs, GlobalPool2DAttrs) else "NCHW"
    shape = type_of(orig.args[0]).shape
    if layout == "NCHW":
        pool_size = (shape[2], shape[3])
    elif layout == "NHWC":
        pool_size = (shape[1], shape[2])
    else:
        raise _unsupported(f"nn.global_avg_pool2d in layout {layout} (NCHW or NHWC only)")
    pooled = avg_pool2d_grad(
        grad, orig.args[0], pool_size=pool_size, strides=(1, 1), padding=(0, 0), layout=layout
    )
    return [pooled]
