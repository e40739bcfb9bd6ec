"""Type-variable analyses: ``free_type_vars``, ``bound_type_vars``, ``all_type_vars``.

TVM's ``TypeVarEVisitor`` / ``TypeVarTVisitor`` (``analysis/util.cc``). A type variable is
*bound* by a function's ``type_params`` or a function type's ``type_params``; every other
occurrence counts as a use. The types looked at are what TVM's visitor looks at: variable
annotations and the type parameters of functions (not ``ret_type``, not ``checked_type``, not
``Call.type_args``), and all of a type given directly. Results keep first-occurrence order:
a function's type parameters come before its parameters and body, a function type's type
parameters and constraints before its argument and return types.
"""

from __future__ import annotations

from collections.abc import Iterator

from typing_extensions import override

from minitvm.ir.adt import Constructor
from minitvm.ir.module import IRModule
from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    IncompleteType,
    RelayRefType,
    TensorType,
    TupleType,
    Type,
    TypeCall,
    TypeVar,
)
from minitvm.ir.type_functor import iter_types
from minitvm.relay.expr import Expr, Var
from minitvm.relay.expr_functor import ExprVisitor
from minitvm.relay.function import Function

__all__ = ["all_type_vars", "bound_type_vars", "free_type_vars"]


class _TypeVarCollector(ExprVisitor):
    """Collect type variables in first-occurrence order, and which of them are bound."""

    def __init__(self, mod: IRModule | None) -> None:
        super().__init__()
        self.mod = mod
        self.all: dict[TypeVar, None] = {}
        self.bound: dict[TypeVar, None] = {}

    def _bind(self, tv: TypeVar) -> None:
        self.all.setdefault(tv, None)
        self.bound.setdefault(tv, None)

    def visit_type(self, root: Type) -> None:
        # iter_types walks a type pre-order; a function type's constraints (not among its
        # children) are walked right after its type parameters, before its argument types.
        walks: list[Iterator[Type]] = [iter_types(root)]
        while walks:
            ty = next(walks[-1], None)
            if ty is None:
                walks.pop()
            elif isinstance(ty, TypeVar):
                self.all.setdefault(ty, None)
            elif isinstance(ty, FuncType):
                for tp in ty.type_params:
                    self._bind(tp)
                walks.extend(iter_types(c) for c in reversed(ty.type_constraints))

    @override
    def visit_children(self, expr: Expr) -> bool:
        # Pre-order: a function's type parameters come before its parameters' annotations.
        if isinstance(expr, Function):
            for tp in expr.type_params:
                self._bind(tp)
        return True

    @override
    def visit_var(self, var: Var) -> None:
        if var.type_annotation is not None:
            self.visit_type(var.type_annotation)

    @override
    def visit_constructor(self, con: Constructor) -> None:
        # The type parameters of the constructor's ADT bind the variables of its field
        # types; only the module knows them (as in TVM).
        data = self.mod.type_definitions.get(con.belong_to) if self.mod is not None else None
        if data is not None:
            for tv in data.type_vars:
                self._bind(tv)
        for ty in con.inputs:
            self.visit_type(ty)


_TYPES = (
    TensorType,
    TupleType,
    FuncType,
    TypeVar,
    IncompleteType,
    GlobalTypeVar,
    TypeCall,
    RelayRefType,
)


def _collect(expr_or_type: Expr | Type, mod: IRModule | None) -> _TypeVarCollector:
    collector = _TypeVarCollector(mod)
    if isinstance(expr_or_type, _TYPES):
        collector.visit_type(expr_or_type)
    else:
        collector.visit(expr_or_type)
    return collector


def free_type_vars(expr: Expr | Type, mod: IRModule | None = None) -> list[TypeVar]:
    """Type variables used in ``expr`` and bound nowhere in it. ``mod`` supplies the type
    parameters of the ADTs whose constructors ``expr`` uses (they bind the variables of the
    constructors' field types)."""
    collector = _collect(expr, mod)
    return [tv for tv in collector.all if tv not in collector.bound]


def bound_type_vars(expr: Expr | Type, mod: IRModule | None = None) -> list[TypeVar]:
    """Type variables bound by ``type_params`` in ``expr``."""
    return list(_collect(expr, mod).bound)


def all_type_vars(expr: Expr | Type, mod: IRModule | None = None) -> list[TypeVar]:
    """Every type variable occurring in ``expr``."""
    return list(_collect(expr, mod).all)
