"""FOLD: FoldConstant."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.op import OpDef, identity_rel, register_op, register_op_attr
from minitvm.ir.type import Type
from minitvm.relay.expr import Expr
from minitvm.relay.testing import run_infer_type, run_opt_pass
from minitvm.relay.transform import FoldConstant, FoldConstantExpr
from minitvm.relay.transform.fold_constant import MAX_ELEMENTS_CONFIG

_CALLS: list[str] = []


def _recording_kernel(attrs: Any, args: list[Any], out_type: Type) -> Any:
    """An identity kernel that records that it ran."""
    _CALLS.append("ran")
    return np.array(args[0])


# A pure operator whose evaluations the tests can count.
COUNTED = register_op(
    OpDef("spec_fold.counted", num_inputs=1, type_rel=identity_rel, kernel=_recording_kernel)
)
# An operator marked non-computational; the second one also carries the QNN canonicalization.
NONCOMP = register_op(
    OpDef(
        "spec_fold.noncomp",
        num_inputs=1,
        type_rel=identity_rel,
        kernel=_recording_kernel,
        non_computational=True,
    )
)
QNN_LIKE = register_op(
    OpDef(
        "spec_fold.qnn_like",
        num_inputs=1,
        type_rel=identity_rel,
        kernel=_recording_kernel,
        non_computational=True,
    )
)
register_op_attr("spec_fold.qnn_like", "FTVMQnnCanonicalize", lambda *args: None)


def fold(expr: Expr, **options: bool) -> Expr:
    return run_opt_pass(expr, FoldConstant(**options))


def check(before: Expr, expected: Expr) -> None:
    tvm.ir.assert_structural_equal(fold(before), run_infer_type(expected))


def _evaluate(expr: Expr) -> Any:
    return relay.create_executor().evaluate(expr)


@pytest.mark.spec("FOLD-1")
def test_fold_pass_is_registered_function_pass_at_level_2() -> None:
    p = FoldConstant()
    assert p.info.name == "FoldConstant"
    assert p.info.opt_level == 2
    assert tvm.transform.get_pass("FoldConstant").info.name == "FoldConstant"
    with tvm.transform.PassContext(opt_level=1):
        c = relay.const(np.ones(3, "float32"))
        mod = IRModule.from_expr(relay.Function([], c + c))
        skipped = tvm.transform.Sequential([FoldConstant()])(mod)
    assert isinstance(skipped["main"], relay.Function)
    assert isinstance(skipped["main"].body, relay.Call)


@pytest.mark.spec("FOLD-1", "FOLD-6")
def test_fold_const_under_any_target() -> None:
    c_data = np.array([1, 2, 3]).astype("float32")
    t = relay.TensorType([1, 2, 3], "float32")

    def before() -> Expr:
        c = relay.const(c_data)
        x = relay.var("x", t)
        y = relay.multiply(relay.add(c, c), relay.const(2, "float32"))
        return relay.Function([x], relay.add(relay.add(x, y), c))

    def expected() -> Expr:
        x = relay.var("x", t)
        y = relay.add(x, relay.const((c_data + c_data) * 2))
        return relay.Function([x], relay.add(y, relay.const(c_data)))

    with tvm.target.Target("cuda"):
        on_cuda = fold(before())
    tvm.ir.assert_structural_equal(on_cuda, run_infer_type(expected()))
    tvm.ir.assert_structural_equal(fold(before()), on_cuda)


@pytest.mark.spec("FOLD-1")
def test_concatenate_keeps_float64() -> None:
    data = tvm.nd.array(np.array([1.0, 2.0, 3.0]))
    const = relay.const(data)
    before = relay.Function([], relay.concatenate([const, const], axis=0))
    folded = tvm.nd.array(np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0]))
    check(before, relay.Function([], relay.const(folded)))
    out = fold(before)
    assert isinstance(out, relay.Function)
    assert isinstance(out.body, relay.Constant)
    assert out.body.data.dtype == "float64"


@pytest.mark.spec("FOLD-1")
def test_fold_concat() -> None:
    c_data = np.array([[1, 2, 3]]).astype("float32")
    before = relay.Function([], relay.concatenate((relay.const(c_data), relay.const(c_data)), 0))
    expected = relay.Function([], relay.const(np.concatenate((c_data, c_data), axis=0)))
    check(before, expected)


@pytest.mark.spec("FOLD-1")
def test_folded_values_are_bit_identical_to_the_interpreter() -> None:
    rng = np.random.default_rng(0)
    a = relay.const(rng.uniform(-2, 2, (4, 5)).astype("float32"))
    b = relay.const(rng.uniform(-2, 2, (5,)).astype("float32"))
    expr = relay.sum(relay.exp(a) * relay.tanh(b), axis=1) / relay.const(3.0)
    expr = relay.nn.softmax(relay.cast(expr, "float64"))
    want = _evaluate(expr).numpy()
    out = fold(relay.Function([], expr))
    assert isinstance(out, relay.Function)
    assert isinstance(out.body, relay.Constant)
    got = out.body.data.numpy()
    assert got.dtype == want.dtype == np.float64
    assert got.tobytes() == want.tobytes()


@pytest.mark.spec("FOLD-1")
def test_multi_output_result_is_a_tuple_of_constants() -> None:
    data = np.arange(6, dtype="int32")
    parts = relay.split(relay.const(data), 3)
    x = relay.var("x", shape=(2,), dtype="int32")
    before = relay.Function([x], relay.Tuple([parts.astuple(), parts[1] + x]))
    pieces = [relay.const(p) for p in np.split(data, 3)]
    expected = relay.Function([x], relay.Tuple([relay.Tuple(pieces), pieces[1] + x]))
    check(before, expected)


@pytest.mark.spec("FOLD-1")
def test_tuple_of_constants_is_a_constant_argument() -> None:
    a = relay.const(np.ones((1, 2), "float32"))
    b = relay.const(np.zeros((1, 2), "float32"))
    nested = relay.concatenate(relay.Tuple([a, b]), axis=0)
    before = relay.Function([], nested)
    check(before, relay.Function([], relay.const(np.array([[1, 1], [0, 0]], "float32"))))


@pytest.mark.spec("FOLD-1")
def test_fold_constant_expr() -> None:
    c = relay.const(np.array([1, 2], "int32"))
    x = relay.var("x", shape=(2,), dtype="int32")
    out = FoldConstantExpr(x + (c + c), IRModule())
    assert isinstance(out, relay.Call)
    assert out.args[0] is x
    folded = out.args[1]
    assert isinstance(folded, relay.Constant)
    np.testing.assert_array_equal(folded.data.numpy(), [2, 4])


@pytest.mark.spec("FOLD-2")
def test_stateful_ops_are_not_folded() -> None:
    data = relay.const(np.arange(10).astype(np.float32))
    before = relay.Function([], relay.nn.dropout(data) + relay.const(1.0))
    tvm.ir.assert_structural_equal(fold(before), run_infer_type(before))


@pytest.mark.spec("FOLD-2")
def test_calls_without_arguments_and_of_functions_are_not_folded() -> None:
    zeros = relay.zeros((2, 2), "float32")
    c = relay.const(np.ones((2, 2), "float32"))
    p = relay.var("p", shape=(2, 2))
    closure = relay.Function([p], p + p)
    before = relay.Function([], relay.Tuple([zeros, closure(c), relay.zeros_like(c)]))
    expected = relay.Function(
        [], relay.Tuple([zeros, closure(c), relay.const(np.zeros((2, 2), "float32"))])
    )
    check(before, expected)


@pytest.mark.spec("FOLD-2")
def test_calls_of_globals_are_not_folded() -> None:
    mod = IRModule()
    p = relay.var("p", shape=(2,))
    mod["double"] = relay.Function([p], p + p)
    c = relay.const(np.ones(2, "float32"))
    mod["main"] = relay.Function([], mod.get_global_var("double")(c + c))
    out = FoldConstant()(relay.transform.InferType()(mod))
    main = out["main"]
    assert isinstance(main, relay.Function)
    call = main.body
    assert isinstance(call, relay.Call)
    assert isinstance(call.op, relay.GlobalVar)
    assert isinstance(call.args[0], relay.Constant)


@pytest.mark.spec("FOLD-2")
def test_non_computational_ops_fold_only_with_fold_qnn_and_qnn_canonicalization() -> None:
    c = relay.const(np.ones(2, "float32"))
    noncomp = relay.Call(NONCOMP, [c])
    qnn_like = relay.Call(QNN_LIKE, [c])
    before = relay.Function([], relay.Tuple([noncomp, qnn_like]))
    _CALLS.clear()
    tvm.ir.assert_structural_equal(fold(before), run_infer_type(before))
    tvm.ir.assert_structural_equal(
        fold(before, fold_qnn=True), run_infer_type(relay.Function([], relay.Tuple([noncomp, c])))
    )
    assert _CALLS == ["ran"]


@pytest.mark.spec("FOLD-3")
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_fold_shape_of_and_ndarray_size_from_types(dtype: str) -> None:
    shape = (8, 9, 10)

    def before(op: Any) -> Expr:
        x = relay.var("x", shape=shape, dtype="float32")
        y = relay.var("y", shape=shape, dtype="float32")
        return relay.Function([x, y], op(x + y, dtype))

    def expected(value: Any) -> Expr:
        x = relay.var("x", shape=shape, dtype="float32")
        y = relay.var("y", shape=shape, dtype="float32")
        return relay.Function([x, y], relay.const(np.array(value).astype(dtype), dtype=dtype))

    check(before(relay.shape_of), expected(shape))
    check(before(relay.ndarray_size), expected(8 * 9 * 10))


@pytest.mark.spec("FOLD-3")
def test_shape_of_rank_0_gives_what_the_operator_computes() -> None:
    x = relay.var("x", shape=(), dtype="float32")
    before = relay.Function([x], relay.Tuple([relay.shape_of(x), relay.ndarray_size(x)]))
    out = fold(before)
    assert isinstance(out, relay.Function)
    want = relay.create_executor().evaluate(before)(np.float32(1.0))
    assert isinstance(out.body, relay.Tuple)
    for got, ref in zip(out.body.fields, want, strict=True):
        assert isinstance(got, relay.Constant)
        np.testing.assert_array_equal(got.data.numpy(), ref.numpy())
        assert got.data.shape == ref.numpy().shape
    assert want[0].numpy().shape == (0,)


@pytest.mark.spec("FOLD-3")
def test_shape_of_untyped_argument_stays() -> None:
    x = relay.var("x", shape=(2, 3))
    call = relay.shape_of(x + x)
    out = FoldConstantExpr(call, IRModule())
    assert out is call
    c = relay.const(np.ones((4, 5), "float32"))
    folded = FoldConstantExpr(relay.shape_of(c), IRModule())
    assert isinstance(folded, relay.Constant)
    np.testing.assert_array_equal(folded.data.numpy(), [4, 5])


@pytest.mark.spec("FOLD-4")
def test_fold_let() -> None:
    c_data = np.array(1).astype("float32")
    t = relay.TensorType([1], "float32")

    def before() -> Expr:
        sb = relay.ScopeBuilder()
        x = relay.var("x", t)
        t1 = sb.let("t1", relay.const(c_data))
        t2 = sb.let("t2", relay.add(t1, t1))
        t3 = sb.let("t3", relay.add(t2, x))
        sb.ret(t3)
        return relay.Function([x], sb.get())

    def expected() -> Expr:
        sb = relay.ScopeBuilder()
        x = relay.var("x", t)
        t3 = sb.let("t3", relay.add(relay.const(c_data + c_data), x))
        sb.ret(t3)
        return relay.Function([x], sb.get())

    check(before(), expected())


@pytest.mark.spec("FOLD-4")
def test_let_bound_constant_replaces_every_use_with_one_node() -> None:
    x = relay.var("x", shape=(2,))
    v = relay.var("v")
    c = relay.const(np.array([1.0, 2.0], "float32"))
    before = relay.Function([x], relay.Let(v, c, relay.Tuple([x + v, x * v])))
    out = fold(before)
    assert isinstance(out, relay.Function)
    body = out.body
    assert isinstance(body, relay.Tuple)
    first, second = body.fields
    assert isinstance(first, relay.Call)
    assert isinstance(second, relay.Call)
    assert first.args[1] is second.args[1]
    check(before, relay.Function([x], relay.Tuple([x + c, x * c])))


@pytest.mark.spec("FOLD-4")
def test_fold_tuple_projection() -> None:
    c_data = np.array(1).astype("float32")
    t = relay.TensorType([1], "float32")

    def before() -> Expr:
        c = relay.const(c_data)
        x = relay.var("x", t)
        y = relay.Tuple([x, c])
        return relay.Function([x], relay.add(relay.add(y[1], c), y[0]))

    def expected() -> Expr:
        x = relay.var("x", t)
        return relay.Function([x], relay.add(relay.const(c_data + c_data), x))

    # y[i] on a Tuple node is the field itself (IR-4); build projections explicitly.
    c = relay.const(c_data)
    x = relay.var("x", t)
    y = relay.Tuple([x, c])
    explicit = relay.Function(
        [x], relay.add(relay.add(relay.TupleGetItem(y, 1), c), relay.TupleGetItem(y, 0))
    )
    check(before(), expected())
    check(explicit, expected())


@pytest.mark.spec("FOLD-4")
@pytest.mark.parametrize("cond", [True, False])
def test_fold_if(cond: bool) -> None:
    x_data = np.array([[1, 2, 3]]).astype("float32")
    a = relay.const(np.array(cond))
    x = relay.const(x_data)
    y = relay.const(x_data)
    before = relay.Function([], relay.If(a, x + y, x - y))
    value = x_data + x_data if cond else x_data - x_data
    check(before, relay.Function([], relay.const(value)))


@pytest.mark.spec("FOLD-4")
def test_untaken_branch_is_not_evaluated() -> None:
    c = relay.const(np.ones(2, "float32"))
    before = relay.Function([], relay.If(relay.const(True), c + c, relay.Call(COUNTED, [c])))
    _CALLS.clear()
    check(before, relay.Function([], relay.const(np.full(2, 2.0, "float32"))))
    assert _CALLS == []


@pytest.mark.spec("FOLD-5")
def test_primitive_function_bodies_are_untouched() -> None:
    c = relay.const(np.ones(2, "float32"))
    p = relay.var("p", shape=(2,))
    prim = relay.Function([p], p + (c + c)).with_attr("Primitive", 1)
    q = relay.var("q", shape=(2,))
    plain = relay.Function([q], q + (c + c))
    x = relay.var("x", shape=(2,))
    before = relay.Function([x], relay.Tuple([prim(x), plain(x)]))
    plain_folded = relay.Function([q], q + relay.const(np.full(2, 2.0, "float32")))
    check(before, relay.Function([x], relay.Tuple([prim(x), plain_folded(x)])))
    out = fold(before)
    assert isinstance(out, relay.Function)
    assert isinstance(out.body, relay.Tuple)
    call = out.body.fields[0]
    assert isinstance(call, relay.Call)
    assert isinstance(call.op, relay.Function)
    inner = call.op.body
    assert isinstance(inner, relay.Call)
    assert isinstance(inner.args[1], relay.Call)
    assert all(isinstance(a, relay.Constant) for a in inner.args[1].args)  # still a call


@pytest.mark.spec("FOLD-7")
def test_max_elements_bounds_folded_constants() -> None:
    assert tvm.transform.PassContext.list_configs()[MAX_ELEMENTS_CONFIG] == "int"
    assert tvm.transform.PassContext().get_config(MAX_ELEMENTS_CONFIG) == 1 << 26
    c = relay.const(np.float32(1.0))
    before = relay.Function([], relay.broadcast_to(c, (4, 4)) + relay.const(1.0))
    big = relay.Function([], relay.const(np.full((4, 4), 2.0, "float32")))
    for bound, folded in ((15, False), (16, True), (0, True), (-1, True)):
        with tvm.transform.PassContext(config={MAX_ELEMENTS_CONFIG: bound}):
            out = fold(before)
        expected = big if folded else before
        tvm.ir.assert_structural_equal(out, run_infer_type(expected))


@pytest.mark.spec("FOLD-7")
def test_max_elements_counts_all_fields_of_a_tuple_result() -> None:
    parts = relay.split(relay.const(np.arange(8, dtype="int32")), 2).astuple()
    before = relay.Function([], parts)
    with tvm.transform.PassContext(config={MAX_ELEMENTS_CONFIG: 7}):
        tvm.ir.assert_structural_equal(fold(before), run_infer_type(before))
    with tvm.transform.PassContext(config={MAX_ELEMENTS_CONFIG: 8}):
        out = fold(before)
    assert isinstance(out, relay.Function)
    assert isinstance(out.body, relay.Tuple)


@pytest.mark.spec("FOLD-8")
def test_evaluation_errors_are_left_for_run_time() -> None:
    empty = relay.const(np.zeros((0,), "float32"))
    index = relay.const(np.array([0], "int32"))
    x = relay.var("x", "bool")
    bad = relay.take(empty, index)  # taking from an empty axis raises when it runs
    before = relay.Function([x], relay.If(x, bad, relay.const(np.zeros(1, "float32"))))
    out = fold(before)
    tvm.ir.assert_structural_equal(out, run_infer_type(before))
    run = relay.create_executor(mod=IRModule.from_expr(out)).evaluate()
    np.testing.assert_array_equal(run(False).numpy(), [0.0])
    with pytest.raises(TVMError, match="extent 0"):
        run(True)


@pytest.mark.spec("FOLD-9")
def test_input_is_unchanged_and_constants_are_never_written() -> None:
    data = np.arange(3, dtype="float32")
    c = relay.const(tvm.nd.array(data))  # a writable array
    x = relay.var("x", shape=(3,))
    mod = relay.transform.InferType()(IRModule.from_expr(relay.Function([x], x + (c + c))))
    text = mod.astext()
    functions = mod.functions
    out = FoldConstant()(mod)
    assert mod.functions == functions
    assert mod.astext() == text
    assert out["main"] is not mod["main"]
    np.testing.assert_array_equal(c.data.numpy(), data)


@pytest.mark.spec("FOLD-9")
@pytest.mark.slow
def test_deep_call_and_let_chains() -> None:
    t = relay.TensorType((2,), "float32")
    x = relay.var("x", t)
    one = relay.const(np.ones(2, "float32"))
    chain: Expr = x + (one + one)
    for _ in range(100_000):
        chain = relay.negative(chain)
    out = FoldConstantExpr(chain, IRModule())
    depth = 0
    while isinstance(out, relay.Call) and out.op == relay.op.get("negative"):
        out, depth = out.args[0], depth + 1
    assert depth == 100_000
    tvm.ir.assert_structural_equal(out, x + relay.const(np.full(2, 2.0, "float32")))

    # let v0 = 1; let v1 = -v0; let v2 = x + v1; let v3 = -v2; ...: the constant prefix folds
    vs = [relay.var(f"v{i}", t) for i in range(100_000)]
    body: Expr = vs[-1]
    for i in range(len(vs) - 1, -1, -1):
        value = one if i == 0 else (x + vs[1] if i == 2 else relay.negative(vs[i - 1]))
        body = relay.Let(vs[i], value, body)
    first = FoldConstantExpr(body, IRModule())
    assert isinstance(first, relay.Let)
    assert first.var is vs[2]
    assert isinstance(first.value, relay.Call)
    minus_one = first.value.args[1]
    assert isinstance(minus_one, relay.Constant)
    np.testing.assert_array_equal(minus_one.data.numpy(), [-1.0, -1.0])
    assert isinstance(first.body, relay.Let)
    assert first.body.var is vs[3]


@pytest.mark.spec("FOLD-9")
def test_long_chain_of_folded_calls() -> None:
    x = relay.var("x", shape=(2,))
    e: Expr = relay.const(np.ones(2, "float32"))
    for _ in range(2_000):
        e = relay.negative(e)
    out = fold(relay.Function([x], x + e))
    assert isinstance(out, relay.Function)
    assert isinstance(out.body, relay.Call)
    folded = out.body.args[1]
    assert isinstance(folded, relay.Constant)
    np.testing.assert_array_equal(folded.data.numpy(), [1.0, 1.0])


@pytest.mark.spec("FOLD-9")
def test_diamond_ladder_is_folded_in_linear_time() -> None:
    e: Expr = relay.const(np.ones(2, "float32"))
    x = relay.var("x", shape=(2,))
    for _ in range(40):
        e = relay.add(e, e) * relay.const(0.5)  # tree expansion 2^40
    out = fold(relay.Function([x], x + e))
    assert isinstance(out, relay.Function)
    assert isinstance(out.body, relay.Call)
    folded = out.body.args[1]
    assert isinstance(folded, relay.Constant)
    np.testing.assert_array_equal(folded.data.numpy(), [1.0, 1.0])
