"""ZOO: the model zoo of ``relay.testing``: layer helpers, initializers, create_workload and
the networks, checked against shapes, operator counts and values derived independently."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import erf
from typing_extensions import override

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.module import IRModule
from minitvm.relay import testing
from minitvm.relay.function import Function
from minitvm.relay.testing import (
    dcgan,
    densenet,
    dqn,
    inception_v3,
    layers,
    lstm,
    mlp,
    mobilenet,
    resnet,
    squeezenet,
    vgg,
)
from minitvm.relay.testing.init import Constant, Initializer, Xavier, create_workload
from minitvm.runtime.ndarray import NDArray

F32 = npt.NDArray[Any]
Params = dict[str, NDArray]


def typed(func: Function) -> IRModule:
    return relay.transform.InferType()(IRModule.from_expr(func))


def ret_type(mod: IRModule) -> relay.Type:
    main = mod["main"]
    assert isinstance(main, Function)
    ty = main.checked_type
    assert isinstance(ty, relay.FuncType)
    return ty.ret_type


def main_of(mod: IRModule) -> Function:
    main = mod["main"]
    assert isinstance(main, Function)
    return main


def run(mod: IRModule, *args: object, **kwargs: object) -> F32:
    out = relay.create_executor("debug", mod=mod).evaluate()(*args, **kwargs)
    assert isinstance(out, NDArray)
    return out.numpy()


def arrays(params: Params) -> dict[str, F32]:
    return {k: v.numpy() for k, v in params.items()}


# --- ZOO-1: the package -------------------------------------------------------------------


@pytest.mark.spec("ZOO-1")
def test_relay_testing_exposes_the_zoo() -> None:
    for name in (
        "mlp",
        "resnet",
        "densenet",
        "mobilenet",
        "inception_v3",
        "vgg",
        "squeezenet",
        "dqn",
        "dcgan",
        "lstm",
        "layers",
        "init",
        "create_workload",
        "rand",
        "count_ops",
        "run_opt_pass",
        "run_infer_type",
    ):
        assert hasattr(relay.testing, name), name
    assert relay.testing.create_workload is create_workload


# TVM v0.14's defaults, read from python/tvm/relay/testing/*.py.
TVM_DEFAULTS: list[tuple[Callable[..., object], dict[str, object]]] = [
    (
        resnet.get_workload,
        {
            "batch_size": 1,
            "num_classes": 1000,
            "num_layers": 18,
            "image_shape": (3, 224, 224),
            "layout": "NCHW",
            "dtype": "float32",
        },
    ),
    (
        densenet.get_workload,
        {
            "densenet_size": 121,
            "classes": 1000,
            "batch_size": 4,
            "image_shape": (3, 224, 224),
            "dtype": "float32",
        },
    ),
    (
        mobilenet.get_workload,
        {
            "batch_size": 1,
            "num_classes": 1000,
            "image_shape": (3, 224, 224),
            "dtype": "float32",
            "layout": "NCHW",
        },
    ),
    (
        inception_v3.get_workload,
        {"batch_size": 1, "num_classes": 1000, "image_shape": (3, 299, 299), "dtype": "float32"},
    ),
    (
        vgg.get_workload,
        {
            "batch_size": inspect.Parameter.empty,
            "num_classes": 1000,
            "image_shape": (3, 224, 224),
            "dtype": "float32",
            "num_layers": 11,
            "batch_norm": False,
        },
    ),
    (
        squeezenet.get_workload,
        {
            "batch_size": 1,
            "num_classes": 1000,
            "version": "1.0",
            "image_shape": (3, 224, 224),
            "dtype": "float32",
        },
    ),
    (
        mlp.get_workload,
        {
            "batch_size": inspect.Parameter.empty,
            "num_classes": 10,
            "image_shape": (1, 28, 28),
            "dtype": "float32",
        },
    ),
    (
        dqn.get_workload,
        {
            "batch_size": inspect.Parameter.empty,
            "num_actions": 18,
            "image_shape": (4, 84, 84),
            "dtype": "float32",
            "layout": "NCHW",
        },
    ),
    (
        dcgan.get_workload,
        {
            "batch_size": inspect.Parameter.empty,
            "oshape": (3, 64, 64),
            "ngf": 128,
            "random_len": 100,
            "layout": "NCHW",
            "dtype": "float32",
        },
    ),
    (
        lstm.get_workload,
        {
            "iterations": inspect.Parameter.empty,
            "num_hidden": inspect.Parameter.empty,
            "batch_size": 1,
            "dtype": "float32",
        },
    ),
]


@pytest.mark.spec("ZOO-1")
@pytest.mark.parametrize(
    ("func", "defaults"), TVM_DEFAULTS, ids=lambda x: getattr(x, "__module__", "")
)
def test_get_workload_signatures_are_tvms(
    func: Callable[..., object], defaults: dict[str, object]
) -> None:
    params = inspect.signature(func).parameters
    got = {
        name: p.default
        for name, p in params.items()
        if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    assert got == defaults


@pytest.mark.spec("ZOO-1")
def test_count_ops_and_rand() -> None:
    x = relay.var("x", shape=(2,))
    shared = relay.nn.relu(x)
    expr = relay.add(shared, relay.nn.relu(shared))
    assert testing.count_ops(expr) == {"nn.relu": 2, "add": 1}
    np.random.seed(3)
    a = testing.rand("float32", 2, 3)
    np.random.seed(3)
    b = testing.rand("float32", 2, 3)
    assert a.shape == (2, 3)
    assert a.dtype == "float32"
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ((a.numpy() >= 0) & (a.numpy() < 1)).all()


# --- ZOO-2: layer helpers ------------------------------------------------------------------


@pytest.mark.spec("ZOO-2")
def test_conv2d_helper_creates_the_weight_tvm_infers() -> None:
    data = relay.var("data", shape=(1, 6, 8, 8), dtype="float16")
    got = layers.conv2d(data, name="c", channels=4, kernel_size=(3, 1), groups=2, padding=(1, 0))
    weight = relay.var("c_weight", shape=(4, 3, 3, 1), dtype="float16")
    expected = relay.nn.conv2d(
        data, weight, channels=4, kernel_size=(3, 1), groups=2, padding=(1, 0)
    )
    tvm.ir.assert_structural_equal(got, expected, map_free_vars=True)

    nhwc = relay.var("data", shape=(1, 8, 8, 6))
    got = layers.conv2d(
        nhwc,
        name="c",
        channels=4,
        kernel_size=3,
        data_layout="NHWC",
        kernel_layout=layers.conv_kernel_layout("NHWC"),
    )
    hwio = relay.var("c_weight", shape=(3, 3, 6, 4))
    expected = relay.nn.conv2d(
        nhwc, hwio, channels=4, kernel_size=3, data_layout="NHWC", kernel_layout="HWIO"
    )
    tvm.ir.assert_structural_equal(got, expected, map_free_vars=True)


@pytest.mark.spec("ZOO-2")
def test_conv2d_transpose_dense_and_batch_norm_helpers() -> None:
    data = relay.var("data", shape=(1, 6, 4, 4))
    got = layers.conv2d_transpose(data, name="d", channels=3, kernel_size=(4, 4), strides=(2, 2))
    weight = relay.var("d_weight", shape=(6, 3, 4, 4))
    expected = relay.nn.conv2d_transpose(
        data, weight, channels=3, kernel_size=(4, 4), strides=(2, 2)
    )
    tvm.ir.assert_structural_equal(got, expected, map_free_vars=True)

    flat = relay.var("flat", shape=(2, 5))
    got = layers.dense_add_bias(flat, units=7, name="fc")
    dense = relay.nn.dense(flat, relay.var("fc_weight", shape=(7, 5)), 7)
    expected = relay.nn.bias_add(dense, relay.var("fc_bias", shape=(7,)), axis=-1)
    tvm.ir.assert_structural_equal(got, expected, map_free_vars=True)

    got = layers.batch_norm_infer(data, name="bn", axis=1, epsilon=2e-5, scale=False)
    g, b, m, v = (
        relay.var(f"bn_{s}", shape=(6,)) for s in ("gamma", "beta", "moving_mean", "moving_var")
    )
    bn = relay.nn.batch_norm(data, g, b, m, v, axis=1, epsilon=2e-5, scale=False)[0]
    tvm.ir.assert_structural_equal(got, bn, map_free_vars=True)
    names = [v.name_hint for v in relay.analysis.free_vars(got)]
    assert names == ["data", "bn_gamma", "bn_beta", "bn_moving_mean", "bn_moving_var"]


@pytest.mark.spec("ZOO-2")
def test_helpers_keep_given_parameters() -> None:
    data = relay.var("data", shape=(1, 4))
    w = relay.var("w", shape=(3, 4))
    b = relay.var("b", shape=(3,))
    out = layers.dense_add_bias(data, w, b, units=3, name="unused")
    assert relay.analysis.free_vars(out) == [data, w, b]


@pytest.mark.spec("ZOO-2")
def test_helper_errors_are_diagnostics() -> None:
    data = relay.var("data", shape=(1, 3, 8, 8))
    with pytest.raises(DiagnosticError, match="channels and kernel_size"):
        layers.conv2d(data, name="c", kernel_size=(3, 3))
    with pytest.raises(DiagnosticError, match="units"):
        layers.dense_add_bias(relay.nn.batch_flatten(data), name="fc")
    with pytest.raises(DiagnosticError, match="not a permutation"):
        layers.conv2d(data, name="c", channels=2, kernel_size=1, kernel_layout="OIHWX")
    with pytest.raises(DiagnosticError, match="does not fit"):
        layers.conv2d(data, name="c", channels=2, kernel_size=1, data_layout="NCW")
    with pytest.raises(DiagnosticError, match="out of range"):
        layers.channel_param(data, "b", axis=4)
    with pytest.raises(DiagnosticError, match="unknown data layout"):
        layers.conv_kernel_layout("NCDHW")
    assert layers.conv_kernel_layout("NHWC", is_depthwise=True) == "HWOI"


# --- ZOO-3 and ZOO-4: create_workload and the initializers ------------------------------------


def _xavier(rng: np.random.RandomState, shape: tuple[int, ...]) -> F32:
    hw = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
    scale = np.sqrt(3.0 / ((shape[0] * hw + shape[1] * hw) / 2.0))
    return rng.uniform(-scale, scale, size=shape).astype("float32")


@pytest.mark.spec("ZOO-3", "ZOO-4")
def test_create_workload_draws_xavier_weights_in_parameter_order() -> None:
    mod, params = mlp.get_workload(1)
    assert list(params) == [p.name_hint for p in main_of(mod).params][1:]
    rng = np.random.RandomState(0)
    np.testing.assert_array_equal(params["fc1_weight"].numpy(), _xavier(rng, (128, 784)))
    np.testing.assert_array_equal(params["fc2_weight"].numpy(), _xavier(rng, (64, 128)))
    np.testing.assert_array_equal(params["fc3_weight"].numpy(), _xavier(rng, (10, 64)))
    for name in ("fc1_bias", "fc2_bias", "fc3_bias"):
        assert not params[name].numpy().any()
    for value in params.values():
        assert value.device == tvm.cpu(0)


@pytest.mark.spec("ZOO-3")
def test_create_workload_is_deterministic_and_seeded() -> None:
    _, a = dqn.get_workload(1, image_shape=(4, 36, 36))
    _, b = dqn.get_workload(1, image_shape=(4, 36, 36))
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())
    net = dqn.get_net(1, image_shape=(4, 36, 36))
    _, c = create_workload(net, seed=1)
    assert not np.array_equal(a["conv1_weight"].numpy(), c["conv1_weight"].numpy())
    # the conv weight's fans count the window: (4 * 64 + 32 * 64) / 2
    np.testing.assert_array_equal(
        c["conv1_weight"].numpy(), _xavier(np.random.RandomState(1), (32, 4, 8, 8))
    )


@pytest.mark.spec("ZOO-3")
def test_create_workload_params_have_the_parameter_types() -> None:
    mod, params = resnet.get_workload(num_layers=18, image_shape=(3, 32, 32), dtype="float16")
    main = main_of(mod)
    assert "data" not in params
    types = {p.name_hint: p.checked_type for p in main.params}
    assert params.keys() == set(types) - {"data"}
    for name, value in params.items():
        ty = types[name]
        assert isinstance(ty, relay.TensorType)
        assert (value.shape, value.dtype) == (ty.shape, "float16"), name
    assert params["bn_data_moving_var"].numpy().tolist() == [1.0, 1.0, 1.0]
    assert params["bn1_gamma"].numpy().min() == 1.0


@pytest.mark.spec("ZOO-3")
def test_create_workload_takes_a_module_and_custom_initializers() -> None:
    class Normal(Initializer):
        @override
        def _init_weight(self, name: str, arr: npt.NDArray[np.generic]) -> None:
            arr[...] = np.random.normal(size=arr.shape)

    net = mlp.get_net(2, num_classes=3, image_shape=(4,))
    _, a = create_workload(IRModule.from_expr(net), Normal(), seed=7)
    _, b = create_workload(net, Normal(), seed=7)
    np.testing.assert_array_equal(a["fc2_weight"].numpy(), b["fc2_weight"].numpy())
    np.testing.assert_array_equal(
        a["fc1_weight"].numpy(),
        np.random.RandomState(7).normal(size=(128, 4)).astype("float32"),
    )


@pytest.mark.spec("ZOO-3")
def test_create_workload_rejects_unknown_parameter_names() -> None:
    x = relay.var("data", shape=(2,))
    w = relay.var("scale_factor", shape=(2,))
    with pytest.raises(TVMError, match="scale_factor"):
        create_workload(relay.Function([x, w], relay.multiply(x, w)))


@pytest.mark.spec("ZOO-4")
def test_initializer_rules_by_suffix() -> None:
    init = Constant()
    for name, expected in (
        ("a_bias", 0.0),
        ("a_gamma", 1.0),
        ("a_beta", 0.0),
        ("a_moving_mean", 0.0),
        ("a_moving_var", 1.0),
        ("a_weight", 1 / 6),
    ):
        arr = np.full((2, 3), 5.0, dtype="float32")
        init(name, arr)
        np.testing.assert_allclose(arr, np.full((2, 3), expected), rtol=1e-7)
    with pytest.raises(NotImplementedError):
        Initializer()("w_weight", np.zeros((2, 2)))


@pytest.mark.spec("ZOO-4")
def test_xavier_factor_types_and_depthwise() -> None:
    shape = (8, 2, 3, 3)
    for factor_type, factor in (("in", 2 * 9), ("out", 8 * 9), ("avg", (2 * 9 + 8 * 9) / 2)):
        arr = np.zeros(shape)
        np.random.seed(4)
        Xavier(factor_type=factor_type, magnitude=2)("conv_weight", arr)
        bound = np.sqrt(2 / factor)
        expected = np.random.RandomState(4).uniform(-bound, bound, size=shape)
        np.testing.assert_array_equal(arr, expected)
    arr = np.zeros(shape)
    np.random.seed(4)
    Xavier()("block_depthwise_weight", arr)
    expected = np.random.RandomState(4).uniform(-np.sqrt(3 / 9), np.sqrt(3 / 9), size=shape)
    np.testing.assert_array_equal(arr, expected)
    with pytest.raises(TVMError, match="at least 2 dimensions"):
        Xavier()("v_weight", np.zeros((3,)))
    with pytest.raises(TVMError, match="factor_type"):
        Xavier(factor_type="sum")
    with pytest.raises(TVMError, match="random type"):
        Xavier(rnd_type="gaussian")


# --- ZOO-5: output types ------------------------------------------------------------------


NETS: dict[str, tuple[Callable[[], Function], tuple[int, ...]]] = {
    "resnet-18": (lambda: resnet.get_net(1, 1000, num_layers=18), (1, 1000)),
    "resnet-50": (lambda: resnet.get_net(2, 1000, num_layers=50), (2, 1000)),
    "resnet-50-nhwc": (
        lambda: resnet.get_net(1, 10, num_layers=50, image_shape=(224, 224, 3), layout="NHWC"),
        (1, 10),
    ),
    "resnet-110-cifar": (lambda: resnet.get_net(1, 10, 110, image_shape=(3, 28, 28)), (1, 10)),
    "resnet-164-cifar": (lambda: resnet.get_net(1, 10, 164, image_shape=(3, 28, 28)), (1, 10)),
    "mobilenet": (lambda: mobilenet.mobile_net(), (1, 1000)),
    "mobilenet-nhwc": (
        lambda: mobilenet.mobile_net(data_shape=(1, 224, 224, 3), layout="NHWC"),
        (1, 1000),
    ),
    "inception_v3": (lambda: inception_v3.get_net(1, 1000, (3, 299, 299), "float32"), (1, 1000)),
    "vgg-16-bn": (lambda: vgg.get_net(1, (3, 224, 224), 1000, "float32", 16, True), (1, 1000)),
    "squeezenet-1.0": (
        lambda: squeezenet.get_net(1, (3, 224, 224), 1000, "1.0", "float32"),
        (1, 1000),
    ),
    "squeezenet-1.1": (
        lambda: squeezenet.get_net(1, (3, 224, 224), 1000, "1.1", "float32"),
        (1, 1000),
    ),
    "mlp": (lambda: mlp.get_net(3), (3, 10)),
    "dqn": (lambda: dqn.get_net(1), (1, 18)),
    "dqn-nhwc": (lambda: dqn.get_net(1, image_shape=(84, 84, 4), layout="NHWC"), (1, 18)),
    "dcgan": (lambda: dcgan.get_net(2), (2, 3, 64, 64)),
    "dcgan-nhwc": (lambda: dcgan.get_net(1, layout="NHWC"), (1, 64, 64, 3)),
    "lstm": (lambda: lstm.get_net(3, 8, batch_size=2), (2, 8)),
}


@pytest.mark.spec("ZOO-5")
@pytest.mark.parametrize("name", sorted(NETS))
def test_networks_type_check_to_tvms_output_type(name: str) -> None:
    build, shape = NETS[name]
    assert ret_type(typed(build())) == relay.TensorType(shape, "float32")


@pytest.mark.spec("ZOO-5")
def test_densenet_workload_type() -> None:
    mod, params = densenet.get_workload(densenet_size=121, batch_size=1, classes=10)
    assert ret_type(mod) == relay.TensorType((1, 10), "float32")
    assert params["dense_weight"].shape == (10, 512)
    with pytest.raises(TVMError, match="121, 161, 169, 201"):
        densenet.get_workload(densenet_size=100)


@pytest.mark.spec("ZOO-5")
def test_invalid_configurations_are_errors() -> None:
    with pytest.raises(TVMError, match="layers"):
        resnet.get_net(1, 10, num_layers=19)
    with pytest.raises(TVMError, match="layers"):
        resnet.get_net(1, 10, num_layers=21, image_shape=(3, 28, 28))
    with pytest.raises(TVMError, match="11, 13, 16, 19"):
        vgg.get_net(1, (3, 224, 224), 10, "float32", num_layers=12)
    with pytest.raises(TVMError, match="version"):
        squeezenet.get_net(1, (3, 224, 224), 10, "2.0", "float32")
    with pytest.raises(TVMError, match="64x64"):
        dcgan.get_net(1, oshape=(3, 32, 32))
    with pytest.raises(TVMError, match="iterations"):
        lstm.get_net(0, 4)


# --- ZOO-6: structure --------------------------------------------------------------------


# Operator counts derived from the architectures: e.g. ResNet-50 has a stem conv, 16
# bottleneck units of 3 convs and a projection shortcut in the first unit of each of the 4
# stages (53 convs); 51 batch norms (input,
# stem, 3 per unit, head); Inception v3 has 94 convs; DenseNet-121 has 58 dense layers of 2
# convs, a stem and 3 transitions.
OP_COUNTS: dict[str, tuple[Callable[[], Function], dict[str, int]]] = {
    "resnet-50": (
        lambda: resnet.get_net(1, 1000, 50),
        {
            "nn.conv2d": 53,
            "nn.batch_norm": 51,
            "nn.relu": 50,
            "add": 16,
            "nn.max_pool2d": 1,
            "nn.global_avg_pool2d": 1,
            "nn.batch_flatten": 1,
            "nn.dense": 1,
            "nn.bias_add": 1,
            "nn.softmax": 1,
        },
    ),
    "resnet-18-cifar": (
        lambda: resnet.get_net(1, 10, 18, image_shape=(3, 32, 32)),
        {"nn.conv2d": 21, "nn.batch_norm": 18, "nn.relu": 17, "add": 8, "nn.global_avg_pool2d": 1,
         "nn.batch_flatten": 1, "nn.dense": 1, "nn.bias_add": 1, "nn.softmax": 1},
    ),
    "inception_v3": (
        lambda: inception_v3.get_net(1, 1000, (3, 299, 299), "float32"),
        {"nn.conv2d": 94, "nn.batch_norm": 94, "nn.relu": 94, "concatenate": 11,
         "nn.max_pool2d": 5, "nn.avg_pool2d": 9, "nn.batch_flatten": 1, "nn.dense": 1,
         "nn.bias_add": 1, "nn.softmax": 1},
    ),
    "mobilenet": (
        lambda: mobilenet.mobile_net(),
        {"nn.conv2d": 27, "nn.batch_norm": 27, "nn.relu": 27, "nn.global_avg_pool2d": 1,
         "nn.batch_flatten": 1, "nn.dense": 1, "nn.bias_add": 1, "nn.softmax": 1},
    ),
    "vgg-16": (
        lambda: vgg.get_net(1, (3, 224, 224), 1000, "float32", 16),
        {"nn.conv2d": 13, "nn.bias_add": 16, "nn.relu": 15, "nn.max_pool2d": 5,
         "nn.batch_flatten": 1, "nn.dense": 3, "nn.dropout": 2, "nn.softmax": 1},
    ),
    "squeezenet-1.0": (
        lambda: squeezenet.get_net(1, (3, 224, 224), 1000, "1.0", "float32"),
        {"nn.conv2d": 26, "nn.bias_add": 26, "nn.relu": 26, "concatenate": 8,
         "nn.max_pool2d": 3, "nn.dropout": 1, "nn.global_avg_pool2d": 1, "nn.batch_flatten": 1,
         "nn.softmax": 1},
    ),
    "dcgan": (
        lambda: dcgan.get_net(1),
        {"nn.dense": 1, "nn.relu": 4, "reshape": 1, "nn.conv2d_transpose": 4,
         "nn.batch_norm": 3, "tanh": 1},
    ),
    "dqn": (
        lambda: dqn.get_net(1),
        {"nn.conv2d": 3, "nn.bias_add": 5, "nn.relu": 4, "nn.batch_flatten": 1, "nn.dense": 2},
    ),
}  # fmt: skip


@pytest.mark.spec("ZOO-6")
@pytest.mark.parametrize("name", sorted(OP_COUNTS))
def test_networks_have_tvms_operators(name: str) -> None:
    build, counts = OP_COUNTS[name]
    assert testing.count_ops(build()) == counts


@pytest.mark.spec("ZOO-6")
def test_densenet_structure() -> None:
    mod, _ = densenet.get_workload(batch_size=1)
    counts = testing.count_ops(main_of(mod))
    assert counts["nn.conv2d"] == 120
    assert counts["nn.batch_norm"] == 121
    assert counts["concatenate"] == 4
    assert counts["nn.avg_pool2d"] == 4
    assert "nn.softmax" not in counts
    # each dense layer takes the previous layer's output; the block concatenates all six
    params = {p.name_hint: p.checked_type for p in main_of(mod).params}
    assert params["conv2d_1_0_1_weight"] == relay.TensorType((128, 32, 1, 1))
    assert params["conv_t_0_weight"] == relay.TensorType((128, 192, 1, 1))


@pytest.mark.spec("ZOO-6")
def test_parameter_names_and_shapes() -> None:
    def shapes(func: Function) -> dict[str, tuple[int, ...]]:
        out = {}
        for p in main_of(typed(func)).params:
            ty = p.checked_type
            assert isinstance(ty, relay.TensorType)
            out[p.name_hint] = ty.shape
        return out

    r50 = shapes(resnet.get_net(1, 1000, 50))
    assert len(r50) == 1 + 53 + 51 * 4 + 2
    assert r50["conv0_weight"] == (64, 3, 7, 7)
    assert r50["stage1_unit1_conv1_weight"] == (64, 64, 1, 1)
    assert r50["stage1_unit1_sc_weight"] == (256, 64, 1, 1)
    assert r50["stage4_unit3_conv3_weight"] == (2048, 512, 1, 1)
    assert r50["bn_data_gamma"] == (3,)
    assert r50["fc1_weight"] == (1000, 2048)
    assert list(r50)[:6] == [
        "data",
        "bn_data_gamma",
        "bn_data_beta",
        "bn_data_moving_mean",
        "bn_data_moving_var",
        "conv0_weight",
    ]
    mob = shapes(mobilenet.mobile_net(data_shape=(1, 224, 224, 3), layout="NHWC"))
    assert mob["conv_block_1_conv_weight"] == (3, 3, 3, 32)
    assert mob["separable_conv_block_1_weight"] == (3, 3, 32, 1)
    assert mob["separable_conv_block_1_conv2_weight"] == (1, 1, 32, 64)
    assert mob["conv_block_1_bn_gamma"] == (112,)  # TVM normalizes axis 1 here
    inc = shapes(inception_v3.get_net(1, 1000, (3, 299, 299), "float32"))
    assert inc["fc1_weight"] == (1000, 2048)
    assert inc["fc2_bias"] == (1000,)
    assert inc["mixed_4_tower_conv_1_conv1_weight"] == (128, 128, 1, 7)
    gan = shapes(dcgan.get_net(1))
    assert gan["dense_weight"] == (16384, 100)
    assert gan["g2_deconv_weight"] == (1024, 512, 4, 4)
    assert gan["g5_deconv_weight"] == (128, 3, 4, 4)
    vgg11 = shapes(vgg.get_net(1, (3, 224, 224), 1000, "float32"))
    assert vgg11["fc6_weight"] == (4096, 25088)
    assert vgg11["conv5_2_bias"] == (512,)


# --- ZOO-7: evaluation ---------------------------------------------------------------------


def _softmax(x: F32) -> F32:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    out: F32 = e / e.sum(axis=-1, keepdims=True)
    return out


@pytest.mark.spec("ZOO-7")
def test_mlp_evaluates_like_numpy() -> None:
    mod, params = mlp.get_workload(2)
    data = np.random.default_rng(0).standard_normal((2, 1, 28, 28)).astype("float32")
    p = arrays(params)
    h = data.reshape(2, -1)
    for i in (1, 2, 3):
        h = h @ p[f"fc{i}_weight"].T + p[f"fc{i}_bias"]
        if i < 3:
            h = np.maximum(h, 0)
    np.testing.assert_allclose(run(mod, data, **params), _softmax(h), rtol=1e-5, atol=1e-7)


def _sigmoid(x: F32) -> F32:
    out: F32 = 1 / (1 + np.exp(-x))
    return out


@pytest.mark.spec("ZOO-7")
def test_lstm_evaluates_like_numpy() -> None:
    steps, hidden = 3, 5
    mod, params = lstm.get_workload(steps, hidden, batch_size=2)
    rng = np.random.default_rng(1)
    inputs = [rng.standard_normal((2, hidden)).astype("float32") for _ in range(steps)]
    p = arrays(params)
    args: list[object] = []
    seen = 0
    for v in main_of(mod).params:
        if v.name_hint == "data":
            args.append(inputs[seen])
            seen += 1
        else:
            args.append(p[v.name_hint])
    h = c = np.zeros((2, hidden), "float32")
    for i in range(steps):
        gates = inputs[i] @ p[f"i2h_{i}_weight"].T + p[f"i2h_{i}_bias"]
        gates = gates + h @ p[f"h2h_{i}_weight"].T + p[f"h2h_{i}_bias"]
        g_in, g_forget, g_transform, g_out = np.split(gates, 4, axis=1)
        c = _sigmoid(g_forget) * c + _sigmoid(g_in) * np.tanh(g_transform)
        h = _sigmoid(g_out) * np.tanh(c)
    np.testing.assert_allclose(run(mod, *args), h, rtol=1e-5, atol=1e-6)


@pytest.mark.spec("ZOO-7")
@pytest.mark.parametrize(
    ("build", "shape"),
    [
        (
            lambda: resnet.get_workload(num_classes=10, num_layers=18, image_shape=(3, 32, 32)),
            (1, 3, 32, 32),
        ),
        (lambda: squeezenet.get_workload(version="1.1", image_shape=(3, 64, 64)), (1, 3, 64, 64)),
        (lambda: dqn.get_workload(1, image_shape=(4, 36, 36)), (1, 4, 36, 36)),
    ],
    ids=["resnet-18", "squeezenet-1.1", "dqn"],
)
def test_small_networks_evaluate_to_finite_values(
    build: Callable[[], tuple[IRModule, Params]], shape: tuple[int, ...]
) -> None:
    mod, params = build()
    data = np.random.default_rng(2).standard_normal(shape).astype("float32")
    out = run(mod, data, **params)
    expected = ret_type(mod)
    assert isinstance(expected, relay.TensorType)
    assert out.shape == expected.shape
    assert np.isfinite(out).all()
    assert out.std() > 0


# --- ZOO-8: printing and structural equality ---------------------------------------------------


BUILDERS: dict[str, Callable[[], Function]] = {
    "resnet": lambda: resnet.get_net(1, 1000, 18),
    "mobilenet": lambda: mobilenet.mobile_net(),
    "inception_v3": lambda: inception_v3.get_net(1, 1000, (3, 299, 299), "float32"),
    "squeezenet": lambda: squeezenet.get_net(1, (3, 224, 224), 1000, "1.0", "float32"),
    "vgg": lambda: vgg.get_net(1, (3, 224, 224), 1000, "float32", 11, True),
    "dqn": lambda: dqn.get_net(1),
    "dcgan": lambda: dcgan.get_net(1),
    "mlp": lambda: mlp.get_net(1),
    "lstm": lambda: lstm.get_net(2, 4),
}


@pytest.mark.spec("ZOO-8")
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_zoo_modules_print_and_compare(name: str) -> None:
    a, b = typed(BUILDERS[name]()), typed(BUILDERS[name]())
    tvm.ir.assert_structural_equal(a, b)
    assert tvm.ir.structural_hash(a) == tvm.ir.structural_hash(b)
    text = a.astext()
    assert text == b.astext()
    assert text.startswith('#[version = "0.0.5"]\ndef @main(%data')
    for op in testing.count_ops(main_of(a)):
        assert f"{op}(" in text


# DCGAN is left out: its batch_norm epsilon 1e-5 + 1e-12 prints as 1e-05f (TXT-9's six
# significant digits), which TVM's structural equality accepts (doubles within 1e-9) and
# minitvm's, exact, does not.
@pytest.mark.spec("ZOO-8")
@pytest.mark.parametrize("name", sorted(set(BUILDERS) - {"dcgan"}))
def test_zoo_modules_parse_back_from_their_text(name: str) -> None:
    mod = typed(BUILDERS[name]())
    tvm.ir.assert_structural_equal(relay.parse(mod.astext()), mod, map_free_vars=True)


@pytest.mark.spec("ZOO-8")
def test_different_configurations_are_not_equal() -> None:
    a = typed(resnet.get_net(1, 1000, 18))
    b = typed(resnet.get_net(1, 999, 18))
    assert not tvm.ir.structural_equal(a, b)
    c = typed(mobilenet.mobile_net(alpha=0.5))
    d = typed(mobilenet.mobile_net(alpha=0.75))
    assert not tvm.ir.structural_equal(c, d)


# --- ZOO-9: the demo networks -------------------------------------------------------------


def _conv(x: F32, w: F32, pad: int) -> F32:
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, w.shape[2:], axis=(2, 3))
    out: F32 = np.einsum("nchwij,ocij->nohw", windows, w)
    return out


def _pool(x: F32, reduce: Callable[..., F32]) -> F32:
    n, c, h, w = x.shape
    return reduce(x.reshape(n, c, h // 2, 2, w // 2, 2), axis=(3, 5))


@pytest.mark.spec("ZOO-9")
def test_demo_cnn_evaluates_like_numpy() -> None:
    from minitvm.cli import demo_cnn

    mod, inputs = demo_cnn(np.random.default_rng(5))
    names = [v.name_hint for v in main_of(mod).params]
    assert names[0] == "data"
    counts = testing.count_ops(main_of(mod))
    for op in ("nn.conv2d", "nn.batch_norm", "nn.relu", "nn.dense", "nn.softmax"):
        assert counts[op] >= 1
    h = inputs["data"]
    for i, reduce in ((1, np.max), (2, np.mean)):
        h = _conv(h, inputs[f"conv{i}_weight"], 1)
        mean = inputs[f"bn{i}_moving_mean"][:, None, None]
        var = inputs[f"bn{i}_moving_var"][:, None, None]
        gamma = inputs[f"bn{i}_gamma"][:, None, None]
        beta = inputs[f"bn{i}_beta"][:, None, None]
        h = (h - mean) / np.sqrt(var + 1e-5) * gamma + beta
        h = _pool(np.maximum(h, 0), reduce)
    logits = h.reshape(1, -1) @ inputs["fc_weight"].T + inputs["fc_bias"]
    np.testing.assert_allclose(run(mod, **inputs), _softmax(logits), rtol=1e-4, atol=1e-6)


@pytest.mark.spec("ZOO-9")
def test_demo_transformer_evaluates_like_numpy() -> None:
    from minitvm.cli import demo_transformer

    mod, p = demo_transformer(np.random.default_rng(6))
    counts = testing.count_ops(main_of(mod))
    for op in ("nn.layer_norm", "nn.batch_matmul", "nn.matmul", "nn.softmax", "erf"):
        assert counts[op] >= 1

    def norm(x: F32, name: str) -> F32:
        mu = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        out: F32 = (x - mu) / np.sqrt(var + 1e-5) * p[f"{name}_gamma"] + p[f"{name}_beta"]
        return out

    x = p["data"]
    h = norm(x, "ln1")
    q, k, v = (h @ p[f"{n}_weight"].T for n in ("q", "k", "v"))
    attn = _softmax(q @ k.T / np.sqrt(x.shape[1])) @ v
    x1 = x + attn @ p["out_weight"].T
    ff = norm(x1, "ln2") @ p["ff1_weight"] + p["ff1_bias"]
    gelu = 0.5 * ff * (1 + erf(ff / np.sqrt(2)))
    expected = x1 + gelu @ p["ff2_weight"]
    np.testing.assert_allclose(run(mod, **p), expected, rtol=1e-4, atol=1e-5)
