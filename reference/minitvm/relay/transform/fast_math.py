"""FastMath: replace transcendental operators by their fast approximations.

TVM's ``src/relay/transforms/fast_math.cc``: ``exp``, ``erf``, ``tanh`` and ``nn.softmax``
become ``fast_exp``, ``fast_erf``, ``fast_tanh`` and ``nn.fast_softmax`` (same arguments and
attributes). TVM's fast kernels approximate; minitvm's reference kernels for them compute
the exact functions (OP chapter), so the interpreter's results do not change. A FunctionPass
at opt_level 4 requiring InferType.
"""

from __future__ import annotations

from typing_extensions import override

from minitvm.error import InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.relay.expr import Call, Expr
from minitvm.relay.expr_functor import ExprMutator, rebuild
from minitvm.relay.function import Function
from minitvm.relay.transform.function_pass import FunctionPass

__all__ = ["FAST_OPS", "FastMath", "fast_math"]

FAST_OPS: dict[str, str] = {
    "exp": "fast_exp",
    "erf": "fast_erf",
    "tanh": "fast_tanh",
    "nn.softmax": "nn.fast_softmax",
}
"""Each operator FastMath replaces, and its replacement."""


class _FastMathMutator(ExprMutator):
    @override
    def visit_call(self, call: Call) -> Expr:
        post = rebuild(call, self.visit)
        op = call.op
        if isinstance(op, Op) and op.name in FAST_OPS:
            assert isinstance(post, Call)
            return Call(Op.get(FAST_OPS[op.name]), post.args, post.attrs)
        return post


def fast_math(expr: Expr) -> Expr:
    """``expr`` with the operators of ``FAST_OPS`` replaced."""
    return _FastMathMutator().visit(expr)


def _transform_function(func: Function, mod: IRModule, ctx: PassContext) -> Function:
    out = fast_math(func)
    if not isinstance(out, Function):
        raise InternalError("FastMath turned a function into a non-function")
    return out


def FastMath() -> FunctionPass:  # noqa: N802  (TVM's name)
    """The function pass (opt_level 4, requires InferType), then InferType."""
    return FunctionPass(_transform_function, PassInfo(4, "FastMath", ("InferType",)))


register_pass("FastMath", FastMath)
