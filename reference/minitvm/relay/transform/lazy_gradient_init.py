"""LazyGradientInit: build zero and one tensors only when they are read (TVM
``src/relay/transforms/lazy_gradient_init.cc``).

Meant for the output of ``gradient``, which fills every gradient cell with ``zeros_like``
and seeds the result with ``ones_like``. Every tensor value of a function becomes a
``GradCell`` (``std/gradient.rly``): ``Raw(t)`` for a computed tensor, ``Zero(f)``/``One(f)``
for a call of ``zeros``/``zeros_like``/``ones``/``ones_like``, where ``f`` is a closure that
builds the tensor. ``add`` and ``multiply`` of two operands of the same type call
``AddGradCell``/``MultiplyGradCell``, which skip adding a zero or multiplying by a one; any
other operator reads its operands with ``FromGradCell`` and wraps its result in ``Raw``. The
rewritten function is wrapped in one that keeps the original signature: it wraps the
parameters, calls the rewritten function and unwraps the result.

A function pass (opt_level 2); it imports ``gradient.rly`` into the module. A function with
no tensor value, or with an ADT value holding tensors (``List[int32]``), is left unchanged:
its cells would sit inside the ADT, where no wrapper reaches. Deliberate differences from TVM:
``zeros_like`` makes a ``Zero`` cell (TVM makes a ``One``, which ``MultiplyGradCell`` then
treats as the identity, changing results); an If's condition is unwrapped; a call of a global
(which keeps its signature) unwraps the arguments it declares as tensors and wraps its
result, and closures crossing that boundary get adapters; operators with tuple operands or
results (``concatenate``, ``split``) are wrapped and unwrapped tensor by tensor; a function
sharing a sub-expression (a graph, as first-order gradients are) is put in A normal form
first (TVM rejects it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, get_pass, register_pass
from minitvm.ir.type import FuncType, TensorType, Type, TypeCall
from minitvm.ir.type_functor import iter_types, map_type
from minitvm.relay.adt import Clause, Match, map_pattern_vars
from minitvm.relay.analysis.feature import Feature, detect_feature
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
from minitvm.relay.expr_functor import children, iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.transform.function_pass import FunctionFunc, FunctionPass
from minitvm.relay.transform.gradient_common import Lets, Pending, checked_type, map_tensors
from minitvm.relay.transform.to_a_normal_form import ToANormalFormExpr

__all__ = ["LazyGradientInit"]

_LAZY = {"ones": "One", "ones_like": "One", "zeros": "Zero", "zeros_like": "Zero"}
_OVERLOADED = {"add": "AddGradCell", "multiply": "MultiplyGradCell"}


def _has_tensor(ty: Type) -> bool:
    return any(isinstance(t, TensorType) for t in iter_types(ty))


def _checked(expr: Expr) -> Type:
    return checked_type(expr, "LazyGradientInit")


class _Lazy:
    """Rewrite one function; ``mod`` holds ``gradient.rly``'s definitions."""

    def __init__(self, mod: IRModule, signatures: dict[GlobalVar, Type]) -> None:
        self.mod = mod
        self.signatures = signatures
        self.cell = mod.get_global_type_var("GradCell")
        self.ctors = {
            c.name_hint: c for c in mod.get_type("GradCell") if isinstance(c, Constructor)
        }
        self.from_cell = mod.get_global_var("FromGradCell")
        self.vars: dict[Var, Var] = {}
        self.out: dict[Expr, Expr | Pending] = {}

    def lazy_type(self, ty: Type) -> Type:
        """Each tensor type ``T`` becomes ``GradCell[T]``."""
        return map_type(
            ty, lambda t: TypeCall(self.cell, [t]) if isinstance(t, TensorType) else None
        )

    def wrap(self, expr: Expr, ty: Type, lets: Lets) -> Expr:
        """A plain value of type ``ty`` as cells."""
        raw = self.ctors["Raw"]
        adapt = self._adapter(to_cells=True)
        return map_tensors(ty, expr, lets, lambda e, t: Call(raw, [e]), adapt)

    def unwrap(self, expr: Expr, ty: Type, lets: Lets) -> Expr:
        """A value of plain type ``ty`` held as cells, as a plain value."""
        from_cell = self.from_cell
        adapt = self._adapter(to_cells=False)
        return map_tensors(ty, expr, lets, lambda e, t: Call(from_cell, [e]), adapt)

    def _adapter(self, to_cells: bool) -> Callable[[Expr, Type], Expr]:
        """Closures cross a boundary through an adapter converting their arguments and
        result (recursing over the nesting of function types, not of the program)."""

        def adapt(expr: Expr, ty: Type) -> Expr:
            if not isinstance(ty, FuncType) or not _has_tensor(ty):
                return expr
            lets = Lets()
            params = [Var("p") for _ in ty.arg_types]
            if to_cells:  # a plain closure, called with cells
                args = [self.unwrap(p, t, lets) for p, t in zip(params, ty.arg_types, strict=True)]
                result = self.wrap(lets.push(Call(expr, args)), ty.ret_type, lets)
            else:  # a closure on cells, called with plain values
                args = [self.wrap(p, t, lets) for p, t in zip(params, ty.arg_types, strict=True)]
                result = self.unwrap(lets.push(Call(expr, args)), ty.ret_type, lets)
            return Function(params, lets.get(result))

        return adapt

    def run(self, func: Function) -> Function:
        # the rewritten function gets parameters of its own: the wrapper binds the originals
        for p in func.params:
            ann = p.type_annotation
            self.vars[p] = Var(p.name_hint, None if ann is None else self.lazy_type(ann))
        for node in iter_post_order(func):
            if not isinstance(node, Constant):
                self.out[node] = self._rewrite(node)
        result = self.out[func]
        if not isinstance(result, Function):
            raise DiagnosticError("LazyGradientInit: the rewrite did not give a function")
        lets = Lets()
        args = [self.wrap(p, _checked(p), lets) for p in func.params]
        inner = Function(result.params, result.body, result.ret_type, [], result.attrs)
        value = lets.push(Call(inner, args))
        body = lets.get(self.unwrap(value, _checked(func.body), lets))
        return Function(func.params, body, func.ret_type, func.type_params, func.attrs)

    def _tr(self, expr: Expr) -> Expr:
        """The rewrite of a child, as an expression."""
        if isinstance(expr, Constant):
            return Call(self.ctors["Raw"], [expr])
        out = self.out[expr]
        return out.close() if isinstance(out, Pending) else out

    def _tr_into(self, expr: Expr, lets: Lets) -> Var:
        """The rewrite of a child bound in ``lets``: a call's bindings are spliced in, so a
        deep chain of calls is rewritten in linear time."""
        out = self.out.get(expr)
        if isinstance(out, Pending):
            return lets.push(lets.splice(out))
        return lets.push(self._tr(expr))

    def _var(self, var: Var) -> Var:
        new = self.vars.get(var)
        if new is None:
            ann = var.type_annotation
            new = (
                var
                if ann is None or not _has_tensor(ann)
                else Var(var.name_hint, self.lazy_type(ann))
            )
            self.vars[var] = new
        return new

    def _rewrite(self, node: Expr) -> Expr | Pending:  # noqa: C901  (a flat dispatch over the union)
        tr = self._tr
        match node:
            case Var():
                return self._var(node)
            case GlobalVar() | Op() | Constructor() | Constant():
                return node
            case Tuple():
                return _same(node, Tuple([tr(f) for f in node.fields]))
            case TupleGetItem():
                return _same(node, TupleGetItem(tr(node.tuple_value), node.index))
            case Call():
                return self._call(node)
            case Function():
                params = [self._var(p) for p in node.params]
                ret = None if node.ret_type is None else self.lazy_type(node.ret_type)
                new = Function(params, tr(node.body), ret, node.type_params, node.attrs)
                return _same(node, new)
            case Let():
                return _same(node, Let(self._var(node.var), tr(node.value), tr(node.body)))
            case If():
                lets = Lets()
                cond = self.unwrap(lets.push(tr(node.cond)), _checked(node.cond), lets)
                return lets.get(If(cond, tr(node.true_branch), tr(node.false_branch)))
            case RefCreate():
                return _same(node, RefCreate(tr(node.value)))
            case RefRead():
                return _same(node, RefRead(tr(node.ref)))
            case RefWrite():
                return _same(node, RefWrite(tr(node.ref), tr(node.value)))
            case Match():
                clauses = [
                    Clause(map_pattern_vars(c.lhs, self._var), tr(c.rhs)) for c in node.clauses
                ]
                return _same(node, Match(tr(node.data), clauses, node.complete))
            case _:
                assert_never(node)

    def _call(self, call: Call) -> Expr | Pending:
        op = call.op
        if isinstance(op, Op):
            return self._op_call(call, op)
        if isinstance(op, GlobalVar):
            # the global keeps its signature: hand it plain tensors where it declares tensors
            # (a type variable takes the cells as they are), wrap the tensors it returns
            callee = self.signatures.get(op)
            if isinstance(callee, FuncType):
                lets = Lets()
                cells = [self._tr_into(a, lets) for a in call.args]
                plain = [
                    self.unwrap(c, t, lets) for c, t in zip(cells, callee.arg_types, strict=True)
                ]
                result = lets.push(Call(op, plain))
                return Pending(lets, self.wrap(result, callee.ret_type, lets))
        args = [self._tr(a) for a in call.args]
        return _same(call, Call(self._tr(op), args))

    def _op_call(self, call: Call, op: Op) -> Pending:
        """The operands' cells are bound first (so their effects happen once, in order); the
        operator reads plain tensors out of them with ``FromGradCell``."""
        out_type = _checked(call)
        outer = Lets()
        cells = [self._tr_into(a, outer) for a in call.args]
        arg_types = [_checked(a) for a in call.args]

        def plain(lets: Lets) -> Call:
            args = [self.unwrap(c, t, lets) for c, t in zip(cells, arg_types, strict=True)]
            return Call(op, args, call.attrs, call.type_args)

        if op.name in _LAZY and isinstance(out_type, TensorType):
            inner = Lets()
            thunk = Function([], inner.get(plain(inner)), out_type)
            return Pending(outer, Call(self.ctors[_LAZY[op.name]], [thunk]))
        overloaded = _OVERLOADED.get(op.name)
        if overloaded is not None and len(arg_types) == 2:
            lhs_t, rhs_t = arg_types
            if isinstance(lhs_t, TensorType) and lhs_t == rhs_t:
                lhs, rhs = Var("lhs", lhs_t), Var("rhs", lhs_t)
                fallback = Function([lhs, rhs], Call(op, [lhs, rhs]), lhs_t)
                gv = self.mod.get_global_var(overloaded)
                return Pending(outer, Call(gv, [fallback, *cells]))
        result = outer.push(plain(outer), out_type)
        return Pending(outer, self.wrap(result, out_type, outer))


def _same(old: Expr, new: Expr) -> Expr:
    """``old`` itself when ``new`` has the same children (nothing was rewritten below)."""
    same = all(a is b for a, b in zip(children(old), children(new), strict=False))
    return old if same and len(children(old)) == len(children(new)) else new


def _without_sharing(func: Function, mod: IRModule) -> Function:
    """``func`` in A normal form and typed, when it shares a sub-expression (a graph, such as
    first-order gradients make): the rewrite binds values with lets, which a shared node
    would duplicate. (TVM rejects such input.)"""
    if Feature.fGraph not in detect_feature(func):
        return func
    normal = ToANormalFormExpr(func)
    if not isinstance(normal, Function):
        raise DiagnosticError("LazyGradientInit: A normal form did not give a function")
    scratch = mod.copy()
    entry = GlobalVar("lazy_gradient_init_entry")
    scratch[entry] = normal
    typed = get_pass("InferType")(scratch)[entry]
    if not isinstance(typed, Function):
        raise DiagnosticError("LazyGradientInit: A normal form did not give a function")
    return typed


def _holds_tensors_in_adts(func: Function) -> bool:
    """Whether a value of ``func`` is an ADT instance holding tensors (``List[int32]``) or a
    constructor takes tensor fields. Its tensors would become cells inside the ADT, which the
    wrappers at the function's boundary and at calls of globals cannot convert."""
    for node in iter_post_order(func):
        if isinstance(node, Constructor):
            if any(_has_tensor(t) for t in node.inputs):
                return True
            continue
        ty = node.checked_type_ if node.checked_type_ is not None else None
        if ty is None and isinstance(node, Var):
            ty = node.type_annotation
        if ty is not None and any(
            isinstance(t, TypeCall) and any(_has_tensor(a) for a in t.args) for t in iter_types(ty)
        ):
            return True
    return False


def _has_tensor_values(func: Function) -> bool:
    return any(
        node.checked_type_ is not None and _has_tensor(node.checked_type_)
        for node in iter_post_order(func)
    )


def _for_module(mod: IRModule) -> FunctionFunc:
    """The pass function for one run. The signatures of the module's globals are taken
    before any function is rewritten: in the module the run updates, a function rewritten
    earlier is not typed again yet."""
    signatures = _signatures(mod)

    def transform(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        if not _has_tensor_values(func) or _holds_tensors_in_adts(func):
            return func
        if not mod.contains_global_var("FromGradCell"):
            # the function pass type checks the module once every function is rewritten
            mod.import_from_std("gradient.rly", type_check=False)
        return _Lazy(mod, signatures).run(_without_sharing(func, mod))

    return transform


def _signatures(mod: IRModule) -> dict[GlobalVar, Type]:
    return {
        gv: func.checked_type_
        for gv, func in mod.functions.items()
        if isinstance(func, Function) and func.checked_type_ is not None
    }


def LazyGradientInit() -> FunctionPass:  # noqa: N802  (TVM's name)
    """Defer the zero and one tensors of gradient programs into ``GradCell`` values."""
    return FunctionPass.per_run(_for_module, PassInfo(2, "LazyGradientInit"), needs_types=True)


register_pass("LazyGradientInit", LazyGradientInit)
