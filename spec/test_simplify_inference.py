"""SIMPINF: SimplifyInference."""

from __future__ import annotations

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.op.defs.reduce import VarianceAttrs
from minitvm.relay.testing import run_infer_type, run_opt_pass
from minitvm.relay.transform import SimplifyInference
from minitvm.relay.transform.simplify_inference import simplify_inference


def simplify(expr: Expr) -> Expr:
    return run_opt_pass(expr, SimplifyInference())


def _expand(e: Expr, ndim: int, axis: int) -> Expr:
    n = ndim - axis - 1
    return relay.expand_dims(e, axis=1, num_newaxis=n) if n > 0 else e


def simple_bn(
    x: Expr,
    gamma: Expr,
    beta: Expr,
    mean: Expr,
    var: Expr,
    axis: int,
    eps: float,
    ndim: int,
    dtype: str = "float32",
    center: bool = True,
    scale: bool = True,
) -> Expr:
    """``(x - mean) / sqrt(var + eps) * gamma + beta``, spelled as the pass spells it."""
    s: Expr = relay.const(1, dtype) / relay.sqrt(var + relay.const(np.float32(eps), dtype))
    if scale:
        s = relay.multiply(s, gamma)
    h: Expr = relay.multiply(relay.negative(mean), s)
    if center:
        h = relay.add(h, beta)
    return relay.add(relay.multiply(x, _expand(s, ndim, axis)), _expand(h, ndim, axis))


def _bn_vars(c: int, dtype: str) -> list[relay.Var]:
    t = relay.TensorType((c,), dtype)
    return [relay.var(n, t) for n in ("gamma", "beta", "moving_mean", "moving_var")]


@pytest.mark.spec("SIMPINF-1")
def test_pass_info() -> None:
    p = SimplifyInference()
    assert (p.info.name, p.info.opt_level, p.info.required) == (
        "SimplifyInference",
        0,
        ("InferType",),
    )
    assert tvm.transform.get_pass("SimplifyInference").info.name == "SimplifyInference"


@pytest.mark.spec("SIMPINF-2", "SIMPINF-3")
@pytest.mark.parametrize(("dim", "axis", "nstep"), [(2, 1, 1), (4, 1, 1), (4, 0, 3), (3, -1, 2)])
def test_simplify_batch_norm_and_dropout(dim: int, axis: int, nstep: int) -> None:
    dtype = "float32"
    eps = 0.01
    x = relay.var("x", relay.TensorType((10,) * dim, dtype))
    gamma, beta, mean, var = _bn_vars(10, dtype)
    y1: Expr = x
    y2: Expr = x
    for _ in range(nstep):
        y1 = relay.nn.batch_norm(
            y1 + relay.const(1, dtype), gamma, beta, mean, var, epsilon=eps, axis=axis
        )[0]
        y1 = relay.nn.dropout(y1)
        norm_axis = axis % dim
        y2 = simple_bn(y2 + relay.const(1, dtype), gamma, beta, mean, var, norm_axis, eps, dim)
    params = [x, gamma, beta, mean, var]
    out = simplify(relay.Function(params, y1))
    tvm.ir.assert_structural_equal(out, run_infer_type(relay.Function(params, y2)))


@pytest.mark.spec("SIMPINF-2")
@pytest.mark.parametrize(("center", "scale"), [(False, True), (True, False), (False, False)])
def test_batch_norm_without_center_or_scale(center: bool, scale: bool) -> None:
    x = relay.var("x", shape=(2, 3, 4))
    gamma, beta, mean, var = _bn_vars(3, "float32")
    params = [x, gamma, beta, mean, var]
    bn = relay.nn.batch_norm(x, gamma, beta, mean, var, center=center, scale=scale)[0]
    want = simple_bn(x, gamma, beta, mean, var, 1, 1e-5, 3, center=center, scale=scale)
    tvm.ir.assert_structural_equal(
        simplify(relay.Function(params, bn)), run_infer_type(relay.Function(params, want))
    )


@pytest.mark.spec("SIMPINF-2")
def test_batch_norm_other_outputs_keep_the_call() -> None:
    x = relay.var("x", shape=(2, 3))
    gamma, beta, mean, var = _bn_vars(3, "float32")
    params = [x, gamma, beta, mean, var]
    bn = relay.nn.batch_norm(x, gamma, beta, mean, var)
    before = relay.Function(params, relay.Tuple([bn[0], bn[1]]))
    expected = relay.Function(
        params, relay.Tuple([simple_bn(x, gamma, beta, mean, var, 1, 1e-5, 2), bn[1]])
    )
    tvm.ir.assert_structural_equal(simplify(before), run_infer_type(expected))


@pytest.mark.spec("SIMPINF-3")
def test_dropout_mask_keeps_the_call() -> None:
    x = relay.var("x", shape=(4,))
    raw = relay.nn.dropout_raw(x, rate=0.3)
    before = relay.Function([x], relay.Tuple([relay.TupleGetItem(raw, 0), raw[1]]))
    expected = relay.Function([x], relay.Tuple([x, raw[1]]))
    tvm.ir.assert_structural_equal(simplify(before), run_infer_type(expected))


def _normalized(x: Expr, axes: tuple[int, ...], eps: float, dtype: str = "float32") -> Expr:
    m = relay.mean(x, axes, keepdims=True)
    v = relay.Call(relay.op.get("variance"), [x, m], VarianceAttrs(axes, keepdims=True))
    return (x - m) / relay.sqrt(v + relay.const(np.float32(eps), dtype))


@pytest.mark.spec("SIMPINF-4")
@pytest.mark.parametrize("axis", [-1, 1])
def test_layer_norm(axis: int) -> None:
    x = relay.var("x", shape=(2, 3, 3))
    gamma = relay.var("gamma", shape=(3,))
    beta = relay.var("beta", shape=(3,))
    params = [x, gamma, beta]
    before = relay.Function(params, relay.nn.layer_norm(x, gamma, beta, axis=axis, epsilon=0.1))
    norm_axis = axis % 3
    scaled = relay.multiply(_normalized(x, (axis,), 0.1), _expand(gamma, 3, norm_axis))
    out = relay.add(scaled, _expand(beta, 3, norm_axis))
    tvm.ir.assert_structural_equal(simplify(before), run_infer_type(relay.Function(params, out)))


@pytest.mark.spec("SIMPINF-4")
def test_instance_norm_without_scale() -> None:
    x = relay.var("x", shape=(2, 3, 4, 5))
    gamma = relay.var("gamma", shape=(3,))
    beta = relay.var("beta", shape=(3,))
    params = [x, gamma, beta]
    norm = relay.nn.instance_norm(x, gamma, beta, axis=1, scale=False)
    out = relay.add(_normalized(x, (2, 3), 1e-5), _expand(beta, 4, 1))
    tvm.ir.assert_structural_equal(
        simplify(relay.Function(params, norm)), run_infer_type(relay.Function(params, out))
    )


@pytest.mark.spec("SIMPINF-4")
def test_group_norm() -> None:
    x = relay.var("x", shape=(2, 6, 4))
    gamma = relay.var("gamma", shape=(6,))
    beta = relay.var("beta", shape=(6,))
    params = [x, gamma, beta]
    norm = relay.nn.group_norm(x, gamma, beta, num_groups=3, axis=1, center=False)
    grouped = relay.reshape(x, [2, 3, 2, 4])
    out = relay.reshape(_normalized(grouped, (2, 3), 1e-5), [2, 6, 4]) * _expand(gamma, 3, 1)
    tvm.ir.assert_structural_equal(
        simplify(relay.Function(params, norm)), run_infer_type(relay.Function(params, out))
    )


def _run(func: Expr, *args: np.ndarray) -> np.ndarray:
    result: np.ndarray = relay.create_executor().evaluate(func)(*args).numpy()
    return result


@pytest.mark.spec("SIMPINF-5")
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rewrites_compute_the_operators_values(dtype: str) -> None:
    rng = np.random.default_rng(1)
    shape = (2, 4, 3, 3)
    data = rng.uniform(-1, 1, shape).astype(dtype)
    gamma, beta, mean = (rng.uniform(-1, 1, 4).astype(dtype) for _ in range(3))
    var = rng.uniform(0.5, 1.5, 4).astype(dtype)
    x = relay.var("x", shape=shape, dtype=dtype)
    g, b, m, v = (relay.const(a, dtype) for a in (gamma, beta, mean, var))
    outs = [
        relay.nn.batch_norm(x, g, b, m, v, axis=1, epsilon=1e-3)[0],
        relay.nn.layer_norm(
            x,
            relay.const(rng.uniform(-1, 1, 3), dtype),
            relay.const(rng.uniform(-1, 1, 3), dtype),
        ),
        relay.nn.instance_norm(x, g, b),
        relay.nn.group_norm(x, g, b, num_groups=2),
    ]
    before = relay.Function([x], relay.Tuple(outs))
    after = simplify(before)
    want = relay.create_executor().evaluate(before)(data)
    got = relay.create_executor().evaluate(after)(data)
    tol = 1e-2 if dtype == "float16" else 1e-5
    for g_, w_ in zip(got, want, strict=True):
        assert g_.numpy().dtype == np.dtype(dtype)
        np.testing.assert_allclose(g_.numpy(), w_.numpy(), rtol=tol, atol=tol)


@pytest.mark.spec("SIMPINF-5")
def test_epsilon_is_rounded_to_float32_first() -> None:
    x = relay.var("x", shape=(2, 3), dtype="float64")
    gamma, beta, mean, var = _bn_vars(3, "float64")
    bn = relay.nn.batch_norm(x, gamma, beta, mean, var, epsilon=0.1)[0]
    out = simplify(relay.Function([x, gamma, beta, mean, var], bn))
    eps = [
        n
        for n in relay.expr_functor.post_order(out)
        if isinstance(n, relay.Constant) and n.data.numpy() != 1
    ]
    assert len(eps) == 1
    assert eps[0].data.dtype == "float64"
    assert eps[0].data.numpy() == np.float64(np.float32(0.1))
    assert eps[0].data.numpy() != 0.1


@pytest.mark.spec("SIMPINF-1")
def test_untyped_module_and_nested_functions() -> None:
    x = relay.var("x", shape=(2, 3))
    gamma, beta, mean, var = _bn_vars(3, "float32")
    inner_x = relay.var("inner_x", shape=(2, 3))
    inner = relay.Function([inner_x], relay.nn.dropout(inner_x))
    bn = relay.nn.batch_norm(x, gamma, beta, mean, var)[0]
    params = [x, gamma, beta, mean, var]
    mod = IRModule.from_expr(relay.Function(params, inner(bn)))
    out = SimplifyInference()(mod)  # not typed beforehand
    expected = relay.Function(
        params,
        relay.Function([inner_x], inner_x)(simple_bn(x, gamma, beta, mean, var, 1, 1e-5, 2)),
    )
    tvm.ir.assert_structural_equal(out["main"], run_infer_type(expected))


@pytest.mark.spec("SIMPINF-6")
def test_input_is_unchanged() -> None:
    x = relay.var("x", shape=(2, 3))
    gamma, beta, mean, var = _bn_vars(3, "float32")
    bn = relay.nn.batch_norm(x, gamma, beta, mean, var)[0]
    mod = relay.transform.InferType()(
        IRModule.from_expr(relay.Function([x, gamma, beta, mean, var], bn))
    )
    text, functions = mod.astext(), mod.functions
    SimplifyInference()(mod)
    assert mod.astext() == text
    assert mod.functions == functions


@pytest.mark.spec("SIMPINF-6")
@pytest.mark.slow
def test_deep_chains() -> None:
    x = relay.var("x", shape=(2,))
    chain: Expr = x
    for _ in range(100_000):
        chain = relay.nn.dropout(chain)
    assert simplify_inference(chain) is x

    vs = [relay.var(f"v{i}") for i in range(100_000)]
    body: Expr = vs[-1]
    for i in range(len(vs) - 1, -1, -1):
        body = relay.Let(vs[i], relay.nn.dropout(x if i == 0 else vs[i - 1]), body)
    let = simplify_inference(body)
    assert isinstance(let, relay.Let)
    assert let.value is x


@pytest.mark.spec("SIMPINF-4")
def test_group_norm_of_an_empty_tensor() -> None:
    x = relay.var("x", shape=(1, 0))
    gamma, beta = relay.var("gamma", shape=(0,)), relay.var("beta", shape=(0,))
    norm = relay.nn.group_norm(x, gamma, beta, num_groups=1, center=False, scale=False)
    out = SimplifyInference()(IRModule.from_expr(relay.Function([x, gamma, beta], norm)))
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert isinstance(main.body, relay.Call)
    assert main.body.attrs.allowzero  # type: ignore[union-attr]
    empty = np.zeros((1, 0), "float32")
    result = relay.create_executor(mod=out).evaluate()(
        empty, np.zeros(0, "float32"), np.zeros(0, "float32")
    )
    assert result.numpy().shape == (1, 0)
