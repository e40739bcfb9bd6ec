"""The interpreter's references against a small independent model: a store threaded through
evaluation (REF-8).

A program is a list of commands over scalar float32 cells: create a cell, write a constant or
a value computed from earlier reads, read a cell, define a closure that adds to a cell when
called (it captures the cell, so writes through it alias the cell), call such a closure,
and write one of two values depending on a comparison of earlier reads. The commands become
one Relay let chain returning every read and the final content of every cell; the model runs
the same commands on a Python dict, functionally (each step returns a new store). Both must
give the same values, bit for bit, on the program and after the passes that must keep
reference effects in place (REF-7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given
from hypothesis import strategies as st

from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass
from minitvm.relay.expr import Expr, RefCreate, RefRead, RefWrite, Var

Array = npt.NDArray[Any]
F32 = np.float32


@dataclass(frozen=True)
class New:
    init: float


@dataclass(frozen=True)
class Write:
    cell: int
    source: int | None  # a read's index, or None for the constant alone
    constant: float


@dataclass(frozen=True)
class Read:
    cell: int


@dataclass(frozen=True)
class Defer:
    """A closure ``fn() { cell := read(cell) + constant }``, defined now, called later."""

    cell: int
    constant: float


@dataclass(frozen=True)
class Call:
    closure: int


@dataclass(frozen=True)
class Choose:
    """``cell := if (read[a] < read[b]) { yes } else { no }``."""

    cell: int
    a: int
    b: int
    yes: float
    no: float


Command = New | Write | Read | Defer | Call | Choose

_SMALL = st.sampled_from([-2.5, -1.0, 0.0, 0.5, 1.0, 3.0])


@st.composite
def commands(draw: st.DrawFn) -> list[Command]:
    out: list[Command] = [New(draw(_SMALL))]
    cells, reads, closures = 1, 0, 0
    for _ in range(draw(st.integers(1, 14))):
        kinds = ["new", "write", "read", "defer"]
        kinds += ["call"] if closures else []
        kinds += ["choose"] if reads else []
        kind = draw(st.sampled_from(kinds))
        cell = draw(st.integers(0, cells - 1))
        if kind == "new":
            out.append(New(draw(_SMALL)))
            cells += 1
        elif kind == "write":
            source = draw(st.none() | st.integers(0, reads - 1)) if reads else None
            out.append(Write(cell, source, draw(_SMALL)))
        elif kind == "read":
            out.append(Read(cell))
            reads += 1
        elif kind == "defer":
            out.append(Defer(cell, draw(_SMALL)))
            closures += 1
        elif kind == "call":
            out.append(Call(draw(st.integers(0, closures - 1))))
        else:
            a, b = draw(st.integers(0, reads - 1)), draw(st.integers(0, reads - 1))
            out.append(Choose(cell, a, b, draw(_SMALL), draw(_SMALL)))
    return out


def _scalar(x: float) -> Expr:
    return relay.const(F32(x))


def to_relay(program: list[Command]) -> IRModule:
    """The commands as one let chain; the body is (reads..., final content of each cell)."""
    bindings: list[tuple[Var, Expr]] = []
    cells: list[Var] = []
    reads: list[Var] = []
    closures: list[Var] = []

    def bind(name: str, value: Expr) -> Var:
        v = relay.Var(f"{name}{len(bindings)}")
        bindings.append((v, value))
        return v

    for c in program:
        if isinstance(c, New):
            cells.append(bind("c", RefCreate(_scalar(c.init))))
        elif isinstance(c, Write):
            value = _scalar(c.constant)
            if c.source is not None:
                value = relay.add(reads[c.source], value)
            bind("w", RefWrite(cells[c.cell], value))
        elif isinstance(c, Read):
            reads.append(bind("r", RefRead(cells[c.cell])))
        elif isinstance(c, Defer):
            cell = cells[c.cell]
            update = RefWrite(cell, relay.add(RefRead(cell), _scalar(c.constant)))
            closures.append(bind("f", relay.Function([], update)))
        elif isinstance(c, Call):
            bind("u", relay.Call(closures[c.closure], []))
        else:
            cond = relay.less(reads[c.a], reads[c.b])
            yes = RefWrite(cells[c.cell], _scalar(c.yes))
            no = RefWrite(cells[c.cell], _scalar(c.no))
            bind("i", relay.If(cond, yes, no))
    finals = [bind("z", RefRead(cell)) for cell in cells]
    result: Expr = relay.Tuple([*reads, *finals])
    for var, value in reversed(bindings):
        result = relay.Let(var, value, result)
    return IRModule.from_expr(relay.Function([], result))


def model(program: list[Command]) -> list[Array]:
    """The same commands on a store threaded through evaluation."""
    store: dict[int, F32] = {}
    reads: list[F32] = []
    closures: list[tuple[int, F32]] = []

    def step(store: dict[int, F32], c: Command) -> dict[int, F32]:
        if isinstance(c, New):
            return {**store, len(store): F32(c.init)}
        if isinstance(c, Write):
            value = F32(c.constant)
            if c.source is not None:
                value = F32(reads[c.source] + value)
            return {**store, c.cell: value}
        if isinstance(c, Read):
            reads.append(store[c.cell])
            return store
        if isinstance(c, Defer):
            closures.append((c.cell, F32(c.constant)))
            return store
        if isinstance(c, Call):
            cell, k = closures[c.closure]
            return {**store, cell: F32(store[cell] + k)}
        value = F32(c.yes) if reads[c.a] < reads[c.b] else F32(c.no)
        return {**store, c.cell: value}

    for c in program:
        store = step(store, c)
    return [np.asarray(v) for v in [*reads, *(store[k] for k in sorted(store))]]


def _run(mod: IRModule) -> list[Array]:
    result = relay.create_executor("debug", mod=mod).evaluate()()
    return [np.asarray(r.numpy()) for r in result]


PASSES: list[Callable[[], Pass]] = [
    lambda: relay.transform.DeadCodeElimination(),
    lambda: relay.transform.DeadCodeElimination(inline_once=True),
    relay.transform.ToANormalForm,
    relay.transform.ToGraphNormalForm,
    relay.transform.FoldConstant,
    relay.transform.Inline,
]


@given(commands())
def test_references_behave_as_a_threaded_store(program: list[Command]) -> None:
    mod = relay.transform.InferType()(to_relay(program))
    want = model(program)
    got = _run(mod)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    for make in PASSES:
        out = make()(mod)
        for g, w in zip(_run(out), want, strict=True):
            np.testing.assert_array_equal(g, w)
