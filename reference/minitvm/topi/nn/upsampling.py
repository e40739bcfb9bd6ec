"""``upsampling``: nearest-neighbour or bilinear resizing by scale factors
(TVM's ``topi/nn/upsampling.py`` on top of ``topi/image/resize.py``).

The output size is ``round(size * scale)``. Output pixel ``y`` samples the input at
``y * in / out`` (``asymmetric``), or ``y * (in - 1) / (out - 1)`` with ``align_corners``.
Nearest neighbour takes ``floor(position + 1e-5)`` (``round`` with ``align_corners``);
bilinear interpolates the four neighbours. Indices are clamped into the image.
"""

from __future__ import annotations

from minitvm.error import DiagnosticError
from minitvm.te.operation import compute
from minitvm.te.tensor import Tensor
from minitvm.tir import intrin
from minitvm.tir import op as tir_op
from minitvm.tir.expr import PrimExpr, Var, const
from minitvm.topi.utils import get_const_tuple

__all__ = ["upsampling"]


def _position(out_i: PrimExpr, in_size: int, out_size: int, align_corners: bool) -> PrimExpr:
    f = "float32"
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        scale = in_size / out_size
    return tir_op.cast(out_i, f) * const(scale, f)


def _check(layout: str, method: str) -> str:
    if layout not in ("NCHW", "NHWC"):
        raise DiagnosticError(f"upsampling: layout must be NCHW or NHWC, got {layout!r}")
    method = method[2:] if method.startswith("bi") else method
    if method not in ("nearest_neighbor", "linear"):
        raise DiagnosticError(
            f"upsampling: method must be nearest_neighbor or bilinear, got {method!r}"
        )
    return method


def upsampling(
    data: Tensor,
    scale_h: float,
    scale_w: float,
    layout: str = "NCHW",
    method: str = "nearest_neighbor",
    align_corners: bool = False,
    output_shape: tuple[int, int] | None = None,
) -> Tensor:
    method = _check(layout, method)
    shape = get_const_tuple(data.shape)
    h_ax, w_ax = (2, 3) if layout == "NCHW" else (1, 2)
    in_h, in_w = shape[h_ax], shape[w_ax]
    if output_shape is not None:
        out_h, out_w = int(output_shape[0]), int(output_shape[1])
    else:
        out_h, out_w = round(in_h * scale_h), round(in_w * scale_w)
    oshape = list(shape)
    oshape[h_ax], oshape[w_ax] = out_h, out_w

    def pixel(ax: tuple[Var, ...], y: PrimExpr, x: PrimExpr) -> PrimExpr:
        idx: list[PrimExpr] = list(ax)
        idx[h_ax] = tir_op.max(tir_op.min(y, in_h - 1), 0)
        idx[w_ax] = tir_op.max(tir_op.min(x, in_w - 1), 0)
        return data(*idx)

    def nearest(*ax: Var) -> PrimExpr:
        py = _position(ax[h_ax], in_h, out_h, align_corners)
        px = _position(ax[w_ax], in_w, out_w, align_corners)
        if align_corners:
            iy, ix = intrin.round(py), intrin.round(px)
        else:
            eps = const(1e-5, "float32")
            iy, ix = intrin.floor(py + eps), intrin.floor(px + eps)
        return pixel(ax, tir_op.cast(iy, "int32"), tir_op.cast(ix, "int32"))

    def bilinear(*ax: Var) -> PrimExpr:
        py = _position(ax[h_ax], in_h, out_h, align_corners)
        px = _position(ax[w_ax], in_w, out_w, align_corners)
        y0, x0 = tir_op.cast(intrin.floor(py), "int32"), tir_op.cast(intrin.floor(px), "int32")
        y1, x1 = tir_op.cast(intrin.ceil(py), "int32"), tir_op.cast(intrin.ceil(px), "int32")
        dy, dx = py - tir_op.cast(y0, "float32"), px - tir_op.cast(x0, "float32")
        one = const(1.0, "float32")

        def val(y: PrimExpr, x: PrimExpr) -> PrimExpr:
            return tir_op.cast(pixel(ax, y, x), "float32")

        top = val(y0, x0) * (one - dx) + val(y0, x1) * dx
        bottom = val(y1, x0) * (one - dx) + val(y1, x1) * dx
        return tir_op.cast(top * (one - dy) + bottom * dy, data.dtype)

    return compute(
        oshape,
        nearest if method == "nearest_neighbor" else bilinear,
        name="resize",
        tag="injective",
    )
