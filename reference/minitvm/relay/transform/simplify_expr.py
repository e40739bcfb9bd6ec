"""SimplifyExpr: TVM's pattern rewrites that tidy a program (``src/relay/transforms/
simplify_expr.cc``).

The rules run with the dataflow pattern rewriter (``relay.dataflow_rewrite``), in TVM v0.14's
order, repeated until none applies:

1. ``*_like`` operators whose target type is known become their explicit forms:
   ``zeros_like``/``ones_like``/``full_like`` to ``zeros``/``ones``/``full``,
   ``reshape_like`` to ``reshape``, ``collapse_sum_like`` to ``collapse_sum_to``,
   ``broadcast_to_like`` to ``broadcast_to``, ``cast_like`` to ``cast``;
2. arithmetic: ``x + x`` to ``x * 2``, ``n / sqrt(x)`` to ``n * rsqrt(x)``, identities
   (``x + 0``, ``x * 1``...), a ``full`` operand of an elementwise operation to a scalar,
   ``(x + c1) * c2`` to ``x * c2 + c1 * c2``, ``x * c1 * c2`` to ``x * (c1 * c2)`` (and for
   ``+``), binomials to products (``simplify_arith``);
3. consecutive ``reshape`` calls to one, consecutive transposes and layout transforms to one,
   identity transposes removed (``simplify_transpose``);
4. casts and clips (``simplify_cast``).

Skipped from TVM's list: ``contrib_reverse_reshape`` in the reshape rule and the
``qnn.dequantize`` + ``argmax``/``argmin``/``argsort`` rules, because minitvm has neither
operator. ``SimplifyExprPostAlterOp`` is TVM's shorter list run after AlterOpLayout.

Both are FunctionPasses at opt_level 0 that require InferType.
"""

from __future__ import annotations

from typing_extensions import override

from minitvm.error import InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.relay.dataflow_pattern import is_op, wildcard
from minitvm.relay.dataflow_rewrite import DFPatternCallback, NodeMap, rewrite
from minitvm.relay.expr import Call, Expr
from minitvm.relay.function import Function
from minitvm.relay.op.tensor import ones, zeros
from minitvm.relay.op.transform import (
    broadcast_to,
    cast,
    collapse_sum_to,
    full,
    reshape,
)
from minitvm.relay.transform.function_pass import FunctionPass
from minitvm.relay.transform.local_types import tensor_type
from minitvm.relay.transform.simplify_arith import (
    EliminateIdentityRewrite,
    FullElementwise,
    SimplifyAdd,
    SimplifyAdjacentMultiplyOrAdd,
    SimplifyBinomial,
    SimplifyRSqrt,
    SwitchAddMultiply,
)
from minitvm.relay.transform.simplify_cast import (
    SimplifyClip,
    SimplifyClipAndConsecutiveCast,
    SimplifyConsecutiveCast,
    SimplifySameCast,
)
from minitvm.relay.transform.simplify_transpose import SimplifyNoOpTranspose, SimplifyTranspose

__all__ = ["SimplifyExpr", "SimplifyExprPostAlterOp", "simplify_expr"]


class ConcretizeLike(DFPatternCallback):
    """``op_like(data, like)`` (or ``op_like(like)``) to its explicit form, built from the
    call's own type by ``make(args, shape, dtype)``."""

    def __init__(self, op_name: str, binary: bool) -> None:
        args = (wildcard(), wildcard()) if binary else (wildcard(),)
        self.pattern = is_op(op_name)(*args)

    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        raise NotImplementedError

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        assert isinstance(post, Call)
        ty = tensor_type(pre)
        return self.make(post.args, ty.shape, ty.dtype)


class ConcretizeZerosLike(ConcretizeLike):
    def __init__(self) -> None:
        super().__init__("zeros_like", binary=False)

    @override
    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        return zeros(shape, dtype)


class ConcretizeOnesLike(ConcretizeLike):
    def __init__(self) -> None:
        super().__init__("ones_like", binary=False)

    @override
    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        return ones(shape, dtype)


class ConcretizeFullLike(ConcretizeLike):
    def __init__(self) -> None:
        super().__init__("full_like", binary=True)

    @override
    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        return full(args[1], shape, dtype)


class ConcretizeReshapeLike(ConcretizeLike):
    def __init__(self) -> None:
        super().__init__("reshape_like", binary=True)

    @override
    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        return reshape(args[0], shape)


class ConcretizeCollapseSumLike(ConcretizeLike):
    def __init__(self) -> None:
        super().__init__("collapse_sum_like", binary=True)

    @override
    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        return collapse_sum_to(args[0], shape)


class ConcretizeBroadcastToLike(ConcretizeLike):
    def __init__(self) -> None:
        super().__init__("broadcast_to_like", binary=True)

    @override
    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        return broadcast_to(args[0], shape)


class ConcretizeCastLike(ConcretizeLike):
    """``cast_like`` needs only the dtype, so it is concretized whatever the shape."""

    def __init__(self) -> None:
        super().__init__("cast_like", binary=True)

    @override
    def make(self, args: tuple[Expr, ...], shape: tuple[int, ...], dtype: str) -> Expr:
        return cast(args[0], dtype)


class SimplifyReshape(DFPatternCallback):
    """``reshape(reshape(x))`` to one ``reshape`` to the final shape."""

    def __init__(self) -> None:
        self.x = wildcard()
        self.pattern = is_op("reshape")(is_op("reshape")(self.x))

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        return reshape(node_map[self.x], tensor_type(pre).shape)


def simplify_callbacks() -> list[DFPatternCallback]:
    """SimplifyExpr's rules, in TVM's order."""
    return [
        ConcretizeZerosLike(),
        ConcretizeOnesLike(),
        ConcretizeFullLike(),
        ConcretizeReshapeLike(),
        ConcretizeCollapseSumLike(),
        ConcretizeBroadcastToLike(),
        ConcretizeCastLike(),
        SimplifyAdd(),
        SimplifyRSqrt(),
        EliminateIdentityRewrite(),
        SimplifyReshape(),
        SimplifyTranspose(),
        SimplifyNoOpTranspose(),
        SimplifySameCast(),
        SimplifyConsecutiveCast(),
        FullElementwise(),
        SwitchAddMultiply(),
        SimplifyAdjacentMultiplyOrAdd(),
        SimplifyClipAndConsecutiveCast(),
        SimplifyClip(),
        SimplifyBinomial(),
    ]


def post_alter_op_callbacks() -> list[DFPatternCallback]:
    """The clean-up subset TVM runs after AlterOpLayout."""
    return [
        EliminateIdentityRewrite(),
        SimplifyReshape(),
        SimplifySameCast(),
        SimplifyConsecutiveCast(),
        SimplifyClipAndConsecutiveCast(),
        SimplifyClip(),
    ]


def simplify_expr(expr: Expr) -> Expr:
    """``expr`` (type-checked) with SimplifyExpr's rules applied to a fixed point."""
    return rewrite(simplify_callbacks(), expr)


def _simplify(func: Function, mod: IRModule, ctx: PassContext) -> Function:
    out = rewrite(simplify_callbacks(), func)
    if not isinstance(out, Function):
        raise InternalError("SimplifyExpr turned a function into a non-function")
    return out


def _simplify_post_alter_op(func: Function, mod: IRModule, ctx: PassContext) -> Function:
    out = rewrite(post_alter_op_callbacks(), func)
    if not isinstance(out, Function):
        raise InternalError("SimplifyExprPostAlterOp turned a function into a non-function")
    return out


def SimplifyExpr() -> FunctionPass:  # noqa: N802  (TVM's name)
    """Simplify the program with TVM's rewrite rules."""
    return FunctionPass(_simplify, PassInfo(0, "SimplifyExpr", ["InferType"]), needs_types=True)


def SimplifyExprPostAlterOp() -> FunctionPass:  # noqa: N802  (TVM's name)
    """The rules that clean up after AlterOpLayout: identities, reshapes, casts, clips."""
    info = PassInfo(0, "SimplifyExprPostAlterOp", ["InferType"])
    return FunctionPass(_simplify_post_alter_op, info, needs_types=True)


register_pass("SimplifyExpr", SimplifyExpr)
register_pass("SimplifyExprPostAlterOp", SimplifyExprPostAlterOp)
