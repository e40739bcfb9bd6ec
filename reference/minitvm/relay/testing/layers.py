"""Layer helpers for the model zoo (TVM ``python/tvm/relay/testing/layers.py``).

Each helper builds one operator call and, when a parameter is not given, creates it as a
variable named ``<name>_weight``, ``<name>_bias``, ``<name>_gamma``... as TVM's do.

TVM creates those variables without a type and lets the operator's type relation assign it
(``Conv2DRel`` gives the weight ``(channels, in_channels / groups, kh, kw)``). minitvm's
relations run forwards only (TY-5), so here the helper computes the same type itself, from the
type of ``data``, and annotates the variable. The module InferType then produces is the one
TVM's produces, since InferType fills the missing annotations in TVM too. The type of ``data``
comes from ``InferTypeLocal``, which records types in place and trusts those already recorded,
so typing a network layer by layer costs time linear in its size.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.ir.type import TensorType
from minitvm.relay.builder import var
from minitvm.relay.expr import Expr, Var
from minitvm.relay.op.nn import nn
from minitvm.relay.transform.type_infer import InferTypeLocal

__all__ = [
    "batch_norm_infer",
    "channel_param",
    "conv2d",
    "conv2d_transpose",
    "conv_kernel_layout",
    "dense_add_bias",
    "dense_weight",
    "tensor_type",
]

IntOrTuple = nn.IntOrTuple


def tensor_type(data: Expr) -> TensorType:
    """The tensor type of ``data``, an expression over annotated variables."""
    ty = InferTypeLocal(data)
    if not isinstance(ty, TensorType):
        raise DiagnosticError(f"layers: the layer input must be a tensor, got {ty}")
    return ty


def _axis(ty: TensorType, axis: int, what: str) -> int:
    if not -ty.ndim <= axis < ty.ndim:
        raise DiagnosticError(f"layers: {what} axis {axis} is out of range for {ty}")
    return axis % ty.ndim


def channel_param(data: Expr, name: str, axis: int = 1) -> Var:
    """A per-channel parameter (bias, gamma, beta, moving mean or variance) of ``data``:
    shape ``(data.shape[axis],)`` and ``data``'s dtype, as ``BiasAddRel``/``BatchNormRel``
    assign it."""
    ty = tensor_type(data)
    return var(name, shape=(ty.shape[_axis(ty, axis, "channel")],), dtype=ty.dtype)


def dense_weight(data: Expr, units: int, name: str) -> Var:
    """``nn.dense``'s weight for ``data``: ``(units, data.shape[-1])`` (``MatmulRel``)."""
    ty = tensor_type(data)
    if ty.ndim == 0:
        raise DiagnosticError(f"layers: dense needs an input of rank >= 1, got {ty}")
    return var(name, shape=(units, ty.shape[-1]), dtype=ty.dtype)


def _kernel(name: str, extents: dict[str, int], kernel_layout: str, dtype: str) -> Var:
    """A kernel whose extents are given per letter of its canonical layout, permuted into
    ``kernel_layout`` (TVM's ``BijectiveLayout.BackwardShape``)."""
    if sorted(kernel_layout) != sorted(extents):
        expected = "".join(extents)
        raise DiagnosticError(
            f"layers: kernel layout {kernel_layout!r} is not a permutation of {expected!r}"
        )
    return var(name, shape=tuple(extents[c] for c in kernel_layout), dtype=dtype)


def _in_channels(data: Expr, data_layout: str) -> tuple[int, str]:
    """The channel extent and the dtype of ``data`` laid out as ``data_layout``."""
    ty = tensor_type(data)
    if "C" not in data_layout or len(data_layout) != ty.ndim:
        raise DiagnosticError(f"layers: data layout {data_layout!r} does not fit {ty}")
    return ty.shape[data_layout.index("C")], ty.dtype


def _window(
    kernel_size: IntOrTuple | None, channels: int | None, what: str
) -> tuple[int, int, int]:
    """``(channels, kh, kw)``, which a created weight's shape needs."""
    if kernel_size is None or channels is None:
        raise DiagnosticError(
            f"layers.{what}: channels and kernel_size are needed to create the weight"
        )
    ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(ks) != 2:
        raise DiagnosticError(f"layers.{what}: kernel_size must have 2 values, got {ks}")
    return channels, ks[0], ks[1]


def conv2d(
    data: Expr,
    weight: Expr | None = None,
    *,
    name: str,
    strides: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    dilation: IntOrTuple = (1, 1),
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCHW",
    kernel_layout: str = "OIHW",
    out_layout: str = "",
    out_dtype: str = "",
) -> Expr:
    """``nn.conv2d`` with the weight ``<name>_weight`` created when not given."""
    if weight is None:
        out_channels, kh, kw = _window(kernel_size, channels, "conv2d")
        in_channels, dtype = _in_channels(data, data_layout)
        oihw = {"O": out_channels, "I": in_channels // groups, "H": kh, "W": kw}
        weight = _kernel(name + "_weight", oihw, kernel_layout, dtype)
    return nn.conv2d(
        data,
        weight,
        strides=strides,
        padding=padding,
        dilation=dilation,
        groups=groups,
        channels=channels,
        kernel_size=kernel_size,
        data_layout=data_layout,
        kernel_layout=kernel_layout,
        out_layout=out_layout,
        out_dtype=out_dtype,
    )


def conv2d_transpose(
    data: Expr,
    weight: Expr | None = None,
    *,
    name: str,
    strides: IntOrTuple = (1, 1),
    padding: IntOrTuple = (0, 0),
    dilation: IntOrTuple = (1, 1),
    groups: int = 1,
    channels: int | None = None,
    kernel_size: IntOrTuple | None = None,
    data_layout: str = "NCHW",
    kernel_layout: str = "IOHW",
    out_layout: str = "",
    output_padding: IntOrTuple = (0, 0),
    out_dtype: str = "",
) -> Expr:
    """``nn.conv2d_transpose`` with ``<name>_weight`` created when not given: ``(in_channels,
    channels / groups, kh, kw)`` in IOHW order (``Conv2DTransposeRel``)."""
    if weight is None:
        out_channels, kh, kw = _window(kernel_size, channels, "conv2d_transpose")
        in_channels, dtype = _in_channels(data, data_layout)
        iohw = {"I": in_channels, "O": out_channels // groups, "H": kh, "W": kw}
        weight = _kernel(name + "_weight", iohw, kernel_layout, dtype)
    return nn.conv2d_transpose(
        data,
        weight,
        strides=strides,
        padding=padding,
        dilation=dilation,
        groups=groups,
        channels=channels,
        kernel_size=kernel_size,
        data_layout=data_layout,
        kernel_layout=kernel_layout,
        out_layout=out_layout,
        output_padding=output_padding,
        out_dtype=out_dtype,
    )


def batch_norm_infer(
    data: Expr,
    gamma: Expr | None = None,
    beta: Expr | None = None,
    moving_mean: Expr | None = None,
    moving_var: Expr | None = None,
    *,
    name: str,
    axis: int = 1,
    epsilon: float = 1e-5,
    center: bool = True,
    scale: bool = True,
) -> Expr:
    """The normalized output (field 0) of ``nn.batch_norm``; ``<name>_gamma``, ``_beta``,
    ``_moving_mean`` and ``_moving_var`` are created when not given."""
    params: list[Expr] = []
    for given, suffix in (
        (gamma, "_gamma"),
        (beta, "_beta"),
        (moving_mean, "_moving_mean"),
        (moving_var, "_moving_var"),
    ):
        params.append(given if given is not None else channel_param(data, name + suffix, axis))
    g, b, m, v = params
    return nn.batch_norm(data, g, b, m, v, axis=axis, epsilon=epsilon, center=center, scale=scale)[
        0
    ]


def dense_add_bias(
    data: Expr,
    weight: Expr | None = None,
    bias: Expr | None = None,
    units: int | None = None,
    *,
    name: str,
    out_dtype: str = "",
) -> Expr:
    """``nn.bias_add(nn.dense(data, weight, units), bias, axis=-1)``, creating
    ``<name>_weight`` and ``<name>_bias`` when not given."""
    if weight is None:
        if units is None:
            raise DiagnosticError("layers.dense_add_bias: units is needed to create the weight")
        weight = dense_weight(data, units, name + "_weight")
    out = nn.dense(data, weight, units, out_dtype=out_dtype)
    if bias is None:
        bias = channel_param(out, name + "_bias", -1)
    return nn.bias_add(out, bias, axis=-1)


def conv_kernel_layout(data_layout: str, is_depthwise: bool = False) -> str:
    """The kernel layout the zoo pairs with a data layout."""
    table: Sequence[tuple[str, str, str]] = (("NCHW", "OIHW", "OIHW"), ("NHWC", "HWIO", "HWOI"))
    for layout, regular, depthwise in table:
        if layout == data_layout:
            return depthwise if is_depthwise else regular
    raise DiagnosticError(f"layers.conv_kernel_layout: unknown data layout {data_layout!r}")
