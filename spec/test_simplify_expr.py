"""SIMPEXPR: SimplifyExpr, TVM's pattern rewrites, on TVM's cases (test_pass_simplify_expr.py)."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay import transform
from minitvm.relay.expr import Call, Expr
from minitvm.relay.testing import count_ops, run_infer_type, run_opt_pass

SIMPLIFY = transform.SimplifyExpr


def simplify(expr: Expr) -> Expr:
    return run_opt_pass(expr, SIMPLIFY())


def check(before: Expr, expected: Expr) -> None:
    tvm.ir.assert_structural_equal(simplify(before), run_infer_type(expected))


def check_unchanged(before: Expr) -> None:
    check(before, before)


def evaluate(func: relay.Function, *args: np.ndarray) -> np.ndarray:
    mod = IRModule.from_expr(func)
    result = relay.create_executor("debug", mod=mod).evaluate()(*args)
    assert isinstance(result, tvm.nd.NDArray)
    return result.numpy()


@pytest.mark.spec("SIMPEXPR-1")
def test_pass_info_and_registration() -> None:
    p = SIMPLIFY()
    assert p.info.name == "SimplifyExpr"
    assert p.info.opt_level == 0
    assert p.info.required == ("InferType",)
    assert tvm.transform.get_pass("SimplifyExpr").info.name == "SimplifyExpr"
    post = transform.SimplifyExprPostAlterOp()
    assert (post.info.name, post.info.opt_level) == ("SimplifyExprPostAlterOp", 0)


@pytest.mark.spec("SIMPEXPR-1")
def test_untyped_module_input_untouched_and_result_typed() -> None:
    x = relay.var("x", shape=(2, 3))
    mod = IRModule.from_expr(relay.Function([x], relay.reshape(relay.reshape(x, (3, 2)), (6,))))
    text = mod.astext()
    out = SIMPLIFY()(mod)
    assert mod.astext() == text
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert main.checked_type_ is not None
    expected = relay.Function([x], relay.reshape(x, (6,)))
    tvm.ir.assert_structural_equal(main, run_infer_type(expected))


@pytest.mark.spec("SIMPEXPR-1")
def test_post_alter_op_subset() -> None:
    x = relay.var("x", shape=(2, 3))
    # Identity removal is in the subset; x + x -> x * 2 is not.
    y = relay.add(relay.add(x, relay.const(0.0)), relay.add(x, relay.const(0.0)))
    out = run_opt_pass(relay.Function([x], y), transform.SimplifyExprPostAlterOp())
    tvm.ir.assert_structural_equal(out, run_infer_type(relay.Function([x], relay.add(x, x))))


@pytest.mark.spec("SIMPEXPR-2")
def test_interior_node_used_elsewhere_blocks_the_rewrite() -> None:
    x = relay.var("x", shape=(2, 3))
    inner = relay.reshape(x, (3, 2))
    outer = relay.reshape(inner, (6,))
    before = relay.Function([x], relay.Tuple([outer, inner]))
    check_unchanged(before)
    # Without the second use, the two reshapes merge.
    check(relay.Function([x], outer), relay.Function([x], relay.reshape(x, (6,))))


@pytest.mark.spec("SIMPEXPR-2")
def test_rounds_stop_after_one_hundred_sweeps() -> None:
    # Each round merges pairs of additions of constants; TVM's bound of 100 callback sweeps
    # means five rounds: 40 additions become 20, 10, 5, 3, then 2.
    x = relay.var("x", shape=(2,))
    one = relay.const(np.ones(2, "float32"))
    y: Expr = x
    for _ in range(40):
        y = relay.add(y, one)
    once = simplify(relay.Function([x], y))
    assert count_ops(once)["add"] == 2
    twice = simplify(once)
    assert count_ops(twice)["add"] == 1
    data = np.array([0.5, -1.0], "float32")
    assert isinstance(once, relay.Function)
    np.testing.assert_array_equal(evaluate(once, data), data + 40)


@pytest.mark.spec("SIMPEXPR-2")
def test_commutative_matching_and_rewrites_inside_closures() -> None:
    x = relay.var("x", shape=(3,))
    p = relay.var("p", shape=(3,))
    inner = relay.Function([p], relay.multiply(relay.const(1.0), p))
    before = relay.Function([x], relay.Call(inner, [relay.add(relay.const(0.0), x)]))
    expected = relay.Function([x], relay.Call(relay.Function([p], p), [x]))
    check(before, expected)


@pytest.mark.spec("SIMPEXPR-3")
def test_concretize_like_operators() -> None:
    data = relay.var("data", shape=(2, 3, 4), dtype="float32")
    like = relay.var("shape_like", shape=(6, 2, 2), dtype="float32")
    check(relay.reshape_like(data, like), relay.reshape(data, (6, 2, 2)))
    check(
        relay.reshape_like(data, like, lhs_begin=2, rhs_begin=1),
        relay.reshape(data, (2, 3, 2, 2)),
    )
    ints = relay.var("ints", shape=(3, 4, 5), dtype="int32")
    check(relay.zeros_like(ints), relay.zeros((3, 4, 5), "int32"))
    check(relay.ones_like(ints), relay.ones((3, 4, 5), "int32"))
    fill = relay.var("fill", relay.TensorType((), "float32"))
    check(relay.full_like(ints, fill), relay.full(fill, (3, 4, 5), "int32"))
    cube = relay.var("cube", shape=(3, 3, 3), dtype="float32")
    vec = relay.var("vec", shape=(3,), dtype="float32")
    check(relay.collapse_sum_like(cube, vec), relay.collapse_sum_to(cube, (3,)))
    check(relay.broadcast_to_like(vec, cube), relay.broadcast_to(vec, (3, 3, 3)))
    check(relay.cast_like(cube, ints), relay.cast(cube, "int32"))


@pytest.mark.spec("SIMPEXPR-3")
def test_concretize_multiple() -> None:
    x = relay.var("x", shape=(2, 3), dtype="float32")
    y = relay.var("y", shape=(3,), dtype="float32")
    dl = relay.ones_like(x + y)
    dx, dy = relay.zeros_like(x), relay.zeros_like(y)
    before = relay.Tuple(
        [dx + relay.collapse_sum_like(dl, dx), dy + relay.collapse_sum_like(dl, dy)]
    )
    ones = relay.ones((2, 3), "float32")
    expected = relay.Tuple([relay.collapse_sum_to(ones, (2, 3)), relay.collapse_sum_to(ones, (3,))])
    check(before, expected)


@pytest.mark.spec("SIMPEXPR-4")
def test_simplify_add_and_rsqrt() -> None:
    x = relay.var("x", shape=(1, 3, 10, 10), dtype="float32")
    check(relay.add(x, x), relay.multiply(x, relay.const(2.0)))
    y = relay.var("y", shape=(32, 1, 1), dtype="float32")
    check(relay.const(1.0) / relay.sqrt(y), relay.rsqrt(y))
    for c in (2.0, 2.5):
        check(relay.const(c) / relay.sqrt(y), relay.const(c) * relay.rsqrt(y))


@pytest.mark.spec("SIMPEXPR-4")
def test_simplify_add_and_rsqrt_decline_where_wrong() -> None:
    b = relay.var("b", shape=(4,), dtype="bool")
    check_unchanged(relay.add(b, b))  # True + True is False, True * 2 would be True
    i = relay.var("i", shape=(4,), dtype="int32")
    check_unchanged(relay.divide(relay.const(1), relay.sqrt(i)))
    data = np.array([True, False, True, True])
    func = simplify(relay.Function([b], relay.add(b, b)))
    assert isinstance(func, relay.Function)
    np.testing.assert_array_equal(evaluate(func, data), data ^ data)


@pytest.mark.spec("SIMPEXPR-5")
def test_eliminate_identity() -> None:
    shape = [2, 3, 4]
    x = relay.var("x", shape=shape, dtype="float32")
    for make, make_like, op, const in [
        (relay.zeros, relay.zeros_like, relay.add, relay.const(0.0)),
        (relay.ones, relay.ones_like, relay.multiply, relay.const(1.0)),
    ]:
        for identity in (make_like(x), make(shape, "float32"), const, make(shape[1:], "float32")):
            check(op(identity, x), x)
            check(op(x, identity), x)
        check_unchanged(op(x, make([2, *shape], "float32")))  # the shape would change
        check_unchanged(op(make([2, *shape], "float32"), x))
    for make, make_like, op, const in [
        (relay.zeros, relay.zeros_like, relay.subtract, relay.const(0.0)),
        (relay.ones, relay.ones_like, relay.divide, relay.const(1.0)),
    ]:
        for identity in (make_like(x), make(shape, "float32"), const, make(shape[1:], "float32")):
            check(op(x, identity), x)
        check_unchanged(op(x, make([2, *shape], "float32")))
        # Only the right operand is an identity for subtract and divide.
        check(op(make(shape, "float32"), x), op(const, x))
        check(op(make_like(x), x), op(const, x))


@pytest.mark.spec("SIMPEXPR-5")
def test_eliminate_identity_reads_one_element_constants_only() -> None:
    x = relay.var("x", shape=(2, 3), dtype="float32")
    check(relay.add(x, relay.const(np.zeros((1, 1), "float32"))), x)
    check_unchanged(relay.add(x, relay.const(np.zeros((3,), "float32"))))
    check_unchanged(relay.multiply(x, relay.const(2.0)))
    i = relay.var("i", shape=(4,), dtype="int8")
    check(relay.multiply(i, relay.const(1, "int8")), i)
    check(relay.subtract(i, relay.const(0, "int8")), i)


def _full_elementwise_cases(shape: list[int], value: int, dtype: str) -> None:
    x = relay.var("x", shape=shape, dtype=dtype)
    const = relay.const(value, dtype)
    fulls = []
    if value == 0:
        fulls += [relay.zeros(shape, dtype), relay.zeros_like(x)]
    if value == 1:
        fulls += [relay.ones(shape, dtype), relay.ones_like(x)]
    else:
        fulls += [relay.full(const, shape), relay.full_like(x, const)]
    # A boolean constant of 2 is True, so it is a multiplicative identity.
    one = value == 1 or (value > 1 and dtype == "bool")
    for op in (relay.add, relay.multiply, relay.subtract, relay.divide):
        left_identity = (op is relay.add and value == 0) or (op is relay.multiply and one)
        right_identity = (op in (relay.add, relay.subtract) and value == 0) or (
            op in (relay.multiply, relay.divide) and one
        )
        for full in fulls:
            check(op(full, x), x if left_identity else op(const, x))
            check(op(x, full), x if right_identity else op(x, const))
    # A full of another shape (x broadcast to it) is left alone.
    big = shape * 2
    bigger = (
        relay.zeros(big, dtype)
        if value == 0
        else relay.ones(big, dtype)
        if value == 1
        else relay.full(const, big)
    )
    for op in (relay.add, relay.multiply, relay.subtract, relay.divide):
        check_unchanged(op(bigger, x))
        check_unchanged(op(x, bigger))


@pytest.mark.spec("SIMPEXPR-6")
@pytest.mark.parametrize("dtype", ["float32", "int32", "bool"])
@pytest.mark.parametrize("value", [0, 1, 2])
def test_simplify_full_elementwise(dtype: str, value: int) -> None:
    for shape in ([10], [2, 3]):
        _full_elementwise_cases(shape, value, dtype)


@pytest.mark.spec("SIMPEXPR-6")
def test_full_elementwise_declines_ill_typed_results() -> None:
    x = relay.var("x", shape=(2, 3), dtype="float32")
    # nn.bias_add is a broadcast operator, but needs a vector bias.
    check_unchanged(relay.nn.bias_add(x, relay.ones((3,), "float32"), axis=1))
    # A fill value of another dtype than the operation is not inlined.
    check_unchanged(relay.add(x, relay.full(relay.const(2, "int32"), (2, 3), "float32")))


@pytest.mark.spec("SIMPEXPR-7")
def test_simplify_mul_add() -> None:
    n = 32
    rng = np.random.default_rng(0)
    c1v, c2v, c3v = (rng.uniform(size=n).astype("float32") for _ in range(3))
    x = relay.var("x", shape=(n,), dtype="float32")
    c1, c2, c3 = relay.const(c1v), relay.const(c2v), relay.const(c3v)

    def each(origins: list[Expr], expected: Expr) -> None:
        for origin in origins:
            check(origin, expected)

    each([x + c1 + c2, c1 + x + c2], x + relay.const(c1v + c2v))
    each([x * c1 * c2, c1 * x * c2], x * relay.const(c1v * c2v))
    each(
        [(x + c1) * c2, (c1 + x) * c2, c2 * (x + c1), c2 * (c1 + x)],
        x * c2 + relay.const(c1v * c2v),
    )
    each(
        [(x + c1) * c2 + c3, c2 * (c1 + x) + c3, c3 + (x + c1) * c2, c3 + c2 * (c1 + x)],
        x * c2 + relay.const(c1v * c2v + c3v),
    )
    each(
        [(x * c1 + c2) * c3, (c2 + c1 * x) * c3, c3 * (x * c1 + c2), c3 * (c2 + c1 * x)],
        x * relay.const(c1v * c3v) + relay.const(c2v * c3v),
    )


@pytest.mark.spec("SIMPEXPR-7")
def test_constant_folding_is_bit_exact_and_keeps_constants_alone() -> None:
    x = relay.var("x", shape=(3,), dtype="float16")
    a = np.array([0.1, 1e-3, 3.3], "float16")
    b = np.array([7.7, 0.3, -2.2], "float16")
    out = simplify(x * relay.const(a) * relay.const(b))
    assert isinstance(out, Call)
    folded = out.args[1]
    assert isinstance(folded, relay.Constant)
    assert folded.data.numpy().tobytes() == (a * b).tobytes()
    # A constant operand on the left of a constant chain is not reassociated.
    check_unchanged(relay.const(a) + relay.const(b) + relay.const(a))
    i = relay.var("i", shape=(2,), dtype="int32")
    big = relay.const(np.array([2**30, 3], "int32"))
    check((i + big) * relay.const(4), i * relay.const(4) + relay.const(np.array([0, 12], "int32")))


@pytest.mark.spec("SIMPEXPR-8")
@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_binomials(dtype: str) -> None:
    x = relay.var("x", shape=(5,), dtype=dtype)
    y = relay.var("y", shape=(5,), dtype=dtype)

    def c(v: int) -> Expr:
        return relay.const(v, dtype)

    # a = b / 2 = c = 1: one factor, shared.
    s = x + y
    check(x * x + c(2) * x * y + y * y, s * s)
    check(x * x + y * c(2) * x + y * y, s * s)
    # The terms in another order bind the pattern's x to y.
    t = y + x
    check(y * y + x * c(2) * y + x * x, t * t)
    # 6x^2 + 5xy + y^2 = (y + 3x)(y + 2x): x and y swap since c == 1 < a.
    check(
        c(6) * x * x + c(5) * x * y + y * y,
        (y + x * c(3)) * (y + x * c(2)),
    )
    # x^2 + xy + y^2 has no real factors.
    check_unchanged(x * x + x * y + y * y)
    # x^2 + 4xy + 4y^2 = (x + 2y)^2.
    double = x + y * c(2)
    out = simplify(x * x + c(4) * x * y + c(4) * y * y)
    tvm.ir.assert_structural_equal(out, run_infer_type(double * double))


@pytest.mark.spec("SIMPEXPR-8")
def test_binomial_with_irrational_factors() -> None:
    x = relay.var("x", shape=(4,), dtype="int32")
    y = relay.var("y", shape=(4,), dtype="int32")
    # 3^2 - 4 = 5 is not a square: integer factors do not exist, nothing changes.
    check_unchanged(x * x + relay.const(3) * x * y + y * y)
    xf = relay.var("xf", shape=(4,), dtype="float32")
    yf = relay.var("yf", shape=(4,), dtype="float32")
    before = relay.Function([xf, yf], xf * xf + relay.const(3.0) * xf * yf + yf * yf)
    after = simplify(before)
    assert isinstance(after, relay.Function)
    assert count_ops(after)["add"] == 2
    a = np.array([0.5, -1.0, 2.0, 0.0], "float32")
    b = np.array([1.5, 0.25, -1.0, 3.0], "float32")
    np.testing.assert_allclose(evaluate(after, a, b), evaluate(before, a, b), rtol=1e-5)


@pytest.mark.spec("SIMPEXPR-9")
def test_simplify_reshape() -> None:
    def conv(x: Expr, w: Expr) -> Expr:
        return relay.nn.conv2d(x, w, padding=(1, 1))

    x = relay.var("x", shape=(1, 16, 16, 16), dtype="float32")
    w = relay.var("w", shape=(32, 16, 3, 3), dtype="float32")
    y = relay.reshape(conv(x, w), newshape=(1, 16, -1))
    y = relay.reshape(y, newshape=(4, 8, -1, 16))
    y = relay.reshape(y, newshape=(32, 16, -1))
    check(
        relay.Function([x, w], y), relay.Function([x, w], relay.reshape(conv(x, w), (32, 16, 16)))
    )


def _lt(data: Expr, src: str, dst: str) -> Call:
    return relay.layout_transform(data, src, dst)


def _transpose_cases() -> list[tuple[Expr, Expr]]:
    cases: list[tuple[Expr, Expr]] = []
    x = relay.var("x", shape=(1, 3, 8, 8), dtype="float32")
    y = relay.transpose(x, axes=[0, 2, 3, 1])
    y = _lt(y, "NHWC", "HWCN")
    cases.append((relay.transpose(y, axes=[3, 0, 1, 2]), relay.transpose(x, axes=[0, 2, 3, 1])))
    r = relay.nn.relu(x)
    y = relay.transpose(
        relay.transpose(relay.transpose(r, [0, 2, 3, 1]), [1, 2, 3, 0]), [3, 2, 0, 1]
    )
    cases.append((y, r))
    y = relay.transpose(relay.transpose(r))
    y = relay.transpose(relay.transpose(relay.transpose(y, axes=[0, 2, -1, 1])))
    cases.append((y, relay.transpose(r, axes=[0, 2, 3, 1])))
    # Rank-changing layout transforms fold with the transposes around them.
    n = relay.var("n", shape=(1, 6, 6, 8), dtype="float32")
    y = _lt(relay.transpose(n, axes=[0, 3, 1, 2]), "NCHW", "NCHW4c")
    y = relay.transpose(_lt(relay.nn.relu(y), "NCHW4c", "NCHW"), [0, 2, 3, 1])
    z = _lt(relay.nn.relu(_lt(n, "NHWC", "NCHW4c")), "NCHW4c", "NHWC")
    cases.append((y, z))
    y = _lt(_lt(n, "NHWC", "NCHW"), "NCHW", "NCHW4c")
    y = _lt(_lt(relay.nn.relu(y), "NCHW4c", "NCHW"), "NCHW", "NHWC")
    cases.append((y, z))
    c = relay.var("c", shape=(1, 8, 6, 6), dtype="float32")
    y = relay.nn.relu(_lt(_lt(c, "NCHW", "NHWC"), "NHWC", "NCHW"))
    cases.append((y, relay.nn.relu(c)))
    b = relay.var("b", shape=(1, 4, 6, 6, 4), dtype="float32")
    y = _lt(_lt(b, "NCHW4c", "NCHW8c"), "NCHW8c", "NCHW4c")
    cases.append((relay.nn.relu(y), relay.nn.relu(b)))
    y = _lt(_lt(b, "NCHW4c", "NCHW"), "NCHW", "NCHW8c")
    cases.append((relay.nn.relu(y), relay.nn.relu(_lt(b, "NCHW4c", "NCHW8c"))))
    y = _lt(_lt(c, "NCHW", "NCHW4c"), "NCHW4c", "NCHW")
    cases.append((relay.nn.relu(y), relay.nn.relu(c)))
    y = _lt(_lt(c, "NCHW", "NHWC"), "NHWC", "CHWN")
    cases.append((relay.nn.relu(y), relay.nn.relu(relay.transpose(c, axes=[1, 2, 3, 0]))))
    y = _lt(relay.nn.relu(relay.transpose(c, axes=[0, 1, 2, 3])), "NCHW", "NCHW")
    cases.append((y, relay.nn.relu(c)))
    return cases


@pytest.mark.spec("SIMPEXPR-10")
@pytest.mark.parametrize("index", range(11))
def test_simplify_transpose(index: int) -> None:
    before, expected = _transpose_cases()[index]
    check(before, expected)
    func = relay.Function(relay.analysis.free_vars(before), before)
    after = simplify(func)
    assert isinstance(after, relay.Function)
    rng = np.random.default_rng(index)
    data = [rng.uniform(size=_shape(p)).astype("float32") for p in func.params]
    np.testing.assert_array_equal(evaluate(after, *data), evaluate(func, *data))


def _shape(var: relay.Var) -> tuple[int, ...]:
    ty = var.type_annotation
    assert isinstance(ty, relay.TensorType)
    return ty.shape


@pytest.mark.spec("SIMPEXPR-10")
def test_layout_merges_that_would_move_data_wrongly_are_kept() -> None:
    b = relay.var("b", shape=(1, 4, 6, 6, 4), dtype="float32")
    # NCHW4c -> NCHW8c -> NCHW2c is not a permutation: TVM's axis arithmetic would drop both.
    y = relay.layout_transform(relay.layout_transform(b, "NCHW4c", "NCHW8c"), "NCHW8c", "NCHW2c")
    check_unchanged(y)
    # A lone identity transpose and an identity layout transform disappear.
    x = relay.var("x", shape=(3,), dtype="float32")
    check(relay.transpose(x), x)
    check(relay.layout_transform(relay.nn.relu(b), "NCHW4c", "NCHW4c"), relay.nn.relu(b))


@pytest.mark.spec("SIMPEXPR-11")
def test_simplify_same_cast() -> None:
    data = relay.var("data", shape=(3, 4, 5), dtype="int32")
    like = relay.var("dtype_like", shape=(2, 2, 2), dtype="int32")
    check(relay.cast(data, "int32"), data)
    check(relay.cast_like(data, like), data)


@pytest.mark.spec("SIMPEXPR-11")
def test_simplify_consecutive_cast() -> None:
    x = relay.var("x", shape=(3, 4, 5), dtype="int8")
    y = relay.var("y", shape=(3, 4), dtype="int64")
    z = relay.var("z", shape=(3,), dtype="float32")
    e1 = relay.cast(x, "int16")
    e2 = relay.cast(e1, "int32")
    e3 = relay.cast_like(e2, y)
    e4 = relay.cast_like(e3, z)
    check(e2, relay.cast(x, "int32"))
    check(e3, relay.cast(x, "int64"))
    check(e4, relay.cast(x, "float32"))
    # A narrowing cast stays.
    f = relay.var("f", shape=(3, 4, 5), dtype="float32")
    g = relay.var("g", shape=(3, 4), dtype="float32")
    narrow = relay.cast(f, "int32")
    check(relay.cast_like(narrow, g), relay.cast(narrow, "float32"))
    wide = relay.var("wide", shape=(3, 4), dtype="int64")
    check_unchanged(relay.cast(relay.cast(wide, "bool"), "int32"))


@pytest.mark.spec("SIMPEXPR-11")
def test_consecutive_casts_that_change_values_stay() -> None:
    x = relay.var("x", shape=(3,), dtype="int8")
    # int8 -> uint16 wraps negatives; TVM's hierarchy calls it widening.
    through_unsigned = relay.cast(relay.cast(x, "uint16"), "int32")
    check_unchanged(through_unsigned)
    i = relay.var("i", shape=(3,), dtype="int32")
    # int32 -> float32 rounds above 2**24.
    check_unchanged(relay.cast(relay.cast(i, "float32"), "int64"))
    check(relay.cast(relay.cast(i, "float64"), "int64"), relay.cast(i, "int64"))
    func = relay.Function([x], through_unsigned)
    data = np.array([-1, 5, -128], "int8")
    np.testing.assert_array_equal(evaluate(simplify_func(func), data), [65535, 5, 65408])


def simplify_func(func: relay.Function) -> relay.Function:
    out = simplify(func)
    assert isinstance(out, relay.Function)
    return out


def _clip_cast_cases() -> list[tuple[Expr, Expr]]:
    xi = relay.var("xi", shape=(4, 8), dtype="int32")
    xf = relay.var("xf", shape=(4, 8), dtype="float32")
    clip_i = relay.clip(xi, a_min=0.0, a_max=255.0)
    clip_f = relay.clip(xf, a_min=0.0, a_max=255.0)
    return [
        (relay.cast(relay.cast(clip_i, "uint8"), "int32"), clip_i),
        (relay.cast(relay.cast(relay.cast(clip_i, "uint8"), "int16"), "int32"), clip_i),
        (
            relay.cast(relay.cast(relay.cast(clip_f, "uint8"), "int16"), "int32"),
            relay.cast(clip_f, "int32"),
        ),
        (
            relay.cast(relay.cast(relay.cast(clip_f, "int8"), "int16"), "int32"),
            relay.cast(relay.cast(clip_f, "int8"), "int32"),
        ),
    ]


@pytest.mark.spec("SIMPEXPR-12")
@pytest.mark.parametrize("index", range(4))
def test_simplify_clip_and_consecutive_casts(index: int) -> None:
    before, expected = _clip_cast_cases()[index]
    func = relay.Function(relay.analysis.free_vars(before), before)
    check(func, relay.Function(func.params, expected))
    data = np.random.default_rng(index).uniform(-300, 300, size=(4, 8))
    arg = data.astype(_type(func.params[0]).dtype)
    np.testing.assert_array_equal(evaluate(simplify_func(func), arg), evaluate(func, arg))


def _type(var: relay.Var) -> relay.TensorType:
    ty = var.type_annotation
    assert isinstance(ty, relay.TensorType)
    return ty


@pytest.mark.spec("SIMPEXPR-12")
def test_clip_cast_chains_that_would_change_values_stay() -> None:
    x = relay.var("x", shape=(4,), dtype="float32")
    # A float clipped to [0.5, 2.5], truncated by int8, back to float: dropping the int8 cast
    # would keep the fraction.
    chain = relay.cast(relay.cast(relay.clip(x, a_min=0.5, a_max=2.5), "int8"), "float32")
    check_unchanged(chain)
    i = relay.var("i", shape=(4,), dtype="int32")
    # int8 wraps 200 to -56; dropping the uint8 cast after it would keep -56.
    wrap = relay.cast(
        relay.cast(relay.cast(relay.clip(i, a_min=0.0, a_max=255.0), "int8"), "uint8"), "int32"
    )
    check_unchanged(wrap)


@pytest.mark.spec("SIMPEXPR-12")
def test_simplify_clip() -> None:
    xi = relay.var("xi", shape=(4, 8), dtype="int32")
    cast = relay.cast(xi, "uint8")
    check(relay.clip(cast, a_min=0.0, a_max=255.0), cast)
    xu = relay.var("xu", shape=(4, 8), dtype="uint8")
    check(relay.clip(xu, a_min=-1.0, a_max=300.0), xu)
    half = relay.cast(relay.var("xf", shape=(4, 8), dtype="float32"), "float16")
    check_unchanged(relay.clip(half, a_min=-0.2, a_max=0.4))
    # A finite bound, even float32's largest value, clips an infinity: the clip stays.
    f = relay.var("f", shape=(2,), dtype="float32")
    big = float(np.finfo("float32").max)
    check_unchanged(relay.clip(f, a_min=-big, a_max=big))
    check(relay.clip(f, a_min=-np.inf, a_max=np.inf), f)


@pytest.mark.spec("SIMPEXPR-13")
def test_deep_chain_at_default_recursion_limit() -> None:
    depth = 100_000
    x = relay.var("x", shape=(2,), dtype="float32")
    y: Expr = x
    for i in range(depth):
        y = relay.negative(y) if i % 2 else relay.reshape(y, (2,))
    func = relay.Function([x], y)
    out = simplify_func(func)
    # Consecutive reshapes never meet (negations separate them) and nothing else applies.
    assert count_ops(out)["negative"] == depth // 2
    body = out.body
    assert isinstance(body, Call)
