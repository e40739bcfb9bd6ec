"""Inline: replace references to global functions marked ``Inline=1`` by their definitions.

TVM's ``transforms/inline.cc``. Functions are rewritten callees first (``CallGraph``), so by the
time a caller is rewritten its callees have had their own inlining done. A global can be
inlined when it is a Relay function marked ``Inline``, and, after its own rewriting, it refers
to no global at all (so it is not recursive, and everything it called was inlined into it).

At each inlinable reference:

* a call ``@g(args)`` becomes ``g``'s body with the parameters bound to the (rewritten)
  arguments; the body's own let variables and nested parameters are renamed for each copy, so
  inlining a function twice into one caller keeps the program well formed (TVM's ``Bind``
  does not rename; the result differs from TVM's only in variable identity);
* if ``g`` is for an external compiler (``Compiler`` attribute, or ``Extern``), the call becomes
  a call of a copy of the function itself, keeping its attributes;
* a bare ``@g`` not in call position (an ``If`` choosing between globals, a global passed as an
  argument) becomes a copy of the function, a closure.

Afterwards an ``Inline`` function is removed when it was referred to by some other function and
no remaining function refers to it any more; entry functions (referred to by none) and
recursive functions stay. A module pass at opt_level 1 named ``InlineGlobals``, as in TVM; it
does not type-check its result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, PassContext, PassInfo, register_pass
from minitvm.relay.analysis.call_graph import CallGraph, referenced_globals
from minitvm.relay.analysis.purity import has_nonzero_attr
from minitvm.relay.expr import Call, Expr, Var
from minitvm.relay.expr_functor import ExprMutator
from minitvm.relay.function import Function

__all__ = ["Inline", "bind_fresh"]


class _FreshBinder(ExprMutator):
    """Substitute variables and give every other variable (the expression's own binders) a
    fresh copy, consistently across all its occurrences."""

    def __init__(self, bindings: Mapping[Var, Expr]) -> None:
        super().__init__()
        self.bindings = bindings

    @override
    def visit_var(self, var: Var) -> Expr:
        bound = self.bindings.get(var)
        if bound is not None:
            return bound
        return Var(var.name_hint, var.type_annotation, span=var.span)


def bind_fresh(body: Expr, bindings: Mapping[Var, Expr]) -> Expr:
    """``body`` with ``bindings`` substituted and every variable it binds renamed."""
    return _FreshBinder(bindings).visit(body)


class _Inliner(ExprMutator):
    """Rewrite one caller, inlining the references to the globals in ``inlinable``."""

    def __init__(self, mod: IRModule, inlinable: set[str], closures: dict[str, Function]) -> None:
        super().__init__()
        self.mod = mod
        self.inlinable = inlinable
        self.closures = closures

    def _function(self, gv: GlobalVar) -> Function:
        func = self.mod[gv.name_hint]
        assert isinstance(func, Function)  # only Relay functions are inlinable
        return func

    def _closure(self, gv: GlobalVar) -> Function:
        """The copy of the function put where it is used as a value (one per global)."""
        closure = self.closures.get(gv.name_hint)
        if closure is None:
            f = self._function(gv)
            closure = Function(f.params, f.body, f.ret_type, f.type_params, f.attrs, f.span)
            self.closures[gv.name_hint] = closure
        return closure

    @override
    def visit_global_var(self, gv: GlobalVar) -> Expr:
        return self._closure(gv) if gv.name_hint in self.inlinable else gv

    @override
    def visit_call(self, call: Call) -> Expr:
        op = call.op
        if not (isinstance(op, GlobalVar) and op.name_hint in self.inlinable):
            return super().visit_call(call)
        args = [self.visit(arg) for arg in call.args]
        func = self._function(op)
        if func.attrs.get("Compiler") is not None or has_nonzero_attr(func, "Extern"):
            return Call(self._closure(op), args, call.attrs, call.type_args, call.span)
        if len(args) != len(func.params):
            raise DiagnosticError(
                f"Inline: @{op.name_hint} takes {len(func.params)} arguments but is called "
                f"with {len(args)}"
            )
        return bind_fresh(func.body, dict(zip(func.params, args, strict=True)))


def inline_globals(mod: IRModule) -> IRModule:
    """The module with every inlinable global inlined and then removed where unused."""
    graph = CallGraph(mod)
    result = mod.copy()
    refs = {name: set(graph.callees(name)) for name in graph.post_order()}
    closures: dict[str, Function] = {}

    def can_inline(name: str) -> bool:
        func = result[name] if result.contains_global_var(name) else None
        return isinstance(func, Function) and has_nonzero_attr(func, "Inline") and not refs[name]

    for name in graph.post_order():
        func = result[name]
        if not isinstance(func, Function):
            continue
        inlinable = {callee for callee in refs[name] if callee != name and can_inline(callee)}
        if not inlinable:
            continue
        new_func = _Inliner(result, inlinable, closures).visit(func)
        assert isinstance(new_func, Function)
        result[name] = new_func
        refs[name] = set(referenced_globals(new_func))

    still_referenced = {callee for name, callees in refs.items() for callee in callees}
    for gv in mod.get_global_vars():
        name = gv.name_hint
        func = result[name]
        if (
            isinstance(func, Function)
            and has_nonzero_attr(func, "Inline")
            and graph.ref_count(name) > 0  # an entry function stays
            and not graph.is_recursive(name)
            and name not in still_referenced
        ):
            result.remove(gv)
    return result


@dataclass(frozen=True, slots=True, repr=False)
class Inline(Pass):
    """``relay.transform.Inline()``."""

    @override
    @property
    def info(self) -> PassInfo:
        return PassInfo(1, "InlineGlobals")

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        return inline_globals(mod)


register_pass("InlineGlobals", Inline)
