"""CombineParallelConv2D (TVM ``src/relay/transforms/combine_parallel_conv2d.cc``).

Ungrouped 2-d convolutions of one input with the same strides, padding, dilation, layouts,
output dtype and kernel height and width (output channels may differ) become one convolution
over the weights concatenated on the kernel layout's ``O`` axis, with ``channels`` the total.
Followers are combined while their other operand carries the branch's channels unbroadcast on
the channel axis (operands are concatenated there). Each branch's result is a
``strided_slice`` of the output with ``slice_mode="size"``, begin 0 and end -1 (all) on the
axes before the channel axis, and the branch's offset and channel count on it.

As in CombineParallelDense, followers are limited to unary elementwise operators and
attribute-free binary broadcast operators whose result keeps the convolution's rank, so the
channel axis stays where the slices expect it (TVM also combines, say, an ``expand_dims``).

The pass is a FunctionPass named ``CombineParallelConv2d`` (TVM's spelling) at opt_level 4
requiring InferType.
"""

from __future__ import annotations

import dataclasses

from typing_extensions import override

from minitvm.error import InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.relay.expr import Call, Expr
from minitvm.relay.function import Function
from minitvm.relay.op.defs.conv import Conv2DAttrs
from minitvm.relay.op.tensor import concatenate
from minitvm.relay.op.transform import strided_slice
from minitvm.relay.transform.combine_parallel_dense import (
    is_binary_broadcast,
    is_unary_elemwise,
    tensor_of,
)
from minitvm.relay.transform.combine_parallel_op import Group, ParallelOpCombiner
from minitvm.relay.transform.function_pass import FunctionPass

__all__ = ["CombineParallelConv2D", "ParallelConv2DCombiner"]


def _attrs(call: Call) -> Conv2DAttrs:
    assert isinstance(call.attrs, Conv2DAttrs)
    return call.attrs


def _channels(call: Call) -> int:
    """The output channels of a convolution: its weight's ``O`` extent."""
    attrs = _attrs(call)
    return tensor_of(call.args[1]).shape[attrs.kernel_layout.index("O")]


def _kernel_hw(call: Call) -> tuple[int, int]:
    attrs = _attrs(call)
    shape = tensor_of(call.args[1]).shape
    return shape[attrs.kernel_layout.index("H")], shape[attrs.kernel_layout.index("W")]


class ParallelConv2DCombiner(ParallelOpCombiner):
    def __init__(self, min_num_branches: int) -> None:
        super().__init__("nn.conv2d", min_num_branches)
        self.channel_pos = 1

    @override
    def is_supported_op(self, call: Call) -> bool:
        return _attrs(call).groups == 1

    @override
    def can_ops_be_combined(self, a: Call, b: Call) -> bool:
        x, y = _attrs(a), _attrs(b)
        keys = (
            "strides",
            "padding",
            "dilation",
            "groups",
            "data_layout",
            "kernel_layout",
            "out_dtype",
            "out_layout",
        )
        same = all(getattr(x, k) == getattr(y, k) for k in keys)
        return same and _kernel_hw(a) == _kernel_hw(b)

    @override
    def make_combined_op(self, branches: Group) -> Expr:
        first = branches[0][0]
        attrs = _attrs(first)
        channels = sum(_channels(b[0]) for b in branches)
        weight = concatenate([b[0].args[1] for b in branches], attrs.kernel_layout.index("O"))
        layout = attrs.out_layout or attrs.data_layout
        self.channel_pos = layout.index("C")
        new_attrs = dataclasses.replace(attrs, channels=channels)
        return Call(self.op, [first.args[0], weight], new_attrs)

    def _arg_channel_pos(self, call: Call, index: int) -> int:
        return self.channel_pos - tensor_of(call).ndim + tensor_of(call.args[index]).ndim

    @override
    def is_arg_compatible(self, a: Call, b: Call, index: int) -> bool:
        ta, tb = tensor_of(a.args[index]), tensor_of(b.args[index])
        if ta.dtype != tb.dtype or ta.ndim != tb.ndim:
            return False
        pos = self._arg_channel_pos(a, index)
        if pos < 0 or pos > self.channel_pos:
            return False
        out_a, out_b = tensor_of(a), tensor_of(b)
        if ta.shape[pos] != out_a.shape[self.channel_pos]:
            return False
        if tb.shape[pos] != out_b.shape[self.channel_pos]:
            return False
        return all(ta.shape[i] == tb.shape[i] for i in range(ta.ndim) if i != pos)

    @override
    def follower_ok(self, branches: Group, depth: int, parent_index: int) -> bool:
        call = branches[0][depth]
        if is_unary_elemwise(call):
            return True
        conv_rank = tensor_of(branches[0][0]).ndim
        return is_binary_broadcast(call) and tensor_of(call).ndim == conv_rank

    @override
    def make_combined_call_from_following_ops(
        self, data: Expr, branches: Group, depth: int, parent_index: int
    ) -> Expr:
        call = branches[0][depth]
        args: list[Expr] = []
        for i in range(len(call.args)):
            if i == parent_index:
                args.append(data)
                continue
            pieces = [b[depth].args[i] for b in branches]
            args.append(concatenate(pieces, self._arg_channel_pos(call, i)))
        return Call(call.op, args, call.attrs)

    @override
    def update_group_output(self, data: Expr, branches: Group, depth: int) -> None:
        offset = 0
        pos = self.channel_pos
        for branch in branches:
            channels = _channels(branch[0])
            begin, end = [0] * pos + [offset], [-1] * pos + [channels]
            offset += channels
            self.subst[branch[depth]] = strided_slice(
                data, begin, end, [1] * (pos + 1), slice_mode="size"
            )


def CombineParallelConv2D(min_num_branches: int = 3) -> FunctionPass:  # noqa: N802
    """Combine at least ``min_num_branches`` parallel 2-d convolutions on one input."""

    def run(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        out = ParallelConv2DCombiner(min_num_branches).combine(func)
        if not isinstance(out, Function):
            raise InternalError("CombineParallelConv2D turned a function into a non-function")
        return out

    info = PassInfo(4, "CombineParallelConv2d", ["InferType"])
    return FunctionPass(run, info, needs_types=True)


register_pass("CombineParallelConv2d", CombineParallelConv2D)
