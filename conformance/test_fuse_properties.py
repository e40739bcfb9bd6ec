"""Properties of FuseOps and DefuseOps over generated programs.

Two generators: ``programs()`` from ``relay.testing.program_gen`` (lets, ifs, closures, globals,
tuples) and ``dataflow_programs()`` below, pure dataflow over a richer operator mix (every
``OpPattern``: elementwise, broadcast, injective, tuples and projections, reductions, anchors,
opaque calls, scalar and tensor constants, ``stop_fusion``), where fusion has the most to do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import assume, given
from hypothesis import strategies as st
from typing_extensions import override

import minitvm as tvm
from conformance.helpers import assert_same_results, run_main
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.transform import PassContext
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.analysis import free_vars, well_formed
from minitvm.relay.expr import Call, Constant, Expr, Tuple, TupleGetItem, Var
from minitvm.relay.expr_functor import ExprMutator, iter_post_order, rebuild
from minitvm.relay.function import Function
from minitvm.relay.testing.program_gen import GenConfig, Program, programs

SHAPES: tuple[tuple[int, ...], ...] = ((2, 3), (3,), (2, 1), (1, 3))
ANCHORS = (OpPattern.COMM_REDUCE, OpPattern.OUT_ELEMWISE_FUSABLE)


@dataclass
class FuseProgram:
    """A type-checked module whose ``main`` is pure dataflow, and inputs for it."""

    mod: IRModule
    inputs: dict[str, npt.NDArray[np.float32]]

    @override
    def __repr__(self) -> str:
        return f"FuseProgram(\n{self.mod.astext(show_meta_data=False)}\n)"


def _call(name: str, *args: Expr, **attrs: Any) -> Call:
    out = getattr(relay, name)(*args, **attrs)
    assert isinstance(out, Call)
    return out


def _type_of(expr: Expr) -> Type:
    """The type of a freshly built node whose inputs' types are known (by InferTypeLocal)."""
    return relay.transform.InferTypeLocal(expr)


class _Gen:
    """Grow a DAG from a pool of float32 tensors; each step adds one or a few nodes."""

    def __init__(self, draw: st.DrawFn, stop_fusion: bool, tuples: bool) -> None:
        self.draw = draw
        self.pool: list[tuple[Expr, TensorType]] = []
        self.used: set[Expr] = set()
        self.steps: list[Callable[[], None]] = [
            self.unary,
            self.unary,
            self.binary,
            self.binary,
            self.scalar_const,
            self.tensor_const,
            self.expand_dims,
            self.reshape,
            self.transpose,
            self.concatenate,
            self.split,
            self.reduce,
            self.dense,
            self.softmax,
            self.argsort,
            self.diamond,
            self.diamond,
        ]
        if stop_fusion:
            self.steps.append(self.stop_fusion)
        if tuples:
            self.steps.append(self.tuple_projection)

    def push(self, expr: Expr) -> None:
        ty = _type_of(expr)
        assert isinstance(ty, TensorType)
        self.pool.append((expr, ty))

    def pick(self, accept: Callable[[TensorType], bool] | None = None) -> tuple[Expr, TensorType]:
        """A pool value of an accepted type, favouring recent ones (so programs grow deep
        rather than wide); raises _NoCandidate when there is none, which skips the step."""
        items = [(e, t) for e, t in self.pool if accept is None or accept(t)]
        if not items:
            raise _NoCandidate
        back = self.draw(st.integers(0, 2 * len(items) - 1)) // 2
        chosen = items[len(items) - 1 - back]
        self.used.add(chosen[0])
        return chosen

    def pick_broadcastable(self, t: TensorType) -> tuple[Expr, TensorType]:
        return self.pick(lambda u: _broadcastable(t.shape, u.shape))

    def step(self) -> None:
        with contextlib.suppress(_NoCandidate):
            self.draw(st.sampled_from(self.steps))()

    def unary(self) -> None:
        a, _ = self.pick()
        name = self.draw(st.sampled_from(["negative", "tanh", "sigmoid", "nn.relu"]))
        self.push(relay.Call(Op.get(name), [a]))

    def binary(self) -> None:
        a, ta = self.pick()
        b, _ = self.pick_broadcastable(ta)
        name = self.draw(st.sampled_from(["add", "multiply", "subtract", "maximum"]))
        self.push(_call(name, a, b))

    def scalar_const(self) -> None:
        self.push(relay.add(self.pick()[0], relay.const(0.5)))

    def tensor_const(self) -> None:
        a, _ = self.pick(lambda t: t.shape[-1:] == (3,))
        self.push(relay.multiply(a, relay.const(np.array([0.5, -1.0, 2.0], "float32"))))

    def expand_dims(self) -> None:
        a, t = self.pick(lambda t: len(t.shape) <= 2)
        self.push(relay.expand_dims(a, axis=self.draw(st.integers(0, len(t.shape)))))

    def reshape(self) -> None:
        self.push(relay.reshape(self.pick()[0], newshape=[-1]))

    def transpose(self) -> None:
        a, t = self.pick(lambda t: len(t.shape) >= 2)
        self.push(relay.transpose(a, axes=list(reversed(range(len(t.shape))))))

    def concatenate(self) -> None:
        a, ta = self.pick(lambda t: len(t.shape) >= 1)
        others = [self.pick(lambda t: t == ta)[0] for _ in range(self.draw(st.integers(1, 2)))]
        self.push(relay.concatenate(Tuple([a, *others]), axis=0))

    def split(self) -> None:
        a, t = self.pick(lambda t: len(t.shape) >= 1 and t.shape[-1] == 3)
        parts = relay.split(a, indices_or_sections=3, axis=len(t.shape) - 1)
        for i in sorted(set(self.draw(st.lists(st.integers(0, 2), min_size=1, max_size=3)))):
            self.push(parts[i])

    def reduce(self) -> None:
        a, t = self.pick(lambda t: len(t.shape) >= 1)
        keep = self.draw(st.booleans())
        name = self.draw(st.sampled_from(["sum", "max"]))
        self.push(_call(name, a, axis=[len(t.shape) - 1], keepdims=keep))

    def dense(self) -> None:
        a, ta = self.pick(lambda t: len(t.shape) == 2)
        w, _ = self.pick(lambda t: len(t.shape) == 2 and t.shape[1] == ta.shape[1])
        self.push(relay.nn.dense(a, w))

    def softmax(self) -> None:
        self.push(relay.nn.softmax(self.pick(lambda t: len(t.shape) >= 1)[0]))

    def argsort(self) -> None:
        a, _ = self.pick(lambda t: len(t.shape) >= 1)
        self.push(relay.cast(relay.argsort(a), "float32"))

    def stop_fusion(self) -> None:
        self.push(relay.annotation.stop_fusion(self.pick()[0]))

    def diamond(self) -> None:
        """Fork a value into two short chains and join them: the shape post-dominators and
        group sizes are made of."""
        v, t = self.pick()
        if len(t.shape) > 0 and self.draw(st.booleans()):  # fork from an anchor
            self.used.add(v)
            self.push(relay.nn.softmax(v))
            v, t = self.pool[-1]
        ends = [self.chain(v, t) for _ in range(2)]
        (a, ta), (b, tb) = ends
        if _broadcastable(ta.shape, tb.shape):
            name = self.draw(st.sampled_from(["add", "multiply"]))
            self.used.update((a, b))
            self.push(_call(name, a, b))

    def chain(self, v: Expr, t: TensorType) -> tuple[Expr, TensorType]:
        for _ in range(self.draw(st.integers(1, 3))):
            self.used.add(v)
            kind = self.draw(st.sampled_from(["unary", "scalar", "reduce", "softmax", "widen"]))
            if kind == "unary":
                v = relay.negative(v)
            elif kind == "scalar":
                v = relay.multiply(v, relay.const(2.0))
            elif kind == "reduce" and t.shape:
                v = relay.sum(v, axis=[-1], keepdims=True)
            elif kind == "softmax" and t.shape:
                v = relay.nn.softmax(v)
            else:  # a broadcast that may change the shape
                v = relay.add(v, self.pick_broadcastable(t)[0])
            self.push(v)
            t = self.pool[-1][1]
        return v, t

    def tuple_projection(self) -> None:
        a, _ = self.pick()
        b, _ = self.pick()
        self.push(TupleGetItem(Tuple([a, b]), self.draw(st.integers(0, 1))))


class _NoCandidate(Exception):
    """No value in the pool suits the step."""


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(x == y or 1 in (x, y) for x, y in zip(reversed(a), reversed(b), strict=False))


@st.composite
def dataflow_programs(
    draw: st.DrawFn, max_steps: int = 14, stop_fusion: bool = True, tuples: bool = True
) -> FuseProgram:
    gen = _Gen(draw, stop_fusion, tuples)
    params = [
        relay.var(f"x{i}", shape=draw(st.sampled_from(SHAPES)))
        for i in range(draw(st.integers(1, 3)))
    ]
    for p in params:
        gen.push(p)
    for _ in range(draw(st.integers(4, max_steps))):
        gen.step()
    # Every value no other uses is an output, so nothing generated is dead.
    outs = [e for e, _ in gen.pool if e not in gen.used and e not in params]
    outs = outs or [gen.pool[-1][0]]
    body = outs[0] if len(outs) == 1 else Tuple(outs)
    mod = relay.transform.InferType()(IRModule.from_expr(Function(params, body)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    inputs = {p.name_hint: _sample(rng, p) for p in params}
    return FuseProgram(mod, inputs)


def _sample(rng: np.random.Generator, p: Var) -> npt.NDArray[np.float32]:
    ty = p.type_annotation
    assert isinstance(ty, TensorType)
    return rng.uniform(-1.0, 1.0, size=ty.shape).astype("float32")


# --- helpers -------------------------------------------------------------------------------


def fuse(mod: IRModule, level: int = -1, max_depth: int = 256) -> IRModule:
    with tvm.transform.PassContext(config={"relay.FuseOps.max_depth": max_depth}):
        return relay.transform.FuseOps(level)(mod)


def defuse(mod: IRModule) -> IRModule:
    return relay.transform.DefuseOps()(mod)


def fused_functions(mod: IRModule) -> list[Function]:
    out = []
    for func in mod.functions.values():
        assert isinstance(func, Function)
        for node in iter_post_order(func):
            op = node.op if isinstance(node, Call) else None
            if isinstance(op, Function) and op.attrs.get("Primitive") is not None:
                out.append(op)
    return out


def _has_primitive_zero(mod: IRModule) -> bool:
    return any(not f.is_primitive() for f in fused_functions(mod))


def _has_stop_fusion(mod: IRModule) -> bool:
    stop = Op.get("annotation.stop_fusion")
    return any(
        isinstance(n, Call) and n.op is stop
        for f in mod.functions.values()
        if isinstance(f, Function)
        for n in iter_post_order(f)
    )


def _ops(func: Function) -> list[Op]:
    return [
        n.op for n in iter_post_order(func.body) if isinstance(n, Call) and isinstance(n.op, Op)
    ]


def _size(func: Function) -> int:
    """The graph nodes of a fused body: calls, tuples, projections and inline constants."""
    return sum(
        isinstance(n, Call | Tuple | TupleGetItem | Constant) for n in iter_post_order(func.body)
    )


def check_invariants(mod: IRModule, max_depth: int) -> None:
    for func in mod.functions.values():
        assert isinstance(func, Function)
        assert well_formed(func)
        assert not free_vars(func)
    for func in fused_functions(mod):
        ops = _ops(func)
        assert not free_vars(func)
        assert sum(op.definition.pattern in ANCHORS for op in ops) <= 1
        if any(op.definition.pattern == OpPattern.OPAQUE for op in ops):
            assert len(ops) == 1  # an opaque call is fused with nothing
        assert _size(func) <= max_depth
        assert all(isinstance(p.type_annotation, TensorType | TupleType) for p in func.params)
        assert not any(isinstance(n, Function) for n in iter_post_order(func.body))
    assert not _has_stop_fusion(mod)


# --- properties ----------------------------------------------------------------------------

LEVELS = st.sampled_from([0, 1, 2])
DEPTHS = st.sampled_from([1, 2, 3, 5, 256])


@given(dataflow_programs(), LEVELS, DEPTHS)
def test_dataflow_semantics_and_invariants(p: FuseProgram, level: int, depth: int) -> None:
    text = p.mod.astext()
    want = run_main(p.mod, p.inputs)
    out = fuse(p.mod, level, depth)
    assert p.mod.astext() == text  # the input is untouched
    check_invariants(out, depth)
    assert_same_results(run_main(out, p.inputs), want)


@given(programs(GenConfig(max_steps=8)), LEVELS, DEPTHS)
def test_control_flow_semantics_and_invariants(p: Program, level: int, depth: int) -> None:
    typed = relay.transform.InferType()(p.mod)
    want = run_main(typed, p.inputs)
    out = fuse(typed, level, depth)
    check_invariants(out, depth)
    assert_same_results(run_main(out, p.inputs), want)


@given(dataflow_programs(), DEPTHS)
def test_fusing_fused_programs_changes_nothing(p: FuseProgram, depth: int) -> None:
    once = fuse(p.mod, 2, depth)
    assume(not _has_primitive_zero(once))  # FUSE-15: such functions are fused inside again
    tvm.ir.assert_structural_equal(fuse(once, 2, depth), once)


@given(programs(GenConfig(max_steps=8)))
def test_fusing_fused_control_flow_changes_nothing(p: Program) -> None:
    once = fuse(relay.transform.InferType()(p.mod))
    assume(not _has_primitive_zero(once))
    tvm.ir.assert_structural_equal(fuse(once), once)


@given(dataflow_programs(stop_fusion=False), LEVELS, DEPTHS)
def test_defuse_inverts_fuse(p: FuseProgram, level: int, depth: int) -> None:
    tvm.ir.assert_structural_equal(defuse(fuse(p.mod, level, depth)), p.mod)


class _DropStopFusion(ExprMutator):
    """Replace ``annotation.stop_fusion(x)`` by ``x``, as FuseOps does (FUSE-12)."""

    @override
    def visit_call(self, call: Call) -> Expr:
        new = rebuild(call, self.visit)
        assert isinstance(new, Call)
        if new.op is Op.get("annotation.stop_fusion"):
            return new.args[0]
        return new


def _drop_stop_fusion(mod: IRModule) -> IRModule:
    def transform(func: Function, _mod: IRModule, _ctx: PassContext) -> Function:
        out = _DropStopFusion().visit(func)
        assert isinstance(out, Function)
        return out

    return relay.transform.InferType()(
        relay.transform.function_pass(transform, opt_level=0, name="DropStopFusion")(mod)
    )


@given(programs(GenConfig(max_steps=8)), LEVELS)
def test_defuse_inverts_fuse_with_control_flow(p: Program, level: int) -> None:
    # DefuseOps also inlines calls of (non-primitive) function literals, so the inverse holds
    # up to that: DefuseOps(FuseOps(p)) == DefuseOps(p); and exactly without closures.
    # FuseOps drops stop_fusion annotations, which do not come back.
    typed = _drop_stop_fusion(relay.transform.InferType()(p.mod))
    tvm.ir.assert_structural_equal(defuse(fuse(typed, level)), defuse(typed))
    if not any(
        isinstance(n, Call) and isinstance(n.op, Function)
        for f in typed.functions.values()
        if isinstance(f, Function)
        for n in iter_post_order(f)
    ):
        tvm.ir.assert_structural_equal(defuse(fuse(typed, level)), typed)


def _let_chain(func: Function) -> tuple[list[tuple[Var, Expr]], Expr]:
    bindings = []
    body = func.body
    while isinstance(body, relay.Let):
        bindings.append((body.var, body.value))
        body = body.body
    return bindings, body


def _shuffled(func: Function, choose: Callable[[int], int]) -> Function:
    """The same let chain with its bindings in another dependency-respecting order."""
    bindings, result = _let_chain(func)
    bound = {v for v, _ in bindings}
    deps = {v: set(free_vars(value)) & bound for v, value in bindings}
    placed: set[Var] = set()
    order: list[tuple[Var, Expr]] = []
    while len(order) < len(bindings):
        ready = [(v, e) for v, e in bindings if v not in placed and deps[v] <= placed]
        v, e = ready[choose(len(ready))]
        placed.add(v)
        order.append((v, e))
    body = result
    for v, e in reversed(order):
        body = relay.Let(v, e, body)
    return Function(func.params, body, func.ret_type)


def _fused_hashes(mod: IRModule) -> list[int]:
    return sorted(tvm.ir.structural_hash(f) for f in fused_functions(mod))


@given(dataflow_programs(), st.data())
def test_partition_independent_of_binding_order(p: FuseProgram, data: st.DataObject) -> None:
    anf = relay.transform.InferType()(relay.transform.ToANormalForm()(p.mod))
    main = anf["main"]
    assert isinstance(main, Function)
    shuffled = _shuffled(main, lambda n: data.draw(st.integers(0, n - 1)))
    reordered = relay.transform.InferType()(IRModule.from_expr(shuffled))
    assert _fused_hashes(fuse(reordered)) == _fused_hashes(fuse(anf))
    assert_same_results(run_main(fuse(reordered), p.inputs), run_main(p.mod, p.inputs))
