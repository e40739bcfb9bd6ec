"""Purity of let-bound values, module-wide: the analysis DeadCodeElimination relies on.

TVM's ``PurityVisitor`` (``transforms/dead_code.cc``). A pure expression never reads or writes
state, so when its value is unused it may be dropped, and when it is used once it may be moved
to its use. Every expression gets two facts:

* ``pure_eval``: evaluating the expression itself is pure;
* ``pure_call``: for an expression of function type, calling it is pure (always true for a
  first-order expression).

The rules, as in TVM: operators are pure to evaluate and pure to call unless registered
stateful; constants, constructors, tuples and functions are pure to evaluate; reading or
writing a reference is impure, creating one is as pure as its initial value (TVM calls it
pure without looking at the value); a match is as pure as its data and its clauses; a
function is pure to call when its body is pure to evaluate and to call (rule A);
higher-order parameters, functions taken out of tuples, read from references or bound by
match patterns, and external functions or PrimFuncs are assumed impure to call (rules B, C,
D, E, F); a global function's purity is that of its definition, assumed pure while it is
being analysed (so recursion terminates); a call nested in 25 or more enclosing calls is
assumed impure rather than analysed. An expression whose type is unknown (no
``checked_type``, no annotation) is assumed to possibly be a function.

TVM writes the analysis as a recursive memoised visitor whose answers depend on the order of
the visit (the call depth, the provisional purity of a global being analysed). Here each visit
is a generator that yields the sub-expressions it needs and receives their purity; a driver
runs the generators on an explicit stack, so the order, and so the answers, are TVM's, with no
Python recursion.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TypeAlias, assert_never

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import FuncType
from minitvm.relay.adt import Match, pattern_vars
from minitvm.relay.expr import (
    Call,
    Constant,
    Expr,
    If,
    Let,
    RefCreate,
    RefRead,
    RefWrite,
    Tuple,
    TupleGetItem,
    Var,
)
from minitvm.relay.function import Function

__all__ = ["MAX_CALL_DEPTH", "Purity", "has_nonzero_attr", "is_first_order", "let_purity"]

MAX_CALL_DEPTH = 25
"""Calls nested deeper than this are assumed impure instead of analysed (TVM's kMaxCallDepth)."""


@dataclass(frozen=True, slots=True)
class Purity:
    pure_eval: bool
    """Evaluating the expression is pure."""
    pure_call: bool
    """Calling the expression's value is pure (true for first-order values)."""


_PURE = Purity(pure_eval=True, pure_call=True)

_Visit: TypeAlias = Generator[Expr, Purity, Purity]
"""One visit: yields sub-expressions, receives their purity, returns the expression's."""


def has_nonzero_attr(func: Function, key: str) -> bool:
    """TVM's ``HasNonzeroAttr``: the attribute is present and not zero/false."""
    value = func.attrs.get(key)
    return value is not None and bool(value)


def is_first_order(expr: Expr) -> bool:
    """Whether ``expr``'s value is not a function. Unknown types count as possibly functions."""
    ty = expr.checked_type_
    if ty is None and isinstance(expr, Var):
        ty = expr.type_annotation
    return ty is not None and not isinstance(ty, FuncType)


class _PurityVisitor:
    def __init__(self, mod: IRModule) -> None:
        self.mod = mod
        self.memo: dict[Expr, Purity] = {}
        self.var_purity: dict[Var, Purity] = {}
        self.global_purity: dict[GlobalVar, Purity] = {}
        self.call_depth = 0

    def visit_module(self) -> None:
        for gv, func in self.mod.functions.items():
            if not isinstance(func, Function):
                continue
            if has_nonzero_attr(func, "Primitive") or has_nonzero_attr(func, "Extern"):
                continue
            self.run(self._global_function(gv, func))

    def run(self, first: _Visit) -> Purity:
        """Drive visits on an explicit stack until ``first`` returns."""
        frames: list[tuple[Expr | None, _Visit]] = [(None, first)]
        answer: Purity | None = None
        while True:
            owner, visit = frames[-1]
            try:
                child = visit.send(answer) if answer is not None else next(visit)
            except StopIteration as stop:
                result: Purity = stop.value
                frames.pop()
                if owner is not None:
                    self.memo[owner] = result
                if not frames:
                    return result
                answer = result
                continue
            memo = self.memo.get(child)
            if memo is not None:
                answer = memo
                continue
            leaf = self._leaf(child)
            if leaf is not None:
                self.memo[child] = leaf
                answer = leaf
                continue
            frames.append((child, self._visit(child)))
            answer = None

    def _leaf(self, expr: Expr) -> Purity | None:
        """The purity of an expression with no sub-expressions to visit, else None."""
        match expr:
            case Constant() | Constructor():
                return _PURE
            case Op():
                return Purity(pure_eval=True, pure_call=not expr.definition.stateful)
            case Var():
                known = self.var_purity.get(expr)
                # A let-bound function propagates its call purity through the variable.
                pure_call = known.pure_call if known is not None else is_first_order(expr)
                return Purity(pure_eval=True, pure_call=pure_call)
            case _:
                return None

    def _visit(self, expr: Expr) -> _Visit:  # noqa: C901  (a flat dispatch over the union)
        match expr:
            case GlobalVar():
                return self._global_var(expr)
            case Function():
                return self._function(expr)
            case Let():
                return self._let(expr)
            case Call():
                return self._call(expr)
            case If():
                return self._if(expr)
            case Tuple():
                return self._tuple(expr)
            case TupleGetItem():
                return self._tuple_getitem(expr)
            case RefCreate() | RefRead() | RefWrite():
                return self._ref(expr)
            case Match():
                return self._match(expr)
            case Var() | Constant() | Op() | Constructor():
                raise AssertionError("leaves are answered by _leaf")
            case _:
                assert_never(expr)

    def _global_var(self, gv: GlobalVar) -> _Visit:
        if gv.name_hint not in self.mod:
            raise DiagnosticError(
                f"DeadCodeElimination: @{gv.name_hint} is referenced but the module does "
                "not define it"
            )
        func = self.mod[gv.name_hint]
        if isinstance(func, Function) and not has_nonzero_attr(func, "Extern"):
            return (yield from self._global_function(self.mod.get_global_var(gv.name_hint), func))
        # External functions and PrimFuncs are assumed impure to call (rule F).
        return Purity(pure_eval=True, pure_call=False)

    def _global_function(self, gv: GlobalVar, func: Function) -> _Visit:
        known = self.global_purity.get(gv)
        if known is not None:
            return known
        # Assume a (possibly recursive) global is pure while its body is analysed.
        self.global_purity[gv] = _PURE
        result = yield func
        self.global_purity[gv] = result
        return result

    def _function(self, func: Function) -> _Visit:
        for param in func.params:
            # Higher-order parameters are assumed impure to call (rule B).
            self.var_purity[param] = Purity(pure_eval=True, pure_call=is_first_order(param))
        body = yield func.body
        return Purity(pure_eval=True, pure_call=body.pure_eval and body.pure_call)

    def _let(self, let: Let) -> _Visit:
        all_pure = True
        expr: Expr = let
        while isinstance(expr, Let):
            # A recursive function refers to itself: assume it pure to call meanwhile.
            self.var_purity[expr.var] = _PURE
            value = yield expr.value
            self.var_purity[expr.var] = value
            all_pure = all_pure and value.pure_eval
            expr = expr.body
        body = yield expr
        return Purity(pure_eval=all_pure and body.pure_eval, pure_call=body.pure_call)

    def _call(self, call: Call) -> _Visit:
        if self.call_depth >= MAX_CALL_DEPTH:
            return Purity(pure_eval=False, pure_call=is_first_order(call))
        self.call_depth += 1
        callee = yield call.op
        args_pure = True
        for arg in call.args:
            args_pure = (yield arg).pure_eval and args_pure
        self.call_depth -= 1
        return Purity(
            pure_eval=args_pure and callee.pure_eval and callee.pure_call,
            pure_call=is_first_order(call) or callee.pure_call,
        )

    def _if(self, ite: If) -> _Visit:
        cond = yield ite.cond
        then = yield ite.true_branch
        other = yield ite.false_branch
        return Purity(
            pure_eval=cond.pure_eval and then.pure_eval and other.pure_eval,
            pure_call=then.pure_call and other.pure_call,
        )

    def _tuple(self, tup: Tuple) -> _Visit:
        all_pure = True
        for field in tup.fields:
            # The call purity of each field is lost (rule C).
            all_pure = (yield field).pure_eval and all_pure
        return Purity(pure_eval=all_pure, pure_call=True)

    def _tuple_getitem(self, item: TupleGetItem) -> _Visit:
        tup = yield item.tuple_value
        # A function taken out of a tuple is assumed impure to call (rule C).
        return Purity(pure_eval=tup.pure_eval, pure_call=is_first_order(item))

    def _ref(self, node: RefCreate | RefRead | RefWrite) -> _Visit:
        match node:
            case RefCreate():
                value = yield node.value
                return Purity(pure_eval=value.pure_eval, pure_call=True)
            case RefRead():
                yield node.ref
                # A function read from a reference is assumed impure to call (rule D).
                return Purity(pure_eval=False, pure_call=is_first_order(node))
            case RefWrite():
                yield node.ref
                yield node.value
                return Purity(pure_eval=False, pure_call=True)

    def _match(self, match: Match) -> _Visit:
        data = yield match.data
        all_eval = data.pure_eval
        all_call = True
        for clause in match.clauses:
            for var in pattern_vars(clause.lhs):
                # A function taken out of an ADT is assumed impure to call (rule E).
                self.var_purity[var] = Purity(pure_eval=True, pure_call=is_first_order(var))
            rhs = yield clause.rhs
            all_eval = all_eval and rhs.pure_eval
            all_call = all_call and rhs.pure_call
        return Purity(pure_eval=all_eval, pure_call=all_call)


def let_purity(mod: IRModule) -> dict[Var, bool]:
    """Whether each let-bound variable's value is definitely pure to evaluate, for every let
    in the module's Relay functions (other than primitive and external ones)."""
    visitor = _PurityVisitor(mod)
    visitor.visit_module()
    return {var: p.pure_eval for var, p in visitor.var_purity.items()}
