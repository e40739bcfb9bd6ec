"""Pattern matching: ``Match``, ``Clause`` and the patterns (TVM's ``python/tvm/relay/adt.py``
and ``include/tvm/relay/adt.h``).

``match (data) { pattern => rhs, ... }`` evaluates ``data`` and then the right-hand side of
the first clause whose pattern matches the value. A pattern is a wildcard ``_``, a variable
``%x`` (matches anything and binds it), a constructor with sub-patterns ``Cons(%x, _)``, or a
tuple of sub-patterns ``(%a, Nil)``. The variables of a clause's pattern are bound in its
right-hand side only. A match is *complete* (``match``) unless written ``match?``: InferType
then checks that the clauses cover every value.

``Constructor`` and ``TypeData`` live in ``minitvm.ir.adt`` (as TVM's ``tvm.ir.adt``) and are
re-exported here. Patterns nest only as deep as they are written; the helpers below walk them
with explicit stacks all the same.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeVar, assert_never

from minitvm.error import DiagnosticError
from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.node import DEF, IGNORE, Node, Span
from minitvm.ir.type import Type
from minitvm.relay.expr import Expr, ExprWithOp, Var

__all__ = [
    "Clause",
    "Constructor",
    "Match",
    "Pattern",
    "PatternConstructor",
    "PatternTuple",
    "PatternVar",
    "PatternWildcard",
    "TypeData",
    "map_pattern_vars",
    "pattern_children",
    "pattern_parts",
    "pattern_str",
    "pattern_vars",
]


@dataclass(frozen=True, slots=True)
class PatternWildcard(Node):
    """``_``: matches any value and binds nothing."""

    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)


@dataclass(frozen=True, slots=True)
class PatternVar(Node):
    """``%x``: matches any value and binds it to ``var`` in the clause's right-hand side."""

    var: Var = dataclasses.field(metadata=DEF)
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __post_init__(self) -> None:
        if not isinstance(self.var, Var):
            raise DiagnosticError(f"PatternVar needs a Var, got {type(self.var).__name__}")


@dataclass(frozen=True, slots=True, init=False)
class PatternConstructor(Node):
    """``C(p1, ..., pn)``: matches a value built by ``constructor`` whose fields match the
    sub-patterns (one per field of the constructor)."""

    constructor: Constructor
    patterns: tuple[Pattern, ...]
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __init__(
        self,
        constructor: Constructor,
        patterns: Sequence[Pattern] | None = None,
        span: Span | None = None,
    ) -> None:
        if not isinstance(constructor, Constructor):
            raise DiagnosticError(
                f"PatternConstructor needs a Constructor, got {type(constructor).__name__}"
            )
        object.__setattr__(self, "constructor", constructor)
        object.__setattr__(self, "patterns", _patterns(patterns, "PatternConstructor"))
        object.__setattr__(self, "span", span)


@dataclass(frozen=True, slots=True, init=False)
class PatternTuple(Node):
    """``(p1, ..., pn)``: matches a tuple of n fields whose fields match the sub-patterns."""

    patterns: tuple[Pattern, ...]
    span: Span | None = dataclasses.field(default=None, compare=False, repr=False, metadata=IGNORE)

    def __init__(self, patterns: Sequence[Pattern] | None = None, span: Span | None = None) -> None:
        object.__setattr__(self, "patterns", _patterns(patterns, "PatternTuple"))
        object.__setattr__(self, "span", span)


Pattern: TypeAlias = PatternWildcard | PatternVar | PatternConstructor | PatternTuple
"""Every pattern. Dispatch over it with ``match`` and ``assert_never``."""

_PATTERN_CLASSES = (PatternWildcard, PatternVar, PatternConstructor, PatternTuple)


def _patterns(patterns: Sequence[Pattern] | None, what: str) -> tuple[Pattern, ...]:
    result = tuple(patterns or ())
    for p in result:
        if not isinstance(p, _PATTERN_CLASSES):
            raise DiagnosticError(f"{what}: sub-patterns must be patterns, got {type(p).__name__}")
    return result


@dataclass(frozen=True, slots=True)
class Clause(Node):
    """``lhs => rhs``: one arm of a match."""

    lhs: Pattern
    rhs: Expr

    def __post_init__(self) -> None:
        if not isinstance(self.lhs, _PATTERN_CLASSES):
            raise DiagnosticError(
                f"Clause: the left-hand side must be a pattern, got {type(self.lhs).__name__}"
            )


@dataclass(frozen=True, slots=True, eq=False, repr=False, init=False)
class Match(ExprWithOp):
    """``match (data) { clauses }``; ``complete=False`` is ``match?`` (no coverage check)."""

    data: Expr
    clauses: tuple[Clause, ...]
    complete: bool

    def __init__(
        self,
        data: Expr,
        clauses: Sequence[Clause],
        complete: bool = True,
        span: Span | None = None,
        *,
        checked_type_: Type | None = None,
    ) -> None:
        for clause in clauses:
            if not isinstance(clause, Clause):
                raise DiagnosticError(f"Match: expected clauses, got {type(clause).__name__}")
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "clauses", tuple(clauses))
        object.__setattr__(self, "complete", bool(complete))
        object.__setattr__(self, "span", span)
        object.__setattr__(self, "checked_type_", checked_type_)


# --- walks over patterns --------------------------------------------------------------------


def pattern_children(pattern: Pattern) -> tuple[Pattern, ...]:
    """The sub-patterns of ``pattern``, left to right."""
    match pattern:
        case PatternWildcard() | PatternVar():
            return ()
        case PatternConstructor() | PatternTuple():
            return pattern.patterns
        case _:
            assert_never(pattern)


def pattern_vars(pattern: Pattern) -> list[Var]:
    """The variables ``pattern`` binds, left to right."""
    found: list[Var] = []
    stack: list[Pattern] = [pattern]
    while stack:
        p = stack.pop()
        if isinstance(p, PatternVar):
            found.append(p.var)
        else:
            stack.extend(reversed(pattern_children(p)))
    return found


def map_pattern_vars(pattern: Pattern, rename: Callable[[Var], Var]) -> Pattern:
    """``pattern`` with each variable ``v`` replaced by ``rename(v)``; the same object when
    no variable changes."""
    done: dict[int, Pattern] = {}
    keep: list[Pattern] = []  # holds the keyed patterns alive, so that no id() is reused
    stack: list[tuple[Pattern, bool]] = [(pattern, False)]
    while stack:
        p, expanded = stack.pop()
        if not expanded:
            keep.append(p)
            stack.append((p, True))
            stack.extend((k, False) for k in reversed(pattern_children(p)))
            continue
        match p:
            case PatternWildcard():
                done[id(p)] = p
            case PatternVar():
                new_var = rename(p.var)
                done[id(p)] = p if new_var is p.var else PatternVar(new_var, p.span)
            case PatternConstructor() | PatternTuple():
                kids = tuple(done[id(k)] for k in p.patterns)
                if all(a is b for a, b in zip(kids, p.patterns, strict=True)):
                    done[id(p)] = p
                elif isinstance(p, PatternConstructor):
                    done[id(p)] = PatternConstructor(p.constructor, kids, p.span)
                else:
                    done[id(p)] = PatternTuple(kids, p.span)
            case _:
                assert_never(p)
    return done[id(pattern)]


T = TypeVar("T")


def pattern_parts(pattern: Pattern, var_text: Callable[[Var], T]) -> list[str | T]:
    """The pieces of ``pattern``'s text syntax, left to right, with ``var_text(v)`` for each
    bound variable (called in that order): the printer names variables as it binds them,
    messages just write ``%name``."""
    parts: list[str | T] = []
    stack: list[Pattern | str] = [pattern]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        match item:
            case PatternWildcard():
                parts.append("_")
            case PatternVar():
                parts.append(var_text(item.var))
            case PatternConstructor() | PatternTuple():
                if isinstance(item, PatternConstructor):
                    parts.append(item.constructor.name_hint)
                    if not item.patterns:
                        continue
                parts.append("(")
                stack.append(")")
                for i in range(len(item.patterns) - 1, -1, -1):
                    stack.append(item.patterns[i])
                    if i:
                        stack.append(", ")
            case _:
                assert_never(item)
    return parts


def pattern_str(pattern: Pattern) -> str:
    """``pattern`` in text syntax (``Cons(%x, _)``), for messages."""
    return "".join(pattern_parts(pattern, lambda v: f"%{v.name_hint}"))
