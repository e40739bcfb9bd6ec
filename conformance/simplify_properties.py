"""The properties every simplification pass keeps, checked on one program: the interpreter's
results (exactly, or within ``rtol`` where the pass reassociates floating-point arithmetic),
the signature of ``main``, well-formedness, the input left untouched, and idempotence (or,
for a pass that is not idempotent on the program, reaching a fixed point)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy.typing as npt

import minitvm as tvm
from conformance.helpers import assert_same_results, run_main
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass
from minitvm.relay.analysis import well_formed
from minitvm.relay.function import Function

__all__ = ["check_pass_properties"]


def _main(mod: IRModule) -> Function:
    main = mod["main"]
    assert isinstance(main, Function)
    return main


def check_pass_properties(
    make_pass: Callable[[], Pass],
    mod: IRModule,
    inputs: dict[str, npt.NDArray[Any]],
    rtol: float = 0.0,
    opt_level: int = 2,
    idempotent: bool = True,
) -> IRModule:
    """Run the pass on ``mod`` (typed first) under ``opt_level`` and check the properties;
    return the pass's result. With ``idempotent=False`` the pass is run again until nothing
    changes (at most ten times), each result checked like the first."""
    typed = relay.transform.InferType()(mod)
    text, functions = typed.astext(), typed.functions
    want = run_main(typed, inputs)
    with tvm.transform.PassContext(opt_level=opt_level):
        out = make_pass()(typed)
        again = make_pass()(out)
    if not idempotent:
        for _ in range(10):
            if tvm.ir.structural_equal(again, out):
                break
            _check_result(typed, out, inputs, want, rtol)
            with tvm.transform.PassContext(opt_level=opt_level):
                out, again = again, make_pass()(again)
    assert typed.functions == functions
    assert typed.astext() == text
    _check_result(typed, out, inputs, want, rtol)
    tvm.ir.assert_structural_equal(again, out)
    return out


def _check_result(
    typed: IRModule,
    out: IRModule,
    inputs: dict[str, npt.NDArray[Any]],
    want: list[npt.NDArray[Any]],
    rtol: float,
) -> None:
    retyped = relay.transform.InferType()(out)
    assert _main(retyped).checked_type == _main(typed).checked_type
    for func in retyped.functions.values():
        assert isinstance(func, Function)
        assert well_formed(func)
    assert_same_results(run_main(retyped, inputs), want, rtol=rtol)
