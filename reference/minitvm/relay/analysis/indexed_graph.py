"""The indexed forward dataflow graph that operator fusion analyses.

TVM's ``IndexedForwardGraph`` (``src/relay/analysis/graph_partitioner.h``) and its creator
(``IndexedForwardGraphCreator`` in ``src/relay/transforms/fuse_ops.cc``).

Every expression that produces a value (variables, constants, calls, tuples, projections, lets,
ifs) becomes a node, numbered in post-DFS order, so a node's consumers always have larger
indices. An edge runs from a value to each consumer that takes it as a dataflow input, labelled
with how the consumer uses it (its ``OpPattern``); a broadcast whose input has the output's
shape is labelled elementwise. Values consumed across a control-flow or binding boundary (a
function's parameters and body, a let's parts, an if's parts, a callee that is not an
operator, a non-tensor tuple field, the parts of a reference operation or of a match) get no
edge: they are marked ``extern_ref`` instead, which makes them the end of any fusion path:
references, constructor calls and matches are opaque to fusion. Operators, globals,
constructors and functions are not nodes; a
function's inside is walked unless it is marked ``Compiler`` (external code generation).

The walk is iterative (an explicit stack) and visits each shared node once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, assert_never

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.type import TensorType, TupleType
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
from minitvm.relay.expr_functor import children
from minitvm.relay.function import Function

__all__ = ["Edge", "IndexedForwardGraph", "Node", "create_indexed_forward_graph"]

# The dtypes of scalar constants a fused kernel can embed (TVM: "must be consistent with the
# code generator"); other constants are opaque and reach a fused function as parameters.
_SIMPLE_CONST_DTYPES = frozenset({"int32", "int64", "float32", "float64", "bool"})


class Edge(NamedTuple):
    """A dataflow edge to the consumer with index ``node`` (a named tuple: immutable and
    cheap to build, which matters at one per use of a value)."""

    node: int
    pattern: OpPattern


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """One value of the dataflow graph."""

    ref: Expr
    index: int
    extern_ref: bool
    """Referenced from outside the dataflow (a boundary): never fused into a consumer."""
    pattern: OpPattern
    outputs: tuple[Edge, ...]
    """The consumers, in the order the walk first reached them (duplicates kept)."""


@dataclass(frozen=True, slots=True)
class IndexedForwardGraph:
    post_dfs_order: tuple[Node, ...]
    node_map: Mapping[Expr, Node]

    def debug_dump(self) -> str:
        """One line per node: its index, expression kind, pattern and consumers."""
        lines = []
        for node in self.post_dfs_order:
            outs = ", ".join(str(e.node) for e in node.outputs)
            ext = " extern" if node.extern_ref else ""
            kind = type(node.ref).__name__
            lines.append(f"node[{node.index}] {kind} {node.pattern.name}{ext} outputs=[{outs}]")
        return "\n".join(lines)


class _Pending:
    """A node under construction: consumers are known before the node's own index is."""

    __slots__ = ("extern_ref", "outputs", "pattern")

    def __init__(self) -> None:
        self.extern_ref = False
        self.pattern = OpPattern.OPAQUE
        self.outputs: list[tuple[Expr, OpPattern]] = []


def _tensor_type(expr: Expr) -> TensorType | None:
    ty = expr.checked_type_
    return ty if isinstance(ty, TensorType) else None


def _constant_pattern(const: Constant) -> OpPattern:
    data = const.data  # its shape and dtype only: ``numpy()`` would copy a whole weight
    if not data.shape and data.dtype in _SIMPLE_CONST_DTYPES:
        return OpPattern.ELEMWISE
    return OpPattern.OPAQUE


class _Creator:
    def __init__(self) -> None:
        self.pending: dict[Expr, _Pending] = {}
        self.order: list[Expr] = []

    def update(self, expr: Expr, parent: Expr | None, pattern: OpPattern) -> _Pending:
        node = self.pending.get(expr)
        if node is None:
            node = self.pending[expr] = _Pending()
        if parent is None:
            node.extern_ref = True
        else:
            node.outputs.append((parent, pattern))
        return node

    def run(self, root: Expr) -> IndexedForwardGraph:
        self.update(root, None, OpPattern.OPAQUE)
        visited: set[Expr] = set()
        stack: list[tuple[Expr, bool]] = [(root, False)]
        while stack:
            expr, done = stack.pop()
            if done:
                self.post_visit(expr)
                continue
            if expr in visited:
                continue
            visited.add(expr)
            stack.append((expr, True))
            for child in reversed(self.pre_visit(expr)):
                if child not in visited:
                    stack.append((child, False))
        return self.finish()

    def pre_visit(self, expr: Expr) -> Sequence[Expr]:  # noqa: C901  (a flat dispatch)
        """Record the edges from ``expr``'s inputs, before they are visited (TVM's order),
        and return the children to visit, in order."""
        match expr:
            case Call():
                self.visit_call(expr)
                return (expr.op, *expr.args)
            case Var() | Constant() | GlobalVar() | Op() | Constructor():
                return ()
            case TupleGetItem():
                self.visit_tuple_getitem(expr)
                return (expr.tuple_value,)
            case Tuple():
                self.pending[expr].pattern = OpPattern.TUPLE
                for field in expr.fields:
                    if _tensor_type(field) is not None:
                        self.update(field, expr, OpPattern.INJECTIVE)
                    else:
                        self.update(field, None, OpPattern.OPAQUE)
                return expr.fields
            case Let() | If():
                parts = children(expr)
                for part in parts:
                    self.update(part, None, OpPattern.OPAQUE)
                return parts
            case Function():
                if expr.attrs.get("Compiler") is not None:
                    return ()  # for an external code generator: not looked into
                for param in expr.params:
                    self.update(param, None, OpPattern.OPAQUE)
                self.update(expr.body, None, OpPattern.OPAQUE)
                return (*expr.params, expr.body)
            case RefCreate() | RefRead() | RefWrite() | Match():
                # Opaque: every part is a boundary, as in TVM.
                parts = children(expr)
                for part in parts:
                    self.update(part, None, OpPattern.OPAQUE)
                return parts
            case _:
                assert_never(expr)

    def visit_call(self, call: Call) -> None:
        node = self.pending[call]
        op_pattern = OpPattern.OPAQUE
        if isinstance(call.op, Op):
            # minitvm's shapes are static, so TVM's "dynamic result of a data-dependent
            # operator is opaque" rule never applies.
            op_pattern = call.op.definition.pattern
        else:
            self.update(call.op, call, OpPattern.OPAQUE)
        node.pattern = op_pattern
        self.update(call.op, None, OpPattern.OPAQUE)
        rtype = _tensor_type(call)
        for arg in call.args:
            edge = op_pattern
            if edge == OpPattern.BROADCAST and rtype is not None:
                arg_type = _tensor_type(arg)
                if arg_type is not None and arg_type.shape == rtype.shape:
                    edge = OpPattern.ELEMWISE
            self.update(arg, call, edge)

    def visit_tuple_getitem(self, item: TupleGetItem) -> None:
        tuple_type = item.tuple_value.checked_type_
        if not isinstance(tuple_type, TupleType):
            raise DiagnosticError(
                f"FuseOps: a tuple projection `.{item.index}` needs a type-checked tuple, "
                f"found type {tuple_type}; run InferType first"
            )
        # A fused kernel takes tensors or tuples of tensors, so a projection out of a tuple
        # holding anything else is not fused through.
        if all(isinstance(f, TensorType) for f in tuple_type.fields):
            self.pending[item].pattern = OpPattern.INJECTIVE
            self.update(item.tuple_value, item, OpPattern.INJECTIVE)
        else:
            self.update(item.tuple_value, None, OpPattern.OPAQUE)

    def post_visit(self, expr: Expr) -> None:
        if isinstance(expr, Op | GlobalVar | Function | Constructor):
            return
        if isinstance(expr, Constant):
            self.pending[expr].pattern = _constant_pattern(expr)
        self.order.append(expr)

    def finish(self) -> IndexedForwardGraph:
        index = {expr: i for i, expr in enumerate(self.order)}
        nodes = []
        for i, expr in enumerate(self.order):
            p = self.pending[expr]
            outputs = tuple(Edge(index[parent], pat) for parent, pat in p.outputs)
            nodes.append(Node(expr, i, p.extern_ref, p.pattern, outputs))
        node_map = {node.ref: node for node in nodes}
        return IndexedForwardGraph(tuple(nodes), node_map)


def create_indexed_forward_graph(expr: Expr) -> IndexedForwardGraph:
    """The dataflow graph of a type-checked expression (usually a whole function)."""
    return _Creator().run(expr)
