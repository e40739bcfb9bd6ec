"""OP: broadcasting binary and elementwise unary operators, casts and shape queries."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.op import Op, OpPattern
from minitvm.relay.op.define import Array
from spec.op_helpers import evaluate, infer, tt

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
    "power",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "left_shift",
    "right_shift",
]
COMPARE = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]
FLOAT_UNARY = [
    "exp",
    "fast_exp",
    "log",
    "log2",
    "log10",
    "sqrt",
    "rsqrt",
    "erf",
    "fast_erf",
    "sigmoid",
    "tanh",
    "fast_tanh",
    "sin",
    "cos",
    "tan",
    "sinh",
    "cosh",
    "asin",
    "acos",
    "atan",
    "asinh",
    "acosh",
    "atanh",
]


def _binary(name: str, a: npt.ArrayLike, b: npt.ArrayLike, dtype: str) -> Array:
    x = relay.var("x", shape=np.shape(a), dtype=dtype)
    y = relay.var("y", shape=np.shape(b), dtype=dtype)
    call = getattr(relay, name)(x, y)
    return np.asarray(evaluate(call, {x: a, y: b}))


def _unary(name: str, a: npt.ArrayLike, dtype: str) -> Array:
    x = relay.var("x", shape=np.shape(a), dtype=dtype)
    return np.asarray(evaluate(getattr(relay, name)(x), {x: a}))


@pytest.mark.spec("OP-1")
def test_binary_relations_broadcast_and_keep_dtype() -> None:
    x = relay.var("x", shape=(10, 4), dtype="int32")
    y = relay.var("y", shape=(5, 10, 1), dtype="int32")
    for name in BINARY:
        call = getattr(relay, name)(x, y)
        assert isinstance(call, relay.Call)
        assert call.op is Op.get(name)
        assert infer(call) == tt((5, 10, 4), "int32"), name
        d = Op.get(name).definition
        assert (d.pattern, d.stateful, d.num_inputs) == (OpPattern.BROADCAST, False, 2), name
    for name in COMPARE:
        assert infer(getattr(relay, name)(x, y)) == tt((5, 10, 4), "bool"), name
        assert Op.get(name).definition.pattern == OpPattern.BROADCAST
    bx = relay.var("bx", shape=(10, 4), dtype="bool")
    by = relay.var("by", shape=(5, 10, 1), dtype="bool")
    for name in ("logical_and", "logical_or", "logical_xor"):
        assert infer(getattr(relay, name)(bx, by)) == tt((5, 10, 4), "bool"), name
        assert Op.get(name).definition.pattern == OpPattern.BROADCAST
        with pytest.raises(DiagnosticError, match=rf"^{name}: operands must be bool"):
            infer(getattr(relay, name)(x, x))


@pytest.mark.spec("OP-1")
def test_sugar_builds_the_same_ops() -> None:
    x = relay.var("x", shape=(2,))
    assert isinstance(x + x, relay.Call)
    assert (x + x).op is Op.get("add")
    assert (x * 2.0).op is Op.get("multiply")
    assert (-x).op is Op.get("negative")
    assert (x < x).op is Op.get("less")


@pytest.mark.spec("OP-1")
def test_binary_relations_reject_bad_operands() -> None:
    f = relay.var("f", shape=(3,))
    i = relay.var("i", shape=(3,), dtype="int32")
    b = relay.var("b", shape=(3,), dtype="bool")
    with pytest.raises(DiagnosticError, match=r"^add: .*float32 and int32"):
        infer(relay.add(f, i))
    with pytest.raises(DiagnosticError, match=r"^multiply: .*not broadcastable"):
        infer(relay.multiply(f, relay.var("g", shape=(4,))))
    with pytest.raises(DiagnosticError, match="bitwise_and"):
        infer(relay.bitwise_and(f, f))
    with pytest.raises(DiagnosticError, match="left_shift"):
        infer(relay.left_shift(b, b))
    with pytest.raises(DiagnosticError, match="power"):
        infer(relay.power(b, b))
    with pytest.raises(DiagnosticError, match="must be a tensor"):
        infer(relay.add(relay.Tuple([f]), f))
    assert infer(relay.bitwise_xor(b, b)) == tt((3,), "bool")


@pytest.mark.spec("OP-1")
def test_binary_kernels_float() -> None:
    a = np.array([[1.5, -2.0, 3.0]], "float32")
    b = np.array([[2.0], [-0.5]], "float32")
    np.testing.assert_array_equal(_binary("add", a, b, "float32"), [[3.5, 0, 5], [1, -2.5, 2.5]])
    np.testing.assert_array_equal(
        _binary("subtract", a, b, "float32"), [[-0.5, -4, 1], [2, -1.5, 3.5]]
    )
    np.testing.assert_array_equal(
        _binary("multiply", a, b, "float32"), [[3, -4, 6], [-0.75, 1, -1.5]]
    )
    np.testing.assert_array_equal(_binary("maximum", a, b, "float32"), [[2, 2, 3], [1.5, -0.5, 3]])
    np.testing.assert_array_equal(_binary("power", a, b, "float32")[0], [2.25, 4.0, 9.0])
    assert _binary("greater", a, b, "float32").tolist() == [
        [False, False, True],
        [True, False, True],
    ]
    assert _binary("equal", a, a, "float32").dtype == np.bool_
    t, f = True, False
    assert _binary("logical_and", [t, t, f], [t, f, f], "bool").tolist() == [t, f, f]
    assert _binary("logical_or", [t, t, f], [t, f, f], "bool").tolist() == [t, t, f]
    assert _binary("logical_xor", [t, t, f], [t, f, f], "bool").tolist() == [f, t, f]


def _c_div(a: int, b: int) -> int:
    return 0 if b == 0 else math.trunc(a / b) if abs(a) < 2**52 else -(-a // b)


@pytest.mark.spec("OP-2")
def test_integer_division_truncates_and_floors() -> None:
    a = [7, -7, 7, -7, 0, 5]
    b = [2, 2, -2, -2, 3, 5]
    trunc_q = [_c_div(x, y) for x, y in zip(a, b, strict=True)]
    trunc_r = [x - q * y for x, y, q in zip(a, b, trunc_q, strict=True)]
    floor_q = [x // y for x, y in zip(a, b, strict=True)]
    floor_r = [x % y for x, y in zip(a, b, strict=True)]
    assert trunc_q == [3, -3, -3, 3, 0, 1]
    for dtype in ("int8", "int32", "int64"):
        assert _binary("divide", a, b, dtype).tolist() == trunc_q
        assert _binary("trunc_divide", a, b, dtype).tolist() == trunc_q
        assert _binary("mod", a, b, dtype).tolist() == trunc_r
        assert _binary("trunc_mod", a, b, dtype).tolist() == trunc_r
        assert _binary("floor_divide", a, b, dtype).tolist() == floor_q
        assert _binary("floor_mod", a, b, dtype).tolist() == floor_r
    assert _binary("divide", [7, 200], [2, 7], "uint8").tolist() == [3, 28]


@pytest.mark.spec("OP-2")
def test_integer_division_by_zero_gives_zero() -> None:
    a = [5, -5, 0]
    zero = [0, 0, 0]
    for name in ("divide", "floor_divide", "trunc_divide", "mod", "floor_mod", "trunc_mod"):
        for dtype in ("int32", "uint8", "int64"):
            vals = [abs(v) for v in a] if dtype == "uint8" else a
            assert _binary(name, vals, zero, dtype).tolist() == [0, 0, 0], (name, dtype)
    lo = np.iinfo(np.int32).min
    assert _binary("divide", [lo], [-1], "int32").tolist() == [lo]
    assert _binary("mod", [lo], [-1], "int32").tolist() == [0]
    assert _binary("floor_divide", [lo], [-1], "int32").tolist() == [lo]


@pytest.mark.spec("OP-2")
def test_float_division_family() -> None:
    a = np.array([7.5, -7.5, 1.0, -1.0], "float32")
    b = np.array([2.0, 2.0, 0.0, 0.0], "float32")
    out = _binary("divide", a, b, "float32")
    assert out.tolist() == [3.75, -3.75, math.inf, -math.inf]
    assert _binary("floor_divide", a[:2], b[:2], "float32").tolist() == [3.0, -4.0]
    assert _binary("trunc_divide", a[:2], b[:2], "float32").tolist() == [3.0, -3.0]
    assert _binary("mod", a[:2], b[:2], "float32").tolist() == [1.5, -1.5]
    assert _binary("floor_mod", a[:2], b[:2], "float32").tolist() == [1.5, 0.5]


@pytest.mark.spec("OP-3")
def test_integer_overflow_wraps_and_bool_is_one_bit() -> None:
    assert _binary("add", [120], [10], "int8").tolist() == [-126]
    assert _binary("subtract", [1], [2], "uint8").tolist() == [255]
    assert _binary("multiply", [2**30], [4], "int32").tolist() == [0]
    t, f = True, False
    assert _binary("add", [t, t, f], [t, f, f], "bool").tolist() == [f, t, f]
    assert _binary("multiply", [t, t, f], [t, f, f], "bool").tolist() == [t, f, f]
    assert _unary("negative", [-128], "int8").tolist() == [-128]
    assert _unary("abs", [-128, -3], "int8").tolist() == [-128, 3]


@pytest.mark.spec("OP-3")
def test_shifts_and_integer_power() -> None:
    assert _binary("right_shift", [-8, 8], [1, 1], "int32").tolist() == [-4, 4]
    assert _binary("left_shift", [1, 1], [31, 3], "int32").tolist() == [-(2**31), 8]
    assert _binary("left_shift", [1, 1], [32, -1], "int32").tolist() == [0, 0]
    assert _binary("right_shift", [-8, 8], [40, 40], "int32").tolist() == [-1, 0]
    assert _binary("right_shift", [255], [4], "uint8").tolist() == [15]
    assert _binary("power", [2, 3, -2], [10, 3, 3], "int32").tolist() == [1024, 27, -8]
    assert _binary("power", [1, -1, -1, 2, 0], [-2, -3, -2, -1, -1], "int32").tolist() == [
        1,
        -1,
        1,
        0,
        0,
    ]
    assert _binary("bitwise_and", [12], [10], "int32").tolist() == [8]
    assert _binary("bitwise_or", [12], [10], "int32").tolist() == [14]
    assert _binary("bitwise_xor", [12], [10], "int32").tolist() == [6]


@pytest.mark.spec("OP-4")
def test_unary_relations_and_patterns() -> None:
    f = relay.var("f", shape=(2, 3), dtype="float16")
    i = relay.var("i", shape=(2, 3), dtype="int32")
    for name in FLOAT_UNARY:
        assert infer(getattr(relay, name)(f)) == tt((2, 3), "float16"), name
        assert infer(getattr(relay, name)(i)) == tt((2, 3), "int32"), name
        assert Op.get(name).definition.pattern == OpPattern.ELEMWISE
    # On integers the math is done in float64 and truncated back (TVM types log(int) too).
    assert _unary("log", [1, 10, 100], "int32").tolist() == [0, 2, 4]
    assert _unary("exp", [0, 1, 2], "int64").tolist() == [1, 2, 7]
    assert _unary("sqrt", [4, 10], "uint8").tolist() == [2, 3]
    for name in ("abs", "negative", "sign", "floor", "ceil", "round", "trunc", "copy"):
        assert infer(getattr(relay, name)(i)) == tt((2, 3), "int32"), name
        assert Op.get(name).definition.pattern == OpPattern.ELEMWISE
    for name in ("isnan", "isinf", "isfinite"):
        assert infer(getattr(relay, name)(f)) == tt((2, 3), "bool")
    with pytest.raises(DiagnosticError, match="bitwise_not"):
        infer(relay.bitwise_not(f))
    with pytest.raises(DiagnosticError, match="negative"):
        infer(relay.negative(relay.var("b", shape=(1,), dtype="bool")))


@pytest.mark.spec("OP-4")
def test_unary_kernels_against_independent_values() -> None:
    xs = [-1.5, -0.5, 0.0, 0.5, 1.5, 2.5]
    assert _unary("round", xs, "float32").tolist() == [-2.0, -0.0, 0.0, 0.0, 2.0, 2.0]
    assert _unary("floor", xs, "float32").tolist() == [math.floor(v) for v in xs]
    assert _unary("ceil", xs, "float32").tolist() == [math.ceil(v) for v in xs]
    assert _unary("trunc", xs, "float32").tolist() == [math.trunc(v) for v in xs]
    assert _unary("sign", xs, "float32").tolist() == [-1, -1, 0, 1, 1, 1]
    assert _unary("round", [-3, 4], "int32").tolist() == [-3, 4]
    pos = [0.25, 0.5, 2.0]
    checks: dict[str, Callable[[float], float]] = {
        "exp": math.exp,
        "log": math.log,
        "log2": math.log2,
        "log10": math.log10,
        "sqrt": math.sqrt,
        "rsqrt": lambda v: 1 / math.sqrt(v),
        "erf": math.erf,
        "fast_erf": math.erf,
        "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
        "tanh": math.tanh,
        "sin": math.sin,
        "atan": math.atan,
        "acosh": lambda v: math.acosh(v + 1),
    }
    for name, fn in checks.items():
        arg = [v + 1 for v in pos] if name == "acosh" else pos
        got = _unary(name, arg, "float32")
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, [fn(v) for v in pos], rtol=1e-6, err_msg=name)
    assert _unary("logical_not", [True, False], "bool").tolist() == [False, True]
    with pytest.raises(DiagnosticError, match="logical_not: data must be bool"):
        infer(relay.logical_not(relay.var("n", shape=(2,), dtype="int32")))
    assert _unary("bitwise_not", [0, 5], "int8").tolist() == [-1, -6]
    assert _unary("isnan", [math.nan, 1.0, math.inf], "float32").tolist() == [1, 0, 0]
    assert _unary("isinf", [math.nan, 1.0, -math.inf], "float32").tolist() == [0, 0, 1]
    assert _unary("isfinite", [math.nan, 1.0, math.inf], "float32").tolist() == [0, 1, 0]
    assert _unary("isfinite", [3], "int32").tolist() == [True]
    assert _unary("ones_like", [3, 4], "int8").tolist() == [1, 1]
    assert _unary("zeros_like", [3.5], "float64").tolist() == [0.0]


@pytest.mark.spec("OP-5")
def test_clip() -> None:
    x = relay.var("x", shape=(5,))
    call = relay.clip(x, -1, 2.5)
    assert call.attrs == relay.op.op_attrs.ClipAttrs(-1.0, 2.5)
    assert infer(call) == tt((5,))
    out = evaluate(call, {x: [-3.0, -1.0, 0.0, 2.5, 9.0]})
    assert out.tolist() == [-1.0, -1.0, 0.0, 2.5, 2.5]
    xi = relay.var("xi", shape=(4,), dtype="int8")
    out = evaluate(relay.clip(xi, -1.7, 1000.0), {xi: [-100, -1, 5, 127]})
    assert out.dtype == np.int8
    assert out.tolist() == [-1, -1, 5, 127]
    assert evaluate(relay.clip(x, 3.0, 1.0), {x: [0.0, 2.0, 5.0, 1.0, 3.0]}).tolist() == [3.0] * 5
    assert Op.get("clip").definition.pattern == OpPattern.ELEMWISE


@pytest.mark.spec("OP-5")
def test_cast_family() -> None:
    x = relay.var("x", shape=(5,))
    c = relay.cast(x, "int32")
    assert infer(c) == tt((5,), "int32")
    vals = [-2.7, -0.5, 0.0, 0.9, 3.99]
    assert evaluate(c, {x: vals}).tolist() == [math.trunc(v) for v in vals]
    assert evaluate(relay.cast(x, "bool"), {x: vals}).tolist() == [v != 0 for v in vals]
    xi = relay.var("xi", shape=(3,), dtype="int32")
    assert evaluate(relay.cast(xi, "int8"), {xi: [127, 128, -129]}).tolist() == [127, -128, 127]
    assert evaluate(relay.cast(xi, "uint8"), {xi: [-1, 256, 3]}).tolist() == [255, 0, 3]
    like = relay.var("like", shape=(), dtype="float16")
    assert infer(relay.cast_like(xi, like)) == tt((3,), "float16")
    assert evaluate(relay.cast_like(xi, like), {xi: [1, 2, 3], like: 0}).dtype == np.float16
    r = relay.reinterpret(x, "int32")
    assert infer(r) == tt((5,), "int32")
    assert evaluate(r, {x: [1.0, 0, 0, 0, -2.0]}).tolist()[:2] == [0x3F800000, 0]
    with pytest.raises(DiagnosticError, match=r"reinterpret.*bit widths"):
        infer(relay.reinterpret(x, "int8"))
    with pytest.raises(DiagnosticError, match="float8"):
        relay.cast(x, "float8")
    bad = relay.Call(Op.get("cast"), [x], relay.op.op_attrs.CastAttrs("float8"))
    with pytest.raises(DiagnosticError, match=r"^cast: dtype must be one of"):
        infer(bad)
    for name in ("cast", "cast_like", "reinterpret"):
        assert Op.get(name).definition.pattern == OpPattern.ELEMWISE


@pytest.mark.spec("OP-6")
def test_shape_of_and_ndarray_size() -> None:
    x = relay.var("x", shape=(2, 3, 4))
    s = relay.shape_of(x)
    assert infer(s) == tt((3,), "int32")
    assert evaluate(s, {x: np.zeros((2, 3, 4))}).tolist() == [2, 3, 4]
    s64 = relay.shape_of(x, "int64")
    assert evaluate(s64, {x: np.zeros((2, 3, 4))}).dtype == np.int64
    n = relay.ndarray_size(x, dtype="int64")
    assert infer(n) == tt((), "int64")
    assert evaluate(n, {x: np.zeros((2, 3, 4))}).tolist() == 24
    assert infer(relay.shape_of(relay.var("s", shape=()))) == tt((0,), "int32")
    with pytest.raises(DiagnosticError, match="shape_of: dtype must be an integer"):
        infer(relay.shape_of(x, "float32"))
    assert Op.get("shape_of").definition.pattern == OpPattern.OPAQUE
    assert Op.get("ndarray_size").definition.pattern == OpPattern.INJECTIVE
