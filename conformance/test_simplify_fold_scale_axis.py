"""FoldScaleAxis over generated programs: stacks of convolutions (NCHW or NHWC, ungrouped or
depthwise) and dense layers with per-channel scales before and after them, in every shape a
scale can take, through relus, biases and additions, some values used twice."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from conformance.simplify_properties import check_pass_properties
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass
from minitvm.relay.expr import Expr, Var
from minitvm.relay.testing import count_ops
from minitvm.relay.testing.program_gen import Program

C = 3


class _Net:
    def __init__(self, draw: st.DrawFn, nhwc: bool) -> None:
        self.draw = draw
        self.nhwc = nhwc
        self.params: list[Var] = []
        self.rng = np.random.default_rng(draw(st.integers(0, 2**16)))

    def param(self, shape: tuple[int, ...]) -> Var:
        v = relay.var(f"p{len(self.params)}", shape=shape)
        self.params.append(v)
        return v

    def channel_shape(self) -> tuple[int, ...]:
        shapes = [(C,), (1, 1, C), (1, 1, 1, C)] if self.nhwc else [(C, 1, 1), (1, C, 1, 1)]
        return self.draw(st.sampled_from([*shapes, ()]))

    def scale(self) -> Expr:
        shape = self.channel_shape()
        kind = self.draw(st.sampled_from(["positive", "negative", "variable"]))
        if kind == "variable":
            return self.param(shape)
        values = self.rng.uniform(0.5, 2.0, shape).astype("float32")
        return relay.const(-values if kind == "negative" else values)

    def bias(self, x: Expr) -> Expr:
        b = self.param(self.channel_shape())
        op = self.draw(st.sampled_from([relay.add, relay.subtract]))
        return op(x, b) if self.draw(st.booleans()) else op(b, x)

    def around(self, x: Expr) -> Expr:
        """Some of: a relu, a bias, a scale, in a random order."""
        steps: list[Callable[[Expr], Expr]] = [
            relay.nn.relu,
            lambda e: relay.nn.leaky_relu(e, alpha=0.1),
            self.bias,
            lambda e: relay.multiply(e, self.scale()),
            lambda e: relay.multiply(self.scale(), e),
        ]
        for _ in range(self.draw(st.integers(0, 3))):
            x = self.draw(st.sampled_from(steps))(x)
        return x

    def conv(self, x: Expr) -> Expr:
        depthwise = self.draw(st.booleans())
        if self.nhwc:
            w = self.param((3, 3, 1, C) if depthwise else (3, 3, C, C))
            attrs = {"data_layout": "NHWC", "kernel_layout": "HWIO"}
        else:
            w = self.param((C, 1, 3, 3) if depthwise else (C, C, 3, 3))
            attrs = {}
        groups = C if depthwise else 1
        return relay.nn.conv2d(x, w, padding=(1, 1), groups=groups, **attrs)  # type: ignore[arg-type]


@st.composite
def convolutions(draw: st.DrawFn) -> Program:
    net = _Net(draw, nhwc=draw(st.booleans()))
    x = net.param((1, 4, 4, C) if net.nhwc else (1, C, 4, 4))
    outs: list[Expr] = []
    y: Expr = x
    for _ in range(draw(st.integers(1, 3))):
        y = net.around(net.conv(net.around(y)))
        if draw(st.booleans()):
            outs.append(y)
    outs.append(y)
    return _program(draw, net, outs)


@st.composite
def dense_layers(draw: st.DrawFn) -> Program:
    net = _Net(draw, nhwc=True)  # the features are on the last axis, as for NHWC
    y: Expr = net.param((2, C))
    outs: list[Expr] = []
    for _ in range(draw(st.integers(1, 3))):
        y = net.around(relay.nn.dense(net.around(y), net.param((C, C))))
        if draw(st.booleans()):
            outs.append(y)
    outs.append(y)
    return _program(draw, net, outs)


def _program(draw: st.DrawFn, net: _Net, outs: list[Expr]) -> Program:
    body = outs[0] if len(outs) == 1 else relay.Tuple(outs)
    inputs = {}
    for p in net.params:
        ty = p.type_annotation
        assert isinstance(ty, relay.TensorType)
        # Inputs bounded away from zero, as the forward folding divides added operands by the
        # scale (the scales themselves never hold zeros).
        values = net.rng.uniform(0.5, 1.5, ty.shape) * net.rng.choice([-1.0, 1.0], ty.shape)
        inputs[p.name_hint] = values.astype("float32")
    return Program(IRModule.from_expr(relay.Function(net.params, body)), inputs)


def _single_scale(mod: IRModule) -> bool:
    """Whether ``main`` multiplies once: with several scales on one path, TVM's folding moves
    one per run (a scale behind another only becomes foldable once the first is gone)."""
    main = mod["main"]
    assert isinstance(main, relay.Function)
    return count_ops(main)["multiply"] <= 1


PASSES: list[Callable[[], Pass]] = [
    relay.transform.FoldScaleAxis,
    relay.transform.ForwardFoldScaleAxis,
    relay.transform.BackwardFoldScaleAxis,
]


@given(convolutions(), st.sampled_from(PASSES))
def test_fold_scale_axis_on_convolutions(p: Program, make: Callable[[], Pass]) -> None:
    idempotent = _single_scale(p.mod)
    check_pass_properties(make, p.mod, p.inputs, rtol=1e-4, opt_level=3, idempotent=idempotent)


@given(dense_layers(), st.sampled_from(PASSES))
def test_fold_scale_axis_on_dense_layers(p: Program, make: Callable[[], Pass]) -> None:
    idempotent = _single_scale(p.mod)
    check_pass_properties(make, p.mod, p.inputs, rtol=1e-4, opt_level=3, idempotent=idempotent)
