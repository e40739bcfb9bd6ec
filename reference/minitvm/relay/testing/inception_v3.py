"""Inception v3 (TVM ``python/tvm/relay/testing/inception_v3.py``, after MXNet's symbol of
Szegedy et al., "Rethinking the Inception Architecture for Computer Vision").

Every convolution is conv2d + batch_norm (without scale, epsilon 2e-5) + relu. The stem has
five of them and two max pools; then three 7A modules, a 7B reduction, four 7C modules
(factorized 7x7 towers), a 7D reduction and two 7E modules (split 3x3 towers), each
concatenating its towers along the channels; the head is an 8x8 average pool, flatten, a
dense layer with bias (its bias named ``fc2_bias``, as in TVM) and a softmax.
"""

from __future__ import annotations

from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.testing import layers
from minitvm.relay.testing.init import create_workload
from minitvm.runtime.ndarray import NDArray

__all__ = ["get_net", "get_workload"]

Pair = tuple[int, int]


def Conv(  # noqa: N802  (TVM's name)
    data: Expr,
    num_filter: int,
    kernel: Pair = (1, 1),
    stride: Pair = (1, 1),
    pad: Pair = (0, 0),
    name: str | None = None,
    suffix: str = "",
) -> Expr:
    conv = layers.conv2d(
        data,
        channels=int(num_filter),
        kernel_size=kernel,
        strides=stride,
        padding=pad,
        name=f"{name}{suffix}_conv1",
    )
    bn = layers.batch_norm_infer(conv, epsilon=2e-5, scale=False, name=f"{name}{suffix}_bn")
    return relay.nn.relu(data=bn)


def Pooling(  # noqa: N802  (TVM's name)
    data: Expr, kernel: Pair, stride: Pair, pad: Pair, pool_type: str, name: str
) -> Expr:
    if pool_type == "max":
        return relay.nn.max_pool2d(data=data, pool_size=kernel, strides=stride, padding=pad)
    if pool_type == "avg":
        return relay.nn.avg_pool2d(
            data=data, pool_size=kernel, strides=stride, padding=pad, count_include_pad=True
        )
    raise TVMError(f"inception_v3: invalid pooling type {pool_type!r}")


def _chain(data: Expr, name: str, convs: list[tuple[int, Pair, Pair, Pair, str]]) -> Expr:
    """Convolutions in sequence: (filters, kernel, stride, pad, suffix) each."""
    out = data
    for num_filter, kernel, stride, pad, suffix in convs:
        out = Conv(out, num_filter, kernel=kernel, stride=stride, pad=pad, name=name, suffix=suffix)
    return out


_ONE = (1, 1)
_ZERO = (0, 0)


def Inception7A(  # noqa: N802
    data: Expr,
    num_1x1: int,
    num_3x3_red: int,
    num_3x3_1: int,
    num_3x3_2: int,
    num_5x5_red: int,
    num_5x5: int,
    pool: str,
    proj: int,
    name: str,
) -> Expr:
    tower_1x1 = Conv(data, num_1x1, name=f"{name}_conv")
    tower_5x5 = _chain(
        data,
        f"{name}_tower",
        [(num_5x5_red, _ONE, _ONE, _ZERO, "_conv"), (num_5x5, (5, 5), _ONE, (2, 2), "_conv_1")],
    )
    tower_3x3 = _chain(
        data,
        f"{name}_tower_1",
        [
            (num_3x3_red, _ONE, _ONE, _ZERO, "_conv"),
            (num_3x3_1, (3, 3), _ONE, _ONE, "_conv_1"),
            (num_3x3_2, (3, 3), _ONE, _ONE, "_conv_2"),
        ],
    )
    pooling = Pooling(data, (3, 3), _ONE, _ONE, pool, f"{pool}_pool_{name}_pool")
    cproj = Conv(pooling, proj, name=f"{name}_tower_2", suffix="_conv")
    return relay.concatenate((tower_1x1, tower_5x5, tower_3x3, cproj), axis=1)


def Inception7B(  # noqa: N802
    data: Expr,
    num_3x3: int,
    num_d3x3_red: int,
    num_d3x3_1: int,
    num_d3x3_2: int,
    pool: str,
    name: str,
) -> Expr:
    tower_3x3 = Conv(data, num_3x3, kernel=(3, 3), pad=_ZERO, stride=(2, 2), name=f"{name}_conv")
    tower_d3x3 = _chain(
        data,
        f"{name}_tower",
        [
            (num_d3x3_red, _ONE, _ONE, _ZERO, "_conv"),
            (num_d3x3_1, (3, 3), _ONE, _ONE, "_conv_1"),
            (num_d3x3_2, (3, 3), (2, 2), _ZERO, "_conv_2"),
        ],
    )
    pooling = Pooling(data, (3, 3), (2, 2), _ZERO, "max", f"max_pool_{name}_pool")
    return relay.concatenate((tower_3x3, tower_d3x3, pooling), axis=1)


def Inception7C(  # noqa: N802
    data: Expr,
    num_1x1: int,
    num_d7_red: int,
    num_d7_1: int,
    num_d7_2: int,
    num_q7_red: int,
    num_q7_1: int,
    num_q7_2: int,
    num_q7_3: int,
    num_q7_4: int,
    pool: str,
    proj: int,
    name: str,
) -> Expr:
    row, col = ((1, 7), (0, 3)), ((7, 1), (3, 0))
    tower_1x1 = Conv(data, num_1x1, kernel=_ONE, name=f"{name}_conv")
    tower_d7 = _chain(
        data,
        f"{name}_tower",
        [
            (num_d7_red, _ONE, _ONE, _ZERO, "_conv"),
            (num_d7_1, row[0], _ONE, row[1], "_conv_1"),
            (num_d7_2, col[0], _ONE, col[1], "_conv_2"),
        ],
    )
    tower_q7 = _chain(
        data,
        f"{name}_tower_1",
        [
            (num_q7_red, _ONE, _ONE, _ZERO, "_conv"),
            (num_q7_1, col[0], _ONE, col[1], "_conv_1"),
            (num_q7_2, row[0], _ONE, row[1], "_conv_2"),
            (num_q7_3, col[0], _ONE, col[1], "_conv_3"),
            (num_q7_4, row[0], _ONE, row[1], "_conv_4"),
        ],
    )
    pooling = Pooling(data, (3, 3), _ONE, _ONE, pool, f"{pool}_pool_{name}_pool")
    cproj = Conv(pooling, proj, kernel=_ONE, name=f"{name}_tower_2", suffix="_conv")
    return relay.concatenate((tower_1x1, tower_d7, tower_q7, cproj), axis=1)


def Inception7D(  # noqa: N802
    data: Expr,
    num_3x3_red: int,
    num_3x3: int,
    num_d7_3x3_red: int,
    num_d7_1: int,
    num_d7_2: int,
    num_d7_3x3: int,
    pool: str,
    name: str,
) -> Expr:
    tower_3x3 = _chain(
        data,
        f"{name}_tower",
        [(num_3x3_red, _ONE, _ONE, _ZERO, "_conv"), (num_3x3, (3, 3), (2, 2), _ZERO, "_conv_1")],
    )
    tower_d7_3x3 = _chain(
        data,
        f"{name}_tower_1",
        [
            (num_d7_3x3_red, _ONE, _ONE, _ZERO, "_conv"),
            (num_d7_1, (1, 7), _ONE, (0, 3), "_conv_1"),
            (num_d7_2, (7, 1), _ONE, (3, 0), "_conv_2"),
            (num_d7_3x3, (3, 3), (2, 2), _ZERO, "_conv_3"),
        ],
    )
    pooling = Pooling(data, (3, 3), (2, 2), _ZERO, pool, f"{pool}_pool_{name}_pool")
    return relay.concatenate((tower_3x3, tower_d7_3x3, pooling), axis=1)


def Inception7E(  # noqa: N802
    data: Expr,
    num_1x1: int,
    num_d3_red: int,
    num_d3_1: int,
    num_d3_2: int,
    num_3x3_d3_red: int,
    num_3x3: int,
    num_3x3_d3_1: int,
    num_3x3_d3_2: int,
    pool: str,
    proj: int,
    name: str,
) -> Expr:
    tower_1x1 = Conv(data, num_1x1, kernel=_ONE, name=f"{name}_conv")
    tower_d3 = Conv(data, num_d3_red, name=f"{name}_tower", suffix="_conv")
    tower_d3_a = Conv(
        tower_d3, num_d3_1, kernel=(1, 3), pad=(0, 1), name=f"{name}_tower", suffix="_mixed_conv"
    )
    tower_d3_b = Conv(
        tower_d3, num_d3_2, kernel=(3, 1), pad=(1, 0), name=f"{name}_tower", suffix="_mixed_conv_1"
    )
    tower_3x3_d3 = _chain(
        data,
        f"{name}_tower_1",
        [(num_3x3_d3_red, _ONE, _ONE, _ZERO, "_conv"), (num_3x3, (3, 3), _ONE, _ONE, "_conv_1")],
    )
    name_1 = f"{name}_tower_1"
    tower_3x3_d3_a = Conv(
        tower_3x3_d3, num_3x3_d3_1, kernel=(1, 3), pad=(0, 1), name=name_1, suffix="_mixed_conv"
    )
    tower_3x3_d3_b = Conv(
        tower_3x3_d3, num_3x3_d3_2, kernel=(3, 1), pad=(1, 0), name=name_1, suffix="_mixed_conv_1"
    )
    pooling = Pooling(data, (3, 3), _ONE, _ONE, pool, f"{pool}_pool_{name}_pool")
    cproj = Conv(pooling, proj, kernel=_ONE, name=f"{name}_tower_2", suffix="_conv")
    towers = (tower_1x1, tower_d3_a, tower_d3_b, tower_3x3_d3_a, tower_3x3_d3_b, cproj)
    return relay.concatenate(towers, axis=1)


def get_net(
    batch_size: int, num_classes: int, image_shape: tuple[int, ...], dtype: str
) -> Function:
    """The network for ``image_shape`` (3x299x299 for ImageNet)."""
    data = relay.var("data", shape=(batch_size, *image_shape), dtype=dtype)
    # stage 1
    conv = Conv(data, 32, kernel=(3, 3), stride=(2, 2), name="conv")
    conv_1 = Conv(conv, 32, kernel=(3, 3), name="conv_1")
    conv_2 = Conv(conv_1, 64, kernel=(3, 3), pad=(1, 1), name="conv_2")
    pool = Pooling(conv_2, (3, 3), (2, 2), _ZERO, "max", "pool")
    # stage 2
    conv_3 = Conv(pool, 80, kernel=(1, 1), name="conv_3")
    conv_4 = Conv(conv_3, 192, kernel=(3, 3), name="conv_4")
    pool1 = Pooling(conv_4, (3, 3), (2, 2), _ZERO, "max", "pool1")
    # stage 3
    in3a = Inception7A(pool1, 64, 64, 96, 96, 48, 64, "avg", 32, "mixed")
    in3b = Inception7A(in3a, 64, 64, 96, 96, 48, 64, "avg", 64, "mixed_1")
    in3c = Inception7A(in3b, 64, 64, 96, 96, 48, 64, "avg", 64, "mixed_2")
    in3d = Inception7B(in3c, 384, 64, 96, 96, "max", "mixed_3")
    # stage 4
    in4a = Inception7C(in3d, 192, 128, 128, 192, 128, 128, 128, 128, 192, "avg", 192, "mixed_4")
    in4b = Inception7C(in4a, 192, 160, 160, 192, 160, 160, 160, 160, 192, "avg", 192, "mixed_5")
    in4c = Inception7C(in4b, 192, 160, 160, 192, 160, 160, 160, 160, 192, "avg", 192, "mixed_6")
    in4d = Inception7C(in4c, 192, 192, 192, 192, 192, 192, 192, 192, 192, "avg", 192, "mixed_7")
    in4e = Inception7D(in4d, 192, 320, 192, 192, 192, 192, "max", "mixed_8")
    # stage 5
    in5a = Inception7E(in4e, 320, 384, 384, 384, 448, 384, 384, 384, "avg", 192, "mixed_9")
    in5b = Inception7E(in5a, 320, 384, 384, 384, 448, 384, 384, 384, "max", 192, "mixed_10")
    # head
    pool = Pooling(in5b, (8, 8), _ONE, _ZERO, "avg", "global_pool")
    flatten = relay.nn.batch_flatten(pool)
    fc1 = relay.nn.dense(
        flatten, layers.dense_weight(flatten, num_classes, "fc1_weight"), units=num_classes
    )
    fc1 = relay.nn.bias_add(fc1, layers.channel_param(fc1, "fc2_bias", -1), axis=-1)
    net = relay.nn.softmax(data=fc1)
    return relay.Function(relay.analysis.free_vars(net), net)


def get_workload(
    batch_size: int = 1,
    num_classes: int = 1000,
    image_shape: tuple[int, ...] = (3, 299, 299),
    dtype: str = "float32",
) -> tuple[IRModule, dict[str, NDArray]]:
    """The Inception v3 module and its parameters."""
    return create_workload(get_net(batch_size, num_classes, image_shape, dtype))
