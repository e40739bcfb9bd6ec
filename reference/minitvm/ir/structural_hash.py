"""Structural hashing, consistent with ``structural_equal`` (TVM's
``src/node/structural_hash.cc``, ``VarCountingSHashHandler``).

Equal terms hash alike: names, spans and checked types are left out; variables hash by the
order in which they are bound (or, free, by identity unless ``map_free_vars``), so
alpha-renaming does not change the hash.

The walk keeps an explicit stack of frames, one per node or sequence being hashed. A frame
folds its parts left to right into its hash; a part whose hash is not known yet (a node not
hashed before, a sequence) suspends the frame under a new one. Every node's hash is computed
once and memoized by identity, so a shared node costs one visit and a diamond ladder stays
linear. A GRAPH node also mixes in its completion index: ``add(r, r)`` with one shared ``r``
hashes differently from the same term with two copies, just as equality tells them apart.
Value nodes carry no index, matching equality, which compares them by content wherever they
occur.

Outside free variables without ``map_free_vars`` (hashed by identity, as TVM does), the hash
is the same in every process: strings are hashed with blake2b, not Python's salted hash.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.ir.module import IRModule
from minitvm.ir.node import Node, SEqualKind
from minitvm.ir.structural_fields import (
    Role,
    combine,
    leaf_hash,
    map_entries,
    plan_of,
    str_hash,
)

__all__ = ["structural_hash"]

_SEQUENCE = str_hash("<sequence>")
_MAP = str_hash("<map>")
_MODULE = str_hash("<IRModule>")
_BOUND = str_hash("<bound var>")
_FREE = str_hash("<free var>")
_NONE = leaf_hash(None)
_MASK = (1 << 64) - 1


class _MapParts(tuple[object, ...]):
    """The entries of a map flattened in key order (``k1, v1, k2, v2...``)."""

    __slots__ = ()


class _Frame:
    """A node or sequence whose parts are being hashed."""

    __slots__ = ("graph", "hashes", "index", "node", "parts")

    def __init__(
        self, node: Node | None, parts: Sequence[object], seed: int, graph: bool = False
    ) -> None:
        self.node = node
        """The node to memoize when done; None for a sequence."""
        self.parts = parts
        self.index = 0
        self.hashes = [seed]
        """The seed, then the hash of each part done so far."""
        self.graph = graph
        """Whether to mix in the GRAPH node's completion index."""


class _Hasher:
    def __init__(self, map_free_vars: bool) -> None:
        self.map_free_vars = map_free_vars
        self.memo: dict[int, int] = {}
        self.var_numbers: dict[int, int] = {}
        self.var_counter = 0
        self.graph_counter = 0

    def run(self, root: object) -> int:
        known = self.known(root)
        if known is not None:
            return known
        stack = [self.open(root)]
        memo, result = self.memo, 0
        while stack:
            frame = stack[-1]
            parts, hashes, i = frame.parts, frame.hashes, frame.index
            while i < len(parts):
                part = parts[i]
                i += 1
                # The common cases inline: a node seen before, an absent field.
                known = memo.get(id(part)) if isinstance(part, Node) else None
                if known is None:
                    known = _NONE if part is None else self.known(part)
                    if known is None:
                        frame.index = i
                        stack.append(self.open(part))
                        break
                hashes.append(known)
            else:
                stack.pop()
                result = self.finish(frame)
                if stack:
                    stack[-1].hashes.append(result)
        return result

    def known(self, value: object) -> int | None:
        """The hash of ``value`` if it needs no frame: a leaf, a node hashed before, a
        global; None otherwise."""
        if isinstance(value, Node):
            memo = self.memo.get(id(value))
            if memo is not None:
                return memo
            plan = plan_of(type(value))
            if plan.kind is SEqualKind.GLOBAL:
                return combine(plan.tag, leaf_hash(getattr(value, "name_hint", None)))
            return None
        if isinstance(value, tuple | list | IRModule):
            return None
        return leaf_hash(value)

    def finish(self, frame: _Frame) -> int:
        # Python's hash of a tuple of ints does not depend on the process's hash seed.
        h = hash(tuple(frame.hashes)) & _MASK
        if frame.graph:
            h = combine(h, self.graph_counter)
            self.graph_counter += 1
        if frame.node is not None:
            self.memo[id(frame.node)] = h
        return h

    def open(self, value: object) -> _Frame:
        if isinstance(value, Node):
            return self.open_node(value)
        if isinstance(value, _MapParts):
            return _Frame(None, value, combine(_MAP, len(value)))
        if isinstance(value, tuple | list):
            return _Frame(None, value, combine(_SEQUENCE, len(value)))
        assert isinstance(value, IRModule)
        parts: list[object] = []
        # Type definitions first, as equality compares them first.
        self.map_parts(value.type_definitions, parts)
        funcs = {gv.name_hint: f for gv, f in value.functions.items()}
        self.map_parts(funcs, parts)
        parts.append(value.attrs)
        return _Frame(None, parts, _MODULE)

    def map_parts(self, value: object, parts: list[object]) -> None:
        """A map as one part: its entries in key order, as equality visits them."""
        entries = map_entries(value)
        if entries is None:
            parts.append(value)
            return
        flat: list[object] = []
        for key in sorted(entries):
            flat += [key, entries[key]]
        parts.append(_MapParts(flat))

    def open_node(self, node: Node) -> _Frame:
        plan = plan_of(type(node))
        seed = plan.tag
        graph = False
        match plan.kind:
            case SEqualKind.VAR:
                seed = self.var_seed(node, seed)
            case SEqualKind.GRAPH:
                graph = not plan.is_childless(node)
            case SEqualKind.VALUE | SEqualKind.NAMED | SEqualKind.GLOBAL:
                pass
        parts: list[object] = []
        for name in plan.binders:
            binders = getattr(node, name)
            self.number_binders(binders if isinstance(binders, tuple | list) else (binders,))
            parts.append(binders)
        for f in plan.compared_fields(node):
            if f.role is Role.MAP:
                self.map_parts(getattr(node, f.name), parts)
            else:
                parts.append(getattr(node, f.name))
        return _Frame(node, parts, seed, graph)

    def var_seed(self, var: Node, seed: int) -> int:
        """A variable is its binding order, or (free, without ``map_free_vars``) itself."""
        number = self.var_numbers.get(id(var))
        if number is None and self.map_free_vars:
            number = self.number(var)
        if number is None:
            return combine(combine(seed, _FREE), id(var))
        return combine(combine(seed, _BOUND), number)

    def number_binders(self, binders: tuple[object, ...] | list[object]) -> None:
        """Number all the variables a node binds before hashing any of its fields, as
        equality binds them before comparing any."""
        for var in binders:
            is_var = isinstance(var, Node) and plan_of(type(var)).kind is SEqualKind.VAR
            if is_var and id(var) not in self.var_numbers and id(var) not in self.memo:
                assert isinstance(var, Node)
                self.number(var)

    def number(self, var: Node) -> int:
        n = self.var_numbers[id(var)] = self.var_counter
        self.var_counter += 1
        return n


def structural_hash(node: object, map_free_vars: bool = False) -> int:
    """A 64-bit hash such that ``structural_equal(a, b, m)`` implies
    ``structural_hash(a, m) == structural_hash(b, m)``."""
    return _Hasher(map_free_vars).run(node)
