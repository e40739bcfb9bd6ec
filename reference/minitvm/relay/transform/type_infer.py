"""Type inference: ``relay.transform.InferType`` and ``relay.transform.InferTypeLocal``.

TVM: ``src/relay/transforms/type_infer.cc``. Three stages, as there:

1. generate constraints: ``TypeInferencer`` walks every function, callees first, giving each
   expression a type with variables and feeding unifications and relations to the solver;
2. solve: the ``TypeSolver`` unifies as constraints arrive and fires relations as their
   argument types become known; what is left unknown at the end is an error;
3. resolve: ``_Resolver`` rebuilds each function bottom-up with the solved types in
   ``checked_type_``, missing parameter, let-variable and return annotations filled, and
   ``Call.type_args`` set (argument types for operators, the instantiation for polymorphic
   callees). A node whose children, type and fields are unchanged is kept as is, so typing a
   typed program returns the same objects. A variable with a complete annotation is always
   kept: its type, which can only be the annotation, is recorded in it in place (like
   InferTypeLocal does), so variables keep their identity as TVM's shared ``vid`` fields do.

Unlike TVM, the whole module is one inference problem: a global's un-annotated parameters may
be inferred from its body or from its calls, and mutually recursive globals are typed together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import is_
from typing import assert_never

from typing_extensions import override

from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import Pass, PassContext, PassInfo, register_pass
from minitvm.ir.type import FuncType, Type
from minitvm.relay.adt import Clause, Match, map_pattern_vars
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
from minitvm.relay.expr_functor import children
from minitvm.relay.function import Function
from minitvm.relay.transform.type_inferencer import TypeInferencer, Typing

__all__ = ["InferType", "InferTypeLocal", "infer_module"]

_INFO = PassInfo(0, "InferType")


def _same(old: Type | None, new: Type) -> bool:
    return old is new or (old is not None and old == new)


def _kept(new: Sequence[object], old: Sequence[object]) -> bool:
    return all(map(is_, new, old))


class _Resolver:
    """Rebuild expressions with their solved types (TVM's ``TypeInferencer::Resolver``)."""

    def __init__(self, typing: Typing) -> None:
        self.types = typing.types
        self.type_args = typing.type_args
        self.memo: dict[Expr, Expr] = {}

    def rebuild(self, root: Expr) -> Expr:
        memo = self.memo
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            node, ready = stack.pop()
            if node in memo:
                continue
            if ready:
                memo[node] = self._attach(node)
                continue
            stack.append((node, True))
            for child in reversed(children(node)):
                if child not in memo:
                    stack.append((child, False))
        return memo[root]

    def _var(self, var: Var) -> Var:
        new = self.memo[var]
        assert isinstance(new, Var)
        return new

    def _attach(self, node: Expr) -> Expr:  # noqa: C901  (a flat dispatch over the union)
        if isinstance(node, Op | GlobalVar | Constructor):
            return node  # shared by every use: no per-use type
        memo, ty = self.memo, self.types[node]
        same = _same(node.checked_type_, ty)
        match node:
            case Var():
                return self._variable(node, ty, same)
            case Constant():
                return node if same else Constant(node.data, span=node.span, checked_type_=ty)
            case Tuple():
                fields = [memo[f] for f in node.fields]
                if same and _kept(fields, node.fields):
                    return node
                return Tuple(fields, node.span, checked_type_=ty)
            case TupleGetItem():
                tup = memo[node.tuple_value]
                if same and tup is node.tuple_value:
                    return node
                return TupleGetItem(tup, node.index, span=node.span, checked_type_=ty)
            case Call():
                return self._call(node, ty, same)
            case Function():
                return self._function(node, ty, same)
            case Let():
                var, value, body = self._var(node.var), memo[node.value], memo[node.body]
                if same and var is node.var and value is node.value and body is node.body:
                    return node
                return Let(var, value, body, span=node.span, checked_type_=ty)
            case If():
                cond, then = memo[node.cond], memo[node.true_branch]
                other = memo[node.false_branch]
                kept = cond is node.cond and then is node.true_branch
                if same and kept and other is node.false_branch:
                    return node
                return If(cond, then, other, span=node.span, checked_type_=ty)
            case RefCreate():
                value = memo[node.value]
                if same and value is node.value:
                    return node
                return RefCreate(value, span=node.span, checked_type_=ty)
            case RefRead():
                ref = memo[node.ref]
                if same and ref is node.ref:
                    return node
                return RefRead(ref, span=node.span, checked_type_=ty)
            case RefWrite():
                ref, value = memo[node.ref], memo[node.value]
                if same and ref is node.ref and value is node.value:
                    return node
                return RefWrite(ref, value, span=node.span, checked_type_=ty)
            case Match():
                return self._match(node, ty, same)
            case _:
                assert_never(node)

    @staticmethod
    def _variable(var: Var, ty: Type, same: bool) -> Var:
        ann = var.type_annotation
        if ann is not None and same:
            return var
        if ann is not None and var.checked_type_ is None and (ann is ty or ann == ty):
            # A complete annotation is the only type the variable can have: record it in the
            # variable itself, as InferTypeLocal does, rather than copy it. Keeping variables
            # is what TVM's shared `vid`s give: the free variables of `run_opt_pass` results
            # stay the same objects from run to run.
            object.__setattr__(var, "checked_type_", ty)
            return var
        return Var(var.name_hint, ann if ann is not None else ty, span=var.span, checked_type_=ty)

    def _call(self, call: Call, ty: Type, same: bool) -> Expr:
        op = self.memo[call.op]
        args = [self.memo[a] for a in call.args]
        type_args = self.type_args.get(call, call.type_args)
        unchanged = op is call.op and _kept(args, call.args)
        if same and unchanged and type_args == call.type_args:
            return call
        return Call(op, args, call.attrs, type_args, call.span, checked_type_=ty)

    def _match(self, match: Match, ty: Type, same: bool) -> Expr:
        data = self.memo[match.data]
        clauses: list[Clause] = []
        for clause in match.clauses:
            lhs = map_pattern_vars(clause.lhs, self._var)
            rhs = self.memo[clause.rhs]
            kept = lhs is clause.lhs and rhs is clause.rhs
            clauses.append(clause if kept else Clause(lhs, rhs))
        if same and data is match.data and _kept(clauses, match.clauses):
            return match
        return Match(data, clauses, match.complete, match.span, checked_type_=ty)

    def _function(self, fn: Function, ty: Type, same: bool) -> Expr:
        params = [self._var(p) for p in fn.params]
        body = self.memo[fn.body]
        unchanged = body is fn.body and _kept(params, fn.params)
        if same and unchanged and fn.ret_type is not None:
            return fn
        assert isinstance(ty, FuncType)
        ret = fn.ret_type if fn.ret_type is not None else ty.ret_type
        return Function(params, body, ret, fn.type_params, fn.attrs, fn.span, checked_type_=ty)


def infer_module(mod: IRModule) -> IRModule:
    """A new module whose Relay functions are typed (the input is not changed)."""
    inferencer = TypeInferencer(mod)
    functions = mod.functions
    for gv, func in functions.items():
        if isinstance(func, Function):
            inferencer.infer_global(gv)
    resolver = _Resolver(inferencer.finish())
    new_mod = mod.copy()
    for gv, func in functions.items():
        if isinstance(func, Function):
            typed = resolver.rebuild(func)
            assert isinstance(typed, Function)
            if typed is not func:
                new_mod[gv] = typed
    return new_mod


@dataclass(frozen=True, slots=True, repr=False)
class InferType(Pass):
    """Infer and check the type of every expression of every Relay function in a module."""

    @override
    @property
    def info(self) -> PassInfo:
        return _INFO

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        return infer_module(mod)


def InferTypeLocal(expr: Expr) -> Type:  # noqa: N802  (TVM's name)
    """The type of a standalone expression (free variables allowed).

    For TVM compatibility it also stores the type in ``checked_type_`` of each node of
    ``expr`` that has none, in place; a type already present is trusted and never changed.
    Unlike ``InferType`` it fills no annotations and no ``type_args``.
    """
    inferencer = TypeInferencer(None)
    inferencer.infer_expr(expr)
    typing = inferencer.finish()
    for node, ty in typing.types.items():
        if node.checked_type_ is None and not isinstance(node, Constructor):
            object.__setattr__(node, "checked_type_", ty)
    return typing.types[expr]


register_pass("InferType", InferType)
