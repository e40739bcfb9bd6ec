"""TIR ``PrimFunc`` to the source of a numba kernel (TVM's ``codegen_c.cc`` /
``codegen_cpu.cc``, emitting Python for ``numba.njit`` instead of C for LLVM).

The kernel takes one array per buffer parameter (scalars for scalar parameters) and writes
its outputs in place. Statements map one to one: ``For`` to ``for ... in range``, stores to
item assignments, blocks to their bindings and bodies, ``Allocate`` and a block's
``alloc_buffers`` to ``np.empty``. Two patterns of ``te.create_prim_func``'s output get
better code, with the same results:

* **Parallel loops.** The leading spatial loops of a stage whose iterations write disjoint
  elements (each store indexed by the block variable bound to the loop) are fused into one
  ``prange`` when the stage does at least ``parallel_min_work`` iterations; inner loops stay
  ``range`` loops from 0 with unit stride on the last axis, so LLVM vectorizes them.
  ``ForKind.PARALLEL`` loops are ``prange`` loops whatever their size.
* **Register accumulation.** A reduction block nested inside its spatial loops, then its
  reduce loops, accumulates in a local variable, initialized by the block's ``init`` and
  stored once after the reduce loops, instead of reading and writing the buffer per step
  (the interpreter's "init at the first reduction step" reads the same values). A reduction
  of a few steps per element over inputs laid out along its innermost spatial loop (a pooling
  window) instead runs its reduce loops outside that loop, updating the buffer in place, so
  the inner loop vectorizes (``loop_patterns.sweeps_inner_axis``).

The statement walk uses an explicit stack of tasks; Python's limit of 100 indentation
levels bounds nesting (deeper programs raise ``Unsupported``).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from minitvm.backend.numba_cpu.expr_codegen import (
    Bound,
    Emitted,
    ExprEmitter,
    Scope,
    Unsupported,
    dtype_range,
    wrap,
)
from minitvm.backend.numba_cpu.loop_patterns import (
    Reduction,
    parallel_prefix,
    reduction_plan,
    stores,
    sweeps_inner_axis,
)
from minitvm.backend.numba_cpu.options import CompileOptions
from minitvm.error import DiagnosticError, InternalError
from minitvm.runtime.dtype import is_float, is_uint
from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import IntImm, IterVarType, PrimExpr, Var
from minitvm.tir.function import PrimFunc
from minitvm.tir.stmt import (
    Allocate,
    Block,
    BlockRealize,
    BufferStore,
    Evaluate,
    For,
    ForKind,
    IfThenElse,
    LetStmt,
    SeqStmt,
    Stmt,
    is_true,
)

__all__ = ["FuncEmitter", "KernelSource", "bind_params", "generate", "np_dtype", "store_cast"]

MAX_INDENT = 90
PARALLEL_CHUNKS = 256
"""Leading parallel loops are fused until their combined extent reaches this many chunks."""

MIN_CHUNKS = 16
"""Fewer parallel chunks than this do not keep the threads busy."""

_RESERVED = frozenset({"np", "rt", "math", "njit", "prange", "range", "min", "max", "abs"})


@dataclass(frozen=True, slots=True)
class KernelSource:
    """A generated kernel: ``source`` defines the function ``name``."""

    name: str
    source: str
    parallel: bool
    param_names: tuple[str, ...]


def np_dtype(dtype: str) -> str:
    return "np.bool_" if dtype == "bool" else f"np.{dtype}"


def store_cast(code: str, dtype: str) -> str:
    if is_float(dtype) or dtype in ("bool", "int64", "uint64"):
        return code
    return f"np.{dtype}({code})"


# --- tasks of the statement walk ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StmtTask:
    stmt: Stmt
    indent: int
    in_loop: bool


@dataclass(frozen=True, slots=True)
class _LineTask:
    text: str
    indent: int


@dataclass(frozen=True, slots=True)
class _Action:
    run: Callable[[], None]


_Task = _StmtTask | _LineTask | _Action


class FuncEmitter:
    """Writes the statements of one kernel function (subclassed by the numba-CUDA target)."""

    expr_class: type[ExprEmitter] = ExprEmitter

    def __init__(self, options: CompileOptions) -> None:
        self.options = options
        self.lines: list[str] = []
        self.used: set[str] = set(_RESERVED)
        self.scope = Scope()
        self.expr = self.expr_class(self.scope, self.fresh)
        self.parallel = False
        self.stack: list[_Task] = []

    def fresh(self, hint: str) -> str:
        base = re.sub(r"\W", "_", hint) or "v"
        if base[0].isdigit():
            base = "v" + base
        if keyword.iskeyword(base) or base in ("True", "False", "None"):
            base += "_"
        name, k = base, 0
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name

    # --- helpers ----------------------------------------------------------------------------

    def line(self, text: str, indent: int) -> None:
        if indent > MAX_INDENT:
            raise Unsupported("the program nests too deeply for Python source")
        self.lines.append("    " * indent + text)

    def value(self, e: PrimExpr, indent: int) -> Emitted:
        prelude: list[str] = []
        out = self.expr.emit(e, prelude)
        for text in prelude:
            self.line(text, indent)
        return out

    def push(self, *tasks: _Task) -> None:
        """Schedule ``tasks`` to run in the order given."""
        self.stack.extend(reversed(tasks))

    def bind_var(self, v: Var, value: PrimExpr, indent: int, dom: Bound | None = None) -> None:
        """Make ``v`` stand for ``value``: the same name when ``value`` is a variable."""
        if isinstance(value, Var) and value in self.scope.names:
            self.scope.names[v] = self.scope.names[value]
            bound = self.scope.bounds.get(value)
        else:
            out = self.value(value, indent)
            name = self.fresh(v.name_hint)
            self.line(f"{name} = {out.code}", indent)
            self.scope.names[v] = name
            bound = out.bound
        if bound is not None and dom is not None:
            bound = (max(bound[0], dom[0]), min(bound[1], dom[1]))
        if bound is not None:
            self.scope.bounds[v] = bound

    def allocate(self, buf: Buffer, indent: int) -> None:
        dims = [self.value(d, indent).code for d in buf.shape]
        name = self.fresh(buf.name)
        shape = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
        self.line(f"{name} = np.empty({shape}, dtype={np_dtype(buf.dtype)})", indent)
        self.scope.arrays[buf.data] = name

    # --- the walk ---------------------------------------------------------------------------

    def run(self, root: Stmt, indent: int, in_loop: bool = False) -> None:
        """Emit ``root``; ``in_loop`` keeps its loops serial."""
        self.push(_StmtTask(root, indent, in_loop))
        while self.stack:
            task = self.stack.pop()
            match task:
                case _LineTask():
                    self.line(task.text, task.indent)
                case _Action():
                    task.run()
                case _StmtTask():
                    self.stmt(task.stmt, task.indent, task.in_loop)
                case _:
                    assert_never(task)

    def stmt(self, s: Stmt, indent: int, in_loop: bool) -> None:  # noqa: C901  (a flat dispatch over the union)
        match s:
            case SeqStmt():
                if not s.seq:
                    self.line("pass", indent)
                self.push(*(_StmtTask(x, indent, in_loop) for x in s.seq))
            case BufferStore():
                self.store(s, indent)
            case IfThenElse():
                cond = self.value(s.condition, indent)
                self.line(f"if {cond.code}:", indent)
                tasks: list[_Task] = [_StmtTask(s.then_case, indent + 1, in_loop)]
                if s.else_case is not None:
                    tasks += [
                        _LineTask("else:", indent),
                        _StmtTask(s.else_case, indent + 1, in_loop),
                    ]
                self.push(*tasks)
            case LetStmt():
                self.bind_var(s.var, s.value, indent)
                self.push(_StmtTask(s.body, indent, in_loop))
            case Allocate():
                if s.dtype == "float16":
                    raise Unsupported("the numba target does not support float16")
                extents = ", ".join(self.value(x, indent).code for x in s.extents)
                name = self.fresh(s.buffer_var.name_hint)
                self.line(f"{name} = np.empty(({extents},), dtype={np_dtype(s.dtype)})", indent)
                self.scope.arrays[s.buffer_var] = name
                self.push(_StmtTask(s.body, indent, in_loop))
            case Evaluate():
                self.line("pass", indent)
            case For():
                self.loop_nest(s, indent, in_loop)
            case BlockRealize():
                self.realize(s, indent, in_loop)
            case Block():
                self.block(s, indent, in_loop, True)
            case _:
                assert_never(s)

    # --- stores, blocks ---------------------------------------------------------------------

    def store(self, s: BufferStore, indent: int) -> None:
        buf = s.buffer
        value = self.value(s.value, indent)
        acc = self.scope.accumulators.get(buf.data)
        if acc is not None and all(a is b for a, b in zip(acc[0], s.indices, strict=True)):
            self.line(f"{acc[1]} = {value.code}", indent)
            return
        array = self.scope.arrays.get(buf.data)
        if array is None:
            raise DiagnosticError(f"numba codegen: buffer {buf.name} has no storage here")
        idx = [self.value(i, indent) for i in s.indices]
        checks = self.range_checks(buf, array, idx)
        if checks:
            self.line(f"if not ({' & '.join(checks)}):", indent)
            self.out_of_range(f"store to {buf.name} is out of range", indent + 1)
        target = (
            f"{array}[{', '.join(i.code for i in idx)}]"
            if idx
            else f"{array}[{self.expr.scalar_index}]"
        )
        self.line(f"{target} = {store_cast(value.code, buf.dtype)}", indent)

    def out_of_range(self, where: str, indent: int) -> None:
        """What a store whose range check failed does instead of storing."""
        self.line(f"raise IndexError({where!r})", indent)

    def range_checks(self, buf: Buffer, array: str, idx: list[Emitted]) -> list[str]:
        checks: list[str] = []
        for k, (i, dim) in enumerate(zip(idx, buf.shape, strict=True)):
            if isinstance(dim, IntImm):
                if i.bound is not None and i.bound[0] >= 0 and i.bound[1] < dim.value:
                    continue
                checks.append(f"(0 <= {i.code}) & ({i.code} < {dim.value})")
            else:
                checks.append(f"(0 <= {i.code}) & ({i.code} < {array}.shape[{k}])")
        return checks

    def realize(self, s: BlockRealize, indent: int, in_loop: bool) -> None:
        if not is_true(s.predicate):
            cond = self.value(s.predicate, indent)
            self.line(f"if {cond.code}:", indent)
            indent += 1
        for iv, value in zip(s.block.iter_vars, s.iter_values, strict=True):
            self.bind_var(iv.var, value, indent, self.domain(iv.dom.min, iv.dom.extent, indent))
        first: list[str] = []
        for iv in s.block.iter_vars:
            if iv.iter_type == IterVarType.CommReduce:
                lo = self.value(iv.dom.min, indent).code
                first.append(f"({self.scope.names[iv.var]} == {lo})")
        self.block(s.block, indent, in_loop, " & ".join(first) or True)

    def block(self, b: Block, indent: int, in_loop: bool, first: str | bool) -> None:
        for buf in b.alloc_buffers:
            self.allocate(buf, indent)
        tasks: list[_Task] = []
        if b.init is not None:
            if first is True:
                tasks.append(_StmtTask(b.init, indent, in_loop))
            else:
                tasks += [_LineTask(f"if {first}:", indent), _StmtTask(b.init, indent + 1, in_loop)]
        tasks.append(_StmtTask(b.body, indent, in_loop))
        self.push(*tasks)

    def domain(self, lo: PrimExpr, extent: PrimExpr, indent: int) -> Bound | None:
        if isinstance(lo, IntImm) and isinstance(extent, IntImm):
            return (lo.value, lo.value + max(extent.value, 1) - 1)
        return None

    # --- loops ------------------------------------------------------------------------------

    def loop_nest(self, s: For, indent: int, in_loop: bool) -> None:
        loops = [s]
        while isinstance(loops[-1].body, For):
            loops.append(loops[-1].body)
        inner = loops[-1].body
        reduction = reduction_plan(loops, inner)
        fused = 0 if in_loop else self.parallel_loops(loops, inner)
        if fused == 0 and s.kind == ForKind.PARALLEL and not in_loop:
            fused = 1
        tasks: list[_Task] = []
        level = indent
        if fused:
            level = self.parallel_header(loops[:fused], indent)
        split = reduction.spatial if reduction is not None else len(loops)
        sweep = reduction is not None and split - 1 >= fused and sweeps_inner_axis(reduction, loops)
        for loop in loops[fused : split - 1 if sweep else split]:
            level = self.loop_header(loop, level)
        if reduction is None:
            self.push(_StmtTask(inner, level, True))
            return
        if sweep:
            self.push(*self.sweep(reduction, loops[split - 1], loops[split:], level))
            return
        tasks = self.accumulate(reduction, loops[max(split, fused) :], level)
        self.push(*tasks)

    def sweep(
        self, plan: Reduction, inner: For, reduce_loops: list[For], indent: int
    ) -> list[_Task]:
        """The reduction with its reduce loops outside the innermost spatial loop
        (``sweeps_inner_axis``): a loop storing the ``init`` values, then the reduce loops
        around a second copy of the spatial loop running the block's body on the buffer."""
        block = plan.realize.block
        if block.init is None:
            raise InternalError("a swept reduction needs an init")
        level = self.loop_header(inner, indent)
        self.bind_block_vars(plan, False, level)

        def body() -> None:
            at = indent
            for loop in reduce_loops:
                at = self.loop_header(loop, at)
            at = self.loop_header(inner, at)
            self.bind_block_vars(plan, False, at)
            self.bind_block_vars(plan, True, at)
            self.push(_StmtTask(block.body, at, True))

        return [_StmtTask(block.init, level, True), _Action(body)]

    def parallel_loops(self, loops: list[For], inner: Stmt) -> int:
        """How many leading loops to fuse into one ``prange`` (0: run serially)."""
        legal = parallel_prefix(loops, inner)
        if legal == 0:
            return 0
        extents = [x.extent.value if isinstance(x.extent, IntImm) else None for x in loops]
        work = 1
        for e in extents:
            if e is None:
                return 0
            work *= e
        if work < self.options.parallel_min_work:
            return 0
        # Keep the innermost loop out of the prange (LLVM vectorizes it) unless the loops
        # outside it give too few chunks to share.
        limit = legal
        if legal == len(loops) and len(loops) > 1:
            outer = 1
            for e in extents[:-1]:
                outer *= e or 1
            if outer >= MIN_CHUNKS:
                limit = legal - 1
        chosen, chunks = 0, 1
        while chosen < limit and chunks < PARALLEL_CHUNKS:
            if not isinstance(loops[chosen].min, IntImm):
                break
            chunks *= extents[chosen] or 1
            chosen += 1
        return chosen

    def parallel_header(self, loops: list[For], indent: int) -> int:
        self.parallel = True
        if len(loops) == 1:
            return self.loop_header(loops[0], indent, "prange")
        extents = [x.extent.value for x in loops if isinstance(x.extent, IntImm)]
        total = 1
        for e in extents:
            total *= e
        flat = self.fresh("fused")
        self.line(f"for {flat} in prange({total}):", indent)
        self.unflatten(loops, flat, total, indent + 1)
        return indent + 1

    def unflatten(self, loops: list[For], flat: str, total: int, indent: int) -> None:
        """Bind the variables of ``loops`` (constant extents, ``total`` iterations in all)
        from the index ``flat`` of their flattened iteration space."""
        stride = total
        for loop in loops:
            extent = loop.extent.value if isinstance(loop.extent, IntImm) else 1
            stride //= extent
            lo = loop.min.value if isinstance(loop.min, IntImm) else 0
            expr = f"{flat} // {stride}" if stride > 1 else flat
            if extent * stride != total:
                expr = f"({expr}) % {extent}" if stride > 1 else f"{expr} % {extent}"
            name = self.fresh(loop.loop_var.name_hint)
            self.line(f"{name} = {expr}" + (f" + {lo}" if lo else ""), indent)
            self.scope.names[loop.loop_var] = name
            self.scope.bounds[loop.loop_var] = (lo, lo + extent - 1)

    def loop_header(self, loop: For, indent: int, fn: str = "range") -> int:
        lo = self.value(loop.min, indent)
        extent = self.value(loop.extent, indent)
        name = self.fresh(loop.loop_var.name_hint)
        self.scope.names[loop.loop_var] = name
        if isinstance(loop.min, IntImm) and loop.min.value == 0:
            bounds = extent.code
        elif isinstance(loop.min, IntImm) and isinstance(loop.extent, IntImm):
            bounds = f"{loop.min.value}, {loop.min.value + loop.extent.value}"
        else:
            bounds = f"{lo.code}, {lo.code} + {extent.code}"
        if lo.bound is not None and extent.bound is not None:
            self.scope.bounds[loop.loop_var] = (
                lo.bound[0],
                lo.bound[1] + max(extent.bound[1], 1) - 1,
            )
        self.line(f"for {name} in {fn}({bounds}):", indent)
        return indent + 1

    def bind_block_vars(self, plan: Reduction, reduce: bool, indent: int) -> None:
        """Bind the block's spatial (or reduce) variables to their loop variables."""
        block = plan.realize.block
        for iv, value in zip(block.iter_vars, plan.realize.iter_values, strict=True):
            if (iv.iter_type == IterVarType.CommReduce) == reduce:
                self.bind_var(iv.var, value, indent)

    def accumulate(self, plan: Reduction, reduce_loops: list[For], indent: int) -> list[_Task]:
        """Bind the spatial block variables, start the accumulators, then the reduce loops."""
        block = plan.realize.block
        if block.init is None:
            raise InternalError("a register reduction needs an init")
        self.bind_block_vars(plan, False, indent)
        accs: list[str] = []
        for store in stores(block.init):
            start = self.value(store.value, indent)
            acc = self.fresh(f"acc_{store.buffer.name}")
            self.line(f"{acc} = {start.code}", indent)
            accs.append(acc)
        level = indent
        for loop in reduce_loops:
            level = self.loop_header(loop, level)
        self.bind_block_vars(plan, True, level)
        saved = dict(self.scope.accumulators)
        for buf, acc in zip(plan.buffers, accs, strict=True):
            self.scope.accumulators[buf.data] = (plan.indices, acc)

        def finish() -> None:
            self.scope.accumulators = saved
            idx = [self.value(i, indent).code for i in plan.indices]
            for buf, acc in zip(plan.buffers, accs, strict=True):
                array = self.scope.arrays[buf.data]
                target = (
                    f"{array}[{', '.join(idx)}]" if idx else f"{array}[{self.expr.scalar_index}]"
                )
                self.line(f"{target} = {store_cast(acc, buf.dtype)}", indent)

        return [_StmtTask(block.body, level, True), _Action(finish)]


# --- the function -------------------------------------------------------------------------------


def _decorator(options: CompileOptions, parallel: bool) -> str:
    flags = ['error_model="numpy"']
    if options.fastmath:
        flags.append('fastmath={"reassoc", "contract", "arcp"}')
    if parallel:
        flags.append("parallel=True")
    return f"@njit(cache=True, {', '.join(flags)})"


def generate(func: PrimFunc, options: CompileOptions, name: str = "kernel") -> KernelSource:
    """The source of a numba kernel computing ``func`` (destination-passing style)."""
    em = FuncEmitter(options)
    fname = em.fresh(name)
    params, setup = bind_params(em, func)
    for text in setup:
        em.line(text, 1)
    em.run(func.body, 1)
    body = "\n".join(em.lines)
    source = f"{_decorator(options, em.parallel)}\ndef {fname}({', '.join(params)}):\n{body}\n"
    return KernelSource(fname, source, em.parallel, tuple(params))


def bind_params(em: FuncEmitter, func: PrimFunc) -> tuple[list[str], list[str]]:
    """Name the parameters of ``func`` in ``em``'s scope: the parameter names, and the lines
    that give scalars their representation and bind symbolic dimensions."""
    params: list[str] = []
    setup: list[str] = []
    for p, buf in zip(func.params, func.param_buffers, strict=True):
        pname = em.fresh(buf.name if buf is not None else p.name_hint)
        params.append(pname)
        if buf is None:
            em.scope.names[p] = pname
            setup.extend(_scalar_param(pname, p.dtype))
            continue
        if buf.dtype == "float16":
            raise Unsupported("the numba target does not support float16")
        em.scope.arrays[buf.data] = pname
        for k, dim in enumerate(buf.shape):
            if isinstance(dim, Var) and dim not in em.scope.names:
                dname = em.fresh(dim.name_hint)
                em.scope.names[dim] = dname
                em.scope.bounds[dim] = (0, dtype_range(dim.dtype)[1])
                setup.append(f"{dname} = {pname}.shape[{k}]")
    return params, setup


def _scalar_param(name: str, dtype: str) -> list[str]:
    """Scalars arrive as Python numbers: give them the parameter's representation."""
    if dtype == "float16":
        raise Unsupported("the numba target does not support float16")
    if is_float(dtype) or dtype == "uint64":
        return [f"{name} = np.{dtype}({name})"]
    if dtype == "bool":
        return [f"{name} = {name} != 0"]
    if is_uint(dtype) or dtype != "int64":
        return [f"{name} = {wrap(f'np.int64({name})', dtype)}"]
    return [f"{name} = np.int64({name})"]
