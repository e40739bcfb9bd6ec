"""Static memory planning for the graph executor (TVM's
``src/relay/backend/graph_plan_memory.cc``).

Every node output gets a *storage* (a byte buffer) by liveness: walking the nodes in
execution order, a node's outputs take storages first, then its inputs whose last reader it
was give theirs back to a free list. A request takes the smallest free storage at least as
large, else grows the largest free one, else makes a new one, so buffers are reused as soon
as their values are dead. Inputs, parameters and the graph's heads keep storages of their
own for the whole run (a head is read after the run; an input may be run again). A
``__nop`` node's output shares its input's storage, which stays alive while either is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from minitvm.ir.type import TensorType
from minitvm.relay.backend.graph_codegen import NOP, Entry, GraphNode

__all__ = ["MemoryPlan", "nbytes", "plan_memory"]


def nbytes(t: TensorType) -> int:
    return int(np.prod(t.shape, dtype=np.int64)) * np.dtype(t.dtype).itemsize


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """``storage_ids[node][k]``: the storage of output ``k`` of ``node``; ``sizes`` in bytes."""

    storage_ids: tuple[tuple[int, ...], ...]
    sizes: tuple[int, ...]

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes)


class _Planner:
    def __init__(self, nodes: Sequence[GraphNode], heads: Sequence[Entry]) -> None:
        self.nodes = nodes
        self.sizes: list[int] = []
        self.free: list[int] = []
        self.refs: dict[int, int] = {}
        self.pinned: set[int] = set()
        self.heads = set(heads)
        self.uses: dict[Entry, int] = {}
        for node in nodes:
            for e in node.inputs:
                self.uses[e] = self.uses.get(e, 0) + 1

    def new(self, size: int) -> int:
        self.sizes.append(size)
        return len(self.sizes) - 1

    def request(self, size: int) -> int:
        fits = [s for s in self.free if self.sizes[s] >= size]
        if fits:
            sid = min(fits, key=lambda s: self.sizes[s])
        elif self.free:
            sid = max(self.free, key=lambda s: self.sizes[s])
            self.sizes[sid] = size
        else:
            return self.new(size)
        self.free.remove(sid)
        return sid

    def release(self, sid: int) -> None:
        self.refs[sid] -= 1
        if self.refs[sid] == 0 and sid not in self.pinned:
            self.free.append(sid)

    def plan(self) -> MemoryPlan:
        ids: list[tuple[int, ...]] = []
        for index, node in enumerate(self.nodes):
            outs: list[int] = []
            for k, ty in enumerate(node.out_types):
                entry = (index, k)
                if node.op == "null":
                    sid = self.new(nbytes(ty))
                    self.pinned.add(sid)
                elif node.func_name == NOP:
                    src_node, src_k = node.inputs[0]
                    sid = ids[src_node][src_k]
                elif entry in self.heads:
                    sid = self.new(nbytes(ty))
                else:
                    sid = self.request(nbytes(ty))
                if entry in self.heads:
                    self.pinned.add(sid)
                self.refs[sid] = self.refs.get(sid, 0) + self.uses.get(entry, 0)
                if self.uses.get(entry, 0) == 0 and sid not in self.pinned:
                    self.free.append(sid)  # computed but never read: reusable at once
                outs.append(sid)
            ids.append(tuple(outs))
            for src_node, src_k in node.inputs:
                self.release(ids[src_node][src_k])
        return MemoryPlan(tuple(ids), tuple(self.sizes))


def plan_memory(nodes: Sequence[GraphNode], heads: Sequence[Entry]) -> MemoryPlan:
    return _Planner(nodes, heads).plan()
