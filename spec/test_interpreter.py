"""INTERP: the reference interpreter, create_executor, and targets.

The operators used here are registered by this module (``interp_test.*``) with their own
numpy kernels and relations, so these tests pin down the interpreter's contract with
``OpDef`` independently of minitvm's operator library.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError, InternalError, OpNotImplemented, TVMError
from minitvm.ir.op import BUILTIN_RELATIONS, Op, OpDef, list_op_names, register_op
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.interpreter import Closure, eval_op, evaluate_expr
from minitvm.runtime.container import ADT
from minitvm.target import Target

Array = npt.NDArray[Any]

# --- operators private to these tests ---------------------------------------------------------

KERNEL_CALLS: list[str] = []
"""Names of the test operators whose kernels ran, in order (cleared by each test using it)."""

OUT_TYPES: list[Type] = []
"""The ``out_type`` each ``interp_test.ident`` kernel call received."""


def _binary(fn: Callable[[Array, Array], Array], name: str) -> Callable[..., Array]:
    def kernel(attrs: object, args: list[Array], out_type: Type) -> Array:
        KERNEL_CALLS.append(name)
        assert isinstance(out_type, TensorType)
        return np.asarray(fn(args[0], args[1])).astype(out_type.dtype)

    return kernel


def _compare_rel(arg_types: list[Type], attrs: object) -> Type:
    out = BUILTIN_RELATIONS["Broadcast"](arg_types, attrs)
    assert isinstance(out, TensorType)
    return TensorType(out.shape, "bool")


def _pair_rel(arg_types: list[Type], attrs: object) -> Type:
    return TupleType([arg_types[0], arg_types[0]])


def _pair_kernel(attrs: object, args: list[Array], out_type: Type) -> tuple[Array, Array]:
    return (args[0], args[0] * 2)


def _sum_rel(arg_types: list[Type], attrs: object) -> Type:
    fields = arg_types[0]
    assert isinstance(fields, TupleType)
    return fields.fields[0]


def _sum_kernel(attrs: object, args: list[Any], out_type: Type) -> Array:
    return np.asarray(sum(args[0]))


def _ident_kernel(attrs: object, args: list[Array], out_type: Type) -> Array:
    OUT_TYPES.append(out_type)
    return args[0]


def _bad_kernel(attrs: object, args: list[Array], out_type: Type) -> Array:
    return args[0].astype("float64")


def _register_test_ops() -> None:
    broadcast = BUILTIN_RELATIONS["Broadcast"]
    identity = BUILTIN_RELATIONS["Identity"]
    defs = [
        OpDef("interp_test.add", 2, broadcast, kernel=_binary(np.add, "add")),
        OpDef("interp_test.sub", 2, broadcast, kernel=_binary(np.subtract, "sub")),
        OpDef("interp_test.mul", 2, broadcast, kernel=_binary(np.multiply, "mul")),
        OpDef("interp_test.div", 2, broadcast, kernel=_binary(np.divide, "div")),
        OpDef("interp_test.eq", 2, _compare_rel, kernel=_binary(np.equal, "eq")),
        OpDef("interp_test.pair", 1, _pair_rel, kernel=_pair_kernel),
        OpDef("interp_test.sum", 1, _sum_rel, kernel=_sum_kernel),
        OpDef("interp_test.ident", 1, identity, kernel=_ident_kernel),
        OpDef("interp_test.bad", 1, identity, kernel=_bad_kernel),
        OpDef("interp_test.nokernel", 1, identity),
    ]
    for d in defs:
        if d.name not in list_op_names():
            register_op(d)


_register_test_ops()


def call(name: str, *args: relay.Expr) -> relay.Call:
    return relay.Call(Op.get(f"interp_test.{name}"), args)


def add(a: relay.Expr, b: relay.Expr) -> relay.Call:
    return call("add", a, b)


def sub(a: relay.Expr, b: relay.Expr) -> relay.Call:
    return call("sub", a, b)


def mul(a: relay.Expr, b: relay.Expr) -> relay.Call:
    return call("mul", a, b)


def eq(a: relay.Expr, b: relay.Expr) -> relay.Call:
    return call("eq", a, b)


def i32(name: str) -> relay.Var:
    return relay.var(name, shape=(), dtype="int32")


def run(expr: relay.Expr, mod: tvm.IRModule | None = None) -> Any:
    return relay.create_executor(mod=mod).evaluate(expr)


def sum_up_module() -> tuple[tvm.IRModule, relay.GlobalVar]:
    """``sum_up(i) = if i == 0 then 0 else i + sum_up(i - 1)``: non-tail recursion."""
    mod = tvm.IRModule()
    sum_up = relay.GlobalVar("sum_up")
    i = i32("i")
    body = relay.If(
        eq(i, relay.const(0)),
        relay.const(0),
        add(i, relay.Call(sum_up, [sub(i, relay.const(1))])),
    )
    mod[sum_up] = relay.Function([i], body, relay.scalar_type("int32"))
    n = i32("n")
    mod["main"] = relay.Function([n], relay.Call(sum_up, [n]))
    return mod, sum_up


# --- INTERP-1: create_executor ------------------------------------------------------------------


@pytest.mark.spec("INTERP-1")
@pytest.mark.parametrize("kind", ["debug", "graph", "vm"])
def test_executor_kinds_evaluate_main(kind: str) -> None:
    x = relay.var("x", shape=(2, 3))
    mod = tvm.IRModule.from_expr(relay.Function([x], mul(x, x)))
    ex = relay.create_executor(kind, mod=mod, device=tvm.cpu(0), target="llvm")
    assert ex.kind == kind
    data = np.arange(6, dtype="float32").reshape(2, 3)
    out = ex.evaluate()(data)
    np.testing.assert_array_equal(out.numpy(), data * data)


@pytest.mark.spec("INTERP-1")
def test_executor_device_and_target() -> None:
    ex = relay.create_executor()
    assert ex.kind == "debug"
    assert ex.device == tvm.cpu(0)
    assert ex.target.kind.name == "llvm"
    assert relay.create_executor(target="numba").device == tvm.cpu(0)
    gpu = relay.create_executor(target=Target("cuda"))
    assert gpu.device == tvm.cuda(0)
    out = gpu.evaluate(add(relay.const(1.0), relay.const(2.0)))
    assert out.device == tvm.cuda(0)
    assert float(out.numpy()) == 3.0
    with pytest.raises(TVMError, match="does not match"):
        relay.create_executor(device=tvm.cuda(0), target="llvm")
    with pytest.raises(TVMError, match="unknown execution strategy"):
        relay.create_executor("aot")


# --- INTERP-2: evaluate -------------------------------------------------------------------------


@pytest.mark.spec("INTERP-2")
def test_evaluate_main_global_function_and_expression() -> None:
    mod, sum_up = sum_up_module()
    ex = relay.create_executor(mod=mod)
    assert int(ex.evaluate()(4).numpy()) == 10
    assert int(ex.evaluate(sum_up)(5).numpy()) == 15
    x = i32("x")
    f = relay.Function([x], relay.Call(sum_up, [mul(x, x)]))
    assert int(ex.evaluate(f)(3).numpy()) == 45
    value = ex.evaluate(relay.Call(sum_up, [relay.const(6)]))
    assert isinstance(value, tvm.nd.NDArray)
    assert int(value.numpy()) == 21


@pytest.mark.spec("INTERP-2")
def test_evaluate_without_main_or_with_free_vars_is_an_error() -> None:
    with pytest.raises(DiagnosticError, match="no function named @main"):
        relay.create_executor().evaluate()
    x = relay.var("x", shape=(2,))
    with pytest.raises(DiagnosticError, match="free variables %x"):
        run(add(x, x))
    y = relay.var("y", shape=(2,))
    with pytest.raises(DiagnosticError, match="free variables %x"):
        run(relay.Function([y], add(x, y)))


@pytest.mark.spec("INTERP-2")
def test_evaluate_with_binds() -> None:
    x = relay.var("x")
    data = np.ones((3, 4))
    out = relay.create_executor().evaluate(add(x, x), binds={x: data})
    assert out.numpy().dtype == np.float64
    np.testing.assert_array_equal(out.numpy(), data + data)


# --- INTERP-3: positional and keyword arguments ----------------------------------------------


def three_param_function() -> relay.Function:
    x, y, z = (relay.var(n, shape=(1, 4)) for n in "xyz")
    return relay.Function([x, y, z], mul(add(x, y), z))


@pytest.mark.spec("INTERP-3")
def test_keyword_arguments_by_parameter_name() -> None:
    f = relay.create_executor().evaluate(three_param_function())
    rng = np.random.default_rng(0)
    x, y, z = (rng.random((1, 4), dtype="float32") for _ in range(3))
    expected = (x + y) * z
    np.testing.assert_allclose(f(x, y, z).numpy(), expected)
    params = {"y": y, "z": z}
    np.testing.assert_allclose(f(x, **params).numpy(), expected)
    np.testing.assert_allclose(f(z=z, y=y, x=x).numpy(), expected)


@pytest.mark.spec("INTERP-3")
def test_argument_matching_errors_name_the_parameters() -> None:
    f = relay.create_executor().evaluate(three_param_function())
    a = np.zeros((1, 4), "float32")
    with pytest.raises(DiagnosticError, match=r"expected 3 arguments \(%x, %y, %z\), got 4"):
        f(a, a, a, a)
    with pytest.raises(DiagnosticError, match="missing argument %z"):
        f(a, a)
    with pytest.raises(DiagnosticError, match="no parameter named 'w'"):
        f(a, a, a, w=a)
    with pytest.raises(DiagnosticError, match="%x given both by position and by keyword"):
        f(a, a, z=a, x=a)


# --- INTERP-4: argument conversion and checking ----------------------------------------------


@pytest.mark.spec("INTERP-4")
def test_argument_kinds() -> None:
    x = relay.var("x", shape=(2,), dtype="int64")
    f = relay.create_executor().evaluate(relay.Function([x], add(x, x)))
    expected = np.array([2, 4], "int64")
    for arg in (
        np.array([1, 2], "int64"),
        tvm.nd.array(np.array([1, 2], "int64")),
        relay.const(np.array([1, 2]), "int64"),
        [1, 2],
    ):
        out = f(arg)
        assert out.numpy().dtype == np.int64
        np.testing.assert_array_equal(out.numpy(), expected)
    s = relay.var("s", shape=(), dtype="float32")
    g = relay.create_executor().evaluate(relay.Function([s], mul(s, s)))
    assert float(g(3).numpy()) == 9.0
    assert float(g(np.float32(1.5)).numpy()) == 2.25


@pytest.mark.spec("INTERP-4")
def test_tuple_arguments() -> None:
    ty = relay.TupleType([relay.scalar_type("int64"), relay.scalar_type("int64")])
    t = relay.var("t", ty)
    f = relay.create_executor().evaluate(relay.Function([t], sub(t[0], t[1])))
    assert int(f((10, 8)).numpy()) == 2
    value = ADT(0, [tvm.nd.array(np.array(11, "int64")), tvm.nd.array(np.array(12, "int64"))])
    assert int(f(value).numpy()) == -1
    with pytest.raises(DiagnosticError, match=r"argument %t: expected \(int64, int64\)"):
        f((1, 2, 3))


@pytest.mark.spec("INTERP-4")
def test_arguments_are_copied() -> None:
    x = relay.var("x", shape=(3,))
    f = relay.create_executor().evaluate(relay.Function([x], x))
    data = np.zeros(3, "float32")
    out = f(data)
    data[:] = 7.0
    np.testing.assert_array_equal(out.numpy(), np.zeros(3, "float32"))


@pytest.mark.spec("INTERP-4")
def test_wrong_shape_or_dtype_names_the_parameter() -> None:
    x = relay.var("x", shape=(2, 3))
    y = relay.var("y", shape=(2, 3))
    f = relay.create_executor().evaluate(relay.Function([x, y], add(x, y)))
    good = np.zeros((2, 3), "float32")
    with pytest.raises(
        DiagnosticError,
        match=r"argument %y: expected Tensor\[\(2, 3\), float32\], got Tensor\[\(3, 2\), float32\]",
    ):
        f(good, np.zeros((3, 2), "float32"))
    with pytest.raises(DiagnosticError, match=r"argument %x: expected .*float32.*float64"):
        f(np.zeros((2, 3)), good)
    with pytest.raises(DiagnosticError, match=r"argument %x: expected .* got a tuple of 2 fields"):
        f((good, good), good)
    with pytest.raises(DiagnosticError, match="argument %x: cannot pass a str"):
        f("zeros", good)
    a = relay.TypeVar("a")
    u = relay.var("u", a)
    h = relay.create_executor().evaluate(relay.Function([u], u, a, [a]))
    with pytest.raises(DiagnosticError, match="argument %u: unsupported dtype complex64"):
        h(np.zeros(2, "complex64"))


# --- INTERP-5: results -------------------------------------------------------------------------


@pytest.mark.spec("INTERP-5")
def test_tuple_results_are_adts() -> None:
    x = relay.var("x", shape=(2,))
    y = relay.var("y", shape=(2,))
    body = relay.Tuple([add(x, y), relay.Tuple([x, relay.Tuple([])])])
    f = relay.create_executor().evaluate(relay.Function([x, y], body))
    xd, yd = np.ones(2, "float32"), np.full(2, 2.0, "float32")
    out = f(xd, yd)
    total, (inner_x, unit) = out  # as TVM code unpacks results
    np.testing.assert_array_equal(total.numpy(), xd + yd)
    np.testing.assert_array_equal(inner_x.numpy(), xd)
    assert isinstance(unit, ADT)
    assert len(unit) == 0
    assert isinstance(out, ADT)
    assert out.tag == 0
    assert len(out) == 2
    assert isinstance(out[1], ADT)
    assert [type(v) for v in out] == [tvm.nd.NDArray, ADT]


@pytest.mark.spec("INTERP-5")
def test_tensor_results_are_owned_ndarrays() -> None:
    c = relay.const(np.arange(3, dtype="float32"))
    out = run(c)
    assert isinstance(out, tvm.nd.NDArray)
    assert out.device == tvm.cpu(0)
    out.copyfrom(np.zeros(3, "float32"))  # the result owns writable data of its own
    np.testing.assert_array_equal(c.data.numpy(), np.arange(3, dtype="float32"))


@pytest.mark.spec("INTERP-5")
def test_closure_results_are_callable() -> None:
    a = i32("a")
    b = i32("b")
    make_adder = relay.Function([a], relay.Function([b], add(a, b)))
    adder = run(relay.Call(make_adder, [relay.const(5)]))
    assert int(adder(3).numpy()) == 8
    assert int(adder(b=4).numpy()) == 9
    # A closure goes back in as an argument.
    fty = relay.FuncType([relay.scalar_type("int32")], relay.scalar_type("int32"))
    g = relay.var("g", fty)
    apply_twice = relay.Function([g], relay.Call(g, [relay.Call(g, [relay.const(1)])]))
    out = relay.create_executor().evaluate(apply_twice)(adder)
    assert int(out.numpy()) == 11


# --- INTERP-6: params binding ------------------------------------------------------------------


@pytest.mark.spec("INTERP-6")
def test_params_are_bound_by_name() -> None:
    x = relay.var("x", shape=(1, 4))
    w = relay.var("w", shape=(1, 4))
    n = i32("n")
    helper = relay.GlobalVar("helper")
    mod = tvm.IRModule()
    mod[helper] = relay.Function([n], mul(n, n))
    mod["main"] = relay.Function([x, w, n], relay.Tuple([mul(x, w), relay.Call(helper, [n])]))
    wd = np.full((1, 4), 3.0)  # float64: narrowed to float32 as relay.const does
    ex = relay.create_executor(mod=mod, params={"w": wd, "unused": np.zeros(1)})
    main, original = ex.mod["main"], mod["main"]
    assert isinstance(main, relay.Function)
    assert isinstance(original, relay.Function)
    assert [p.name_hint for p in main.params] == ["x", "n"]
    assert [p.name_hint for p in original.params] == ["x", "w", "n"]  # input untouched
    prod, sq = ex.evaluate()(np.ones((1, 4), "float32"), 7)
    np.testing.assert_array_equal(prod.numpy(), np.full((1, 4), 3.0, "float32"))
    assert int(sq.numpy()) == 49
    i64 = relay.var("k", shape=(2,), dtype="int64")
    kept = relay.create_executor(
        mod=tvm.IRModule.from_expr(relay.Function([i64], add(i64, i64))),
        params={"k": np.array([1, 2], "int64")},
    )
    np.testing.assert_array_equal(kept.evaluate()().numpy(), [2, 4])


# --- INTERP-7: type checking first ---------------------------------------------------------------


@pytest.mark.spec("INTERP-7")
def test_module_changes_between_evaluations_are_seen() -> None:
    x = i32("x")
    mod = tvm.IRModule.from_expr(relay.Function([x], add(x, x)))
    ex = relay.create_executor(mod=mod)
    assert int(ex.evaluate()(3).numpy()) == 6
    mod["main"] = relay.Function([x], mul(x, x))
    assert int(ex.evaluate()(3).numpy()) == 9


@pytest.mark.spec("INTERP-7")
def test_ill_typed_programs_are_rejected_before_running() -> None:
    c = relay.var("c", "bool")
    x = relay.var("x", shape=(2,))
    # The false branch adds shapes (2,) and (3,): never reached when c is true, but ill-typed.
    body = relay.If(c, x, add(x, relay.const(np.zeros(3, "float32"))))
    with pytest.raises(DiagnosticError, match=r"\(2,\) and \(3,\)"):
        relay.create_executor().evaluate(relay.Function([c, x], body))
    mod = tvm.IRModule.from_expr(relay.Function([x], x, relay.TensorType((3,))))
    with pytest.raises(DiagnosticError):
        relay.create_executor(mod=mod).evaluate()


# --- INTERP-8: closures, lets, globals, recursion -------------------------------------------


@pytest.mark.spec("INTERP-8")
def test_closures_capture_values_at_creation() -> None:
    a = i32("a")
    b = i32("b")
    make_adder = relay.Function([a], relay.Function([b], add(a, b)))
    f1, f2 = relay.var("f1"), relay.var("f2")
    body = relay.Let(
        f1,
        relay.Call(make_adder, [relay.const(1)]),
        relay.Let(
            f2,
            relay.Call(make_adder, [relay.const(100)]),
            relay.Tuple([relay.Call(f1, [relay.const(5)]), relay.Call(f2, [relay.const(5)])]),
        ),
    )
    out = run(body)
    assert [int(v.numpy()) for v in out] == [6, 105]


@pytest.mark.spec("INTERP-8")
def test_recursion_through_globals() -> None:
    mod = tvm.IRModule()
    fib = relay.GlobalVar("fib")
    n = i32("n")
    small = relay.If(eq(n, relay.const(0)), relay.const(0), relay.const(1))
    rec = add(relay.Call(fib, [sub(n, relay.const(1))]), relay.Call(fib, [sub(n, relay.const(2))]))
    cond = relay.If(eq(n, relay.const(1)), relay.const(1), rec)
    mod[fib] = relay.Function([n], relay.If(eq(n, relay.const(0)), small, cond))
    f = relay.create_executor(mod=mod).evaluate(fib)
    assert [int(f(k).numpy()) for k in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]


@pytest.mark.spec("INTERP-8")
def test_mutual_recursion_through_globals() -> None:
    mod = tvm.IRModule()
    is_even, is_odd = relay.GlobalVar("is_even"), relay.GlobalVar("is_odd")
    n, m = i32("n"), i32("m")
    true, false = relay.const(True), relay.const(False)
    minus1 = relay.const(1)
    mod[is_even] = relay.Function(
        [n], relay.If(eq(n, relay.const(0)), true, relay.Call(is_odd, [sub(n, minus1)]))
    )
    mod[is_odd] = relay.Function(
        [m], relay.If(eq(m, relay.const(0)), false, relay.Call(is_even, [sub(m, minus1)]))
    )
    even = relay.create_executor(mod=mod).evaluate(is_even)
    assert [bool(even(k).numpy()) for k in range(6)] == [True, False] * 3


@pytest.mark.spec("INTERP-8")
def test_recursive_let() -> None:
    fact = relay.var("fact")
    n = relay.var("n", shape=(), dtype="int64")
    one = relay.const(1, "int64")
    body = relay.If(eq(n, relay.const(0, "int64")), one, mul(n, relay.Call(fact, [sub(n, one)])))
    prog = relay.Let(fact, relay.Function([n], body), relay.Call(fact, [relay.const(20, "int64")]))
    assert int(run(prog).numpy()) == 2432902008176640000


@pytest.mark.spec("INTERP-8")
def test_primitive_functions_are_called_like_functions() -> None:
    p, q = relay.var("p", shape=(3,)), relay.var("q", shape=(3,))
    prim = relay.Function([p, q], mul(add(p, q), q)).with_attr("Primitive", 1)
    x = relay.var("x", shape=(3,))
    f = relay.Function([x], relay.Call(prim, [x, add(x, x)]))
    xd = np.array([1.0, 2.0, 3.0], "float32")
    np.testing.assert_array_equal(run(f)(xd).numpy(), (xd + 2 * xd) * (2 * xd))


@pytest.mark.spec("INTERP-8", "INTERP-11")
def test_library_operators_and_sugar() -> None:
    x = relay.var("x", shape=(10, 10))
    y = relay.var("y", shape=(1, 10))
    f = relay.create_executor().evaluate(relay.Function([x, y], x * y - relay.negative(y)))
    rng = np.random.default_rng(1)
    xd = rng.random((10, 10), dtype="float32")
    yd = rng.random((1, 10), dtype="float32")
    np.testing.assert_allclose(f(xd, yd).numpy(), xd * yd + yd, rtol=1e-6)


@pytest.mark.spec("INTERP-8", "INTERP-13")
def test_tail_recursive_loop_with_scope_builder() -> None:
    mod = tvm.IRModule()
    sum_up = relay.GlobalVar("sum_up")
    i = relay.var("i", shape=(), dtype="int32")
    accum = relay.var("accum", shape=(), dtype="int32")
    sb = relay.ScopeBuilder()
    with sb.if_scope(relay.equal(i, relay.const(0, "int32"))):
        sb.ret(accum)
    with sb.else_scope():
        one_less = relay.subtract(i, relay.const(1, "int32"))
        new_accum = relay.add(accum, i)
        sb.ret(relay.Call(sum_up, [one_less, new_accum]))
    mod[sum_up] = relay.Function([i, accum], sb.get())
    f = relay.create_executor(mod=mod).evaluate(sum_up)
    assert int(f(10, 0).numpy()) == 55
    assert int(f(i=10_000, accum=0).numpy()) == 50_005_000


# --- INTERP-9 and INTERP-10: if, tuples ------------------------------------------------------


@pytest.mark.spec("INTERP-9")
def test_if_evaluates_only_the_selected_branch() -> None:
    c = relay.var("c", "bool")
    x = relay.var("x", shape=(2,))
    # The false branch calls an operator without a kernel: it must not run when c is true.
    f = relay.Function([c, x], relay.If(c, add(x, x), call("nokernel", x)))
    g = relay.create_executor().evaluate(f)
    np.testing.assert_array_equal(g(True, np.ones(2, "float32")).numpy(), [2.0, 2.0])
    with pytest.raises(OpNotImplemented, match=r"interp_test\.nokernel"):
        g(False, np.ones(2, "float32"))


@pytest.mark.spec("INTERP-9")
def test_if_condition_must_be_a_bool_scalar() -> None:
    for cond in (relay.const(1), relay.const(np.array([True]))):
        with pytest.raises(DiagnosticError, match="condition must be a bool scalar"):
            evaluate_expr(relay.If(cond, relay.const(1), relay.const(2)))


@pytest.mark.spec("INTERP-10")
def test_tuples_and_projections() -> None:
    t = relay.Tuple([relay.const(1), relay.Tuple([relay.const(2), relay.const(3)])])
    assert int(run(relay.TupleGetItem(relay.TupleGetItem(t, 1), 0)).numpy()) == 2
    pair = call("pair", relay.const(np.array([1.0, 2.0], "float32")))
    total = call("sum", pair)
    np.testing.assert_array_equal(run(total).numpy(), [3.0, 6.0])
    with pytest.raises(DiagnosticError, match=r"projection \.2"):
        evaluate_expr(relay.TupleGetItem(t, 2))
    with pytest.raises(DiagnosticError, match=r"projection \.0: .* got int32"):
        evaluate_expr(relay.TupleGetItem(relay.const(1), 0))


# --- INTERP-11: operator calls ---------------------------------------------------------------


@pytest.mark.spec("INTERP-11")
def test_operator_out_type_from_checked_type_or_relation() -> None:
    OUT_TYPES.clear()
    c = relay.const(np.zeros((2, 2), "float32"))
    evaluate_expr(call("ident", c))
    typed = relay.Call(
        Op.get("interp_test.ident"), [c], checked_type_=relay.TensorType((2, 2), "float32")
    )
    evaluate_expr(typed)
    assert [relay.TensorType((2, 2), "float32"), relay.TensorType((2, 2), "float32")] == OUT_TYPES
    with pytest.raises(InternalError, match="kernel disagrees"):
        # a checked type the kernel result does not have
        evaluate_expr(
            relay.Call(
                Op.get("interp_test.ident"), [c], checked_type_=relay.TensorType((4,), "float32")
            )
        )


@pytest.mark.spec("INTERP-11")
def test_kernel_errors() -> None:
    c = relay.const(np.zeros(2, "float32"))
    with pytest.raises(InternalError, match=r"interp_test\.bad.*float32.*float64"):
        evaluate_expr(call("bad", c))
    with pytest.raises(OpNotImplemented, match="no reference kernel"):
        evaluate_expr(call("nokernel", c))
    with pytest.raises(DiagnosticError, match="used as a value"):
        evaluate_expr(relay.Tuple([Op.get("interp_test.add")]))


@pytest.mark.spec("INTERP-11")
def test_floating_point_warnings_are_silenced() -> None:
    # pytest turns warnings into errors here; a division by zero must give inf, not raise.
    x = relay.var("x", shape=(2,))
    f = relay.Function([x], call("div", x, relay.const(np.zeros(2, "float32"))))
    out = run(f)(np.array([1.0, -1.0], "float32")).numpy()
    assert out.tolist() == [np.inf, -np.inf]


# --- INTERP-12: runtime errors ---------------------------------------------------------------


@pytest.mark.spec("INTERP-12")
def test_runtime_errors_are_diagnostics() -> None:
    x = relay.var("x", shape=(2,))
    with pytest.raises(DiagnosticError, match="unbound variable %x"):
        evaluate_expr(add(x, x))
    with pytest.raises(DiagnosticError, match="unbound variable %x"):
        evaluate_expr(relay.Function([], x))
    with pytest.raises(DiagnosticError, match="callee is not a function"):
        evaluate_expr(relay.Call(relay.const(1), []))
    y = relay.var("y", shape=(2,))
    f = relay.var("f")
    prog = relay.Let(f, relay.Function([x, y], add(x, y)), relay.Call(f, [relay.const(np.ones(2))]))
    with pytest.raises(DiagnosticError, match=r"call of %f: expected 2 arguments \(%x, %y\)"):
        evaluate_expr(prog)
    with pytest.raises(DiagnosticError, match="@missing is not in the module"):
        evaluate_expr(relay.Call(relay.GlobalVar("missing"), []), tvm.IRModule())


# --- INTERP-13: deep programs and sharing ----------------------------------------------------


@pytest.mark.spec("INTERP-13")
def test_deep_let_chain() -> None:
    depth = 100_000
    one = relay.const(1)
    vs = [i32(f"v{k}") for k in range(depth)]
    body: relay.Expr = vs[-1]
    for k in range(depth - 1, 0, -1):
        body = relay.Let(vs[k], add(vs[k - 1], one), body)
    body = relay.Let(vs[0], relay.const(5), body)
    assert sys.getrecursionlimit() <= 1000
    # The machine alone (create_executor adds InferType, whose depth has tests of its own).
    value = evaluate_expr(body)
    assert isinstance(value, np.ndarray)
    assert int(value) == 5 + depth - 1


@pytest.mark.slow
@pytest.mark.spec("INTERP-13")
def test_deep_call_chain() -> None:
    depth = 100_000
    x = i32("x")
    one = relay.const(1)
    e: relay.Expr = x
    for _ in range(depth):
        e = add(e, one)
    assert int(run(relay.Function([x], e))(0).numpy()) == depth


@pytest.mark.spec("INTERP-13")
def test_deep_recursion_through_a_global() -> None:
    mod, _ = sum_up_module()
    assert int(relay.create_executor(mod=mod).evaluate()(10_000).numpy()) == 50_005_000


@pytest.mark.spec("INTERP-13")
def test_shared_nodes_are_evaluated_once() -> None:
    levels = 60
    x = relay.var("x", shape=(), dtype="int64")
    e: relay.Expr = x
    for _ in range(levels):
        e = add(e, e)  # tree expansion: 2^60 additions
    KERNEL_CALLS.clear()
    out = run(relay.Function([x], e))(1)
    assert int(out.numpy()) == 2**levels
    assert len(KERNEL_CALLS) == levels
    # Sharing through tuples and projections, inside a function called twice.
    t: relay.Expr = relay.Tuple([x, x])
    for _ in range(levels):
        t = relay.Tuple([relay.TupleGetItem(t, 0), relay.TupleGetItem(t, 1)])
    y = relay.var("y", shape=(), dtype="int64")
    f = relay.var("f")
    prog = relay.Let(
        f,
        relay.Function([x], add(relay.TupleGetItem(t, 0), relay.TupleGetItem(t, 1))),
        relay.Function([y], add(relay.Call(f, [y]), relay.Call(f, [add(y, y)]))),
    )
    KERNEL_CALLS.clear()
    assert int(run(prog)(3).numpy()) == 3 + 3 + 6 + 6
    assert len(KERNEL_CALLS) == 4


# --- INTERP-14: the internal API ---------------------------------------------------------------


@pytest.mark.spec("INTERP-14")
def test_eval_op_and_evaluate_expr() -> None:
    a = np.array([1, 2], "int32")
    b = np.array([[10], [20]], "int32")
    out = eval_op(Op.get("interp_test.add"), None, [a, b])
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, a + b)
    out = eval_op(Op.get("interp_test.add"), None, [a, a], relay.TensorType((2,), "int32"))
    np.testing.assert_array_equal(out, [2, 4])
    pair = eval_op(Op.get("interp_test.pair"), None, [a])
    assert isinstance(pair, tuple)
    np.testing.assert_array_equal(pair[1], a * 2)
    mod, sum_up = sum_up_module()
    value = evaluate_expr(relay.Call(sum_up, [relay.const(4)]), mod)
    assert isinstance(value, np.ndarray)
    assert int(value) == 10
    x = i32("x")
    closure = evaluate_expr(relay.Function([x], x))
    assert isinstance(closure, Closure)
    assert closure.func.params == (x,)


# --- INTERP-15: targets -----------------------------------------------------------------------


@pytest.mark.spec("INTERP-15")
def test_target_parsing() -> None:
    t = Target("cuda -max_function_args=8 -arch=sm_80 -fast")
    assert t.kind.name == "cuda"
    assert t.kind.device_type == 2
    assert t.max_function_args == 8
    assert t.attrs["arch"] == "sm_80"
    assert t.attrs["fast"] is True
    assert "gpu" in t.keys
    assert Target("llvm").max_function_args == -1
    assert Target({"kind": "cuda", "max_function_args": 4}).max_function_args == 4
    assert Target(t) == t
    assert Target("numba").kind.device_type == Target("c").kind.device_type == 1
    assert str(Target("llvm -opt=3")) == "llvm -opt=3"
    assert Target("llvm", host="c").host == Target("c")
    with pytest.raises(TVMError, match="unknown target kind 'metal'"):
        Target("metal")


@pytest.mark.spec("INTERP-15")
def test_target_current_scopes() -> None:
    assert Target.current() is None
    with pytest.raises(TVMError, match="no target"):
        Target.current(allow_none=False)
    outer, inner = Target("llvm"), Target("cuda")
    with outer:
        assert Target.current() is outer
        with inner as entered:
            assert entered is inner
            assert Target.current() is inner
        assert Target.current() is outer
        with pytest.raises(ValueError, match="boom"), inner:
            raise ValueError("boom")
        assert Target.current() is outer
    assert Target.current() is None
    assert tvm.target.Target is Target
