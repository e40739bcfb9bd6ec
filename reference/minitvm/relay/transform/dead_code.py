"""DeadCodeElimination: drop unused pure let bindings, optionally inline single-use ones.

TVM's ``transforms/dead_code.cc``, in three steps per module:

1. *Purity* (``analysis.purity``): which let-bound values are definitely pure. Impure
   bindings are never touched. With ``ignore_impurity`` every binding counts as pure.
   Reading or writing a reference is impure (``analysis.purity``), so a binding doing either
   is never dropped, inlined or moved: the order of reference effects is kept.
2. *Usage* (per function): count the uses of each let-bound variable, capped in effect at 2.
   A pure value is only walked once its variable is first used, so a dead binding's own uses
   are never counted and elimination cascades through chains of dead bindings. A use inside a
   function nested within the binding's scope counts twice, because the function may run many
   times: values are never inlined into functions. Each node is walked at most twice, which
   keeps the count linear in the size of the program.
3. *Elimination*: a pure binding used 0 times is dropped; used once and ``inline_once``, its
   value replaces the use; otherwise it stays.

The walks use explicit stacks, so let chains and call chains of any depth are handled. The pass
is a module pass at opt_level 1 that requires InferType (run first inside ``Sequential``); it
does not type-check its result. PrimFuncs pass through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import assert_never

from typing_extensions import override

from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import Pass, PassContext, PassInfo, register_pass
from minitvm.relay.adt import Match
from minitvm.relay.analysis.purity import let_purity
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
from minitvm.relay.expr_functor import iter_post_order, rebuild
from minitvm.relay.function import Function

__all__ = ["DeadCodeElimination"]


class _Action(Enum):
    ELIDE = "elide"
    INLINE = "inline"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class _LeaveFunction:
    """Usage-walk marker: the body of a function has been walked."""


@dataclass(frozen=True, slots=True)
class _BindLet:
    """Usage-walk marker: record a let binding (before its value may be walked)."""

    let: Let


_LEAVE_FUNCTION = _LeaveFunction()


class _Usage:
    """Count the uses of every let-bound variable of one function (TVM's UsageVisitor)."""

    def __init__(self, purity: dict[Var, bool], default_purity: bool) -> None:
        self.purity = purity
        self.default_purity = default_purity
        self.values: dict[Var, Expr] = {}
        self.uses: dict[Var, int] = {}
        self._scope_of: dict[Var, int] = {}
        self._scope = 0
        self._visits: dict[Expr, int] = {}

    def is_pure(self, var: Var) -> bool:
        return self.purity.get(var, self.default_purity)

    def walk(self, root: Expr) -> None:
        # Entries run in the order TVM's recursive visitor would reach them: a pure value is
        # walked right after its variable's first use, at that use's scope level.
        stack: list[Expr | _BindLet | _LeaveFunction] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, _LeaveFunction):
                self._scope -= 1
            elif isinstance(item, _BindLet):
                self._bind(item.let, stack)
            else:
                count = self._visits.get(item, 0) + 1
                self._visits[item] = count
                if count <= 2:  # two uses decide everything: stop walking after that
                    self._dispatch(item, stack)

    def _bind(self, let: Let, stack: list[Expr | _BindLet | _LeaveFunction]) -> None:
        self._visits[let] = self._visits.get(let, 0) + 1
        self.values[let.var] = let.value
        self.uses[let.var] = 0
        self._scope_of[let.var] = self._scope
        if not self.is_pure(let.var):
            stack.append(let.value)  # an impure value always runs: walk it now

    def _dispatch(  # noqa: C901  (a flat dispatch over the union)
        self, expr: Expr, stack: list[Expr | _BindLet | _LeaveFunction]
    ) -> None:
        match expr:
            case Var():
                self._use(expr, stack)
            case Let():
                chain: list[Let] = [expr]
                while isinstance(chain[-1].body, Let):
                    chain.append(chain[-1].body)
                stack.append(chain[-1].body)
                stack.extend(_BindLet(link) for link in reversed(chain))
            case Function():
                self._scope += 1
                stack.append(_LEAVE_FUNCTION)
                stack.append(expr.body)
                stack.extend(reversed(expr.params))
            case Call():
                stack.extend(reversed(expr.args))
                stack.append(expr.op)
            case Tuple():
                stack.extend(reversed(expr.fields))
            case TupleGetItem():
                stack.append(expr.tuple_value)
            case If():
                stack.extend((expr.false_branch, expr.true_branch, expr.cond))
            case RefCreate():
                stack.append(expr.value)
            case RefRead():
                stack.append(expr.ref)
            case RefWrite():
                stack.extend((expr.value, expr.ref))
            case Match():
                # A clause runs at most once per match, like an if branch; its pattern's
                # variables are binders, not uses.
                stack.extend(clause.rhs for clause in reversed(expr.clauses))
                stack.append(expr.data)
            case GlobalVar() | Constant() | Op() | Constructor():
                pass
            case _:
                assert_never(expr)

    def _use(self, var: Var, stack: list[Expr | _BindLet | _LeaveFunction]) -> None:
        if var not in self.values:
            return  # a parameter, or free
        self.uses[var] += 1
        first = self.uses[var] == 1
        if self._scope_of[var] < self._scope:
            # Bound outside the current function, which may be called many times.
            self.uses[var] += 1
        if first and self.is_pure(var):
            stack.append(self.values[var])  # the value is needed after all: walk it next


class _Eliminator:
    """Drop or inline let bindings as the usage counts allow (TVM's EliminatorMutator)."""

    def __init__(self, usage: _Usage, inline_once: bool) -> None:
        self.dropped: set[Var] = set()  # bindings elided or inlined
        self.inlined: dict[Var, Expr] = {}  # variable -> the value replacing its one use
        for var, value in usage.values.items():
            action = _action(usage, var, inline_once)
            if action is not _Action.KEEP:
                self.dropped.add(var)
            if action is _Action.INLINE:
                self.inlined[var] = value
        self.new: dict[Expr, Expr] = {}

    def rewritten(self, child: Expr) -> Expr:
        """The rewrite of a child already walked; an inlined variable becomes its value's.
        (A let's value is walked before its body, so the value's rewrite is ready.) An inlined
        value that is itself an inlined variable (``let b = a`` after ``let a = v``) is
        followed to the end of the chain."""
        while isinstance(child, Var) and child in self.inlined:
            child = self.inlined[child]
        return self.new[child]

    def rewrite(self, root: Expr) -> Expr:
        new = self.new
        for node in iter_post_order(root):
            if isinstance(node, Var):
                new[node] = node
            elif isinstance(node, Let):
                new[node] = self._let(node)
            else:
                new[node] = rebuild(node, self.rewritten)
        return self.rewritten(root)

    def _let(self, let: Let) -> Expr:
        if let.var in self.dropped:
            return self.rewritten(let.body)
        value = self.rewritten(let.value)
        body = self.rewritten(let.body)
        if value is let.value and body is let.body:
            return let
        return Let(let.var, value, body, span=let.span)


def _action(usage: _Usage, var: Var, inline_once: bool) -> _Action:
    if not usage.is_pure(var):
        return _Action.KEEP  # an impure value stays exactly where it is
    uses = usage.uses[var]
    if uses == 0:
        return _Action.ELIDE
    if uses == 1 and inline_once:
        return _Action.INLINE
    return _Action.KEEP


def _eliminate(func: Function, purity: dict[Var, bool], ignore: bool, inline_once: bool) -> Expr:
    usage = _Usage(purity, default_purity=ignore)
    usage.walk(func)
    return _Eliminator(usage, inline_once).rewrite(func)


@dataclass(frozen=True, slots=True, repr=False)
class DeadCodeElimination(Pass):
    """``relay.transform.DeadCodeElimination(inline_once=False, ignore_impurity=False)``."""

    inline_once: bool = False
    """Also inline a pure binding whose variable is used exactly once."""
    ignore_impurity: bool = False
    """Treat every let-bound value as pure (skips the purity analysis)."""

    @override
    @property
    def info(self) -> PassInfo:
        return PassInfo(1, "DeadCodeElimination", ("InferType",))

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        purity = {} if self.ignore_impurity else let_purity(mod)
        result = mod.copy()
        for gv, func in mod.functions.items():
            if isinstance(func, Function):
                new = _eliminate(func, purity, self.ignore_impurity, self.inline_once)
                assert isinstance(new, Function)
                result[gv] = new
        return result


register_pass("DeadCodeElimination", DeadCodeElimination)
