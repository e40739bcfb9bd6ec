"""Iterative traversals of types: children, pre-order walk, bottom-up rebuild, substitution.

TVM: ``include/tvm/ir/type_functor.h`` (``TypeVisitor``, ``TypeMutator``) and Relay's ``Bind``
over types. Types nest as deep as a program nests tuples and closures, so nothing here
recurses: each walk keeps its own stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
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

__all__ = [
    "free_type_vars",
    "is_complete",
    "iter_types",
    "map_type",
    "substitute",
    "type_children",
    "with_type_children",
]


def type_children(ty: Type) -> tuple[Type, ...]:
    """The types directly inside ``ty``: tuple fields, argument types then return type, the
    ADT then its arguments, a reference's value type."""
    match ty:
        case TensorType() | TypeVar() | IncompleteType() | GlobalTypeVar():
            return ()
        case TupleType():
            return ty.fields
        case FuncType():
            return (*ty.arg_types, ty.ret_type)
        case TypeCall():
            return (ty.func, *ty.args)
        case RelayRefType():
            return (ty.value,)
        case _:
            assert_never(ty)


def with_type_children(ty: Type, kids: Sequence[Type]) -> Type:
    """``ty`` with its children replaced (in ``type_children`` order)."""
    match ty:
        case TensorType() | TypeVar() | IncompleteType() | GlobalTypeVar():
            return ty
        case TupleType():
            return TupleType(kids, ty.span)
        case FuncType():
            return FuncType(kids[:-1], kids[-1], ty.type_params, ty.type_constraints, ty.span)
        case TypeCall():
            return TypeCall(kids[0], kids[1:], ty.span)
        case RelayRefType():
            return RelayRefType(kids[0], ty.span)
        case _:
            assert_never(ty)


def iter_types(root: Type) -> Iterator[Type]:
    """Every distinct type node inside ``root`` (itself included), pre-order, left to right.
    A node shared by several parents is yielded once, so a type whose tree expansion is
    exponential (the type of a diamond ladder of tuples) is walked in linear time."""
    stack = [root]
    seen: set[int] = set()  # ids stay valid: root keeps every node alive during the walk
    while stack:
        ty = stack.pop()
        if id(ty) in seen:
            continue
        seen.add(id(ty))
        yield ty
        stack.extend(reversed(type_children(ty)))


def is_complete(ty: Type) -> bool:
    """Whether ``ty`` contains no ``IncompleteType``."""
    if isinstance(ty, TensorType):
        return True
    return not any(isinstance(t, IncompleteType) for t in iter_types(ty))


def map_type(root: Type, rewrite: Callable[[Type], Type | None]) -> Type:
    """Rebuild ``root`` bottom-up. Where ``rewrite(node)`` returns a type, that type replaces
    the node as is (it is not walked again); where it returns None the node's children are
    rewritten. A node none of whose children changed is returned itself."""
    done: dict[int, Type] = {}
    keep: list[Type] = []  # holds every keyed node alive, so that no id() is reused
    stack: list[tuple[Type, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if key in done:
            continue
        if expanded:
            kids = type_children(node)
            new_kids = [done[id(k)] for k in kids]
            changed = any(a is not b for a, b in zip(new_kids, kids, strict=True))
            done[key] = with_type_children(node, new_kids) if changed else node
            keep.append(node)
            continue
        replacement = rewrite(node)
        if replacement is not None:
            done[key] = replacement
            keep.append(node)
            continue
        stack.append((node, True))
        stack.extend((k, False) for k in reversed(type_children(node)) if id(k) not in done)
    return done[id(root)]


def substitute(ty: Type, mapping: Mapping[TypeVar, Type]) -> Type:
    """Replace type variables by types (TVM's ``Bind`` on types)."""
    if not mapping or isinstance(ty, TensorType):
        return ty
    if isinstance(ty, TypeVar):
        return mapping.get(ty, ty)
    if isinstance(ty, TypeCall) and all(isinstance(a, TypeVar | TensorType) for a in ty.args):
        # The common shape of an ADT's field and result types (``List[a]``): no walk needed.
        args = [mapping.get(a, a) if isinstance(a, TypeVar) else a for a in ty.args]
        if all(x is y for x, y in zip(args, ty.args, strict=True)):
            return ty
        return TypeCall(ty.func, args, ty.span)

    def rewrite(t: Type) -> Type | None:
        if isinstance(t, TypeVar):
            return mapping.get(t, t)
        return None

    return map_type(ty, rewrite)


def free_type_vars(ty: Type) -> list[TypeVar]:
    """Type variables in ``ty`` not bound by the ``type_params`` of a function type inside
    it, in first-occurrence order."""
    found: list[TypeVar] = []
    stack: list[tuple[Type, frozenset[TypeVar]]] = [(ty, frozenset())]
    seen: set[tuple[int, frozenset[TypeVar]]] = set()
    while stack:
        node, bound = stack.pop()
        if (id(node), bound) in seen:
            continue
        seen.add((id(node), bound))
        if isinstance(node, TypeVar):
            if node not in bound and node not in found:
                found.append(node)
            continue
        if isinstance(node, FuncType) and node.type_params:
            bound = bound | frozenset(node.type_params)
        stack.extend((k, bound) for k in reversed(type_children(node)))
    return found
