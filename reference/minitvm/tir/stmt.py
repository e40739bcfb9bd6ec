"""TIR statements (TVM's ``include/tvm/tir/stmt.h``) and the closed union ``Stmt``.

Loops and stores as in TVM, plus TensorIR's blocks: a ``Block`` names a computation over block
iteration variables (spatial or reduce), with the regions it reads and writes, an optional
``init`` run at the first reduction step, and buffers it allocates; a ``BlockRealize`` binds
the block variables to values (usually the surrounding loop variables).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeAlias

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.node import DEF, Node
from minitvm.tir.buffer import Buffer, BufferRegion
from minitvm.tir.expr import ExprLike, IntImm, IterVar, PrimExpr, PrimExprBase, Var, const
from minitvm.tir.op import convert

__all__ = [
    "Allocate",
    "Block",
    "BlockRealize",
    "BufferStore",
    "Evaluate",
    "For",
    "ForKind",
    "IfThenElse",
    "LetStmt",
    "SeqStmt",
    "Stmt",
    "StmtNode",
]


class StmtNode(Node):
    """Base of statements; statements compare and hash by identity."""

    __slots__ = ()

    def script(self) -> str:
        from minitvm.tir.script import stmt_script

        return stmt_script(self)  # type: ignore[arg-type]  # every StmtNode is a Stmt member

    @override
    def __str__(self) -> str:
        return self.script()

    @override
    def __repr__(self) -> str:
        return self.script()


class ForKind(IntEnum):
    """How a loop's iterations run, with TVM's values. All kinds compute the same result."""

    SERIAL = 0
    PARALLEL = 1
    VECTORIZED = 2
    UNROLLED = 3
    THREAD_BINDING = 4


def _convert_fields(node: StmtNode, *names: str) -> None:
    """Accept ``a == b`` and Python numbers where expressions go, as TVM's constructors do."""
    for name in names:
        object.__setattr__(node, name, convert(getattr(node, name)))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LetStmt(StmtNode):
    var: Var = dataclasses.field(metadata=DEF)
    value: PrimExpr
    body: Stmt

    def __post_init__(self) -> None:
        _convert_fields(self, "value")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BufferStore(StmtNode):
    """``buffer[indices] = value``."""

    buffer: Buffer
    value: PrimExpr
    indices: tuple[PrimExpr, ...]

    def __post_init__(self) -> None:
        _convert_fields(self, "value")
        object.__setattr__(self, "indices", tuple(convert(i) for i in self.indices))
        if len(self.indices) != len(self.buffer.shape):
            raise DiagnosticError(
                f"BufferStore to {self.buffer.name}: {len(self.buffer.shape)} indices expected, "
                f"got {len(self.indices)}"
            )
        if self.value.dtype != self.buffer.dtype:
            raise DiagnosticError(
                f"BufferStore to {self.buffer.name}: value dtype {self.value.dtype} does not "
                f"match the buffer's {self.buffer.dtype}"
            )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Allocate(StmtNode):
    """Storage for ``buffer_var`` (``extents`` elements of ``dtype``) during ``body``."""

    buffer_var: Var = dataclasses.field(metadata=DEF)
    dtype: str
    extents: tuple[PrimExpr, ...]
    condition: PrimExpr
    body: Stmt

    def __post_init__(self) -> None:
        object.__setattr__(self, "extents", tuple(convert(x) for x in self.extents))
        _convert_fields(self, "condition")


@dataclass(frozen=True, slots=True, eq=False, init=False, repr=False)
class SeqStmt(StmtNode):
    """Statements run in order. Nested sequences are flattened on construction."""

    seq: tuple[Stmt, ...]

    def __init__(self, seq: Sequence[Stmt]) -> None:
        flat: list[Stmt] = []
        for s in seq:
            if isinstance(s, SeqStmt):
                flat.extend(s.seq)
            else:
                flat.append(s)
        object.__setattr__(self, "seq", tuple(flat))

    def __len__(self) -> int:
        return len(self.seq)

    def __getitem__(self, i: int) -> Stmt:
        return self.seq[i]

    @staticmethod
    def flatten(stmts: Sequence[Stmt]) -> Stmt:
        """One statement for ``stmts``: the statement itself when there is exactly one."""
        seq = SeqStmt(stmts)
        return seq.seq[0] if len(seq.seq) == 1 else seq


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class IfThenElse(StmtNode):
    condition: PrimExpr
    then_case: Stmt
    else_case: Stmt | None = None

    def __post_init__(self) -> None:
        _convert_fields(self, "condition")
        if self.condition.dtype != "bool":
            raise DiagnosticError(
                f"IfThenElse: the condition must be bool, got {self.condition.dtype}"
            )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Evaluate(StmtNode):
    """Evaluate an expression for its effect (none, in minitvm)."""

    value: PrimExpr

    def __post_init__(self) -> None:
        _convert_fields(self, "value")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class For(StmtNode):
    """``for loop_var in range(min, min + extent)``."""

    loop_var: Var = dataclasses.field(metadata=DEF)
    min: PrimExpr
    extent: PrimExpr
    kind: ForKind
    body: Stmt
    thread_binding: str | None = None
    annotations: tuple[tuple[str, object], ...] = ()

    def __post_init__(self) -> None:
        _convert_fields(self, "min", "extent")


@dataclass(frozen=True, slots=True, eq=False, init=False, repr=False)
class Block(StmtNode):
    """A TensorIR block (see the module docstring)."""

    iter_vars: tuple[IterVar, ...] = dataclasses.field(metadata=DEF)
    reads: tuple[BufferRegion, ...]
    writes: tuple[BufferRegion, ...]
    name_hint: str
    body: Stmt
    init: Stmt | None
    alloc_buffers: tuple[Buffer, ...] = dataclasses.field(metadata=DEF)
    annotations: tuple[tuple[str, object], ...]

    def __init__(
        self,
        iter_vars: Sequence[IterVar],
        reads: Sequence[BufferRegion],
        writes: Sequence[BufferRegion],
        name_hint: str,
        body: Stmt,
        init: Stmt | None = None,
        alloc_buffers: Sequence[Buffer] = (),
        annotations: Mapping[str, object] | None = None,
    ) -> None:
        object.__setattr__(self, "iter_vars", tuple(iter_vars))
        object.__setattr__(self, "reads", tuple(reads))
        object.__setattr__(self, "writes", tuple(writes))
        object.__setattr__(self, "name_hint", name_hint)
        object.__setattr__(self, "body", body)
        object.__setattr__(self, "init", init)
        object.__setattr__(self, "alloc_buffers", tuple(alloc_buffers))
        object.__setattr__(self, "annotations", tuple((annotations or {}).items()))


@dataclass(frozen=True, slots=True, eq=False, init=False, repr=False)
class BlockRealize(StmtNode):
    """Run ``block`` with its iteration variables bound to ``iter_values`` when
    ``predicate`` holds."""

    iter_values: tuple[PrimExpr, ...]
    predicate: PrimExpr
    block: Block

    def __init__(
        self, iter_values: Sequence[ExprLike], predicate: ExprLike | None, block: Block
    ) -> None:
        values = tuple(convert(v) for v in iter_values)
        if len(values) != len(block.iter_vars):
            raise DiagnosticError(
                f"block {block.name_hint}: {len(block.iter_vars)} iteration values expected, "
                f"got {len(values)}"
            )
        pred = const(True, "bool") if predicate is None else convert(predicate)
        object.__setattr__(self, "iter_values", values)
        object.__setattr__(self, "predicate", pred)
        object.__setattr__(self, "block", block)


Stmt: TypeAlias = (
    LetStmt | BufferStore | Allocate | SeqStmt | IfThenElse | Evaluate | For | Block | BlockRealize
)
"""Every TIR statement. Dispatch over it with ``match`` and ``assert_never``."""


def is_true(e: PrimExprBase) -> bool:
    return isinstance(e, IntImm) and e.value != 0
