"""The type solver: unification over ``IncompleteType`` and deferred constraints.

TVM: ``src/relay/analysis/type_solver.cc``, simplified.

* **Union-find.** Each ``IncompleteType`` is a variable. ``find`` follows its bindings (with
  path compression) to its representative: an unbound ``IncompleteType`` or a structured
  type. ``unify`` walks both types with a work list and binds variables; an occurs check
  refuses infinite types. Type variables (``TypeVar``) are rigid: equal only to themselves.
* **Function types with type parameters** unify as in TVM: the parameters of the type with
  fewer of them stand for the first parameters of the other; the remaining ones are
  instantiated with fresh variables (so a polymorphic ``id`` fits ``fn(int32) -> int32``).
* **Constraints** (operator type relations, tuple projections) wait until the types they need
  are known. A waiting constraint watches one unbound variable that blocks it; binding that
  variable moves it to the ready queue, which ``unify`` drains before returning (TVM iterates
  its relation queue to a fixpoint; watching makes the fixpoint linear).
* **ADTs and references.** ``TypeCall``s unify when they apply the same ADT (by name) to the
  same number of arguments, argument by argument; a bare ``GlobalTypeVar`` is the ADT applied
  to no arguments (``nat`` is ``nat[]``). Reference types unify by their value types.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections import deque
from typing import assert_never

from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    IncompleteType,
    RelayRefType,
    TensorType,
    TupleType,
    Type,
    TypeCall,
    TypeVar,
)
from minitvm.ir.type_functor import substitute, type_children, with_type_children

__all__ = ["Constraint", "TypeSolver", "UnifyError", "instantiate"]


class UnifyError(Exception):
    """Two types cannot be made equal. Internal: callers turn it into a DiagnosticError that
    names the construct; ``lhs``/``rhs`` are the innermost clashing parts."""

    def __init__(self, lhs: Type, rhs: Type, reason: str) -> None:
        super().__init__(reason)
        self.lhs = lhs
        self.rhs = rhs
        self.reason = reason


class Constraint(ABC):
    """A deferred check, fired once the types it needs are known."""

    _counter = itertools.count()

    def __init__(self) -> None:
        self.seq = next(Constraint._counter)
        self.fired = False

    @abstractmethod
    def blocker(self, solver: TypeSolver) -> IncompleteType | None:
        """An unbound variable that keeps the constraint from firing, or None if ready."""

    @abstractmethod
    def fire(self, solver: TypeSolver) -> None:
        """Apply the constraint; raises DiagnosticError on failure."""


def instantiate(ft: FuncType, type_args: list[Type]) -> FuncType:
    """``ft`` without type parameters, each replaced by the matching type argument."""
    mapping = dict(zip(ft.type_params, type_args, strict=True))
    args = [substitute(a, mapping) for a in ft.arg_types]
    return FuncType(args, substitute(ft.ret_type, mapping), (), ft.type_constraints, ft.span)


class TypeSolver:
    """Bindings of type variables, and the constraints waiting on them."""

    def __init__(self) -> None:
        self._binding: dict[IncompleteType, Type] = {}
        self._watchers: dict[IncompleteType, list[Constraint]] = {}
        self._ready: deque[Constraint] = deque()
        self._draining = False
        self._final: dict[IncompleteType, Type] = {}
        """Resolutions without holes: bindings are never undone, so they stay valid."""

    @staticmethod
    def fresh() -> IncompleteType:
        return IncompleteType()

    # --- union-find ---------------------------------------------------------------------

    def find(self, ty: Type) -> Type:
        """The representative of ``ty``: itself unless it is a bound variable."""
        if not isinstance(ty, IncompleteType):
            return ty
        binding = self._binding
        root: Type = ty
        while isinstance(root, IncompleteType) and root in binding:
            root = binding[root]
        node: Type = ty
        while node is not root and isinstance(node, IncompleteType):
            nxt = binding[node]
            binding[node] = root
            node = nxt
        return root

    def _bind(self, var: IncompleteType, ty: Type) -> None:
        if not isinstance(ty, TensorType | TypeVar) and self._occurs(var, ty):
            raise UnifyError(var, self.resolve(ty), "the type would contain itself")
        self._binding[var] = ty
        watchers = self._watchers.pop(var, None)
        if watchers:
            self._ready.extend(watchers)

    def _occurs(self, var: IncompleteType, ty: Type) -> bool:
        stack = [ty]
        seen: set[int] = set()  # shared subtypes are searched once
        keep: list[Type] = []  # holds the nodes keyed by id alive
        while stack:
            t = self.find(stack.pop())
            if t is var:
                return True
            if id(t) in seen or isinstance(t, TensorType):
                continue
            seen.add(id(t))
            keep.append(t)
            stack.extend(type_children(t))
        return False

    # --- unification --------------------------------------------------------------------

    def unify(self, expected: Type, actual: Type) -> None:
        """Make ``expected`` and ``actual`` equal, or raise UnifyError. Constraints whose
        types became known fire before this returns."""
        work: list[tuple[Type, Type]] = [(expected, actual)]
        done: set[tuple[int, int]] = set()  # pairs of shared subtypes are unified once
        keep: list[tuple[Type, Type]] = []  # holds the pairs keyed by id alive
        while work:
            lhs, rhs = work.pop()
            a = self.find(lhs)
            b = self.find(rhs)
            if a is b or (id(a), id(b)) in done:
                continue
            done.add((id(a), id(b)))
            keep.append((a, b))
            if isinstance(a, IncompleteType):
                self._bind(a, b)
            elif isinstance(b, IncompleteType):
                self._bind(b, a)
            else:
                work.extend(self._unify_structure(a, b))
        self.solve()

    def _unify_structure(self, a: Type, b: Type) -> list[tuple[Type, Type]]:  # noqa: C901
        """The pairs of parts that must unify for ``a`` and ``b`` (both non-variables)."""
        match a:
            case TensorType():
                if not isinstance(b, TensorType):
                    raise UnifyError(a, self.resolve(b), "")
                if a != b:
                    raise UnifyError(a, b, _tensor_clash(a, b))
                return []
            case TupleType():
                if not isinstance(b, TupleType):
                    raise UnifyError(self.resolve(a), self.resolve(b), "")
                if len(a.fields) != len(b.fields):
                    reason = f"a tuple of {len(a.fields)} fields vs one of {len(b.fields)}"
                    raise UnifyError(self.resolve(a), self.resolve(b), reason)
                return list(zip(a.fields, b.fields, strict=True))
            case FuncType():
                if not isinstance(b, FuncType):
                    raise UnifyError(self.resolve(a), self.resolve(b), "")
                return self._unify_functions(a, b)
            case TypeVar():
                raise UnifyError(a, self.resolve(b), "")
            case GlobalTypeVar() | TypeCall():
                return self._unify_adts(a, b)
            case RelayRefType():
                if not isinstance(b, RelayRefType):
                    raise UnifyError(self.resolve(a), self.resolve(b), "")
                return [(a.value, b.value)]
            case IncompleteType():
                raise AssertionError("unify binds variables before comparing structure")
            case _:
                assert_never(a)

    def _unify_adts(self, a: GlobalTypeVar | TypeCall, b: Type) -> list[tuple[Type, Type]]:
        lhs = TypeCall(a) if isinstance(a, GlobalTypeVar) else a
        rhs = TypeCall(b) if isinstance(b, GlobalTypeVar) else b
        if not isinstance(rhs, TypeCall):
            raise UnifyError(self.resolve(a), self.resolve(b), "")
        head_a, head_b = self.find(lhs.func), self.find(rhs.func)
        both_named = isinstance(head_a, GlobalTypeVar) and isinstance(head_b, GlobalTypeVar)
        if both_named and head_a != head_b:
            raise UnifyError(self.resolve(a), self.resolve(b), "different types")
        if len(lhs.args) != len(rhs.args):
            reason = f"{len(lhs.args)} type arguments vs {len(rhs.args)}"
            raise UnifyError(self.resolve(a), self.resolve(b), reason)
        pairs: list[tuple[Type, Type]] = list(zip(lhs.args, rhs.args, strict=True))
        if head_a is not head_b and not both_named:
            pairs.append((lhs.func, rhs.func))  # a type variable or a hole in the head
        return pairs

    def _unify_functions(self, a: FuncType, b: FuncType) -> list[tuple[Type, Type]]:
        if len(a.arg_types) != len(b.arg_types):
            reason = f"{len(a.arg_types)} parameters vs {len(b.arg_types)}"
            raise UnifyError(self.resolve(a), self.resolve(b), reason)
        if a.type_params or b.type_params:
            # Rename the type parameters of the type with more of them onto the other's;
            # the extra ones become fresh variables (TVM's Unifier on FuncTypeNode).
            more, fewer = (a, b) if len(a.type_params) >= len(b.type_params) else (b, a)
            mapping: dict[TypeVar, Type] = {}
            for i, tv in enumerate(more.type_params):
                mapping[tv] = fewer.type_params[i] if i < len(fewer.type_params) else self.fresh()
            resolved = self.resolve(more)
            assert isinstance(resolved, FuncType)
            renamed = FuncType(
                [substitute(t, mapping) for t in resolved.arg_types],
                substitute(resolved.ret_type, mapping),
            )
            a, b = (renamed, b) if more is a else (a, renamed)
        return [(a.ret_type, b.ret_type), *zip(a.arg_types, b.arg_types, strict=True)]

    # --- constraints --------------------------------------------------------------------

    def add_constraint(self, constraint: Constraint) -> None:
        self._ready.append(constraint)
        self.solve()

    def solve(self) -> None:
        """Fire every ready constraint; re-watch those still blocked."""
        if self._draining:
            return
        self._draining = True
        try:
            while self._ready:
                constraint = self._ready.popleft()
                if constraint.fired:
                    continue
                blocker = constraint.blocker(self)
                if blocker is not None:
                    self._watchers.setdefault(blocker, []).append(constraint)
                    continue
                constraint.fired = True
                constraint.fire(self)
        finally:
            self._draining = False

    def pending(self) -> list[Constraint]:
        """Constraints still waiting, oldest first."""
        waiting = {id(c): c for cs in self._watchers.values() for c in cs if not c.fired}
        return sorted(waiting.values(), key=lambda c: c.seq)

    # --- resolution ---------------------------------------------------------------------

    def first_hole(self, ty: Type) -> IncompleteType | None:
        """An unbound variable inside ``ty`` (after following bindings), or None."""
        stack = [ty]
        seen: set[int] = set()  # shared subtypes are searched once
        keep: list[Type] = []  # holds the nodes keyed by id alive
        while stack:
            t = self.find(stack.pop())
            if isinstance(t, IncompleteType):
                return t
            if id(t) in seen or isinstance(t, TensorType):
                continue
            seen.add(id(t))
            keep.append(t)
            stack.extend(type_children(t))
        return None

    def resolve(self, ty: Type) -> Type:
        """``ty`` with every bound variable replaced by its binding, all the way down."""
        if type(ty) is TensorType:
            return ty
        root = self.find(ty)
        if isinstance(root, TensorType | TypeVar):
            return root
        if isinstance(root, IncompleteType) and root is not ty:
            return root
        return self._resolve_walk(ty)

    def _resolve_walk(self, ty: Type) -> Type:
        done: dict[int, Type] = {}
        keep: list[Type] = []
        # frames: (node, stage); stage 0 new, 1 children done, 2 alias of its binding
        stack: list[tuple[Type, int]] = [(ty, 0)]
        while stack:
            node, stage = stack.pop()
            key = id(node)
            if stage == 0 and key in done:
                continue
            if stage == 2:
                assert isinstance(node, IncompleteType)
                target = self.find(node)
                done[key] = result = done[id(target)]
                if self.first_hole(result) is None:
                    self._final[node] = result
                continue
            if stage == 1:
                kids = type_children(node)
                new = [done[id(k)] for k in kids]
                same = all(x is y for x, y in zip(new, kids, strict=True))
                done[key] = node if same else with_type_children(node, new)
                continue
            keep.append(node)
            if isinstance(node, IncompleteType):
                final = self._final.get(node)
                target = self.find(node)
                if final is not None or target is node or isinstance(target, TensorType):
                    done[key] = final if final is not None else target
                    continue
                stack.append((node, 2))
                if id(target) not in done:
                    keep.append(target)
                    stack.append((target, 0))
                continue
            stack.append((node, 1))
            stack.extend((k, 0) for k in reversed(type_children(node)) if id(k) not in done)
        return done[id(ty)]


def _tensor_clash(a: TensorType, b: TensorType) -> str:
    if a.dtype != b.dtype:
        return f"dtype {a.dtype} vs {b.dtype}"
    if len(a.shape) != len(b.shape):
        return f"rank {len(a.shape)} vs {len(b.shape)}"
    pairs = enumerate(zip(a.shape, b.shape, strict=True))
    return "; ".join(f"dimension {i}: {x} vs {y}" for i, (x, y) in pairs if x != y)
