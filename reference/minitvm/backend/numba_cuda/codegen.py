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

from minitvm.backend.numba_cpu.codegen import FuncEmitter, bind_params, np_dtype
from minitvm.backend.numba_cpu.expr_codegen import (
    Bound,
    Emitted,
    ExprEmitter,
    Unsupported,
    dtype_range,
    float_literal,
    wrap,
)
from minitvm.backend.numba_cpu.loop_patterns import parallel_prefix
from minitvm.backend.numba_cpu.options import CompileOptions
from minitvm.backend.numba_cuda.options import CudaOptions
from minitvm.runtime.dtype import is_float, is_uint
from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import (
    BinaryOpExpr,
    BufferLoad,
    Call,
    Div,
    FloorDiv,
    FloorMod,
    IntImm,
    Max,
    Min,
    Mod,
)
from minitvm.tir.function import PrimFunc
from minitvm.tir.stmt import Allocate, BlockRealize, For, SeqStmt, Stmt, is_true

__all__ = ["CudaKernelSource", "Stage", "generate_cuda"]

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


@dataclass(frozen=True, slots=True)
class Stage:
    """One kernel of a PrimFunc: ``work`` parallel iterations (0: one thread)."""

    name: str
    work: int


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
    func: PrimFunc, allocs: list[Buffer], stage: Stmt, kname: str, sim: bool, faults: list[str]
) -> tuple[str, int]:
    em = CudaFuncEmitter(CompileOptions(), faults)
    em.used.add(kname)
    params, setup = bind_params(em, func)
    for buf in allocs:
        name = em.fresh(buf.name)
        em.scope.arrays[buf.data] = name
        params.append(name)
    params.append(em.fault)
    indent = 1
    if sim:
        em.line('with np.errstate(all="ignore"):', indent)
        indent += 1
    for text in setup:
        em.line(text, indent)
    loops: list[For] = []
    node = stage
    while isinstance(node, For):
        loops.append(node)
        node = node.body
    if loops and em.parallel_loops(loops, node) > 0:
        em.run(stage, indent)
    else:
        em.work = 0
        em.line("if cuda.grid(1) == 0:", indent)
        em.run(stage, indent + 1, in_loop=True)
    body = "\n".join(em.lines)
    return f"@cuda.jit(cache=True)\ndef {kname}({', '.join(params)}):\n{body}\n", em.work


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
        text, work = _stage_kernel(func, allocs, stmt, kname, options.simulator, faults)
        texts.append(text)
        stages.append(Stage(kname, work))
    return CudaKernelSource(base, "\n\n".join(texts), tuple(stages), temps, tuple(faults))
