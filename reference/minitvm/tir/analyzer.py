"""The arithmetic analyzer: integer bounds and the index-expression simplifier
(TVM's ``src/arith/{const_int_bound,rewrite_simplify,canonical_simplify}.cc``, simplified).

``simplify`` rebuilds an expression bottom-up through the ``tir.op`` builders (constant
folding and identities), then:

* puts each integer sum -- a maximal tree of ``+``, ``-`` and multiplication by constants --
  in canonical form: one term per distinct atom with its coefficient summed, atoms in order
  of first appearance, positive terms first, the constant last (``i + 1 - 1`` is ``i``);
* divides by positive constants term by term: ``(i*4 + j) // 4`` is ``i + j // 4`` and becomes
  ``i`` when ``0 <= j < 4`` is known; ``%`` likewise keeps only the remainder terms;
* folds comparisons, ``min``/``max`` and conditionals whose outcome the bounds decide.

Bounds come from ``bind``-ings of variables to ranges, ``SizeVar`` (non-negative), and interval
arithmetic. Atoms are compared structurally through hash-consing (an interned id per distinct
structure), so the walk is linear in distinct nodes: coefficients are pushed down a sum's DAG
parents-first instead of expanding it as a tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from minitvm.error import DiagnosticError, InternalError
from minitvm.tir import op
from minitvm.tir.expr import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    Add,
    BinaryOpExpr,
    Call,
    Cast,
    CmpExpr,
    Div,
    ExprLike,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Max,
    Min,
    Mod,
    Mul,
    PrimExpr,
    Range,
    Select,
    SizeVar,
    StringImm,
    Sub,
    Var,
    const,
)
from minitvm.tir.functor import ExprRewriter, expr_children, post_order

__all__ = ["Analyzer", "ConstIntBound"]

Bound = tuple[int | None, int | None]
_UNKNOWN: Bound = (None, None)


@dataclass(frozen=True, slots=True)
class ConstIntBound:
    """``[min_value, max_value]``; ``None`` is unbounded (TVM uses +-inf sentinels)."""

    min_value: int | None
    max_value: int | None


_INT_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})


def _is_int(e: PrimExpr) -> bool:
    return e.dtype in _INT_DTYPES


def _is_linear(e: PrimExpr) -> bool:
    if isinstance(e, Add | Sub) and _is_int(e):
        return True
    return (
        isinstance(e, Mul) and _is_int(e) and (isinstance(e.a, IntImm) or isinstance(e.b, IntImm))
    )


def _sum_region(root: PrimExpr) -> list[PrimExpr]:
    """The nodes of the sum rooted at ``root``, children before parents."""
    order: list[PrimExpr] = []
    seen: set[int] = set()
    stack: list[tuple[PrimExpr, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        if _is_linear(node):
            stack.extend((k, False) for k in reversed(expr_children(node)))
    return order


def _linear_parts(node: PrimExpr) -> list[tuple[PrimExpr, int]]:
    """The children of a linear node with the factor each contributes."""
    if isinstance(node, Add):
        return [(node.a, 1), (node.b, 1)]
    if isinstance(node, Sub):
        return [(node.a, 1), (node.b, -1)]
    if isinstance(node, Mul) and isinstance(node.b, IntImm):
        return [(node.a, node.b.value)]
    if isinstance(node, Mul) and isinstance(node.a, IntImm):
        return [(node.b, node.a.value)]
    raise InternalError(f"not a linear node: {node}")


def _add_b(x: Bound, y: Bound) -> Bound:
    lo = None if x[0] is None or y[0] is None else x[0] + y[0]
    hi = None if x[1] is None or y[1] is None else x[1] + y[1]
    return lo, hi


def _scale_b(x: Bound, c: int) -> Bound:
    lo = None if x[0] is None else x[0] * c
    hi = None if x[1] is None else x[1] * c
    return (lo, hi) if c >= 0 else (hi, lo)


class Analyzer:
    """``tvm.arith.Analyzer``: ``bind``, ``const_int_bound``, ``simplify``, ``can_prove``."""

    def __init__(self) -> None:
        self.ranges: dict[Var, Bound] = {}
        self._ids: dict[object, int] = {}
        self._node_id: dict[int, int] = {}
        self._alive: list[PrimExpr] = []

    # --- facts ------------------------------------------------------------------------------

    def bind(self, var: Var, value: Range | ExprLike) -> None:
        """Record that ``var`` ranges over ``value`` (a Range) or equals it (an expression)."""
        if isinstance(value, Range):
            lo, ext = self._bounds(value.min), self._bounds(value.extent)
            hi = None if lo[1] is None or ext[1] is None else lo[1] + ext[1] - 1
            self.ranges[var] = (lo[0], hi)
        else:
            self.ranges[var] = self._bounds(op.convert(value))

    update = bind

    # --- bounds -----------------------------------------------------------------------------

    def const_int_bound(self, e: PrimExpr) -> ConstIntBound:
        b = self._bounds(e)
        return ConstIntBound(b[0], b[1])

    def _bounds(self, root: PrimExpr) -> Bound:
        memo: dict[int, Bound] = {}
        for node in post_order(root):
            memo[id(node)] = self._bound_of(node, memo)
        return memo[id(root)]

    def _bound_of(self, e: PrimExpr, memo: dict[int, Bound]) -> Bound:  # noqa: C901  (a flat dispatch over the union)
        if isinstance(e, IntImm):
            return e.value, e.value
        if isinstance(e, Var):
            if e in self.ranges:
                return self.ranges[e]
            return (0, None) if isinstance(e, SizeVar) else _UNKNOWN
        if not _is_int(e):
            return _UNKNOWN
        kids = [memo[id(k)] for k in expr_children(e)]
        if isinstance(e, Add):
            return _add_b(kids[0], kids[1])
        if isinstance(e, Sub):
            return _add_b(kids[0], _scale_b(kids[1], -1))
        if isinstance(e, Mul):
            if isinstance(e.b, IntImm):
                return _scale_b(kids[0], e.b.value)
            if isinstance(e.a, IntImm):
                return _scale_b(kids[1], e.a.value)
            return _mul_b(kids[0], kids[1])
        if isinstance(e, Min | Max):
            return _minmax_b(e, kids[0], kids[1])
        if isinstance(e, FloorDiv | FloorMod | Div | Mod):
            return _div_b(e, kids[0])
        if isinstance(e, Select):
            return _union(kids[1], kids[2])
        if isinstance(e, Call) and e.op == "tir.if_then_else":
            return _union(kids[1], kids[2])
        if isinstance(e, Cast) and _is_int(e.value):
            return kids[0]
        return _UNKNOWN

    def can_prove(self, cond: ExprLike) -> bool:
        e = self.simplify(cond)
        return isinstance(e, IntImm) and e.value != 0

    # --- structure --------------------------------------------------------------------------

    def _struct_id(self, root: PrimExpr) -> int:
        """One id per distinct structure (hash-consing); variables are their own structure."""
        for node in post_order(root):
            if id(node) in self._node_id:
                continue
            kids = tuple(self._node_id[id(k)] for k in expr_children(node))
            key: object
            if isinstance(node, IntImm | FloatImm):
                key = (type(node), node.dtype, node.value)
            elif isinstance(node, Var):
                key = ("var", id(node))
            elif isinstance(node, Call):
                strs = tuple(a.value for a in node.args if isinstance(a, StringImm))
                key = (Call, node.dtype, node.op, strs, kids)
            elif isinstance(node, Cast):
                key = (Cast, node.dtype, kids)
            else:
                key = (
                    type(node),
                    kids,
                    id(getattr(node, "buffer", None)),
                    id(getattr(node, "producer", None)),
                )
            self._node_id[id(node)] = self._ids.setdefault(key, len(self._ids))
            self._alive.append(node)
        return self._node_id[id(root)]

    def _linear(self, root: PrimExpr) -> tuple[list[tuple[PrimExpr, int]], int]:
        """``root`` as ``sum(coeff * atom) + constant``: terms in order of first appearance."""
        order = _sum_region(root)
        first: dict[int, int] = {}
        for pos, node in enumerate(order):
            if not _is_linear(node) and not isinstance(node, IntImm):
                first.setdefault(self._struct_id(node), pos)
        mult: dict[int, int] = {id(root): 1}
        constant = 0
        atoms: dict[int, PrimExpr] = {}
        coeff: dict[int, int] = {}
        for node in reversed(order):  # parents before children
            m = mult.get(id(node), 0)
            if m == 0:
                continue
            if isinstance(node, IntImm):
                constant += m * node.value
            elif _is_linear(node):
                for kid, factor in _linear_parts(node):
                    mult[id(kid)] = mult.get(id(kid), 0) + m * factor
            else:
                key = self._struct_id(node)
                atoms.setdefault(key, node)
                coeff[key] = coeff.get(key, 0) + m
        keys = sorted((k for k in coeff if coeff[k] != 0), key=lambda k: first[k])
        return [(atoms[k], coeff[k]) for k in keys], constant

    def _build(self, terms: list[tuple[PrimExpr, int]], constant: int, dtype: str) -> PrimExpr:
        pos = [(a, c) for a, c in terms if c > 0]
        neg = [(a, -c) for a, c in terms if c < 0]

        def term(a: PrimExpr, c: int) -> PrimExpr:
            return a if c == 1 else op.mul(a, const(c, dtype))

        result: PrimExpr | None = None
        for a, c in pos:
            result = term(a, c) if result is None else op.add(result, term(a, c))
        if result is None and (constant != 0 or not neg):
            result, constant = const(constant, dtype), 0
        for a, c in neg:
            result = op.neg(term(a, c)) if result is None else op.sub(result, term(a, c))
        if result is None:
            raise InternalError("a canonical sum has at least one part")
        if constant > 0:
            result = op.add(result, const(constant, dtype))
        elif constant < 0:
            result = op.sub(result, const(-constant, dtype))
        return result

    def _linear_bounds(self, terms: list[tuple[PrimExpr, int]], constant: int) -> Bound:
        total: Bound = (constant, constant)
        for a, c in terms:
            total = _add_b(total, _scale_b(self._bounds(a), c))
        return total

    # --- simplification ---------------------------------------------------------------------

    def simplify(self, expr: ExprLike) -> PrimExpr:
        """An equivalent, simpler expression (see the module docstring)."""
        e = op.convert(expr)
        region_roots: set[int] = {id(e)}
        for node in post_order(e):
            if not _is_linear(node):
                region_roots.update(id(k) for k in expr_children(node))

        def fn(old: PrimExpr, new: PrimExpr) -> PrimExpr:
            new = self._rule(old, new)
            if id(old) in region_roots and _is_linear(new):
                terms, constant = self._linear(new)
                return self._build(terms, constant, new.dtype)
            return new

        return ExprRewriter(fn)(e)

    canonical_simplify = simplify
    rewrite_simplify = simplify

    def _rule(self, old: PrimExpr, new: PrimExpr) -> PrimExpr:
        if new is not old or not isinstance(new, IntImm | FloatImm | Var):
            new = _refold(new)
        if isinstance(new, FloorDiv | FloorMod | Div | Mod) and _is_int(new):
            return self._divide(new)
        if isinstance(new, CmpExpr) and _is_int(new.a):
            return self._compare(new)
        if isinstance(new, Min | Max) and _is_int(new):
            ba, bb = self._bounds(new.a), self._bounds(new.b)
            a_le_b = ba[1] is not None and bb[0] is not None and ba[1] <= bb[0]
            b_le_a = bb[1] is not None and ba[0] is not None and bb[1] <= ba[0]
            if a_le_b or b_le_a:
                return new.a if (a_le_b == isinstance(new, Min)) else new.b
        return new

    def _divide(self, e: FloorDiv | FloorMod | Div | Mod) -> PrimExpr:
        if not isinstance(e.b, IntImm) or e.b.value <= 0:
            return e
        c = e.b.value
        if isinstance(e, Div | Mod):
            lo = self._bounds(e.a)[0]
            if lo is None or lo < 0:
                return e
        terms, constant = self._linear(e.a)
        q_terms = [(a, k // c) for a, k in terms if k // c != 0]
        r_terms = [(a, k % c) for a, k in terms if k % c != 0]
        q_const, r_const = constant // c, constant % c
        lo, hi = self._linear_bounds(r_terms, r_const)
        shift: int | None = None
        if lo is not None and hi is not None and lo // c == hi // c:
            shift = lo // c
        dtype = e.dtype
        if isinstance(e, FloorDiv | Div):
            if shift is not None:
                return self._build(q_terms, q_const + shift, dtype)
            if not q_terms and q_const == 0:
                return e
            rest = op.floordiv(self._build(r_terms, r_const, dtype), e.b)
            return op.add(self._build(q_terms, q_const, dtype), rest)
        if shift is not None:
            return self._build(r_terms, r_const - shift * c, dtype)
        if not q_terms and q_const == 0:
            return e
        return op.floormod(self._build(r_terms, r_const, dtype), e.b)

    def _compare(self, e: CmpExpr) -> PrimExpr:
        terms, constant = self._linear(op.sub(e.a, e.b))
        lo, hi = self._linear_bounds(terms, constant)
        verdict: bool | None = None
        if isinstance(e, LT | GE):
            verdict = (
                True if hi is not None and hi < 0 else False if lo is not None and lo >= 0 else None
            )
            if verdict is not None and isinstance(e, GE):
                verdict = not verdict
        elif isinstance(e, LE | GT):
            verdict = (
                True if hi is not None and hi <= 0 else False if lo is not None and lo > 0 else None
            )
            if verdict is not None and isinstance(e, GT):
                verdict = not verdict
        elif isinstance(e, EQ | NE):
            if lo is not None and lo == hi:
                verdict = lo == 0
            elif (lo is not None and lo > 0) or (hi is not None and hi < 0):
                verdict = False
            if verdict is not None and isinstance(e, NE):
                verdict = not verdict
        if verdict is None:
            return e  # type: ignore[return-value]  # every comparison class is in PrimExpr
        return const(verdict, "bool")


def _refold(e: PrimExpr) -> PrimExpr:
    """``e`` rebuilt through its ``tir.op`` builder, so constants fold and identities apply."""
    builders = {
        Add: op.add,
        Sub: op.sub,
        Mul: op.mul,
        Div: op.div,
        Mod: op.truncmod,
        FloorDiv: op.floordiv,
        FloorMod: op.floormod,
        Min: op.min,
        Max: op.max,
        EQ: op.equal,
        NE: op.not_equal,
        LT: op.less,
        LE: op.less_equal,
        GT: op.greater,
        GE: op.greater_equal,
    }
    if isinstance(e, BinaryOpExpr | CmpExpr):
        return builders[type(e)](e.a, e.b)
    if isinstance(e, Cast):
        return op.cast(e.value, e.dtype)
    if isinstance(e, Select) and isinstance(e.condition, IntImm):
        return e.true_value if e.condition.value else e.false_value
    if isinstance(e, Call) and e.op == "tir.if_then_else" and isinstance(e.args[0], IntImm):
        chosen = e.args[1] if e.args[0].value else e.args[2]
        if isinstance(chosen, StringImm):
            raise DiagnosticError("if_then_else branches must be expressions")
        return chosen
    return e


def _mul_b(x: Bound, y: Bound) -> Bound:
    if None in x or None in y:
        return _UNKNOWN
    corners = [a * b for a in x for b in y if a is not None and b is not None]
    return min(corners), max(corners)


def _minmax_b(e: Min | Max, x: Bound, y: Bound) -> Bound:
    los = [b for b in (x[0], y[0]) if b is not None]
    his = [b for b in (x[1], y[1]) if b is not None]
    if isinstance(e, Min):
        lo = min(los) if len(los) == 2 else None
        return lo, (min(his) if his else None)
    hi = max(his) if len(his) == 2 else None
    return (max(los) if los else None), hi


def _div_b(e: FloorDiv | FloorMod | Div | Mod, x: Bound) -> Bound:
    if not isinstance(e.b, IntImm) or e.b.value <= 0:
        return _UNKNOWN
    c = e.b.value
    nonneg = x[0] is not None and x[0] >= 0
    if isinstance(e, FloorDiv | Div):
        # both are non-decreasing in the dividend for a positive divisor
        floor = isinstance(e, FloorDiv)

        def div(v: int) -> int:
            q = v // c
            return q if floor or v >= 0 or q * c == v else q + 1

        return (None if x[0] is None else div(x[0])), (None if x[1] is None else div(x[1]))
    if isinstance(e, FloorMod) or nonneg:
        if x[0] is not None and x[1] is not None and x[0] // c == x[1] // c:
            return x[0] % c, x[1] % c
        return 0, c - 1
    return -(c - 1), c - 1


def _union(x: Bound, y: Bound) -> Bound:
    lo = None if x[0] is None or y[0] is None else min(x[0], y[0])
    hi = None if x[1] is None or y[1] is None else max(x[1], y[1])
    return lo, hi
