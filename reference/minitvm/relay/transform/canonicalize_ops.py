"""CanonicalizeOps: rewrite special operators into basic ones (``nn.bias_add`` into ``add``).

TVM's ``src/relay/transforms/canonicalize_ops.cc``. ``nn.bias_add(x, b, axis)`` becomes
``add(x, expand_dims(b, axis=1, num_newaxis=ndim - axis - 1))`` (no ``expand_dims`` when
``axis`` is the last axis), so later passes see a plain broadcasting ``add``. The rewrite
reads the data's checked type, so the pass types an untyped module first. It is a
FunctionPass at opt_level 3 requiring InferType.
"""

from __future__ import annotations

from typing_extensions import override

from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.ir.type import TensorType
from minitvm.relay.expr import Call, Expr
from minitvm.relay.expr_functor import ExprMutator, rebuild
from minitvm.relay.function import Function
from minitvm.relay.op.defs.nn import BiasAddAttrs
from minitvm.relay.op.tensor import add
from minitvm.relay.transform.function_pass import FunctionPass
from minitvm.relay.transform.pattern_utils import expand_bias_to_match_axis

__all__ = ["CanonicalizeOps", "canonicalize_ops"]


def bias_add_to_add(pre: Call, post: Call) -> Expr:
    """``post`` (a ``bias_add``) as an ``add``; the data's type is read from ``pre``."""
    ty = pre.args[0].checked_type_
    if not isinstance(ty, TensorType):
        found = "none (run InferType first)" if ty is None else str(ty)
        raise DiagnosticError(f"CanonicalizeOps: nn.bias_add needs typed data, found {found}")
    attrs = post.attrs if post.attrs is not None else BiasAddAttrs()
    if not isinstance(attrs, BiasAddAttrs):
        raise DiagnosticError(f"CanonicalizeOps: nn.bias_add with {type(attrs).__name__}")
    ndim = len(ty.shape)
    axis = attrs.axis + ndim if attrs.axis < 0 else attrs.axis
    data, bias = post.args
    return add(data, expand_bias_to_match_axis(bias, ndim, [axis]))


class _BiasAddSimplifier(ExprMutator):
    @override
    def visit_call(self, call: Call) -> Expr:
        post = rebuild(call, self.visit)
        if call.op is Op.get("nn.bias_add"):
            assert isinstance(post, Call)
            return bias_add_to_add(call, post)
        return post


def canonicalize_ops(expr: Expr) -> Expr:
    """``expr`` with every ``nn.bias_add`` rewritten (types must be checked)."""
    return _BiasAddSimplifier().visit(expr)


def _transform_function(func: Function, mod: IRModule, ctx: PassContext) -> Function:
    out = canonicalize_ops(func)
    if not isinstance(out, Function):
        raise InternalError("CanonicalizeOps turned a function into a non-function")
    return out


def CanonicalizeOps() -> FunctionPass:  # noqa: N802  (TVM's name)
    """The function pass (opt_level 3, requires InferType), then InferType."""
    info = PassInfo(3, "CanonicalizeOps", ("InferType",))
    return FunctionPass(_transform_function, info, needs_types=True)


register_pass("CanonicalizeOps", CanonicalizeOps)
