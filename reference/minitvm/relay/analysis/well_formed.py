"""Well-formedness: every variable is bound once and used only where it is in scope.

This is TVM's ``WellFormedChecker`` (``analysis/well_formed.cc``), walked with an explicit stack.
Lets, function parameter lists and match clauses (the variables of the clause's pattern, in
its right-hand side) open scopes. A variable is *ill-formed* when it is bound a
second time (by a different let or parameter list), when it is bound after being used free, or
when it is used outside the scope that binds it. A variable bound nowhere is simply free: free
variables are allowed, as in TVM.

As in TVM, each shared node is checked once, in the place where the walk first meets it (a
shared function binds its parameters once); unlike TVM, every use of a variable is checked, not
only the first one the walk meets.

``WellFormedInstrument`` applies the check, plus closedness of global functions and InferType,
after every pass a context runs, and names the pass that broke the program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.instrument import PassInstrument
from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassContext, PassInfo, get_pass
from minitvm.relay.adt import Match, pattern_vars
from minitvm.relay.expr import Expr, Let, Var
from minitvm.relay.expr_functor import children
from minitvm.relay.function import Function

__all__ = ["WellFormedInstrument", "check_well_formed", "ill_formed_reasons", "well_formed"]


def _describe(var: Var) -> str:
    where = f" (at {var.span})" if var.span is not None else ""
    return f"%{var.name_hint or '_'}{where}"


@dataclass(frozen=True, slots=True)
class _Bind:
    """Stack entry: bind a let variable (just before its value is checked)."""

    var: Var


@dataclass(frozen=True, slots=True)
class _BindPattern:
    """Stack entry: bind the variables of a match clause's pattern (before its rhs)."""

    vars: tuple[Var, ...]


@dataclass(frozen=True, slots=True)
class _EndScope:
    """Stack entry: the scope of these variables ends."""

    vars: tuple[Var, ...]


class _Checker:
    """The walk's state: which variables are bound now, bound ever, or used free."""

    def __init__(self) -> None:
        self.current: set[Var] = set()
        self.total: set[Var] = set()
        self.free: set[Var] = set()
        self.reasons: list[str] = []

    def bind(self, var: Var, binder: str) -> None:
        if var in self.current or var in self.total:
            self.reasons.append(
                f"variable {_describe(var)} is bound more than once (again by {binder})"
            )
        elif var in self.free:
            self.reasons.append(
                f"variable {_describe(var)} is used outside its scope before {binder} binds it"
            )
        self.current.add(var)
        self.total.add(var)

    def use(self, var: Var) -> None:
        if var in self.current:
            return
        if var in self.total:
            self.reasons.append(f"variable {_describe(var)} is used outside the scope binding it")
        else:
            self.free.add(var)

    def run(self, root: Expr) -> list[str]:  # noqa: C901  (one loop over the entry kinds)
        visited: set[Expr] = set()
        stack: list[Expr | _Bind | _BindPattern | _EndScope] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, _Bind):
                self.bind(item.var, "a let")
            elif isinstance(item, _BindPattern):
                for var in item.vars:
                    self.bind(var, "a match pattern")
            elif isinstance(item, _EndScope):
                self.current.difference_update(item.vars)
            elif isinstance(item, Var):
                self.use(item)
            elif item not in visited:
                visited.add(item)
                if isinstance(item, Let):
                    stack.extend(self._let_chain(item, visited))
                elif isinstance(item, Function):
                    for param in item.params:
                        self.bind(param, "a function parameter list")
                    stack.extend((_EndScope(item.params), item.body))
                elif isinstance(item, Match):
                    stack.extend(self._match_entries(item))
                else:
                    stack.extend(reversed(children(item)))
        return self.reasons

    @staticmethod
    def _match_entries(match: Match) -> list[Expr | _Bind | _BindPattern | _EndScope]:
        """Stack entries for a match, in reverse: the data, then each clause's pattern
        variables bound for its right-hand side only."""
        entries: list[Expr | _Bind | _BindPattern | _EndScope] = []
        for clause in reversed(match.clauses):
            bound = tuple(pattern_vars(clause.lhs))
            entries.extend((_EndScope(bound), clause.rhs, _BindPattern(bound)))
        entries.append(match.data)
        return entries

    @staticmethod
    def _let_chain(let: Let, visited: set[Expr]) -> list[Expr | _Bind | _BindPattern | _EndScope]:
        """Stack entries for a let chain, in reverse: bind each variable just before its value
        is checked, check the final body, then end every scope of the chain."""
        chain = [let]
        while isinstance(chain[-1].body, Let) and chain[-1].body not in visited:
            visited.add(chain[-1].body)
            chain.append(chain[-1].body)
        entries: list[Expr | _Bind | _BindPattern | _EndScope] = [
            _EndScope(tuple(link.var for link in chain)),
            chain[-1].body,
        ]
        for link in reversed(chain):
            entries.extend((link.value, _Bind(link.var)))
        return entries


def ill_formed_reasons(expr: Expr, closed: bool = False) -> list[str]:
    """Why ``expr`` is not well formed; empty when it is. With ``closed``, free variables are
    reported too (a global function must have none)."""
    checker = _Checker()
    reasons = checker.run(expr)
    if closed and checker.free:
        names = ", ".join(sorted(_describe(v) for v in checker.free))
        reasons.append(f"free variables {names} are bound nowhere")
    return reasons


def well_formed(expr: Expr) -> bool:
    """TVM's ``relay.analysis.well_formed``: each variable bound once and used in scope."""
    return not ill_formed_reasons(expr)


def check_well_formed(expr: Expr, what: str = "expression", closed: bool = False) -> None:
    """Raise a DiagnosticError naming ``what`` and the first problem, if there is one."""
    reasons = ill_formed_reasons(expr, closed)
    if reasons:
        more = f" (and {len(reasons) - 1} more problems)" if len(reasons) > 1 else ""
        raise DiagnosticError(f"{what} is not well formed: {reasons[0]}{more}")


class WellFormedInstrument(PassInstrument):
    """Re-check every global Relay function after each pass: well formed and closed, and (with
    ``check_types``) the whole module type-checks under InferType. A failure raises a
    DiagnosticError naming the pass that produced the broken module and the function, unless
    the pass's input fails the same check (the pass did not break it)."""

    def __init__(self, check_types: bool = True) -> None:
        self.check_types = check_types
        self._checking = False
        self._inputs: list[IRModule] = []

    @override
    def run_before_pass(self, mod: IRModule, info: PassInfo) -> None:
        if not self._checking:
            self._inputs.append(mod.copy())

    @override
    def run_after_pass(self, mod: IRModule, info: PassInfo) -> None:
        if self._checking:  # InferType run by the check itself is not checked again
            return
        before = self._inputs.pop() if self._inputs else None
        self._checking = True
        try:
            for check in (self._check_scoping, self._check_types):
                try:
                    check(mod, info.name)
                except DiagnosticError:
                    if before is None or _passes(check, before):
                        raise
        finally:
            self._checking = False

    def _check_scoping(self, mod: IRModule, pass_name: str) -> None:
        for gv, func in mod.functions.items():
            if isinstance(func, Function):
                check_well_formed(
                    func, f"after pass {pass_name}, function @{gv.name_hint}", closed=True
                )

    def _check_types(self, mod: IRModule, pass_name: str) -> None:
        if not self.check_types:
            return
        try:
            get_pass("InferType").transform_module(mod, PassContext.current())
        except DiagnosticError as err:
            raise DiagnosticError(
                f"after pass {pass_name}, the module does not type-check: {err}"
            ) from err


def _passes(check: Callable[[IRModule, str], None], mod: IRModule) -> bool:
    try:
        check(mod, "")
    except DiagnosticError:
        return False
    return True
