"""RemoveUnusedFunctions: keep only the global functions reachable from the entry functions.

TVM's ``backend/vm/removed_unused_funcs.cc``. Reachability is over every occurrence of a
GlobalVar, not only over call targets: a global passed as an argument, chosen by an ``If`` and
then called, or referenced inside a nested function keeps its definition alive. Globals are
matched by name, as in TVM. Recursion is harmless: each function is scanned once. Only
functions are pruned; type definitions and module attributes are kept. The input module is
not changed (TVM prunes it in place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, PassContext, PassInfo, register_pass
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function

__all__ = ["RemoveUnusedFunctions", "reachable_functions"]


def reachable_functions(mod: IRModule, entry_functions: Sequence[str]) -> set[str]:
    """Names of the functions reachable from ``entry_functions`` through GlobalVar
    occurrences (the entries included)."""
    reached: set[str] = set()
    pending: list[tuple[str, str]] = []
    for name in entry_functions:
        if not mod.contains_global_var(name):
            raise DiagnosticError(
                f"RemoveUnusedFunctions: entry function @{name} is not in the module "
                f"(it has {', '.join('@' + gv.name_hint for gv in mod) or 'no functions'})"
            )
        pending.append((name, "the entry functions"))
    while pending:
        name, referrer = pending.pop()
        if name in reached:
            continue
        if not mod.contains_global_var(name):
            raise DiagnosticError(
                f"RemoveUnusedFunctions: @{referrer} refers to @{name}, which the module "
                "does not define"
            )
        reached.add(name)
        func = mod[name]
        if not isinstance(func, Function):
            continue  # a PrimFunc calls no Relay function
        for node in iter_post_order(func):
            if isinstance(node, GlobalVar) and node.name_hint not in reached:
                pending.append((node.name_hint, name))
    return reached


@dataclass(frozen=True, slots=True, repr=False, init=False)
class RemoveUnusedFunctions(Pass):
    """``relay.transform.RemoveUnusedFunctions(entry_functions=None)``: entries default to
    ``["main"]``."""

    entry_functions: tuple[str, ...]

    def __init__(self, entry_functions: Sequence[str] | None = None) -> None:
        if isinstance(entry_functions, str):
            entry_functions = [entry_functions]
        names = ("main",) if entry_functions is None else tuple(entry_functions)
        object.__setattr__(self, "entry_functions", names)

    @override
    @property
    def info(self) -> PassInfo:
        return PassInfo(1, "RemoveUnusedFunctions")

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        keep = reachable_functions(mod, self.entry_functions)
        result = mod.copy()
        for gv in mod.get_global_vars():
            if gv.name_hint not in keep:
                result.remove(gv)
        return result


register_pass("RemoveUnusedFunctions", RemoveUnusedFunctions)
