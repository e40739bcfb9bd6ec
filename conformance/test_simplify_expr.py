"""SimplifyExpr over generated programs: programs built from the shapes its rules rewrite
(identities, full operands, constant chains, binomials, reshape/transpose/cast/clip chains,
``*_like`` operators), and the general program generator's programs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.simplify_properties import check_pass_properties
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.testing.program_gen import GenConfig, Program, programs

SHAPE = (2, 3)
SCALARS = (0.0, 1.0, 2.0, 0.5, -1.0)
Pool = list[Expr]


def _const(draw: st.DrawFn) -> Expr:
    """A constant: a scalar, a one-element (1, 1) tensor or a row of SHAPE."""
    kind = draw(st.sampled_from(["scalar", "single", "row"]))
    if kind == "scalar":
        return relay.const(draw(st.sampled_from(SCALARS)))
    if kind == "single":
        return relay.const(np.full((1, 1), draw(st.sampled_from(SCALARS)), "float32"))
    values = draw(st.lists(st.sampled_from(SCALARS), min_size=3, max_size=3))
    return relay.const(np.array(values, "float32"))


def _filler(draw: st.DrawFn, like: Expr) -> Expr:
    value = draw(st.sampled_from(SCALARS))
    shape = draw(st.sampled_from([SHAPE, (3,), (1, 3)]))
    choice = draw(st.integers(0, 5))
    fillers: list[Callable[[], Expr]] = [
        lambda: relay.zeros(shape, "float32"),
        lambda: relay.ones(shape, "float32"),
        lambda: relay.full(relay.const(value), shape, "float32"),
        lambda: relay.zeros_like(like),
        lambda: relay.ones_like(like),
        lambda: relay.full_like(like, relay.const(value)),
    ]
    return fillers[choice]()


def _arith(draw: st.DrawFn, pool: Pool) -> Expr:
    a = draw(st.sampled_from(pool))
    op = draw(st.sampled_from([relay.add, relay.subtract, relay.multiply, relay.divide]))
    b: Expr
    if op is relay.divide:
        b = relay.const(draw(st.sampled_from([1.0, 2.0, 0.5, -1.0])))
    else:
        kind = draw(st.sampled_from(["pool", "const", "filler", "same"]))
        b = {
            "pool": lambda: draw(st.sampled_from(pool)),
            "const": lambda: _const(draw),
            "filler": lambda: _filler(draw, a),
            "same": lambda: a,
        }[kind]()
    return op(b, a) if draw(st.booleans()) and op is not relay.divide else op(a, b)


def _constant_chain(draw: st.DrawFn, pool: Pool) -> Expr:
    a = draw(st.sampled_from(pool))
    c1, c2 = _const(draw), _const(draw)
    form = draw(st.integers(0, 2))
    add, mul = relay.add, relay.multiply
    if form == 0:
        return mul(add(a, c1), c2)
    if form == 1:
        return mul(mul(a, c1), c2)
    return add(c2, add(c1, a))


def _binomial(draw: st.DrawFn, pool: Pool) -> Expr:
    x, y = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
    b = relay.const(draw(st.sampled_from([1.0, 2.0, 3.0])))
    add, mul = relay.add, relay.multiply
    return add(add(mul(x, x), mul(mul(b, x), y)), mul(y, y))


def _movement(draw: st.DrawFn, pool: Pool) -> Expr:
    a = draw(st.sampled_from(pool))
    form = draw(st.integers(0, 3))
    if form == 0:
        return relay.reshape(relay.reshape(relay.reshape(a, (3, 2)), (6,)), SHAPE)
    if form == 1:
        return relay.transpose(relay.transpose(a))
    if form == 2:
        return relay.transpose(relay.transpose(relay.transpose(a, [1, 0]), [1, 0]), [0, 1])
    return relay.reshape_like(relay.transpose(relay.transpose(a)), a)


def _casts(draw: st.DrawFn, pool: Pool) -> Expr:
    a = draw(st.sampled_from(pool))
    form = draw(st.integers(0, 3))
    if form == 0:
        return relay.cast(relay.cast(a, "float64"), "float32")
    if form == 1:
        clipped = relay.clip(relay.multiply(a, relay.const(10.0)), a_min=0.0, a_max=255.0)
        ints = relay.cast(relay.cast(relay.cast(clipped, "uint8"), "int16"), "int32")
        return relay.cast(ints, "float32")
    if form == 2:
        clipped = relay.clip(a, a_min=-np.inf, a_max=np.inf)
        return relay.cast_like(relay.cast(clipped, "float32"), a)
    scaled = relay.clip(relay.multiply(a, relay.const(4.0)), -8.0, 8.0)
    wide = relay.cast(relay.cast(scaled, "int8"), "int32")
    return relay.cast(wide, "float32")


def _like_and_roots(draw: st.DrawFn, pool: Pool, row: Expr) -> Expr:
    a = draw(st.sampled_from(pool))
    form = draw(st.integers(0, 2))
    if form == 0:
        return relay.broadcast_to_like(relay.collapse_sum_like(a, row), a)
    if form == 1:
        positive = relay.add(relay.abs(draw(st.sampled_from(pool))), relay.const(1.0))
        return relay.divide(a, relay.sqrt(positive))
    return relay.add(relay.multiply(a, relay.ones_like(row)), relay.zeros_like(a))


@st.composite
def simplifiable(draw: st.DrawFn) -> Program:
    x = relay.var("x", shape=SHAPE)
    row = relay.var("row", shape=(3,))
    pool: Pool = [x, relay.add(x, row)]
    steps: list[Callable[[st.DrawFn, Pool], Expr]] = [
        _arith,
        _constant_chain,
        _binomial,
        _movement,
        _casts,
        lambda d, p: _like_and_roots(d, p, row),
    ]
    for _ in range(draw(st.integers(1, 8))):
        pool.append(draw(st.sampled_from(steps))(draw, pool))
    outputs = pool[-2:] if draw(st.booleans()) else pool[-1:]
    body = outputs[0] if len(outputs) == 1 else relay.Tuple(outputs)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    inputs = {
        "x": rng.uniform(-2, 2, SHAPE).astype("float32"),
        "row": rng.uniform(-2, 2, (3,)).astype("float32"),
    }
    return Program(IRModule.from_expr(relay.Function([x, row], body)), inputs)


@given(simplifiable())
def test_simplify_expr_keeps_results_types_and_is_idempotent(p: Program) -> None:
    check_pass_properties(relay.transform.SimplifyExpr, p.mod, p.inputs, rtol=1e-4)


@given(simplifiable())
def test_simplify_expr_post_alter_op_properties(p: Program) -> None:
    check_pass_properties(relay.transform.SimplifyExprPostAlterOp, p.mod, p.inputs, rtol=1e-4)


@given(programs(GenConfig(max_steps=8)))
def test_simplify_expr_on_general_programs(p: Program) -> None:
    check_pass_properties(relay.transform.SimplifyExpr, p.mod, p.inputs, rtol=1e-4)
