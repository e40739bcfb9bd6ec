"""Constraint generation for type inference: TVM's ``TypeInferencer`` (``type_infer.cc``).

Each expression gets a type that may still contain ``IncompleteType`` variables; the walk posts
unifications and deferred constraints (operator relations, tuple projections) to the
``TypeSolver``, which solves them as it goes. The walk is an explicit stack of
``(node, stage, scope)`` frames: a node's children are typed before it, except that a ``Let``
types its value, binds its variable, then types its body (so let chains need no recursion and
a let-bound polymorphic function is known at its uses), and a ``Function`` binds its parameters
before its body. ``scope`` is the set of type variables bound by enclosing functions.

References, constructors and matches follow the rules in ``adt_typing``: a ``Match`` types
its data, then its clauses' patterns (binding their variables), then their right-hand sides.

Globals are typed callees first: a reference to a global not yet started starts it (its
parameter and return types are fixed first, so recursion and mutual recursion see them) and
types its body before the caller goes on. A polymorphic callee is instantiated with fresh
variables at each call, which fills ``Call.type_args``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeAlias

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
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
    type_str,
)
from minitvm.ir.type_functor import free_type_vars, is_complete
from minitvm.relay.adt import Match
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
from minitvm.relay.location import describe, locate
from minitvm.relay.transform.adt_typing import AdtTyping
from minitvm.relay.type_solver import Constraint, TypeSolver, UnifyError, instantiate

__all__ = ["TypeInferencer", "Typing"]

Scope: TypeAlias = frozenset[TypeVar]
Frame: TypeAlias = tuple[Expr, int, Scope]

_BOOL = TensorType((), "bool")


def _argument(index: int, callee: str) -> str:
    return f"argument {index} of the call of {callee}"


@dataclass(frozen=True, slots=True)
class Typing:
    """The solved types: one per typed expression, and the filled ``type_args`` of calls."""

    types: dict[Expr, Type]
    type_args: dict[Call, tuple[Type, ...]]


class _Deferred(Constraint):
    def __init__(self, inferencer: TypeInferencer, where: Expr) -> None:
        super().__init__()
        self.inferencer = inferencer
        self.where = where

    def stuck_error(self) -> DiagnosticError:
        raise NotImplementedError


class _OpRelation(_Deferred):
    """An operator's type relation, applied once every argument type is known."""

    def __init__(
        self, inferencer: TypeInferencer, call: Call, arg_types: list[Type], out: Type
    ) -> None:
        super().__init__(inferencer, call)
        self.call = call
        self.arg_types = arg_types
        self.out = out

    @override
    def blocker(self, solver: TypeSolver) -> IncompleteType | None:
        for ty in self.arg_types:
            hole = solver.first_hole(ty)
            if hole is not None:
                return hole
        return None

    @override
    def fire(self, solver: TypeSolver) -> None:
        result = self.inferencer.apply_relation(self.call, self.arg_types)
        op = self.call.op

        def what() -> str:
            return f"the result of {describe(op)} (its type relation gives `{result}`)"

        self.inferencer.unify(self.out, result, self.call, what)

    @override
    def stuck_error(self) -> DiagnosticError:
        solver = self.inferencer.solver
        unknown = [
            f"argument {i} has type `{solver.resolve(t)}`"
            for i, t in enumerate(self.arg_types)
            if solver.first_hole(t) is not None
        ]
        return self.inferencer.error(
            self.call,
            f"cannot infer the argument types of {describe(self.call.op)}: "
            f"{', '.join(unknown)}; annotate the variables they come from",
        )


class _Projection(_Deferred):
    """``tuple.index`` of a tuple whose type is not yet known."""

    def __init__(
        self, inferencer: TypeInferencer, item: TupleGetItem, tuple_type: Type, out: Type
    ) -> None:
        super().__init__(inferencer, item)
        self.item = item
        self.tuple_type = tuple_type
        self.out = out

    @override
    def blocker(self, solver: TypeSolver) -> IncompleteType | None:
        head = solver.find(self.tuple_type)
        return head if isinstance(head, IncompleteType) else None

    @override
    def fire(self, solver: TypeSolver) -> None:
        field = self.inferencer.project(self.item, self.tuple_type)
        self.inferencer.unify(self.out, field, self.item, describe(self.item))

    @override
    def stuck_error(self) -> DiagnosticError:
        return self.inferencer.error(
            self.item, f"cannot infer the type of the tuple {describe(self.item)} projects from"
        )


class TypeInferencer:
    """Types the functions of a module (``mod`` given) or one standalone expression."""

    def __init__(self, mod: IRModule | None) -> None:
        self.mod = mod
        self.solver = TypeSolver()
        self.types: dict[Expr, Type] = {}
        self.type_args: dict[Call, list[Type]] = {}
        self.fn_ret: dict[Function, Type] = {}
        self.binders: list[tuple[Var | Function, Scope | None]] = []
        """Binding sites and the type variables in scope there; None for the free variables
        of a standalone expression, whose types may mention any type variable."""
        self.roots: list[tuple[Expr, str]] = []
        self.global_types: dict[GlobalVar, Type] = {}
        self.adt = AdtTyping(self)

    # --- entry points -------------------------------------------------------------------

    def infer_global(self, gv: GlobalVar) -> None:
        if gv not in self.global_types:
            stack: list[Frame] = []
            self._start_global(gv, gv, stack)
            self._run(stack)

    def infer_expr(self, expr: Expr) -> None:
        self.roots.append((expr, "expr"))
        self._run([(expr, 0, frozenset())])

    # --- diagnostics --------------------------------------------------------------------

    def error(self, where: Expr, message: str, step: str | None = None) -> DiagnosticError:
        return DiagnosticError(message, locate(self.roots, where, step))

    def unify(
        self,
        expected: Type,
        actual: Type,
        where: Expr,
        what: str | Callable[[], str],
        step: str | None = None,
    ) -> None:
        """Unify, or raise a DiagnosticError saying ``what`` (a message or, to keep the
        common path cheap, a function making one) did not match."""
        try:
            self.solver.unify(expected, actual)
        except UnifyError as err:
            resolve = self.solver.resolve
            exp, act = resolve(expected), resolve(actual)
            construct = what if isinstance(what, str) else what()
            message = f"{construct}: expected `{type_str(exp)}`, found `{type_str(act)}`"
            inner = (type_str(err.lhs), type_str(err.rhs))
            if inner != (type_str(exp), type_str(act)):
                message += f" (`{inner[0]}` vs `{inner[1]}`" + (
                    f": {err.reason})" if err.reason else ")"
                )
            elif err.reason:
                message += f" ({err.reason})"
            raise self.error(where, message, step) from None

    # --- the walk -----------------------------------------------------------------------

    def _run(self, stack: list[Frame]) -> None:
        types = self.types
        while stack:
            node, stage, scope = stack.pop()
            if stage == 0:
                if node not in types:
                    self._enter(node, scope, stack)
            else:
                self._exit(node, stage, scope, stack)

    def declared_type(self, var: Var) -> Type | None:
        """The type a binder was given: its annotation (checked to name only defined ADTs),
        or for InferTypeLocal the type it already carries."""
        if self.mod is None and var.checked_type_ is not None:
            return var.checked_type_
        self.adt.check_type(var.type_annotation, var)
        return var.type_annotation

    def _binder_type(self, var: Var) -> Type:
        declared = self.declared_type(var)
        return declared if declared is not None else self.solver.fresh()

    def _enter(self, node: Expr, scope: Scope, stack: list[Frame]) -> None:  # noqa: C901
        if self.mod is None and node.checked_type_ is not None:
            # InferTypeLocal trusts types already present (as TVM's subgraph extractor does).
            self.types[node] = node.checked_type_
            return
        match node:
            case Var():
                if self.mod is not None:
                    raise self.error(node, f"variable {describe(node)} is not bound here")
                self.types[node] = self._binder_type(node)
                self.binders.append((node, None))
            case GlobalVar():
                self._global_ref(node, stack)
            case Constant():
                self.types[node] = TensorType(node.data.shape, node.data.dtype)
            case Op():
                message = f"{describe(node)} is used as a value; operators can only be called"
                raise self.error(node, message)
            case Tuple():
                stack.append((node, 1, scope))
                stack.extend((f, 0, scope) for f in reversed(node.fields))
            case TupleGetItem():
                stack.append((node, 1, scope))
                stack.append((node.tuple_value, 0, scope))
            case Call():
                stack.append((node, 1, scope))
                stack.extend((a, 0, scope) for a in reversed(node.args))
                if not isinstance(node.op, Op):
                    stack.append((node.op, 0, scope))
            case Function():
                self._enter_function(node, scope, stack)
            case Let():
                # The variable is in scope in its value only when the value is a function
                # (recursion); otherwise an un-annotated variable simply takes the value's
                # type at stage 1.
                var = node.var
                if var not in self.types:
                    declared = self.declared_type(var)
                    if declared is not None:
                        self.types[var] = declared
                    elif isinstance(node.value, Function):
                        self.types[var] = self.solver.fresh()
                self.binders.append((var, scope))
                stack.append((node, 1, scope))
                stack.append((node.value, 0, scope))
            case If():
                stack.append((node, 1, scope))
                stack.append((node.false_branch, 0, scope))
                stack.append((node.true_branch, 0, scope))
                stack.append((node.cond, 0, scope))
            case Constructor():
                self.types[node] = self.adt.constructor_type(node)
            case RefCreate():
                stack.append((node, 1, scope))
                stack.append((node.value, 0, scope))
            case RefRead():
                stack.append((node, 1, scope))
                stack.append((node.ref, 0, scope))
            case RefWrite():
                stack.append((node, 1, scope))
                stack.append((node.value, 0, scope))
                stack.append((node.ref, 0, scope))
            case Match():
                stack.append((node, 1, scope))
                stack.append((node.data, 0, scope))

    def _exit(  # noqa: C901  (a flat dispatch over the union)
        self, node: Expr, stage: int, scope: Scope, stack: list[Frame]
    ) -> None:
        types = self.types
        match node:
            case Tuple():
                types[node] = TupleType([types[f] for f in node.fields])
            case TupleGetItem():
                types[node] = self._tuple_get_item(node)
            case Call():
                arg_types = [types[a] for a in node.args]
                if isinstance(node.op, Op):
                    types[node] = self._op_call(node, node.op, arg_types)
                else:
                    types[node] = self._general_call(node, arg_types)
            case Function():
                self._exit_function(node)
            case Let() if stage == 1:
                var = node.var
                if var not in types:
                    types[var] = types[node.value]
                else:
                    self.unify(
                        types[var],
                        types[node.value],
                        node,
                        lambda: f"the value bound to {describe(var)}",
                        "value",
                    )
                stack.append((node, 2, scope))
                stack.append((node.body, 0, scope))
            case Let():
                types[node] = types[node.body]
            case If():
                self.unify(_BOOL, types[node.cond], node, "the condition of the if", "cond")
                then, other = types[node.true_branch], types[node.false_branch]
                what = "the false branch of the if (it must match the true branch)"
                self.unify(then, other, node, what, "false_branch")
                types[node] = self._join(then, other)
            case RefCreate() | RefRead() | RefWrite():
                types[node] = self.adt.ref_type(node)
            case Match() if stage == 1:
                self.adt.bind_patterns(node, scope)
                stack.append((node, 2, scope))
                stack.extend((c.rhs, 0, scope) for c in reversed(node.clauses))
            case Match():
                types[node] = self.adt.match_type(node)
            case _:
                raise AssertionError(f"no exit stage for {type(node).__name__}")

    def _join(self, then: Type, other: Type) -> Type:
        # As TVM's unifier returns the less polymorphic of two function types, an `if` whose
        # branches are `id` (polymorphic) and a monomorphic function has the monomorphic type.
        a, b = self.solver.find(then), self.solver.find(other)
        if isinstance(a, FuncType) and isinstance(b, FuncType):
            return other if len(b.type_params) < len(a.type_params) else then
        return then

    # --- functions and globals ----------------------------------------------------------

    def _enter_function(self, fn: Function, scope: Scope, stack: list[Frame]) -> None:
        inner = scope | frozenset(fn.type_params) if fn.type_params else scope
        for param in fn.params:
            if param not in self.types:
                self.types[param] = self._binder_type(param)
            self.binders.append((param, inner))
        if fn not in self.fn_ret:
            self.adt.check_type(fn.ret_type, fn)
            self.fn_ret[fn] = fn.ret_type if fn.ret_type is not None else self.solver.fresh()
        self.binders.append((fn, inner))
        stack.append((fn, 1, inner))
        stack.append((fn.body, 0, inner))

    def _exit_function(self, fn: Function) -> None:
        body_type = self.types[fn.body]
        head = self.solver.find(body_type)
        if isinstance(head, FuncType) and head.type_params:
            # A function cannot return a polymorphic function: instantiate it (as TVM does).
            body_type = self._instantiate(head, [])[0]
        what = "the body of the function (its return type)"
        self.unify(self.fn_ret[fn], body_type, fn, what, "body")
        params = [self.types[p] for p in fn.params]
        self.types[fn] = FuncType(params, self.fn_ret[fn], fn.type_params)

    def _global_ref(self, gv: GlobalVar, stack: list[Frame]) -> None:
        if self.mod is None:
            raise self.error(gv, f"{describe(gv)} cannot be typed without a module")
        if not self.mod.contains_global_var(gv.name_hint):
            raise self.error(gv, f"{describe(gv)} is not defined in the module")
        mod_gv = self.mod.get_global_var(gv.name_hint)
        if mod_gv not in self.global_types:
            self._start_global(mod_gv, gv, stack)
        self.types[gv] = self.global_types[mod_gv]

    def _start_global(self, gv: GlobalVar, where: Expr, stack: list[Frame]) -> None:
        """Fix the global's type from its annotations (variables where there are none), so
        recursive references see it, and schedule its body."""
        assert self.mod is not None
        func = self.mod[gv]
        if not isinstance(func, Function):
            if func.checked_type_ is None:
                raise self.error(where, f"{describe(gv)} is not a Relay function and has no type")
            self.global_types[gv] = func.checked_type_
            return
        params = []
        for param in func.params:
            if param not in self.types:
                self.types[param] = self._binder_type(param)
            params.append(self.types[param])
        self.adt.check_type(func.ret_type, func)
        ret = func.ret_type if func.ret_type is not None else self.solver.fresh()
        self.fn_ret.setdefault(func, ret)
        self.global_types[gv] = FuncType(params, self.fn_ret[func], func.type_params)
        self.roots.append((func, describe(gv)))
        stack.append((func, 0, frozenset()))

    # --- calls --------------------------------------------------------------------------

    def _instantiate(
        self, ft: FuncType, given: list[Type], closed: bool = False
    ) -> tuple[FuncType, list[Type]]:
        """``ft`` applied to ``given`` and fresh type arguments; ``closed`` says ``ft`` has
        no inference variables (a constructor's type), so it needs no resolving first."""
        args = given + [self.solver.fresh() for _ in ft.type_params[len(given) :]]
        if closed:
            return instantiate(ft, args), args
        resolved = self.solver.resolve(ft)
        assert isinstance(resolved, FuncType)
        return instantiate(resolved, args), args

    def _general_call(self, call: Call, arg_types: list[Type]) -> Type:
        callee = self.solver.find(self.types[call.op])
        given = list(call.type_args)
        for ty in given:
            self.adt.check_type(ty, call)
        if isinstance(callee, IncompleteType):
            if given:
                raise self.error(
                    call, f"{describe(call.op)} is given type arguments but is not polymorphic"
                )
            ret = self.solver.fresh()

            def what() -> str:
                return f"{describe(call.op)}, called with {len(arg_types)} argument(s)"

            self.unify(callee, FuncType(arg_types, ret), call, what, "op")
            return ret
        name = describe(call.op)
        if not isinstance(callee, FuncType):
            raise self.error(
                call, f"only functions can be called, but {name} has type `{type_str(callee)}`"
            )
        if len(given) > len(callee.type_params):
            raise self.error(
                call,
                f"{name} takes {len(callee.type_params)} type argument(s), "
                f"but the call gives {len(given)}",
            )
        ft: FuncType = callee
        if callee.type_params:
            closed = isinstance(call.op, Constructor)
            ft, self.type_args[call] = self._instantiate(callee, given, closed)
        if len(ft.arg_types) != len(arg_types):
            raise self.error(
                call,
                f"{name} takes {len(ft.arg_types)} argument(s), "
                f"but the call passes {len(arg_types)}",
            )
        for i, (param, arg) in enumerate(zip(ft.arg_types, arg_types, strict=True)):
            self.unify(param, arg, call, partial(_argument, i, name), f"args[{i}]")
        return ft.ret_type

    def _op_call(self, call: Call, op: Op, arg_types: list[Type]) -> Type:
        definition = op.definition
        if 0 <= definition.num_inputs != len(arg_types):
            raise self.error(
                call,
                f"{describe(op)} takes {definition.num_inputs} argument(s), "
                f"but the call passes {len(arg_types)}",
            )
        if definition.type_rel is None:
            raise self.error(call, f"{describe(op)} has no type relation")
        self.type_args[call] = arg_types
        first_hole = self.solver.first_hole
        for ty in arg_types:
            if first_hole(ty) is not None:
                break
        else:
            return self.apply_relation(call, arg_types)
        out = self.solver.fresh()
        self.solver.add_constraint(_OpRelation(self, call, arg_types, out))
        return out

    def apply_relation(self, call: Call, arg_types: list[Type]) -> Type:
        """Call the operator's type relation on the (fully known) argument types. A
        DiagnosticError it raises gets the call's location; any other exception propagates
        unchanged."""
        assert isinstance(call.op, Op)
        relation = call.op.definition.type_rel
        assert relation is not None
        args = [self.solver.resolve(t) for t in arg_types]
        for i, arg in enumerate(args):
            if not isinstance(arg, TensorType) and free_type_vars(arg):
                raise self.error(
                    call,
                    f"argument {i} of {describe(call.op)} has type `{type_str(arg)}`, which "
                    "contains type variables; type relations need concrete types",
                    f"args[{i}]",
                )
        try:
            result = relation(args, call.attrs)
        except DiagnosticError as err:
            raise self.error(call, f"{describe(call.op)}: {err}") from err
        if not isinstance(
            result,
            TensorType
            | TupleType
            | FuncType
            | TypeVar
            | IncompleteType
            | GlobalTypeVar
            | TypeCall
            | RelayRefType,
        ):
            raise self.error(
                call, f"the type relation of {describe(call.op)} returned {result!r}, not a type"
            )
        return result

    # --- tuples -------------------------------------------------------------------------

    def _tuple_get_item(self, item: TupleGetItem) -> Type:
        tuple_type = self.types[item.tuple_value]
        if not isinstance(self.solver.find(tuple_type), IncompleteType):
            return self.project(item, tuple_type)
        out = self.solver.fresh()
        self.solver.add_constraint(_Projection(self, item, tuple_type, out))
        return out

    def project(self, item: TupleGetItem, tuple_type: Type) -> Type:
        head = self.solver.find(tuple_type)
        if not isinstance(head, TupleType):
            raise self.error(
                item,
                f"{describe(item)} needs a tuple, but the value has type "
                f"`{type_str(self.solver.resolve(head))}`",
            )
        if not 0 <= item.index < len(head.fields):
            raise self.error(
                item,
                f"index {item.index} is out of range for a tuple of {len(head.fields)} field(s) "
                f"(`{type_str(self.solver.resolve(head))}`)",
            )
        return head.fields[item.index]

    # --- results ------------------------------------------------------------------------

    def finish(self) -> Typing:
        """Check that everything was inferred and return the resolved types."""
        for constraint in self.solver.pending():
            if isinstance(constraint, _Deferred):
                raise constraint.stuck_error()
        resolve = self.solver.resolve
        types: dict[Expr, Type] = {}
        for node, ty in self.types.items():
            if type(ty) is TensorType:
                types[node] = ty
                continue
            resolved = resolve(ty)
            if not is_complete(resolved):
                raise self.error(
                    node,
                    f"cannot infer the type of {describe(node)} (found `{type_str(resolved)}`)",
                )
            types[node] = resolved
        type_args: dict[Call, tuple[Type, ...]] = {}
        for call, args in self.type_args.items():
            resolved_args = tuple(resolve(t) for t in args)
            for i, arg in enumerate(resolved_args):
                if not is_complete(arg):
                    raise self.error(call, f"cannot infer type argument {i} of {describe(call)}")
            type_args[call] = resolved_args
        self._check_scopes(types)
        return Typing(types, type_args)

    def _check_scopes(self, types: dict[Expr, Type]) -> None:
        """Every type variable in a binder's type must be bound by an enclosing function
        (or be free in the types of a standalone expression's free variables)."""
        ambient: set[TypeVar] = set()
        for node, scope in self.binders:
            if scope is None and not isinstance(types[node], TensorType):
                ambient.update(free_type_vars(types[node]))
        for node, scope in self.binders:
            if isinstance(node, Function):
                ty = self.solver.resolve(self.fn_ret[node])
                what = f"the return type of {describe(node)}"
            else:
                ty = types[node]
                what = f"the type of {describe(node)}"
            if scope is None or isinstance(ty, TensorType):
                continue
            for tv in free_type_vars(ty):
                if tv not in scope and tv not in ambient:
                    raise self.error(
                        node,
                        f"type variable `{tv}` in {what} (`{type_str(ty)}`) is not a type "
                        "parameter of an enclosing function",
                    )
