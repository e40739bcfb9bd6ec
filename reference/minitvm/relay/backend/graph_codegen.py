"""Relay ``main`` after FuseOps to a graph of kernel calls (TVM's
``src/relay/backend/graph_executor_codegen.cc``).

The graph has one node per value: an input node (``"null"``) per parameter of ``main`` and
per constant (a parameter named ``p0``, ``p1``... whose value the factory module carries),
and an operator node (``"tvm_op"``) per call of a primitive function, naming the compiled
function and taking the flattened outputs of other nodes as inputs. Tuples, projections and
lets only route node outputs; the graph's heads are the flattened outputs of ``main``. A
call of a fused function marked ``relay.reshape_only`` whose output has its input's size
becomes a ``"__nop"`` node whose output shares its input's storage (TVM's ``reshape_nop``),
and a call of an operator left unfused is compiled as a primitive function of its own.

``main`` must be a dataflow program: functions as values, ``if``, and calls of globals or
closures raise DiagnosticError naming the construct (the ``vm`` executor runs them). The
walk is iterative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from minitvm.error import DiagnosticError
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, Type
from minitvm.relay.backend.compile_engine import CompiledFunc
from minitvm.relay.backend.te_lower import flat_types
from minitvm.relay.expr import Call, Constant, Expr, If, Let, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function

__all__ = ["Entry", "GraphNode", "GraphProgram", "NOP", "graph_codegen"]

Array = npt.NDArray[Any]
Entry = tuple[int, int]
"""Output ``index`` of node ``node``: ``(node, index)``."""
NOP = "__nop"


@dataclass(frozen=True, slots=True)
class GraphNode:
    """A node: an input (``op == "null"``) or a call of ``func_name`` (``"tvm_op"``)."""

    op: str
    name: str
    inputs: tuple[Entry, ...]
    out_types: tuple[TensorType, ...]
    func_name: str = ""


@dataclass
class GraphProgram:
    """The graph of ``main``: nodes in execution order, heads, and what the nodes name."""

    nodes: list[GraphNode] = field(default_factory=list)
    heads: list[Entry] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    params: dict[str, Array] = field(default_factory=dict)
    functions: dict[str, CompiledFunc] = field(default_factory=dict)
    ret_type: Type | None = None


def _unsupported(e: Expr) -> DiagnosticError:
    what = {
        Function: "a function used as a value",
        If: "an if expression",
        GlobalVar: "a global function",
    }.get(type(e), type(e).__name__)
    return DiagnosticError(
        f"the graph executor cannot run {what}: main must be a dataflow graph of operator "
        "calls; use the 'vm' executor for control flow, closures and global functions"
    )


class _Codegen:
    def __init__(self, main: Function, lower: Callable[[Function], CompiledFunc]) -> None:
        self.main = main
        self.lower = lower
        self.prog = GraphProgram(ret_type=_ret_type(main))
        self.entries: dict[Expr, list[Entry]] = {}
        self.let_values: dict[Var, Expr] = {}
        self.names: dict[int, str] = {}
        self.taken: dict[str, int] = {}

    def add(self, node: GraphNode) -> list[Entry]:
        index = len(self.prog.nodes)
        self.prog.nodes.append(node)
        return [(index, k) for k in range(len(node.out_types))]

    def inputs(self) -> None:
        for p in self.main.params:
            types = flat_types(p.checked_type_ or p.type_annotation, f"parameter %{p.name_hint}")
            entries: list[Entry] = []
            for k, t in enumerate(types):
                name = p.name_hint if len(types) == 1 else f"{p.name_hint}.{k}"
                self.prog.input_names.append(name)
                entries += self.add(GraphNode("null", name, (), (t,)))
            self.entries[p] = entries

    def entries_of(self, e: Expr) -> list[Entry]:
        while isinstance(e, Var) and e in self.let_values:
            e = self.let_values[e]
        found = self.entries.get(e)
        if found is None:
            if isinstance(e, Var):
                raise DiagnosticError(f"graph codegen: unbound variable %{e.name_hint}")
            raise _unsupported(e)
        return found

    def func_name(self, compiled: CompiledFunc) -> str:
        known = self.names.get(id(compiled))
        if known is not None:
            return known
        count = self.taken.get(compiled.name, 0)
        self.taken[compiled.name] = count + 1
        name = compiled.name if count == 0 else f"{compiled.name}_{count}"
        self.names[id(compiled)] = name
        self.prog.functions[name] = compiled
        return name

    def node(self, e: Expr) -> None:
        match e:
            case Var():
                if e not in self.entries and e not in self.let_values:
                    raise DiagnosticError(f"graph codegen: free variable %{e.name_hint}")
            case Constant():
                name = f"p{len(self.prog.params)}"
                data = np.asarray(e.data)
                self.prog.params[name] = data
                ty = TensorType(data.shape, str(data.dtype))
                self.entries[e] = self.add(GraphNode("null", name, (), (ty,)))
            case Tuple():
                self.entries[e] = [x for f in e.fields for x in self.entries_of(f)]
            case TupleGetItem():
                self.entries[e] = self.project(e)
            case Let():
                self.entries[e] = self.entries_of(e.body)
            case Call():
                self.entries[e] = self.call(e)
            case Op() | Function():
                pass  # callees: handled by their call (a function as a value is caught there)
            case If() | GlobalVar():
                raise _unsupported(e)
            case _:
                raise _unsupported(e)

    def project(self, e: TupleGetItem) -> list[Entry]:
        ty = e.tuple_value.checked_type_
        from minitvm.ir.type import TupleType

        if not isinstance(ty, TupleType):
            raise DiagnosticError("graph codegen: a projection needs a type-checked tuple")
        sizes = [len(flat_types(f)) for f in ty.fields]
        start = sum(sizes[: e.index])
        return self.entries_of(e.tuple_value)[start : start + sizes[e.index]]

    def call(self, call: Call) -> list[Entry]:
        callee = call.op
        while isinstance(callee, Var) and callee in self.let_values:
            callee = self.let_values[callee]
        if isinstance(callee, Op):
            callee = _wrap_operator(call)
        if not isinstance(callee, Function) or not callee.is_primitive():
            raise _unsupported(callee if not isinstance(callee, Function) else call)
        args = [x for a in call.args for x in self.entries_of(a)]
        out_types = tuple(flat_types(call.checked_type_, "the result of a fused call"))
        if callee.attrs.get("relay.reshape_only") and self.aliasable(args, out_types):
            return self.add(GraphNode("tvm_op", "reshape_nop", tuple(args), out_types, NOP))
        compiled = self.lower(callee)
        name = self.func_name(compiled)
        return self.add(GraphNode("tvm_op", name, tuple(args), out_types, name))

    def aliasable(self, args: list[Entry], out_types: tuple[TensorType, ...]) -> bool:
        if len(args) != 1 or len(out_types) != 1:
            return False
        node, k = args[0]
        src = self.prog.nodes[node].out_types[k]
        out = out_types[0]
        return src.dtype == out.dtype and int(np.prod(src.shape)) == int(np.prod(out.shape))

    def run(self) -> GraphProgram:
        self.inputs()
        body = self.main.body
        for n in iter_post_order(body, lambda x: not isinstance(x, Function)):
            if isinstance(n, Let):
                self.let_values[n.var] = n.value
        for n in iter_post_order(body, lambda x: not isinstance(x, Function)):
            if isinstance(n, Function) or (isinstance(n, Var) and n in self.let_values):
                continue
            self.node(n)
        self.prog.heads = self.entries_of(body)
        return self.prog


def _ret_type(main: Function) -> Type | None:
    from minitvm.ir.type import FuncType

    ty = main.checked_type_
    if isinstance(ty, FuncType):
        return ty.ret_type
    return main.ret_type or main.body.checked_type_


def _wrap_operator(call: Call) -> Function:
    """An unfused operator call as a primitive function of its own (type checked)."""
    from minitvm.relay.builder import var
    from minitvm.relay.transform import InferType

    params = []
    for k, a in enumerate(call.args):
        if a.checked_type_ is None:
            raise DiagnosticError("graph codegen: the program must be type checked")
        params.append(var(f"p{k}", type_annotation=a.checked_type_))
    func = Function(params, Call(call.op, params, call.attrs), attrs={"Primitive": 1})
    typed = InferType()(IRModule.from_expr(func))["main"]
    if not isinstance(typed, Function):
        raise DiagnosticError("graph codegen: could not type an operator call")
    return typed


def graph_codegen(main: Function, lower: Callable[[Function], CompiledFunc]) -> GraphProgram:
    """The graph of ``main`` (type checked, fused), lowering each primitive with ``lower``."""
    if not isinstance(main, Function):
        raise DiagnosticError(f"graph codegen: main must be a relay.Function, got {type(main)}")
    return _Codegen(main, lower).run()
