"""The call graph of a module's global functions (TVM's ``analysis/call_graph.cc``).

An edge goes from a Relay function to every global it mentions anywhere in its body (called,
passed as a value, or inside a nested function), once per distinct global, as TVM's call graph
records each GlobalVar it meets once. Globals are identified by name. PrimFuncs are nodes with
no outgoing edges.
"""

from __future__ import annotations

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function

__all__ = ["CallGraph", "referenced_globals"]


def referenced_globals(expr: Expr) -> list[str]:
    """Names of the globals occurring in ``expr``, in first-occurrence (post-order) order."""
    names: dict[str, None] = {}
    for node in iter_post_order(expr):
        if isinstance(node, GlobalVar):
            names.setdefault(node.name_hint, None)
    return list(names)


class CallGraph:
    """``relay.analysis.CallGraph(module)``: who refers to whom among global functions."""

    def __init__(self, module: IRModule) -> None:
        self.module = module
        self._callees: dict[str, list[str]] = {}
        self._ref_count: dict[str, int] = {gv.name_hint: 0 for gv in module}
        for gv, func in module.functions.items():
            callees = referenced_globals(func) if isinstance(func, Function) else []
            self._callees[gv.name_hint] = callees
            for callee in callees:
                self._ref_count[callee] = self._ref_count.get(callee, 0) + 1

    def _name(self, var: GlobalVar | str) -> str:
        name = var.name_hint if isinstance(var, GlobalVar) else var
        if name not in self._ref_count:
            raise DiagnosticError(f"CallGraph: @{name} is not in the call graph")
        return name

    def callees(self, var: GlobalVar | str) -> list[str]:
        """The globals ``var``'s function refers to, once each."""
        return list(self._callees.get(self._name(var), ()))

    def global_call_count(self, var: GlobalVar | str) -> int:
        """How many distinct globals ``var``'s function refers to."""
        return len(self.callees(var))

    def ref_count(self, var: GlobalVar | str) -> int:
        """How many functions refer to ``var`` (itself included, when recursive)."""
        return self._ref_count[self._name(var)]

    def is_recursive(self, var: GlobalVar | str) -> bool:
        """Whether ``var``'s function refers to itself directly."""
        name = self._name(var)
        return name in self._callees.get(name, ())

    def post_order(self) -> list[str]:
        """Every function once, each after the functions it refers to (callees first); within a
        cycle the order follows the module's order. Depth-first, with an explicit stack."""
        order: list[str] = []
        seen: set[str] = set()
        for root in self._callees:
            if root in seen:
                continue
            seen.add(root)
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                name, next_index = stack.pop()
                callees = self._callees.get(name, [])
                if next_index < len(callees):
                    stack.append((name, next_index + 1))
                    callee = callees[next_index]
                    if callee not in seen and callee in self._callees:
                        seen.add(callee)
                        stack.append((callee, 0))
                else:
                    order.append(name)
        return order

    def print_var(self, var: GlobalVar | str) -> str:
        """One function's entry: its reference count and the globals it refers to."""
        name = self._name(var)
        lines = [f"Call graph node: {name}, #refs = {self._ref_count[name]}"]
        lines += [f"  calls {callee}" for callee in self._callees.get(name, ())]
        return "\n".join(lines)

    @override
    def __str__(self) -> str:
        return "CallGraph:\n" + "\n".join(self.print_var(name) for name in self.post_order())
