"""First-order reverse-mode automatic differentiation (TVM
``src/relay/transforms/first_order_gradient.cc``, ``relay.transform.FirstOrderGradient``).

For pure dataflow functions (variables, constants, tuples, projections and operator calls;
no lets, control flow, references or closures) the tape is built directly, with no closures:

1. the forward pass binds every node's value to a variable and a zero gradient beside it
   (``ADTensor``: ``forward`` and the current ``reverse`` expression), remembering one
   backward action per node;
2. the result's gradient is seeded with ones (every tensor of a tuple result);
3. the actions run in reverse, each adding its operator's ``FPrimalGradient`` into its
   arguments' current gradients (``LiftedAdd`` adds tuples field by field);
4. the function returns ``(result, (gradient of each parameter))``.

A node shared by several uses is computed once and its gradients summed, so graphs are
accepted (unlike the higher-order pass). Both walks are iterative.
"""

from __future__ import annotations

from collections.abc import Callable

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import ModulePass, PassContext, PassInfo
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.expr import Call, Constant, Expr, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.op.op import get_gradient
from minitvm.relay.op.tensor import add, ones, ones_like, zeros, zeros_like
from minitvm.relay.transform.gradient_common import (
    Lets,
    check_gradient_input,
    checked_type,
    grad_ret_type,
    pair,
    zip_tensors,
)

__all__ = ["FirstOrderGradient", "first_order_gradient"]


class _ADTensor:
    """A forward value bound to a variable, and the expression of its gradient so far.
    Mutable: the backward actions replace ``reverse`` as contributions are added."""

    __slots__ = ("forward", "reverse", "type")

    def __init__(self, lets: Lets, forward: Expr, ty: Type) -> None:
        self.type = ty
        self.forward = lets.push(forward, ty)
        self.reverse: Expr = lets.push(_factory(self.forward, ty, zeros, zeros_like))


def _factory(
    like: Expr,
    ty: Type,
    make: Callable[[tuple[int, ...], str], Call],
    make_like: Callable[[Expr], Call],
) -> Expr:
    """``zeros_like``/``ones_like`` of a tensor; a tuple of ``zeros``/``ones`` of each leaf's
    shape for a tuple (TVM's ``MultiFactoryLike``)."""
    if isinstance(ty, TensorType):
        return make_like(like)
    results: list[Expr] = []
    stack: list[tuple[Type, bool]] = [(ty, False)]
    while stack:
        node, expanded = stack.pop()
        if isinstance(node, TensorType):
            results.append(make(node.shape, node.dtype))
        elif isinstance(node, TupleType) and expanded:
            count = len(node.fields)
            fields = results[len(results) - count :]
            del results[len(results) - count :]
            results.append(Tuple(fields))
        elif isinstance(node, TupleType):
            stack.append((node, True))
            stack.extend((f, False) for f in reversed(node.fields))
        else:
            raise DiagnosticError(
                f"gradient (first_order): values must be tensors or tuples of tensors, got {node}"
            )
    return results[0]


def _lifted_add(ty: Type, x: Expr, y: Expr, lets: Lets) -> Expr:
    """``x + y`` for tensors, field by field for tuples."""
    return zip_tensors(ty, [x, y], lets, lambda xy, t: lets.push(add(xy[0], xy[1]), t))


def _checked(expr: Expr) -> Type:
    return checked_type(expr, "gradient (first_order)", annotation=True)


Action = Callable[[Lets], None]


class _FirstOrderAD:
    def __init__(self, lets: Lets) -> None:
        self.lets = lets
        self.env: dict[Expr, _ADTensor] = {}
        self.actions: list[Action] = []

    def run(self, func: Function, params: list[_ADTensor]) -> _ADTensor:
        for p, ad in zip(func.params, params, strict=True):
            self.env[p] = ad
        nodes = list(iter_post_order(func.body, lambda e: not isinstance(e, Function)))
        for node in nodes:
            _check_dataflow(node)
        for node in nodes:
            if node not in self.env and not isinstance(node, Op):
                self.env[node] = self._visit(node)
        return self.env[func.body]

    def _visit(self, node: Expr) -> _ADTensor:
        lets = self.lets
        match node:
            case Constant():
                return _ADTensor(lets, node, _checked(node))
            case Tuple():
                fields = [self.env[f] for f in node.fields]
                ty = _checked(node)
                ret = _ADTensor(lets, Tuple([f.forward for f in fields]), ty)
                self.actions.append(lambda ll: self._tuple_back(fields, ret, ll))
                return ret
            case TupleGetItem():
                tup = self.env[node.tuple_value]
                ret = _ADTensor(lets, TupleGetItem(tup.forward, node.index), _checked(node))
                self.actions.append(lambda ll: self._getitem_back(tup, node.index, ret, ll))
                return ret
            case Call(op=Op() as op):
                return self._op_call(node, op)
            case Var():
                raise DiagnosticError(
                    f"gradient (first_order): free variable %{node.name_hint}; the function "
                    "must be closed"
                )
            case _:
                _check_dataflow(node)
                raise DiagnosticError(f"gradient (first_order): unexpected {type(node).__name__}")

    def _op_call(self, call: Call, op: Op) -> _ADTensor:
        fgrad = get_gradient(op)
        if fgrad is None:
            raise DiagnosticError(f"gradient (first_order): operator {op.name} has no gradient")
        args = [self.env[a] for a in call.args]
        out_type = _checked(call)
        forwards = [a.forward for a in args]
        orig = Call(op, forwards, call.attrs, call.type_args, checked_type_=out_type)
        ret = _ADTensor(self.lets, orig, out_type)

        def back(ll: Lets) -> None:
            grads = list(fgrad(orig, ret.reverse))
            if len(grads) != len(args):
                raise DiagnosticError(
                    f"gradient (first_order): the gradient of {op.name} gave {len(grads)} "
                    f"gradients for {len(args)} arguments"
                )
            for arg, grad in zip(args, grads, strict=True):
                arg.reverse = _lifted_add(arg.type, arg.reverse, grad, ll)

        self.actions.append(back)
        return ret

    @staticmethod
    def _tuple_back(fields: list[_ADTensor], ret: _ADTensor, lets: Lets) -> None:
        for i, field in enumerate(fields):
            grad = TupleGetItem(ret.reverse, i)
            field.reverse = _lifted_add(field.type, field.reverse, grad, lets)

    @staticmethod
    def _getitem_back(tup: _ADTensor, index: int, ret: _ADTensor, lets: Lets) -> None:
        ty = tup.type
        if not isinstance(ty, TupleType):
            raise DiagnosticError(f"gradient (first_order): projection out of a {ty}")
        updated: list[Expr] = []
        for i, field_type in enumerate(ty.fields):
            before = TupleGetItem(tup.reverse, i)
            if i == index:
                updated.append(_lifted_add(field_type, before, ret.reverse, lets))
            else:
                updated.append(before)
        tup.reverse = lets.push(Tuple(updated))


def _check_dataflow(node: Expr) -> None:
    if isinstance(node, Var | Constant | Tuple | TupleGetItem | Op):
        return
    if isinstance(node, Call) and isinstance(node.op, Op):
        return
    raise DiagnosticError(
        f"gradient (first_order): {type(node).__name__} is not supported; first-order AD takes "
        "pure dataflow functions (variables, constants, tuples, projections and operator "
        "calls): use mode='higher_order'"
    )


def first_order_gradient(func: Function) -> Function:
    """``fn(params) -> (result, (grads...))`` of a typed dataflow function."""
    func = check_gradient_input(func, "first_order")
    lets = Lets()
    ad = _FirstOrderAD(lets)
    params = [_ADTensor(lets, p, _checked(p)) for p in func.params]
    res = ad.run(func, params)
    back = Lets()
    res.reverse = _factory(res.forward, res.type, ones, ones_like)
    for action in reversed(ad.actions):
        action(back)
    grads = back.get(Tuple([p.reverse for p in params]))
    body = lets.get(pair(res.forward, grads))
    return Function(func.params, body, grad_ret_type(func), [], func.attrs)


def _transform(mod: IRModule, ctx: PassContext) -> IRModule:
    result = mod.copy()
    for gv, func in mod.functions.items():
        if isinstance(func, Function):
            result[gv] = first_order_gradient(func)
    return result


def FirstOrderGradient() -> ModulePass:  # noqa: N802  (TVM's name)
    """The module pass: every Relay function of the module becomes its first-order gradient,
    each independently (opt_level 0). The functions must be type checked."""
    return ModulePass(_transform, PassInfo(0, "FirstOrderGradient"))
