"""Parameter initializers and ``create_workload`` (TVM ``python/tvm/relay/testing/init.py``).

An initializer fills an array in place, choosing the rule by the parameter's name suffix
(MXNet's convention, which TVM kept): ``weight`` is random, ``bias``/``beta``/``mean`` are 0,
``gamma``/``var`` are 1. ``create_workload`` types the network, then initializes every
parameter but ``data`` in the order of ``main``'s parameters after seeding numpy's global
generator, as TVM does, so a custom initializer drawing from ``np.random`` is deterministic
too and the values are those TVM draws for the same parameter order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.type import TensorType
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.transform.type_infer import InferType
from minitvm.runtime.device import cpu
from minitvm.runtime.ndarray import NDArray
from minitvm.runtime.ndarray import array as nd_array

__all__ = ["Constant", "Initializer", "Xavier", "create_workload"]

Array = npt.NDArray[np.generic]

_BY_SUFFIX = (
    ("weight", "_init_weight"),
    ("bias", "_init_bias"),
    ("gamma", "_init_gamma"),
    ("beta", "_init_beta"),
    ("mean", "_init_mean"),
    ("var", "_init_var"),
)


class Initializer:
    """The base class: dispatches on the name's suffix; subclasses define ``_init_weight``."""

    def __init__(self, **kwargs: object) -> None:
        self._kwargs = kwargs

    def __call__(self, desc: str, arr: Array) -> None:
        for suffix, method in _BY_SUFFIX:
            if desc.endswith(suffix):
                getattr(self, method)(desc, arr)
                return
        self._init_default(desc, arr)

    def _init_bias(self, _: str, arr: Array) -> None:
        arr[...] = 0.0

    def _init_gamma(self, _: str, arr: Array) -> None:
        arr[...] = 1.0

    def _init_beta(self, _: str, arr: Array) -> None:
        arr[...] = 0.0

    def _init_mean(self, _: str, arr: Array) -> None:
        arr[...] = 0.0

    def _init_var(self, _: str, arr: Array) -> None:
        arr[...] = 1.0

    def _init_weight(self, name: str, arr: Array) -> None:
        raise NotImplementedError(f"{type(self).__name__} does not initialize weights ({name})")

    def _init_default(self, name: str, _: Array) -> None:
        raise TVMError(
            f"no initialization rule for parameter {name!r}: the name must end in weight, "
            "bias, gamma, beta, mean or var"
        )


class Xavier(Initializer):
    """Glorot's uniform initialization: ``U(-s, s)`` with ``s = sqrt(magnitude / factor)``,
    where the factor is the average (``avg``), input (``in``) or output (``out``) fan of the
    weight; fans count the spatial extents, and a ``depthwise`` weight uses those alone."""

    def __init__(self, rnd_type: str = "uniform", factor_type: str = "avg", magnitude: float = 3):
        super().__init__(rnd_type=rnd_type, factor_type=factor_type, magnitude=magnitude)
        if rnd_type != "uniform":
            raise TVMError(f"Xavier: unknown random type {rnd_type!r} (only 'uniform')")
        if factor_type not in ("avg", "in", "out"):
            raise TVMError(f"Xavier: factor_type must be 'avg', 'in' or 'out', got {factor_type!r}")
        self.rnd_type = rnd_type
        self.factor_type = factor_type
        self.magnitude = float(magnitude)

    @override
    def _init_weight(self, name: str, arr: Array) -> None:
        shape = arr.shape
        if len(shape) < 2:
            raise TVMError(f"Xavier: weight {name!r} must have at least 2 dimensions, got {shape}")
        hw_scale = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
        fan_in, fan_out = shape[1] * hw_scale, shape[0] * hw_scale
        factors = {"avg": (fan_in + fan_out) / 2.0, "in": fan_in, "out": fan_out}
        factor = hw_scale if "depthwise" in name else factors[self.factor_type]
        scale = np.sqrt(self.magnitude / factor)
        arr[...] = np.random.uniform(-scale, scale, size=shape)


class Constant(Initializer):
    """Every weight element is ``1 / size``, so a weight sums to 1."""

    @override
    def _init_weight(self, name: str, arr: Array) -> None:
        arr[...] = 1.0 / arr.size


def create_workload(
    net: Expr | IRModule, initializer: Initializer | None = None, seed: int = 0
) -> tuple[IRModule, dict[str, NDArray]]:
    """The typed module of ``net`` (a function, or a module with ``main``) and its parameters:
    one NDArray per parameter of ``main`` except ``data``, of the parameter's type."""
    mod = net if isinstance(net, IRModule) else IRModule.from_expr(net)
    mod = InferType()(mod)
    main = mod["main"]
    if not isinstance(main, Function):
        raise TVMError(f"create_workload: @main is a {type(main).__name__}, not a function")
    np.random.seed(seed)
    init = initializer if initializer is not None else Xavier()
    # One entry per name, as TVM's dict of parameter types has (the last type wins).
    types = {p.name_hint: p.checked_type for p in main.params if p.name_hint != "data"}
    params: dict[str, NDArray] = {}
    for name, ty in types.items():
        if not isinstance(ty, TensorType):
            raise TVMError(f"create_workload: parameter {name!r} is a {ty}, not a tensor")
        value = np.zeros(ty.concrete_shape, dtype=ty.dtype)
        init(name, value)
        params[name] = nd_array(value, device=cpu(0))
    return mod, params
