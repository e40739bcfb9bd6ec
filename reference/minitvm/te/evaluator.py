"""The TE evaluator: computes a TE graph on numpy inputs, one stage at a time, vectorized.

This is the TE oracle. A stage's body is evaluated once over index grids: axis ``k`` of an
``n``-dimensional output is ``arange(extent)`` shaped to broadcast along dimension ``k``, and a
reduction appends one dimension per reduce axis. Reads of tensors are numpy fancy indexing
with indices clamped into range (both branches of a conditional are evaluated, so a padding
branch may index outside: the clamped value is then discarded). Values follow
``minitvm.tir.semantics``, the same definitions the TIR interpreter uses.

Reductions with the usual combiners (``+``, ``*``, ``min``, ``max``, ``and``, ``or``) use
numpy's reductions; any other combiner (tuple reducers such as argmax) is folded over the
reduction points in loop order, vectorized over the output. When a stage's grid would exceed
``GRID_LIMIT`` elements, the first reduce axis and then the first output axis are cut into
chunks whose partial results are combined, so ResNet-50-sized convolutions fit in memory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import assert_never, overload

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import check_dtype
from minitvm.runtime.ndarray import NDArray
from minitvm.te.graph import post_dfs_order
from minitvm.te.tensor import ComputeOp, PlaceholderOp, Tensor
from minitvm.tir import semantics
from minitvm.tir.expr import (
    Add,
    And,
    BinaryOpExpr,
    BufferLoad,
    Call,
    Cast,
    CmpExpr,
    CommReducer,
    FloatImm,
    IntImm,
    Let,
    Max,
    Min,
    Mul,
    Not,
    Or,
    PrimExpr,
    ProducerLoad,
    Reduce,
    Select,
    StringImm,
    Var,
)
from minitvm.tir.functor import expr_children

__all__ = ["GRID_LIMIT", "evaluate"]

Array = semantics.Array
GRID_LIMIT = 1 << 23
"""The largest number of grid points a stage evaluates at once."""


class _Evaluator:
    def __init__(self) -> None:
        self.values: dict[Tensor, Array] = {}
        self.scalars: dict[Var, Array] = {}

    def eval(self, root: PrimExpr, env: dict[Var, Array]) -> Array:
        """``root`` over the grids in ``env``; the result broadcasts against them."""
        memo: dict[int, Array] = {}
        alive: list[PrimExpr] = []
        stack: list[tuple[PrimExpr, int]] = [(root, 0)]
        while stack:
            node, phase = stack.pop()
            if id(node) in memo:
                continue
            if isinstance(node, Let):
                if phase == 0:
                    stack += [(node, 2), (node.body, 0), (node, 1), (node.value, 0)]
                elif phase == 1:
                    env[node.var] = memo[id(node.value)]
                else:
                    memo[id(node)] = memo[id(node.body)]
                    alive.append(node)
                continue
            kids = expr_children(node)
            if phase == 0 and kids:
                stack.append((node, 1))
                stack.extend((k, 0) for k in kids if id(k) not in memo)
                continue
            memo[id(node)] = self._step(node, [memo[id(k)] for k in kids], env)
            alive.append(node)
        return memo[id(root)]

    def _step(self, e: PrimExpr, args: list[Array], env: dict[Var, Array]) -> Array:  # noqa: C901  (a flat dispatch over the union)
        match e:
            case IntImm() | FloatImm():
                return np.asarray(e.value, dtype=e.dtype)
            case Var():
                value = env.get(e)
                if value is None:
                    value = self.scalars.get(e)
                if value is None:
                    raise DiagnosticError(f"te.evaluate: variable {e.name_hint} has no value")
                return value
            case BinaryOpExpr():
                return semantics.binary(type(e), args[0], args[1], e.dtype)
            case CmpExpr():
                return semantics.compare(type(e), args[0], args[1])
            case And():
                return np.logical_and(args[0], args[1])
            case Or():
                return np.logical_or(args[0], args[1])
            case Not():
                return np.logical_not(args[0])
            case Select():
                return semantics.cast(np.where(args[0], args[1], args[2]), e.dtype)
            case Cast():
                return semantics.cast(args[0], e.dtype)
            case Call():
                if any(isinstance(a, StringImm) for a in e.args):
                    raise DiagnosticError(f"te.evaluate: cannot evaluate {e.op} on strings")
                return semantics.intrinsic(e.op, args, e.dtype)
            case ProducerLoad():
                return self._load(e, args)
            case BufferLoad() | Reduce():
                raise DiagnosticError(
                    f"te.evaluate: {type(e).__name__} cannot appear inside a compute body here"
                )
            case Let():
                raise DiagnosticError("te.evaluate: internal Let step")
            case _:
                assert_never(e)

    def _load(self, e: ProducerLoad, idx: list[Array]) -> Array:
        t = e.producer
        if not isinstance(t, Tensor) or t not in self.values:
            raise DiagnosticError(f"te.evaluate: tensor {t.name} has no value")
        data = self.values[t]
        if not idx:
            return data
        clamped = tuple(np.clip(i, 0, max(n - 1, 0)) for i, n in zip(idx, data.shape, strict=True))
        if data.size == 0:
            shape = np.broadcast_shapes(*(np.shape(i) for i in clamped))
            return np.zeros(shape, dtype=data.dtype)
        return np.asarray(data[clamped])

    # --- stages -----------------------------------------------------------------------------

    def shape_of(self, dims: Sequence[PrimExpr]) -> tuple[int, ...]:
        return tuple(int(self.eval(d, {})) for d in dims)

    def placeholder(self, op: PlaceholderOp, value: Array) -> None:
        shape = value.shape
        if len(shape) != len(op.shape):
            raise DiagnosticError(
                f"te.evaluate: input {op.name} needs {len(op.shape)} dimensions, got {shape}"
            )
        for dim, n in zip(op.shape, shape, strict=True):
            if isinstance(dim, Var) and dim not in self.scalars:
                self.scalars[dim] = np.asarray(n, dtype=dim.dtype)
            elif int(self.eval(dim, {})) != n:
                raise DiagnosticError(
                    f"te.evaluate: input {op.name} needs shape "
                    f"({', '.join(str(d) for d in op.shape)}), got {shape}"
                )
        self.values[op.output(0)] = np.asarray(value).astype(op.dtype, copy=False)

    def compute(self, op: ComputeOp) -> None:
        shape = self.shape_of(op.shape)
        outs = [np.empty(shape, dtype=t.dtype) for t in op.outputs]
        first = op.body[0]
        if isinstance(first, Reduce):
            self._reduce_stage(op, first, shape, outs)
        else:
            env = self._grids(op, shape, len(shape))
            for body, out in zip(op.body, outs, strict=True):
                out[...] = np.broadcast_to(self.eval(body, dict(env)), shape)
        for t, out in zip(op.outputs, outs, strict=True):
            self.values[t] = out

    def _grids(self, op: ComputeOp, shape: tuple[int, ...], ndim: int) -> dict[Var, Array]:
        env: dict[Var, Array] = {}
        for k, (iv, n) in enumerate(zip(op.axis, shape, strict=True)):
            lo = int(self.eval(iv.dom.min, {}))
            env[iv.var] = _grid(lo, lo + n, k, ndim, iv.var.dtype)
        return env

    def _reduce_stage(
        self, op: ComputeOp, red: Reduce, shape: tuple[int, ...], outs: list[Array]
    ) -> None:
        nd, nr = len(shape), len(red.axis)
        bounds: list[tuple[int, int]] = []
        for iv in red.axis:
            lo = int(self.eval(iv.dom.min, {}))
            bounds.append((lo, lo + int(self.eval(iv.dom.extent, {}))))
        starts = [
            np.broadcast_to(self.eval(s, {}), shape).astype(o.dtype)
            for s, o in zip(red.init or red.combiner.identity_element, outs, strict=True)
        ]
        for o, s in zip(outs, starts, strict=True):
            o[...] = s
        spatial = math.prod(shape)
        extents = [hi - lo for lo, hi in bounds]
        rest = math.prod(extents[1:]) if nr > 1 else 1
        r0 = extents[0] if nr else 1
        r_chunk = max(1, min(r0, GRID_LIMIT // max(1, spatial * rest)))
        s_axis = next((k for k, n in enumerate(shape) if n > 1), None)
        s_chunk = shape[s_axis] if s_axis is not None else 1
        if s_axis is not None and spatial * rest * r_chunk > GRID_LIMIT:
            per_row = spatial // shape[s_axis]
            s_chunk = max(1, GRID_LIMIT // max(1, per_row * rest * r_chunk))
        s_len = shape[s_axis] if s_axis is not None else 1
        for s_lo in range(0, s_len, s_chunk):
            s_hi = min(s_len, s_lo + s_chunk)
            env = self._grids(op, shape, nd + nr)
            sel: list[slice] = [slice(None)] * nd
            if s_axis is not None:
                lo0 = int(self.eval(op.axis[s_axis].dom.min, {}))
                env[op.axis[s_axis].var] = _grid(
                    lo0 + s_lo, lo0 + s_hi, s_axis, nd + nr, op.axis[s_axis].var.dtype
                )
                sel[s_axis] = slice(s_lo, s_hi)
            for j, (iv, (lo, hi)) in enumerate(zip(red.axis, bounds, strict=True)):
                if j > 0:
                    env[iv.var] = _grid(lo, hi, nd + j, nd + nr, iv.var.dtype)
            first_lo, first_hi = bounds[0] if nr else (0, 1)
            for r_lo in range(first_lo, first_hi, r_chunk):
                r_hi = min(first_hi, r_lo + r_chunk)
                if nr:
                    env[red.axis[0].var] = _grid(r_lo, r_hi, nd, nd + nr, red.axis[0].var.dtype)
                self._reduce_chunk(red, env, [_view(o, sel) for o in outs], nd, nr)

    def _reduce_chunk(
        self, red: Reduce, env: dict[Var, Array], accs: list[Array], nd: int, nr: int
    ) -> None:
        """Combine the chunk's values into ``accs`` (views of the outputs) in place."""
        extents = tuple(int(np.shape(env[iv.var])[nd + j]) for j, iv in enumerate(red.axis))
        grid = accs[0].shape + extents
        if math.prod(grid) == 0:
            return
        values = [np.broadcast_to(self.eval(s, dict(env)), grid) for s in red.source]
        always = isinstance(red.condition, IntImm) and red.condition.value != 0
        mask = None if always else np.broadcast_to(self.eval(red.condition, dict(env)), grid)
        comb = red.combiner
        kind = _numpy_reduction(comb)
        if kind is not None and len(values) == 1:
            vals = values[0]
            if mask is not None:
                identity = self.eval(comb.identity_element[0], {})
                vals = np.where(mask, vals, identity.astype(vals.dtype))
            part = _reduce(kind, vals, tuple(range(nd, nd + nr)))
            accs[0][...] = self._combine(comb, [accs[0]], [part])[0]
            return
        flat_vals = [v.reshape((*accs[0].shape, -1)) for v in values]
        flat_mask = None if mask is None else mask.reshape((*accs[0].shape, -1))
        current = [a.copy() for a in accs]
        for k in range(flat_vals[0].shape[-1]):
            step = self._combine(comb, current, [v[..., k] for v in flat_vals])
            if flat_mask is None:
                current = step
            else:
                keep = flat_mask[..., k]
                current = [np.where(keep, s, c) for s, c in zip(step, current, strict=True)]
        for a, c in zip(accs, current, strict=True):
            a[...] = c

    def _combine(self, comb: CommReducer, lhs: list[Array], rhs: list[Array]) -> list[Array]:
        env: dict[Var, Array] = dict(zip(comb.lhs, lhs, strict=True))
        env.update(zip(comb.rhs, rhs, strict=True))
        return [
            np.broadcast_to(self.eval(r, dict(env)), lhs[0].shape).astype(x.dtype)
            for r, x in zip(comb.result, lhs, strict=True)
        ]


def _view(out: Array, sel: list[slice]) -> Array:
    """A writable view of ``out`` (also for 0-d outputs, where ``out[()]`` would copy)."""
    return out[tuple(sel)] if sel else out[...]


def _grid(lo: int, hi: int, k: int, ndim: int, dtype: str) -> Array:
    shape = [1] * ndim
    shape[k] = hi - lo
    return np.arange(lo, hi, dtype=dtype).reshape(shape)


def _numpy_reduction(comb: CommReducer) -> str | None:
    """The numpy reduction for the usual single-value combiners, else None."""
    if len(comb.result) != 1:
        return None
    r, x, y = comb.result[0], comb.lhs[0], comb.rhs[0]
    if not isinstance(r, Add | Mul | Min | Max | And | Or):
        return None
    if not ((r.a is x and r.b is y) or (r.a is y and r.b is x)):
        return None
    return type(r).__name__


def _reduce(kind: str, vals: Array, axes: tuple[int, ...]) -> Array:
    """Reduce over ``axes`` keeping the dtype (integer sums wrap like the loop would)."""
    dtype = vals.dtype
    if kind == "Add":
        return np.asarray(np.sum(vals, axis=axes, dtype=dtype))
    if kind == "Mul":
        return np.asarray(np.prod(vals, axis=axes, dtype=dtype))
    if kind == "Min":
        return np.asarray(np.min(vals, axis=axes))
    if kind == "Max":
        return np.asarray(np.max(vals, axis=axes))
    if kind == "And":
        return np.asarray(np.all(vals, axis=axes))
    return np.asarray(np.any(vals, axis=axes))


Inputs = Mapping[Tensor, "Array | NDArray | Sequence[object] | float | int"]


@overload
def evaluate(outputs: Tensor, inputs: Inputs) -> Array: ...


@overload
def evaluate(outputs: Sequence[Tensor], inputs: Inputs) -> list[Array]: ...


def evaluate(
    outputs: Tensor | Sequence[Tensor],
    inputs: Mapping[Tensor, Array | NDArray | Sequence[object] | float | int],
) -> Array | list[Array]:
    """``te.evaluate``: the values of ``outputs`` given a value for every placeholder.

    Returns one array for one tensor, a list for a sequence. Input arrays are converted to the
    placeholder's dtype; their shapes bind symbolic dimensions.
    """
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ev = _Evaluator()
    with semantics.quiet():
        for op in post_dfs_order(outs):
            if isinstance(op, PlaceholderOp):
                t = op.output(0)
                if t not in inputs:
                    raise DiagnosticError(f"te.evaluate: no value given for placeholder {op.name}")
                raw = inputs[t]
                arr = (
                    raw.numpy()
                    if isinstance(raw, NDArray)
                    else np.asarray(raw, dtype=check_dtype(op.dtype))
                )
                ev.placeholder(op, arr)
            else:
                ev.compute(op)
    results = [ev.values[t] for t in outs]
    return results[0] if isinstance(outputs, Tensor) else results
