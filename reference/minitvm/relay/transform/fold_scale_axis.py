"""FoldScaleAxis: fold per-channel scales into the weights of convolutions and dense layers
(TVM ``src/relay/transforms/fold_scale_axis.cc``).

``BackwardFoldScaleAxis`` folds a scale applied to a layer's output (``conv(x, w) * s``),
``ForwardFoldScaleAxis`` one applied to its input (``conv(x * s, w)``); see their modules.
Both are FunctionPasses at opt_level 3 that require InferType. ``FoldScaleAxis`` is TVM's
``Sequential`` of backward, forward and FoldConstant (which then computes the scaled weights
of constant parameters), named ``FoldScaleAxis``: like any Sequential it runs only the passes
the current PassContext enables, so at the default opt_level 2 only FoldConstant runs.
"""

from __future__ import annotations

from collections.abc import Callable

from minitvm.error import InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassContext, PassInfo, Sequential, register_pass
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.transform.fold_constant import FoldConstant
from minitvm.relay.transform.fold_scale_axis_backward import backward_fold_scale_axis
from minitvm.relay.transform.fold_scale_axis_forward import forward_fold_scale_axis
from minitvm.relay.transform.function_pass import FunctionPass

__all__ = ["BackwardFoldScaleAxis", "FoldScaleAxis", "ForwardFoldScaleAxis"]


def _function_pass(name: str, fold: Callable[[Expr], Expr]) -> FunctionPass:
    def run(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        out = fold(func)
        if not isinstance(out, Function):
            raise InternalError(f"{name} turned a function into a non-function")
        return out

    return FunctionPass(run, PassInfo(3, name, ["InferType"]), needs_types=True)


def ForwardFoldScaleAxis() -> FunctionPass:  # noqa: N802  (TVM's name)
    """Fold scales of a layer's input into its weight."""
    return _function_pass("ForwardFoldScaleAxis", forward_fold_scale_axis)


def BackwardFoldScaleAxis() -> FunctionPass:  # noqa: N802  (TVM's name)
    """Fold scales of a layer's output into its weight (TVM runs it before the forward one)."""
    return _function_pass("BackwardFoldScaleAxis", backward_fold_scale_axis)


def FoldScaleAxis() -> Sequential:  # noqa: N802  (TVM's name)
    """Backward, then forward folding, then FoldConstant."""
    passes = [BackwardFoldScaleAxis(), ForwardFoldScaleAxis(), FoldConstant()]
    return Sequential(passes, name="FoldScaleAxis")


register_pass("ForwardFoldScaleAxis", ForwardFoldScaleAxis)
register_pass("BackwardFoldScaleAxis", BackwardFoldScaleAxis)
register_pass("FoldScaleAxis", FoldScaleAxis)
