"""FoldConstant: evaluate, at compile time, the operator calls whose arguments are constants.

TVM's ``src/relay/transforms/fold_constant.cc``. The folder rewrites a function bottom-up; a
call of a primitive operator whose arguments are all constants (or tuples of constants) is
evaluated with the interpreter's ``eval_op``, the very kernel the interpreter runs, so a
folded value is bit-identical to what the program would have computed (the approach of xDSL's
``constant_fold_interp``). The result becomes a ``Constant``, or a ``Tuple`` of them for a
multi-output operator. Around that core, TVM's rules:

* never folded: calls with no arguments (folding ``zeros((4, 5))`` only bloats the program),
  calls of anything but an operator, stateful operators (``nn.dropout``), operators marked
  non-computational (unless ``fold_qnn`` and the operator has ``FTVMQnnCanonicalize``);
* ``shape_of`` and ``ndarray_size`` are folded whenever their argument's *type* is known,
  constant or not, by running their kernel on a data-less placeholder of that type;
* a let whose value folds to a constant disappears, the constant replacing every use;
* ``if`` with a constant condition becomes its taken branch (the other is not even folded);
* ``(a, b).0`` becomes ``a``, whatever ``a`` and ``b`` are;
* the bodies of ``Primitive`` functions are left exactly as they are.

References are never folded (``ref``, ``ref_read`` and ``ref_write`` stay as they are), and
neither are constructor calls or matches. Since a program with references has effects, the
projection rule drops the other fields of a tuple only when none of them may have an effect:
reading or writing a reference, or calling anything but an operator or a constructor
(outside nested functions). TVM drops them regardless.

minitvm adds two safety rules. A call whose result would have more than
``relay.FoldConstant.max_elements`` elements stays a call, so folding cannot blow up memory
(``broadcast_to`` of a scalar to a huge shape). A call whose evaluation raises a TVMError (a
``take`` from an empty axis, an ill-typed call in an untyped program) stays a call, so the
error happens when, and only if, the program runs it.

The walk is an explicit stack: let chains, call chains and shared DAGs of any depth are
rewritten in time linear in their distinct nodes. Evaluation never depends on the current
target or pass context.
"""

from __future__ import annotations

import math
from typing import Any, assert_never

import numpy as np

from minitvm.error import InternalError, TVMError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, register_config, register_pass
from minitvm.ir.type import TensorType, TupleType, Type
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
from minitvm.relay.expr_functor import children, rebuild
from minitvm.relay.function import Function
from minitvm.relay.interpreter.convert import value_to_expr
from minitvm.relay.interpreter.machine import eval_op, infer_op_type
from minitvm.relay.interpreter.values import Tensor, Value, is_concrete, map_tuples
from minitvm.relay.transform.function_pass import FunctionPass
from minitvm.runtime.ndarray import NDArray

__all__ = ["MAX_ELEMENTS_CONFIG", "FoldConstant", "FoldConstantExpr", "fold_constant"]

MAX_ELEMENTS_CONFIG = "relay.FoldConstant.max_elements"
register_config(
    MAX_ELEMENTS_CONFIG,
    int,
    1 << 26,
    "FoldConstant leaves a call unfolded when its result would have more elements than this "
    "(all fields of a tuple result together); 0 or less means no bound.",
)

_ATOMS = (Var, GlobalVar, Constant, Op, Constructor)
_ENTER, _BIND, _BRANCH, _EXIT = 0, 1, 2, 3
"""Walk phases: first visit; a let's value is done; an if's condition is done; children done."""


def _num_elements(ty: Type) -> int:
    total = 0
    stack = [ty]
    while stack:
        t = stack.pop()
        if isinstance(t, TensorType):
            total += math.prod(t.shape)
        elif isinstance(t, TupleType):
            stack.extend(t.fields)
    return total


def _read_only(data: Any) -> Tensor:
    """A read-only view: a kernel that wrote into its input would change a constant."""
    view: Tensor = np.asarray(data).view()
    view.flags.writeable = False
    return view


def _placeholder(ty: TensorType) -> Tensor:
    """An array of type ``ty`` holding no data: one zero broadcast to the shape."""
    return _read_only(np.broadcast_to(np.zeros((), ty.dtype), ty.shape))


def _may_have_effect(expr: Expr, effects: set[Expr]) -> bool:
    """Whether ``expr`` (whose children are already classified in ``effects``) may read or
    write a reference: it does so itself, calls something other than an operator or a
    constructor, or a child may. A function only has effects when called."""
    match expr:
        case RefRead() | RefWrite():
            return True
        case Function():
            return False
        case Call(op=Op() | Constructor()):
            pass
        case Call():
            return True
        case _:
            pass
    return any(child in effects for child in children(expr))


def _taken_branch(cond: Expr) -> bool | None:
    """The value of a constant ``if`` condition, None when it is not a bool scalar constant."""
    if not isinstance(cond, Constant):
        return None
    data = np.asarray(cond.data)
    if data.dtype != np.bool_ or data.shape != ():
        return None
    return bool(data)


class _ConstantFolder:
    """One rewrite of one expression. ``new`` maps every walked node to its rewrite."""

    def __init__(self, fold_qnn: bool, max_elements: int) -> None:
        self.fold_qnn = fold_qnn
        self.max_elements = max_elements
        self.new: dict[Expr, Expr] = {}
        self.bound: dict[Var, Constant] = {}
        """Let variables whose value folded to a constant: each use becomes the constant."""
        self.const_tuples: set[Expr] = set()
        """Rewritten tuples whose fields are all constants or such tuples."""
        self.effects: set[Expr] = set()
        """Rewritten expressions that may have an effect (see the module docstring)."""

    def get(self, node: Expr) -> Expr:
        """The rewrite of a node already walked (atoms are their own rewrite)."""
        if isinstance(node, Var):
            return self.bound.get(node, node)
        if isinstance(node, _ATOMS):
            return node
        return self.new[node]

    def rewrite(self, root: Expr) -> Expr:
        stack: list[tuple[Expr, int]] = [(root, _ENTER)]
        new = self.new
        while stack:
            node, phase = stack.pop()
            if phase == _ENTER:
                if node not in new and not isinstance(node, _ATOMS):
                    self._enter(node, stack)
            elif phase == _BIND:
                assert isinstance(node, Let)
                value = self.get(node.value)
                if isinstance(value, Constant):
                    self.bound[node.var] = value
                stack.append((node, _EXIT))
                stack.append((node.body, _ENTER))
            elif phase == _BRANCH:
                assert isinstance(node, If)
                stack.append((node, _EXIT))
                taken = _taken_branch(self.get(node.cond))
                if taken is None or not taken:
                    stack.append((node.false_branch, _ENTER))
                if taken is None or taken:
                    stack.append((node.true_branch, _ENTER))
            else:
                new[node] = result = self._finish(node)
                if _may_have_effect(result, self.effects):
                    self.effects.add(result)
        return self.get(root)

    def _enter(self, node: Expr, stack: list[tuple[Expr, int]]) -> None:
        if isinstance(node, Let):
            stack.append((node, _BIND))
            stack.append((node.value, _ENTER))
        elif isinstance(node, If):
            stack.append((node, _BRANCH))
            stack.append((node.cond, _ENTER))
        elif isinstance(node, Function) and node.is_primitive():
            self.new[node] = node
        else:
            stack.append((node, _EXIT))
            stack.extend((child, _ENTER) for child in reversed(children(node)))

    def _finish(self, node: Expr) -> Expr:
        match node:
            case Call():
                return self._call(node)
            case Tuple():
                return self._tuple(node)
            case TupleGetItem():
                value = self.get(node.tuple_value)
                if (
                    isinstance(value, Tuple)
                    and 0 <= node.index < len(value.fields)
                    and not any(
                        f in self.effects for i, f in enumerate(value.fields) if i != node.index
                    )
                ):  # the other fields are dropped, so they must have no effect
                    return value.fields[node.index]
                return rebuild(node, self.get)
            case Let():
                # A let whose value folded is gone: its constant replaced the variable.
                return self.get(node.body) if node.var in self.bound else rebuild(node, self.get)
            case If():
                return self._if(node)
            case Function() | Var() | GlobalVar() | Constant() | Op() | Constructor():
                return rebuild(node, self.get)
            case RefCreate() | RefRead() | RefWrite() | Match():
                return rebuild(node, self.get)  # references and matches are never folded
            case _:
                assert_never(node)

    def _tuple(self, node: Tuple) -> Expr:
        tup = rebuild(node, self.get)
        if isinstance(tup, Tuple) and all(self._is_constant(f) for f in tup.fields):
            self.const_tuples.add(tup)
        return tup

    def _if(self, node: If) -> Expr:
        taken = _taken_branch(self.get(node.cond))
        if taken is None:
            return rebuild(node, self.get)
        return self.get(node.true_branch if taken else node.false_branch)

    def _is_constant(self, expr: Expr) -> bool:
        return isinstance(expr, Constant) or expr in self.const_tuples

    def _call(self, call: Call) -> Expr:
        post = rebuild(call, self.get)
        assert isinstance(post, Call)
        op = post.op
        if not isinstance(op, Op) or not post.args:
            return post
        definition = op.definition
        if definition.stateful:
            return post
        if op.name in ("shape_of", "ndarray_size"):
            return self._fold_shape(call, post, op)
        if definition.non_computational and not (
            self.fold_qnn and op.get_attr("FTVMQnnCanonicalize") is not None
        ):
            return post
        if not all(self._is_constant(a) for a in post.args):
            return post
        args = [_argument_value(a) for a in post.args]
        return self._evaluate(post, op, args, call.checked_type_)

    def _fold_shape(self, call: Call, post: Call, op: Op) -> Expr:
        """``shape_of(e)`` / ``ndarray_size(e)`` from ``e``'s type (its value is not needed)."""
        arg_type = call.args[0].checked_type_
        arg = post.args[0]
        if not isinstance(arg_type, TensorType) and isinstance(arg, Constant):
            arg_type = TensorType(arg.data.shape, arg.data.dtype)
        if not isinstance(arg_type, TensorType):
            return post
        return self._evaluate(post, op, [_placeholder(arg_type)], call.checked_type_)

    def _evaluate(self, post: Call, op: Op, args: list[Value], known: Type | None) -> Expr:
        try:
            out_type = known if is_concrete(known) else infer_op_type(op, post.attrs, args)
            assert out_type is not None
            if 0 < self.max_elements < _num_elements(out_type):
                return post
            value = eval_op(op, post.attrs, args, out_type)
        except InternalError:
            raise
        except TVMError:
            return post  # left for run time, where the error belongs
        if isinstance(value, np.ndarray):
            return Constant(NDArray(value))
        return value_to_expr(value, f"the folded value of {op.name}")


def _argument_value(expr: Expr) -> Value:
    """A constant argument (a Constant or nested Tuples of them) as an interpreter value."""
    if isinstance(expr, Constant):
        return _read_only(expr.data)

    def leaf(obj: object) -> Tensor:
        if not isinstance(obj, Constant):
            raise InternalError(f"FoldConstant: {type(obj).__name__} in a constant argument")
        return _read_only(obj.data)

    value: Value = map_tuples(expr, lambda o: isinstance(o, Tuple), leaf)
    return value


def fold_constant(expr: Expr, fold_qnn: bool = False, max_elements: int | None = None) -> Expr:
    """``expr`` with its constant computations folded. ``max_elements`` defaults to the
    current PassContext's ``relay.FoldConstant.max_elements``."""
    if max_elements is None:
        max_elements = int(PassContext.current().get_config(MAX_ELEMENTS_CONFIG))
    return _ConstantFolder(fold_qnn, max_elements).rewrite(expr)


def FoldConstantExpr(  # noqa: N802  (TVM's name)
    expr: Expr, mod: IRModule | None = None, fold_qnn: bool = False
) -> Expr:
    """TVM's ``relay.transform.FoldConstantExpr``: fold one expression. ``mod`` is accepted
    for compatibility; operator evaluation needs nothing from it."""
    return fold_constant(expr, fold_qnn)


def FoldConstant(fold_qnn: bool = False) -> FunctionPass:  # noqa: N802  (TVM's name)
    """The function pass (opt_level 2): every Relay function folded, then InferType.
    minitvm has no QNN operators, so ``fold_qnn`` changes nothing today."""

    def transform(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        max_elements = int(ctx.get_config(MAX_ELEMENTS_CONFIG))
        folded = _ConstantFolder(fold_qnn, max_elements).rewrite(func)
        if not isinstance(folded, Function):
            raise InternalError("FoldConstant turned a function into a non-function")
        return folded

    return FunctionPass(transform, PassInfo(2, "FoldConstant"))


register_pass("FoldConstant", FoldConstant)
