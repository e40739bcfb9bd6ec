"""Samplers of the dense and normalization operators of ``relay.nn``: the relu family,
``dense``/``matmul``/``batch_matmul``, ``bias_add``, ``batch_flatten``, the softmaxes,
``dropout``, ``batch_norm``, ``layer_norm``, ``instance_norm``, ``group_norm``, ``lrn`` and
``nll_loss``.

Normalizations get variances and epsilons that keep ``sqrt`` positive (in float16 TVM's
``E[x^2] - E[x]^2`` loses about 1e-3 to rounding, so epsilon is 0.1 there); ``lrn``'s base is
positive; ``nll_loss`` in ``mean`` mode ignores no target, so its divisor is positive.
"""

from __future__ import annotations

from hypothesis import strategies as st

from minitvm.ir.type import TensorType
from minitvm.relay.op.defs.nn import (
    BatchMatmulAttrs,
    BiasAddAttrs,
    DenseAttrs,
    DropoutAttrs,
    LeakyReluAttrs,
    MatmulAttrs,
    PReluAttrs,
    SoftmaxAttrs,
)
from minitvm.relay.op.defs.norm import (
    BatchNormAttrs,
    GroupNormAttrs,
    InstanceNormAttrs,
    LayerNormAttrs,
    LRNAttrs,
)
from minitvm.relay.op.defs.training import NLLLossAttrs
from minitvm.relay.testing.samplers.base import (
    ALL,
    FLOATS,
    INTS,
    NUMERIC,
    UNSIGNED,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    SampleFn,
    axis_of,
    castable,
    dtype_of,
    flag,
    invalid_axis,
    shape_of,
    tensor,
)

__all__ = ["SAMPLERS"]


def _relu(draw: st.DrawFn, hint: Hint) -> OpCall:
    return OpCall("nn.relu", (Arg(tensor(draw, NUMERIC, hint, zero_ok=True)),))


def _leaky_relu(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, NUMERIC, hint, zero_ok=True)
    return OpCall("nn.leaky_relu", (Arg(ty),), LeakyReluAttrs(draw(st.floats(0, 1, width=32))))


def _leaky_relu_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    alpha = draw(st.sampled_from([-0.5, None, "0.1"]))
    return OpCall("nn.leaky_relu", (Arg(tensor(draw, NUMERIC)),), LeakyReluAttrs(alpha))  # type: ignore[arg-type]  # a wrong field type, as parsed text may give


def _prelu(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, NUMERIC, hint, min_rank=1, zero_ok=True)
    axis = axis_of(draw, ty.ndim)
    alpha = TensorType((ty.shape[axis],), ty.dtype)
    hi = 1.0 if ty.dtype in FLOATS else 3.0
    return OpCall("nn.prelu", (Arg(ty), Arg(alpha, 0.0, hi)), PReluAttrs(axis))


def _per_channel_bad(name: str, attrs_of: type[PReluAttrs] | type[BiasAddAttrs]) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, NUMERIC, min_rank=1, min_dim=2)
        kind = draw(st.integers(0, 2))
        vec = TensorType((ty.shape[0],), ty.dtype)
        axis = 0
        if kind == 0:
            vec = TensorType((ty.shape[0] + 1,), ty.dtype)
        elif kind == 1:
            vec = TensorType((ty.shape[0],), "bool")
        else:
            axis = invalid_axis(draw, ty.ndim)
        return OpCall(name, (Arg(ty), Arg(vec)), attrs_of(axis))

    return sample


# --- dense, matmul, batch_matmul ---------------------------------------------------------------


def _product_dtypes(draw: st.DrawFn, hint: Hint) -> tuple[str, str, str]:
    """(data dtype, weight dtype, out_dtype attr); the weight's may differ from the data's."""
    data = dtype_of(draw, ALL, hint)
    weight = data if flag(draw) else draw(st.sampled_from(ALL))
    out = "" if flag(draw) else draw(st.sampled_from(ALL))
    return data, weight, out


def _dense(draw: st.DrawFn, hint: Hint) -> OpCall:
    dt, wt, out = _product_dtypes(draw, hint)
    shape = shape_of(draw, hint, min_rank=1, zero_ok=True)
    n = draw(st.integers(1, 4))
    target = out or dt
    data, weight = TensorType(shape, dt), TensorType((n, shape[-1]), wt)
    attrs = DenseAttrs(n if flag(draw) else None, out)
    return OpCall("nn.dense", (castable(data, target), castable(weight, target)), attrs)


def _dense_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    data = tensor(draw, FLOATS, min_rank=1)
    k = data.shape[-1]
    weight = TensorType((3, k), data.dtype)
    kind = draw(st.integers(0, 3))
    attrs = DenseAttrs()
    if kind == 0:
        weight = TensorType((3, k + 1), data.dtype)
    elif kind == 1:
        weight = TensorType((3, k, 1), data.dtype)
    elif kind == 2:
        attrs = DenseAttrs(4)
    else:
        attrs = DenseAttrs(None, "xx")
    return OpCall("nn.dense", (Arg(data), Arg(weight)), attrs)


def _matmul(draw: st.DrawFn, hint: Hint) -> OpCall:
    dt, wt, out = _product_dtypes(draw, hint)
    ta, tb = flag(draw), flag(draw)
    shape = shape_of(draw, hint, min_rank=2 if ta else 1, zero_ok=True)
    k = shape[-2] if ta else shape[-1]
    n = draw(st.integers(1, 4))
    a, b = TensorType(shape, dt), TensorType((n, k) if tb else (k, n), wt)
    attrs = MatmulAttrs(n if flag(draw) else None, out, ta, tb)
    return OpCall("nn.matmul", (castable(a, out or dt), castable(b, out or dt)), attrs)


def _matmul_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    a = tensor(draw, FLOATS, min_rank=2, min_dim=2)
    k = a.shape[-1]
    kind = draw(st.integers(0, 2))
    if kind == 0:  # reductions differ
        return OpCall("nn.matmul", (Arg(a), Arg(TensorType((k + 1, 2), a.dtype))), MatmulAttrs())
    if kind == 1:  # the transposed reduction differs
        args = (Arg(a), Arg(TensorType((2, k + 1), a.dtype)))
        return OpCall("nn.matmul", args, MatmulAttrs(None, "", False, True))
    args = (Arg(TensorType((k,), a.dtype)), Arg(TensorType((k, 2), a.dtype)))
    return OpCall("nn.matmul", args, MatmulAttrs(None, "", True, False))


def _batch_matmul(draw: st.DrawFn, hint: Hint) -> OpCall:
    dt, wt, out = _product_dtypes(draw, hint)
    ta, tb = flag(draw), flag(draw)
    b1 = draw(st.integers(1, 3))
    b2 = draw(st.sampled_from([b1, 1])) if flag(draw) else b1
    if flag(draw):
        b1, b2 = b2, b1
    i, k, j = (draw(st.sampled_from([1, 2, 3, 0])) for _ in range(3))
    a = TensorType((b1, k, i) if ta else (b1, i, k), dt)
    b = TensorType((b2, j, k) if tb else (b2, k, j), wt)
    attrs = BatchMatmulAttrs(out, ta, tb)
    return OpCall("nn.batch_matmul", (castable(a, out or dt), castable(b, out or dt)), attrs)


def _batch_matmul_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    kind = draw(st.integers(0, 2))
    a = TensorType((2, 3, 4), "float32")
    b = TensorType((2, 5, 4), "float32")
    if kind == 0:
        b = TensorType((3, 5, 4), "float32")  # batches 2 and 3
    elif kind == 1:
        b = TensorType((2, 5, 3), "float32")  # reductions 4 and 3
    else:
        a = TensorType((3, 4), "float32")
    return OpCall("nn.batch_matmul", (Arg(a), Arg(b)), BatchMatmulAttrs())


def _bias_add(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, min_rank=1, zero_ok=True)
    axis = axis_of(draw, ty.ndim)
    bias = TensorType((ty.shape[axis],), ty.dtype)
    return OpCall("nn.bias_add", (Arg(ty), Arg(bias)), BiasAddAttrs(axis))


def _batch_flatten(draw: st.DrawFn, hint: Hint) -> OpCall:
    return OpCall("nn.batch_flatten", (Arg(tensor(draw, ALL, hint, min_rank=1, zero_ok=True)),))


def _batch_flatten_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    return OpCall("nn.batch_flatten", (Arg(TensorType((), draw(st.sampled_from(ALL)))),))


def _softmax(name: str) -> OpSampler:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, NUMERIC, hint, min_rank=1, zero_ok=True)
        return OpCall(name, (Arg(ty),), SoftmaxAttrs(axis_of(draw, ty.ndim)))

    def bad(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, NUMERIC)
        return OpCall(name, (Arg(ty),), SoftmaxAttrs(invalid_axis(draw, ty.ndim)))

    return OpSampler(sample, (bad,), accepts=NUMERIC, bounded=name != "nn.log_softmax")


def _dropout(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, ALL, hint, zero_ok=True)
    return OpCall("nn.dropout", (Arg(ty),), DropoutAttrs(draw(st.floats(0, 1, width=32))))


def _dropout_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    rate = draw(st.sampled_from([1.5, -0.1, None, "0.5"]))
    return OpCall("nn.dropout", (Arg(tensor(draw, ALL)),), DropoutAttrs(rate))  # type: ignore[arg-type]  # a wrong field type, as parsed text may give


# --- normalizations ------------------------------------------------------------------------------


def _epsilon(draw: st.DrawFn, dtype: str) -> float:
    return 0.1 if dtype == "float16" else draw(st.sampled_from([1e-5, 1e-3, 0.1]))


def _batch_norm(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, FLOATS, hint, min_rank=1, zero_ok=True)
    axis = axis_of(draw, ty.ndim)
    vec = TensorType((ty.shape[axis],), ty.dtype)
    args = (Arg(ty), Arg(vec), Arg(vec), Arg(vec), Arg(vec, 0.1, 2.0))
    attrs = BatchNormAttrs(axis, _epsilon(draw, ty.dtype), flag(draw), flag(draw))
    return OpCall("nn.batch_norm", args, attrs)


def _norm(name: str) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        min_rank = {"nn.instance_norm": 3, "nn.group_norm": 2}.get(name, 1)
        # An empty tensor normalizes to an empty result (no 0 / 0 to see).
        ty = tensor(draw, FLOATS, hint, min_rank=min_rank, max_rank=max(min_rank, 3), zero_ok=True)
        eps = _epsilon(draw, ty.dtype)
        if name == "nn.group_norm":
            axis = draw(st.integers(1, ty.ndim - 1))
            axis = axis - ty.ndim if flag(draw) else axis
        else:
            axis = axis_of(draw, ty.ndim)
        vec = TensorType((ty.shape[axis],), ty.dtype)
        attrs: LayerNormAttrs | InstanceNormAttrs | GroupNormAttrs
        if name == "nn.layer_norm":
            attrs = LayerNormAttrs(axis, eps, flag(draw), flag(draw))
        elif name == "nn.instance_norm":
            attrs = InstanceNormAttrs(axis, eps, flag(draw), flag(draw))
        else:
            c = ty.shape[axis]
            groups = draw(st.sampled_from([g for g in range(1, max(c, 2) + 1) if c % g == 0]))
            attrs = GroupNormAttrs(groups, axis, eps, flag(draw), flag(draw))
        return OpCall(name, (Arg(ty), Arg(vec), Arg(vec)), attrs)

    return sample


def _norm_bad(name: str) -> SampleFn:
    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        ty = tensor(draw, FLOATS, min_rank=3, min_dim=2)
        vec = TensorType((ty.shape[1],), ty.dtype)
        args = [Arg(ty), *[Arg(vec)] * (4 if name == "nn.batch_norm" else 2)]
        kind = draw(st.integers(0, 3))
        axis, eps = 1, 1e-5
        if kind == 0:  # a parameter of another extent
            args[-1] = Arg(TensorType((ty.shape[1] + 1,), ty.dtype))
        elif kind == 1:  # integer data
            args[0] = Arg(TensorType(ty.shape, draw(st.sampled_from(INTS))))
        elif kind == 2:
            axis = invalid_axis(draw, ty.ndim)
        else:
            eps = -1.0
        attrs = {
            "nn.batch_norm": BatchNormAttrs(axis, eps),
            "nn.layer_norm": LayerNormAttrs(axis, eps),
            "nn.instance_norm": InstanceNormAttrs(axis, eps),
        }.get(name, GroupNormAttrs(1, axis, eps))
        return OpCall(name, tuple(args), attrs)

    return sample


def _group_norm_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = TensorType((2, 6, 3), "float32")
    vec = TensorType((6,), "float32")
    attrs = draw(
        st.sampled_from([GroupNormAttrs(4, 1), GroupNormAttrs(0, 1), GroupNormAttrs(2, 0)])
    )
    if attrs.axis == 0:
        vec = TensorType((2,), "float32")
    return OpCall("nn.group_norm", (Arg(ty), Arg(vec), Arg(vec)), attrs)


def _instance_norm_rank(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, FLOATS, min_rank=1, max_rank=2)
    vec = TensorType((ty.shape[-1],), ty.dtype)
    return OpCall("nn.instance_norm", (Arg(ty), Arg(vec), Arg(vec)), InstanceNormAttrs(-1))


def _lrn(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, FLOATS, hint, min_rank=1, zero_ok=True)
    attrs = LRNAttrs(
        draw(st.sampled_from([1, 3, 5])),
        axis_of(draw, ty.ndim),
        draw(st.sampled_from([0.5, 1.0, 2.0])),
        draw(st.sampled_from([1e-4, 0.01, 1.0])),
        draw(st.sampled_from([0.5, 0.75, 1.0])),
    )
    return OpCall("nn.lrn", (Arg(ty),), attrs)


def _lrn_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    ty = tensor(draw, FLOATS, min_rank=1)
    attrs = draw(
        st.sampled_from(
            [LRNAttrs(4), LRNAttrs(0), LRNAttrs(3, ty.ndim), LRNAttrs(3, 1, "2")]  # type: ignore[arg-type]  # a wrong field type, as parsed text may give
        )
    )
    return OpCall("nn.lrn", (Arg(ty),), attrs)


def _nll_loss(draw: st.DrawFn, hint: Hint) -> OpCall:
    pred = tensor(draw, FLOATS, hint, min_rank=2, max_rank=3)
    n, c, *rest = pred.shape
    targets = TensorType((n, *rest), draw(st.sampled_from(INTS)))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    ignore = -100 if reduction == "mean" else draw(st.integers(-1, c))
    lo = 0 if targets.dtype in UNSIGNED else -1
    args = (Arg(pred), Arg(targets, lo, c), Arg(TensorType((c,), pred.dtype), 0.5, 1.5))
    return OpCall("nn.nll_loss", args, NLLLossAttrs(reduction, ignore))


def _nll_loss_bad(draw: st.DrawFn, hint: Hint) -> OpCall:
    pred = TensorType((2, 3, 4), draw(st.sampled_from(FLOATS)))
    targets = TensorType((2, 4), "int32")
    weights = TensorType((3,), pred.dtype)
    attrs = NLLLossAttrs()
    kind = draw(st.integers(0, 4))
    if kind == 0:
        pred = TensorType(pred.shape, "int32")
        weights = TensorType((3,), "int32")
    elif kind == 1:
        targets = TensorType((2, 4), draw(st.sampled_from(FLOATS)))
    elif kind == 2:
        targets = TensorType((2, 3), "int32")
    elif kind == 3:
        weights = TensorType((4,), pred.dtype)
    else:
        attrs = NLLLossAttrs(draw(st.sampled_from(["avg", "", "MEAN"])))
    return OpCall("nn.nll_loss", (Arg(pred), Arg(targets), Arg(weights)), attrs)


def _samplers() -> dict[str, OpSampler]:
    table = {
        "nn.relu": OpSampler(_relu, accepts=NUMERIC, bounded=True),
        "nn.leaky_relu": OpSampler(_leaky_relu, (_leaky_relu_bad,), accepts=NUMERIC, bounded=True),
        "nn.prelu": OpSampler(
            _prelu, (_per_channel_bad("nn.prelu", PReluAttrs),), accepts=NUMERIC, bounded=True
        ),
        "nn.dense": OpSampler(_dense, (_dense_bad,)),
        "nn.matmul": OpSampler(_matmul, (_matmul_bad,)),
        "nn.batch_matmul": OpSampler(_batch_matmul, (_batch_matmul_bad,)),
        "nn.bias_add": OpSampler(_bias_add, (_per_channel_bad("nn.bias_add", BiasAddAttrs),)),
        "nn.batch_flatten": OpSampler(_batch_flatten, (_batch_flatten_bad,), bounded=True),
        "nn.dropout": OpSampler(_dropout, (_dropout_bad,), bounded=True),
        "nn.batch_norm": OpSampler(_batch_norm, (_norm_bad("nn.batch_norm"),), accepts=FLOATS),
        "nn.layer_norm": OpSampler(
            _norm("nn.layer_norm"), (_norm_bad("nn.layer_norm"),), accepts=FLOATS
        ),
        "nn.instance_norm": OpSampler(
            _norm("nn.instance_norm"),
            (_norm_bad("nn.instance_norm"), _instance_norm_rank),
            accepts=FLOATS,
        ),
        "nn.group_norm": OpSampler(
            _norm("nn.group_norm"), (_norm_bad("nn.group_norm"), _group_norm_bad), accepts=FLOATS
        ),
        "nn.lrn": OpSampler(_lrn, (_lrn_bad,), accepts=FLOATS),
        "nn.nll_loss": OpSampler(_nll_loss, (_nll_loss_bad,), accepts=FLOATS),
    }
    for name in ("nn.softmax", "nn.fast_softmax", "nn.log_softmax"):
        table[name] = _softmax(name)
    return table


SAMPLERS: dict[str, OpSampler] = _samplers()
