"""TE tensors and operations (TVM's ``include/tvm/te/{tensor,operation}.h``).

An ``Operation`` produces one or more ``Tensor``s: a ``PlaceholderOp`` is an input, a
``ComputeOp`` defines each element of its outputs by an expression over its axes (and, for a
reduction, its reduce axes). Reading a tensor, ``A[i, j]`` or ``A(i, j)``, builds a
``ProducerLoad``. Tensors compare equal when they are the same output of the same operation.

Arithmetic on tensors (``A + B``, ``A * 2``) broadcasts elementwise, as TVM's TOPI overloads
make it do; it is defined in ``minitvm.topi.broadcast`` and reached through a function-local
import (TE is the lower layer).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.node import IGNORE, Node, SEqualKind
from minitvm.tir.expr import (
    ExprLike,
    IterVar,
    PrimExpr,
    PrimExprBase,
    ProducerLoad,
    Reduce,
)
from minitvm.tir.functor import post_order
from minitvm.tir.op import convert

__all__ = ["ComputeOp", "Operation", "PlaceholderOp", "Tensor", "TensorSlice"]


@dataclass(frozen=True, slots=True, eq=False)
class PlaceholderOp(Node):
    """An input tensor of the graph."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    name: str = dataclasses.field(metadata=IGNORE)
    shape: tuple[PrimExpr, ...]
    dtype: str
    outputs: tuple[Tensor, ...] = dataclasses.field(init=False, repr=False, metadata=IGNORE)

    def __post_init__(self) -> None:
        object.__setattr__(self, "outputs", (Tensor(self, 0),))

    @property
    def num_outputs(self) -> int:
        return 1

    def output(self, index: int) -> Tensor:
        return self.outputs[index]

    @property
    def input_tensors(self) -> tuple[Tensor, ...]:
        return ()


@dataclass(frozen=True, slots=True, eq=False)
class ComputeOp(Node):
    """``outputs[k][axis] = body[k]``; a reduction when the bodies are ``Reduce`` nodes."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    name: str = dataclasses.field(metadata=IGNORE)
    tag: str
    attrs: tuple[tuple[str, object], ...]
    axis: tuple[IterVar, ...]
    body: tuple[PrimExpr, ...]
    outputs: tuple[Tensor, ...] = dataclasses.field(init=False, repr=False, metadata=IGNORE)
    input_tensors: tuple[Tensor, ...] = dataclasses.field(init=False, repr=False, metadata=IGNORE)

    def __post_init__(self) -> None:
        object.__setattr__(self, "axis", tuple(self.axis))
        object.__setattr__(self, "body", tuple(self.body))
        object.__setattr__(self, "attrs", tuple(self.attrs))
        object.__setattr__(self, "outputs", tuple(Tensor(self, i) for i in range(len(self.body))))
        inputs: list[Tensor] = []
        for b in self.body:
            for node in post_order(b):
                if isinstance(node, ProducerLoad):
                    t = node.producer
                    if not isinstance(t, Tensor):
                        raise DiagnosticError(f"compute {self.name}: reads a non-tensor {t}")
                    if t not in inputs:
                        inputs.append(t)
        object.__setattr__(self, "input_tensors", tuple(inputs))

    @property
    def num_outputs(self) -> int:
        return len(self.body)

    def output(self, index: int) -> Tensor:
        return self.outputs[index]

    @property
    def reduce_axis(self) -> tuple[IterVar, ...]:
        first = self.body[0]
        return first.axis if isinstance(first, Reduce) else ()

    @property
    def shape(self) -> tuple[PrimExpr, ...]:
        return tuple(iv.dom.extent for iv in self.axis)

    def attr_dict(self) -> dict[str, object]:
        return dict(self.attrs)


Operation: TypeAlias = PlaceholderOp | ComputeOp
"""Every TE operation. Dispatch over it with ``match`` and ``assert_never``."""


Index: TypeAlias = ExprLike


@dataclass(frozen=True, slots=True, eq=False)
class Tensor(Node):
    """Output ``value_index`` of ``op``."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    op: Operation
    value_index: int

    @property
    def shape(self) -> tuple[PrimExpr, ...]:
        return self.op.shape

    @property
    def dtype(self) -> str:
        if isinstance(self.op, PlaceholderOp):
            return self.op.dtype
        return self.op.body[self.value_index].dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        if self.op.num_outputs == 1:
            return self.op.name
        return f"{self.op.name}.v{self.value_index}"

    @override
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tensor):
            return False
        return self.op is other.op and self.value_index == other.value_index

    @override
    def __hash__(self) -> int:
        return hash((id(self.op), self.value_index))

    def __call__(self, *indices: Index) -> ProducerLoad:
        if len(indices) != self.ndim:
            raise DiagnosticError(
                f"tensor {self.name} has {self.ndim} dimensions, indexed with {len(indices)}"
            )
        return ProducerLoad(self, tuple(_index(i) for i in indices))

    def __getitem__(self, indices: Index | tuple[Index, ...]) -> ProducerLoad:
        """``A[i, j]``; with fewer indices than dimensions a ``TensorSlice`` to index further
        (TVM's ``A[i][j]``), typed as the load it becomes so full indexing stays precise."""
        idx = indices if isinstance(indices, tuple) else (indices,)
        if len(idx) < self.ndim:
            return TensorSlice(self, tuple(_index(i) for i in idx))  # type: ignore[return-value]  # partial indexing, see the docstring
        return self(*idx)

    # --- arithmetic: elementwise with broadcasting (topi.broadcast) -------------------------

    def __add__(self, other: Tensor | ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.add(self, other)

    def __radd__(self, other: ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.add(other, self)

    def __sub__(self, other: Tensor | ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.subtract(self, other)

    def __rsub__(self, other: ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.subtract(other, self)

    def __mul__(self, other: Tensor | ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.multiply(self, other)

    def __rmul__(self, other: ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.multiply(other, self)

    def __truediv__(self, other: Tensor | ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.divide(self, other)

    def __rtruediv__(self, other: ExprLike) -> Tensor:
        from minitvm.topi import broadcast

        return broadcast.divide(other, self)

    def __neg__(self) -> Tensor:
        from minitvm.topi import math

        return math.negative(self)

    @override
    def __repr__(self) -> str:
        return f"Tensor(shape=({', '.join(str(d) for d in self.shape)}), op.name={self.op.name})"


@dataclass(frozen=True, slots=True, eq=False)
class TensorSlice:
    """``A[i]`` of a tensor with more dimensions: indexed further to a load."""

    tensor: Tensor
    indices: tuple[PrimExpr, ...]

    def __getitem__(self, indices: Index | tuple[Index, ...]) -> ProducerLoad:
        idx = indices if isinstance(indices, tuple) else (indices,)
        return self.tensor[(*self.indices, *idx)]

    @property
    def dtype(self) -> str:
        return self.tensor.dtype


def _index(i: Index) -> PrimExpr:
    e = convert(i)
    if e.dtype not in (
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
    ):
        raise DiagnosticError(f"tensor index must be an integer expression, got {e} ({e.dtype})")
    return e


def attrs_tuple(attrs: Mapping[str, object] | None) -> tuple[tuple[str, object], ...]:
    return tuple((attrs or {}).items())


def shape_tuple(shape: ExprLike | Sequence[ExprLike]) -> tuple[PrimExpr, ...]:
    """A shape as int32/int64 immediates or integer expressions (TVM converts ints so)."""
    dims = shape if isinstance(shape, Sequence) else (shape,)
    out: list[PrimExpr] = []
    for d in dims:
        e = convert(
            d.__index__() if hasattr(d, "__index__") and not isinstance(d, PrimExprBase) else d
        )
        if e.dtype not in ("int32", "int64"):
            raise DiagnosticError(f"a shape dimension must be an int32/int64 expression, got {e}")
        out.append(e)
    return tuple(out)
