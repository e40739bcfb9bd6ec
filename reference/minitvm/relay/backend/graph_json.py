"""The graph executor's JSON, in TVM's format (``GraphExecutorCodegen`` writes it,
``src/runtime/graph_executor/graph_executor.cc`` reads it).

``nodes`` lists the nodes (``op``, ``name``, ``inputs`` as ``[node, index, version]``, and
for calls ``attrs`` with ``func_name``, ``num_inputs``, ``num_outputs``, ``flatten_data``);
``arg_nodes`` the input nodes; ``heads`` the outputs; ``node_row_ptr`` where each node's
outputs start in the entry list; ``attrs`` gives per entry its ``shape``, ``dltype`` and
``storage_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from minitvm.error import DiagnosticError
from minitvm.relay.backend.graph_codegen import Entry, GraphProgram
from minitvm.relay.backend.memory_plan import MemoryPlan

__all__ = ["ParsedGraph", "ParsedNode", "dump", "parse"]


def dump(prog: GraphProgram, plan: MemoryPlan) -> str:
    nodes: list[dict[str, Any]] = []
    shapes: list[list[int]] = []
    dtypes: list[str] = []
    storage: list[int] = []
    row_ptr = [0]
    for index, node in enumerate(prog.nodes):
        item: dict[str, Any] = {
            "op": node.op,
            "name": node.name,
            "inputs": [[n, k, 0] for n, k in node.inputs],
        }
        if node.op != "null":
            item["attrs"] = {
                "func_name": node.func_name,
                "num_inputs": str(len(node.inputs)),
                "num_outputs": str(len(node.out_types)),
                "flatten_data": "0",
            }
        nodes.append(item)
        for k, ty in enumerate(node.out_types):
            shapes.append([int(d) for d in ty.shape])
            dtypes.append(ty.dtype)
            storage.append(plan.storage_ids[index][k])
        row_ptr.append(len(shapes))
    graph = {
        "nodes": nodes,
        "arg_nodes": [i for i, n in enumerate(prog.nodes) if n.op == "null"],
        "heads": [[n, k, 0] for n, k in prog.heads],
        "attrs": {
            "dltype": ["list_str", dtypes],
            "shape": ["list_shape", shapes],
            "storage_id": ["list_int", storage],
        },
        "node_row_ptr": row_ptr,
    }
    return json.dumps(graph, indent=2)


@dataclass(frozen=True, slots=True)
class ParsedNode:
    op: str
    name: str
    inputs: tuple[Entry, ...]
    func_name: str
    num_outputs: int


@dataclass(frozen=True, slots=True)
class ParsedGraph:
    nodes: tuple[ParsedNode, ...]
    arg_nodes: tuple[int, ...]
    heads: tuple[Entry, ...]
    row_ptr: tuple[int, ...]
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[str, ...]
    storage_ids: tuple[int, ...]

    def entry_id(self, entry: Entry) -> int:
        return self.row_ptr[entry[0]] + entry[1]


def _attr(attrs: dict[str, Any], key: str) -> list[Any]:
    value = attrs.get(key)
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], list):
        raise DiagnosticError(f"graph JSON: attribute {key!r} is missing or malformed")
    items: list[Any] = value[1]
    return items


def parse(text: str) -> ParsedGraph:
    """Read a graph JSON; a malformed graph raises DiagnosticError."""
    try:
        graph = json.loads(text)
        nodes = tuple(
            ParsedNode(
                str(n["op"]),
                str(n["name"]),
                tuple((int(i[0]), int(i[1])) for i in n["inputs"]),
                str(n.get("attrs", {}).get("func_name", "")),
                int(n.get("attrs", {}).get("num_outputs", 1)),
            )
            for n in graph["nodes"]
        )
        attrs = graph["attrs"]
        return ParsedGraph(
            nodes,
            tuple(int(i) for i in graph["arg_nodes"]),
            tuple((int(h[0]), int(h[1])) for h in graph["heads"]),
            tuple(int(i) for i in graph["node_row_ptr"]),
            tuple(tuple(int(d) for d in s) for s in _attr(attrs, "shape")),
            tuple(str(d) for d in _attr(attrs, "dltype")),
            tuple(int(s) for s in _attr(attrs, "storage_id")),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DiagnosticError(f"graph JSON is malformed: {exc!r}") from None
