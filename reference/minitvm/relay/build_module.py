"""``relay.build_module``: the standard optimisation pipeline and parameter binding
(``create_executor`` is re-exported here, where TVM defines it).

TVM's ``python/tvm/relay/build_module.py`` (``optimize``, ``bind_params_by_name``) and the C++
behind them: ``RelayBuildModule::OptimizeImpl`` in ``src/relay/backend/build_module.cc`` and
``GetPassPrefix`` in ``src/relay/backend/utils.cc``. ``optimize`` binds the parameters into
``main``, then runs TVM's pass sequence as one ``Sequential`` under the current PassContext
and the target, so each pass runs or not by its ``opt_level`` (``required_pass`` and
``disabled_pass`` apply), and finishes with InferType, Inline and InferType, run directly.

The sequence is TVM's for a graph-executor build on one target. Passes minitvm does not
provide are left out, in their place: see the SPEC's OPT chapter for the list.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, Sequential
from minitvm.relay import transform
from minitvm.relay.function import Function
from minitvm.relay.interpreter.executor import bind_params_by_name, create_executor
from minitvm.runtime.ndarray import NDArray
from minitvm.target import Target

if TYPE_CHECKING:
    from minitvm.relay.backend.build import GraphExecutorFactoryModule

__all__ = ["bind_params_by_name", "build", "create_executor", "optimize", "pass_sequence"]


def pass_sequence(target: Target) -> list[Pass]:
    """The passes ``optimize`` runs in one Sequential, in TVM's order (GetPassPrefix for one
    target and the graph executor, then SplitArgs and FuseOps)."""
    return [
        transform.RemoveUnusedFunctions(["main"]),
        transform.ToBasicBlockNormalForm(),
        # qnn.Legalize, Legalize: not in minitvm.
        transform.SimplifyInference(),
        # TVM passes a skip callback here, but it answers False for every expression.
        transform.EliminateCommonSubexpr(),
        transform.CombineParallelConv2D(3),
        transform.CombineParallelDense(3),
        # CombineParallelBatchMatmul: not in minitvm.
        transform.FoldConstant(),
        transform.FoldScaleAxis(),
        transform.SimplifyExpr(),
        # CanonicalizeCast: not in minitvm.
        transform.CanonicalizeOps(),
        # FlattenAtrousConv: not in minitvm.
        transform.InferType(),
        # AlterOpLayout: not in minitvm.
        transform.SimplifyExprPostAlterOp(),
        transform.FastMath(),
        transform.FoldConstant(),
        transform.SplitArgs(target.max_function_args),
        # PlanDevices: not in minitvm (one device).
        transform.FuseOps(),
    ]


def optimize(
    mod: IRModule | Function,
    target: str | Mapping[str, object] | Target | None = None,
    params: Mapping[str, object] | None = None,
) -> tuple[IRModule, dict[str, NDArray]]:
    """TVM's ``relay.optimize``: the optimised module, and the parameters still to be passed
    at run time (none: every given parameter is bound into ``main`` as a constant).

    ``target`` (anything ``Target`` accepts) defaults to the current target, else ``llvm``.
    A Function instead of a module is accepted with a DeprecationWarning, as in TVM. The
    input is not changed.
    """
    if isinstance(mod, Function):
        if params:
            mod = bind_params_by_name(mod, params)
        mod = IRModule.from_expr(mod)
        warnings.warn(
            "relay.optimize: pass an IRModule; passing a relay.Function is deprecated",
            DeprecationWarning,
            stacklevel=2,
        )
    elif not isinstance(mod, IRModule):
        raise DiagnosticError(
            f"relay.optimize: expected an IRModule (or a relay.Function), got {type(mod).__name__}"
        )
    if params:
        main = mod["main"]
        if not isinstance(main, Function):
            raise DiagnosticError("relay.optimize: params need a Relay function @main")
        mod = mod.copy()
        mod["main"] = bind_params_by_name(main, params)
    if target is None:
        target = Target.current() or Target("llvm")
    elif not isinstance(target, Target):
        target = Target(target)
    with target:
        mod = Sequential(pass_sequence(target))(mod)
        mod = transform.InferType()(mod)
        mod = transform.Inline()(mod)
        mod = transform.InferType()(mod)
    return mod, {}


def build(
    ir_mod: IRModule | Function,
    target: str | Target | None = None,
    target_host: str | Target | None = None,
    executor: object = None,
    runtime: object = None,
    params: Mapping[str, object] | None = None,
    mod_name: str = "default",
) -> GraphExecutorFactoryModule:
    """TVM's ``relay.build``: see ``minitvm.relay.backend.build``."""
    from minitvm.relay.backend.build import build as build_graph

    return build_graph(ir_mod, target, target_host, executor, runtime, params, mod_name)
