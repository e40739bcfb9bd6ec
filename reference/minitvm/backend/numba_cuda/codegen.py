"""TIR ``PrimFunc`` to the source of numba-CUDA kernels (TVM's ``codegen_cuda.cc`` after
``split_host_device``, emitting Python for ``numba.cuda.jit``).

The statement and expression emitters are the numba-CPU target's (``numba_cpu.codegen``),
with these differences:

* **Stages become kernels.** The body of the PrimFunc's root block is split into its
  top-level statements (the stages of ``te.create_prim_func``); each becomes one kernel,
  launched in order, so a stage reads what the previous ones wrote without a grid-wide
  barrier. The root block's intermediate buffers are allocated by the host and passed to
  every kernel after the parameters; other allocations are not supported. A 0-d buffer is
  passed as a 1-element array (element ``[0]``).
* **Grid-stride loops.** The leading loops of a stage that may run in parallel (the CPU
  target's analysis: each iteration writes its own elements) are flattened into one loop
  ``for i in range(cuda.grid(1), total, cuda.gridsize(1))``; any launch computes every
  element. A reduction's spatial loops are parallel and its reduce loops are not, so each
  thread accumulates one output element in a register. A stage without such loops runs on
  thread 0.
* **Block reductions.** A float reduction of at least ``BLOCK_REDUCE_MIN`` steps per output
  whose combiner is ``+``, ``*``, ``max`` or ``min`` (a softmax's row maximum and sum, a
  mean), reading along its reduce range (or with fewer than ``BLOCK_REDUCE_FEW``
  outputs), gives each output element a thread block instead: the block's threads accumulate
  strided parts of the reduce range in registers (reading adjacent elements together), then
  combine their partial results in shared memory by halving. Sums are thus added in another
  order than on the CPU (a rounding difference); ``max`` and ``min`` are unchanged.
* **Explicit casts.** Every float operation and function call is cast back to its dtype
  (``np.float32(a * b)``), and float functions call the dtype's device function
  (``rt.exp_f32``), so float32 stays float32 on the GPU and in the simulator alike.
* **Integers in int64.** As on the CPU, integers narrower than 64 bits are carried as int64
  and wrapped after an operation that may leave their dtype; signed loads are widened
  explicitly too (the simulator's loads are numpy scalars of the array's dtype), and a
  value is made an int64 before it is wrapped (numpy refuses to wrap a Python int).
* Under the simulator, which runs the kernel as Python, the body runs inside
  ``np.errstate(all="ignore")``, as the CPU graph runtime does, so numpy's scalar warnings
  (division by zero, NaN) do not surface from the simulator's threads.

``popcount``/``clz`` of ``uint64`` have no device form here and raise ``Unsupported`` (the
compile engine then runs the operators' reference kernels).
"""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import override

from minitvm.backend.numba_cpu.codegen import FuncEmitter, bind_params, np_dtype, store_cast
from minitvm.backend.numba_cpu.expr_codegen import (
    Bound,
    Emitted,
    ExprEmitter,
    Unsupported,
    dtype_range,
    float_literal,
    wrap,
)
from minitvm.backend.numba_cpu.loop_patterns import Reduction, parallel_prefix, reduction_plan
from minitvm.backend.numba_cpu.options import CompileOptions
from minitvm.backend.numba_cuda.options import CudaOptions
from minitvm.error import InternalError
from minitvm.runtime.dtype import is_float, is_uint
from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import (
    Add,
    BinaryOpExpr,
    BufferLoad,
    Call,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    IterVarType,
    Max,
    Min,
    Mod,
    Mul,
    PrimExpr,
    Var,
)
from minitvm.tir.function import PrimFunc
from minitvm.tir.functor import post_order, uses_var
from minitvm.tir.stmt import Allocate, BlockRealize, BufferStore, For, SeqStmt, Stmt, is_true

__all__ = ["BLOCK_REDUCE_MIN", "CudaKernelSource", "Stage", "generate_cuda"]

BLOCK_REDUCE_MIN = 64
"""Reductions of at least this many steps per output element get a thread block each..."""

BLOCK_REDUCE_FEW = 1024
"""...when their inputs are laid out along the reduce range, or they have fewer outputs."""

_UNARY = frozenset(
    [
        "exp",
        "exp2",
        "exp10",
        "log",
        "log2",
        "log10",
        "log1p",
        "sqrt",
        "rsqrt",
        "tanh",
        "sin",
        "cos",
        "tan",
        "sinh",
        "cosh",
        "asin",
        "acos",
        "atan",
        "asinh",
        "acosh",
        "atanh",
        "fabs",
        "floor",
        "ceil",
        "round",
        "nearbyint",
        "trunc",
        "erf",
    ]
)
_BINARY = frozenset(("pow", "atan2", "fmod", "copysign", "hypot"))
_PREDICATES = frozenset(("isnan", "isinf", "isfinite"))


def _suffix(dtype: str) -> str:
    if dtype == "float32":
        return "f32"
    if dtype == "float64":
        return "f64"
    raise Unsupported(f"the CUDA target does not support {dtype}")


class CudaExprEmitter(ExprEmitter):
    """Expressions with explicit float casts and device-function calls."""

    scalar_index = "0"
    """0-d buffers are passed as 1-element arrays (the simulator cannot index them by ())."""

    @override
    def fit(self, code: str, bound: Bound, dtype: str, depth: int) -> Emitted:
        """As the CPU target's, but the value is made an int64 before it is wrapped: under
        the simulator an operation on Python ints (loop variables, constants) gives a
        Python int, which numpy refuses to wrap."""
        out = super().fit(code, bound, dtype, depth)
        if out.code == code or dtype in ("int64", "uint64"):
            return out
        return Emitted(wrap(f"np.int64({code})", dtype), out.bound, out.depth)

    @override
    def load(self, e: BufferLoad, idx: list[Emitted], depth: int) -> Emitted:
        """As the CPU target's, but signed integers narrower than 64 bits are widened to
        int64 as unsigned ones are: the simulator's loads give numpy scalars of the
        array's dtype, whose arithmetic would wrap in that dtype, not in int64."""
        out = super().load(e, idx, depth)
        dtype = e.buffer.dtype
        narrow = not is_float(dtype) and dtype not in ("bool", "int64", "uint64")
        if narrow and not is_uint(dtype) and out.code.endswith("]"):
            return Emitted(f"np.int64({out.code})", out.bound, out.depth)
        return out

    @override
    def _float_binary(self, e: BinaryOpExpr, a: Emitted, b: Emitted, prelude: list[str]) -> str:
        dtype = e.dtype
        sfx = _suffix(dtype)
        match e:
            case Mod():
                code = f"rt.fmod_{sfx}({a.code}, {b.code})"
            case FloorDiv():
                code = f"rt.floor_{sfx}(np.{dtype}({a.code} / {b.code}))"
            case FloorMod():
                x, y = self.bind(a, prelude).code, self.bind(b, prelude).code
                q = f"np.{dtype}(rt.floor_{sfx}(np.{dtype}({x} / {y})))"
                code = f"({x} - np.{dtype}({q} * {y}))"
            case Min():
                code = f"rt.fmin({a.code}, {b.code})"
            case Max():
                code = f"rt.fmax({a.code}, {b.code})"
            case Div():
                code = f"({a.code} / {b.code})"
            case _:
                code = super()._float_binary(e, a, b, prelude)
        return f"np.{dtype}({code})"

    @override
    def _float_call(self, name: str, dtype: str, args: list[str]) -> str:
        sfx = _suffix(dtype)
        x = args[0]
        if name == "sigmoid":
            one = float_literal(1.0, dtype)
            e = f"np.{dtype}(rt.exp_{sfx}(np.{dtype}(-{x})))"
            return f"np.{dtype}({one} / np.{dtype}({one} + {e}))"
        if name in _PREDICATES:
            return f"rt.{name}({x})"
        if name in _UNARY and len(args) == 1:
            return f"np.{dtype}(rt.{name}_{sfx}({x}))"
        if name in _BINARY and len(args) == 2:
            return f"np.{dtype}(rt.{name}_{sfx}({x}, {args[1]}))"
        raise Unsupported(f"intrinsic tir.{name} on the CUDA target")

    @override
    def call(self, e: Call, kids: list[Emitted], depth: int, prelude: list[str]) -> Emitted:
        name = e.op.removeprefix("tir.")
        if name == "reinterpret":
            return self.reinterpret(e, kids[0], depth)
        if name in ("popcount", "clz") and e.args[0].dtype == "uint64":
            raise Unsupported(f"tir.{name} of uint64 on the CUDA target")
        if name in _PREDICATES and is_float(e.args[0].dtype):
            return Emitted(f"rt.{name}({kids[0].code})", (0, 1), depth)
        return super().call(e, kids, depth, prelude)

    @override
    def reinterpret(self, e: Call, x: Emitted, depth: int) -> Emitted:
        """Integers of one width reinterpret as a cast does (two's complement); a float and
        an integer of its width go through the ``rt`` bitcasts."""
        src, to = e.args[0].dtype, e.dtype
        if src == "bool" or to == "bool" or "float16" in (src, to):
            raise Unsupported(f"reinterpret from {src} to {to} on the CUDA target")
        if not is_float(src) and not is_float(to):
            return self.cast(to, src, x, depth)
        bits = "32" if "32" in src else "64"
        if is_float(src):
            code = f"rt.f{bits}_as_i{bits}({x.code})"
            signed = f"int{bits}"
            if to == signed:
                return Emitted(code, dtype_range(to), depth)
            return self.cast(to, signed, Emitted(code, dtype_range(signed), depth), depth)
        narrow = f"np.int{bits}(np.int64({x.code}))"  # the source bits, as a signed integer
        return Emitted(f"np.{to}(rt.i{bits}_as_f{bits}({narrow}))", None, depth)


class CudaFuncEmitter(FuncEmitter):
    """One stage kernel: grid-stride parallel loops, no device-side allocation."""

    expr_class = CudaExprEmitter

    def __init__(self, options: CompileOptions, faults: list[str]) -> None:
        super().__init__(options)
        self.work = 0
        self.used.add("cuda")
        self.fault = self.fresh("fault")
        self.faults = faults

    @override
    def out_of_range(self, where: str, indent: int) -> None:
        # A kernel cannot raise on a GPU: it records the first fault's code (1 + its index
        # in ``faults``) and stops; the host raises after the launches (CUDA-1).
        if where not in self.faults:
            self.faults.append(where)
        code = self.faults.index(where) + 1
        self.line(f"cuda.atomic.cas({self.fault}, 0, 0, {code})", indent)
        self.line("return", indent)

    @override
    def parallel_loops(self, loops: list[For], inner: Stmt) -> int:
        legal = _legal_prefix(loops, inner)
        work = 1
        for loop in loops[:legal]:
            work *= loop.extent.value if isinstance(loop.extent, IntImm) else 1
        if work == 0:  # an empty loop: nothing to share out
            legal = 0
        self.work = work if legal else 0
        return legal

    @override
    def parallel_header(self, loops: list[For], indent: int) -> int:
        total = self.work
        flat = self.fresh("tid")
        self.line(f"for {flat} in range(cuda.grid(1), {total}, cuda.gridsize(1)):", indent)
        self.unflatten(loops, flat, total, indent + 1)
        return indent + 1

    def block_reduce(self, plan: _BlockReduction, loops: list[For], indent: int) -> None:
        """The reduction with one thread block per output element (``_block_reduction``)."""
        red, threads = plan.reduction, plan.threads
        spatial, reduce = loops[: red.spatial], loops[red.spatial :]
        block = red.realize.block
        (buf,) = red.buffers
        dtype = np_dtype(buf.dtype)
        tx, part = self.fresh("tx"), self.fresh("partials")
        self.line(f"{part} = cuda.shared.array({threads}, {dtype})", indent)
        self.line(f"{tx} = cuda.threadIdx.x", indent)
        work = _extent_product(spatial)
        out = self.fresh("out")
        self.line(f"for {out} in range(cuda.blockIdx.x, {work}, cuda.gridDim.x):", indent)
        level = indent + 1
        self.unflatten(spatial, out, work, level)
        for iv, value in zip(block.iter_vars, red.realize.iter_values, strict=True):
            if iv.iter_type != IterVarType.CommReduce:
                self.bind_var(iv.var, value, level)
        acc = self.fresh(f"acc_{buf.name}")
        if block.init is None or not isinstance(block.init, BufferStore):
            raise Unsupported("a block reduction needs one init store")
        self.line(f"{acc} = {self.value(block.init.value, level).code}", level)
        steps = _extent_product(reduce)
        r = self.fresh("r")
        self.line(f"for {r} in range({tx}, {steps}, {threads}):", level)
        self.unflatten(reduce, r, steps, level + 1)
        for iv, value in zip(block.iter_vars, red.realize.iter_values, strict=True):
            if iv.iter_type == IterVarType.CommReduce:
                self.bind_var(iv.var, value, level + 1)
        saved = dict(self.scope.accumulators)
        self.scope.accumulators[buf.data] = (red.indices, acc)
        self.run(block.body, level + 1, in_loop=True)
        self.scope.accumulators = saved
        # combine the block's partial results in shared memory, halving the active threads
        self.line(f"{part}[{tx}] = {acc}", level)
        self.line("cuda.syncthreads()", level)
        a, b = Var("a", buf.dtype), Var("b", buf.dtype)
        half = self.fresh("half")
        self.scope.names[a] = f"{part}[{tx}]"
        self.scope.names[b] = f"{part}[{tx} + {half}]"
        self.line(f"{half} = {threads // 2}", level)
        self.line(f"while {half} > 0:", level)
        self.line(f"if {tx} < {half}:", level + 1)
        combined = self.value(plan.combine(a, b), level + 2).code
        self.line(f"{part}[{tx}] = {combined}", level + 2)
        self.line("cuda.syncthreads()", level + 1)
        self.line(f"{half} //= 2", level + 1)
        self.line(f"if {tx} == 0:", level)
        idx = [self.value(i, level + 1) for i in red.indices]
        array = self.scope.arrays[buf.data]
        target = f"{array}[{', '.join(i.code for i in idx)}]" if idx else f"{array}[0]"
        if self.range_checks(buf, array, idx):  # excluded by _block_reduction
            raise InternalError(f"a block reduction's store to {buf.name} needs a range check")
        self.line(f"{target} = {store_cast(f'{part}[0]', buf.dtype)}", level + 1)
        self.line("cuda.syncthreads()", level)
        self.work = work

    @override
    def allocate(self, buf: Buffer, indent: int) -> None:
        raise Unsupported(f"the CUDA target cannot allocate {buf.name} inside a kernel")

    @override
    def stmt(self, s: Stmt, indent: int, in_loop: bool) -> None:
        if isinstance(s, Allocate):
            raise Unsupported("the CUDA target cannot allocate inside a kernel")
        super().stmt(s, indent, in_loop)


def _legal_prefix(loops: list[For], inner: Stmt) -> int:
    """The leading loops that may be flattened into a grid-stride loop: those the CPU
    target may run in parallel, with constant bounds."""
    legal = parallel_prefix(loops, inner)
    count = 0
    for loop in loops[:legal]:
        if not (isinstance(loop.min, IntImm) and isinstance(loop.extent, IntImm)):
            break
        count += 1
    return count


def _extent_product(loops: list[For]) -> int:
    total = 1
    for loop in loops:
        if not isinstance(loop.extent, IntImm):
            raise Unsupported("a block reduction needs constant loop extents")
        total *= loop.extent.value
    return total


_Combiner = type[Add] | type[Mul] | type[Max] | type[Min]
_COMBINERS: dict[_Combiner, float | None] = {Add: 0.0, Mul: 1.0, Max: None, Min: None}
"""The combiners a block reduction splits, with the start value each needs (None: any, as
``max`` and ``min`` may see their start value any number of times)."""


@dataclass(frozen=True, slots=True)
class _BlockReduction:
    reduction: Reduction
    combine: _Combiner
    threads: int


def _block_reduction(loops: list[For], inner: Stmt, threads: int) -> _BlockReduction | None:
    """How to give each output element of the reduction ``inner`` a thread block, if the
    reduction qualifies: one float buffer accumulated at its spatial point, every spatial
    loop parallel, constant extents with at least ``BLOCK_REDUCE_MIN`` reduce steps, and a
    combiner that may be split (``_split_combiner``)."""
    plan = reduction_plan(loops, inner)
    if plan is None or len(plan.buffers) != 1 or not is_float(plan.buffers[0].dtype):
        return None
    spatial, reduce = loops[: plan.spatial], loops[plan.spatial :]
    if _legal_prefix(loops, inner) < len(spatial) or threads < 2:
        return None
    if not all(isinstance(x.extent, IntImm) and isinstance(x.min, IntImm) for x in loops):
        return None
    if not _stores_in_bounds(plan):
        return None
    steps = _extent_product(reduce)
    found = _split_combiner(plan) if steps >= BLOCK_REDUCE_MIN else None
    if found is None:
        return None
    combine, source = found
    # Threads of a block read along the reduce range: worth it when that range is laid out
    # innermost (a row's sum), or when there are too few outputs to keep a GPU busy.
    # Otherwise (a column's sum over many columns) a thread per output reads in order.
    if not _reads_along_reduce(plan, source) and _extent_product(spatial) >= BLOCK_REDUCE_FEW:
        return None
    return _BlockReduction(plan, combine, min(threads, _block_threads(steps)))


def _split_combiner(plan: Reduction) -> tuple[_Combiner, PrimExpr] | None:
    """The combiner and the reduced value of a body ``buf[p] = combine(buf[p], value)``,
    when its ``init`` may be seen more than once (the identity of ``+`` and ``*``)."""
    block = plan.realize.block
    body, init = block.body, block.init
    if not isinstance(body, BufferStore) or not isinstance(init, BufferStore):
        return None
    value = body.value
    if not isinstance(value, Add | Mul | Max | Min):
        return None
    combine: _Combiner = type(value)
    (buf,) = plan.buffers
    acc = value.a
    if not (
        isinstance(acc, BufferLoad)
        and acc.buffer.data is buf.data
        and all(x is y for x, y in zip(acc.indices, plan.indices, strict=True))
    ):
        return None
    if any(isinstance(n, BufferLoad) and n.buffer.data is buf.data for n in post_order(value.b)):
        return None
    start = _COMBINERS[combine]
    if start is not None and not (isinstance(init.value, FloatImm) and init.value.value == start):
        return None
    return combine, value.b


def _stores_in_bounds(plan: Reduction) -> bool:
    """Whether the result's store needs no range check: each index is a block variable whose
    constant domain lies within the buffer. (A thread leaving early on a failed check would
    leave the others waiting at a barrier.)"""
    domains = {id(iv.var): iv.dom for iv in plan.realize.block.iter_vars}
    (buf,) = plan.buffers
    for index, dim in zip(plan.indices, buf.shape, strict=True):
        dom = domains.get(id(index))
        if dom is None or not isinstance(dim, IntImm):
            return False
        lo, extent = dom.min, dom.extent
        if not (isinstance(lo, IntImm) and isinstance(extent, IntImm)):
            return False
        if lo.value < 0 or lo.value + extent.value > dim.value:
            return False
    return True


def _reads_along_reduce(plan: Reduction, source: PrimExpr) -> bool:
    """Whether some load of ``source`` has a reduce variable in its last index."""
    block = plan.realize.block
    reduce_vars = {iv.var for iv in block.iter_vars if iv.iter_type == IterVarType.CommReduce}
    return any(
        isinstance(n, BufferLoad)
        and bool(n.indices)
        and uses_var(n.indices[-1], lambda v: v in reduce_vars)
        for n in post_order(source)
    )


def _block_threads(threads_per_block: int) -> int:
    """The largest power of two at most ``threads_per_block`` (the halving needs one)."""
    return 1 << (threads_per_block.bit_length() - 1)


@dataclass(frozen=True, slots=True)
class Stage:
    """One kernel of a PrimFunc: ``work`` parallel iterations (0: one thread); a block
    reduction's ``threads`` per block (0: the options' launch configuration)."""

    name: str
    work: int
    threads: int = 0


@dataclass(frozen=True, slots=True)
class CudaKernelSource:
    """Generated kernels: ``source`` defines every stage's kernel; each takes the
    parameters, then the host-allocated ``temps`` (shape, dtype), then a 1-element int32
    fault array where a failed range check writes ``1 + `` the index of its message in
    ``faults`` (0: none)."""

    name: str
    source: str
    stages: tuple[Stage, ...]
    temps: tuple[tuple[tuple[int, ...], str], ...]
    faults: tuple[str, ...] = ()


def _split(func: PrimFunc) -> tuple[list[Buffer], list[Stmt]]:
    """The root block's buffers and the stages of its body."""
    body = func.body
    allocs: list[Buffer] = []
    if isinstance(body, BlockRealize):
        block = body.block
        if not block.iter_vars and block.init is None and is_true(body.predicate):
            allocs = list(block.alloc_buffers)
            body = block.body
    stages: list[Stmt] = list(body.seq) if isinstance(body, SeqStmt) else [body]
    return allocs, stages


def _temp_shape(buf: Buffer) -> tuple[int, ...]:
    dims: list[int] = []
    for d in buf.shape:
        if not isinstance(d, IntImm):
            raise Unsupported(f"the CUDA target needs a constant shape for {buf.name}")
        dims.append(d.value)
    return tuple(dims) or (1,)


def _stage_kernel(
    func: PrimFunc,
    allocs: list[Buffer],
    stage: Stmt,
    kname: str,
    options: CudaOptions,
    faults: list[str],
) -> tuple[str, Stage]:
    em = CudaFuncEmitter(CompileOptions(), faults)
    em.used.add(kname)
    params, setup = bind_params(em, func)
    for buf in allocs:
        name = em.fresh(buf.name)
        em.scope.arrays[buf.data] = name
        params.append(name)
    params.append(em.fault)
    indent = 1
    if options.simulator:
        em.line('with np.errstate(all="ignore"):', indent)
        indent += 1
    for text in setup:
        em.line(text, indent)
    loops: list[For] = []
    node = stage
    while isinstance(node, For):
        loops.append(node)
        node = node.body
    threads = 0
    block_plan = (
        _block_reduction(loops, node, _block_threads(options.threads_per_block)) if loops else None
    )
    if block_plan is not None:
        em.block_reduce(block_plan, loops, indent)
        threads = block_plan.threads
    elif loops and em.parallel_loops(loops, node) > 0:
        em.run(stage, indent)
    else:
        em.work = 0
        em.line("if cuda.grid(1) == 0:", indent)
        em.run(stage, indent + 1, in_loop=True)
    body = "\n".join(em.lines)
    source = f"@cuda.jit(cache=True)\ndef {kname}({', '.join(params)}):\n{body}\n"
    return source, Stage(kname, em.work, threads)


def generate_cuda(func: PrimFunc, options: CudaOptions, name: str = "kernel") -> CudaKernelSource:
    """The kernels computing ``func``, one per stage, launched in order."""
    allocs, stmts = _split(func)
    for buf in allocs:
        if buf.dtype == "float16":
            raise Unsupported("the CUDA target does not support float16")
    temps = tuple((_temp_shape(b), np_dtype(b.dtype).removeprefix("np.")) for b in allocs)
    texts: list[str] = []
    stages: list[Stage] = []
    base = "".join(c if c.isalnum() else "_" for c in name) or "kernel"
    faults: list[str] = []
    for k, stmt in enumerate(stmts):
        kname = f"{base}_stage{k}" if len(stmts) > 1 else base
        text, stage = _stage_kernel(func, allocs, stmt, kname, options, faults)
        texts.append(text)
        stages.append(stage)
    return CudaKernelSource(base, "\n\n".join(texts), tuple(stages), temps, tuple(faults))
