"""What both automatic differentiation passes share (TVM ``src/relay/transforms/gradient.h``).

Automatic differentiation turns a closed function ``fn(x0, ..., xn) -> r`` of tensor
parameters into ``fn(x0, ..., xn) -> (r, (dx0, ..., dxn))``: the original result paired with
the gradient of (the sum of) the result with respect to each parameter. This module holds the
checks on the input, the result type (``GradRetType``), global lookup (``DeGlobal``) and the
let builder the passes emit code through.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from minitvm.error import DiagnosticError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import FuncType, TensorType, TupleType, Type
from minitvm.relay.expr import Expr, Let, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.op.op import get_gradient
from minitvm.relay.transform.to_a_normal_form import LetList

__all__ = [
    "Lets",
    "Pending",
    "check_gradient_input",
    "checked_type",
    "de_global",
    "grad_ret_type",
    "map_tensors",
    "zip_tensors",
    "missing_gradients",
    "pair",
    "with_gradient_type",
]


class Lets:
    """A let list that names each pushed value with a fresh variable (TVM's ``LetList``).

    A pushed value that is itself a let chain is spliced in binding by binding (its
    variables are fresh or bound once in the program), so nested translations come out as
    one flat chain rather than lets nested in let values.
    """

    __slots__ = ("_list",)

    def __init__(self) -> None:
        self._list = LetList()

    def push(self, value: Expr, ty: Type | None = None, name: str = "x") -> Var:
        while isinstance(value, Let):
            self._list.push(value.var, value.value)
            value = value.body
        if isinstance(value, Var) and ty is None:
            return value
        return self._list.push(Var(name, ty), value)

    def splice(self, pending: Pending) -> Expr:
        """Move ``pending``'s bindings here in O(1) and give its result."""
        self._list.splice(pending.lets._list)
        return pending.result

    def get(self, body: Expr) -> Expr:
        return self._list.get(body)


class Pending:
    """A translation not yet closed into a let chain: bindings and the atom they end in.

    Splicing a child's bindings into its parent's list instead of building and re-walking
    a let chain at every level keeps a deep chain of calls linear."""

    __slots__ = ("lets", "result")

    def __init__(self, lets: Lets, result: Expr) -> None:
        self.lets = lets
        self.result = result

    def close(self) -> Expr:
        return self.lets.get(self.result)


def zip_tensors(
    ty: Type,
    exprs: Sequence[Expr],
    lets: Lets,
    leaf: Callable[[list[Expr], TensorType], Expr],
    other: Callable[[list[Expr], Type], Expr] | None = None,
    same_type: bool = False,
) -> Expr:
    """Walk values of one type ``ty`` side by side, tensor by tensor, rebuilding their tuples
    (TVM's ``LiftTensor``): the tensors ``ts`` at one position become ``leaf(ts, type)``,
    reached through let-bound projections. Parts of any other type become
    ``other(parts, type)``, or are an error when ``other`` is None. Iterative over the depth
    of the type. With ``same_type`` (the leaves keep their types) each rebuilt tuple is
    annotated with its type."""
    results: list[Expr] = []
    stack: list[tuple[Type, list[Expr], bool]] = [(ty, list(exprs), False)]
    while stack:
        node, es, expanded = stack.pop()
        if isinstance(node, TensorType):
            results.append(leaf(es, node))
        elif isinstance(node, TupleType) and expanded:
            count = len(node.fields)
            fields = results[len(results) - count :]
            del results[len(results) - count :]
            results.append(lets.push(Tuple(fields), node if same_type else None))
        elif isinstance(node, TupleType):
            stack.append((node, es, True))
            parts: list[list[Expr]] = [
                [lets.push(TupleGetItem(e, i)) for e in es] for i in range(len(node.fields))
            ]
            pending = [(f, part, False) for f, part in zip(node.fields, parts, strict=True)]
            stack.extend(reversed(pending))
        elif other is not None:
            results.append(other(es, node))
        else:
            raise DiagnosticError(
                f"automatic differentiation handles tensors and tuples of tensors, got {node}"
            )
    return results[0]


def map_tensors(
    ty: Type,
    expr: Expr,
    lets: Lets,
    leaf: Callable[[Expr, TensorType], Expr],
    other: Callable[[Expr, Type], Expr] | None = None,
    same_type: bool = False,
) -> Expr:
    """``zip_tensors`` over one value."""
    return zip_tensors(
        ty,
        [expr],
        lets,
        lambda es, t: leaf(es[0], t),
        None if other is None else (lambda es, t: other(es[0], t)),
        same_type,
    )


def pair(first: Expr, second: Expr) -> Tuple:
    return Tuple([first, second])


def de_global(mod: IRModule | None, expr: Expr) -> Expr:
    """A global variable's function in ``mod``; anything else unchanged."""
    if isinstance(expr, GlobalVar) and mod is not None and expr in mod:
        func = mod[expr]
        if isinstance(func, Function):
            return func
    return expr


def with_gradient_type(ty: FuncType) -> FuncType:
    """The type of the gradient of a function of type ``ty`` (TVM's ``WithGradientType``)."""
    return FuncType(ty.arg_types, TupleType([ty.ret_type, TupleType(ty.arg_types)]))


def grad_ret_type(func: Function) -> Type | None:
    """The gradient's return type when ``func`` annotates its result and every parameter;
    None (left to InferType) otherwise."""
    if func.ret_type is None:
        return None
    params: list[Type] = []
    for p in func.params:
        if p.type_annotation is None:
            return None
        params.append(p.type_annotation)
    return TupleType([func.ret_type, TupleType(params)])


def missing_gradients(expr: Expr) -> list[str]:
    """The operators called in ``expr`` that have no registered gradient, sorted."""
    names = {
        node.name
        for node in iter_post_order(expr)
        if isinstance(node, Op) and get_gradient(node) is None
    }
    return sorted(names)


def checked_type(expr: Expr, who: str, annotation: bool = False) -> Type:
    """``expr``'s checked type (with ``annotation``, a variable's annotated type when it has
    none), or a DiagnosticError from ``who`` asking for InferType."""
    ty = expr.checked_type_
    if ty is None and annotation and isinstance(expr, Var):
        ty = expr.type_annotation
    if ty is None:
        raise DiagnosticError(
            f"{who}: {type(expr).__name__} {expr} has no checked type; run InferType first"
        )
    return ty


def _param_type(param: Var) -> Type | None:
    return param.checked_type_ if param.checked_type_ is not None else param.type_annotation


def check_gradient_input(expr: Expr, mode: str) -> Function:
    """The function to differentiate, or a DiagnosticError saying why it cannot be."""
    if not isinstance(expr, Function):
        raise DiagnosticError(
            f"gradient ({mode}): expected a Relay function (or a global of the module naming "
            f"one), got {type(expr).__name__}"
        )
    if expr.type_params:
        raise DiagnosticError(
            f"gradient ({mode}): polymorphic functions are not supported; the function has "
            f"type parameters {[t.name_hint for t in expr.type_params]}"
        )
    if expr.body.checked_type_ is None:
        raise DiagnosticError(
            f"gradient ({mode}): the function is not type checked; run InferType first"
        )
    for index, p in enumerate(expr.params):
        ty = _param_type(p)
        if not isinstance(ty, TensorType):
            raise DiagnosticError(
                f"gradient ({mode}): parameter {index} (%{p.name_hint}) must be a tensor, got {ty}"
            )
    missing = missing_gradients(expr)
    if missing:
        raise DiagnosticError(
            f"gradient ({mode}): no gradient is registered for operator(s) {', '.join(missing)}"
        )
    return expr
