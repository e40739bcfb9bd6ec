"""BackwardFoldScaleAxis: fold ``conv(x, w) * s`` into ``conv(x, w * s)`` (TVM
``src/relay/transforms/fold_scale_axis.cc``, the backward half).

1. *Preparation*, forwards: a convolution (ungrouped or depthwise, simple layouts) says its
   output could be scaled along its channel axis, ``nn.dense`` along its last axis; ``relu``/
   ``leaky_relu`` pass that on requiring a non-negative scale; ``add``/``subtract`` pass it
   on when the other operand only broadcasts along those axes or carries the same message with
   the same shape; ``nn.bias_add`` when its axis is the message's one axis. Only a node used
   exactly once may carry a message (its one user decides how it is scaled).
2. *Transformation*: a ``multiply`` of a node carrying a message by a scale matching its axes
   (non-negative when required) disappears: the scale is pushed down to the producers, which
   multiply their weights (and added operands) by it. A ``multiply`` that cannot fold keeps
   its operands' plain rewrites.

The transformation is recursive in TVM; here it runs on the generator trampoline, so chains of
any depth are handled at the default recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from minitvm.ir.op import Op
from minitvm.relay.expr import Call, Expr
from minitvm.relay.expr_functor import children, iter_post_order, rebuild
from minitvm.relay.op.defs.nn import BiasAddAttrs
from minitvm.relay.op.tensor import multiply
from minitvm.relay.transform.pattern_utils import expand_bias_to_match_axis
from minitvm.relay.transform.scale_axis import (
    Message,
    conv_layout,
    is_all_positive_constant,
    match_broadcast_to_left_axes,
    reshape_or_expand_to_match_axis,
    tensor_of,
)
from minitvm.relay.transform.trampoline import Step, drive

__all__ = ["backward_fold_scale_axis"]

Request: TypeAlias = "tuple[Expr, Message | None, Expr | None]"
"""Rewrite ``expr`` scaled by ``scale`` along the message's axes (no message: plainly)."""
Prep: TypeAlias = Callable[[Call, list[Message | None]], Message | None]


def _relu_prep(call: Call, ins: list[Message | None]) -> Message | None:
    return None if ins[0] is None else Message(ins[0].axes, True)


def _add_sub_prep(call: Call, ins: list[Message | None]) -> Message | None:
    lhs, rhs = tensor_of(call.args[0]), tensor_of(call.args[1])
    first, second = ins
    message: Message | None = None
    if first is not None and match_broadcast_to_left_axes(lhs, rhs, first.axes)[0]:
        message = first
    elif second is not None and match_broadcast_to_left_axes(rhs, lhs, second.axes)[0]:
        message = second
    elif first is not None and second is not None and lhs.shape == rhs.shape:
        message = first if first.axes == second.axes else None
    both = message is not None and first is not None and second is not None
    if both and first is not None and second is not None and first.axes == second.axes:
        # Both operands will be scaled: a relu on either side needs a non-negative scale
        # (TVM keeps only the first operand's requirement).
        message = Message(first.axes, first.require_positive or second.require_positive)
    return message


def _conv_prep(call: Call, ins: list[Message | None]) -> Message | None:
    layout = conv_layout(call, output=True)
    return None if layout is None else Message((layout.data_c,), False)


def _bias_add_prep(call: Call, ins: list[Message | None]) -> Message | None:
    attrs = call.attrs
    assert isinstance(attrs, BiasAddAttrs)
    message = ins[0]
    if message is not None and len(message.axes) == 1 and attrs.axis == message.axes[0]:
        return message
    return None


def _dense_prep(call: Call, ins: list[Message | None]) -> Message | None:
    return Message((tensor_of(call).ndim - 1,), False)


_PREP: dict[str, Prep] = {
    "nn.relu": _relu_prep,
    "nn.leaky_relu": _relu_prep,
    "add": _add_sub_prep,
    "subtract": _add_sub_prep,
    "nn.conv2d": _conv_prep,
    "nn.conv3d": _conv_prep,
    "nn.bias_add": _bias_add_prep,
    "nn.dense": _dense_prep,
}


def _op_name(call: Call) -> str | None:
    return call.op.name if isinstance(call.op, Op) else None


def prepare(root: Expr) -> dict[Expr, Message]:
    """TVM's ``BackwardPrep``: the message of each single-use call that can take a scale."""
    uses: dict[Expr, int] = {root: 1}
    order = list(iter_post_order(root))
    for node in order:
        for child in children(node):
            uses[child] = uses.get(child, 0) + 1
    messages: dict[Expr, Message] = {}
    for node in order:
        if not isinstance(node, Call) or uses[node] != 1:
            continue
        name = _op_name(node)
        prep = _PREP.get(name) if name is not None else None
        if prep is not None:
            message = prep(node, [messages.get(a) for a in node.args])
            if message is not None:
                messages[node] = message
    return messages


class _Transformer:
    """TVM's ``BackwardTransformerNode``: a plain rewrite of every node, bottom-up, in which a
    folding ``multiply`` asks for its operand rewritten scaled."""

    def __init__(self, messages: dict[Expr, Message]) -> None:
        self.messages = messages
        self.memo: dict[Expr, Expr] = {}

    def run(self, root: Expr) -> Expr:
        memo = self.memo
        for node in iter_post_order(root):
            if isinstance(node, Call) and _op_name(node) == "multiply":
                memo[node] = drive(self._multiply(node), self._resolve)
            else:
                memo[node] = rebuild(node, memo.__getitem__)
        return memo[root]

    def _resolve(self, request: Request) -> Step[Request, Expr] | Expr:
        expr, message, scale = request
        if message is None or scale is None:
            return self.memo[expr]
        assert isinstance(expr, Call)
        transform = _SCALED.get(_op_name(expr) or "")
        if transform is None:
            return self._realize(expr, message, scale)
        return transform(self, expr, message, scale)

    def _plain(self, call: Call) -> Expr:
        return rebuild(call, self.memo.__getitem__)

    def _realize(self, call: Call, message: Message, scale: Expr) -> Expr:
        """``call`` rewritten plainly, then multiplied by the scale (where a producer cannot
        take the scale after all; TVM fails with "outstanding scale")."""
        widened = reshape_or_expand_to_match_axis(scale, tensor_of(call).shape, message.axes)
        return multiply(self._plain(call), widened)

    def _multiply(self, call: Call) -> Step[Request, Expr]:
        lhs, rhs = call.args
        for value, other in ((lhs, rhs), (rhs, lhs)):
            message = self.messages.get(value)
            if message is None:
                continue
            ok, scale = match_broadcast_to_left_axes(
                tensor_of(value), tensor_of(other), message.axes, other
            )
            positive = not message.require_positive or (
                scale is not None and is_all_positive_constant(scale)
            )
            if ok and scale is not None and positive and tensor_of(value) == tensor_of(call):
                return (yield (value, message, scale))
            break
        return self._plain(call)

    def _relu(self, call: Call, message: Message, scale: Expr) -> Step[Request, Expr]:
        data = yield (call.args[0], message, scale)
        return Call(call.op, [data], call.attrs, call.type_args, call.span)

    def _add_sub(self, call: Call, message: Message, scale: Expr) -> Step[Request, Expr]:
        lhs_message = self.messages.get(call.args[0])
        rhs_message = self.messages.get(call.args[1])
        args: list[Expr] = []
        for i, arg in enumerate(call.args):
            own = lhs_message if i == 0 else rhs_message
            if own is not None and own.axes == message.axes:
                args.append((yield (arg, message, scale)))
            else:
                shape = tensor_of(call.args[1 - i]).shape
                widened = reshape_or_expand_to_match_axis(scale, shape, message.axes)
                args.append(multiply(self.memo[arg], widened))
        return Call(call.op, args, call.attrs, call.type_args, call.span)

    def _conv(self, call: Call, message: Message, scale: Expr) -> Expr:
        layout = conv_layout(call, output=True)
        if layout is None or message.axes != (layout.data_c,) or not self._same_dtype(call):
            return self._realize(call, message, scale)
        data, weight = (self.memo[a] for a in call.args)
        wscale = expand_bias_to_match_axis(scale, layout.kernel_ndim, [layout.kernel_o])
        args = [data, multiply(weight, wscale)]
        return Call(call.op, args, call.attrs, call.type_args, call.span)

    def _bias_add(self, call: Call, message: Message, scale: Expr) -> Step[Request, Expr]:
        data = yield (call.args[0], message, scale)
        bias = multiply(self.memo[call.args[1]], scale)
        return Call(call.op, [data, bias], call.attrs, call.type_args)

    def _dense(self, call: Call, message: Message, scale: Expr) -> Expr:
        if message.axes != (tensor_of(call).ndim - 1,) or not self._same_dtype(call):
            return self._realize(call, message, scale)
        data, weight = (self.memo[a] for a in call.args)
        wscale = expand_bias_to_match_axis(scale, 2, [0])
        return Call(call.op, [data, multiply(weight, wscale)], call.attrs, call.type_args)

    @staticmethod
    def _same_dtype(call: Call) -> bool:
        """The scale (of the output's dtype) can multiply the weight."""
        return tensor_of(call).dtype == tensor_of(call.args[1]).dtype


Scaled: TypeAlias = Callable[[_Transformer, Call, Message, Expr], "Step[Request, Expr] | Expr"]

_SCALED: dict[str, Scaled] = {
    "nn.relu": _Transformer._relu,
    "nn.leaky_relu": _Transformer._relu,
    "add": _Transformer._add_sub,
    "subtract": _Transformer._add_sub,
    "nn.conv2d": _Transformer._conv,
    "nn.conv3d": _Transformer._conv,
    "nn.bias_add": _Transformer._bias_add,
    "nn.dense": _Transformer._dense,
}


def backward_fold_scale_axis(expr: Expr) -> Expr:
    """TVM's ``BackwardFoldScaleAxis`` on one expression (a function)."""
    messages = prepare(expr)
    if not messages:
        return expr
    return _Transformer(messages).run(expr)
