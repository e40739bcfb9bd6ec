"""The TIR interpreter: runs a PrimFunc statement by statement on numpy buffers.

It is the lowering oracle: slow (one scalar at a time) but a direct reading of the IR.
Values follow ``minitvm.tir.semantics``. Expressions are pure and total, so both branches of
``Select`` / ``if_then_else`` may be evaluated: a load at an out-of-range index reads the element
at the index clamped into the buffer, a store out of range raises DiagnosticError. A reduction
block runs its ``init`` when every reduce variable is at the start of its domain.

Nothing recurses: each expression is compiled once into a post-order tape run by a loop, and
statements run from an explicit stack of frames.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.tir import semantics
from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import (
    And,
    BinaryOpExpr,
    BufferLoad,
    Call,
    Cast,
    CmpExpr,
    FloatImm,
    IntImm,
    IterVarType,
    Let,
    Not,
    Or,
    PrimExpr,
    ProducerLoad,
    Reduce,
    Select,
    StringImm,
    Var,
)
from minitvm.tir.function import PrimFunc
from minitvm.tir.functor import expr_children
from minitvm.tir.stmt import (
    Allocate,
    Block,
    BlockRealize,
    BufferStore,
    Evaluate,
    For,
    IfThenElse,
    LetStmt,
    SeqStmt,
    Stmt,
)

__all__ = ["Interpreter", "run_prim_func"]

Array = semantics.Array


@dataclass(frozen=True, slots=True)
class _Instr:
    """One tape step: compute ``node`` from the slots ``args``; ``bind`` binds a Let var."""

    node: PrimExpr
    args: tuple[int, ...]
    bind: Var | None = None


class Interpreter:
    """Executes statements over an environment of scalars and a storage of arrays."""

    def __init__(self) -> None:
        self.env: dict[Var, Array] = {}
        self.storage: dict[Var, Array] = {}
        self._tapes: dict[int, tuple[list[_Instr], int]] = {}
        self._alive: list[PrimExpr] = []

    # --- expressions ------------------------------------------------------------------------

    def _compile(self, root: PrimExpr) -> tuple[list[_Instr], int]:
        slot: dict[int, int] = {}
        tape: list[_Instr] = []
        stack: list[tuple[PrimExpr, int]] = [(root, 0)]
        while stack:
            node, phase = stack.pop()
            if phase == 0 and id(node) in slot:
                continue
            if isinstance(node, Let):
                if phase == 0:
                    stack += [(node, 2), (node.body, 0), (node, 1), (node.value, 0)]
                elif phase == 1:
                    tape.append(_Instr(node.value, (slot[id(node.value)],), bind=node.var))
                else:
                    slot[id(node)] = slot[id(node.body)]
                continue
            kids = expr_children(node)
            if phase == 0 and kids:
                stack.append((node, 1))
                stack.extend((k, 0) for k in reversed(kids))
                continue
            slot[id(node)] = len(tape)
            tape.append(_Instr(node, tuple(slot[id(k)] for k in kids)))
        self._alive.append(root)
        return tape, slot[id(root)]

    def eval(self, e: PrimExpr) -> Array:
        entry = self._tapes.get(id(e))
        if entry is None:
            entry = self._tapes[id(e)] = self._compile(e)
        tape, result = entry
        values: list[Array] = []
        for ins in tape:
            args = [values[i] for i in ins.args]
            if ins.bind is not None:
                self.env[ins.bind] = args[0]
                values.append(args[0])
            else:
                values.append(self._step(ins.node, args))
        return values[result]

    def _step(self, e: PrimExpr, args: list[Array]) -> Array:  # noqa: C901  (a flat dispatch over the union)
        match e:
            case IntImm() | FloatImm():
                return np.asarray(e.value, dtype=e.dtype)
            case Var():
                if e not in self.env:
                    raise DiagnosticError(f"TIR interpreter: variable {e.name_hint} is unbound")
                return self.env[e]
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
                return args[1] if bool(args[0]) else args[2]
            case Cast():
                return semantics.cast(args[0], e.dtype)
            case Call():
                if e.op == "tir.if_then_else":
                    return args[1] if bool(args[0]) else args[2]
                if any(isinstance(a, StringImm) for a in e.args):
                    raise DiagnosticError(f"TIR interpreter: cannot evaluate {e.op} on strings")
                return semantics.intrinsic(e.op, args, e.dtype)
            case BufferLoad():
                data = self._data(e.buffer)
                idx = tuple(
                    min(max(int(i), 0), n - 1) for i, n in zip(args, data.shape, strict=True)
                )
                return np.asarray(data[idx])
            case Let():
                raise DiagnosticError("TIR interpreter: internal Let step")
            case ProducerLoad() | Reduce():
                raise DiagnosticError(
                    f"TIR interpreter: {type(e).__name__} is TE-level; lower it with "
                    "te.create_prim_func first"
                )
            case _:
                assert_never(e)

    def _data(self, buf: Buffer) -> Array:
        data = self.storage.get(buf.data)
        if data is None:
            raise DiagnosticError(f"TIR interpreter: buffer {buf.name} has no storage")
        return data

    # --- statements -------------------------------------------------------------------------

    def alloc(self, buf: Buffer) -> None:
        shape = tuple(int(self.eval(d)) for d in buf.shape)
        self.storage[buf.data] = np.zeros(shape, dtype=buf.dtype)

    def run(self, root: Stmt) -> None:
        """Execute ``root``; the frames are statements and loop continuations."""
        stack: list[Stmt | tuple[For, int, int]] = [root]
        with semantics.quiet():
            while stack:
                top = stack.pop()
                if isinstance(top, tuple):
                    loop, i, end = top
                    if i < end:
                        self.env[loop.loop_var] = np.asarray(i, dtype=loop.loop_var.dtype)
                        stack.append((loop, i + 1, end))
                        stack.append(loop.body)
                    continue
                self._exec(top, stack)

    def _exec(self, s: Stmt, stack: list[Stmt | tuple[For, int, int]]) -> None:  # noqa: C901  (a flat dispatch over the union)
        match s:
            case SeqStmt():
                stack.extend(reversed(s.seq))
            case For():
                lo = int(self.eval(s.min))
                stack.append((s, lo, lo + int(self.eval(s.extent))))
            case BufferStore():
                self._store(s)
            case IfThenElse():
                if bool(self.eval(s.condition)):
                    stack.append(s.then_case)
                elif s.else_case is not None:
                    stack.append(s.else_case)
            case LetStmt():
                self.env[s.var] = self.eval(s.value)
                stack.append(s.body)
            case Allocate():
                shape = tuple(int(self.eval(x)) for x in s.extents)
                self.storage[s.buffer_var] = np.zeros(shape, dtype=s.dtype)
                stack.append(s.body)
            case Evaluate():
                self.eval(s.value)
            case BlockRealize():
                self._realize(s, stack)
            case Block():
                self._enter_block(s, stack, first_step=True)
            case _:
                assert_never(s)

    def _store(self, s: BufferStore) -> None:
        data = self._data(s.buffer)
        idx = tuple(int(self.eval(i)) for i in s.indices)
        if any(not 0 <= i < n for i, n in zip(idx, data.shape, strict=True)):
            raise DiagnosticError(
                f"TIR interpreter: store to {s.buffer.name}{list(idx)} is out of range "
                f"for shape {data.shape}"
            )
        data[idx] = self.eval(s.value)

    def _realize(self, s: BlockRealize, stack: list[Stmt | tuple[For, int, int]]) -> None:
        if not bool(self.eval(s.predicate)):
            return
        first = True
        for iv, value in zip(s.block.iter_vars, s.iter_values, strict=True):
            v = self.eval(value)
            self.env[iv.var] = np.asarray(v, dtype=iv.var.dtype)
            if iv.iter_type == IterVarType.CommReduce and int(v) != int(self.eval(iv.dom.min)):
                first = False
        self._enter_block(s.block, stack, first)

    def _enter_block(
        self, block: Block, stack: list[Stmt | tuple[For, int, int]], first_step: bool
    ) -> None:
        for buf in block.alloc_buffers:
            self.alloc(buf)
        stack.append(block.body)
        if block.init is not None and first_step:
            stack.append(block.init)


def run_prim_func(func: PrimFunc, args: Sequence[Array]) -> None:
    """Run ``func`` on ``args`` (one array per parameter), writing its outputs in place.

    Symbolic buffer dimensions are bound from the arrays' shapes; a shape or dtype that
    contradicts the function raises DiagnosticError.
    """
    if len(args) != len(func.params):
        raise DiagnosticError(f"PrimFunc takes {len(func.params)} arguments, got {len(args)}")
    interp = Interpreter()
    buffer_map = func.buffer_map
    for param, arr in zip(func.params, args, strict=True):
        buf = buffer_map.get(param)
        if buf is None:
            interp.env[param] = np.asarray(arr)
            continue
        _bind_buffer(interp, buf, arr)
    interp.run(func.body)


def _bind_buffer(interp: Interpreter, buf: Buffer, arr: Array) -> None:
    if str(arr.dtype) != buf.dtype:
        raise DiagnosticError(f"argument {buf.name}: expected dtype {buf.dtype}, got {arr.dtype}")
    if arr.ndim != len(buf.shape):
        raise DiagnosticError(
            f"argument {buf.name}: expected {len(buf.shape)} dimensions, got shape {arr.shape}"
        )
    for dim, n in zip(buf.shape, arr.shape, strict=True):
        if isinstance(dim, Var) and dim not in interp.env:
            interp.env[dim] = np.asarray(n, dtype=dim.dtype)
        elif int(interp.eval(dim)) != n:
            raise DiagnosticError(
                f"argument {buf.name}: expected shape "
                f"({', '.join(str(d) for d in buf.shape)}), got {arr.shape}"
            )
    interp.storage[buf.data] = arr
