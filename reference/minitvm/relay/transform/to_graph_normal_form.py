"""ToGraphNormalForm: turn let bindings back into implicit sharing.

TVM's ``src/relay/transforms/to_graph_normal_form.cc``. Every ``let x = v; body`` is removed
and each use of ``x`` in ``body`` becomes the rewritten ``v`` itself, one shared node, so
A normal form's explicit sharing becomes the sharing of a DAG. A let whose value refers to
its own variable (a recursive function) cannot be dissolved: its uses become the expression
``let x = v; x`` instead, one node shared by all of them.

The rewrite runs on a generator trampoline, memoized by node, with let chains walked in a
loop. Recursion is detected in the same pass: a let is recursive when its variable is reached
while its value is being rewritten (in a well-formed program nothing inside the let's scope
can be reached earlier). Rewrites made while a recursive value was open may contain that
variable unbound, so they are forgotten when the value closes and redone if reached again.
Unlike TVM's mutator, variables are substituted at every use rather than memoized, so a use
of a recursive function after its let is also rewritten.

A let whose value is impure (it reads or writes a reference, or may call something that does;
``analysis.purity``) is kept as it is: dissolving it would drop the effect when the variable
is unused, or move it to the variable's first use. So is a let whose value creates a
reference: the cell's identity is the value, and a shared node used inside a closure and
outside it would be evaluated in both scopes, creating two cells. TVM dissolves every let,
which changes such programs.

The pass is a FunctionPass (opt_level 1): InferType runs on the module afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from minitvm.error import InternalError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.relay.analysis.purity import let_purity
from minitvm.relay.expr import Constant, Expr, Let, RefCreate, Var
from minitvm.relay.expr_functor import children, rebuild
from minitvm.relay.function import Function
from minitvm.relay.transform.function_pass import FunctionFunc, FunctionPass
from minitvm.relay.transform.trampoline import Step, drive

__all__ = ["ToGraphNormalForm", "to_graph_normal_form"]


class _GraphNormalForm:
    def __init__(self, keep: Callable[[Var], bool]) -> None:
        self._keep = keep
        """Whether a let must stay (its value has an effect)."""
        self._var_map: dict[Var, Expr] = {}
        self._memo: dict[Expr, Expr] = {}
        self._log: list[Expr] = []
        """Memoized nodes in the order they were rewritten, to forget a recursive value's."""
        self._open: set[Var] = set()
        """Let variables whose value is being rewritten."""
        self._recursive: set[Var] = set()

    def run(self, expr: Expr) -> Expr:
        return drive(self._start(expr), self._resolve)

    def _start(self, expr: Expr) -> Step[Expr, Expr]:
        return (yield expr)

    def _resolve(self, expr: Expr) -> Step[Expr, Expr] | Expr:
        match expr:
            case Var():
                mapped = self._var_map.get(expr)
                if mapped is not None:
                    return mapped
                if expr in self._open:
                    self._recursive.add(expr)
                return expr
            case GlobalVar() | Constant() | Op() | Constructor():
                return expr
            case _:
                done = self._memo.get(expr)
                return done if done is not None else self._memoized(expr)

    def _remember(self, expr: Expr, result: Expr) -> None:
        self._memo[expr] = result
        self._log.append(expr)

    def _memoized(self, expr: Expr) -> Step[Expr, Expr]:
        if isinstance(expr, Let):
            result = yield from self._visit_let(expr)
        else:
            rewritten: dict[Expr, Expr] = {}
            for child in children(expr):
                rewritten[child] = yield child
            result = rebuild(expr, rewritten.__getitem__)
        self._remember(expr, result)
        return result

    def _visit_let(self, let: Let) -> Step[Expr, Expr]:
        chain = [let]
        kept: list[tuple[Var, Expr]] = []
        while True:
            current = chain[-1]
            value = yield from self._visit_value(current)
            if self._keep(current.var) or _creates_reference(current.value):
                kept.append((current.var, value))
            else:
                self._var_map[current.var] = value
            body = current.body
            if not isinstance(body, Let) or body in self._memo:
                break
            chain.append(body)
        result = yield chain[-1].body
        for var, value in reversed(kept):
            result = Let(var, value, result)
        for inner in chain:
            self._remember(inner, result)
        return result

    def _visit_value(self, let: Let) -> Step[Expr, Expr]:
        """The rewritten value of ``let``, wrapped as ``let x = v; x`` when recursive."""
        var = let.var
        mark = len(self._log)
        self._open.add(var)
        value = yield let.value
        self._open.discard(var)
        if var not in self._recursive:
            return value
        self._recursive.discard(var)
        for key in self._log[mark:]:
            self._memo.pop(key, None)
        del self._log[mark:]
        return Let(var, value, var)


def _creates_reference(value: Expr) -> bool:
    """Whether evaluating ``value`` creates a reference (function bodies aside). Such a let
    stays: a reference's identity is its value, and a shared node evaluated in two scopes
    (inside a closure and outside it) would create two cells."""
    stack = [value]
    seen: set[Expr] = set()
    while stack:
        node = stack.pop()
        if node in seen or isinstance(node, Function):
            continue
        seen.add(node)
        if isinstance(node, RefCreate):
            return True
        stack.extend(children(node))
    return False


def to_graph_normal_form(expr: Expr, mod: IRModule | None = None) -> Expr:
    """``expr`` with its lets substituted away (recursive ones kept as ``let f = v; f``),
    except those whose values are impure; ``mod`` supplies the globals ``expr`` calls (their
    purity)."""
    holder = IRModule() if mod is None else mod.copy()
    holder["__gnf_expr"] = expr if isinstance(expr, Function) else Function([], expr)
    purity = let_purity(holder)
    return _GraphNormalForm(lambda v: not purity.get(v, False)).run(expr)


def _for_module(mod: IRModule) -> FunctionFunc:
    """The pass function for one run: the let purity of the module is computed once."""
    purity = let_purity(mod)

    def transform(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        rewritten = _GraphNormalForm(lambda v: not purity.get(v, False)).run(func)
        if not isinstance(rewritten, Function):
            raise InternalError("ToGraphNormalForm turned a function into a non-function")
        return rewritten

    return transform


def ToGraphNormalForm() -> FunctionPass:  # noqa: N802  (TVM's name)
    """The function pass: every Relay function of the module (except those a function pass
    skips) in graph normal form, then InferType."""
    # The purity analysis reads types (an untyped value might be an impure function), so an
    # untyped module, such as ToANormalForm's result, is typed first.
    return FunctionPass.per_run(_for_module, PassInfo(1, "ToGraphNormalForm"), needs_types=True)


register_pass("ToGraphNormalForm", ToGraphNormalForm)
