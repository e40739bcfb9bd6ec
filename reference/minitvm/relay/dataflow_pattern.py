"""A small dataflow pattern language and its matcher (TVM's ``relay.dataflow_pattern`` and
``src/relay/ir/dataflow_matcher.cc``, the parts the simplification passes use).

Patterns are trees of frozen nodes compared by identity: ``wildcard()`` matches anything,
``is_op("add")`` an operator, ``is_constant()`` a constant, ``p(a, b)`` a call whose operator
matches ``p`` and whose arguments match ``a`` and ``b`` (``p()`` a call without arguments),
``a | b`` either, and ``p.has_attr({"TOpPattern": k})`` an operator with that attribute.
``ChainPattern(op, tail)`` matches ``op(op(...op(tail)...))``, one or more applications: TVM
writes it as a pattern that refers to itself, which here would recurse as deep as the chain.

The matcher follows TVM's exactly, because which alternative matches decides what a rewrite
builds: alternatives are tried left then right; a call's arguments left to right, without
backtracking into an argument once it matched; for ``add`` and ``multiply`` the arguments are
tried again swapped; and a pattern node that already matched (a variable used twice, like
``x`` in ``x * x``) matches only the very same expression again. After a match, the
matcher's ``memo`` holds, for each pattern node that matched, what it matched (for a chain,
its outermost call).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias, assert_never

from typing_extensions import override

from minitvm.ir.op import Op, list_op_names
from minitvm.ir.structural import structural_equal
from minitvm.relay.expr import Call, Constant, Expr

__all__ = [
    "AltPattern",
    "AttrPattern",
    "CallPattern",
    "ChainPattern",
    "ConstantPattern",
    "DFPattern",
    "DFPatternMatcher",
    "ExprPattern",
    "Pattern",
    "WildcardPattern",
    "is_constant",
    "is_expr",
    "is_op",
    "root_op_names",
    "wildcard",
]


class DFPattern:
    """Base of pattern nodes, with TVM's operator sugar for building patterns."""

    __slots__ = ()

    def __call__(self, *args: Pattern) -> CallPattern:
        return CallPattern(self.as_pattern(), tuple(args))

    def __or__(self, other: Pattern) -> AltPattern:
        return AltPattern(self.as_pattern(), other)

    def __add__(self, other: Pattern) -> CallPattern:
        return is_op("add")(self.as_pattern(), other)

    def __sub__(self, other: Pattern) -> CallPattern:
        return is_op("subtract")(self.as_pattern(), other)

    def __mul__(self, other: Pattern) -> CallPattern:
        return is_op("multiply")(self.as_pattern(), other)

    def __truediv__(self, other: Pattern) -> CallPattern:
        return is_op("divide")(self.as_pattern(), other)

    def has_attr(self, attrs: Mapping[str, object]) -> AttrPattern:
        """Match what this pattern matches when it is an operator with these attributes."""
        return AttrPattern(self.as_pattern(), tuple(attrs.items()))

    def match(self, expr: Expr) -> bool:
        return DFPatternMatcher().match(self.as_pattern(), expr)

    def as_pattern(self) -> Pattern:
        raise NotImplementedError


Kinds: TypeAlias = "tuple[bool, frozenset[str]] | None"
"""What a pattern can match, as a quick necessary condition: ``(constants?, operators of the
calls)``, or None when it could match anything."""


def _union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    return None if a is None or b is None else a | b


@dataclass(frozen=True, slots=True, eq=False)
class WildcardPattern(DFPattern):
    names: frozenset[str] | None = dataclasses.field(init=False, repr=False)
    """The operators the pattern matches when it matches an operator (None: any)."""
    kinds: Kinds = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", None)
        object.__setattr__(self, "kinds", None)

    @override
    def as_pattern(self) -> Pattern:
        return self


@dataclass(frozen=True, slots=True, eq=False)
class ExprPattern(DFPattern):
    """Matches an expression structurally equal to ``expr`` (an operator, usually)."""

    expr: Expr
    names: frozenset[str] | None = dataclasses.field(init=False, repr=False)
    kinds: Kinds = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = frozenset([self.expr.name]) if isinstance(self.expr, Op) else None
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "kinds", None)

    @override
    def as_pattern(self) -> Pattern:
        return self


@dataclass(frozen=True, slots=True, eq=False)
class ConstantPattern(DFPattern):
    names: frozenset[str] | None = dataclasses.field(init=False, repr=False)
    kinds: Kinds = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset())
        object.__setattr__(self, "kinds", (True, frozenset()))

    @override
    def as_pattern(self) -> Pattern:
        return self


@dataclass(frozen=True, slots=True, eq=False)
class CallPattern(DFPattern):
    """A call; ``args`` None matches any arguments, ``()`` only a call without any."""

    op: Pattern
    args: tuple[Pattern, ...] | None
    names: frozenset[str] | None = dataclasses.field(init=False, repr=False)
    kinds: Kinds = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset())
        ops = self.op.names
        object.__setattr__(self, "kinds", None if ops is None else (False, ops))

    @override
    def as_pattern(self) -> Pattern:
        return self


@dataclass(frozen=True, slots=True, eq=False)
class AltPattern(DFPattern):
    left: Pattern
    right: Pattern
    names: frozenset[str] | None = dataclasses.field(init=False, repr=False)
    kinds: Kinds = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        left, right = self.left.kinds, self.right.kinds
        kinds = None if left is None or right is None else (left[0] or right[0], left[1] | right[1])
        object.__setattr__(self, "names", _union(self.left.names, self.right.names))
        object.__setattr__(self, "kinds", kinds)

    @override
    def as_pattern(self) -> Pattern:
        return self


@dataclass(frozen=True, slots=True, eq=False)
class AttrPattern(DFPattern):
    """``pattern`` restricted to operators whose registered attributes have these values."""

    pattern: Pattern
    attrs: tuple[tuple[str, object], ...]
    names: frozenset[str] | None = dataclasses.field(init=False, repr=False)
    kinds: Kinds = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        inner = self.pattern.names
        candidates = list_op_names() if inner is None else sorted(inner)
        names = frozenset(n for n in candidates if _has_attrs(Op.get(n), self.attrs))
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "kinds", None)

    @override
    def as_pattern(self) -> Pattern:
        return self


@dataclass(frozen=True, slots=True, eq=False)
class ChainPattern(DFPattern):
    """``op(op(...op(tail)...))``: one or more unary calls of ``op`` over ``tail``."""

    op: Pattern
    tail: Pattern
    names: frozenset[str] | None = dataclasses.field(init=False, repr=False)
    kinds: Kinds = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset())
        ops = self.op.names
        object.__setattr__(self, "kinds", None if ops is None else (False, ops))

    @override
    def as_pattern(self) -> Pattern:
        return self


Pattern: TypeAlias = (
    WildcardPattern
    | ExprPattern
    | ConstantPattern
    | CallPattern
    | AltPattern
    | AttrPattern
    | ChainPattern
)
"""Every pattern node."""


def wildcard() -> WildcardPattern:
    return WildcardPattern()


def is_op(name: str) -> ExprPattern:
    return ExprPattern(Op.get(name))


def is_expr(expr: Expr) -> ExprPattern:
    return ExprPattern(expr)


def is_constant() -> ConstantPattern:
    return ConstantPattern()


def is_leaf(pattern: Pattern) -> bool:
    """Leaves are what a match takes as inputs (TVM's pattern-graph nodes without inputs)."""
    return isinstance(pattern, WildcardPattern | ExprPattern | ConstantPattern)


def root_op_names(pattern: Pattern) -> frozenset[str] | None:
    """The operators a match's root can call, or None when it could be anything."""
    kinds = pattern.kinds
    return None if kinds is None or kinds[0] else kinds[1]


def _admits(pattern: Pattern, expr: Expr) -> bool:
    """A necessary condition for ``pattern`` to match ``expr`` (see ``Kinds``)."""
    kinds = pattern.kinds
    if kinds is None:
        return True
    if isinstance(expr, Constant):
        return kinds[0]
    if isinstance(expr, Call):
        op = expr.op
        return isinstance(op, Op) and op.name in kinds[1]
    return False


_COMMUTATIVE = (frozenset(["add"]), frozenset(["multiply"]))
"""TVM retries the arguments of these operators swapped."""


class DFPatternMatcher:
    """Match one pattern against one expression at a time (TVM's ``DFPatternMatcher``)."""

    def __init__(self) -> None:
        self.memo: dict[Pattern, Expr] = {}
        """What each pattern node matched (a chain: its outermost call)."""
        self._matched: list[Pattern] = []
        """Pattern nodes in the order they matched, to undo the bindings of a failed branch."""

    def match(self, pattern: Pattern, expr: Expr) -> bool:
        """Whether ``pattern`` matches ``expr``; then ``memo`` is the match's node map."""
        self.memo = {}
        self._matched = []
        return self.visit(pattern, expr)

    def visit(self, pattern: Pattern, expr: Expr) -> bool:
        memo = self.memo
        bound = memo.get(pattern)
        if bound is not None:
            return bound is expr
        kind = type(pattern)
        if kind is ConstantPattern and not isinstance(expr, Constant):
            return False
        if kind is not WildcardPattern and kind is not ConstantPattern:
            mark = len(self._matched)
            if not self._visit(pattern, expr):
                self._clear(mark)
                return False
        memo[pattern] = expr
        self._matched.append(pattern)
        return True

    def _clear(self, mark: int) -> None:
        matched = self._matched
        if len(matched) > mark:
            for p in matched[mark:]:
                self.memo.pop(p, None)
            del matched[mark:]

    def _visit(self, pattern: Pattern, expr: Expr) -> bool:
        match pattern:
            case WildcardPattern():
                return True
            case ExprPattern():
                target = pattern.expr
                if isinstance(target, Op):
                    return expr is target  # operators are interned
                return expr is target or structural_equal(target, expr)
            case ConstantPattern():
                return isinstance(expr, Constant)
            case AltPattern():
                return self.visit(pattern.left, expr) or self.visit(pattern.right, expr)
            case AttrPattern():
                return self.visit(pattern.pattern, expr) and _has_attrs(expr, pattern.attrs)
            case CallPattern():
                return self._visit_call(pattern, expr)
            case ChainPattern():
                return self._visit_chain(pattern, expr)
            case _:
                assert_never(pattern)

    def _visit_call(self, pattern: CallPattern, expr: Expr) -> bool:
        if not isinstance(expr, Call):
            return False
        names = pattern.op.names
        if names is not None and not (isinstance(expr.op, Op) and expr.op.name in names):
            return False  # the common failure, decided without binding anything
        if not self.visit(pattern.op, expr.op):
            return False
        args = pattern.args
        if args is None or self._match_args(args, expr.args):
            return True
        op = pattern.op
        commutative = isinstance(op, ExprPattern) and op.names in _COMMUTATIVE
        if commutative and len(args) == 2:
            return self._match_args((args[1], args[0]), expr.args)
        return False

    def _match_args(self, patterns: Sequence[Pattern], args: Sequence[Expr]) -> bool:
        if len(patterns) != len(args):
            return False
        for p, a in zip(patterns, args, strict=True):
            if not _admits(p, a):
                return False  # a quick necessary condition, checked before binding anything
        mark = len(self._matched)
        for p, a in zip(patterns, args, strict=True):
            if not self.visit(p, a):
                self._clear(mark)
                return False
        return True

    def _visit_chain(self, pattern: ChainPattern, expr: Expr) -> bool:
        node = expr
        length = 0
        while isinstance(node, Call) and len(node.args) == 1:
            mark = len(self._matched)
            if not self.visit(pattern.op, node.op):
                self._clear(mark)
                break
            length += 1
            node = node.args[0]
        return length > 0 and self.visit(pattern.tail, node)


def _has_attrs(expr: Expr, attrs: tuple[tuple[str, object], ...]) -> bool:
    if not isinstance(expr, Op):
        return False
    for key, value in attrs:
        actual = expr.get_attr(key)
        if actual is None or actual != value:
            return False
    return True
