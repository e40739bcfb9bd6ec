"""CombineParallelDense and CombineParallelConv2D over generated programs: several dense layers
or convolutions on shared inputs, each followed by a few elementwise or broadcast operators
(biases and scales of every broadcastable shape, activations, expand_dims, a reshape that ends
the branch), some results used twice."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.simplify_properties import check_pass_properties
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr, Var
from minitvm.relay.testing.program_gen import Program

Follower = Callable[[Expr, tuple[int, ...]], tuple[Expr, tuple[int, ...]]]


def _operand_shape(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts against ``shape`` without growing it."""
    rank = draw(st.integers(0, len(shape)))
    tail = shape[len(shape) - rank :]
    return tuple(d if draw(st.booleans()) else 1 for d in tail)


class _Builder:
    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.params: list[Var] = []

    def param(self, shape: tuple[int, ...]) -> Var:
        v = relay.var(f"p{len(self.params)}", shape=shape)
        self.params.append(v)
        return v

    def follow(self, expr: Expr, shape: tuple[int, ...]) -> Expr:
        for _ in range(self.draw(st.integers(0, 3))):
            kind = self.draw(st.sampled_from(["bias", "scale", "relu", "sigmoid", "expand", "end"]))
            if kind in ("bias", "scale"):
                other = self.param(_operand_shape(self.draw, shape))
                op = relay.add if kind == "bias" else relay.multiply
                expr = op(expr, other) if self.draw(st.booleans()) else op(other, expr)
            elif kind == "relu":
                expr = relay.nn.relu(expr)
            elif kind == "sigmoid":
                expr = relay.sigmoid(expr)
            elif kind == "expand":
                axis = self.draw(st.integers(0, len(shape)))
                expr = relay.expand_dims(expr, axis)
                shape = (*shape[:axis], 1, *shape[axis:])
            else:
                expr = relay.reshape(expr, (-1,))
                break
        return expr


@st.composite
def parallel_dense(draw: st.DrawFn) -> Program:
    b = _Builder(draw)
    x = b.param((3, 4))
    outs: list[Expr] = []
    for _ in range(draw(st.integers(1, 5))):
        units = draw(st.sampled_from([2, 3, 5]))
        y = relay.nn.dense(x, b.param((units, 4)))
        outs.append(b.follow(y, (3, units)))
    if draw(st.booleans()):
        outs.append(relay.add(outs[0], outs[0]))
    return _program(draw, b, outs)


@st.composite
def parallel_conv2d(draw: st.DrawFn) -> Program:
    b = _Builder(draw)
    nhwc = draw(st.booleans())
    x = b.param((1, 5, 5, 3) if nhwc else (1, 3, 5, 5))
    layouts = {"data_layout": "NHWC", "kernel_layout": "HWIO"} if nhwc else {}
    outs: list[Expr] = []
    for _ in range(draw(st.integers(1, 5))):
        channels = draw(st.sampled_from([2, 3]))
        k = draw(st.sampled_from([1, 3]))
        wshape = (k, k, 3, channels) if nhwc else (channels, 3, k, k)
        y = relay.nn.conv2d(x, b.param(wshape), padding=(k // 2, k // 2), **layouts)  # type: ignore[arg-type]
        oshape = (1, 5, 5, channels) if nhwc else (1, channels, 5, 5)
        outs.append(b.follow(y, oshape))
    return _program(draw, b, outs)


def _program(draw: st.DrawFn, b: _Builder, outs: list[Expr]) -> Program:
    body = outs[0] if len(outs) == 1 else relay.Tuple(outs)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    inputs = {}
    for p in b.params:
        ty = p.type_annotation
        assert isinstance(ty, relay.TensorType)
        inputs[p.name_hint] = rng.uniform(-1, 1, ty.shape).astype("float32")
    return Program(IRModule.from_expr(relay.Function(b.params, body)), inputs)


@given(parallel_dense(), st.integers(2, 3), st.booleans())
def test_combine_parallel_dense_properties(p: Program, branches: int, to_batch: bool) -> None:
    def make() -> relay.transform.FunctionPass:
        return relay.transform.CombineParallelDense(branches, to_batch)

    check_pass_properties(make, p.mod, p.inputs, rtol=1e-5, opt_level=4)


@given(parallel_conv2d(), st.integers(2, 3))
def test_combine_parallel_conv2d_properties(p: Program, branches: int) -> None:
    def make() -> relay.transform.FunctionPass:
        return relay.transform.CombineParallelConv2D(branches)

    check_pass_properties(make, p.mod, p.inputs, rtol=1e-5, opt_level=4)
