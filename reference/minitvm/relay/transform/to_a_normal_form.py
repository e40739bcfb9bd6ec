"""ToANormalForm: turn implicit sharing into explicit let bindings.

TVM's ``src/relay/transforms/to_a_normal_form.cc``. The algorithm has two phases:

1. *Scopes.* Give every sub-expression the lowest common ancestor of the scopes of its uses
   (``relay.analysis.scope.calc_scope``). If branches, function bodies and let bodies open
   sub-scopes, so a value used only inside one branch is bound inside it, and one shared by
   both branches is bound before the If.
2. *Fill.* Rewrite the expression in post-DFS order (a call's arguments left to right, then
   its callee), pushing ``let fresh = node`` onto the let list of the node's scope and
   returning the fresh variable; each let list becomes a let chain where its scope ends.
   Constants are bound like any other value; variables, globals, operators and constructors
   are atomic. Match clauses are scopes like If branches, so reference reads and writes keep
   their order: each is bound where it is evaluated, in evaluation order.
   An existing ``let x = v`` binds v's result to x itself, and later references to v get x.
   A let used as a sub-expression is flattened into its enclosing scope and its result
   re-bound. Primitive functions (and functions for an external ``Compiler``) keep their
   bodies. The root is not bound: a module function stays a function whose body is a let
   chain ending in an atomic expression.

The same ``Fill`` gives basic block normal form when told to bind only the lifted
expressions (``to_basic_block_normal_form.py``). Both phases are iterative and linear in the
number of unique nodes: the rewrite runs on a generator trampoline, let chains are walked in
a loop, and flattening a let splices its let list instead of copying it (TVM copies it once
per enclosing let, quadratic in the depth of a let chain).

Deliberate differences from TVM: functions anywhere but the root are let-bound (TVM leaves a
function unbound when it is not nested in another function, which only matters for
``ToANormalFormExpr`` on a non-function); ``let f = op`` (or a global) is bound where the
let stands and later uses of the operator stay the operator (TVM hoists the binding to the
common scope of every use of that operator and rewrites them all to ``f``); nested
``Compiler`` functions keep their bodies like primitive ones; and ``on_device`` annotations
get no special treatment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias, assert_never

from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import ModulePass, PassContext, PassInfo, register_pass
from minitvm.relay.adt import Clause, Match
from minitvm.relay.analysis.scope import Scope, calc_scope
from minitvm.relay.analysis.variables import free_vars
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
from minitvm.relay.transform.trampoline import Step, drive

__all__ = [
    "Fill",
    "LetList",
    "ToANormalForm",
    "ToANormalFormExpr",
    "check_closed_functions",
    "keeps_body",
]

_Request: TypeAlias = tuple[Expr, Let | None]
"""Visit this expression; when a let is given, the expression is its value: bind the result
to the let's variable."""


class LetList:
    """The bindings of one scope, in order. ``splice`` moves another scope's whole list in
    at the current position in O(1) (flattening a let); ``get`` wraps a body in the
    bindings and seals the list."""

    __slots__ = ("_entries", "_used")

    def __init__(self) -> None:
        self._entries: list[tuple[Var, Expr] | LetList] = []
        self._used = False

    def push(self, var: Var, value: Expr) -> Var:
        self._check_open()
        self._entries.append((var, value))
        return var

    def splice(self, other: LetList) -> None:
        self._check_open()
        other._check_open()
        other._used = True
        if other._entries:
            self._entries.append(other)

    def get(self, body: Expr) -> Expr:
        self._check_open()
        self._used = True
        result = body
        for var, value in reversed(list(self._bindings())):
            result = Let(var, value, result)
        return result

    def _bindings(self) -> Iterator[tuple[Var, Expr]]:
        stack = [iter(self._entries)]
        while stack:
            for entry in stack[-1]:
                if isinstance(entry, LetList):
                    stack.append(iter(entry._entries))
                    break
                yield entry
            else:
                stack.pop()

    def _check_open(self) -> None:
        if self._used:
            raise InternalError("a binding was added to a scope that was already closed")


def keeps_body(func: Function) -> bool:
    """Whether a normal-form pass leaves ``func``'s body alone: primitive (fused) functions
    and functions for an external code generator."""
    return func.is_primitive() or func.attrs.get("Compiler") is not None


class Fill:
    """The rewrite phase. With ``bind_all`` every compound expression is let-bound (A
    normal form); without, only those ``calc_scope`` reports as lifted (basic block normal
    form), and the rest stay in place, still shared."""

    def __init__(self, root: Expr, bind_all: bool) -> None:
        self._scopes = calc_scope(root)
        self._include: set[Expr] | None = None if bind_all else self._scopes.lifted
        self._root = root
        self._memo: dict[Expr, Expr] = {}
        self._lists: dict[Scope, LetList] = {}

    @staticmethod
    def to_a_normal_form(expr: Expr) -> Expr:
        return Fill(expr, bind_all=True).run()

    @staticmethod
    def to_basic_block_normal_form(expr: Expr) -> Expr:
        return Fill(expr, bind_all=False).run()

    def run(self) -> Expr:
        result = drive(self._start_root(), self._resolve)
        return self._list(self._root).get(result)

    # --- scopes and their let lists -------------------------------------------------------

    def _scope_list(self, scope: Scope) -> LetList:
        let_list = self._lists.get(scope)
        if let_list is None:
            let_list = self._lists[scope] = LetList()
        return let_list

    def _list(self, expr: Expr) -> LetList:
        return self._scope_list(self._scopes.scope[expr])

    def _sub_list(self, expr: Expr, index: int) -> LetList:
        """The let list of the ``index``-th scope ``expr`` opens."""
        return self._scope_list(self._scopes.sub_scopes[expr][index])

    # --- binding ---------------------------------------------------------------------------

    def _atomic(self, expr: Var, var: Var | None) -> Expr:
        return expr if var is None else self._list(expr).push(var, expr)

    def _compound(self, orig: Expr, now: Expr, var: Var | None) -> Expr:
        if var is None and self._include is not None and orig not in self._include:
            return now
        return self._list(orig).push(var if var is not None else Var("x"), now)

    def _close_let(self, let: Let, body: Expr, var: Var | None) -> Expr:
        """Finish a let whose body became ``body``: flatten its scope into the enclosing
        one and re-bind the result, or (basic block form, not lifted) keep it a let."""
        inner = self._sub_list(let, 0)
        if var is None and self._include is not None and let not in self._include:
            return inner.get(body)
        target = self._list(let)
        target.splice(inner)
        while isinstance(body, Let):
            target.push(body.var, body.value)
            body = body.body
        return target.push(var if var is not None else Var("x"), body)

    # --- the visitor -------------------------------------------------------------------------

    def _start_root(self) -> Step[_Request, Expr]:
        return (yield (self._root, None))

    def _resolve(self, request: _Request) -> Step[_Request, Expr] | Expr:
        expr, binder = request
        var = None if binder is None else binder.var
        if isinstance(expr, Op | GlobalVar | Constructor):
            # Values available everywhere: not memoized, and bound where the let is.
            return expr if binder is None else self._sub_list(binder, 0).push(binder.var, expr)
        done = self._memo.get(expr)
        if done is not None:
            if var is not None:
                self._list(expr).push(var, done)
            return done
        match expr:
            case Var():
                done = self._atomic(expr, var)
            case Constant():
                done = self._compound(expr, expr, var)
            case Function() if keeps_body(expr):
                done = expr if expr is self._root else self._compound(expr, expr, var)
            case Let():
                return self._visit_let(expr, var)
            case (
                Call()
                | Tuple()
                | TupleGetItem()
                | If()
                | Function()
                | RefCreate()
                | RefRead()
                | RefWrite()
                | Match()
            ):
                return self._visit(expr, var)
            case _:
                assert_never(expr)
        self._memo[expr] = done
        return done

    def _visit(self, expr: Expr, var: Var | None) -> Step[_Request, Expr]:  # noqa: C901
        """Rewrite a compound expression (not a let) and memoize the result."""
        match expr:
            case Call():
                args: list[Expr] = []
                for arg in expr.args:
                    args.append((yield (arg, None)))
                op = yield (expr.op, None)
                now: Expr = Call(op, args, expr.attrs, expr.type_args, expr.span)
            case Tuple():
                fields: list[Expr] = []
                for field in expr.fields:
                    fields.append((yield (field, None)))
                now = Tuple(fields, expr.span)
            case TupleGetItem():
                tup = yield (expr.tuple_value, None)
                now = TupleGetItem(tup, expr.index, span=expr.span)
            case If():
                cond = yield (expr.cond, None)
                then = self._sub_list(expr, 0).get((yield (expr.true_branch, None)))
                other = self._sub_list(expr, 1).get((yield (expr.false_branch, None)))
                now = If(cond, then, other, span=expr.span)
            case Function():
                body = self._sub_list(expr, 0).get((yield (expr.body, None)))
                now = Function(
                    expr.params, body, expr.ret_type, expr.type_params, expr.attrs, expr.span
                )
            case RefCreate():
                now = RefCreate((yield (expr.value, None)), span=expr.span)
            case RefRead():
                now = RefRead((yield (expr.ref, None)), span=expr.span)
            case RefWrite():
                ref = yield (expr.ref, None)
                now = RefWrite(ref, (yield (expr.value, None)), span=expr.span)
            case Match():
                data = yield (expr.data, None)
                clauses: list[Clause] = []
                for index, clause in enumerate(expr.clauses):
                    rhs = self._sub_list(expr, index).get((yield (clause.rhs, None)))
                    clauses.append(Clause(clause.lhs, rhs))
                now = Match(data, clauses, expr.complete, expr.span)
            case Var() | GlobalVar() | Constant() | Op() | Let() | Constructor():
                raise InternalError("leaves and lets are resolved without this generator")
            case _:
                assert_never(expr)
        result: Expr = now
        if not (isinstance(now, Function) and expr is self._root):  # the root stays unbound
            result = self._compound(expr, now, var)
        self._memo[expr] = result
        return result

    def _visit_let(self, let: Let, var: Var | None) -> Step[_Request, Expr]:
        """A let chain in one loop: bind each value to its own variable going down, visit
        the final body, then close the lets from the innermost out."""
        chain = [let]
        while True:
            current = chain[-1]
            yield (current.value, current)
            body = current.body
            if not isinstance(body, Let) or body in self._memo:
                break
            chain.append(body)
        result = yield (chain[-1].body, None)
        for depth in range(len(chain) - 1, -1, -1):
            inner = chain[depth]
            result = self._close_let(inner, result, var if depth == 0 else None)
            self._memo[inner] = result
        return result


def check_closed_functions(mod: IRModule, pass_name: str) -> None:
    """TVM's normal-form passes require every module function to be closed."""
    for gv, func in mod.functions.items():
        if isinstance(func, Function):
            missing = free_vars(func)
            if missing:
                names = ", ".join(f"%{v.name_hint}" for v in missing)
                raise DiagnosticError(
                    f"{pass_name}: function @{gv.name_hint} has free variables {names}; "
                    "expected a closed function"
                )


def ToANormalFormExpr(e: Expr) -> Expr:  # noqa: N802  (TVM's name)
    """A normal form of one expression (TVM's ``relay.transform.ToANormalFormExpr``)."""
    return Fill.to_a_normal_form(e)


def _transform_module(mod: IRModule, ctx: PassContext) -> IRModule:
    check_closed_functions(mod, "ToANormalForm")
    result = mod.copy()
    for gv, func in mod.functions.items():
        if isinstance(func, Function) and func.attrs.get("Compiler") is None:
            rewritten = Fill.to_a_normal_form(func)
            if not isinstance(rewritten, Function):
                raise InternalError("ToANormalForm turned a function into a non-function")
            result[gv] = rewritten
    return result


def ToANormalForm() -> ModulePass:  # noqa: N802  (TVM's name)
    """The module pass: every Relay function of the module in A normal form (opt_level 1).

    Functions with a ``Compiler`` attribute and PrimFuncs are left alone. The input module
    is not changed; InferType is not run afterwards.
    """
    return ModulePass(_transform_module, PassInfo(1, "ToANormalForm"))


register_pass("ToANormalForm", ToANormalForm)
