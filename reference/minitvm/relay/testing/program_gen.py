"""Hypothesis strategies generating well-typed Relay programs, for the conformance suites.

A program is built as a block of bindings over a pool of typed expressions. Each step draws an
operator from ``OP_SPECS`` whose argument types the pool can supply, or a structural construct:
a let binding, a tuple and its projections, an ``if`` whose branches are nested blocks, a closure
applied to an argument, or a call of a module-level function. Sub-expressions are reused, so
programs are DAGs with sharing. Values stay finite: inputs lie in [-1, 1] and the operators
drawn are ones that keep them bounded (or merely grow them polynomially).

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

from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.builder import const, var
from minitvm.relay.expr import Call, Expr, If, Let, Tuple, TupleGetItem, Var
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

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def add(self, scope: _Scope, expr: Expr, ty: Type) -> None:
        if self.config.allow_let and self.draw(st.booleans()):
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
        then = self.block(scope.child(), depth + 1, ty)
        other = self.block(scope.child(), depth + 1, ty)
        self.add(scope, If(cond, then, other), ty)

    def step_closure(self, scope: _Scope, depth: int) -> None:
        arg, arg_ty = self.pick(scope.tensors())
        param = var(self.fresh("p"), arg_ty)
        inner = scope.child()
        inner.pool.append((param, arg_ty))
        _, ret_ty = self.pick(inner.tensors())
        body = self.block(inner, depth + 1, ret_ty)
        fn = Function([param], body, ret_ty)
        if self.config.allow_let and self.draw(st.booleans()):
            fvar = var(self.fresh("f"))
            scope.bindings.append((fvar, fn))
            self.add(scope, Call(fvar, [arg]), ret_ty)
        else:
            self.add(scope, Call(fn, [arg]), ret_ty)

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
        if self.config.allow_tuple:
            kinds.append("tuple")
        for _ in range(steps):
            kind = self.draw(st.sampled_from(kinds))
            if kind == "op":
                self.step_op(scope)
            elif kind == "tuple":
                self.step_tuple(scope)
            elif kind == "if":
                self.step_if(scope, depth)
            elif kind == "closure":
                self.step_closure(scope, depth)
            else:
                self.step_global(scope, depth)
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
