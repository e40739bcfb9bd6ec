"""Samplers of the convolutions (``nn.conv1d/2d/3d`` and their transposes), the windowed,
adaptive and global pools, and the 2-D pooling gradients.

Layouts are random permutations of the canonical letters; padding is written in each of its
three forms (one value, one per axis, befores then afters). Pool windows always reach the
input, so no max is the padding's lowest value and no average divides by 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from minitvm.ir.attrs import Attrs
from minitvm.ir.type import TensorType
from minitvm.relay.op.defs import conv as conv_defs
from minitvm.relay.op.defs import pool as pool_defs
from minitvm.relay.testing.samplers.base import (
    ALL,
    NUMERIC,
    Arg,
    Hint,
    OpCall,
    OpSampler,
    SampleFn,
    castable,
    dtype_of,
    flag,
    in_layout,
    permuted,
)

__all__ = ["SAMPLERS"]

SPATIAL = {1: "W", 2: "HW", 3: "DHW"}
_CONV = {1: conv_defs.Conv1DAttrs, 2: conv_defs.Conv2DAttrs, 3: conv_defs.Conv3DAttrs}
_TCONV = {
    1: conv_defs.Conv1DTransposeAttrs,
    2: conv_defs.Conv2DTransposeAttrs,
    3: conv_defs.Conv3DTransposeAttrs,
}
_MAX = {1: pool_defs.MaxPool1DAttrs, 2: pool_defs.MaxPool2DAttrs, 3: pool_defs.MaxPool3DAttrs}
_AVG = {1: pool_defs.AvgPool1DAttrs, 2: pool_defs.AvgPool2DAttrs, 3: pool_defs.AvgPool3DAttrs}
_ADAPTIVE = {
    1: pool_defs.AdaptivePool1DAttrs,
    2: pool_defs.AdaptivePool2DAttrs,
    3: pool_defs.AdaptivePool3DAttrs,
}


def _padding(draw: st.DrawFn, pads: list[tuple[int, int]]) -> tuple[int, ...]:
    """``pads`` in one of TVM's forms (the shorter ones only when they say the same)."""
    befores = tuple(b for b, _ in pads)
    afters = tuple(a for _, a in pads)
    if befores == afters and flag(draw):
        if len(set(befores)) == 1 and flag(draw):
            return befores[:1]
        return befores
    return befores + afters


@dataclass(frozen=True)
class _Window:
    """One spatial axis of a convolution or pool."""

    size: int
    k: int
    stride: int
    dilation: int
    pads: tuple[int, int]

    @property
    def dilated(self) -> int:
        return (self.k - 1) * self.dilation + 1


def _window(draw: st.DrawFn, max_k: int = 3) -> _Window:
    k, s, dl = draw(st.integers(1, max_k)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    dk = (k - 1) * dl + 1
    pads = (draw(st.integers(0, dk - 1)), draw(st.integers(0, dk - 1)))
    return _Window(dk + draw(st.integers(0, 2)), k, s, dl, pads)


def _batch(draw: st.DrawFn) -> int:
    """A batch or channel extent: 1 or 2, and now and then 0 (an empty tensor)."""
    return draw(st.sampled_from([1, 2, 1, 2, 0]))


def _unpadded(w: _Window) -> _Window:
    return _Window(w.size, w.k, w.stride, w.dilation, (0, 0))


# --- convolutions ---------------------------------------------------------------------------------


def _conv(d: int, transpose: bool) -> SampleFn:
    name = f"nn.conv{d}d" + ("_transpose" if transpose else "")
    sp = SPATIAL[d]

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        groups = draw(st.sampled_from([1, 1, 2]))
        cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
        wins = [_window(draw, 3 if d < 3 else 2) for _ in range(d)]
        if transpose:  # the padding must leave an output
            wins = [w if sum(w.pads) < w.dilated else _unpadded(w) for w in wins]
        data_layout = permuted(draw, "NC" + sp)
        kernel_canonical = ("IO" if transpose else "OI") + sp
        kernel_layout = permuted(draw, kernel_canonical)
        out_layout = permuted(draw, "NC" + sp) if flag(draw) else ""
        dt = dtype_of(draw, ALL, hint)
        wt = dt if flag(draw) else draw(st.sampled_from(ALL))
        out_dtype = "" if flag(draw) else draw(st.sampled_from(ALL))
        n, c = _batch(draw), groups * cg
        sizes = [w.size if not transpose else draw(st.integers(1, 3)) for w in wins]
        data = TensorType(in_layout((n, c, *sizes), "NC" + sp, data_layout), dt)
        ks = tuple(w.k for w in wins)
        wshape = (c, og, *ks) if transpose else (groups * og, cg, *ks)
        weight = TensorType(in_layout(wshape, kernel_canonical, kernel_layout), wt)
        out_channels = groups * og
        common = {
            "strides": tuple(w.stride for w in wins),
            "padding": _padding(draw, [w.pads for w in wins]),
            "dilation": tuple(w.dilation for w in wins),
            "groups": groups,
            "channels": out_channels if flag(draw) else None,
            "kernel_size": ks if flag(draw) else None,
            "data_layout": data_layout,
            "kernel_layout": kernel_layout,
            "out_layout": out_layout,
            "out_dtype": out_dtype,
        }
        attrs: Attrs
        if transpose:
            out_pad = tuple(draw(st.integers(0, w.stride - 1)) for w in wins)
            attrs = _TCONV[d](output_padding=out_pad, **common)  # type: ignore[arg-type]  # the fields common to the three attrs types
        else:
            attrs = _CONV[d](**common)  # type: ignore[arg-type]  # the fields common to the three attrs types
        target = out_dtype or dt
        return OpCall(name, (castable(data, target), castable(weight, target)), attrs)

    return sample


def _conv_bad(d: int, transpose: bool) -> SampleFn:
    name = f"nn.conv{d}d" + ("_transpose" if transpose else "")
    sp = SPATIAL[d]

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        data = TensorType((1, 4, *(3,) * d), "float32")
        weight = TensorType((4, 2, *(2,) * d) if transpose else (2, 4, *(2,) * d), "float32")
        kind = draw(st.integers(0, 6))
        fields: dict[str, object] = {}
        if kind == 0:  # channels disagree with the weight
            weight = TensorType((3, 2, *(2,) * d) if transpose else (2, 3, *(2,) * d), "float32")
        elif kind == 1:
            fields["groups"] = 3
        elif kind == 2:  # a window larger than the input, or an output cut to nothing
            fields["padding" if transpose else "dilation"] = (4,) * d if transpose else (3,) * d
        elif kind == 3:
            data = TensorType((1, 4, *(3,) * (d + 1)), "float32")
        elif kind == 4:
            fields["data_layout"] = draw(st.sampled_from(["NC" + sp + "c", "N" + sp, "XY" + sp]))
        elif kind == 5:
            fields["kernel_size"] = (5,) * d
        else:  # strides and dilation must be positive, padding non-negative
            field = draw(st.sampled_from(["strides", "padding", "dilation"]))
            fields[field] = (-1 if field == "padding" else 0,) * d
        if transpose and draw(st.integers(0, 3)) == 0:
            fields = {"strides": (1,) * d, "output_padding": (1,) * d}
        attrs_type = _TCONV[d] if transpose else _CONV[d]
        return OpCall(name, (Arg(data), Arg(weight)), attrs_type(**fields))  # type: ignore[arg-type]  # fields of the attrs type

    return sample


# --- pools ---------------------------------------------------------------------------------------


def _reaches_input(w: _Window, ceil_mode: bool) -> bool:
    """Whether every window of the axis has a tap inside the input."""
    numerator = w.size + w.pads[0] + w.pads[1] - w.dilated + (w.stride - 1 if ceil_mode else 0)
    for i in range(numerator // w.stride + 1):
        start = i * w.stride - w.pads[0]
        if not any(0 <= start + j * w.dilation < w.size for j in range(w.k)):
            return False
    return True


@dataclass(frozen=True)
class _PoolGeometry:
    wins: list[_Window]
    ceil_mode: bool
    layout: str
    out_layout: str
    data: TensorType


def _pool_geometry(draw: st.DrawFn, d: int, hint: Hint) -> _PoolGeometry:
    sp = SPATIAL[d]
    wins = [_window(draw, 3 if d < 3 else 2) for _ in range(d)]
    ceil_mode = flag(draw)
    if not all(_reaches_input(w, ceil_mode) for w in wins):
        wins = [_unpadded(w) for w in wins]
        ceil_mode = False
    layout = permuted(draw, "NC" + sp)
    out_layout = permuted(draw, "NC" + sp) if flag(draw) else ""
    canonical = (_batch(draw), _batch(draw), *(w.size for w in wins))
    data = TensorType(in_layout(canonical, "NC" + sp, layout), dtype_of(draw, NUMERIC, hint))
    return _PoolGeometry(wins, ceil_mode, layout, out_layout, data)


def _pool_attrs(draw: st.DrawFn, g: _PoolGeometry, d: int, avg: bool) -> Attrs:
    fields: dict[str, object] = {
        "pool_size": tuple(w.k for w in g.wins),
        "strides": tuple(w.stride for w in g.wins),
        "dilation": tuple(w.dilation for w in g.wins),
        "padding": _padding(draw, [w.pads for w in g.wins]),
        "layout": g.layout,
        "out_layout": g.out_layout,
        "ceil_mode": g.ceil_mode,
    }
    if avg:
        return _AVG[d](count_include_pad=flag(draw), **fields)  # type: ignore[arg-type]  # the fields of the pool attrs types
    return _MAX[d](**fields)  # type: ignore[arg-type]  # the fields of the pool attrs types


def _pool(d: int, avg: bool) -> SampleFn:
    name = f"nn.{'avg' if avg else 'max'}_pool{d}d"

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        g = _pool_geometry(draw, d, hint)
        return OpCall(name, (Arg(g.data),), _pool_attrs(draw, g, d, avg))

    return sample


def _pool_bad(d: int, avg: bool) -> SampleFn:
    name = f"nn.{'avg' if avg else 'max'}_pool{d}d"
    attrs_type = _AVG[d] if avg else _MAX[d]

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        data = TensorType((1, 2, *(3,) * d), "float32")
        kind = draw(st.integers(0, 5))
        fields: dict[str, object] = {"pool_size": (2,) * d}
        if kind == 0:
            data = TensorType((1, 2, *(3,) * (d + 1)), "float32")
        elif kind == 1:
            data = TensorType(data.shape, "bool")
        elif kind == 2:
            fields["pool_size"] = (4,) * d
        elif kind == 3:
            fields["pool_size"] = (0,) * d
        elif kind == 4:
            fields["layout"] = draw(st.sampled_from(["NC", "NCX" + SPATIAL[d], ""]))
        else:  # 1, d or 2 * d entries are valid
            fields["padding"] = (0,) * (2 if d == 3 else 3)
        return OpCall(name, (Arg(data),), attrs_type(**fields))  # type: ignore[arg-type]  # fields of the attrs type

    return sample


def _pooled(g: _PoolGeometry, d: int) -> TensorType:
    """The type of ``g``'s pool output (for the gradients' ``out_grad``)."""
    sp = SPATIAL[d]
    canonical = [g.data.shape[g.layout.index(c)] for c in "NC" + sp]
    for i, w in enumerate(g.wins):
        num = w.size + w.pads[0] + w.pads[1] - w.dilated + (w.stride - 1 if g.ceil_mode else 0)
        canonical[2 + i] = num // w.stride + 1
    return TensorType(in_layout(canonical, "NC" + sp, g.out_layout or g.layout), g.data.dtype)


def _pool_grad(avg: bool) -> SampleFn:
    name = f"nn.{'avg' if avg else 'max'}_pool2d_grad"

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        g = _pool_geometry(draw, 2, hint)
        g = _PoolGeometry(g.wins, g.ceil_mode, g.layout, "", g.data)
        return OpCall(name, (Arg(_pooled(g, 2)), Arg(g.data)), _pool_attrs(draw, g, 2, avg))

    return sample


def _pool_grad_bad(avg: bool) -> SampleFn:
    name = f"nn.{'avg' if avg else 'max'}_pool2d_grad"
    attrs_type = _AVG[2] if avg else _MAX[2]

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        data = TensorType((1, 2, 4, 4), "float32")
        if flag(draw):  # out_grad is not the pooled type
            grad = TensorType((1, 2, 4, 4), "float32")
            return OpCall(name, (Arg(grad), Arg(data)), attrs_type(pool_size=(2, 2)))
        return OpCall(name, (Arg(data), Arg(data)), attrs_type(pool_size=(5, 5)))

    return sample


# --- adaptive and global pools -------------------------------------------------------------------


def _adaptive(d: int, is_max: bool) -> SampleFn:
    name = f"nn.adaptive_{'max' if is_max else 'avg'}_pool{d}d"
    sp = SPATIAL[d]

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        layout = permuted(draw, "NC" + sp)
        spatial = [draw(st.sampled_from([1, 2, 3, 4, 0])) for _ in range(d)]
        canonical = (_batch(draw), _batch(draw), *spatial)
        data = TensorType(in_layout(canonical, "NC" + sp, layout), dtype_of(draw, NUMERIC, hint))
        # An empty spatial axis pools only to its own (empty) extent.
        kind = draw(st.integers(0, 2)) if all(spatial) else 0
        size: tuple[int, ...] = ()
        if kind == 1:
            size = (draw(st.integers(1, 4)),)
        elif kind == 2:
            size = tuple(draw(st.integers(1, 4)) for _ in range(d))
        out_layout = permuted(draw, "NC" + sp) if flag(draw) else ""
        return OpCall(name, (Arg(data),), _ADAPTIVE[d](size, layout, out_layout))

    return sample


def _adaptive_bad(d: int, is_max: bool) -> SampleFn:
    name = f"nn.adaptive_{'max' if is_max else 'avg'}_pool{d}d"

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        data = TensorType((1, 2, *(3,) * d), "float32")
        kind = draw(st.integers(0, 3))
        attrs = _ADAPTIVE[d]((2,) * (d + 1))
        if kind == 1:
            attrs = _ADAPTIVE[d]((0,))
        elif kind == 2:
            data = TensorType((1, 2, *(3,) * (d + 1)), "float32")
            attrs = _ADAPTIVE[d]()
        elif kind == 3:
            data = TensorType(data.shape, "bool")
            attrs = _ADAPTIVE[d]()
        return OpCall(name, (Arg(data),), attrs)

    return sample


def _global(is_max: bool) -> OpSampler:
    name = f"nn.global_{'max' if is_max else 'avg'}_pool2d"

    def sample(draw: st.DrawFn, hint: Hint) -> OpCall:
        layout = permuted(draw, "NCHW")
        canonical = (_batch(draw), _batch(draw), draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        data = TensorType(in_layout(canonical, "NCHW", layout), dtype_of(draw, NUMERIC, hint))
        out_layout = permuted(draw, "NCHW") if flag(draw) else ""
        return OpCall(name, (Arg(data),), pool_defs.GlobalPool2DAttrs(layout, out_layout))

    def bad(draw: st.DrawFn, hint: Hint) -> OpCall:
        kind = draw(st.integers(0, 2))
        if kind == 0:
            return OpCall(name, (Arg(TensorType((1, 2, 3), "float32")),))
        if kind == 1:
            return OpCall(name, (Arg(TensorType((1, 2, 3, 3), "bool")),))
        data = Arg(TensorType((1, 2, 3, 3), "float32"))
        return OpCall(name, (data,), pool_defs.GlobalPool2DAttrs("NCHWc"))

    return OpSampler(sample, (bad,), accepts=NUMERIC, bounded=True)


def _samplers() -> dict[str, OpSampler]:
    table: dict[str, OpSampler] = {}
    for d in (1, 2, 3):
        for t in (False, True):
            name = f"nn.conv{d}d" + ("_transpose" if t else "")
            table[name] = OpSampler(_conv(d, t), (_conv_bad(d, t),))
        for avg in (False, True):
            name = f"nn.{'avg' if avg else 'max'}_pool{d}d"
            table[name] = OpSampler(
                _pool(d, avg), (_pool_bad(d, avg),), accepts=NUMERIC, bounded=True
            )
        for is_max in (True, False):
            name = f"nn.adaptive_{'max' if is_max else 'avg'}_pool{d}d"
            table[name] = OpSampler(
                _adaptive(d, is_max), (_adaptive_bad(d, is_max),), accepts=NUMERIC, bounded=True
            )
    for avg in (False, True):
        name = f"nn.{'avg' if avg else 'max'}_pool2d_grad"
        table[name] = OpSampler(_pool_grad(avg), (_pool_grad_bad(avg),), accepts=NUMERIC)
    table["nn.global_max_pool2d"] = _global(True)
    table["nn.global_avg_pool2d"] = _global(False)
    return table


SAMPLERS: dict[str, OpSampler] = _samplers()
