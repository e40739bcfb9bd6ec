"""Hypothesis strategy for small inference networks: the programs SimplifyInference,
CanonicalizeOps, FastMath, EliminateCommonSubexpr, SplitArgs and FoldConstant rewrite.

A network starts from an NCHW input and applies drawn layers: convolutions, ``bias_add``,
the four normalizations, dropout, activations (``relu``, ``exp``, ``tanh``, ``erf``,
``softmax``), residual additions, channel concatenations, ``shape_of`` and duplicated layers
(the same computation built twice, for common-subexpression elimination). Each weight is
either a constant or a parameter of ``main`` with an input value, so constant folding has
partial work. Values stay bounded: weights are small and activations are fed scaled inputs;
normalizations get centred inputs (see ``_centered``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from hypothesis import strategies as st

from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr, Var
from minitvm.relay.testing.program_gen import Program

__all__ = ["inference_nets"]

Array = npt.NDArray[np.float32]


@dataclass
class _Value:
    expr: Expr
    channels: int


class _Net:
    def __init__(self, draw: st.DrawFn, rng: np.random.Generator, size: int) -> None:
        self.draw = draw
        self.rng = rng
        self.size = size
        self.params: list[Var] = []
        self.inputs: dict[str, Array] = {}

    def weight(self, shape: tuple[int, ...], low: float = -0.5, high: float = 0.5) -> Expr:
        """A constant, or a new parameter of ``main`` with an input value."""
        data = self.rng.uniform(low, high, shape).astype("float32")
        if self.draw(st.booleans()):
            return relay.const(data)
        p = relay.var(f"w{len(self.params)}", shape=shape)
        self.params.append(p)
        self.inputs[p.name_hint] = data
        return p

    def vector(self, c: int, positive: bool = False) -> Expr:
        return self.weight((c,), 0.5, 1.5) if positive else self.weight((c,))

    def layer(self, v: _Value, pool: list[_Value]) -> _Value:  # noqa: C901  (one step per kind)
        c, y = v.channels, v.expr
        kind = self.draw(st.sampled_from(_KINDS))
        if kind == "conv":
            out = self.draw(st.sampled_from([2, 4]))
            k = self.draw(st.sampled_from([1, 3]))
            w = self.weight((out, c, k, k))
            return _Value(relay.nn.conv2d(y, w, padding=k // 2), out)
        if kind == "bias_add":
            return _Value(
                relay.nn.bias_add(y, self.vector(c), axis=self.draw(st.sampled_from([1, -3]))), c
            )
        if kind == "batch_norm":
            args = (self.vector(c, True), self.vector(c), self.vector(c), self.vector(c, True))
            center, scale = self.draw(st.booleans()), self.draw(st.booleans())
            bn = relay.nn.batch_norm(y, *args, center=center, scale=scale, epsilon=1e-3)
            return _Value(bn[0], c)
        if kind == "layer_norm":
            axis = self.draw(st.sampled_from([1, -1]))
            n = c if axis == 1 else self.size
            x = _centered(y, (axis,))
            return _Value(
                relay.nn.layer_norm(x, self.vector(n, True), self.vector(n), axis=axis), c
            )
        if kind == "instance_norm":
            x = _centered(y, (2, 3))
            return _Value(relay.nn.instance_norm(x, self.vector(c, True), self.vector(c)), c)
        if kind == "group_norm":
            groups = self.draw(st.sampled_from([g for g in (1, 2) if c % g == 0]))
            x = _centered(y, (1, 2, 3))
            norm = relay.nn.group_norm(x, self.vector(c, True), self.vector(c), num_groups=groups)
            return _Value(norm, c)
        if kind == "dropout":
            return _Value(relay.nn.dropout(y, rate=0.25), c)
        if kind in _ACTIVATIONS:
            return _Value(_ACTIVATIONS[kind](y), c)
        if kind == "residual":
            same = [u for u in pool if u.channels == c]
            other = same[self.draw(st.integers(0, len(same) - 1))]
            return _Value(relay.add(y, other.expr), c)
        if kind == "concat":
            picks = self.draw(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=4))
            fields = [v, *(pool[i] for i in picks)]
            return _Value(
                relay.concatenate([f.expr for f in fields], axis=1), sum(f.channels for f in fields)
            )
        if kind == "shape_of":
            extent = relay.cast(relay.sum(relay.shape_of(y)), "float32")
            return _Value(relay.divide(y, extent), c)
        # "duplicate": the same computation as the last layer, built anew
        return _Value(relay.multiply(relay.nn.relu(y), relay.nn.relu(y)), c)


def _centered(y: Expr, axes: tuple[int, ...]) -> Expr:
    """``y`` minus its mean over ``axes``. The normalization kernels compute the variance as
    ``E[x^2] - E[x]^2`` (as TVM's do), which loses all precision when the variance is small
    next to the mean; SimplifyInference's rewrite does not, so on such data the two differ by
    far more than rounding. Centred data keeps the comparison about the pass."""
    return relay.subtract(y, relay.mean(y, axes, keepdims=True))


_ACTIVATIONS: dict[str, Callable[[Expr], Expr]] = {
    "relu": relay.nn.relu,
    "exp": lambda y: relay.exp(relay.multiply(y, relay.const(0.25))),
    "tanh": relay.tanh,
    "erf": relay.erf,
    "softmax": lambda y: relay.nn.softmax(y, axis=1),
}
_KINDS = [
    "conv",
    "bias_add",
    "batch_norm",
    "layer_norm",
    "instance_norm",
    "group_norm",
    "dropout",
    *_ACTIVATIONS,
    "residual",
    "concat",
    "shape_of",
    "duplicate",
]


@st.composite
def inference_nets(draw: st.DrawFn, max_layers: int = 6) -> Program:
    """A module whose ``main`` maps an input ``x`` (and some weights) through drawn layers."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    size = draw(st.sampled_from([2, 3]))
    channels = draw(st.sampled_from([2, 4]))
    net = _Net(draw, rng, size)
    x = relay.var("x", shape=(1, channels, size, size))
    net.inputs["x"] = rng.uniform(-1, 1, (1, channels, size, size)).astype("float32")
    value = _Value(x, channels)
    pool = [value]
    for _ in range(draw(st.integers(1, max_layers))):
        value = net.layer(value, pool)
        pool.append(value)
    body: Expr = value.expr
    if draw(st.booleans()):
        body = relay.Tuple([body, pool[draw(st.integers(0, len(pool) - 1))].expr])
    return Program(IRModule.from_expr(relay.Function([x, *net.params], body)), net.inputs)
