"""Helpers for tests written in TVM's style (``tvm.relay.testing``)."""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, Sequential
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.testing import (
    dcgan,
    densenet,
    dqn,
    inception_v3,
    init,
    layers,
    lstm,
    mlp,
    mobilenet,
    resnet,
    squeezenet,
    vgg,
)
from minitvm.relay.testing.check_grad import check_grad
from minitvm.relay.testing.helpers import count_ops, rand
from minitvm.relay.testing.init import create_workload
from minitvm.relay.testing.nat import count, make_nat_expr, make_nat_value
from minitvm.relay.transform.gradient import gradient
from minitvm.relay.transform.type_infer import InferType

__all__ = [
    "check_grad",
    "count",
    "count_ops",
    "create_workload",
    "dcgan",
    "densenet",
    "gradient",
    "dqn",
    "inception_v3",
    "init",
    "layers",
    "lstm",
    "make_nat_expr",
    "make_nat_value",
    "mlp",
    "mobilenet",
    "rand",
    "resnet",
    "run_infer_type",
    "run_opt_pass",
    "squeezenet",
    "vgg",
]


def run_opt_pass(expr: Expr, opt_pass: Pass | Sequence[Pass], import_prelude: bool = False) -> Expr:
    """Wrap ``expr`` in a module (``IRModule.from_expr``), type it, run the pass (a list of
    passes runs as a ``Sequential``), and return ``main``, or ``main``'s body when ``expr``
    was not a function, as TVM's helper does."""
    passes = opt_pass if isinstance(opt_pass, Pass) else Sequential(list(opt_pass))
    mod = IRModule.from_expr(expr)
    if import_prelude:
        mod.import_from_std("prelude.rly")
    mod = InferType()(mod)
    mod = passes(mod)
    entry = mod["main"]
    if not isinstance(entry, Function):
        raise TVMError(f"run_opt_pass: @main is a {type(entry).__name__}, not a Relay function")
    return entry if isinstance(expr, Function) else entry.body


def run_infer_type(expr: Expr) -> Expr:
    """``expr`` typed by InferType (through ``run_opt_pass``)."""
    return run_opt_pass(expr, InferType())
