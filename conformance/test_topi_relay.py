"""The two operator oracles agree: each Relay operator's numpy kernel equals its TE compute
(FTVMCompute, evaluated with te.evaluate), which equals the TIR interpreter on the lowered
function -- exactly for integers and bool, to float tolerance otherwise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitvm import relay, te
from minitvm.ir.op import Op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.expr import Call, Constant, Expr, Tuple, Var
from minitvm.topi import relay_compute
from spec.topi_harness import run_interp

Array = npt.NDArray[Any]
relay_compute.register()

Spec = tuple[tuple[int, ...], str]
Builder = Callable[..., "Expr | relay.TupleWrapper"]


def _flat_types(ty: Type) -> list[TensorType]:
    if isinstance(ty, TupleType):
        return [t for f in ty.fields for t in _flat_types(f)]
    assert isinstance(ty, TensorType)
    return [ty]


def _values(specs: list[Spec], rng: np.random.Generator, kind: str) -> list[Array]:
    out: list[Array] = []
    for shape, dtype in specs:
        if dtype == "bool":
            out.append(np.asarray(rng.random(shape) > 0.5))
        elif dtype.startswith(("int", "uint")):
            lo, hi = (
                (0, 3) if kind == "index" else (-20, 20) if dtype.startswith("int") else (0, 40)
            )
            out.append(rng.integers(lo, hi, shape).astype(dtype))
        elif kind == "positive":
            out.append(np.asarray(rng.random(shape) + 0.5).astype(dtype))
        elif kind == "unit":
            out.append(np.asarray(rng.random(shape) * 1.8 - 0.9).astype(dtype))
        else:
            out.append(np.asarray(rng.standard_normal(shape)).astype(dtype))
    return out


def _arg_type(e: Expr) -> Type:
    if isinstance(e, Tuple):
        return TupleType([_arg_type(f) for f in e.fields])
    if isinstance(e, Constant):
        return TensorType(e.data.shape, e.data.dtype)
    if isinstance(e, Call):
        assert isinstance(e.op, Op)
        assert e.op.definition.type_rel is not None
        return e.op.definition.type_rel([_arg_type(a) for a in e.args], e.attrs)
    assert isinstance(e, Var)
    assert e.type_annotation is not None
    return e.type_annotation


def _arg_value(e: Expr, env: dict[Var, Array]) -> Any:
    """The value of an argument: a bound variable, a constant, a tuple, or a nested call
    (``relay.variance`` passes ``mean(x)``) evaluated with its kernel."""
    if isinstance(e, Tuple):
        return tuple(_arg_value(f, env) for f in e.fields)
    if isinstance(e, Constant):
        return e.data.numpy()
    if isinstance(e, Call):
        assert isinstance(e.op, Op)
        inner = e.op.definition
        assert inner.kernel is not None
        return inner.kernel(e.attrs, [_arg_value(a, env) for a in e.args], _arg_type(e))
    assert isinstance(e, Var)
    return env[e]


def cross_check(
    build: Builder,
    specs: list[Spec],
    seed: int = 0,
    kind: str = "normal",
    rtol: float = 1e-4,
    atol: float = 1e-5,
    values: list[Array] | None = None,
    interp: bool = True,
) -> None:
    """Run the call ``build(*vars)`` through the Relay kernel, the TE compute and the TIR
    interpreter, and compare."""
    rng = np.random.default_rng(seed)
    rvars = [relay.var(f"v{i}", shape=s, dtype=d) for i, (s, d) in enumerate(specs)]
    built = build(*rvars)
    call = built.astuple() if isinstance(built, relay.TupleWrapper) else built
    assert isinstance(call, Call)
    assert isinstance(call.op, Op)
    definition = call.op.definition
    vals = values if values is not None else _values(specs, rng, kind)
    env = dict(zip(rvars, vals, strict=True))

    assert definition.type_rel is not None
    out_type = definition.type_rel([_arg_type(a) for a in call.args], call.attrs)
    assert definition.kernel is not None
    args = [_arg_value(a, env) for a in call.args]
    want = definition.kernel(call.attrs, args, out_type)
    want_list = list(want) if isinstance(want, tuple) else [want]
    flat_values = [v for a in args for v in (a if isinstance(a, tuple) else (a,))]
    flat_types = [t for a in call.args for t in _flat_types(_arg_type(a))]
    fcompute = definition.get_extra("FTVMCompute")
    assert fcompute is not None, f"{call.op.name} has no FTVMCompute"
    phs = [te.placeholder(t.shape, t.dtype, f"p{i}") for i, t in enumerate(flat_types)]
    outs = fcompute(call.attrs, phs, out_type)
    feed = dict(zip(phs, flat_values, strict=True))
    got = te.evaluate(outs, feed)
    assert isinstance(got, list)
    for g, w, ty in zip(got, want_list, _flat_types(out_type), strict=True):
        assert g.shape == ty.shape
        assert str(g.dtype) == ty.dtype
        _close(g, np.asarray(w), rtol, atol, call.op.name)
    if interp:
        for lowered, g in zip(run_interp(phs, outs, feed), got, strict=True):
            _close(lowered, g, rtol, atol, call.op.name)


def _close(a: Array, b: Array, rtol: float, atol: float, what: str) -> None:
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


# --- elementwise families over random shapes and dtypes --------------------------------------

UNARY_FLOAT = [
    "abs",
    "ceil",
    "cos",
    "cosh",
    "erf",
    "exp",
    "fast_erf",
    "fast_exp",
    "fast_tanh",
    "floor",
    "isfinite",
    "isinf",
    "isnan",
    "negative",
    "round",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "tan",
    "tanh",
    "trunc",
    "atan",
    "asinh",
    "copy",
]
UNARY_POSITIVE = ["log", "log2", "log10", "sqrt", "rsqrt"]
UNARY_UNIT = ["asin", "acos", "atanh"]
BINARY = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "floor_divide",
    "trunc_divide",
    "mod",
    "floor_mod",
    "trunc_mod",
    "maximum",
    "minimum",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
]
BINARY_INT = ["bitwise_and", "bitwise_or", "bitwise_xor"]
LOGICAL = ["logical_and", "logical_or", "logical_xor"]

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@given(st.sampled_from(UNARY_FLOAT + UNARY_POSITIVE + UNARY_UNIT), shapes, st.integers(0, 999))
def test_unary_float(name: str, shape: tuple[int, ...], seed: int) -> None:
    kind = "positive" if name in UNARY_POSITIVE else "unit" if name in UNARY_UNIT else "normal"
    cross_check(getattr(relay, name), [(shape, "float32")], seed, kind)


@given(
    st.sampled_from(["abs", "negative", "sign", "round", "bitwise_not"]),
    st.sampled_from(["int8", "int32", "uint8"]),
    shapes,
    st.integers(0, 999),
)
def test_unary_integer(name: str, dtype: str, shape: tuple[int, ...], seed: int) -> None:
    cross_check(getattr(relay, name), [(shape, dtype)], seed)


@st.composite
def broadcast_pair(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    out = draw(shapes)

    def sub(s: tuple[int, ...]) -> tuple[int, ...]:
        keep = draw(st.integers(0, len(s)))
        tail = s[len(s) - keep :]
        return tuple(d if draw(st.booleans()) else 1 for d in tail)

    return sub(out), out if draw(st.booleans()) else sub(out)


@given(st.sampled_from(LOGICAL), broadcast_pair(), st.integers(0, 999))
def test_logical(name: str, shapes2: tuple[tuple[int, ...], tuple[int, ...]], seed: int) -> None:
    a, b = shapes2
    cross_check(getattr(relay, name), [(a, "bool"), (b, "bool")], seed)
    cross_check(relay.logical_not, [(a, "bool")], seed)


@given(
    st.sampled_from(BINARY),
    st.sampled_from(["float32", "int32", "int8"]),
    broadcast_pair(),
    st.integers(0, 999),
)
def test_binary_broadcast(
    name: str, dtype: str, shapes2: tuple[tuple[int, ...], tuple[int, ...]], seed: int
) -> None:
    a, b = shapes2
    cross_check(getattr(relay, name), [(a, dtype), (b, dtype)], seed)


@given(
    st.sampled_from([*BINARY_INT, "left_shift", "right_shift", "power"]),
    st.sampled_from(["int32", "uint8", "int16"]),
    broadcast_pair(),
    st.integers(0, 999),
)
def test_binary_integer(
    name: str, dtype: str, shapes2: tuple[tuple[int, ...], tuple[int, ...]], seed: int
) -> None:
    a, b = shapes2
    rng = np.random.default_rng(seed)
    vals = _values([(a, dtype), (b, dtype)], rng, "normal")
    if name in ("left_shift", "right_shift", "power"):
        vals[1] = rng.integers(0, 9, b).astype(dtype)
    cross_check(getattr(relay, name), [(a, dtype), (b, dtype)], values=vals)


@given(
    st.sampled_from(["sum", "prod", "max", "min", "mean", "argmax", "argmin"]),
    st.sampled_from([None, 0, -1, (0, 1)]),
    st.booleans(),
    st.booleans(),
    st.integers(0, 999),
)
def test_reductions(name: str, axis: Any, keepdims: bool, exclude: bool, seed: int) -> None:
    cross_check(
        lambda x: getattr(relay, name)(x, axis, keepdims, exclude), [((2, 3, 4), "float32")], seed
    )


@given(
    st.sampled_from(["all", "any"]),
    st.sampled_from([None, 1, (0, 2)]),
    st.booleans(),
    st.integers(0, 999),
)
def test_boolean_reductions(name: str, axis: Any, keepdims: bool, seed: int) -> None:
    cross_check(lambda x: getattr(relay, name)(x, axis, keepdims), [((2, 3, 4), "bool")], seed)


# --- the rest: one case per configuration --------------------------------------------------------

F = "float32"
CASES: list[tuple[str, Builder, list[Spec], str]] = [
    ("clip", lambda x: relay.clip(x, -0.5, 0.7), [((2, 3), F)], "normal"),
    ("cast", lambda x: relay.cast(x, "int32"), [((2, 3), F)], "normal"),
    ("reinterpret", lambda x: relay.reinterpret(x, "int32"), [((2, 3), F)], "normal"),
    ("transpose", lambda x: relay.transpose(x, (2, 0, 1)), [((2, 3, 4), F)], "normal"),
    ("reshape", lambda x: relay.reshape(x, (-1, 4)), [((2, 3, 4), F)], "normal"),
    ("expand_dims", lambda x: relay.expand_dims(x, 1, 2), [((2, 3), F)], "normal"),
    ("squeeze", lambda x: relay.squeeze(x, (0, 2)), [((1, 3, 1), F)], "normal"),
    (
        "concatenate",
        lambda x, y: relay.concatenate([x, y], 1),
        [((2, 3), F), ((2, 2), F)],
        "normal",
    ),
    ("stack", lambda x, y: relay.stack([x, y], -1), [((2, 3), F), ((2, 3), F)], "normal"),
    ("split", lambda x: relay.split(x, 3, 1), [((2, 6), F)], "normal"),
    ("split_idx", lambda x: relay.split(x, (1, 4), 1), [((2, 6), F)], "normal"),
    ("broadcast_to", lambda x: relay.broadcast_to(x, (4, 2, 3)), [((2, 1), F)], "normal"),
    ("take", lambda x, i: relay.take(x, i, 1), [((2, 3, 4), F), ((2, 2), "int32")], "index"),
    (
        "take_wrap",
        lambda x, i: relay.take(x, i, 0, mode="wrap"),
        [((3, 4), F), ((5,), "int32")],
        "normal",
    ),
    (
        "strided_slice",
        lambda x: relay.strided_slice(x, (1, -1), (2, 0), (1, -1)),
        [((3, 4), F)],
        "normal",
    ),
    (
        "where",
        lambda c, x, y: relay.where(c, x, y),
        [((2, 1), "bool"), ((2, 3), F), ((3,), F)],
        "normal",
    ),
    ("gather", lambda x, i: relay.gather(x, 1, i), [((2, 3), F), ((2, 4), "int32")], "index"),
    ("gather_nd", lambda x, i: relay.gather_nd(x, i), [((3, 3, 2), F), ((2, 4), "int32")], "index"),
    ("tile", lambda x: relay.tile(x, (2, 1, 3)), [((2, 3), F)], "normal"),
    ("repeat", lambda x: relay.repeat(x, 2, 1), [((2, 3), F)], "normal"),
    ("reverse", lambda x: relay.reverse(x, 1), [((2, 3), F)], "normal"),
    ("cumsum", lambda x: relay.cumsum(x, 1, exclusive=True), [((2, 4), F)], "normal"),
    ("cumprod", lambda x: relay.cumprod(x), [((2, 3), "int32")], "normal"),
    (
        "one_hot",
        lambda i, on, off: relay.one_hot(i, on, off, 4, 1, "float32"),
        [((2, 3), "int32"), ((), F), ((), F)],
        "index",
    ),
    ("full", lambda v: relay.full(v, (2, 3), "int32"), [((), F)], "normal"),
    ("zeros_like", lambda x: relay.zeros_like(x), [((2, 3), "int8")], "normal"),
    ("ones", lambda: relay.ones((2, 3), "float32"), [], "normal"),
    ("arange", lambda: relay.arange(1.0, 7.0, 1.5), [], "normal"),
    ("batch_flatten", lambda x: relay.nn.batch_flatten(x), [((2, 3, 4), F)], "normal"),
    ("variance", lambda x: relay.variance(x, axis=1, keepdims=True), [((2, 5), F)], "normal"),
    ("dense", lambda x, w: relay.nn.dense(x, w), [((3, 4), F), ((5, 4), F)], "normal"),
    ("dense3d", lambda x, w: relay.nn.dense(x, w), [((2, 3, 4), F), ((5, 4), F)], "normal"),
    (
        "matmul",
        lambda x, w: relay.nn.matmul(x, w, transpose_a=True),
        [((4, 3), F), ((4, 5), F)],
        "normal",
    ),
    (
        "batch_matmul",
        lambda a, b: relay.nn.batch_matmul(a, b),
        [((2, 3, 4), F), ((1, 5, 4), F)],
        "normal",
    ),
    ("bias_add", lambda x, b: relay.nn.bias_add(x, b, 1), [((2, 3, 4), F), ((3,), F)], "normal"),
    ("relu", lambda x: relay.nn.relu(x), [((2, 3), F)], "normal"),
    ("leaky_relu", lambda x: relay.nn.leaky_relu(x, 0.2), [((2, 3), F)], "normal"),
    ("prelu", lambda x, a: relay.nn.prelu(x, a), [((2, 3, 2), F), ((3,), F)], "normal"),
    ("softmax", lambda x: relay.nn.softmax(x, 1), [((2, 5), F)], "normal"),
    ("log_softmax", lambda x: relay.nn.log_softmax(x), [((2, 5), F)], "normal"),
    (
        "conv2d",
        lambda x, w: relay.nn.conv2d(x, w, 2, (1, 0), 1, 2),
        [((1, 4, 6, 5), F), ((4, 2, 3, 3), F)],
        "normal",
    ),
    (
        "conv2d_nhwc",
        lambda x, w: relay.nn.conv2d(x, w, 1, 1, 2, data_layout="NHWC", kernel_layout="HWIO"),
        [((1, 6, 5, 2), F), ((3, 3, 2, 4), F)],
        "normal",
    ),
    (
        "conv1d",
        lambda x, w: relay.nn.conv1d(x, w, 1, 1),
        [((1, 2, 7), F), ((3, 2, 3), F)],
        "normal",
    ),
    (
        "conv3d",
        lambda x, w: relay.nn.conv3d(x, w, 1, 1),
        [((1, 2, 3, 4, 4), F), ((2, 2, 2, 2, 2), F)],
        "normal",
    ),
    (
        "conv2d_transpose",
        lambda x, w: relay.nn.conv2d_transpose(x, w, 2, 1, output_padding=1),
        [((1, 2, 3, 3), F), ((2, 3, 3, 3), F)],
        "normal",
    ),
    (
        "max_pool2d",
        lambda x: relay.nn.max_pool2d(x, 3, 2, 1, (1, 1), ceil_mode=True),
        [((1, 2, 6, 7), F)],
        "normal",
    ),
    (
        "avg_pool2d",
        lambda x: relay.nn.avg_pool2d(x, (3, 2), 2, 1, (1, 0, 0, 1), count_include_pad=True),
        [((1, 2, 6, 7), F)],
        "normal",
    ),
    (
        "avg_pool2d_excl",
        lambda x: relay.nn.avg_pool2d(x, 3, 2, 1, 1, ceil_mode=True),
        [((1, 2, 6, 7), F)],
        "normal",
    ),
    ("max_pool1d", lambda x: relay.nn.max_pool1d(x, 2, 2), [((1, 2, 7), F)], "normal"),
    ("avg_pool3d", lambda x: relay.nn.avg_pool3d(x, 2, 1, 1, 1), [((1, 1, 3, 4, 4), F)], "normal"),
    (
        "adaptive_avg_pool2d",
        lambda x: relay.nn.adaptive_avg_pool2d(x, (3, 2)),
        [((1, 2, 7, 5), F)],
        "normal",
    ),
    ("global_max_pool2d", lambda x: relay.nn.global_max_pool2d(x), [((1, 2, 4, 5), F)], "normal"),
    (
        "batch_norm",
        lambda x, g, b, m, v: relay.nn.batch_norm(x, g, b, m, v),
        [((2, 3, 2, 2), F)] + [((3,), F)] * 4,
        "positive",
    ),
    (
        "layer_norm",
        lambda x, g, b: relay.nn.layer_norm(x, g, b),
        [((2, 3, 4), F), ((4,), F), ((4,), F)],
        "normal",
    ),
    (
        "instance_norm",
        lambda x, g, b: relay.nn.instance_norm(x, g, b),
        [((2, 3, 4, 2), F), ((3,), F), ((3,), F)],
        "normal",
    ),
    (
        "group_norm",
        lambda x, g, b: relay.nn.group_norm(x, g, b, 2),
        [((2, 4, 3), F), ((4,), F), ((4,), F)],
        "normal",
    ),
    ("lrn", lambda x: relay.nn.lrn(x, 3, 1, 2.0, 0.001, 0.75), [((1, 5, 2, 2), F)], "normal"),
    ("pad", lambda x: relay.nn.pad(x, ((0, 0), (1, 2), (2, 0)), 1.5), [((1, 3, 2), F)], "normal"),
    (
        "pad_edge",
        lambda x: relay.nn.pad(x, ((1, 2), (2, 1)), pad_mode="edge"),
        [((3, 2), F)],
        "normal",
    ),
    (
        "pad_reflect",
        lambda x: relay.nn.pad(x, ((1, 2), (2, 1)), pad_mode="reflect"),
        [((4, 3), F)],
        "normal",
    ),
    ("dilate", lambda x: relay.nn.dilate(x, (1, 2, 3), 0.5), [((2, 3, 2), F)], "normal"),
    (
        "upsampling",
        lambda x: relay.nn.upsampling(x, 2, 1.5, method="bilinear"),
        [((1, 2, 3, 4), F)],
        "normal",
    ),
    (
        "depth_to_space",
        lambda x: relay.nn.depth_to_space(x, 2, mode="CRD"),
        [((1, 8, 2, 3), F)],
        "normal",
    ),
    ("space_to_depth", lambda x: relay.nn.space_to_depth(x, 2), [((1, 2, 4, 6), F)], "normal"),
    (
        "space_to_batch_nd",
        lambda x: relay.nn.space_to_batch_nd(x, (2, 3), ((0, 2), (1, 1))),
        [((2, 4, 7, 3), F)],
        "normal",
    ),
    (
        "batch_to_space_nd",
        lambda x: relay.nn.batch_to_space_nd(x, (2, 3), ((1, 0), (0, 2))),
        [((12, 2, 3, 3), F)],
        "normal",
    ),
    (
        "nll_loss",
        lambda p, t, w: relay.nn.nll_loss(p, t, w, "mean", 1),
        [((3, 4, 2), F), ((3, 2), "int32"), ((4,), F)],
        "index",
    ),
    (
        "collapse_sum_like",
        lambda x, y: relay.collapse_sum_like(x, y),
        [((2, 3, 4), F), ((3, 1), F)],
        "normal",
    ),
    ("stop_fusion", lambda x: relay.annotation.stop_fusion(x), [((2, 3), F)], "normal"),
    ("shape_of", lambda x: relay.shape_of(x), [((2, 3, 4), F)], "normal"),
    ("ndarray_size", lambda x: relay.ndarray_size(x, "int64"), [((2, 3, 4), F)], "normal"),
    (
        "max_pool2d_grad",
        lambda g, x: relay.nn.max_pool2d_grad(g, x, 2, 2),
        [((1, 2, 3, 3), F), ((1, 2, 6, 7), F)],
        "normal",
    ),
    (
        "avg_pool2d_grad",
        lambda g, x: relay.nn.avg_pool2d_grad(g, x, 3, 2, 1, count_include_pad=True),
        [((1, 2, 3, 4), F), ((1, 2, 6, 7), F)],
        "normal",
    ),
]


@pytest.mark.parametrize(("name", "build", "specs", "kind"), CASES, ids=[c[0] for c in CASES])
def test_operator_cases(name: str, build: Builder, specs: list[Spec], kind: str) -> None:
    cross_check(build, specs, seed=len(name), kind=kind)


def test_every_compute_names_a_registered_operator() -> None:
    from minitvm.ir.op import list_op_names

    known = set(list_op_names())
    missing = sorted(n for n in relay_compute.COMPUTES if n not in known)
    assert not missing, f"computes for unknown operators: {missing}"
