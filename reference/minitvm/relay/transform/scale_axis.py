"""What FoldScaleAxis's two directions share (TVM ``src/relay/transforms/fold_scale_axis.cc`` and
the helpers it takes from ``pattern_utils.h``): the messages its preparation phases pass, and
the tests and reshapes of per-channel scales.

A *message* says that a value may be scaled along ``axes`` (sorted) and whether the scale must
be non-negative (a ``relu`` lies on the way). Messages meet by intersecting their axes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import InternalError
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType
from minitvm.relay.expr import Call, Constant, Expr
from minitvm.relay.op.defs.conv import Conv2DAttrs, Conv3DAttrs
from minitvm.relay.op.transform import expand_dims, repeat, reshape, squeeze
from minitvm.relay.transform.pattern_utils import expand_bias_to_match_axis

__all__ = [
    "ConvLayout",
    "Message",
    "conv_layout",
    "intersect",
    "is_all_positive_constant",
    "match_broadcast_to_left_axes",
    "reshape_or_expand_to_match_axis",
    "tensor_of",
]


@dataclass(frozen=True, slots=True)
class Message:
    axes: tuple[int, ...]
    require_positive: bool


def intersect(lhs: Message | None, rhs: Message | None) -> Message | None:
    """TVM's ``Intersect``: no message meets anything as no message."""
    if lhs is None or rhs is None:
        return None
    axes = tuple(sorted(set(lhs.axes) & set(rhs.axes)))
    return Message(axes, lhs.require_positive or rhs.require_positive)


def tensor_of(expr: Expr) -> TensorType:
    ty = expr.checked_type
    if not isinstance(ty, TensorType):
        raise InternalError(f"FoldScaleAxis expected a tensor, got {ty}")
    return ty


def match_broadcast_to_left_axes(
    lhs: TensorType, rhs: TensorType, axes: tuple[int, ...], rhs_value: Expr | None = None
) -> tuple[bool, Expr | None]:
    """TVM's ``MatchBroadcastToLeftAxes``: whether ``rhs`` broadcasts against ``lhs`` only along
    ``axes`` (every other aligned dimension 1). With ``rhs_value``, also that value reshaped to
    hold just the ``axes`` dimensions: the unit dimensions squeezed away, or a scalar expanded
    and repeated to the axis's extent.

    Extracting a value also requires ``rhs`` to cover every axis; TVM would otherwise give a
    scale with too few dimensions and an ill-typed program.
    """
    if lhs.ndim < rhs.ndim:
        return False, None
    if rhs.ndim == 0 and rhs_value is not None and axes:
        value = expand_dims(rhs_value, 0, len(axes))
        for i in range(len(axes)):
            value = repeat(value, lhs.shape[axes[0]], i)
        return True, value
    base = lhs.ndim - rhs.ndim
    matched = 0
    squeezed: list[int] = []
    for i in range(base, lhs.ndim):
        if matched < len(axes) and i == axes[matched]:
            if lhs.shape[i] != rhs.shape[i - base]:
                return False, None
            matched += 1
        elif rhs.shape[i - base] != 1:
            return False, None
        else:
            squeezed.append(i - base)
    if rhs_value is None:
        return True, None
    if matched != len(axes):
        return False, None
    return True, squeeze(rhs_value, squeezed) if squeezed else rhs_value


def reshape_or_expand_to_match_axis(
    scale: Expr, shape: tuple[int, ...], axes: tuple[int, ...]
) -> Expr:
    """A per-axes scale made broadcastable against a tensor of ``shape``: unit axes inserted
    for one axis, a reshape for several (TVM's ``ReshapeOrExpandToMatchAxis``)."""
    if len(axes) > 1:
        return reshape(scale, [shape[i] if i in axes else 1 for i in range(len(shape))])
    return expand_bias_to_match_axis(scale, len(shape), axes)


_PEELED = frozenset(["expand_dims", "reshape", "transpose", "squeeze", "repeat"])


def is_all_positive_constant(expr: Expr) -> bool:
    """TVM's ``IsAllPositiveConstant``: a constant with no negative element (and no NaN),
    possibly under reshapes, transposes, squeezes, expand_dims and repeats."""
    while isinstance(expr, Call) and isinstance(expr.op, Op) and expr.op.name in _PEELED:
        expr = expr.args[0]
    if not isinstance(expr, Constant):
        return False
    data = expr.data.numpy()
    if data.dtype == np.bool_:
        return True
    return bool(np.all(data >= 0))


@dataclass(frozen=True, slots=True)
class ConvLayout:
    """The axes of a convolution FoldScaleAxis folds into, or None when it does not."""

    data_c: int
    """The channel axis of the data (forward) or of the output (backward)."""
    kernel_i: int
    kernel_o: int
    kernel_ndim: int
    depthwise: bool


def conv_layout(call: Call, output: bool) -> ConvLayout | None:
    """The layout facts of ``nn.conv2d``/``nn.conv3d`` (``output``: of the result, not the
    data), when the convolution is ungrouped or depthwise (TVM's ``IsDepthwiseConv``: as many
    groups as output channels, one input channel each) in simple layouts."""
    attrs = call.attrs
    if not isinstance(attrs, Conv2DAttrs | Conv3DAttrs):
        return None
    layout = (attrs.out_layout or attrs.data_layout) if output else attrs.data_layout
    kernel = attrs.kernel_layout
    if any(c.islower() or c.isdigit() for c in layout + kernel):
        return None
    wshape = tensor_of(call.args[1]).shape
    kernel_o, kernel_i = kernel.index("O"), kernel.index("I")
    depthwise = wshape[kernel_o] == attrs.groups and wshape[kernel_i] == 1
    if attrs.groups != 1 and not depthwise:
        return None
    return ConvLayout(layout.index("C"), kernel_i, kernel_o, len(kernel), depthwise)
