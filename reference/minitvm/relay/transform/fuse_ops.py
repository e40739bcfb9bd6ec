"""FuseOps: group operator calls into primitive functions.

TVM's ``src/relay/transforms/fuse_ops.cc``. The analysis is done by
``relay.analysis.indexed_graph`` (the dataflow graph), ``dominator_tree`` (post-dominators via
LCA) and ``graph_partitioner`` (union-find over three phases); this module only rewrites the
program from the partition (TVM's ``FuseMutator``):

* the call (or projection) that is the root of a group becomes
  ``Call(Function(params, body, ret_type, attrs={"Primitive": 1}), args)``, with the rest of the
  group inlined in ``body``; every value the group takes from outside becomes a parameter
  ``p0, p1, ...`` typed with the value's type, in the order a bottom-up, left-to-right walk meets
  them, one parameter per distinct value;
* a group made only of reshape-like operators is also marked ``relay.reshape_only=1``;
* ``annotation.stop_fusion(x)`` is replaced by ``x``; non-computational operators are kept as
  plain calls;
* primitive functions and functions for an external compiler are left alone; other nested
  functions are fused inside.

Constants from another group become parameters unless ``relay.FuseOps.link_params`` is set.
The rewrite is a post-order ``ExprMutator`` (iterative). FuseOps is a function pass at
opt_level 0 that requires InferType and type-checks its result. Fusion changes no
expression's type, so every node the rewrite builds carries its type already (the fused
function's is made from its parameters' and result's): the type check that follows then
keeps these nodes instead of rebuilding them.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import DictAttrs
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.transform import PassContext, register_config, register_pass
from minitvm.ir.type import FuncType, TensorType, Type
from minitvm.relay.analysis.graph_partitioner import GraphPartitioner, Group
from minitvm.relay.analysis.indexed_graph import create_indexed_forward_graph
from minitvm.relay.expr import Call, Constant, Expr, If, Let, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import ExprMutator, rebuild
from minitvm.relay.function import Function
from minitvm.relay.transform.function_pass import FunctionPass, function_pass
from minitvm.target.target import Target
from minitvm.tir.expr import IntImm

__all__ = ["FuseOps", "fuse_ops"]

MAX_FUSED_OPS = 256
"""TVM's ``kMaxFusedOps``: the default of ``relay.FuseOps.max_depth``."""

register_config(
    "relay.FuseOps.max_depth",
    int,
    MAX_FUSED_OPS,
    "the most nodes FuseOps puts in one primitive function",
)
register_config(
    "relay.FuseOps.link_params",
    bool,
    False,
    "keep constants inside fused functions instead of passing them as parameters",
)


class _GroupInfo:
    """The parameters of one fused function, the arguments its call passes, and what TVM's
    ``CheckReshapeOnly`` finds in its body: whether it calls anything, and whether every call
    is a reshape-like operator and every variable (only parameters occur) a tensor."""

    __slots__ = ("arguments", "has_call", "params", "reshape_only", "slot")

    def __init__(self) -> None:
        self.params: list[Var] = []
        self.arguments: list[Expr] = []
        self.slot: dict[Expr, Var] = {}
        self.has_call = False
        self.reshape_only = True

    def param_for(self, arg: Expr, ty: Type) -> Var:
        param = self.slot.get(arg)
        if param is None:
            param = Var(f"p{len(self.params)}", ty, checked_type_=ty)
            self.slot[arg] = param
            self.params.append(param)
            self.arguments.append(arg)
            if not isinstance(ty, TensorType):
                self.reshape_only = False
        return param

    def add_call(self, op: Op) -> None:
        self.has_call = True
        if not op.definition.reshape_only:
            self.reshape_only = False


def _skipped(expr: Expr) -> bool:
    return isinstance(expr, Function) and (
        expr.is_primitive() or expr.attrs.get("Compiler") is not None
    )


def _checked_type(expr: Expr) -> Type:
    ty = expr.checked_type_
    if ty is None:
        raise DiagnosticError(
            f"FuseOps: `{type(expr).__name__}` expression has no checked type; "
            "FuseOps requires InferType to run first"
        )
    return ty


class _FuseMutator(ExprMutator):
    def __init__(self, groups: dict[Expr, Group], link_params: bool) -> None:
        """``groups``: the fused group (a union-find root) of each dataflow node."""
        super().__init__()
        self.groups = groups
        self.link_params = link_params
        self.info: dict[Group, _GroupInfo] = {}
        self.stop_fusion = Op.get("annotation.stop_fusion")

    def group_of(self, expr: Expr) -> Group | None:
        return self.groups.get(expr)

    @override
    def visit_children(self, expr: Expr) -> bool:
        return not _skipped(expr)

    def rebuilt(self, expr: Expr) -> Expr:
        """``expr`` over its rewritten children, with its type (which fusion keeps)."""
        new = rebuild(expr, self.visit)
        if new is not expr:
            # A node just built, that nothing else holds yet.
            object.__setattr__(new, "checked_type_", expr.checked_type_)
        return new

    @override
    def visit_function(self, func: Function) -> Expr:
        if _skipped(func):
            return func
        return self.rebuilt(func)

    @override
    def visit_let(self, let: Let) -> Expr:
        return self.rebuilt(let)

    @override
    def visit_if(self, ite: If) -> Expr:
        return self.rebuilt(ite)

    @override
    def visit_call(self, call: Call) -> Expr:
        op = call.op
        if not isinstance(op, Op):
            return self.rebuilt(call)
        definition = op.definition
        if definition.non_computational and definition.get_extra("FTVMQnnCanonicalize") is None:
            return self.rebuilt(call)
        if op is self.stop_fusion:
            return self.visit(call.args[0])
        group = self.group_of(call)
        if group is None:
            raise DiagnosticError(f"FuseOps: call of {op.name} is outside the fused dataflow")
        args = self.new_arguments(call.args, group)
        self.info[group].add_call(op)
        ty = call.checked_type_
        new_call = Call(op, args, call.attrs, call.type_args, call.span, checked_type_=ty)
        if group.root_ref is call:
            return self.make_function(group, _checked_type(call), new_call)
        return new_call

    @override
    def visit_tuple(self, tup: Tuple) -> Expr:
        group = self.group_of(tup)
        if group is None or group.root_ref is tup:
            return self.rebuilt(tup)
        fields = self.new_arguments(tup.fields, group)
        return Tuple(fields, tup.span, checked_type_=tup.checked_type_)

    @override
    def visit_tuple_getitem(self, item: TupleGetItem) -> Expr:
        group = self.group_of(item)
        if group is None:
            return self.rebuilt(item)
        new_tuple = self.new_arguments((item.tuple_value,), group)[0]
        new_item = TupleGetItem(new_tuple, item.index, checked_type_=item.checked_type_)
        if group.root_ref is not item:
            return new_item
        if self.group_of(item.tuple_value) is not group:
            # Projection out of a tuple made elsewhere (by an opaque call): nothing to fuse.
            return self.rebuilt(item)
        return self.make_function(group, _checked_type(item), new_item)

    def new_arguments(self, args: Sequence[Expr], group: Group) -> list[Expr]:
        """The rewritten inputs of a group member: members inline, outside values as
        parameters (constants inline too when parameters are linked)."""
        info = self.info.get(group)
        if info is None:
            info = self.info[group] = _GroupInfo()
        new_args: list[Expr] = []
        for arg in args:
            new_arg = self.visit(arg)
            if self.group_of(arg) is group or (self.link_params and isinstance(new_arg, Constant)):
                new_args.append(new_arg)
            else:
                new_args.append(info.param_for(new_arg, _checked_type(arg)))
        return new_args

    def make_function(self, group: Group, ret_type: Type, body: Expr) -> Call:
        info = self.info[group]
        if not info.has_call:
            attrs = _NO_CALL
        else:
            attrs = _RESHAPE_ONLY if info.reshape_only else _PRIMITIVE
        func_type = FuncType([p.checked_type for p in info.params], ret_type)
        func = Function(info.params, body, ret_type, (), attrs, checked_type_=func_type)
        return Call(func, info.arguments, checked_type_=ret_type)


# Attributes are immutable values: every fused function can share them.
_PRIMITIVE = DictAttrs({"Primitive": IntImm("int32", 1)})
_RESHAPE_ONLY = _PRIMITIVE.with_attr("relay.reshape_only", IntImm("int32", 1))
_NO_CALL = DictAttrs({"Primitive": IntImm("int32", 0)})


def fuse_ops(
    expr: Expr,
    fuse_opt_level: int,
    max_fuse_depth: int = MAX_FUSED_OPS,
    max_function_args: int = 0,
    link_params: bool = False,
) -> Expr:
    """Fuse a type-checked expression (TVM's ``relay::FuseOps``); ``fuse_opt_level`` 0
    wraps every operator call in a primitive function of its own."""
    _checked_type(expr)
    graph = create_indexed_forward_graph(expr)
    partitioner = GraphPartitioner(fuse_opt_level, max_fuse_depth, max_function_args)
    groups = partitioner.partition(graph)
    group_map = {node.ref: groups[node.index].find_root() for node in graph.post_dfs_order}
    return _FuseMutator(group_map, link_params).visit(expr)


def FuseOps(fuse_opt_level: int = -1) -> FunctionPass:  # noqa: N802  (TVM's name)
    """Fuse operators into primitive functions. ``fuse_opt_level=-1`` takes the level from
    the PassContext (``opt_level``, 2 by default)."""

    def transform(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        level = ctx.opt_level if fuse_opt_level == -1 else fuse_opt_level
        max_depth = int(ctx.get_config("relay.FuseOps.max_depth"))
        link_params = bool(ctx.get_config("relay.FuseOps.link_params"))
        target = Target.current()
        max_args = max(target.max_function_args, 0) if target is not None else 0
        fused = fuse_ops(func, level, max_depth, max_args, link_params)
        assert isinstance(fused, Function)
        return fused

    return function_pass(transform, opt_level=0, name="FuseOps", required=["InferType"])


register_pass("FuseOps", FuseOps)
