"""SplitArgs: split a ``concatenate`` of too many tensors into a chain of smaller ones.

TVM's ``src/relay/transforms/split_args.cc``. A fused kernel takes each input tensor and its
output as arguments, and some targets bound the number of arguments (``max_function_args``:
128 for OpenCL, 31 for Metal). A ``concatenate`` of a literal tuple with ``n`` fields, when
``n + 1`` reaches the bound, is rebuilt as a chain: the first ``max_function_args - 1`` fields
are concatenated, then that result and the next fields, and so on, each piece's tuple wrapped
in ``annotation.stop_fusion`` so FuseOps keeps the pieces apart. The result is equal to the
original concatenation. (TVM also counts the extra shape and stride arguments of dynamically
shaped tensors; minitvm's shapes are static.)

``max_function_args <= 0`` means no bound: the pass changes nothing. As in TVM, the module's
attributes are copied onto every function the pass visits. Unlike TVM, which splits the fields
of the original tuple, the rewritten fields are used, so a concatenation nested in a field is
split too. A FunctionPass at opt_level 1 requiring InferType.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import override

from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.attrs import Attrs
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.relay.expr import Call, Expr, Tuple
from minitvm.relay.expr_functor import ExprMutator, rebuild
from minitvm.relay.function import Function
from minitvm.relay.op.annotation import stop_fusion
from minitvm.relay.transform.function_pass import FunctionPass
from minitvm.target import Target

__all__ = ["SplitArgs", "split_args"]


def _concatenate(tup: Tuple, fields: Sequence[Expr], attrs: Attrs | None) -> Call:
    piece = Tuple(fields, tup.span)
    return Call(Op.get("concatenate"), [stop_fusion(piece)], attrs)


def split_concatenate(call: Call, tup: Tuple, limit: int) -> Call:
    """``call`` (a concatenation of ``tup``) as a chain of concatenations of at most ``limit``
    arguments each, TVM's ``ConcatSplitter``."""
    fields: list[Expr] = []
    for field in tup.fields:
        if len(fields) + 1 > limit:
            fields = [_concatenate(tup, fields, call.attrs)]
        fields.append(field)
    return _concatenate(tup, fields, call.attrs)


class _ArgumentSplitter(ExprMutator):
    def __init__(self, max_function_args: int) -> None:
        super().__init__()
        if max_function_args == 1:
            raise DiagnosticError(
                "SplitArgs: max_function_args must leave room for an input besides the "
                "output, got 1"
            )
        self.limit = max_function_args - 1  # one argument is the output buffer

    @override
    def visit_call(self, call: Call) -> Expr:
        post = rebuild(call, self.visit)
        if call.op is not Op.get("concatenate"):
            return post
        assert isinstance(post, Call)
        tup = post.args[0]
        if not isinstance(tup, Tuple) or len(tup.fields) < self.limit:
            return post
        return split_concatenate(post, tup, self.limit)


def split_args(expr: Expr, max_function_args: int) -> Expr:
    """``expr`` with its over-wide concatenations split (no change when the bound is <= 0)."""
    if max_function_args <= 0:
        return expr
    return _ArgumentSplitter(max_function_args).visit(expr)


def SplitArgs(max_function_args: int) -> FunctionPass:  # noqa: N802  (TVM's name)
    """The function pass (opt_level 1, requires InferType), then InferType."""

    def transform(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        out = split_args(func, max_function_args)
        if not isinstance(out, Function):
            raise InternalError("SplitArgs turned a function into a non-function")
        if len(mod.attrs):
            out = out.with_attr(dict(mod.attrs.items()))
        return out

    return FunctionPass(transform, PassInfo(1, "SplitArgs", ("InferType",)))


def _split_args_for_current_target() -> FunctionPass:
    """``SplitArgs`` by name: the bound of the current target, if any."""
    target = Target.current()
    return SplitArgs(0 if target is None else target.max_function_args)


register_pass("SplitArgs", _split_args_for_current_target)
