"""Higher-order reverse-mode automatic differentiation (TVM
``src/relay/transforms/higher_order_gradient.cc``, ``relay.transform.gradient``).

Every tensor value ``t`` of the program becomes a pair ``(t, ref(dt))``: the value and a
reference cell accumulating its gradient (``reverse_type``). Every function gets one more
parameter, ``bp``, a reference to the *backpropagator*: a closure ``fn () -> ()`` that runs
the backward pass of everything computed so far. Each operator call

1. computes the forward value from the arguments' values and pairs it with a fresh
   zero-filled gradient cell;
2. reads the current backpropagator ``b`` and writes a new one into ``bp``: a closure that
   adds this call's contribution (the operator's ``FPrimalGradient`` applied to the result's
   gradient) into the arguments' cells, then calls ``b``.

So the chain of closures replays the calls in reverse order. Calls of functions, closures and
globals pass ``bp`` along; control flow, lets, tuples, references and ADT values carry the
pairs through unchanged, which is why this works for higher-order programs. The driver seeds
the result's cell with ones, calls the final backpropagator and reads the parameters' cells.

Globals the program calls are differentiated once each into ``<name>_grad`` functions added
to the module passed in (as TVM does: the module is extended in place).

The translation is two iterative walks: a pre-order one giving each node the ``bp`` of its
nearest enclosing function, and a post-order one building the result. Like TVM, the input
must not share a sub-expression between two uses (``fGraph``; let-bind it instead), since the
translated code has effects. Deliberate differences from TVM: a shared constant is translated
once per use (TVM shares the translation, which makes a graph); a function type's result type
is reversed too (TVM leaves it, which a let-bound closure's annotation then contradicts);
``annotation.checkpoint`` is not supported (minitvm has no such operator).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import FuncType, RelayRefType, TensorType, TupleType, Type
from minitvm.ir.type_functor import type_children, with_type_children
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
from minitvm.relay.expr_functor import children, iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.op.op import get_gradient
from minitvm.relay.op.tensor import add, ones_like, zeros_like
from minitvm.relay.transform.gradient_common import (
    Lets,
    Pending,
    check_gradient_input,
    checked_type,
    de_global,
    grad_ret_type,
    map_tensors,
    pair,
    zip_tensors,
)
from minitvm.relay.transform.to_a_normal_form import ToANormalFormExpr

__all__ = ["BP_TYPE", "higher_order_gradient", "reverse_type"]

UNIT = TupleType([])
BP_TYPE = RelayRefType(FuncType([], UNIT))
"""The type of ``bp``: a reference to the backpropagator closure."""


def reverse_type(ty: Type) -> Type:
    """A tensor type ``T`` becomes ``(T, ref(T))``; a function type takes ``bp`` last."""
    done: dict[int, Type] = {}
    keep: list[Type] = []  # holds every keyed type alive, so that no id() is reused
    stack: list[tuple[Type, bool]] = [(ty, False)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in done:
            continue
        if isinstance(node, TensorType):
            done[id(node)] = TupleType([node, RelayRefType(node)])
        elif not expanded:
            stack.append((node, True))
            stack.extend((k, False) for k in type_children(node))
            continue
        else:
            kids = [done[id(k)] for k in type_children(node)]
            if isinstance(node, FuncType):
                args, ret = kids[: len(node.arg_types)], kids[len(node.arg_types)]
                done[id(node)] = FuncType(
                    [*args, BP_TYPE], ret, node.type_params, node.type_constraints
                )
            else:
                done[id(node)] = with_type_children(node, kids)
        keep.append(node)
    return done[id(ty)]


def _value(lets: Lets) -> Callable[[Expr, TensorType], Expr]:
    return lambda e, t: lets.push(TupleGetItem(e, 0), t)


def _grad(lets: Lets) -> Callable[[Expr, TensorType], Expr]:
    return lambda e, t: lets.push(RefRead(TupleGetItem(e, 1)), t)


def _rev(lets: Lets) -> Callable[[Expr, TensorType], Expr]:
    """Pair a forward value with a fresh zero-filled gradient cell."""
    return lambda e, t: lets.push(pair(e, RefCreate(zeros_like(e))))


def _update_grad(ty: Type, arg: Expr, grad: Expr, lets: Lets) -> None:
    """Add ``grad`` into the gradient cells of the reverse-mode value ``arg``."""

    def accumulate(parts: list[Expr], t: TensorType) -> Expr:
        cell = lets.push(TupleGetItem(parts[0], 1))
        total = lets.push(add(lets.push(RefRead(cell)), parts[1]), t)
        return lets.push(RefWrite(cell, total))

    zip_tensors(ty, [arg, grad], lets, accumulate)


def _checked(expr: Expr) -> Type:
    return checked_type(expr, "gradient (higher_order)")


class _ReverseAD:
    """Translate one function (and, through the queue, the globals it calls)."""

    def __init__(self, mod: IRModule | None, gvars: dict[GlobalVar, GlobalVar]) -> None:
        self.mod = mod
        self.gvars = gvars
        self.queue: list[GlobalVar] = []
        self.ad_vars: dict[Var, Var] = {}
        self.out: dict[Expr, Expr | Pending] = {}
        self.bp_of: dict[Expr, Var] = {}
        self.func_bp: dict[Function, Var] = {}

    def translate(self, func: Function) -> Function:
        self._assign_contexts(func)
        for node in iter_post_order(func):
            if not isinstance(node, Constant):
                self.out[node] = self._translate(node)
        result = self._tr(func)
        if not isinstance(result, Function):
            raise DiagnosticError("gradient (higher_order): expected a function to translate")
        return result

    def _assign_contexts(self, root: Function) -> None:
        """Each compound node gets the ``bp`` of its nearest enclosing function."""
        stack: list[tuple[Expr, Var | None]] = [(root, None)]
        while stack:
            node, bp = stack.pop()
            if isinstance(node, Var | GlobalVar | Constant | Op | Constructor):
                continue
            if node in self.func_bp or node in self.bp_of:
                raise DiagnosticError(
                    "gradient (higher_order): a sub-expression is shared between two uses "
                    "(a graph); bind it with a let (ToANormalForm) first"
                )
            if bp is not None:
                self.bp_of[node] = bp
            inner = bp
            if isinstance(node, Function):
                inner = Var("bp", BP_TYPE)
                self.func_bp[node] = inner
            for child in children(node):
                if isinstance(child, Op) and not (isinstance(node, Call) and child is node.op):
                    raise DiagnosticError(
                        f"gradient (higher_order): operator {child.name} is used as a value; "
                        "operators may only be called"
                    )
                stack.append((child, inner))

    def _tr(self, expr: Expr) -> Expr:
        """The translation of a child, as an expression."""
        if isinstance(expr, Constant):
            lets = Lets()
            value = lets.push(expr)
            return lets.get(pair(value, RefCreate(zeros_like(value))))
        out = self.out[expr]
        return out.close() if isinstance(out, Pending) else out

    def _tr_into(self, expr: Expr, lets: Lets) -> Var:
        """The translation of a child bound in ``lets``."""
        out = self.out.get(expr)
        if isinstance(out, Pending):
            return lets.push(lets.splice(out))
        return lets.push(self._tr(expr))

    def _var(self, var: Var) -> Var:
        new = self.ad_vars.get(var)
        if new is None:
            ann = var.type_annotation
            new = Var(var.name_hint, None if ann is None else reverse_type(ann))
            self.ad_vars[var] = new
        return new

    def _global(self, gv: GlobalVar) -> GlobalVar:
        if self.mod is None:
            raise DiagnosticError(
                f"gradient (higher_order): the program calls global @{gv.name_hint}; "
                "pass the module that defines it (mod=...)"
            )
        if gv not in self.mod:
            raise DiagnosticError(
                f"gradient (higher_order): the module does not define @{gv.name_hint}"
            )
        new = self.gvars.get(gv)
        if new is None:
            name = f"{gv.name_hint}_grad"
            suffix = 0
            while self.mod.contains_global_var(name + (str(suffix) if suffix else "")):
                suffix += 1
            new = GlobalVar(name + (str(suffix) if suffix else ""))
            self.gvars[gv] = new
            self.queue.append(gv)
        return new

    def _translate(self, node: Expr) -> Expr | Pending:  # noqa: C901  (a flat dispatch over the union)
        tr = self._tr
        match node:
            case Var():
                return self._var(node)
            case GlobalVar():
                return self._global(node)
            case Op() | Constructor():
                return node
            case Constant():
                return tr(node)
            case Tuple():
                return Tuple([tr(f) for f in node.fields])
            case TupleGetItem():
                return TupleGetItem(tr(node.tuple_value), node.index)
            case Call():
                return self._call(node)
            case Function():
                params = [self._var(p) for p in node.params]
                ret = None if node.ret_type is None else reverse_type(node.ret_type)
                body = tr(node.body)
                bp = self.func_bp[node]
                return Function([*params, bp], body, ret, node.type_params, node.attrs)
            case Let():
                return Let(self._var(node.var), tr(node.value), tr(node.body))
            case If():
                cond = TupleGetItem(tr(node.cond), 0)
                return If(cond, tr(node.true_branch), tr(node.false_branch))
            case RefCreate():
                return RefCreate(tr(node.value))
            case RefRead():
                return RefRead(tr(node.ref))
            case RefWrite():
                return RefWrite(tr(node.ref), tr(node.value))
            case Match():
                clauses = [
                    Clause(map_pattern_vars(c.lhs, self._var), tr(c.rhs)) for c in node.clauses
                ]
                return Match(tr(node.data), clauses, node.complete)
            case _:
                assert_never(node)

    def _call(self, call: Call) -> Expr | Pending:
        op = call.op
        if isinstance(op, Op):
            return self._op_call(call, op)
        args = [self._tr(a) for a in call.args]
        if isinstance(op, Constructor):
            return Call(op, args)
        return Call(self._tr(op), [*args, self.bp_of[call]])

    def _op_call(self, call: Call, op: Op) -> Pending:
        fgrad = get_gradient(op)
        if fgrad is None:
            raise DiagnosticError(f"gradient (higher_order): operator {op.name} has no gradient")
        bp = self.bp_of[call]
        out_type = _checked(call)
        arg_types = [_checked(a) for a in call.args]
        lets = Lets()
        args = [self._tr_into(a, lets) for a in call.args]
        value = _value(lets)
        values = [
            map_tensors(t, a, lets, value, same_type=True)
            for t, a in zip(arg_types, args, strict=True)
        ]
        forward = Call(op, values, call.attrs, call.type_args, checked_type_=out_type)
        result = map_tensors(out_type, lets.push(forward, out_type), lets, _rev(lets))
        previous = lets.push(RefRead(bp))
        back = Lets()
        orig = Call(op, values, call.attrs, call.type_args, checked_type_=out_type)
        grads = list(fgrad(orig, map_tensors(out_type, result, back, _grad(back))))
        if len(grads) != len(args):
            raise DiagnosticError(
                f"gradient (higher_order): the gradient of {op.name} gave {len(grads)} "
                f"gradients for {len(args)} arguments"
            )
        bound = _bind_dataflow(grads, back)
        for ty, arg, grad in zip(arg_types, args, bound or grads, strict=True):
            _update_grad(ty, arg, grad, back)
        backprop = Function([], back.get(Call(previous, [])), UNIT)
        # TVM puts every backpropagator in A normal form; dataflow gradients are bound
        # directly above, anything else goes through the pass
        lets.push(RefWrite(bp, backprop if bound else ToANormalFormExpr(backprop)))
        return Pending(lets, result)


def _bind_dataflow(exprs: list[Expr], lets: Lets) -> list[Expr] | None:
    """Bind every call, tuple and projection of ``exprs`` once, operands first (A normal
    form, keeping shared nodes shared); None when they hold anything else."""
    memo: dict[Expr, Expr] = {}
    for root in exprs:
        for node in iter_post_order(root):
            if node in memo:
                continue
            match node:
                case Var() | Constant() | Op() | GlobalVar() | Constructor():
                    memo[node] = node
                case Call():
                    args = [memo[a] for a in node.args]
                    call = Call(memo[node.op], args, node.attrs, node.type_args)
                    memo[node] = lets.push(call)
                case Tuple():
                    memo[node] = lets.push(Tuple([memo[f] for f in node.fields]))
                case TupleGetItem():
                    memo[node] = lets.push(TupleGetItem(memo[node.tuple_value], node.index))
                case _:
                    return None
    return [memo[e] for e in exprs]


def _seed(result: Expr, ty: Type, lets: Lets) -> None:
    """Seed the gradient of the result with ones: the first tensor of a tuple result."""
    while isinstance(ty, TupleType):
        if not ty.fields:
            raise DiagnosticError("gradient (higher_order): the function returns an empty tuple")
        result, ty = lets.push(TupleGetItem(result, 0)), ty.fields[0]
    if not isinstance(ty, TensorType):
        raise DiagnosticError(
            f"gradient (higher_order): the function must return a tensor or a tuple of "
            f"tensors, got {ty}"
        )
    lets.push(RefWrite(TupleGetItem(result, 1), ones_like(TupleGetItem(result, 0))))


def higher_order_gradient(expr: Expr, mod: IRModule | None = None) -> Function:
    """``fn(params) -> (result, (grads...))`` for a typed function of tensor parameters."""
    func = check_gradient_input(de_global(mod, expr), "higher_order")
    gvars: dict[GlobalVar, GlobalVar] = {}
    ad = _ReverseAD(mod, gvars)
    lets = Lets()
    bp = lets.push(RefCreate(Function([], Tuple([]), UNIT)), BP_TYPE, "bp")
    rev = ad.translate(func)
    args = [lets.push(pair(p, RefCreate(zeros_like(p)))) for p in func.params]
    result = lets.push(Call(rev, [*args, bp]))
    body_type = _checked(func.body)
    _seed(result, body_type, lets)
    lets.push(Call(RefRead(bp), []))
    grads = Tuple([RefRead(TupleGetItem(a, 1)) for a in args])
    value = map_tensors(body_type, result, lets, _value(lets))
    body = lets.get(pair(value, grads))
    _translate_globals(ad, mod)
    return Function(func.params, body, grad_ret_type(func), [], func.attrs)


def _translate_globals(first: _ReverseAD, mod: IRModule | None) -> None:
    """Add the ``_grad`` version of every global reached, each translated once."""
    pending = list(first.queue)
    while pending and mod is not None:
        gv = pending.pop()
        func = mod[gv]
        if not isinstance(func, Function):
            raise DiagnosticError(f"gradient (higher_order): @{gv.name_hint} is not a function")
        ad = _ReverseAD(mod, first.gvars)
        try:
            translated = ad.translate(func)
        except DiagnosticError as err:
            raise DiagnosticError(f"{err} (in @{gv.name_hint})") from None
        mod[first.gvars[gv]] = translated
        pending.extend(ad.queue)
