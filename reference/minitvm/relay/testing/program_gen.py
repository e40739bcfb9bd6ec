"""Hypothesis strategies generating well-typed Relay programs, for the conformance suites.

A program is built as a block of bindings over a pool of typed expressions. Each step calls an
operator drawn from the whole registered set, through its sampler in ``op_samplers``, or adds a
structural construct: a let binding, a tuple and its projections, an ``if`` whose branches are
nested blocks, a closure applied to an argument, a call of a module-level function, a mutable
reference (created, written, read), or an algebraic data type value (a stack or an optional
value, see ``ADT_SOURCE``) taken apart by a ``match`` whose clauses are nested blocks, or
folded by a polymorphic recursive function. Sub-expressions are reused, so programs are DAGs
with sharing.

Effects are kept in order by let bindings: every reference operation is let-bound where it is
drawn, and so is every ``if``, ``match`` and closure call whose nested blocks touch a
reference of an enclosing block. An effectful expression is never shared, so its place in the
evaluation order is the same under every pass.

Values stay finite. Inputs lie in [-1, 1], and every operator argument is fed from the pool
through a guard that puts it in the sampler's domain: a pool entry not known to lie in
[-1, 1] goes through ``tanh`` first, then an affine map takes [-1, 1] to the domain (positive
for ``log``, inside (-1, 1) for ``atanh``...), ``round`` and ``cast`` give integers, and
``greater`` bools. An argument of another shape is read from a pool entry with ``take`` at
constant indices, so every operator can consume what came before it. An operator's float
results are known to lie in [-1, 1] when its sampler is ``bounded`` and every argument it got
did; no guard is needed before they are used again.

Types are computed as programs are built, by the operators' own type relations, so a drawn
program is well typed by construction; InferType is still run on it by the properties.

Generation recurses only over construct nesting, which is bounded by ``GenConfig.max_depth``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
from minitvm.relay.testing.op_samplers import SAMPLERS, Arg, OpSampler, valid_calls

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
    allow_refs: bool = False
    """Draw mutable references (needs ``allow_let``: reference operations are let-bound)."""
    allow_adts: bool = False
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
    """An operator programs may call, and the sampler that builds its calls."""

    name: str
    sampler: OpSampler


OP_SPECS: tuple[OpSpec, ...] = tuple(OpSpec(name, sampler) for name, sampler in SAMPLERS.items())


@dataclass
class _Entry:
    """A typed expression of the pool; ``unit``: a float tensor known to lie in [-1, 1]."""

    expr: Expr
    type: Type
    unit: bool = False


@dataclass
class _Scope:
    """Typed expressions usable at this point of the program (outer scopes included)."""

    pool: list[_Entry] = field(default_factory=list)
    bindings: list[tuple[Var, Expr]] = field(default_factory=list)

    def child(self) -> _Scope:
        return _Scope(list(self.pool))

    def tensors(self) -> list[_Entry]:
        return [e for e in self.pool if isinstance(e.type, TensorType)]

    def refs(self) -> list[tuple[Expr, TensorType]]:
        """The references in the pool, with the tensor type they hold."""
        return [
            (e.expr, e.type.value)
            for e in self.pool
            if isinstance(e.type, RelayRefType) and isinstance(e.type.value, TensorType)
        ]

    def adt_values(self, adt: GlobalTypeVar) -> list[tuple[Expr, TensorType]]:
        """The values of ADT ``adt`` in the pool, with the tensor type they are over."""
        out = []
        for e in self.pool:
            t = e.type
            if isinstance(t, TypeCall) and t.func == adt and isinstance(t.args[0], TensorType):
                out.append((e.expr, t.args[0]))
        return out


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


def _tensor(entry: _Entry) -> TensorType:
    assert isinstance(entry.type, TensorType)
    return entry.type


def _is_float(dtype: str) -> bool:
    return dtype.startswith("float")


def _scalar(value: float) -> Expr:
    return const(np.float32(value), dtype="float32")


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

    def add(
        self, scope: _Scope, expr: Expr, ty: Type, unit: bool = False, effects: bool = False
    ) -> Expr:
        """Add ``expr`` to the pool (let-bound now and then, always when it has ``effects``);
        returns how to refer to it."""
        if effects or (self.config.allow_let and self.draw(st.booleans())):
            v = var(self.fresh("v"), ty)
            scope.bindings.append((v, expr))
            expr = v
        unit = unit and isinstance(ty, TensorType) and _is_float(ty.dtype)
        scope.pool.append(_Entry(expr, ty, unit))
        return expr

    def pick(self, items: Sequence[_Entry]) -> _Entry:
        return items[self.draw(st.integers(0, len(items) - 1))]

    def pick_tensor(self, scope: _Scope) -> tuple[Expr, TensorType]:
        entry = self.pick(scope.tensors())
        return entry.expr, _tensor(entry)

    # --- feeding operator arguments -------------------------------------------------------

    def feed(self, scope: _Scope, arg: Arg) -> Expr:
        if arg.value is not None:
            return const(arg.value, dtype=str(arg.value.dtype))
        if isinstance(arg.type, TupleType):
            fields = [f for f in arg.type.fields if isinstance(f, TensorType)]
            return Tuple([self.feed_tensor(scope, f, arg) for f in fields])
        return self.feed_tensor(scope, arg.type, arg)

    def feed_tensor(self, scope: _Scope, ty: TensorType, arg: Arg) -> Expr:
        """An expression of type ``ty`` whose values lie in ``arg``'s domain."""
        exact = [e for e in scope.tensors() if e.type == ty]
        default_domain = arg.low is None and arg.high is None and not arg.nonzero
        if exact and ty.dtype == "bool" and self.draw(st.booleans()):
            return self.pick(exact).expr
        if exact and _is_float(ty.dtype) and default_domain and self.draw(st.integers(0, 3)):
            entry = self.pick(exact)
            return entry.expr if entry.unit else tensor_ops.tanh(entry.expr)
        return self.coerce(scope, ty, arg)

    def coerce(self, scope: _Scope, ty: TensorType, arg: Arg) -> Expr:
        """Read ``ty``'s elements from a pool entry (``take`` at constant indices), squash
        them into [-1, 1] and map them to the domain."""
        src = self.pick([e for e in scope.tensors() if math.prod(_tensor(e).shape) > 0])
        src_ty = _tensor(src)
        x, unit = src.expr, src.unit
        if src_ty.shape != ty.shape:
            n = math.prod(src_ty.shape)
            offset = self.draw(st.integers(0, n - 1))
            idx = ((np.arange(math.prod(ty.shape)) + offset) % n).reshape(ty.shape)
            x = transform_ops.take(x, const(idx.astype("int32"), dtype="int32"))
        if src_ty.dtype != "float32":
            unit = unit or src_ty.dtype == "bool"
            x = transform_ops.cast(x, "float32")
        if not unit:
            x = tensor_ops.tanh(x)
        return _to_domain(x, ty, arg)

    # --- steps ---------------------------------------------------------------------------------

    def step_op(self, scope: _Scope) -> None:
        # A wide integer spreads the choice over the whole set (a plain sampled_from favours
        # the first few operators).
        spec = self.specs[self.draw(st.integers(0, 2**32 - 1)) % len(self.specs)]
        hint = _tensor(self.pick(scope.tensors()))
        call = self.draw(valid_calls(spec.name, hint))
        args = [self.feed(scope, a) for a in call.args]
        expr = Call(Op.get(spec.name), args, call.attrs)
        out = _relation_type(expr, call.arg_types())
        unit = spec.sampler.bounded and all(_float_unit(a) for a in call.args)
        ref = self.add(scope, expr, out, unit)
        if isinstance(out, TupleType) and out.fields:
            index = self.draw(st.integers(0, len(out.fields) - 1))
            self.add(scope, TupleGetItem(ref, index), out.fields[index], unit)

    def step_tuple(self, scope: _Scope) -> None:
        tensors = scope.tensors()
        n = self.draw(st.integers(1, min(3, len(tensors))))
        chosen = [self.pick(tensors) for _ in range(n)]
        tup = Tuple([e.expr for e in chosen])
        self.add(scope, tup, TupleType([e.type for e in chosen]))
        index = self.draw(st.integers(0, n - 1))
        self.add(scope, TupleGetItem(tup, index), chosen[index].type, chosen[index].unit)

    def step_if(self, scope: _Scope, depth: int) -> None:
        floats = [e for e in scope.tensors() if _tensor(e).dtype == "float32"]
        a, b = self.pick(floats).expr, self.pick(floats).expr
        cond = tensor_ops.less(reduce_ops.sum(a), reduce_ops.sum(b))
        ty = _tensor(self.pick(scope.tensors()))
        before = self.effects
        then = self.block(scope.child(), depth + 1, ty)
        other = self.block(scope.child(), depth + 1, ty)
        self.add(scope, If(cond, then, other), ty, effects=self.effects != before)

    def step_closure(self, scope: _Scope, depth: int) -> None:
        arg = self.pick(scope.tensors())
        param = var(self.fresh("p"), arg.type)
        inner = scope.child()
        inner.pool.append(_Entry(param, arg.type, arg.unit))
        ret_ty = _tensor(self.pick(inner.tensors()))
        before = self.effects
        body = self.block(inner, depth + 1, ret_ty)
        effects = self.effects != before
        fn = Function([param], body, ret_ty)
        if self.config.allow_let and self.draw(st.booleans()):
            fvar = var(self.fresh("f"))
            scope.bindings.append((fvar, fn))
            self.add(scope, Call(fvar, [arg.expr]), ret_ty, effects=effects)
        else:
            self.add(scope, Call(fn, [arg.expr]), ret_ty, effects=effects)

    def step_global(self, scope: _Scope, depth: int) -> None:
        reuse: bool = self.draw(st.booleans())
        if self.globals and reuse:
            gv, _, arg_tys, ret_ty = self.globals[self.draw(st.integers(0, len(self.globals) - 1))]
            args = []
            for t in arg_tys:
                matching = [e for e in scope.tensors() if e.type == t]
                if not matching:
                    return
                args.append(self.pick(matching).expr)
            self.add(scope, Call(gv, args), ret_ty)
            return
        arg = self.pick(scope.tensors())
        arg_ty = _tensor(arg)
        param = var(self.fresh("g"), arg_ty)
        # The constant keeps a non-empty tensor in reach whatever the parameter's shape.
        inner = _Scope([_Entry(param, arg_ty), _half()])
        ret_ty = arg_ty
        body = self.block(inner, depth + 1, ret_ty)
        gv = GlobalVar(name_hint=self.fresh("func"))
        func = Function([param], body, ret_ty)
        self.globals.append((gv, func, [arg_ty], ret_ty))
        self.add(scope, Call(gv, [arg.expr]), ret_ty)

    def step_ref(self, scope: _Scope) -> None:
        """Create a reference (or take one from the pool), maybe write it, then read it."""
        refs = scope.refs()
        reuse: bool = self.draw(st.booleans())
        if refs and reuse:
            ref, content = refs[self.draw(st.integers(0, len(refs) - 1))]
        else:
            init, content = self.pick_tensor(scope)
            ref = var(self.fresh("r"), RelayRefType(content))
            scope.bindings.append((ref, RefCreate(init)))
            scope.pool.append(_Entry(ref, RelayRefType(content)))
        self.effects += 1
        if self.draw(st.booleans()):
            value = self.pick([e for e in scope.tensors() if e.type == content]).expr
            scope.bindings.append((var(self.fresh("w"), TupleType([])), RefWrite(ref, value)))
        read = var(self.fresh("v"), content)
        scope.bindings.append((read, RefRead(ref)))
        scope.pool.append(_Entry(read, content))

    def step_adt(self, scope: _Scope, depth: int) -> None:
        """Build (or reuse) an ADT value or a tuple and take it apart."""
        lib = self.library
        kind = self.draw(st.sampled_from(["stack", "maybe", "tuple", "fold"]))
        if kind == "tuple":
            (a, ta), (b, tb) = self.pick_tensor(scope), self.pick_tensor(scope)
            data: Expr = Tuple([a, b])
            self.match_tuple(scope, depth, data, ta, tb)
            return
        adt = lib.maybe if kind == "maybe" else lib.stack
        lib.used_types.add(adt.name_hint)
        existing = scope.adt_values(adt)
        known: Constructor | None = None
        reuse: bool = self.draw(st.booleans())
        if existing and reuse:
            data, elem = existing[self.draw(st.integers(0, len(existing) - 1))]
        else:
            first, elem = self.pick_tensor(scope)
            if kind == "maybe":
                data, known = self.build_maybe(first)
            else:
                data, known = self.build_stack(scope, first, elem)
            if self.draw(st.booleans()):
                value_var = var(self.fresh("d"), adt(elem))
                scope.bindings.append((value_var, data))
                scope.pool.append(_Entry(value_var, adt(elem)))
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
        same = [e.expr for e in scope.tensors() if e.type == elem]
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
        zero = self.pick([e for e in scope.tensors() if e.type == elem]).expr
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
        inner.pool.extend(_Entry(v, t) for v, t in bound)
        return Clause(pattern, self.block(inner, depth + 1, result))

    def pattern_var(self, ty: Type) -> tuple[PatternVar, Var]:
        """An annotated pattern variable: a value built by a constructor without fields
        (``Empty``, ``Nothing``) may get its type only from the patterns that take it apart,
        and passes may move it away from everything else that uses it."""
        v = var(self.fresh("m"), ty)
        return PatternVar(v), v

    def finish_match(
        self, scope: _Scope, data: Expr, clauses: list[Clause], result: TensorType, before: int
    ) -> None:
        complete = len(clauses) > 1 or not isinstance(clauses[0].lhs, PatternConstructor)
        effects = self.effects != before
        self.add(scope, Match(data, clauses, complete), result, effects=effects)

    def match_tuple(
        self, scope: _Scope, depth: int, data: Expr, ta: TensorType, tb: TensorType
    ) -> None:
        _, result = self.pick_tensor(scope)
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
        _, result = self.pick_tensor(scope)
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
        for _ in range(steps):
            self.step(scope, depth, self.draw(st.sampled_from(kinds)))
        if result is None:
            tensors = scope.tensors()
            n = self.draw(st.integers(1, min(2, len(tensors))))
            picks = [tensors[-1 - i].expr for i in range(n)]
            body: Expr = picks[0] if n == 1 else Tuple(picks)
        else:
            matching = [e.expr for e in scope.tensors() if e.type == result]
            body = matching[self.draw(st.integers(0, len(matching) - 1))]
        for v, value in reversed(scope.bindings):
            body = Let(v, value, body)
        return body

    def step(self, scope: _Scope, depth: int, kind: str) -> None:
        if kind == "op":
            if self.specs:
                self.step_op(scope)
        elif kind == "tuple":
            self.step_tuple(scope)
        elif kind == "if":
            self.step_if(scope, depth)
        elif kind == "closure":
            self.step_closure(scope, depth)
        elif kind == "ref":
            self.step_ref(scope)
        elif kind == "adt":
            self.step_adt(scope, depth)
        else:
            self.step_global(scope, depth)


def _float_unit(arg: Arg) -> bool:
    """Whether ``arg`` is a float tensor (or tuple of them) whose domain lies in [-1, 1]."""
    fields = arg.type.fields if isinstance(arg.type, TupleType) else (arg.type,)
    floats = all(isinstance(f, TensorType) and _is_float(f.dtype) for f in fields)
    return floats and arg.value is None and arg.in_unit()


def _to_domain(x: Expr, ty: TensorType, arg: Arg) -> Expr:
    """``x`` (float32 in [-1, 1]) mapped onto ``arg``'s domain in ``ty``'s dtype."""
    if ty.dtype == "bool":
        return tensor_ops.greater(x, _scalar(0.0))
    lo, hi = arg.bounds(ty.dtype)
    if not _is_float(ty.dtype):
        info = np.iinfo(ty.dtype)
        lo = max(math.ceil(lo), int(info.min), 1 if arg.nonzero else int(info.min))
        hi = max(min(math.floor(hi), int(info.max)), lo)
    if (lo, hi) != (-1, 1):
        x = tensor_ops.multiply(x, _scalar((hi - lo) / 2))
        x = tensor_ops.add(x, _scalar((hi + lo) / 2))
    if not _is_float(ty.dtype):
        x = tensor_ops.round(x)
    return x if ty.dtype == "float32" else transform_ops.cast(x, ty.dtype)


def _half() -> _Entry:
    return _Entry(const(0.5), TensorType((), "float32"), unit=True)


def _registered(name: str) -> bool:
    try:
        Op.get(name)
    except Exception:
        return False
    return True


def _relation_type(call: Call, arg_types: list[Type]) -> Type:
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
        scope.pool.append(_Entry(p, TensorType(shape, "float32"), unit=True))
    scope.pool.append(_half())
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
