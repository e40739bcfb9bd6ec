"""Pooling (TVM's ``include/tvm/topi/nn/pooling.h``).

``pool1d/2d/3d``: windows of ``kernel`` (dilated), moved by ``stride``, over data padded by
``padding`` (all befores, then all afters, per spatial axis of ``layout``). ``ceil_mode`` adds
``stride - 1`` to the after-padding so partial windows count. Max pooling pads with the
dtype's lowest value. Average pooling sums zero-padded windows and divides by the window
positions inside the input and its explicit padding (``count_include_pad``; never the extra
``ceil_mode`` tail) or inside the input alone, at least 1, as TVM counts them; integer
averages use floor division.

``adaptive_pool`` covers ``[floor(i*n/o), ceil((i+1)*n/o))`` for output ``i``; ``global_pool``
is the 1x1 case. ``pool_grad`` sends each output gradient to the first maximum of its window
(max) or spreads it over the window divided by the same count as ``pool2d`` (avg).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import is_float
from minitvm.te.operation import compute, reduce_axis
from minitvm.te.reduction import Reducer, comm_reducer
from minitvm.te.reduction import max as te_max
from minitvm.te.reduction import sum as te_sum
from minitvm.te.tensor import Tensor
from minitvm.tir import op as tir_op
from minitvm.tir.expr import IterVar, PrimExpr, Select, Var, const
from minitvm.topi.nn.pad import pad
from minitvm.topi.nn.utils import expand
from minitvm.topi.utils import get_const_tuple

__all__ = [
    "adaptive_pool",
    "adaptive_pool1d",
    "adaptive_pool3d",
    "global_pool",
    "pool1d",
    "pool2d",
    "pool3d",
    "pool_grad",
]

IntOrSeq = int | Sequence[int]


def _one(t: Tensor | tuple[Tensor, ...]) -> Tensor:
    if isinstance(t, tuple):
        raise DiagnosticError("expected one output")
    return t


def _reduced(e: PrimExpr | tuple[PrimExpr, ...]) -> PrimExpr:
    if isinstance(e, tuple):
        raise DiagnosticError("expected a single-value reduction")
    return e


def _spatial_axes(layout: str, dim: int) -> list[int]:
    letters = {1: "W", 2: "HW", 3: "DHW"}[dim]
    if sorted(layout) != sorted("NC" + letters):
        raise DiagnosticError(f"pooling: unsupported layout {layout!r} for {dim}-d pooling")
    return [layout.index(c) for c in letters]


def _check_type(pool_type: str) -> None:
    if pool_type not in ("max", "avg"):
        raise DiagnosticError(f"pooling: pool_type must be 'max' or 'avg', got {pool_type!r}")


def _geometry(
    shape: tuple[int, ...],
    axes: list[int],
    k: list[int],
    s: list[int],
    d: list[int],
    pb: list[int],
    pa: list[int],
) -> tuple[list[int], list[int], list[int]]:
    """Output shape, and padding before/after per data axis, of a pooling window."""
    out = list(shape)
    before = [0] * len(shape)
    after = [0] * len(shape)
    for i, ax in enumerate(axes):
        size = shape[ax] + pb[i] + pa[i] - ((k[i] - 1) * d[i] + 1)
        if size < 0:
            raise DiagnosticError("pooling: the window is larger than the padded input")
        out[ax] = size // s[i] + 1
        before[ax], after[ax] = pb[i], pa[i]
    return out, before, after


def pool_nd(
    data: Tensor,
    kernel: IntOrSeq,
    stride: IntOrSeq,
    dilation: IntOrSeq,
    padding: Sequence[int],
    pool_type: str,
    ceil_mode: bool,
    layout: str,
    count_include_pad: bool,
) -> Tensor:
    _check_type(pool_type)
    dim = len(layout) - 2
    axes = _spatial_axes(layout, dim)
    shape = get_const_tuple(data.shape)
    k = expand(kernel, dim, "kernel")
    s = expand(stride, dim, "strides")
    d = expand(dilation, dim, "dilation")
    pads = [int(p) for p in padding]
    if len(pads) != 2 * dim:
        raise DiagnosticError(f"pooling: expected {2 * dim} padding values, got {pads}")
    pb, pa = pads[:dim], pads[dim:]
    offset = [st - 1 if ceil_mode else 0 for st in s]
    out, before, after = _geometry(
        shape, axes, k, s, d, pb, [x + o for x, o in zip(pa, offset, strict=True)]
    )
    fill = tir_op.min_value(data.dtype) if pool_type == "max" else const(0, data.dtype)
    padded = pad(data, before, after, fill, name="pad_temp") if any(before) or any(after) else data
    rv = [reduce_axis((0, kk), name=f"rv{i}") for i, kk in enumerate(k)]

    def window(ax: tuple[Var, ...]) -> list[PrimExpr]:
        idx: list[PrimExpr] = list(ax)
        for i, a in enumerate(axes):
            idx[a] = ax[a] * s[i] + rv[i].var * d[i]
        return idx

    reducer: Reducer = te_max if pool_type == "max" else te_sum
    name = "pool_max" if pool_type == "max" else "pool_sum"
    pooled = _one(
        compute(out, lambda *ax: _reduced(reducer(padded(*window(ax)), rv)), name=name, tag=name)
    )
    if pool_type == "max":
        return pooled

    def count(ax: tuple[Var, ...]) -> PrimExpr:
        num: PrimExpr = const(1)
        for i, a in enumerate(axes):
            start = ax[a] * s[i] - pb[i]
            end = start + (k[i] - 1) * d[i]
            if count_include_pad:
                end = tir_op.min(end, shape[a] + pa[i] - 1)
                num = num * (tir_op.truncdiv(end - start, d[i]) + 1)
            else:
                jumps = tir_op.max(tir_op.truncdiv(d[i] - 1 - start, d[i]), 0)
                end = tir_op.min(end, shape[a] - 1)
                num = num * (tir_op.truncdiv(end - (start + jumps * d[i]), d[i]) + 1)
        return tir_op.max(num, 1)

    def avg(*ax: Var) -> PrimExpr:
        num = tir_op.cast(count(ax), data.dtype)
        if is_float(data.dtype):
            return tir_op.div(pooled(*ax), num)
        return tir_op.floordiv(pooled(*ax), num)

    return _one(compute(out, avg, name="pool_avg", tag="elemwise"))


def pool1d(
    data: Tensor,
    kernel: IntOrSeq,
    stride: IntOrSeq,
    dilation: IntOrSeq,
    padding: Sequence[int],
    pool_type: str,
    ceil_mode: bool = False,
    layout: str = "NCW",
    count_include_pad: bool = True,
) -> Tensor:
    return pool_nd(
        data, kernel, stride, dilation, padding, pool_type, ceil_mode, layout, count_include_pad
    )


def pool2d(
    data: Tensor,
    kernel: IntOrSeq,
    stride: IntOrSeq,
    dilation: IntOrSeq,
    padding: Sequence[int],
    pool_type: str,
    ceil_mode: bool = False,
    layout: str = "NCHW",
    count_include_pad: bool = True,
) -> Tensor:
    return pool_nd(
        data, kernel, stride, dilation, padding, pool_type, ceil_mode, layout, count_include_pad
    )


def pool3d(
    data: Tensor,
    kernel: IntOrSeq,
    stride: IntOrSeq,
    dilation: IntOrSeq,
    padding: Sequence[int],
    pool_type: str,
    ceil_mode: bool = False,
    layout: str = "NCDHW",
    count_include_pad: bool = True,
) -> Tensor:
    return pool_nd(
        data, kernel, stride, dilation, padding, pool_type, ceil_mode, layout, count_include_pad
    )


def _adaptive(data: Tensor, output_size: Sequence[int], pool_type: str, layout: str) -> Tensor:
    _check_type(pool_type)
    dim = len(layout) - 2
    axes = _spatial_axes(layout, dim)
    shape = get_const_tuple(data.shape)
    osize = [int(o) for o in output_size]
    if len(osize) != dim:
        raise DiagnosticError(f"adaptive_pool: expected {dim} output sizes, got {osize}")
    out = list(shape)
    windows: list[int] = []
    for i, ax in enumerate(axes):
        n, o = shape[ax], osize[i]
        out[ax] = o
        windows.append(max(((j + 1) * n + o - 1) // o - (j * n) // o for j in range(o)))
    rv = [reduce_axis((0, w), name=f"rv{i}") for i, w in enumerate(windows)]

    def bounds(ax: tuple[Var, ...], i: int) -> tuple[PrimExpr, PrimExpr]:
        a = axes[i]
        n, o = shape[a], osize[i]
        return tir_op.floordiv(ax[a] * n, o), tir_op.floordiv((ax[a] + 1) * n + o - 1, o)

    def reduced(ax: tuple[Var, ...], reducer: Reducer) -> PrimExpr:
        idx: list[PrimExpr] = list(ax)
        conds: list[PrimExpr] = []
        for i, a in enumerate(axes):
            start, end = bounds(ax, i)
            idx[a] = start + rv[i].var
            conds.append(tir_op.less(rv[i].var, end - start))
        return _reduced(reducer(data(*idx), rv, where=tir_op.all(*conds)))

    if pool_type == "max":
        return _one(
            compute(
                out,
                lambda *ax: reduced(ax, te_max),
                name="adaptive_pool_max",
                tag="adaptive_pool_max",
            )
        )
    total = _one(
        compute(
            out, lambda *ax: reduced(ax, te_sum), name="adaptive_pool_sum", tag="adaptive_pool_sum"
        )
    )

    def avg(*ax: Var) -> PrimExpr:
        num: PrimExpr = const(1)
        for i in range(dim):
            start, end = bounds(ax, i)
            num = num * (end - start)
        return tir_op.div(total(*ax), tir_op.cast(num, data.dtype))

    return _one(compute(out, avg, name="adaptive_pool_avg", tag="elemwise"))


def adaptive_pool(
    data: Tensor, output_size: Sequence[int], pool_type: str, layout: str = "NCHW"
) -> Tensor:
    return _adaptive(data, output_size, pool_type, layout)


def adaptive_pool1d(
    data: Tensor, output_size: Sequence[int], pool_type: str, layout: str = "NCW"
) -> Tensor:
    return _adaptive(data, output_size, pool_type, layout)


def adaptive_pool3d(
    data: Tensor, output_size: Sequence[int], pool_type: str, layout: str = "NCDHW"
) -> Tensor:
    return _adaptive(data, output_size, pool_type, layout)


def global_pool(data: Tensor, pool_type: str, layout: str = "NCHW") -> Tensor:
    """Pooling over the whole spatial extent: a 1x1 output per channel."""
    return _adaptive(data, [1] * (len(layout) - 2), pool_type, layout)


def _first_argmax() -> Reducer:
    def combine(lhs: Sequence[PrimExpr], rhs: Sequence[PrimExpr]) -> tuple[PrimExpr, PrimExpr]:
        li, lv = lhs
        ri, rv = rhs
        keep = tir_op.logical_or(
            tir_op.greater(lv, rv), tir_op.logical_and(tir_op.equal(lv, rv), tir_op.less(li, ri))
        )
        return Select(keep, li, ri), Select(tir_op.greater(lv, rv), lv, rv)

    def identity(idx_t: str, val_t: str) -> tuple[PrimExpr, PrimExpr]:
        return const(-1, idx_t), tir_op.min_value(val_t)

    return comm_reducer(combine, identity, name="argmax")


Covering = Callable[[tuple[Var, ...]], tuple[list[PrimExpr], PrimExpr, list[PrimExpr]]]


def _pool_grad_max(
    grads: Tensor,
    data: Tensor,
    axes: list[int],
    k: list[int],
    s: list[int],
    pb: list[int],
    pa: list[int],
    covering: Covering,
    windows: list[IterVar],
) -> Tensor:
    """Each output gradient goes to the first maximum of its window."""
    shape = get_const_tuple(data.shape)
    gshape = get_const_tuple(grads.shape)
    before = [0] * len(shape)
    after = [0] * len(shape)
    for i, a in enumerate(axes):
        before[a], after[a] = pb[i], pa[i]
    padded = pad(data, before, after, tir_op.min_value(data.dtype), name="pad_temp")
    rh = reduce_axis((0, k[0]), name="dh")
    rw = reduce_axis((0, k[1]), name="dw")
    argmax = _first_argmax()

    def arg(*ax: Var) -> tuple[PrimExpr, ...]:
        idx: list[PrimExpr] = list(ax)
        idx[axes[0]] = ax[axes[0]] * s[0] + rh.var
        idx[axes[1]] = ax[axes[1]] * s[1] + rw.var
        out = argmax((rh.var * k[1] + rw.var, padded(*idx)), [rh, rw])
        if not isinstance(out, tuple):
            raise DiagnosticError("pool_grad: expected a tuple reduction")
        return out

    names = [f"ax{i}" for i in range(len(gshape))]
    temp = compute(
        gshape, arg, name="maxpool_grad_argmax", tag="comm_reduce_idx", varargs_names=names
    )
    if not isinstance(temp, tuple):
        raise DiagnosticError("pool_grad: expected two outputs")
    where_max = temp[0]

    def max_body(*ax: Var) -> PrimExpr:
        out_idx, valid, offs = covering(ax)
        hit = tir_op.equal(where_max(*out_idx), offs[0] * k[1] + offs[1])
        g = Select(tir_op.logical_and(valid, hit), grads(*out_idx), const(0, grads.dtype))
        return _reduced(te_sum(g, axis=windows))

    return _one(compute(shape, max_body, name="T_pool_grad", tag="pool_grad_max"))


def pool_grad(
    grads: Tensor,
    data: Tensor,
    kernel: IntOrSeq,
    stride: IntOrSeq,
    padding: Sequence[int],
    pool_type: str,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    layout: str = "NCHW",
) -> Tensor:
    """The gradient of ``pool2d`` (no dilation) with respect to ``data``."""
    _check_type(pool_type)
    axes = _spatial_axes(layout, 2)
    shape = get_const_tuple(data.shape)
    k = expand(kernel, 2, "kernel")
    s = expand(stride, 2, "strides")
    pads = [int(p) for p in padding]
    if len(pads) != 4:
        raise DiagnosticError(f"pool_grad: expected 4 padding values, got {pads}")
    pb = [pads[0], pads[1]]
    pa = [pads[2] + (s[0] - 1 if ceil_mode else 0), pads[3] + (s[1] - 1 if ceil_mode else 0)]
    gshape = get_const_tuple(grads.shape)
    out_sz = [gshape[a] for a in axes]
    windows = [
        reduce_axis((0, (kk + st - 1) // st), name=n)
        for kk, st, n in zip(k, s, ("wh", "ww"), strict=True)
    ]

    def covering(ax: tuple[Var, ...]) -> tuple[list[PrimExpr], PrimExpr, list[PrimExpr]]:
        """The output window that may cover input ``ax`` for each reduce step, its validity,
        and the offsets of the input inside that window."""
        out_idx: list[PrimExpr] = list(ax)
        conds: list[PrimExpr] = []
        offs: list[PrimExpr] = []
        for i, a in enumerate(axes):
            p = ax[a] + pb[i]
            o = tir_op.floordiv(p, s[i]) - windows[i].var
            out_idx[a] = o
            off = p - o * s[i]
            offs.append(off)
            conds += [tir_op.greater_equal(o, 0), tir_op.less(o, out_sz[i]), tir_op.less(off, k[i])]
        return out_idx, tir_op.all(*conds), offs

    if pool_type == "max":
        return _pool_grad_max(grads, data, axes, k, s, pb, pa, covering, windows)

    def avg_body(*ax: Var) -> PrimExpr:
        out_idx, valid, _ = covering(ax)
        num: PrimExpr = const(1)
        for i, a in enumerate(axes):
            start = out_idx[a] * s[i] - pb[i]
            if count_include_pad:
                end = tir_op.min(start + k[i] - 1, shape[a] + pads[2 + i] - 1)
                num = num * (end - start + 1)
            else:
                end = tir_op.min(start + k[i], shape[a])
                num = num * (end - tir_op.max(start, 0))
        if not count_include_pad:
            num = tir_op.max(num, 1)
        g = tir_op.div(grads(*out_idx), tir_op.cast(num, grads.dtype))
        return _reduced(te_sum(Select(valid, g, const(0, grads.dtype)), axis=windows))

    return _one(compute(shape, avg_body, name="T_pool_grad", tag="pool_grad_avg"))
