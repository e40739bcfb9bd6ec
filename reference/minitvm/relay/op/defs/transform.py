"""Shape-changing data movement (TVM ``src/relay/op/tensor/transform.cc``, ``topi/transform.h``):
reshape, transpose, squeeze, expand_dims, concatenate, stack, split, broadcast_to and kin.

``reshape`` reproduces TVM's ``InferNewShape`` exactly, including its special values:
``0`` copies the input dimension at the current position (unless ``allowzero``), ``-1`` is
inferred from the remaining elements, ``-2`` copies all remaining input dimensions, ``-3``
merges two consecutive input dimensions and ``-4`` splits one input dimension into the next
two values (one of which may be -1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.relay.op.define import Value, define_op, tensor_type, tensor_value, tuple_value
from minitvm.relay.op.relation import (
    broadcast_shapes,
    int_attr,
    int_tuple,
    normalize_axes,
    normalize_axis,
    prod,
    tensor_arg,
    tuple_arg,
)

__all__ = [
    "ConcatenateAttrs",
    "ExpandDimsAttrs",
    "InitOpAttrs",
    "ReshapeAttrs",
    "SplitAttrs",
    "SqueezeAttrs",
    "StackAttrs",
    "TransposeAttrs",
    "infer_reshape",
]


@dataclass(frozen=True, slots=True)
class ExpandDimsAttrs(Attrs):
    axis: int
    num_newaxis: int = 1


@dataclass(frozen=True, slots=True)
class ConcatenateAttrs(Attrs):
    axis: int = 0


@dataclass(frozen=True, slots=True)
class StackAttrs(Attrs):
    axis: int = 0


@dataclass(frozen=True, slots=True)
class TransposeAttrs(Attrs):
    axes: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ReshapeAttrs(Attrs):
    newshape: tuple[int, ...]
    allowzero: bool = False


@dataclass(frozen=True, slots=True)
class SqueezeAttrs(Attrs):
    axis: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class SplitAttrs(Attrs):
    indices_or_sections: int | tuple[int, ...]
    axis: int = 0


@dataclass(frozen=True, slots=True)
class InitOpAttrs(Attrs):
    """A static shape and dtype: ``broadcast_to``, ``zeros``, ``ones``, ``full``."""

    shape: tuple[int, ...] | None = None
    dtype: str = ""


# --- expand_dims, squeeze, transpose ----------------------------------------------------------


def _expand_dims_rel(arg_types: list[Type], attrs: ExpandDimsAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    ndim = data.ndim
    num_newaxis = int_attr(attrs.num_newaxis, "num_newaxis", 0)
    axis = int_attr(attrs.axis, "axis", -ndim - 1, ndim)
    pivot = axis + ndim + 1 if axis < 0 else axis
    shape = (*data.shape[:pivot], *([1] * num_newaxis), *data.shape[pivot:])
    return TensorType(shape, data.dtype)


def _reshape_to_out(attrs: object, args: list[Value], out_type: Type) -> Value:
    return tensor_value(args[0]).reshape(tensor_type(out_type).shape)


def _squeeze_axes(data: TensorType, attrs: SqueezeAttrs) -> list[int]:
    if attrs.axis is None:
        return [i for i, d in enumerate(data.shape) if d == 1]
    axes = normalize_axes(int_tuple(attrs.axis, "axis"), data.ndim)
    for a in axes:
        if data.shape[a] != 1:
            raise DiagnosticError(
                f"cannot squeeze axis {a}: its dimension is {data.shape[a]}, not 1 "
                f"(shape {data.shape})"
            )
    return axes


def _squeeze_rel(arg_types: list[Type], attrs: SqueezeAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    axes = set(_squeeze_axes(data, attrs))
    return TensorType([d for i, d in enumerate(data.shape) if i not in axes], data.dtype)


def _transpose_axes(ndim: int, attrs: TransposeAttrs) -> list[int]:
    if attrs.axes is None:
        return list(reversed(range(ndim)))
    listed = int_tuple(attrs.axes, "axes")
    if not listed:
        return list(reversed(range(ndim)))
    axes = normalize_axes(listed, ndim, "axes")
    if len(axes) != ndim:
        raise DiagnosticError(f"axes {attrs.axes} must name each of the {ndim} axes once")
    return axes


def _transpose_rel(arg_types: list[Type], attrs: TransposeAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    axes = _transpose_axes(data.ndim, attrs)
    return TensorType([data.shape[a] for a in axes], data.dtype)


def _transpose_kernel(attrs: TransposeAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    return np.transpose(x, _transpose_axes(x.ndim, attrs))


# --- reshape ----------------------------------------------------------------------------------


def _special_minus_four(ishape: tuple[int, ...], src: int, d1: int, d2: int) -> tuple[int, int]:
    d0 = ishape[src]
    if d1 == -1 and d2 == -1:
        raise DiagnosticError("newshape: the two dimensions after -4 cannot both be -1")
    if d1 == -1:
        if d2 <= 0 or d0 % d2:
            raise DiagnosticError(f"newshape: -4 cannot split dimension {d0} by {d2}")
        return d0 // d2, d2
    if d2 == -1:
        if d1 <= 0 or d0 % d1:
            raise DiagnosticError(f"newshape: -4 cannot split dimension {d0} by {d1}")
        return d1, d0 // d1
    if d1 * d2 != d0:
        raise DiagnosticError(f"newshape: -4 splits {d0} into {d1} x {d2}, which differ")
    return d1, d2


class _NewShape:
    """The state of TVM's ``InferNewShape`` walk: output dims so far, the input position, and
    which input/output dims are accounted for when the ``-1`` is inferred."""

    def __init__(self, ishape: tuple[int, ...], newshape: tuple[int, ...]) -> None:
        self.ishape = ishape
        self.newshape = newshape
        self.oshape: list[int] = []
        self.used_in: set[int] = set()
        self.used_out: set[int] = set()
        self.src = 0
        self.infer_at = -1

    def take_input(self) -> int:
        if self.src >= len(self.ishape):
            raise DiagnosticError(
                f"newshape {self.newshape} uses more dimensions than {self.ishape} has"
            )
        self.used_in.add(self.src)
        self.src += 1
        return self.ishape[self.src - 1]

    def copied(self, dim: int) -> None:
        """Append an output dim that comes from the input (not free for ``-1``)."""
        self.used_out.add(len(self.oshape))
        self.oshape.append(dim)

    def special(self, v: int, i: int) -> int:
        """Handle a value <= 0 at position ``i``; returns how many extra values it used."""
        if v == 0:
            self.copied(self.take_input())
        elif v == -1:
            if self.infer_at >= 0:
                raise DiagnosticError(f"newshape {self.newshape}: only one dimension can be -1")
            self.infer_at = len(self.oshape)
            self.oshape.append(1)
            self.src += 1
        elif v == -2:
            while self.src < len(self.ishape):
                self.copied(self.take_input())
        elif v == -3:
            self.copied(self.take_input() * self.take_input())
        elif v == -4:
            if i + 2 >= len(self.newshape):
                raise DiagnosticError(f"newshape {self.newshape}: -4 needs two values after it")
            a, b = _special_minus_four(
                self.ishape, self.src, self.newshape[i + 1], self.newshape[i + 2]
            )
            self.take_input()
            self.copied(a)
            self.copied(b)
            return 2
        else:
            raise DiagnosticError(f"newshape {self.newshape}: unsupported special value {v}")
        return 0

    def infer(self) -> list[int]:
        if self.infer_at >= 0:
            known_in = prod([d for k, d in enumerate(self.ishape) if k not in self.used_in])
            known_out = prod([d for k, d in enumerate(self.oshape) if k not in self.used_out])
            if known_out == 0 or known_in % known_out:
                raise DiagnosticError(
                    f"cannot infer the -1 of newshape {self.newshape} from {self.ishape}"
                )
            self.oshape[self.infer_at] = known_in // known_out
        return self.oshape


def infer_reshape(ishape: tuple[int, ...], newshape: tuple[int, ...], allowzero: bool) -> list[int]:
    """TVM's ``InferNewShape`` on static shapes (see the module docstring)."""
    walk = _NewShape(ishape, newshape)
    i = 0
    while i < len(newshape):
        v = newshape[i]
        if v > 0 or (v == 0 and allowzero):
            walk.oshape.append(v)
            walk.src += 1
        else:
            i += walk.special(v, i)
        i += 1
    return walk.infer()


def _reshape_rel(arg_types: list[Type], attrs: ReshapeAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    newshape = int_tuple(attrs.newshape, "newshape")
    oshape = infer_reshape(data.shape, newshape, bool(attrs.allowzero))
    if prod(oshape) != prod(data.shape):
        raise DiagnosticError(
            f"cannot reshape {data.shape} ({prod(data.shape)} elements) to {tuple(oshape)} "
            f"({prod(oshape)} elements)"
        )
    return TensorType(oshape, data.dtype)


# --- concatenate, stack, split ----------------------------------------------------------------


def _concatenate_rel(arg_types: list[Type], attrs: ConcatenateAttrs) -> Type:
    fields = tuple_arg(arg_types, 0)
    first = fields[0]
    axis = normalize_axis(attrs.axis, first.ndim)
    for i, f in enumerate(fields):
        if f.ndim != first.ndim or f.dtype != first.dtype:
            raise DiagnosticError(
                f"all inputs must have the rank and dtype of the first ({first}), "
                f"but input {i} is {f}"
            )
        for k in range(first.ndim):
            if k != axis and f.shape[k] != first.shape[k]:
                raise DiagnosticError(
                    f"input {i} has shape {f.shape}, which differs from {first.shape} "
                    f"outside the concatenation axis {axis}"
                )
    shape = list(first.shape)
    shape[axis] = sum(f.shape[axis] for f in fields)
    return TensorType(shape, first.dtype)


def _concatenate_kernel(attrs: ConcatenateAttrs, args: list[Value], out_type: Type) -> Value:
    xs = tuple_value(args[0])
    return np.concatenate(xs, axis=attrs.axis)


def _stack_rel(arg_types: list[Type], attrs: StackAttrs) -> Type:
    fields = tuple_arg(arg_types, 0)
    first = fields[0]
    for i, f in enumerate(fields):
        if f != first:
            raise DiagnosticError(f"all inputs must have type {first}, but input {i} is {f}")
    ndim = first.ndim + 1
    axis = int_attr(attrs.axis, "axis", -ndim, ndim - 1)
    pivot = axis + ndim if axis < 0 else axis
    shape = (*first.shape[:pivot], len(fields), *first.shape[pivot:])
    return TensorType(shape, first.dtype)


def _stack_kernel(attrs: StackAttrs, args: list[Value], out_type: Type) -> Value:
    return np.stack(tuple_value(args[0]), axis=attrs.axis)


def _split_bounds(dim: int, attrs: SplitAttrs) -> list[tuple[int, int]]:
    ios = attrs.indices_or_sections
    if isinstance(ios, int) and not isinstance(ios, bool):
        if ios <= 0 or dim % ios:
            raise DiagnosticError(
                f"indices_or_sections={ios} must be a positive divisor of the axis extent {dim}"
            )
        step = dim // ios
        return [(k * step, (k + 1) * step) for k in range(ios)]
    indices = int_tuple(ios, "indices_or_sections")
    bounds: list[tuple[int, int]] = []
    begin = 0
    for idx in indices:
        if idx <= begin:
            raise DiagnosticError(
                f"indices_or_sections {indices} must be ascending and start above 0"
            )
        bounds.append((begin, idx))
        begin = idx
    if begin >= dim:
        raise DiagnosticError(
            f"indices_or_sections {indices} must stay below the axis extent {dim}"
        )
    bounds.append((begin, dim))
    return bounds


def _split_rel(arg_types: list[Type], attrs: SplitAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if data.ndim == 0:
        raise DiagnosticError("cannot split a scalar")
    axis = normalize_axis(attrs.axis, data.ndim)
    fields: list[Type] = []
    for lo, hi in _split_bounds(data.shape[axis], attrs):
        shape = list(data.shape)
        shape[axis] = hi - lo
        fields.append(TensorType(shape, data.dtype))
    return TupleType(fields)


def _split_kernel(attrs: SplitAttrs, args: list[Value], out_type: Type) -> Value:
    x = tensor_value(args[0])
    axis = normalize_axis(attrs.axis, x.ndim)
    index: list[slice] = [slice(None)] * x.ndim
    out: list[Value] = []
    for lo, hi in _split_bounds(x.shape[axis], attrs):
        index[axis] = slice(lo, hi)
        out.append(x[tuple(index)])
    return tuple(out)


# --- broadcast_to -------------------------------------------------------------------------------


def _broadcast_to_rel(arg_types: list[Type], attrs: InitOpAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    if attrs.shape is None:
        raise DiagnosticError("the target shape is missing")
    shape = int_tuple(attrs.shape, "shape", minimum=0)
    if broadcast_shapes(data.shape, shape) != shape:
        raise DiagnosticError(f"cannot broadcast {data.shape} to {shape}")
    return TensorType(shape, data.dtype)


def _broadcast_to_kernel(attrs: InitOpAttrs, args: list[Value], out_type: Type) -> Value:
    return np.broadcast_to(tensor_value(args[0]), tensor_type(out_type).shape)


def _broadcast_to_like_rel(arg_types: list[Type], attrs: None) -> Type:
    data = tensor_arg(arg_types, 0)
    like = tensor_arg(arg_types, 1, "broadcast_type")
    if broadcast_shapes(data.shape, like.shape) != like.shape:
        raise DiagnosticError(f"cannot broadcast {data.shape} to {like.shape}")
    return TensorType(like.shape, data.dtype)


def _register() -> None:
    define_op(
        "expand_dims",
        _expand_dims_rel,
        _reshape_to_out,
        attrs_type=ExpandDimsAttrs,
        pattern=OpPattern.BROADCAST,
        reshape_only=True,
    )
    define_op(
        "squeeze",
        _squeeze_rel,
        _reshape_to_out,
        attrs_type=SqueezeAttrs,
        pattern=OpPattern.INJECTIVE,
        reshape_only=True,
    )
    define_op(
        "reshape",
        _reshape_rel,
        _reshape_to_out,
        attrs_type=ReshapeAttrs,
        pattern=OpPattern.INJECTIVE,
        reshape_only=True,
    )
    define_op(
        "transpose",
        _transpose_rel,
        _transpose_kernel,
        attrs_type=TransposeAttrs,
        pattern=OpPattern.INJECTIVE,
    )
    define_op(
        "concatenate",
        _concatenate_rel,
        _concatenate_kernel,
        attrs_type=ConcatenateAttrs,
        pattern=OpPattern.INJECTIVE,
    )
    define_op(
        "stack", _stack_rel, _stack_kernel, attrs_type=StackAttrs, pattern=OpPattern.INJECTIVE
    )
    define_op(
        "split", _split_rel, _split_kernel, attrs_type=SplitAttrs, pattern=OpPattern.INJECTIVE
    )
    define_op(
        "broadcast_to",
        _broadcast_to_rel,
        _broadcast_to_kernel,
        attrs_type=InitOpAttrs,
        pattern=OpPattern.BROADCAST,
    )
    define_op(
        "broadcast_to_like",
        _broadcast_to_like_rel,
        _broadcast_to_kernel,
        num_inputs=2,
        pattern=OpPattern.BROADCAST,
    )


_register()
