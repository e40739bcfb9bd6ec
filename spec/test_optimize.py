"""OPT: relay.optimize, the standard pass pipeline, and bind_params_by_name."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from typing_extensions import override

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.instrument import PassInstrument
from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassInfo
from minitvm.relay.build_module import bind_params_by_name, optimize, pass_sequence
from minitvm.relay.expr import Expr
from minitvm.target import Target

# Passes of TVM's pipeline that other chapters specify, by their pass names: disabled where a
# test states the exact output of the passes of this chapter.
OTHERS = [
    "CombineParallelConv2d",
    "CombineParallelDense",
    "FoldScaleAxis",
    "SimplifyExpr",
    "SimplifyExprPostAlterOp",
    "FuseOps",
]

# (pass name, opt_level) of the passes of OPT-3, in order.
PIPELINE = [
    ("RemoveUnusedFunctions", 1),
    ("ToBasicBlockNormalForm", 1),
    ("SimplifyInference", 0),
    ("EliminateCommonSubexpr", 3),
    ("CombineParallelConv2d", 4),
    ("CombineParallelDense", 4),
    ("FoldConstant", 2),
    ("FoldScaleAxis", 0),
    ("SimplifyExpr", 0),
    ("CanonicalizeOps", 3),
    ("InferType", 0),
    ("SimplifyExprPostAlterOp", 0),
    ("FastMath", 4),
    ("FoldConstant", 2),
    ("SplitArgs", 1),
    ("FuseOps", 0),
]


class _Recorder(PassInstrument):
    """Records the name of every pass run, and the target in scope when it ran."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.targets: list[Target | None] = []

    @override
    def run_before_pass(self, mod: IRModule, info: PassInfo) -> None:
        self.names.append(info.name)
        self.targets.append(Target.current())


def _opt(mod: IRModule, opt_level: int = 2, **kwargs: Any) -> IRModule:
    with tvm.transform.PassContext(opt_level=opt_level, disabled_pass=OTHERS):
        out, params = optimize(mod, **kwargs)
    assert params == {}
    return out


def _typed(func: Expr) -> IRModule:
    return relay.transform.InferType()(IRModule.from_expr(func))


def _conv_bn(with_bias: bool = False) -> tuple[relay.Function, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    x = relay.var("x", shape=(1, 2, 4, 4))
    w = relay.var("w", shape=(3, 2, 3, 3))
    names = ("gamma", "beta", "mean", "var")
    gamma, beta, mean, var = (relay.var(n, shape=(3,)) for n in names)
    y: Expr = relay.nn.conv2d(x, w, padding=(1, 1))
    params = [x, w, gamma, beta, mean, var]
    if with_bias:
        b = relay.var("b", shape=(3,))
        y = relay.nn.bias_add(y, b)
        params.append(b)
    y = relay.nn.batch_norm(y, gamma, beta, mean, var)[0]
    values = {
        "w": rng.uniform(-1, 1, (3, 2, 3, 3)).astype("float32"),
        "gamma": rng.uniform(0.5, 1.5, 3).astype("float32"),
        "beta": rng.uniform(-1, 1, 3).astype("float32"),
        "mean": rng.uniform(-1, 1, 3).astype("float32"),
        "var": rng.uniform(0.5, 1.5, 3).astype("float32"),
        "b": rng.uniform(-1, 1, 3).astype("float32"),
    }
    return relay.Function(params, relay.nn.relu(y)), values


def _bn_constants(values: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The folded batch-norm scale and shift, computed with numpy in float32."""
    eps = np.float32(1e-5)
    scale = np.float32(1.0) / np.sqrt(values["var"] + eps) * values["gamma"]
    shift = -values["mean"] * scale + values["beta"]
    return scale.reshape(3, 1, 1), shift.reshape(3, 1, 1)


@pytest.mark.spec("OPT-1")
def test_optimize_binds_params_and_folds_batch_norm() -> None:
    func, values = _conv_bn()
    mod = IRModule.from_expr(func)
    text = mod.astext()
    out = _opt(mod, params={k: v for k, v in values.items() if k != "b"})
    assert mod.astext() == text  # the input is untouched
    scale, shift = _bn_constants(values)
    x = relay.var("x", shape=(1, 2, 4, 4))
    conv = relay.nn.conv2d(x, relay.const(values["w"]), padding=(1, 1))
    y = relay.add(relay.multiply(conv, relay.const(scale)), relay.const(shift))
    tvm.ir.assert_structural_equal(out, _typed(relay.Function([x], relay.nn.relu(y))))


@pytest.mark.spec("OPT-1")
def test_optimized_module_computes_the_same_values() -> None:
    func, values = _conv_bn(with_bias=True)
    data = np.random.default_rng(1).uniform(-1, 1, (1, 2, 4, 4)).astype("float32")
    want = relay.create_executor(mod=IRModule.from_expr(func)).evaluate()(x=data, **values)
    for level in range(5):
        with tvm.transform.PassContext(opt_level=level):
            out, _ = relay.optimize(IRModule.from_expr(func), target="llvm", params=values)
        got = relay.create_executor(mod=out).evaluate()(data)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.spec("OPT-1")
def test_function_input_is_deprecated_and_bad_input_rejected() -> None:
    func, values = _conv_bn()
    with pytest.warns(DeprecationWarning, match="IRModule"):
        out, params = relay.optimize(func, params={"w": values["w"]})
    assert params == {}
    main = out["main"]
    assert isinstance(main, relay.Function)
    assert [p.name_hint for p in main.params] == ["x", "gamma", "beta", "mean", "var"]
    with pytest.raises(DiagnosticError, match="IRModule"):
        relay.optimize(relay.var("x"))  # type: ignore[arg-type]  # the wrong type on purpose


@pytest.mark.spec("OPT-1")
def test_passes_run_in_the_target_scope() -> None:
    mod = _typed(relay.Function([relay.var("x", shape=(2,))], relay.const(1.0)))
    targets = ((None, "llvm"), ("cuda", "cuda"), (Target("c"), "c"), ({"kind": "numba"}, "numba"))
    for target, want in targets:
        recorder = _Recorder()
        with tvm.transform.PassContext(instruments=[recorder]):
            optimize(mod, target=target)
        assert recorder.targets
        assert all(t is not None and t.kind.name == want for t in recorder.targets)
    recorder = _Recorder()
    with Target("numba"), tvm.transform.PassContext(instruments=[recorder]):
        optimize(mod)
    assert all(t is not None and t.kind.name == "numba" for t in recorder.targets)


@pytest.mark.spec("OPT-2")
def test_bind_params_by_name() -> None:
    assert bind_params_by_name is relay.interpreter.bind_params_by_name
    assert relay.build_module.create_executor is relay.create_executor
    x = relay.var("x", shape=(2,))
    y = relay.var("y", shape=(2,))
    func = relay.Function([x, y], x * y)
    text = func.astext()
    bound = bind_params_by_name(func, {"y": np.array([3.0, 4.0], "float32"), "z": 1.0})
    assert func.astext() == text
    expected = relay.Function([x], x * relay.const(np.array([3.0, 4.0], "float32")))
    tvm.ir.assert_structural_equal(bound, expected)
    twice = relay.Function([x, relay.var("x", shape=(2,))], x)
    with pytest.raises(DiagnosticError, match="'x'"):
        bind_params_by_name(twice, {"x": np.zeros(2, "float32")})


@pytest.mark.spec("OPT-3")
def test_pass_sequence_is_tvms_order() -> None:
    sequence = [(p.info.name, p.info.opt_level) for p in pass_sequence(Target("llvm"))]
    assert sequence == PIPELINE


@pytest.mark.spec("OPT-3")
@pytest.mark.parametrize("level", [0, 1, 2, 3, 4])
def test_passes_run_by_opt_level(level: int) -> None:
    mod = _typed(relay.Function([relay.var("x", shape=(2,))], relay.const(1.0)))
    recorder = _Recorder()
    with tvm.transform.PassContext(opt_level=level, instruments=[recorder], disabled_pass=OTHERS):
        optimize(mod)
    ran = [n for n in recorder.names if n not in ("InferType", "sequential")]
    want = [n for n, lvl in PIPELINE if lvl <= level and n != "InferType" and n not in OTHERS]
    assert ran == [*want, "InlineGlobals"]


@pytest.mark.spec("OPT-3")
def test_required_and_disabled_passes() -> None:
    x = relay.var("x", shape=(1, 16))
    mod = _typed(relay.Function([x], relay.exp(x)))
    with tvm.transform.PassContext(opt_level=3, required_pass=["FastMath"]):
        fast, _ = relay.optimize(mod, target="llvm", params=None)
    assert "fast_exp" in fast.astext()
    softmax = _typed(relay.Function([x], relay.nn.softmax(x)))
    with tvm.transform.PassContext(opt_level=3, required_pass=["FastMath"]):
        fast, _ = relay.optimize(softmax, target="llvm")
    assert "nn.fast_softmax" in fast.astext()
    with tvm.transform.PassContext(opt_level=4, disabled_pass=["FastMath"]):
        slow, _ = relay.optimize(mod)
    assert "fast_exp" not in slow.astext()


@pytest.mark.spec("OPT-3")
def test_level_2_keeps_common_subexpressions_level_3_shares_them() -> None:
    x = relay.var("x", shape=(2, 3))
    b = relay.var("b", shape=(3,))
    before = relay.Function(
        [x, b], relay.add(relay.nn.bias_add(x, b, axis=-1), relay.nn.bias_add(x, b, axis=-1))
    )
    mod = IRModule.from_expr(before)
    tvm.ir.assert_structural_equal(_opt(mod, 2), _typed(before))
    shared = relay.add(x, b)
    tvm.ir.assert_structural_equal(_opt(mod, 3), _typed(relay.Function([x, b], shared + shared)))


@pytest.mark.spec("OPT-3")
def test_unused_functions_and_inline() -> None:
    mod = IRModule()
    p = relay.var("p", shape=(2,))
    mod["unused"] = relay.Function([p], p)
    q = relay.var("q", shape=(2,))
    mod["twice"] = relay.Function([q], q + q).with_attr("Inline", 1)
    x = relay.var("x", shape=(2,))
    mod["main"] = relay.Function([x], mod.get_global_var("twice")(x))
    level0 = _opt(mod, 0)
    assert sorted(gv.name_hint for gv in level0.functions) == ["main", "unused"]
    level1 = _opt(mod, 1)
    assert [gv.name_hint for gv in level1.functions] == ["main"]
    tvm.ir.assert_structural_equal(level1["main"], _typed(relay.Function([x], x + x))["main"])


@pytest.mark.spec("OPT-3")
def test_split_args_uses_the_targets_bound() -> None:
    inputs = [relay.var(f"p{i}", shape=(1, 2)) for i in range(6)]
    mod = IRModule.from_expr(relay.Function(inputs, relay.concatenate(inputs, axis=0)))
    assert "stop_fusion" not in _opt(mod, target="llvm").astext()
    split = _opt(mod, target="cuda -max_function_args=4").astext()
    assert split.count("annotation.stop_fusion") == 3
