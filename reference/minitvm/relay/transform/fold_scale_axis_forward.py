"""ForwardFoldScaleAxis: fold ``conv(x * s)`` into ``conv(x, w * s)`` (TVM
``src/relay/transforms/fold_scale_axis.cc``, the forward half, and ``forward_rewrite.cc``).

1. *Preparation*, backwards from the result: each consumer tells its operands which axes it
   could absorb a scale on. A convolution (ungrouped or depthwise, simple layouts) accepts its
   data's channel axis, ``nn.dense`` its input's last axis; ``relu``/``leaky_relu`` pass the
   request on but then need a non-negative scale; ``add``/``subtract`` pass it to the operand
   that has the full shape when the other only broadcasts along those axes. Anything else (the
   function's result, tuples, ``if``, ``let``, other operators) accepts nothing. A node used
   several times gets the intersection of its users' requests.
2. *Rewriting*, forwards: a ``multiply`` whose requested axes its other operand covers becomes
   a *scaled value* (the unscaled operand, the axes, the scale, squeezed to just those axes);
   ``relu`` and ``add``/``subtract`` carry it through (the added operand divided by the scale);
   the consumer multiplies its weight by the scale and takes the unscaled value. A scaled value
   that reaches anything else is multiplied back (TVM fails there with "outstanding scale").

Reassociating a product changes floating-point rounding, and dividing an added operand by the
scale assumes the scale has no zero, as in TVM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from minitvm.ir.op import Op
from minitvm.relay.expr import Call, Expr, If, Let, Tuple
from minitvm.relay.expr_functor import iter_post_order, rebuild
from minitvm.relay.function import Function
from minitvm.relay.op.tensor import divide, multiply
from minitvm.relay.transform.pattern_utils import expand_bias_to_match_axis
from minitvm.relay.transform.scale_axis import (
    Message,
    conv_layout,
    intersect,
    is_all_positive_constant,
    match_broadcast_to_left_axes,
    reshape_or_expand_to_match_axis,
    tensor_of,
)

__all__ = ["ScaledExpr", "forward_fold_scale_axis"]


@dataclass(frozen=True, slots=True, eq=False)
class ScaledExpr:
    """``value`` scaled by ``scale`` along ``axes`` (TVM's ``ScaledExprNode``)."""

    value: Expr
    axes: tuple[int, ...]
    scale: Expr
    shape: tuple[int, ...]

    def realize(self) -> Expr:
        """The value multiplied back by the scale."""
        widened = reshape_or_expand_to_match_axis(self.scale, self.shape, self.axes)
        return multiply(self.value, widened)


Arg: TypeAlias = "Expr | ScaledExpr"
Prep: TypeAlias = Callable[[Call, Message | None], list[Message | None]]
Rewrite: TypeAlias = Callable[[Call, list[Arg], Message | None], "Arg | None"]


# --- preparation -----------------------------------------------------------------------------


def _relu_prep(call: Call, out: Message | None) -> list[Message | None]:
    return [None if out is None else Message(out.axes, True)]


def _add_sub_prep(call: Call, out: Message | None) -> list[Message | None]:
    lhs, rhs = tensor_of(call.args[0]), tensor_of(call.args[1])
    if out is not None:
        if match_broadcast_to_left_axes(lhs, rhs, out.axes)[0]:
            return [out, None]
        if match_broadcast_to_left_axes(rhs, lhs, out.axes)[0]:
            return [None, out]
    return [None, None]


def _conv_prep(call: Call, out: Message | None) -> list[Message | None]:
    layout = conv_layout(call, output=False)
    return [None if layout is None else Message((layout.data_c,), False), None]


def _dense_prep(call: Call, out: Message | None) -> list[Message | None]:
    return [Message((tensor_of(call.args[0]).ndim - 1,), False), None]


def prepare(root: Expr) -> dict[Expr, Message | None]:
    """TVM's ``ForwardPrep``: the message each node receives from its users."""
    messages: dict[Expr, Message | None] = {}

    def update(node: Expr, message: Message | None) -> None:
        messages[node] = intersect(messages[node], message) if node in messages else message

    update(root, None)
    for node in reversed(list(iter_post_order(root))):
        if isinstance(node, Call):
            prep = _PREP.get(node.op.name) if isinstance(node.op, Op) else None
            ins = prep(node, messages.get(node)) if prep is not None else [None] * len(node.args)
            for arg, message in zip(node.args, ins, strict=True):
                update(arg, message)
        else:
            for part in _opaque_parts(node):
                update(part, None)
    return messages


def _opaque_parts(node: Expr) -> tuple[Expr, ...]:
    """The parts of a non-call node a scale cannot pass into (TupleGetItem passes nothing)."""
    match node:
        case Tuple():
            return node.fields
        case If():
            return (node.cond, node.true_branch, node.false_branch)
        case Let():
            return (node.value, node.body)
        case Function():
            return (node.body,)
        case _:
            return ()


# --- rewriting -------------------------------------------------------------------------------


def _scaled(arg: Arg) -> ScaledExpr | None:
    return arg if isinstance(arg, ScaledExpr) else None


def _relu_rewrite(call: Call, args: list[Arg], message: Message | None) -> Arg | None:
    scaled = _scaled(args[0])
    if scaled is None:
        return None
    value = Call(call.op, [scaled.value], call.attrs, call.type_args, call.span)
    return ScaledExpr(value, scaled.axes, scaled.scale, tensor_of(call).shape)


def _add_sub_rewrite(call: Call, args: list[Arg], message: Message | None) -> Arg | None:
    lhs, rhs = args
    scaled_index = 0 if isinstance(lhs, ScaledExpr) else 1 if isinstance(rhs, ScaledExpr) else -1
    if scaled_index < 0 or (isinstance(lhs, ScaledExpr) and isinstance(rhs, ScaledExpr)):
        return None
    scaled, other = (lhs, rhs) if scaled_index == 0 else (rhs, lhs)
    assert isinstance(scaled, ScaledExpr)
    assert not isinstance(other, ScaledExpr)
    full = tensor_of(call.args[scaled_index])
    part = tensor_of(call.args[1 - scaled_index])
    if not match_broadcast_to_left_axes(full, part, scaled.axes)[0]:
        return None
    divided = divide(other, reshape_or_expand_to_match_axis(scaled.scale, full.shape, scaled.axes))
    new_args = [scaled.value, divided] if scaled_index == 0 else [divided, scaled.value]
    value = Call(call.op, new_args, call.attrs, call.type_args, call.span)
    return ScaledExpr(value, scaled.axes, scaled.scale, tensor_of(call).shape)


def _multiply_rewrite(call: Call, args: list[Arg], message: Message | None) -> Arg | None:
    if message is None or not message.axes or any(isinstance(a, ScaledExpr) for a in args):
        return None
    lhs_type, rhs_type = tensor_of(call.args[0]), tensor_of(call.args[1])
    shape = tensor_of(call).shape
    for value, other, value_type, other_type in (
        (args[0], args[1], lhs_type, rhs_type),
        (args[1], args[0], rhs_type, lhs_type),
    ):
        assert not isinstance(value, ScaledExpr)
        assert not isinstance(other, ScaledExpr)
        ok, scale = match_broadcast_to_left_axes(value_type, other_type, message.axes, other)
        positive = scale is not None and (
            not message.require_positive or is_all_positive_constant(scale)
        )
        if ok and scale is not None and positive and value_type.shape == shape:
            return ScaledExpr(value, message.axes, scale, shape)
    return None


def _consume(call: Call, args: list[Arg], axes: tuple[int, ...]) -> ScaledExpr | None:
    """The scaled data of a consumer, when it is scaled on exactly ``axes`` by a scale of the
    weight's dtype, and the weight is not scaled itself."""
    data, weight = args
    if not isinstance(data, ScaledExpr) or isinstance(weight, ScaledExpr):
        return None
    if data.axes != axes or tensor_of(call.args[1]).dtype != tensor_of(call.args[0]).dtype:
        return None
    return data


def _conv_rewrite(call: Call, args: list[Arg], message: Message | None) -> Arg | None:
    layout = conv_layout(call, output=False)
    if layout is None:
        return None
    data = _consume(call, args, (layout.data_c,))
    if data is None:
        return None
    axis = layout.kernel_o if layout.depthwise else layout.kernel_i
    weight = args[1]
    assert not isinstance(weight, ScaledExpr)
    scale = expand_bias_to_match_axis(data.scale, layout.kernel_ndim, [axis])
    new_args = [data.value, multiply(weight, scale)]
    return Call(call.op, new_args, call.attrs, call.type_args, call.span)


def _dense_rewrite(call: Call, args: list[Arg], message: Message | None) -> Arg | None:
    data = _consume(call, args, (tensor_of(call.args[0]).ndim - 1,))
    if data is None:
        return None
    weight = args[1]
    assert not isinstance(weight, ScaledExpr)
    return Call(call.op, [data.value, multiply(weight, data.scale)], call.attrs, call.type_args)


_PREP: dict[str, Prep] = {
    "nn.relu": _relu_prep,
    "nn.leaky_relu": _relu_prep,
    "add": _add_sub_prep,
    "subtract": _add_sub_prep,
    "nn.conv2d": _conv_prep,
    "nn.conv3d": _conv_prep,
    "nn.dense": _dense_prep,
}

_REWRITE: dict[str, Rewrite] = {
    "nn.relu": _relu_rewrite,
    "nn.leaky_relu": _relu_rewrite,
    "add": _add_sub_rewrite,
    "subtract": _add_sub_rewrite,
    "multiply": _multiply_rewrite,
    "nn.conv2d": _conv_rewrite,
    "nn.conv3d": _conv_rewrite,
    "nn.dense": _dense_rewrite,
}


def forward_fold_scale_axis(expr: Expr) -> Expr:
    """TVM's ``ForwardFoldScaleAxis`` on one expression (a function)."""
    messages = prepare(expr)
    if all(m is None for m in messages.values()):
        return expr
    memo: dict[Expr, Arg] = {}
    realized: dict[ScaledExpr, Expr] = {}

    def plain(child: Expr) -> Expr:
        """The rewritten child; a scaled one multiplied back, once however often it is used."""
        arg = memo[child]
        if not isinstance(arg, ScaledExpr):
            return arg
        if arg not in realized:
            realized[arg] = arg.realize()
        return realized[arg]

    for node in iter_post_order(expr):
        result: Arg | None = None
        if isinstance(node, Call) and isinstance(node.op, Op):
            rule = _REWRITE.get(node.op.name)
            if rule is not None:
                result = rule(node, [memo[a] for a in node.args], messages.get(node))
        memo[node] = result if result is not None else rebuild(node, plain)
    return plain(expr)
