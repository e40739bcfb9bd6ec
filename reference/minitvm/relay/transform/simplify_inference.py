"""SimplifyInference: rewrite the normalisation and dropout operators into plain arithmetic.

TVM's ``src/relay/transforms/simplify_inference.cc``. At inference time these operators are
fixed arithmetic on their inputs, which later passes (FoldConstant, FoldScaleAxis, FuseOps)
understand better than the opaque operators:

* ``batch_norm(x, gamma, beta, mean, var).0`` becomes ``x * scale + shift`` with
  ``scale = 1 / sqrt(var + eps) * gamma`` and ``shift = -mean * scale + beta`` (each factor
  only when ``scale`` / ``center`` is set), both expanded to line up with ``axis``. Only the
  first output is rewritten; a ``batch_norm`` whose other outputs are used stays for them.
* ``dropout(x).0`` becomes ``x``.
* ``layer_norm``, ``instance_norm`` and ``group_norm`` become
  ``(x - mean) / sqrt(variance + eps)`` over their axes (``group_norm`` through a reshape
  that splits the channels into groups), times ``gamma`` and plus ``beta``.

The constants (``eps``, ``1``) are built as TVM builds them, in the data's dtype from a
float32 value. The rewrite reads the data's checked type, so the pass types an untyped module
first. It is a FunctionPass at opt_level 0 requiring InferType, walked bottom-up by the
iterative ``ExprMutator``.
"""

from __future__ import annotations

from typing import TypeVar

from typing_extensions import override

from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.attrs import Attrs
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.ir.type import TensorType
from minitvm.relay.expr import Call, Expr, TupleGetItem
from minitvm.relay.expr_functor import ExprMutator, rebuild
from minitvm.relay.function import Function
from minitvm.relay.op.defs.norm import (
    BatchNormAttrs,
    GroupNormAttrs,
    InstanceNormAttrs,
    LayerNormAttrs,
)
from minitvm.relay.op.defs.reduce import VarianceAttrs
from minitvm.relay.op.reduce import mean
from minitvm.relay.op.tensor import add, divide, multiply, negative, sqrt, subtract
from minitvm.relay.op.transform import reshape
from minitvm.relay.transform.function_pass import FunctionPass
from minitvm.relay.transform.pattern_utils import expand_bias_to_match_axis, make_constant_scalar

__all__ = ["SimplifyInference", "simplify_inference"]

_A = TypeVar("_A", bound=Attrs)


def _data_type(call: Call) -> TensorType:
    ty = call.args[0].checked_type_
    if not isinstance(ty, TensorType):
        name = call.op.name if isinstance(call.op, Op) else "the operator"
        raise DiagnosticError(
            f"SimplifyInference: the data of {name} needs a tensor type, found "
            f"{'none (run InferType first)' if ty is None else ty}"
        )
    return ty


def _attrs(call: Call, kind: type[_A]) -> _A:
    """The call's attrs; a call built without attrs has the defaults, as its relation does."""
    attrs = call.attrs
    if attrs is None:
        return kind()
    if not isinstance(attrs, kind):
        raise DiagnosticError(
            f"SimplifyInference: {call.op} expects {kind.__name__}, got {type(attrs).__name__}"
        )
    return attrs


def _variance(data: Expr, mean_: Expr, axes: tuple[int, ...]) -> Call:
    """TVM's ``Variance`` helper: the two-input ``variance`` operator, biased, dims kept."""
    return Call(Op.get("variance"), [data, mean_], VarianceAttrs(axes, True, False, False))


def _normalize(data: Expr, axes: tuple[int, ...], dtype: str, epsilon: float) -> Expr:
    """``(data - mean) / sqrt(var + eps)`` over ``axes``, statistics with dims kept."""
    eps = make_constant_scalar(dtype, epsilon)
    mu = mean(data, axes, keepdims=True)
    var = _variance(data, mu, axes)
    return divide(subtract(data, mu), sqrt(add(var, eps)))


def _scale_center(
    out: Expr, gamma: Expr, beta: Expr, ndim: int, axis: int, scale: bool, center: bool
) -> Expr:
    if scale:
        out = multiply(out, expand_bias_to_match_axis(gamma, ndim, [axis]))
    if center:
        out = add(out, expand_bias_to_match_axis(beta, ndim, [axis]))
    return out


def batch_norm_to_infer(call: Call, ty: TensorType) -> Expr:
    """The first output of an inference ``batch_norm`` as arithmetic (TVM's
    ``BatchNormToInferUnpack``); ``ty`` is the data's type."""
    attrs = _attrs(call, BatchNormAttrs)
    data, gamma, beta, moving_mean, moving_var = call.args
    eps = make_constant_scalar(ty.dtype, attrs.epsilon)
    scale: Expr = divide(make_constant_scalar(ty.dtype, 1.0), sqrt(add(moving_var, eps)))
    if attrs.scale:
        scale = multiply(scale, gamma)
    shift: Expr = multiply(negative(moving_mean), scale)
    if attrs.center:
        shift = add(shift, beta)
    ndim = len(ty.shape)
    axis = attrs.axis + ndim if attrs.axis < 0 else attrs.axis
    scale = expand_bias_to_match_axis(scale, ndim, [axis])
    shift = expand_bias_to_match_axis(shift, ndim, [axis])
    return add(multiply(data, scale), shift)


def layer_norm_to_infer(call: Call, ty: TensorType) -> Expr:
    attrs = _attrs(call, LayerNormAttrs)
    data, gamma, beta = call.args
    ndim = len(ty.shape)
    out = _normalize(data, (attrs.axis,), ty.dtype, attrs.epsilon)
    axis = attrs.axis + ndim if attrs.axis < 0 else attrs.axis
    return _scale_center(out, gamma, beta, ndim, axis, attrs.scale, attrs.center)


def instance_norm_to_infer(call: Call, ty: TensorType) -> Expr:
    attrs = _attrs(call, InstanceNormAttrs)
    data, gamma, beta = call.args
    ndim = len(ty.shape)
    axis = attrs.axis + ndim if attrs.axis < 0 else attrs.axis
    reduced = tuple(i for i in range(1, ndim) if i != axis)
    out = _normalize(data, reduced, ty.dtype, attrs.epsilon)
    return _scale_center(out, gamma, beta, ndim, axis, attrs.scale, attrs.center)


def group_norm_to_infer(call: Call, ty: TensorType) -> Expr:
    """Split the channel axis ``C`` into ``(groups, C / groups)`` and normalise each group
    over its channels and every later axis, then restore the shape."""
    attrs = _attrs(call, GroupNormAttrs)
    data, gamma, beta = call.args
    ndim = len(ty.shape)
    axis = attrs.axis + ndim if attrs.axis < 0 else attrs.axis
    groups = attrs.num_groups
    grouped: list[int] = []
    reduced: list[int] = []
    for i, extent in enumerate(ty.shape):
        if i == axis:
            grouped += [groups, extent // groups]
            reduced.append(i + 1)
        else:
            if i > axis:
                reduced.append(i + 1)
            grouped.append(extent)
    empty = 0 in ty.shape  # a literal 0 extent, not reshape's "copy this dimension"
    out = _normalize(reshape(data, grouped, empty), tuple(reduced), ty.dtype, attrs.epsilon)
    out = reshape(out, list(ty.shape), empty)
    return _scale_center(out, gamma, beta, ndim, axis, attrs.scale, attrs.center)


_NORMS = {
    "nn.layer_norm": layer_norm_to_infer,
    "nn.instance_norm": instance_norm_to_infer,
    "nn.group_norm": group_norm_to_infer,
}


class _InferenceSimplifier(ExprMutator):
    @override
    def visit_tuple_getitem(self, item: TupleGetItem) -> Expr:
        post = rebuild(item, self.visit)
        assert isinstance(post, TupleGetItem)
        call, pre = post.tuple_value, item.tuple_value
        if post.index != 0 or not isinstance(call, Call) or not isinstance(pre, Call):
            return post
        if call.op is Op.get("nn.batch_norm"):
            return batch_norm_to_infer(call, _data_type(pre))
        if call.op is Op.get("nn.dropout"):
            return call.args[0]
        return post

    @override
    def visit_call(self, call: Call) -> Expr:
        post = rebuild(call, self.visit)
        op = call.op
        if isinstance(op, Op) and op.name in _NORMS:
            assert isinstance(post, Call)
            return _NORMS[op.name](post, _data_type(call))
        return post


def simplify_inference(expr: Expr) -> Expr:
    """``expr`` with its inference-time operators rewritten (types must be checked)."""
    return _InferenceSimplifier().visit(expr)


def _transform_function(func: Function, mod: IRModule, ctx: PassContext) -> Function:
    out = simplify_inference(func)
    if not isinstance(out, Function):
        raise InternalError("SimplifyInference turned a function into a non-function")
    return out


def SimplifyInference() -> FunctionPass:  # noqa: N802  (TVM's name)
    """The function pass (opt_level 0, requires InferType), then InferType."""
    info = PassInfo(0, "SimplifyInference", ("InferType",))
    return FunctionPass(_transform_function, info, needs_types=True)


register_pass("SimplifyInference", SimplifyInference)
