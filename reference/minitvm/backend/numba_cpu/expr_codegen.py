"""TIR expressions to Python source for numba (the expression half of TVM's
``src/target/source/codegen_c.cc``, targeting numba's nopython mode instead of C).

Every value follows ``minitvm.tir.semantics``. numba types Python arithmetic its own way
(``int32 + int32`` is ``int64``, ``uint8 + uint8`` is ``uint64``, a Python ``float`` literal is
``float64``), so the emitter fixes a representation per dtype and keeps to it:

* floats keep their dtype: constants are written ``np.float32(0.5)``;
* integers narrower than 64 bits, signed or not, are carried as ``int64`` (an unsigned load
  is widened with ``np.int64``); after an operation whose result may leave the dtype's range
  the value is wrapped back (``np.int32(x)``, ``np.int64(np.uint8(x))``). Whether it may is
  decided by interval arithmetic over the loop bounds, so index arithmetic is never wrapped;
* ``int64`` and ``uint64`` wrap natively; ``uint64`` constants are typed ``np.uint64``;
* operations that C leaves undefined (division by zero, shifts by the width, NaN in
  ``min``/``max``) call the helpers of ``intrinsics`` (``rt.idiv``, ``rt.fmax``...);
* a load whose index the bounds cannot keep inside the buffer is clamped into it, as the TIR
  interpreter clamps; ``Select`` and ``if_then_else`` become conditional expressions.

Expressions are DAGs: a node used twice, or nested too deep for Python's parser, is bound to
a temporary in the statement's prelude. ``Let`` values go to the prelude as well. Every
expression is pure and total (loads are clamped, divisions guarded), so evaluating a shared
node once, before the statement, cannot change a result. The walk is iterative.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import assert_never

from minitvm.error import DiagnosticError, InternalError
from minitvm.runtime.dtype import is_float, is_uint
from minitvm.tir.buffer import Buffer
from minitvm.tir.expr import (
    EQ,
    GE,
    GT,
    LE,
    LT,
    NE,
    Add,
    And,
    BinaryOpExpr,
    BufferLoad,
    Call,
    Cast,
    CmpExpr,
    Div,
    FloatImm,
    FloorDiv,
    FloorMod,
    IntImm,
    Let,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    Or,
    PrimExpr,
    ProducerLoad,
    Reduce,
    Select,
    StringImm,
    Sub,
    Var,
    dtype_bits,
)
from minitvm.tir.functor import expr_children

__all__ = ["Bound", "Emitted", "ExprEmitter", "Scope", "Unsupported", "dtype_range", "wrap"]

Bound = tuple[int, int]
MAX_NESTING = 24
"""Deeper sub-expressions go to temporaries: CPython's parser limits nesting."""


class Unsupported(DiagnosticError):
    """A construct or dtype the numba target cannot compile."""


def dtype_range(dtype: str) -> Bound:
    """The values of an integer (or bool) dtype."""
    if dtype == "bool":
        return (0, 1)
    bits = dtype_bits(dtype)
    if is_uint(dtype):
        return (0, (1 << bits) - 1)
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


def _check_dtype(dtype: str) -> None:
    if dtype == "float16":
        raise Unsupported("the numba target does not support float16")


def wrap(code: str, dtype: str) -> str:
    """``code`` (an integer-domain value) wrapped into ``dtype``."""
    if dtype in ("int64", "uint64"):
        return code
    if is_uint(dtype):
        return f"np.int64(np.{dtype}({code}))"
    return f"np.{dtype}({code})"


def int_literal(value: int, dtype: str) -> str:
    if dtype == "bool":
        return "True" if value else "False"
    if dtype == "uint64":
        return f"np.uint64({value})"
    return str(value) if value >= 0 else f"({value})"


def float_literal(value: float, dtype: str) -> str:
    _check_dtype(dtype)
    if math.isnan(value):
        text = "np.nan"
    elif math.isinf(value):
        text = "np.inf" if value > 0 else "-np.inf"
    else:
        text = repr(value)
    return f"np.{dtype}({text})"


@dataclass(frozen=True, slots=True)
class Emitted:
    """The source of a value, its integer bounds (None for floats) and its nesting depth."""

    code: str
    bound: Bound | None
    depth: int = 0


@dataclass
class Scope:
    """What the expressions of one kernel may refer to."""

    names: dict[Var, str] = field(default_factory=dict)
    """Python names of variables (loop, block, let and scalar-parameter variables)."""
    bounds: dict[Var, Bound] = field(default_factory=dict)
    arrays: dict[Var, str] = field(default_factory=dict)
    """The array holding each buffer, by the buffer's data variable."""
    accumulators: dict[Var, tuple[tuple[PrimExpr, ...], str]] = field(default_factory=dict)
    """Loads of ``buffer[indices]`` that read a register accumulator instead."""


def _union(a: Bound, b: Bound) -> Bound:
    return (min(a[0], b[0]), max(a[1], b[1]))


def _within(b: Bound, outer: Bound) -> bool:
    return outer[0] <= b[0] and b[1] <= outer[1]


def _is_atom(code: str) -> bool:
    return code.isidentifier() or code.lstrip("-").replace(".", "", 1).isdigit()


_FLOAT_UNARY: dict[str, str] = {
    "exp2": "np.exp2",
    "log": "np.log",
    "log2": "np.log2",
    "log10": "np.log10",
    "log1p": "np.log1p",
    "sqrt": "np.sqrt",
    "tanh": "np.tanh",
    "sin": "np.sin",
    "cos": "np.cos",
    "tan": "np.tan",
    "sinh": "np.sinh",
    "cosh": "np.cosh",
    "asin": "np.arcsin",
    "acos": "np.arccos",
    "atan": "np.arctan",
    "asinh": "np.arcsinh",
    "acosh": "np.arccosh",
    "atanh": "np.arctanh",
    "fabs": "np.abs",
    "floor": "np.floor",
    "ceil": "np.ceil",
    "round": "np.rint",
    "nearbyint": "np.rint",
    "trunc": "np.trunc",
    "isnan": "np.isnan",
    "isinf": "np.isinf",
    "isfinite": "np.isfinite",
}
_FLOAT_BINARY: dict[str, str] = {
    "pow": "np.power",
    "atan2": "np.arctan2",
    "fmod": "np.fmod",
    "copysign": "np.copysign",
    "hypot": "np.hypot",
}
_BITWISE: dict[str, str] = {"bitwise_and": "&", "bitwise_or": "|", "bitwise_xor": "^"}
_COMPARE: dict[type[CmpExpr], str] = {EQ: "==", NE: "!=", LT: "<", LE: "<=", GT: ">", GE: ">="}
_ARITH: dict[type[BinaryOpExpr], str] = {Add: "+", Sub: "-", Mul: "*"}


class ExprEmitter:
    """Emits expressions of one kernel; ``fresh(prefix)`` makes unique Python names."""

    scalar_index = "()"
    """The index of the element of a 0-d buffer."""

    def __init__(self, scope: Scope, fresh: Callable[[str], str]) -> None:
        self.scope = scope
        self.fresh = fresh

    # --- the walk ---------------------------------------------------------------------------

    def emit(self, root: PrimExpr, prelude: list[str]) -> Emitted:
        """The source of ``root``; temporaries it needs are appended to ``prelude``."""
        uses = _use_counts(root)
        done: dict[int, Emitted] = {}
        alive: list[PrimExpr] = []
        stack: list[tuple[PrimExpr, int]] = [(root, 0)]
        while stack:
            node, phase = stack.pop()
            if phase == 0 and id(node) in done:
                continue
            if isinstance(node, Let):
                self._let_step(node, phase, stack, done, prelude)
                alive.append(node)
                continue
            kids = expr_children(node)
            if phase == 0 and kids:
                stack.append((node, 1))
                stack.extend((k, 0) for k in reversed(kids) if id(k) not in done)
                continue
            out = self.node(node, [done[id(k)] for k in kids], prelude)
            if kids and (uses.get(id(node), 0) > 1 or out.depth > MAX_NESTING):
                out = self.bind(out, prelude)
            done[id(node)] = out
            alive.append(node)
        return done[id(root)]

    def _let_step(
        self,
        node: Let,
        phase: int,
        stack: list[tuple[PrimExpr, int]],
        done: dict[int, Emitted],
        prelude: list[str],
    ) -> None:
        if phase == 0:
            stack.append((node, 1))
            stack.append((node.value, 0))
        elif phase == 1:
            value = done[id(node.value)]
            name = self.fresh(node.var.name_hint)
            prelude.append(f"{name} = {value.code}")
            self.scope.names[node.var] = name
            if value.bound is not None:
                self.scope.bounds[node.var] = value.bound
            stack.append((node, 2))
            stack.append((node.body, 0))
        else:
            done[id(node)] = done[id(node.body)]

    def bind(self, value: Emitted, prelude: list[str]) -> Emitted:
        """``value`` bound to a fresh temporary."""
        if _is_atom(value.code):
            return value
        name = self.fresh("t")
        prelude.append(f"{name} = {value.code}")
        return Emitted(name, value.bound)

    # --- one node ---------------------------------------------------------------------------

    def node(self, e: PrimExpr, kids: list[Emitted], prelude: list[str]) -> Emitted:  # noqa: C901  (a flat dispatch over the union)
        depth = 1 + max((k.depth for k in kids), default=0)
        match e:
            case IntImm():
                _check_dtype(e.dtype)
                return Emitted(int_literal(e.value, e.dtype), (e.value, e.value))
            case FloatImm():
                return Emitted(float_literal(e.value, e.dtype), None)
            case Var():
                return self.var(e)
            case BinaryOpExpr():
                return self.binary(e, kids[0], kids[1], depth, prelude)
            case CmpExpr():
                op = _COMPARE[type(e)]
                return Emitted(f"({kids[0].code} {op} {kids[1].code})", (0, 1), depth)
            case And():
                return Emitted(f"({kids[0].code} & {kids[1].code})", (0, 1), depth)
            case Or():
                return Emitted(f"({kids[0].code} | {kids[1].code})", (0, 1), depth)
            case Not():
                return Emitted(f"(not {kids[0].code})", (0, 1), depth)
            case Select():
                return self.select(kids[0], kids[1], kids[2], depth)
            case Cast():
                return self.cast(e.dtype, e.value.dtype, kids[0], depth)
            case Call():
                return self.call(e, kids, depth, prelude)
            case BufferLoad():
                return self.load(e, kids, depth)
            case Let():
                raise Unsupported("internal: Let reached the node step")
            case ProducerLoad() | Reduce():
                raise Unsupported(
                    f"{type(e).__name__} is a TE-level node; lower with te.create_prim_func first"
                )
            case _:
                assert_never(e)

    def var(self, v: Var) -> Emitted:
        name = self.scope.names.get(v)
        if name is None:
            raise DiagnosticError(f"numba codegen: variable {v.name_hint} is not defined")
        if v.dtype == "handle":
            raise Unsupported(f"handle variable {v.name_hint} used as a value")
        _check_dtype(v.dtype)
        if is_float(v.dtype):
            return Emitted(name, None)
        return Emitted(name, self.scope.bounds.get(v, dtype_range(v.dtype)))

    def select(self, cond: Emitted, t: Emitted, f: Emitted, depth: int) -> Emitted:
        bound = None if t.bound is None or f.bound is None else _union(t.bound, f.bound)
        return Emitted(f"({t.code} if {cond.code} else {f.code})", bound, depth)

    # --- arithmetic -------------------------------------------------------------------------

    def binary(
        self, e: BinaryOpExpr, a: Emitted, b: Emitted, depth: int, prelude: list[str]
    ) -> Emitted:
        dtype = e.dtype
        _check_dtype(dtype)
        if is_float(dtype):
            return Emitted(self._float_binary(e, a, b, prelude), None, depth)
        if dtype == "bool":
            return Emitted(_bool_binary(e, a.code, b.code), (0, 1), depth)
        if dtype == "uint64":
            return Emitted(_u64_binary(e, a.code, b.code), dtype_range(dtype), depth)
        code, bound = _int_binary(e, a, b)
        return self.fit(code, bound, dtype, depth)

    def fit(self, code: str, bound: Bound, dtype: str, depth: int) -> Emitted:
        """An integer-domain result, wrapped into ``dtype`` when ``bound`` may leave it."""
        limits = dtype_range(dtype)
        if _within(bound, limits):
            return Emitted(code, bound, depth)
        return Emitted(wrap(code, dtype), limits, depth + 1)

    def _float_binary(self, e: BinaryOpExpr, a: Emitted, b: Emitted, prelude: list[str]) -> str:
        op = _ARITH.get(type(e))
        if op is not None:
            return f"({a.code} {op} {b.code})"
        match e:
            case Div():
                return f"({a.code} / {b.code})"
            case Mod():
                return f"np.fmod({a.code}, {b.code})"
            case FloorDiv():
                return f"np.floor({a.code} / {b.code})"
            case FloorMod():
                x, y = self.bind(a, prelude).code, self.bind(b, prelude).code
                return f"({x} - np.floor({x} / {y}) * {y})"
            case Min():
                return f"rt.fmin({a.code}, {b.code})"
            case Max():
                return f"rt.fmax({a.code}, {b.code})"
            case _:
                raise Unsupported(f"float {type(e).__name__}")

    # --- casts and loads --------------------------------------------------------------------

    def cast(self, to: str, src: str, x: Emitted, depth: int) -> Emitted:
        _check_dtype(to)
        _check_dtype(src)
        if to == src:
            return x
        if is_float(to):
            return Emitted(f"np.{to}({x.code})", None, depth)
        if to == "bool":
            return Emitted(f"({x.code} != 0)", (0, 1), depth)
        if to == "uint64":
            return Emitted(f"np.uint64({x.code})", dtype_range(to), depth)
        if is_float(src):
            return Emitted(wrap(f"np.int64({x.code})", to), dtype_range(to), depth + 1)
        if src in ("bool", "uint64"):
            return self.fit(f"np.int64({x.code})", dtype_range(src), to, depth)
        if x.bound is None:
            raise InternalError(f"cast from {src} without operand bounds")
        return self.fit(x.code, x.bound, to, depth)

    def load(self, e: BufferLoad, idx: list[Emitted], depth: int) -> Emitted:
        buf = e.buffer
        _check_dtype(buf.dtype)
        acc = self.scope.accumulators.get(buf.data)
        if acc is not None and all(a is b for a, b in zip(acc[0], e.indices, strict=True)):
            return Emitted(acc[1], None if is_float(buf.dtype) else dtype_range(buf.dtype))
        array = self.scope.arrays.get(buf.data)
        if array is None:
            raise DiagnosticError(f"numba codegen: buffer {buf.name} has no storage here")
        parts = [
            self.clamp(i, buf, k, array, e.indices[k].dtype == "uint64") for k, i in enumerate(idx)
        ]
        code = f"{array}[{', '.join(parts)}]" if parts else f"{array}[{self.scalar_index}]"
        if is_uint(buf.dtype) and buf.dtype != "uint64":
            code = f"np.int64({code})"
        bound = None if is_float(buf.dtype) else dtype_range(buf.dtype)
        return Emitted(code, bound, depth)

    def clamp(self, i: Emitted, buf: Buffer, k: int, array: str, unsigned64: bool = False) -> str:
        """Index ``i`` of dimension ``k``, clamped into the buffer unless provably inside. A
        uint64 index is clamped in uint64 and then made int64: numba (as numpy) would turn a
        mix of uint64 and int64 into float64, which cannot index."""
        dim = buf.shape[k]
        upper = f"{array}.shape[{k}] - 1"
        if isinstance(dim, IntImm):
            upper = str(dim.value - 1)
            if i.bound is not None and _within(i.bound, (0, dim.value - 1)):
                return f"np.int64({i.code})" if unsigned64 else i.code
        if unsigned64:
            return f"np.int64(min({i.code}, np.uint64({upper})))"
        if i.bound is not None and i.bound[0] >= 0:
            return f"min({i.code}, {upper})"
        return f"min(max({i.code}, 0), {upper})"

    # --- intrinsics -------------------------------------------------------------------------

    def call(self, e: Call, kids: list[Emitted], depth: int, prelude: list[str]) -> Emitted:
        name = e.op.removeprefix("tir.")
        if any(isinstance(a, StringImm) for a in e.args):
            raise Unsupported(f"intrinsic {e.op} with string arguments")
        if name == "if_then_else":
            return self.select(kids[0], kids[1], kids[2], depth)
        if name == "reinterpret":
            return self.reinterpret(e, kids[0], depth)
        arg_dtype = e.args[0].dtype
        _check_dtype(arg_dtype)
        _check_dtype(e.dtype)
        if is_float(arg_dtype):
            return Emitted(self._float_call(name, e.dtype, [k.code for k in kids]), None, depth)
        return self._int_call(name, e.dtype, arg_dtype, kids, depth)

    def _float_call(self, name: str, dtype: str, args: list[str]) -> str:
        x = args[0]
        one = float_literal(1.0, dtype)
        if name == "exp":
            return f"rt.exp_f32({x})" if dtype == "float32" else f"np.exp({x})"
        if name == "sigmoid":
            if dtype == "float32":
                return f"rt.sigmoid_f32({x})"
            return f"({one} / ({one} + np.exp(-{x})))"
        if name == "rsqrt":
            return f"({one} / np.sqrt({x}))"
        if name == "exp10":
            return f"np.power({float_literal(10.0, dtype)}, {x})"
        if name == "erf":
            return f"np.{dtype}(math.erf({x}))"
        fn = _FLOAT_UNARY.get(name)
        if fn is not None and len(args) == 1:
            return f"{fn}({x})"
        fn = _FLOAT_BINARY.get(name)
        if fn is not None and len(args) == 2:
            return f"{fn}({x}, {args[1]})"
        raise Unsupported(f"intrinsic tir.{name} on floats")

    def _int_call(  # noqa: C901  (a flat table of integer intrinsics)
        self, name: str, dtype: str, arg_dtype: str, kids: list[Emitted], depth: int
    ) -> Emitted:
        a = kids[0].code
        u64 = arg_dtype == "uint64"
        bits = dtype_bits(arg_dtype)
        if name in ("floor", "ceil", "round", "nearbyint", "trunc"):
            return kids[0]
        if name in ("isnan", "isinf"):
            return Emitted("False", (0, 0), depth)
        if name == "isfinite":
            return Emitted("True", (1, 1), depth)
        if name in _BITWISE:
            code = f"({a} {_BITWISE[name]} {kids[1].code})"
            return Emitted(code, kids[0].bound if u64 else dtype_range(dtype), depth)
        if name == "bitwise_not":
            if arg_dtype == "bool":
                return Emitted(f"(not {a})", (0, 1), depth)
            return self._int_result(f"(~{a})", dtype, u64, depth)
        if name in ("shift_left", "shift_right"):
            fn = ("rt.ushl" if u64 else "rt.shl") if name == "shift_left" else "rt.shr"
            if u64:
                fn = "rt.ushl" if name == "shift_left" else "rt.ushr"
                return Emitted(f"{fn}({a}, {kids[1].code})", dtype_range(dtype), depth)
            return self._int_result(f"{fn}({a}, {kids[1].code}, {bits})", dtype, u64, depth)
        if name == "pow":
            fn = "rt.upow" if u64 else "rt.ipow"
            return self._int_result(f"{fn}({a}, {kids[1].code})", dtype, u64, depth)
        if name in ("popcount", "clz"):
            x = f"rt.bitcast({a}, np.int64)" if u64 else a
            return Emitted(f"rt.{name}({x}, {bits})", (0, bits), depth)
        raise Unsupported(f"intrinsic tir.{name} on {arg_dtype}")

    def _int_result(self, code: str, dtype: str, u64: bool, depth: int) -> Emitted:
        if u64:
            return Emitted(code, dtype_range(dtype), depth)
        return self.fit(code, (-(1 << 63), (1 << 63) - 1), dtype, depth)

    def reinterpret(self, e: Call, x: Emitted, depth: int) -> Emitted:
        src, to = e.args[0].dtype, e.dtype
        _check_dtype(src)
        _check_dtype(to)
        if src == "bool" or to == "bool":
            raise Unsupported("reinterpret of bool")
        # The bits are those of the source dtype: narrow integer-domain values first.
        value = x.code if is_float(src) or src in ("int64", "uint64") else f"np.{src}({x.code})"
        code = f"rt.bitcast({value}, np.{to})"
        if is_float(to):
            return Emitted(code, None, depth)
        if is_uint(to) and to != "uint64":
            code = f"np.int64({code})"
        return Emitted(code, dtype_range(to), depth)


def _use_counts(root: PrimExpr) -> dict[int, int]:
    """How many times each node is referenced by its parents in ``root``'s DAG."""
    counts: dict[int, int] = {}
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for kid in expr_children(node):
            counts[id(kid)] = counts.get(id(kid), 0) + 1
            stack.append(kid)
    return counts


def _bool_binary(e: BinaryOpExpr, a: str, b: str) -> str:
    """Arithmetic on bool is arithmetic modulo 2; division by zero gives 0."""
    match e:
        case Add() | Sub():
            return f"({a} != {b})"
        case Mul() | Min() | Div() | FloorDiv():
            return f"({a} & {b})"
        case Max():
            return f"({a} | {b})"
        case Mod() | FloorMod():
            return "False"
        case _:
            raise Unsupported(f"bool {type(e).__name__}")


def _u64_binary(e: BinaryOpExpr, a: str, b: str) -> str:
    op = _ARITH.get(type(e))
    if op is not None:
        return f"({a} {op} {b})"
    match e:
        case Div() | FloorDiv():
            return f"rt.udiv({a}, {b})"
        case Mod() | FloorMod():
            return f"rt.umod({a}, {b})"
        case Min():
            return f"min({a}, {b})"
        case Max():
            return f"max({a}, {b})"
        case _:
            raise Unsupported(f"uint64 {type(e).__name__}")


def _int_binary(e: BinaryOpExpr, a: Emitted, b: Emitted) -> tuple[str, Bound]:
    """An integer-domain operation and the bounds of its exact result."""
    if a.bound is None or b.bound is None:
        raise InternalError(f"integer {type(e).__name__} without operand bounds")
    (alo, ahi), (blo, bhi) = a.bound, b.bound
    op = _ARITH.get(type(e))
    if op is not None:
        if isinstance(e, Add):
            bound = (alo + blo, ahi + bhi)
        elif isinstance(e, Sub):
            bound = (alo - bhi, ahi - blo)
        else:
            products = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
            bound = (min(products), max(products))
        return f"({a.code} {op} {b.code})", bound
    if isinstance(e, Min):
        return f"min({a.code}, {b.code})", (min(alo, blo), min(ahi, bhi))
    if isinstance(e, Max):
        return f"max({a.code}, {b.code})", (max(alo, blo), max(ahi, bhi))
    positive = blo == bhi and blo > 0
    floor = isinstance(e, FloorDiv | FloorMod)
    plain = positive and (floor or alo >= 0)
    big = max(abs(alo), abs(ahi))
    if isinstance(e, Div | FloorDiv):
        if plain:
            return f"({a.code} // {b.code})", (alo // blo, ahi // blo)
        fn = "rt.ifloordiv" if floor else "rt.idiv"
        return f"{fn}({a.code}, {b.code})", (-big, big)
    if plain:
        hi = blo - 1 if alo < 0 or ahi >= blo else ahi
        lo = 0 if alo < 0 or ahi >= blo else alo
        return f"({a.code} % {b.code})", (lo, hi)
    fn = "rt.ifloormod" if floor else "rt.imod"
    limit = max(abs(blo), abs(bhi), 1) - 1
    return f"{fn}({a.code}, {b.code})", (-limit, limit)
