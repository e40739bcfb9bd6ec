"""Buffers: typed, shaped views of memory (TVM's ``include/tvm/tir/buffer.h``).

A ``Buffer`` is a variable-like node: two buffers are the same buffer only if they are the
same object, and structural equality maps them at their binding site (a PrimFunc's
``buffer_map``, a block's ``alloc_buffers``), where the buffer in turn binds its data
variable and the variables of its shape. Its storage is named by ``data``, a handle
variable; ``Allocate`` and the PrimFunc arguments give storage to that variable.
Buffers here are dense and row-major: no strides, element offset zero.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.node import DEF, IGNORE, Node, SEqualKind
from minitvm.runtime.dtype import check_dtype
from minitvm.tir.expr import BufferLoad, ExprLike, PrimExpr, Range, Var
from minitvm.tir.op import convert

__all__ = ["Buffer", "BufferRegion", "decl_buffer"]


@dataclass(frozen=True, slots=True, eq=False)
class Buffer(Node):
    """A dense buffer of ``shape`` and ``dtype`` stored at ``data``."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    data: Var = dataclasses.field(metadata=DEF)
    dtype: str
    shape: tuple[PrimExpr, ...] = dataclasses.field(metadata=DEF)
    name: str = dataclasses.field(default="buffer", metadata=IGNORE)
    scope: str = "global"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", check_dtype(self.dtype))
        object.__setattr__(self, "shape", tuple(self.shape))
        for dim in self.shape:
            if dim.dtype not in ("int32", "int64"):
                raise DiagnosticError(
                    f"buffer {self.name}: shape dims must be int32 or int64, got {dim.dtype}"
                )

    def __getitem__(self, indices: ExprLike | tuple[ExprLike, ...]) -> BufferLoad:
        idx = indices if isinstance(indices, tuple) else (indices,)
        return BufferLoad(self, tuple(convert(i) for i in idx))

    def vload(self, indices: Sequence[ExprLike]) -> BufferLoad:
        return BufferLoad(self, tuple(convert(i) for i in indices))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @override
    def __str__(self) -> str:
        return self.name

    @override
    def __repr__(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        return f"Buffer({self.name}, ({dims}), {self.dtype})"


def decl_buffer(
    shape: Sequence[ExprLike],
    dtype: str = "float32",
    name: str = "buffer",
    data: Var | None = None,
    scope: str = "global",
) -> Buffer:
    """``tvm.tir.decl_buffer``: a new buffer with a fresh data variable (named as the buffer)."""
    dims = tuple(convert(d) for d in shape)
    return Buffer(data or Var(name, "handle"), dtype, dims, name, scope)


@dataclass(frozen=True, slots=True, eq=False)
class BufferRegion(Node):
    """A rectangular region of a buffer: one ``Range`` per dimension."""

    buffer: Buffer
    region: tuple[Range, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "region", tuple(self.region))

    @staticmethod
    def full_region(buffer: Buffer) -> BufferRegion:
        zero = [
            convert(0) if d.dtype == "int32" else convert(0).astype(d.dtype) for d in buffer.shape
        ]
        return BufferRegion(
            buffer, tuple(Range(z, d) for z, d in zip(zero, buffer.shape, strict=True))
        )
