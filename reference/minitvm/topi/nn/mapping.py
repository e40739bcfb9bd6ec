"""Per-channel affine maps: ``bias_add`` and ``scale_shift_*`` (TVM's ``topi/nn/mapping.py``)."""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir.expr import PrimExpr, Var
from minitvm.topi.utils import get_const_int, normalize_axis

__all__ = ["bias_add", "scale_shift_nchw", "scale_shift_nhwc"]


def _one(t: Tensor | tuple[Tensor, ...]) -> Tensor:
    if isinstance(t, tuple):
        raise DiagnosticError("expected one output")
    return t


def _check_channel(x: Tensor, axis: int, *vectors: Tensor) -> None:
    n = get_const_int(x.shape[axis])
    for v in vectors:
        if v.ndim != 1 or get_const_int(v.shape[0]) != n:
            raise DiagnosticError(
                f"expected a vector of {n} elements for axis {axis}, got shape "
                f"({', '.join(map(str, v.shape))})"
            )


def bias_add(data: Tensor, bias: Tensor, axis: int = 1) -> Tensor:
    """``data + bias`` with ``bias`` laid along ``axis`` (``topi.nn.bias_add``)."""
    axis = normalize_axis(axis, data.ndim, "bias_add")
    _check_channel(data, axis, bias)

    def body(*i: Var) -> PrimExpr:
        return data(*i) + bias(i[axis])

    return _one(compute(data.shape, body, name="T_add", tag="broadcast"))


def scale_shift_nchw(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Scale: Tensor,  # noqa: N803  (TVM's parameter name)
    Shift: Tensor,  # noqa: N803  (TVM's parameter name)
) -> Tensor:
    """``Input * Scale[c] + Shift[c]`` for NCHW input."""
    _check_channel(Input, 1, Scale, Shift)

    def body(b: Var, c: Var, i: Var, j: Var) -> PrimExpr:
        return Input(b, c, i, j) * Scale(c) + Shift(c)

    return _one(compute(Input.shape, body, name="ScaleShift"))


def scale_shift_nhwc(
    Input: Tensor,  # noqa: N803  (TVM's parameter name)
    Scale: Tensor,  # noqa: N803  (TVM's parameter name)
    Shift: Tensor,  # noqa: N803  (TVM's parameter name)
) -> Tensor:
    """``Input * Scale[c] + Shift[c]`` for NHWC input."""
    _check_channel(Input, 3, Scale, Shift)

    def body(b: Var, i: Var, j: Var, c: Var) -> PrimExpr:
        return Input(b, i, j, c) * Scale(c) + Shift(c)

    return _one(compute(Input.shape, body, name="ScaleShift"))
