"""``layout_transform`` (TVM ``src/relay/op/tensor/transform.cc``, ``tir::BijectiveLayout``).

A layout is a sequence of primal axes (upper-case letters) and sub-axes (a factor and the
lower-case letter of their primal axis): ``NCHW16c`` splits ``C`` into ``C / 16`` outer and
``16`` inner parts. Transforming goes through the unsplit primal tensor: merge the source's
sub-axes into their primal axes, split for the destination (the extent must divide), and
permute. Source and destination need the same primal axes; each has at most one sub-axis per
primal axis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_value
from minitvm.relay.op.relation import tensor_arg

__all__ = ["LayoutTransformAttrs", "parse_layout"]

_AXIS = re.compile(r"(\d*)([A-Za-z])")


@dataclass(frozen=True, slots=True)
class LayoutTransformAttrs(Attrs):
    src_layout: str
    dst_layout: str


def parse_layout(layout: object, what: str) -> list[tuple[str, int]]:
    """``[(letter, factor)]`` in order; factor 0 for primal axes."""
    if not isinstance(layout, str) or not layout:
        raise DiagnosticError(f"{what} must be a non-empty layout string, got {layout!r}")
    axes: list[tuple[str, int]] = []
    pos = 0
    for m in _AXIS.finditer(layout):
        if m.start() != pos:
            break
        pos = m.end()
        digits, letter = m.groups()
        if letter.isupper() == bool(digits):
            raise DiagnosticError(
                f"{what} {layout!r}: a primal axis has no factor and a sub-axis needs one"
            )
        axes.append((letter, int(digits) if digits else 0))
    if pos != len(layout):
        raise DiagnosticError(f"{what} {layout!r} is not a layout")
    letters = [a for a, _ in axes]
    if len(set(letters)) != len(letters):
        raise DiagnosticError(f"{what} {layout!r} names an axis twice")
    for letter, factor in axes:
        if factor and (factor < 1 or letter.upper() not in letters):
            raise DiagnosticError(f"{what} {layout!r}: sub-axis {factor}{letter} is invalid")
    return axes


@dataclass(frozen=True, slots=True)
class _Plan:
    src: list[tuple[str, int]]
    dst: list[tuple[str, int]]
    primal: dict[str, int]
    """Primal axis extents."""


def _plan(data: TensorType, attrs: LayoutTransformAttrs) -> _Plan:
    src = parse_layout(attrs.src_layout, "src_layout")
    dst = parse_layout(attrs.dst_layout, "dst_layout")
    if len(src) != data.ndim:
        raise DiagnosticError(f"src_layout {attrs.src_layout!r} does not fit {data}")
    src_primal = sorted(a for a, _ in src if a.isupper())
    if src_primal != sorted(a for a, _ in dst if a.isupper()):
        raise DiagnosticError(
            f"src_layout {attrs.src_layout!r} and dst_layout {attrs.dst_layout!r} have "
            "different primal axes"
        )
    sub = {a.upper(): f for a, f in src if f}
    primal = {}
    for (a, f), d in zip(src, data.shape, strict=True):
        if a.isupper():
            primal[a] = d * sub.get(a, 1)
        elif d != f:
            raise DiagnosticError(f"axis {f}{a} of {attrs.src_layout!r} has extent {d}")
    for a, f in dst:
        if f and primal[a.upper()] % f:
            raise DiagnosticError(
                f"axis {a.upper()} of extent {primal[a.upper()]} cannot be split by {f}"
            )
    return _Plan(src, dst, primal)


def _dst_shape(plan: _Plan) -> list[int]:
    sub = {a.upper(): f for a, f in plan.dst if f}
    return [f if f else plan.primal[a] // sub.get(a, 1) for a, f in plan.dst]


def _layout_transform_rel(arg_types: list[Type], attrs: LayoutTransformAttrs) -> Type:
    data = tensor_arg(arg_types, 0)
    return TensorType(_dst_shape(_plan(data, attrs)), data.dtype)


def _layout_transform_kernel(
    attrs: LayoutTransformAttrs, args: list[Value], out_type: Type
) -> Value:
    x = tensor_value(args[0])
    plan = _plan(TensorType(x.shape, str(x.dtype)), attrs)
    order = sorted(plan.primal)
    src_pos = {a: i for i, (a, _) in enumerate(plan.src)}
    # Merge: each primal axis followed by its sub-axis, then one axis per primal letter.
    perm = [i for a in order for i in (src_pos[a], src_pos.get(a.lower())) if i is not None]
    primal: Array = x.transpose(perm).reshape([plan.primal[a] for a in order])
    # Split for the destination, then permute into its order.
    dst_sub = {a.upper(): f for a, f in plan.dst if f}
    split_shape: list[int] = []
    names: list[str] = []
    for a in order:
        f = dst_sub.get(a)
        split_shape += [plan.primal[a] // f, f] if f else [plan.primal[a]]
        names += [a, a.lower()] if f else [a]
    split = primal.reshape(split_shape)
    return split.transpose([names.index(a) for a, _ in plan.dst])


define_op(
    "layout_transform",
    _layout_transform_rel,
    _layout_transform_kernel,
    attrs_type=LayoutTransformAttrs,
    pattern=OpPattern.INJECTIVE,
)
