"""CombineParallelDense (TVM ``src/relay/transforms/combine_parallel_dense.cc`` and
``combine_parallel_op_batch.cc``).

Dense layers reading the same input are combined in one of two ways:

* ``to_batch=True`` (the default): weights of one shape are stacked into one
  ``nn.batch_matmul`` over the input stacked as many times; the followers' other operands are
  stacked too (1-d ones first given a leading unit axis), and each branch's result is
  ``squeeze(split(result, n)[i], axis=[0])``;
* ``to_batch=False``: the weights (whose output sizes may differ) are concatenated into one
  ``nn.dense`` with ``units`` their total; the followers' other operands are concatenated on
  their last axis (repeated first where it broadcasts from 1), and each branch's result is a
  ``strided_slice`` of the output with ``slice_mode="size"``: begin 0 and end -1 (all) on
  every axis but the channel axis, where it is the branch's offset and its size.

Where TVM would compute something else, minitvm combines less: the batched form needs 2-d
inputs (``nn.batch_matmul`` is 3-d) and gives the combined call the dense layers' ``out_dtype``
(TVM drops it); followers are unary elementwise operators and attribute-free binary broadcast
operators (and, for ``to_batch=False``, ``expand_dims``, through which the channel axis is
tracked rather than searched for by size as TVM does); a scalar operand is stacked as a
``(1, 1)`` tensor so it still broadcasts per branch.

The pass is a FunctionPass named ``CombineParallelDense`` at opt_level 4 requiring InferType.
"""

from __future__ import annotations

from typing_extensions import override

from minitvm.error import InternalError
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.transform import PassContext, PassInfo, register_pass
from minitvm.ir.type import TensorType
from minitvm.relay.expr import Call, Expr, TupleGetItem
from minitvm.relay.function import Function
from minitvm.relay.op.defs.nn import DenseAttrs
from minitvm.relay.op.defs.transform import ExpandDimsAttrs
from minitvm.relay.op.nn.nn import batch_matmul, dense
from minitvm.relay.op.tensor import concatenate, stack
from minitvm.relay.op.transform import expand_dims, repeat, split, squeeze, strided_slice
from minitvm.relay.transform.combine_parallel_op import Group, ParallelOpCombiner
from minitvm.relay.transform.function_pass import FunctionPass

__all__ = [
    "CombineParallelDense",
    "ParallelDenseToBatchCombiner",
    "ParallelDenseToDenseCombiner",
    "ParallelOpBatchCombiner",
]


def tensor_of(expr: Expr) -> TensorType:
    ty = expr.checked_type
    if not isinstance(ty, TensorType):
        raise InternalError(f"expected a tensor, got {ty}")
    return ty


def _pattern(call: Call) -> OpPattern:
    assert isinstance(call.op, Op)
    return call.op.definition.pattern


def is_unary_elemwise(call: Call) -> bool:
    return _pattern(call) == OpPattern.ELEMWISE and len(call.args) == 1


def is_binary_broadcast(call: Call) -> bool:
    return _pattern(call) <= OpPattern.BROADCAST and call.attrs is None and len(call.args) == 2


def _dense_attrs(call: Call) -> DenseAttrs:
    assert isinstance(call.attrs, DenseAttrs)
    return call.attrs


class ParallelOpBatchCombiner(ParallelOpCombiner):
    """Combine by stacking along a new leading axis (TVM's ``ParallelOpBatchCombiner``)."""

    @override
    def is_supported_op(self, call: Call) -> bool:
        return True

    @override
    def can_ops_be_combined(self, a: Call, b: Call) -> bool:
        if len(a.args) != len(b.args):
            return False
        return all(tensor_of(x) == tensor_of(y) for x, y in zip(a.args, b.args, strict=True))

    @override
    def is_arg_compatible(self, a: Call, b: Call, index: int) -> bool:
        return tensor_of(a.args[index]) == tensor_of(b.args[index])

    @override
    def follower_ok(self, branches: Group, depth: int, parent_index: int) -> bool:
        call = branches[0][depth]
        if is_unary_elemwise(call):
            return True
        parent_rank = tensor_of(branches[0][depth - 1]).ndim
        other = call.args[1 - parent_index] if len(call.args) == 2 else None
        return (
            is_binary_broadcast(call) and other is not None and tensor_of(other).ndim <= parent_rank
        )

    @override
    def make_combined_call_from_following_ops(
        self, data: Expr, branches: Group, depth: int, parent_index: int
    ) -> Expr:
        call = branches[0][depth]
        args: list[Expr] = []
        for i in range(len(call.args)):
            if i == parent_index:
                args.append(data)
                continue
            parent_rank = tensor_of(call.args[parent_index]).ndim
            pieces: list[Expr] = []
            for branch in branches:
                arg = branch[depth].args[i]
                missing = parent_rank - tensor_of(arg).ndim
                pieces.append(expand_dims(arg, 0, missing) if missing > 0 else arg)
            args.append(stack(pieces, 0))
        return Call(call.op, args, call.attrs)

    @override
    def update_group_output(self, data: Expr, branches: Group, depth: int) -> None:
        parts = split(data, len(branches), 0).astuple()
        for index, branch in enumerate(branches):
            self.subst[branch[depth]] = squeeze(TupleGetItem(parts, index), [0])


class ParallelDenseToBatchCombiner(ParallelOpBatchCombiner):
    """Dense layers with weights of one shape into one ``nn.batch_matmul``."""

    def __init__(self, min_num_branches: int) -> None:
        super().__init__("nn.dense", min_num_branches)

    @override
    def is_supported_op(self, call: Call) -> bool:
        return tensor_of(call.args[0]).ndim == 2

    @override
    def can_ops_be_combined(self, a: Call, b: Call) -> bool:
        same_dtype = _dense_attrs(a).out_dtype == _dense_attrs(b).out_dtype
        return same_dtype and tensor_of(a.args[1]).shape == tensor_of(b.args[1]).shape

    @override
    def make_combined_op(self, branches: Group) -> Expr:
        data = stack([b[0].args[0] for b in branches], 0)
        weight = stack([b[0].args[1] for b in branches], 0)
        return batch_matmul(data, weight, out_dtype=_dense_attrs(branches[0][0]).out_dtype)


class ParallelDenseToDenseCombiner(ParallelOpCombiner):
    """Dense layers into one ``nn.dense`` over the concatenated weights."""

    def __init__(self, min_num_branches: int) -> None:
        super().__init__("nn.dense", min_num_branches)
        self._axis = -1
        """The output axis the dense layers' units are on, through the combined followers."""

    @override
    def is_supported_op(self, call: Call) -> bool:
        return True

    @override
    def can_ops_be_combined(self, a: Call, b: Call) -> bool:
        same_dtype = _dense_attrs(a).out_dtype == _dense_attrs(b).out_dtype
        return same_dtype and tensor_of(a.args[1]).shape[1] == tensor_of(b.args[1]).shape[1]

    @override
    def make_combined_op(self, branches: Group) -> Expr:
        first = branches[0][0]
        self._axis = tensor_of(first).ndim - 1
        weights = [b[0].args[1] for b in branches]
        units = sum(tensor_of(w).shape[0] for w in weights)
        weight = concatenate(weights, 0)
        return dense(first.args[0], weight, units=units, out_dtype=_dense_attrs(first).out_dtype)

    @override
    def is_arg_compatible(self, a: Call, b: Call, index: int) -> bool:
        ta, tb = tensor_of(a.args[index]), tensor_of(b.args[index])
        if ta.dtype != tb.dtype or ta.ndim != tb.ndim:
            return False
        if tensor_of(a).ndim < ta.ndim or tensor_of(b).ndim < tb.ndim:
            return False
        return ta.shape[:-1] == tb.shape[:-1]

    @override
    def follower_ok(self, branches: Group, depth: int, parent_index: int) -> bool:
        call = branches[0][depth]
        parent_rank = tensor_of(branches[0][depth - 1]).ndim
        if is_unary_elemwise(call):
            return True
        if isinstance(call.attrs, ExpandDimsAttrs):
            axis = call.attrs.axis
            if axis < 0:
                axis += parent_rank + 1
            if axis <= self._axis:
                self._axis += call.attrs.num_newaxis
            return True
        if is_binary_broadcast(call) and self._axis == parent_rank - 1:
            self._axis = tensor_of(call).ndim - 1
            return True
        return False

    @override
    def make_combined_call_from_following_ops(
        self, data: Expr, branches: Group, depth: int, parent_index: int
    ) -> Expr:
        call = branches[0][depth]
        args: list[Expr] = []
        for i in range(len(call.args)):
            if i == parent_index:
                args.append(data)
                continue
            ndim = tensor_of(call.args[i]).ndim
            axis = max(ndim - 1, 0)
            pieces: list[Expr] = []
            for branch in branches:
                units = tensor_of(branch[depth].args[parent_index]).shape[-1]
                arg = branch[depth].args[i]
                if ndim == 0:
                    arg = repeat(expand_dims(arg, -1, 1), units, axis)
                elif units > 1 and tensor_of(arg).shape[-1] == 1:
                    arg = repeat(arg, units, axis)
                pieces.append(arg)
            args.append(concatenate(pieces, axis))
        return Call(call.op, args, call.attrs)

    @override
    def update_group_output(self, data: Expr, branches: Group, depth: int) -> None:
        offset = 0
        for branch in branches:
            rank = tensor_of(branch[depth]).ndim
            units = tensor_of(branch[0]).shape[-1]
            begin, end = [0] * rank, [-1] * rank
            begin[self._axis], end[self._axis] = offset, units
            offset += units
            self.subst[branch[depth]] = strided_slice(
                data, begin, end, [1] * rank, slice_mode="size"
            )


def _combiner(min_num_branches: int, to_batch: bool) -> ParallelOpCombiner:
    if to_batch:
        return ParallelDenseToBatchCombiner(min_num_branches)
    return ParallelDenseToDenseCombiner(min_num_branches)


def CombineParallelDense(  # noqa: N802  (TVM's name)
    min_num_branches: int = 3, to_batch: bool = True
) -> FunctionPass:
    """Combine at least ``min_num_branches`` parallel dense layers on one input."""

    def run(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        out = _combiner(min_num_branches, to_batch).combine(func)
        if not isinstance(out, Function):
            raise InternalError("CombineParallelDense turned a function into a non-function")
        return out

    info = PassInfo(4, "CombineParallelDense", ["InferType"])
    return FunctionPass(run, info, needs_types=True)


register_pass("CombineParallelDense", CombineParallelDense)
