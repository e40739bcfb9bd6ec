"""Structural equality: ``structural_equal`` and ``assert_structural_equal`` (TVM's
``src/node/structural_equal.cc``); ``structural_hash`` lives in ``ir.structural_hash``.

The two terms are walked in lockstep with an explicit stack of pairs, so no program is too
deep. What a pair means depends on the node class's ``SEqualKind``:

* GRAPH nodes are matched one-to-one: the first time ``l`` meets ``r`` their fields are
  compared and, once that succeeds, ``l <-> r`` is recorded; afterwards ``l`` only equals
  ``r``, and ``r`` only ``l``. Sharing in one term must be sharing in the other.
* VAR nodes get the same one-to-one map, entered at binding sites (``DEF`` fields) or, for
  free variables, on first encounter when they are the same object or ``map_free_vars``.
* VALUE and NAMED nodes compare field by field wherever they occur; a pair found equal is
  remembered, which keeps heavily shared DAGs linear (a later visit could only succeed
  again: the variable and graph maps only grow).
* GLOBAL nodes compare by ``name_hint``.

A mismatch stops the walk and keeps its path (``<root>.body.args[1]``) for the message.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TypeAlias

from minitvm.ir.module import IRModule
from minitvm.ir.node import Node, SEqualKind
from minitvm.ir.structural_fields import NodePlan, Role, leaf_equal, map_entries, plan_of
from minitvm.ir.structural_hash import structural_hash
from minitvm.ir.structural_report import Path, render_path, show

__all__ = ["assert_structural_equal", "structural_equal", "structural_hash"]


class _Op(IntEnum):
    COMPARE = 0
    """Compare a pair of values of any kind."""
    FIELDS = 1
    """Compare the fields of a pair of variables just bound to each other."""
    MAP_GRAPH = 2
    """All fields of a GRAPH pair were equal: record ``l <-> r``."""
    MEMO_VALUE = 3
    """All fields of a VALUE pair were equal: remember it."""


_Frame: TypeAlias = tuple[_Op, object, object, Path]

_ATOMS = frozenset({type(None), bool, int, float, str})


class _Mismatch:
    __slots__ = ("lhs", "path", "reason", "rhs")

    def __init__(self, path: Path, lhs: object, rhs: object, reason: str) -> None:
        self.path = path
        self.lhs = lhs
        self.rhs = rhs
        self.reason = reason


class _Equal:
    """One comparison: the variable/graph bijection, the memo of equal value pairs."""

    def __init__(self, map_free_vars: bool) -> None:
        self.map_free_vars = map_free_vars
        self.lhs_to_rhs: dict[int, object] = {}
        self.rhs_to_lhs: dict[int, object] = {}
        self.equal_values: set[tuple[int, int]] = set()
        self.mismatch: _Mismatch | None = None
        self.stack: list[_Frame] = []

    def run(self, lhs: object, rhs: object) -> bool:
        stack = self.stack
        stack.append((_Op.COMPARE, lhs, rhs, None))
        while stack:
            op, a, b, path = stack.pop()
            if op is _Op.COMPARE:
                ok = self.compare(a, b, path)
            elif op is _Op.FIELDS:
                assert isinstance(a, Node)
                assert isinstance(b, Node)
                ok = self.push_fields(a, b, plan_of(type(a)), path)
            elif op is _Op.MAP_GRAPH:
                self.bind(a, b)
                continue
            else:
                self.equal_values.add((id(a), id(b)))
                continue
            if not ok:
                return False
        return True

    def fail(self, path: Path, a: object, b: object, reason: str) -> bool:
        self.mismatch = _Mismatch(path, a, b, reason)
        return False

    def bind(self, a: object, b: object) -> None:
        self.lhs_to_rhs[id(a)] = b
        self.rhs_to_lhs[id(b)] = a

    def check_bijection(self, a: Node, b: Node, path: Path) -> bool | None:
        """The verdict if ``a`` or ``b`` is already matched, None if neither is."""
        mapped = self.lhs_to_rhs.get(id(a))
        if mapped is None and id(b) not in self.rhs_to_lhs:
            return None
        if mapped is b:
            return True
        what = "variable" if plan_of(type(a)).kind is SEqualKind.VAR else "node"
        side, other = ("lhs", "rhs") if mapped is not None else ("rhs", "lhs")
        return self.fail(
            path, a, b, f"the {side} {what} already corresponds to a different {other} {what}"
        )

    # --- one pair ----------------------------------------------------------------------

    def compare(self, a: object, b: object, path: Path) -> bool:
        if isinstance(a, Node) or isinstance(b, Node):
            if type(a) is not type(b):
                return self.fail(
                    path, a, b, f"{type(a).__name__} is compared with {type(b).__name__}"
                )
            assert isinstance(a, Node)
            assert isinstance(b, Node)
            return self.compare_nodes(a, b, path)
        if isinstance(a, tuple | list) and isinstance(b, tuple | list):
            return self.push_sequence(a, b, path)
        if isinstance(a, IRModule) and isinstance(b, IRModule):
            return self.push_module(a, b, path)
        return leaf_equal(a, b) or self.fail(path, a, b, "values differ")

    def compare_nodes(self, a: Node, b: Node, path: Path) -> bool:
        plan = plan_of(type(a))
        kind = plan.kind
        if kind is SEqualKind.GRAPH and plan.is_childless(a):
            kind = SEqualKind.VALUE
        match kind:
            case SEqualKind.GRAPH | SEqualKind.VAR:
                verdict = self.check_bijection(a, b, path)
                if verdict is not None:
                    return verdict
                if kind is SEqualKind.GRAPH:
                    # Matched once every field is equal (children are finished first).
                    self.stack.append((_Op.MAP_GRAPH, a, b, path))
                elif a is b or self.map_free_vars:
                    self.bind(a, b)
                else:
                    return self.fail(path, a, b, "free variables differ and map_free_vars is False")
                return self.push_fields(a, b, plan, path)
            case SEqualKind.GLOBAL:
                if getattr(a, "name_hint", None) == getattr(b, "name_hint", None):
                    return True
                return self.fail(path, a, b, "global names differ")
            case SEqualKind.VALUE | SEqualKind.NAMED:
                if (kind is SEqualKind.NAMED and a is b) or (id(a), id(b)) in self.equal_values:
                    return True
                self.stack.append((_Op.MEMO_VALUE, a, b, path))
                return self.push_fields(a, b, plan, path)

    # --- children ----------------------------------------------------------------------

    def push_all(self, frames: list[_Frame]) -> None:
        """Schedule ``frames`` to run in list order."""
        frames.reverse()
        self.stack.extend(frames)

    def settled(self, a: object, b: object) -> bool:
        """Whether the pair is already known equal, so that it needs no frame: the same
        atom or operator, a pair already matched, a value pair already found equal, two
        empty tuples. (A pair that will fail still gets its frame, to fail in order.)"""
        if isinstance(a, Node):
            mapped = self.lhs_to_rhs.get(id(a))
            if mapped is not None:
                return mapped is b
            if a is b and plan_of(type(a)).kind in (SEqualKind.NAMED, SEqualKind.GLOBAL):
                return True
            return (id(a), id(b)) in self.equal_values
        if a is b:
            return type(a) in _ATOMS
        return type(a) is tuple and type(b) is tuple and not a and not b

    def push_fields(self, a: Node, b: Node, plan: NodePlan, path: Path) -> bool:
        frames: list[_Frame] = []
        for name in plan.binders:
            field_path: Path = (path, name)
            if not self.bind_binders(getattr(a, name), getattr(b, name), field_path, frames):
                return False
        for f in plan.compared_fields(a):
            av, bv = getattr(a, f.name), getattr(b, f.name)
            field_path = (path, f.name)
            if f.role is not Role.MAP:
                if not self.settled(av, bv):
                    frames.append((_Op.COMPARE, av, bv, field_path))
            elif not self.map_frames(av, bv, field_path, frames):
                return False
        self.push_all(frames)
        return True

    def bind_binders(self, a: object, b: object, path: Path, frames: list[_Frame]) -> bool:
        """Bind the variables of a ``DEF`` field pairwise. Their own fields are compared
        next, once every binder of the node is bound."""
        pairs: list[tuple[object, object, Path]]
        if isinstance(a, tuple | list):
            if not isinstance(b, tuple | list) or len(a) != len(b):
                return self.fail(path, a, b, "different numbers of bound variables")
            pairs = [(x, y, (path, i)) for i, (x, y) in enumerate(zip(a, b, strict=True))]
        else:
            pairs = [(a, b, path)]
        for x, y, p in pairs:
            if not (isinstance(x, Node) and plan_of(type(x)).kind is SEqualKind.VAR):
                frames.append((_Op.COMPARE, x, y, p))
                continue
            if type(x) is not type(y):
                return self.fail(p, x, y, f"{type(x).__name__} is bound against {type(y).__name__}")
            assert isinstance(y, Node)
            verdict = self.check_bijection(x, y, p)
            if verdict is False:
                return False
            if verdict is None:
                self.bind(x, y)
                frames.append((_Op.FIELDS, x, y, p))
        return True

    def push_sequence(
        self, a: tuple[object, ...] | list[object], b: tuple[object, ...] | list[object], path: Path
    ) -> bool:
        if len(a) != len(b):
            return self.fail(path, a, b, f"lengths differ: {len(a)} vs {len(b)}")
        frames: list[_Frame] = [
            (_Op.COMPARE, x, y, (path, i))
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            if not self.settled(x, y)
        ]
        self.push_all(frames)
        return True

    def map_frames(self, a: object, b: object, path: Path, frames: list[_Frame]) -> bool:
        """Compare two maps entry by entry, matched by key name, in key order."""
        a_map, b_map = map_entries(a), map_entries(b)
        if a_map is None or b_map is None:
            frames.append((_Op.COMPARE, a, b, path))
            return True
        if a_map.keys() != b_map.keys():
            return self.fail(path, a, b, f"keys differ: {sorted(a_map)} vs {sorted(b_map)}")
        for key in sorted(a_map):
            frames.append((_Op.COMPARE, a_map[key], b_map[key], (path, (key,))))
        return True

    def push_module(self, a: IRModule, b: IRModule, path: Path) -> bool:
        """Type definitions and functions, each matched by name, then module attributes.
        Type definitions go first: they bind the type variables their constructors' field
        types use, which the functions' constructors then meet as already matched."""
        frames: list[_Frame] = []
        type_defs: Path = (path, "type_definitions")
        if not self.map_frames(a.type_definitions, b.type_definitions, type_defs, frames):
            return False
        a_funcs = {gv.name_hint: f for gv, f in a.functions.items()}
        b_funcs = {gv.name_hint: f for gv, f in b.functions.items()}
        if not self.map_frames(a_funcs, b_funcs, (path, "functions"), frames):
            return False
        frames.append((_Op.COMPARE, a.attrs, b.attrs, (path, "attrs")))
        self.push_all(frames)
        return True


def structural_equal(lhs: object, rhs: object, map_free_vars: bool = False) -> bool:
    """Whether ``lhs`` and ``rhs`` are the same program up to variable names (see the module
    docstring); free variables must be the same objects unless ``map_free_vars``."""
    return _Equal(map_free_vars).run(lhs, rhs)


def assert_structural_equal(lhs: object, rhs: object, map_free_vars: bool = False) -> None:
    """Raise ValueError naming the first mismatch, with both sub-terms, unless equal."""
    engine = _Equal(map_free_vars)
    if engine.run(lhs, rhs):
        return
    m = engine.mismatch
    assert m is not None
    where = render_path(m.path)
    raise ValueError(
        f"StructuralEqual check failed ({m.reason}), caused by lhs at {where}:\n"
        f"{show(m.lhs)}\nand rhs at {where}:\n{show(m.rhs)}"
    )
