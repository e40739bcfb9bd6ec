"""DefuseOps: the inverse of FuseOps.

TVM's ``src/relay/transforms/defuse_ops.cc``. Bottom-up, every call whose callee is a function
literal (a fused primitive function, or any other) is replaced by the function's body with its
parameters replaced by the call's arguments, so ``DefuseOps(FuseOps(p))`` is ``p`` again, up to
structural equality (``annotation.stop_fusion``, which FuseOps drops, does not come back).

TVM matches parameters to arguments by name and rejects a function with two parameters of the
same name; minitvm substitutes by variable identity, which agrees with TVM on every function
TVM accepts. Arguments are shared, not copied. The rewrite is iterative. DefuseOps is a function
pass at opt_level 3 that requires InferType and type-checks its result.
"""

from __future__ import annotations

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassContext, register_pass
from minitvm.relay.expr import Call, Expr, Var
from minitvm.relay.expr_functor import ExprMutator, rebuild
from minitvm.relay.function import Function
from minitvm.relay.transform.function_pass import FunctionPass, function_pass

__all__ = ["DefuseOps", "defuse_ops"]


class _Substitute(ExprMutator):
    """Replace the given variables (a function's parameters) by expressions."""

    def __init__(self, subst: dict[Var, Expr]) -> None:
        super().__init__()
        self.subst = subst

    @override
    def visit_var(self, var: Var) -> Expr:
        return self.subst.get(var, var)


class _DefuseMutator(ExprMutator):
    @override
    def visit_call(self, call: Call) -> Expr:
        new = rebuild(call, self.visit)
        assert isinstance(new, Call)
        func = new.op
        if not isinstance(func, Function):
            return new
        if len(func.params) != len(new.args):
            raise DiagnosticError(
                f"DefuseOps: a function of {len(func.params)} parameters is called with "
                f"{len(new.args)} arguments"
            )
        subst = dict(zip(func.params, new.args, strict=True))
        return _Substitute(subst).visit(func.body)


def defuse_ops(expr: Expr) -> Expr:
    """Inline every call of a function literal in ``expr`` (TVM's ``relay::DefuseOps``)."""
    return _DefuseMutator().visit(expr)


def DefuseOps() -> FunctionPass:  # noqa: N802  (TVM's name)
    """Undo FuseOps: inline the fused functions back into their callers."""

    def transform(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        defused = defuse_ops(func)
        assert isinstance(defused, Function)
        return defused

    return function_pass(transform, opt_level=3, name="DefuseOps", required=["InferType"])


register_pass("DefuseOps", DefuseOps)
