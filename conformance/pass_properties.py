"""The properties every optimization pass must have, checked on one program.

``check_pass(pass, mod, inputs)`` runs the pass on the typed module and asserts that the input
is untouched, the output is well formed and type-checks with the same signature for ``main``,
it computes the same results (exactly, or within ``rtol``), and running the pass again changes
nothing. It returns the output for pass-specific checks.
"""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

import minitvm as tvm
from conformance.helpers import assert_same_results, run_main
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass
from minitvm.relay.analysis import well_formed
from minitvm.relay.function import Function

__all__ = ["check_pass", "main_of"]


def main_of(mod: IRModule) -> Function:
    main = mod["main"]
    assert isinstance(main, Function)
    return main


def check_pass(
    p: Pass, mod: IRModule, inputs: dict[str, npt.NDArray[Any]], rtol: float = 0.0
) -> IRModule:
    typed = relay.transform.InferType()(mod)
    text, functions = typed.astext(), typed.functions
    want = run_main(typed, inputs)
    out = p(typed)
    assert typed.astext() == text
    assert typed.functions == functions
    retyped = relay.transform.InferType()(out)
    assert main_of(retyped).checked_type == main_of(typed).checked_type
    for func in retyped.functions.values():
        assert isinstance(func, Function)
        assert well_formed(func)
    assert_same_results(run_main(retyped, inputs), want, rtol=rtol)
    tvm.ir.assert_structural_equal(p(out), out)
    return out
