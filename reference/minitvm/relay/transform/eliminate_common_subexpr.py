"""EliminateCommonSubexpr: share the operator calls and projections that compute the same value.

TVM's ``src/relay/transforms/eliminate_common_subexpr.cc``. The program is rewritten
bottom-up; a call is replaced by an earlier one when both call the same operator with equal
attributes and *equivalent* arguments, and a projection ``t.i`` by an earlier ``t.i`` of the
same (rewritten) tuple. Arguments are equivalent when they are the same node, or scalar
constants with the same dtype and bits, or tuples whose fields pairwise are. Because the
arguments were rewritten first, sharing propagates upwards: two copies of ``relu(x) + 1``
become one node used twice.

Calls with no arguments, calls of anything but an operator and calls of stateful operators are
never shared; ``fskip(expr)`` returning True keeps a call or projection out of it too.

TVM compares each call with every earlier call of the same operator; here every call is
reduced to a hashable key (operator, attrs, arguments by identity or scalar value), so the
pass is linear in the program's size. The keys give the same equivalence. The pass is a
FunctionPass at opt_level 3 requiring InferType.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
from typing_extensions import override

from minitvm.error import InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.relay.expr import Call, Constant, Expr, Tuple, TupleGetItem
from minitvm.relay.expr_functor import ExprMutator, rebuild
from minitvm.relay.function import Function
from minitvm.relay.transform.function_pass import FunctionPass

__all__ = ["EliminateCommonSubexpr", "eliminate_common_subexpr"]

SkipFunc = Callable[[Expr], bool]


def _leaf_key(expr: Expr) -> Hashable:
    """A scalar constant stands for its dtype and bits (TVM's ``IsEqualScalar``); any other
    expression for itself (expressions hash by identity)."""
    if isinstance(expr, Constant):
        data = np.asarray(expr.data)
        if data.ndim == 0:
            return ("scalar", str(data.dtype), data.tobytes())
    return expr


def _arg_key(expr: Expr) -> Hashable:
    if isinstance(expr, Tuple):
        return ("tuple", tuple(_leaf_key(f) for f in expr.fields))
    return _leaf_key(expr)


class _CommonSubexprEliminator(ExprMutator):
    def __init__(self, fskip: SkipFunc | None) -> None:
        super().__init__()
        self.fskip = fskip
        self.calls: dict[Hashable, Call] = {}
        self.projections: dict[tuple[Expr, int], TupleGetItem] = {}

    @override
    def visit_call(self, call: Call) -> Expr:
        post = rebuild(call, self.visit)
        assert isinstance(post, Call)
        op = post.op
        if not post.args or not isinstance(op, Op) or op.definition.stateful:
            return post
        if self.fskip is not None and self.fskip(post):
            return post
        key = (op, post.attrs, tuple(_arg_key(a) for a in post.args))
        return self.calls.setdefault(key, post)

    @override
    def visit_tuple_getitem(self, item: TupleGetItem) -> Expr:
        post = rebuild(item, self.visit)
        assert isinstance(post, TupleGetItem)
        if self.fskip is not None and self.fskip(post):
            return post
        return self.projections.setdefault((post.tuple_value, post.index), post)


def eliminate_common_subexpr(expr: Expr, fskip: SkipFunc | None = None) -> Expr:
    """``expr`` with equivalent calls and projections shared."""
    return _CommonSubexprEliminator(fskip).visit(expr)


def EliminateCommonSubexpr(fskip: SkipFunc | None = None) -> FunctionPass:  # noqa: N802
    """The function pass (TVM's name; opt_level 3, requires InferType), then InferType."""

    def transform(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        out = eliminate_common_subexpr(func, fskip)
        if not isinstance(out, Function):
            raise InternalError("EliminateCommonSubexpr turned a function into a non-function")
        return out

    return FunctionPass(transform, PassInfo(3, "EliminateCommonSubexpr", ("InferType",)))


register_pass("EliminateCommonSubexpr", EliminateCommonSubexpr)
