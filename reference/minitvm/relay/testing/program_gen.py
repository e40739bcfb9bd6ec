"""Hypothesis strategies generating well-typed Relay programs, for the conformance suites.

A program is built as a block of bindings over a pool of typed expressions. Each step draws an
operator from ``OP_SPECS`` whose argument types the pool can supply, or a structural construct:
a let binding, a tuple and its projections, an ``if`` whose branches are nested blocks, a closure
applied to an argument, a call of a module-level function, a mutable reference (created,
written, read), or an algebraic data type value (a stack or an optional value, see
``ADT_SOURCE``) taken apart by a ``match`` whose clauses are nested blocks, or folded by a
polymorphic recursive function. Sub-expressions are reused, so programs are DAGs with sharing.

Effects are kept in order by let bindings: every reference operation is let-bound where it is
drawn, and so is every ``if``, ``match`` and closure call whose nested blocks touch a
reference of an enclosing block. An effectful expression is never shared, so its place in the
evaluation order is the same under every pass. Values stay finite: inputs lie in [-1, 1] and
the operators drawn are ones that keep them bounded (or merely grow them polynomially).

Types are computed as programs are built, by the operators' own type relations, so a drawn
program is well typed by construction; InferType is still run on it by the properties.

Generation recurses only over construct nesting, which is bounded by ``GenConfig.max_depth``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st
from typing_extensions import override

from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    RelayRefType,
    TensorType,
    TupleType,
    Type,
    TypeCall,
    TypeVar,
)
from minitvm.relay.adt import (
    Clause,
    Match,
    Pattern,
    PatternConstructor,
    PatternTuple,
    PatternVar,
    PatternWildcard,
)
from minitvm.relay.builder import const, var
from minitvm.relay.expr import (
    Call,
    Expr,
    If,
    Let,
    RefCreate,
    RefRead,
    RefWrite,
    Tuple,
    TupleGetItem,
    Var,
)
from minitvm.relay.function import Function
from minitvm.relay.op import reduce as reduce_ops
from minitvm.relay.op import tensor as tensor_ops
from minitvm.relay.op import transform as transform_ops
from minitvm.relay.op.nn import nn as nn_ops

__all__ = ["GenConfig", "OpSpec", "OP_SPECS", "Program", "programs"]

SHAPES: tuple[tuple[int, ...], ...] = ((2, 3), (3,), (1, 3), (2, 1), (), (2, 2, 3))


@dataclass(frozen=True)
class GenConfig:
    """Bounds and switches for generated programs."""

    max_steps: int = 10
    max_depth: int = 2
    max_params: int = 3
    allow_let: bool = True
    allow_if: bool = True
    allow_tuple: bool = True
    allow_closure: bool = True
    allow_global: bool = True
    allow_refs: bool = True
    """Draw mutable references (needs ``allow_let``: reference operations are let-bound)."""
    allow_adts: bool = True
    """Draw ADT values, matches over them (complete, and ``match?`` where it cannot fail)
    and calls of a polymorphic fold over them."""
    ops: tuple[str, ...] | None = None
    """Restrict the operators drawn to these names (None: every spec whose op is registered)."""


@dataclass
class Program:
    """A generated module and inputs for its ``main``."""

    mod: IRModule
    inputs: dict[str, npt.NDArray[np.float32]]

    @override
    def __repr__(self) -> str:
        return f"Program(\n{self.mod.astext(show_meta_data=False)}\n)"


@dataclass(frozen=True)
class OpSpec:
    """How to build a call of one operator from typed pool entries.

    ``arity`` pool entries satisfying ``accepts`` are drawn; ``build(draw, args, types)`` makes
    the call (drawing attributes) or returns None when no valid attributes exist.
    """

    name: str
    arity: int
    accepts: Callable[[TensorType], bool]
    build: Callable[[st.DrawFn, list[Expr], list[TensorType]], Expr | None]


def _float(t: TensorType) -> bool:
    return t.dtype == "float32"


def _ranked(t: TensorType) -> bool:
    return t.dtype == "float32" and len(t.shape) >= 1


def _call(name: str, args: Sequence[Expr]) -> Call:
    return Call(Op.get(name), args)


def _unary(name: str) -> OpSpec:
    return OpSpec(name, 1, _float, lambda draw, a, t: _call(name, a))


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y and x != 1 and y != 1:
            return False
    return True


def _binary(name: str) -> OpSpec:
    def build(draw: st.DrawFn, a: list[Expr], t: list[TensorType]) -> Expr | None:
        if not _broadcastable(t[0].shape, t[1].shape):
            return None
        return _call(name, a)

    return OpSpec(name, 2, _float, build)


def _sum(draw: st.DrawFn, a: list[Expr], t: list[TensorType]) -> Expr | None:
    ndim = len(t[0].shape)
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    return reduce_ops.sum(a[0], axis=axis, keepdims=draw(st.booleans()))


def _transpose(draw: st.DrawFn, a: list[Expr], t: list[TensorType]) -> Expr | None:
    perm = draw(st.permutations(range(len(t[0].shape))))
    return transform_ops.transpose(a[0], axes=list(perm))


def _reshape_flat(draw: st.DrawFn, a: list[Expr], t: list[TensorType]) -> Expr | None:
    return transform_ops.reshape(a[0], newshape=[-1])


def _expand_dims(draw: st.DrawFn, a: list[Expr], t: list[TensorType]) -> Expr | None:
    ndim = len(t[0].shape)
    return transform_ops.expand_dims(a[0], axis=draw(st.integers(-ndim - 1, ndim)))


def _softmax(draw: st.DrawFn, a: list[Expr], t: list[TensorType]) -> Expr | None:
    ndim = len(t[0].shape)
    return nn_ops.softmax(a[0], axis=draw(st.integers(-ndim, ndim - 1)))


OP_SPECS: tuple[OpSpec, ...] = (
    _unary("negative"),
    _unary("tanh"),
    _unary("sigmoid"),
    _unary("nn.relu"),
    _binary("add"),
    _binary("subtract"),
    _binary("multiply"),
    OpSpec("sum", 1, _float, _sum),
    OpSpec("transpose", 1, _ranked, _transpose),
    OpSpec("reshape", 1, _float, _reshape_flat),
    OpSpec("expand_dims", 1, _float, _expand_dims),
    OpSpec("nn.softmax", 1, _ranked, _softmax),
)


@dataclass
class _Scope:
    """Typed expressions usable at this point of the program (outer scopes included)."""

    pool: list[tuple[Expr, Type]] = field(default_factory=list)
    bindings: list[tuple[Var, Expr]] = field(default_factory=list)

    def child(self) -> _Scope:
        return _Scope(list(self.pool))

    def tensors(self) -> list[tuple[Expr, TensorType]]:
        return [(e, t) for e, t in self.pool if isinstance(t, TensorType)]

    def refs(self) -> list[tuple[Expr, TensorType]]:
        """The references in the pool, with the tensor type they hold."""
        return [
            (e, t.value)
            for e, t in self.pool
            if isinstance(t, RelayRefType) and isinstance(t.value, TensorType)
        ]

    def adt_values(self, adt: GlobalTypeVar) -> list[tuple[Expr, TensorType]]:
        """The values of ADT ``adt`` in the pool, with the tensor type they are over."""
        return [
            (e, t.args[0])
            for e, t in self.pool
            if isinstance(t, TypeCall) and t.func == adt and isinstance(t.args[0], TensorType)
        ]


ADT_SOURCE = """
type Stack[a] { Push(a, Stack[a]), Empty }
type Maybe[b] { Just(b), Nothing }
def @fold_stack[c](%f: fn (c, c) -> c, %acc: c, %xs: Stack[c]) -> c {
  match (%xs) { Push(%h, %t) => @fold_stack(%f, %f(%acc, %h), %t), Empty => %acc }
}
"""
"""The ADTs generated programs use (built by ``_Library``, shown here in text form)."""


class _Library:
    """The types and the polymorphic fold of ``ADT_SOURCE``, built once per program."""

    def __init__(self) -> None:
        a, b, c = TypeVar("a"), TypeVar("b"), TypeVar("c")
        self.stack = GlobalTypeVar("Stack")
        self.push = Constructor("Push", [a, self.stack(a)], self.stack)
        self.empty = Constructor("Empty", [], self.stack)
        self.stack_data = TypeData(self.stack, [a], [self.push, self.empty])
        self.maybe = GlobalTypeVar("Maybe")
        self.just = Constructor("Just", [b], self.maybe)
        self.nothing = Constructor("Nothing", [], self.maybe)
        self.maybe_data = TypeData(self.maybe, [b], [self.just, self.nothing])
        self.fold = GlobalVar(name_hint="fold_stack")
        f = var("f", FuncType([c, c], c))
        acc = var("acc", c)
        xs = var("xs", self.stack(c))
        h, t = var("h"), var("t")
        body = Match(
            xs,
            [
                Clause(
                    PatternConstructor(self.push, [PatternVar(h), PatternVar(t)]),
                    Call(self.fold, [f, Call(f, [acc, h]), t]),
                ),
                Clause(PatternConstructor(self.empty), acc),
            ],
        )
        self.fold_func = Function([f, acc, xs], body, c, [c])
        self.used_types: set[str] = set()
        self.used_fold = False

    def add_to(self, mod: IRModule) -> None:
        if "Stack" in self.used_types or self.used_fold:
            mod[self.stack] = self.stack_data
        if "Maybe" in self.used_types:
            mod[self.maybe] = self.maybe_data
        if self.used_fold:
            mod[self.fold] = self.fold_func


class _Builder:
    def __init__(self, draw: st.DrawFn, config: GenConfig) -> None:
        self.draw = draw
        self.config = config
        self.globals: list[tuple[GlobalVar, Function, list[TensorType], TensorType]] = []
        names = config.ops
        self.specs = [
            s for s in OP_SPECS if _registered(s.name) and (names is None or s.name in names)
        ]
        self.counter = 0
        self.effects = 0
        """Reference operations drawn so far: an expression whose nested blocks drew some is
        let-bound (see the module docstring)."""
        self.library = _Library()

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def add(self, scope: _Scope, expr: Expr, ty: Type, effects: bool = False) -> None:
        """Put ``expr`` in the pool, let-bound (always when it has ``effects``) or not."""
        if effects or (self.config.allow_let and self.draw(st.booleans())):
            v = var(self.fresh("v"), ty)
            scope.bindings.append((v, expr))
            scope.pool.append((v, ty))
        else:
            scope.pool.append((expr, ty))

    def pick(self, items: Sequence[tuple[Expr, TensorType]]) -> tuple[Expr, TensorType]:
        index = self.draw(st.integers(0, len(items) - 1))
        return items[index]

    def step_op(self, scope: _Scope) -> None:
        spec = self.draw(st.sampled_from(self.specs))
        candidates = [(e, t) for e, t in scope.tensors() if spec.accepts(t)]
        if not candidates:
            return
        chosen = [self.pick(candidates) for _ in range(spec.arity)]
        call = spec.build(self.draw, [e for e, _ in chosen], [t for _, t in chosen])
        if call is None:
            return
        assert isinstance(call, Call)
        out = _relation_type(call, [t for _, t in chosen])
        self.add(scope, call, out)

    def step_tuple(self, scope: _Scope) -> None:
        tensors = scope.tensors()
        n = self.draw(st.integers(1, min(3, len(tensors))))
        chosen = [self.pick(tensors) for _ in range(n)]
        tup = Tuple([e for e, _ in chosen])
        self.add(scope, tup, TupleType([t for _, t in chosen]))
        index = self.draw(st.integers(0, n - 1))
        self.add(scope, TupleGetItem(tup, index), chosen[index][1])

    def step_if(self, scope: _Scope, depth: int) -> None:
        a, _ = self.pick(scope.tensors())
        b, _ = self.pick(scope.tensors())
        cond = tensor_ops.less(reduce_ops.sum(a), reduce_ops.sum(b))
        _, ty = self.pick(scope.tensors())
        before = self.effects
        then = self.block(scope.child(), depth + 1, ty)
        other = self.block(scope.child(), depth + 1, ty)
        self.add(scope, If(cond, then, other), ty, self.effects != before)

    def step_closure(self, scope: _Scope, depth: int) -> None:
        arg, arg_ty = self.pick(scope.tensors())
        param = var(self.fresh("p"), arg_ty)
        inner = scope.child()
        inner.pool.append((param, arg_ty))
        _, ret_ty = self.pick(inner.tensors())
        before = self.effects
        body = self.block(inner, depth + 1, ret_ty)
        effects = self.effects != before
        fn = Function([param], body, ret_ty)
        if self.config.allow_let and self.draw(st.booleans()):
            fvar = var(self.fresh("f"))
            scope.bindings.append((fvar, fn))
            self.add(scope, Call(fvar, [arg]), ret_ty, effects)
        else:
            self.add(scope, Call(fn, [arg]), ret_ty, effects)

    def step_global(self, scope: _Scope, depth: int) -> None:
        reuse: bool = self.draw(st.booleans())
        if self.globals and reuse:
            gv, _, arg_tys, ret_ty = self.globals[self.draw(st.integers(0, len(self.globals) - 1))]
            args = []
            for t in arg_tys:
                matching = [(e, u) for e, u in scope.tensors() if u == t]
                if not matching:
                    return
                args.append(self.pick(matching)[0])
            self.add(scope, Call(gv, args), ret_ty)
            return
        arg, arg_ty = self.pick(scope.tensors())
        param = var(self.fresh("g"), arg_ty)
        inner = _Scope([(param, arg_ty)])
        _, ret_ty = self.pick(inner.tensors())
        body = self.block(inner, depth + 1, ret_ty)
        gv = GlobalVar(name_hint=self.fresh("func"))
        func = Function([param], body, ret_ty)
        self.globals.append((gv, func, [arg_ty], ret_ty))
        self.add(scope, Call(gv, [arg]), ret_ty)

    def step_ref(self, scope: _Scope) -> None:
        """Create a reference (or take one from the pool), maybe write it, then read it."""
        refs = scope.refs()
        if refs and self.draw(st.booleans()):
            ref, content = self.pick(refs)
        else:
            init, content = self.pick(scope.tensors())
            ref = var(self.fresh("r"), RelayRefType(content))
            scope.bindings.append((ref, RefCreate(init)))
            scope.pool.append((ref, RelayRefType(content)))
        self.effects += 1
        if self.draw(st.booleans()):
            value, _ = self.pick([(e, t) for e, t in scope.tensors() if t == content])
            scope.bindings.append((var(self.fresh("w"), TupleType([])), RefWrite(ref, value)))
        read = var(self.fresh("v"), content)
        scope.bindings.append((read, RefRead(ref)))
        scope.pool.append((read, content))

    def step_adt(self, scope: _Scope, depth: int) -> None:
        """Build (or reuse) an ADT value or a tuple and take it apart."""
        lib = self.library
        kind = self.draw(st.sampled_from(["stack", "maybe", "tuple", "fold"]))
        if kind == "tuple":
            (a, ta), (b, tb) = self.pick(scope.tensors()), self.pick(scope.tensors())
            data: Expr = Tuple([a, b])
            self.match_tuple(scope, depth, data, ta, tb)
            return
        adt = lib.maybe if kind == "maybe" else lib.stack
        lib.used_types.add(adt.name_hint)
        existing = scope.adt_values(adt)
        known: Constructor | None = None
        if existing and self.draw(st.booleans()):
            data, elem = self.pick(existing)
        else:
            first, elem = self.pick(scope.tensors())
            if kind == "maybe":
                data, known = self.build_maybe(first)
            else:
                data, known = self.build_stack(scope, first, elem)
            if self.draw(st.booleans()):
                value_var = var(self.fresh("d"), adt(elem))
                scope.bindings.append((value_var, data))
                scope.pool.append((value_var, adt(elem)))
                data = value_var
        if kind == "fold":
            self.fold(scope, data, elem)
        else:
            self.match_adt(scope, depth, adt, data, elem, known)

    def build_maybe(self, first: Expr) -> tuple[Expr, Constructor]:
        lib = self.library
        if self.draw(st.booleans()):
            return Call(lib.just, [first]), lib.just
        return Call(lib.nothing, []), lib.nothing

    def build_stack(self, scope: _Scope, first: Expr, elem: TensorType) -> tuple[Expr, Constructor]:
        lib = self.library
        same = [e for e, t in scope.tensors() if t == elem]
        n = self.draw(st.integers(0, 3))
        data: Expr = Call(lib.empty, [])
        for i in range(n):
            item = first if i == 0 else same[self.draw(st.integers(0, len(same) - 1))]
            data = Call(lib.push, [item, data])
        return data, (lib.push if n else lib.empty)

    def fold(self, scope: _Scope, data: Expr, elem: TensorType) -> None:
        """``@fold_stack(fn (x, y) { x + y }, z, data)``: a polymorphic recursive global."""
        lib = self.library
        lib.used_fold = True
        zero, _ = self.pick([(e, t) for e, t in scope.tensors() if t == elem])
        x, y = var(self.fresh("x"), elem), var(self.fresh("y"), elem)
        add = Function([x, y], tensor_ops.add(x, y), elem)
        self.add(scope, Call(lib.fold, [add, zero, data]), elem)

    def clause(
        self,
        scope: _Scope,
        depth: int,
        pattern: Pattern,
        bound: Sequence[tuple[Var, Type]],
        result: TensorType,
    ) -> Clause:
        inner = scope.child()
        inner.pool.extend(bound)
        return Clause(pattern, self.block(inner, depth + 1, result))

    def pattern_var(self, ty: Type) -> tuple[PatternVar, Var]:
        """A pattern variable, annotated or left to inference."""
        v = var(self.fresh("m"), ty if self.draw(st.booleans()) else None)
        return PatternVar(v), v

    def finish_match(
        self, scope: _Scope, data: Expr, clauses: list[Clause], result: TensorType, before: int
    ) -> None:
        complete = len(clauses) > 1 or not isinstance(clauses[0].lhs, PatternConstructor)
        effects = self.effects != before
        self.add(scope, Match(data, clauses, complete), result, effects)

    def match_tuple(
        self, scope: _Scope, depth: int, data: Expr, ta: TensorType, tb: TensorType
    ) -> None:
        _, result = self.pick(scope.tensors())
        before = self.effects
        px, x = self.pattern_var(ta)
        if self.draw(st.booleans()):
            py, y = self.pattern_var(tb)
            clause = self.clause(scope, depth, PatternTuple([px, py]), [(x, ta), (y, tb)], result)
        else:
            clause = self.clause(
                scope, depth, PatternTuple([px, PatternWildcard()]), [(x, ta)], result
            )
        self.finish_match(scope, data, [clause], result, before)

    def match_adt(
        self,
        scope: _Scope,
        depth: int,
        adt: GlobalTypeVar,
        data: Expr,
        elem: TensorType,
        known: Constructor | None,
    ) -> None:
        """A complete match, or (when ``data`` is built by a known constructor) sometimes a
        ``match?`` with just the clause that applies."""
        lib = self.library
        _, result = self.pick(scope.tensors())
        before = self.effects
        ph, h = self.pattern_var(elem)
        if known is not None and known.inputs and self.draw(st.booleans()):
            fields: list[Pattern] = [ph, PatternWildcard()] if known is lib.push else [ph]
            pattern = PatternConstructor(known, fields)
            clause = self.clause(scope, depth, pattern, [(h, elem)], result)
            self.finish_match(scope, data, [clause], result, before)
            return
        clauses: list[Clause]
        if adt == lib.maybe:
            just = PatternConstructor(lib.just, [ph])
            nothing = PatternConstructor(lib.nothing)
            clauses = [
                self.clause(scope, depth, just, [(h, elem)], result),
                self.clause(scope, depth, nothing, [], result),
            ]
            if self.draw(st.booleans()):
                clauses.reverse()
        else:
            ph2, h2 = self.pattern_var(elem)
            second = PatternConstructor(lib.push, [ph2, PatternWildcard()])
            deep = PatternConstructor(lib.push, [ph, second])
            clauses = [
                self.clause(scope, depth, deep, [(h, elem), (h2, elem)], result),
                self.clause(scope, depth, PatternWildcard(), [], result),
            ]
            if self.draw(st.booleans()):
                pr, r = self.pattern_var(lib.stack(elem))
                shallow = PatternConstructor(lib.push, [PatternWildcard(), pr])
                clauses.insert(
                    1, self.clause(scope, depth, shallow, [(r, lib.stack(elem))], result)
                )
        self.finish_match(scope, data, clauses, result, before)

    def block(self, scope: _Scope, depth: int, result: TensorType | None = None) -> Expr:
        steps = self.draw(st.integers(1, self.config.max_steps if depth == 0 else 3))
        kinds = ["op"] * 4
        if depth < self.config.max_depth:
            kinds += [
                k
                for k, on in (
                    ("if", self.config.allow_if),
                    ("closure", self.config.allow_closure),
                    ("global", self.config.allow_global),
                )
                if on
            ]
            if self.config.allow_adts:
                kinds.append("adt")
        if self.config.allow_tuple:
            kinds.append("tuple")
        if self.config.allow_refs and self.config.allow_let:
            kinds.append("ref")
        steps_by_kind: dict[str, Callable[[], None]] = {
            "op": lambda: self.step_op(scope),
            "tuple": lambda: self.step_tuple(scope),
            "if": lambda: self.step_if(scope, depth),
            "closure": lambda: self.step_closure(scope, depth),
            "global": lambda: self.step_global(scope, depth),
            "ref": lambda: self.step_ref(scope),
            "adt": lambda: self.step_adt(scope, depth),
        }
        for _ in range(steps):
            steps_by_kind[self.draw(st.sampled_from(kinds))]()
        if result is None:
            tensors = scope.tensors()
            n = self.draw(st.integers(1, min(2, len(tensors))))
            picks = [tensors[-1 - i][0] for i in range(n)]
            body: Expr = picks[0] if n == 1 else Tuple(picks)
        else:
            matching = [e for e, t in scope.tensors() if t == result]
            body = matching[self.draw(st.integers(0, len(matching) - 1))]
        for v, value in reversed(scope.bindings):
            body = Let(v, value, body)
        return body


def _registered(name: str) -> bool:
    try:
        Op.get(name)
    except Exception:
        return False
    return True


def _relation_type(call: Call, arg_types: list[TensorType]) -> Type:
    assert isinstance(call.op, Op)
    rel = call.op.definition.type_rel
    assert rel is not None
    return rel(list(arg_types), call.attrs)


@st.composite
def programs(draw: st.DrawFn, config: GenConfig | None = None) -> Program:
    """A well-typed module whose ``main`` takes 1 to ``max_params`` float32 tensors."""
    config = config or GenConfig()
    builder = _Builder(draw, config)
    n_params = draw(st.integers(1, config.max_params))
    scope = _Scope()
    params: list[Var] = []
    for i in range(n_params):
        shape = draw(st.sampled_from(SHAPES))
        p = var(f"x{i}", TensorType(shape, "float32"))
        params.append(p)
        scope.pool.append((p, TensorType(shape, "float32")))
    scope.pool.append((const(0.5), TensorType((), "float32")))
    body = builder.block(scope, 0)
    mod = IRModule()
    builder.library.add_to(mod)
    for gv, func, _, _ in builder.globals:
        mod[gv] = func
    mod["main"] = Function(params, body)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    inputs = {p.name_hint: rng.uniform(-1.0, 1.0, size=_shape(p)).astype("float32") for p in params}
    return Program(mod, inputs)


def _shape(p: Var) -> tuple[int, ...]:
    ty = p.type_annotation
    assert isinstance(ty, TensorType)
    return ty.shape
