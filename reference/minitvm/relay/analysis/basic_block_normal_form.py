"""check_basic_block_normal_form (TVM's ``BasicBlockNormalFormCheck``).

An expression is in basic block normal form when no compound sub-expression, and no free
variable, is used from more than one basic block (If branch or function body). The check
computes scopes as the normal-form passes do and reports the first lifted expression.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.relay.analysis.scope import calc_scope
from minitvm.relay.expr import Call, Expr, Var
from minitvm.relay.expr_functor import post_order

__all__ = ["check_basic_block_normal_form"]


def _describe(expr: Expr) -> str:
    match expr:
        case Var():
            return f"free variable %{expr.name_hint}"
        case Call(op=Op() as op):
            return f"call of {op.name}"
        case Call(op=GlobalVar() as gv):
            return f"call of @{gv.name_hint}"
        case _:
            return type(expr).__name__


def check_basic_block_normal_form(expr: Expr) -> bool:
    """True when ``expr`` is in basic block normal form; otherwise raises DiagnosticError
    naming a sub-expression that is shared between blocks and should have been bound."""
    lifted = calc_scope(expr).lifted
    if lifted:
        first = next(e for e in post_order(expr) if e in lifted)
        raise DiagnosticError(
            "basic block normal form: expected every value shared between blocks (If "
            f"branches, function bodies) to be let-bound, but a {_describe(first)} is used "
            "from several blocks; its scope should be lifted"
        )
    return True
