"""The TVMScript printer: ``PrimFunc.script()`` (TVM's ``src/script/printer/tir/*.cc``).

Output follows TVM v0.14's printer: binary nodes print as Python operators unless TVM's own
builder would fold them (then ``T.Add(a, b)``); integer ``Div``/``Mod`` print as ``T.Div`` /
``T.truncmod``; ``int32`` immediates print bare, other dtypes as ``T.int64(5)``,
``T.float32(1)`` (17 significant digits) and ``T.bool(True)``. Consecutive serial loops from 0
print as ``T.grid``; block variables bound to enclosing loop variables print as
``T.axis.remap("SSR", [i, j, k])``; a root block with nothing else to say prints as the comment
``# with T.block("root"):``. Names are made unique by suffixes ``_1``, ``_2``.

Both walks are iterative: expressions bottom-up with a memo (text for shared nodes is reused,
though the text itself is a tree), statements with an explicit stack of lines to emit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import assert_never

from minitvm.error import DiagnosticError
from minitvm.tir import op as tir_op
from minitvm.tir.buffer import Buffer, BufferRegion
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
    IterVar,
    IterVarType,
    Let,
    Max,
    Min,
    Mod,
    Mul,
    Not,
    Or,
    PrimExpr,
    PrimExprBase,
    ProducerLoad,
    Reduce,
    Select,
    StringImm,
    Sub,
    Var,
)
from minitvm.tir.function import PrimFunc
from minitvm.tir.functor import undefined_vars, uses_var, walk_stmt
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
)

__all__ = ["expr_str", "float_literal", "prim_func_script", "stmt_script"]

ATOM = 100
_OPS: dict[type[PrimExprBase], tuple[str, int, Callable[[PrimExpr, PrimExpr], PrimExpr]]] = {
    Or: ("or", 1, tir_op.logical_or),
    And: ("and", 2, tir_op.logical_and),
    EQ: ("==", 4, tir_op.equal),
    NE: ("!=", 4, tir_op.not_equal),
    LT: ("<", 4, tir_op.less),
    LE: ("<=", 4, tir_op.less_equal),
    GT: (">", 4, tir_op.greater),
    GE: (">=", 4, tir_op.greater_equal),
    Add: ("+", 9, tir_op.add),
    Sub: ("-", 9, tir_op.sub),
    Mul: ("*", 10, tir_op.mul),
    FloorDiv: ("//", 10, tir_op.floordiv),
    FloorMod: ("%", 10, tir_op.floormod),
}
_NAMED: dict[type[PrimExprBase], str] = {Mod: "truncmod", Min: "min", Max: "max"}


def float_literal(value: float) -> str:
    """A double as C++ prints it with 17 significant digits (``1``, ``0.10000000000000001``)."""
    if value != value or value in (float("inf"), float("-inf")):
        return f'"{value}"'
    return format(value, ".17g")


def _const(e: IntImm | FloatImm) -> str:
    if isinstance(e, FloatImm):
        return f"T.{e.dtype}({float_literal(e.value)})"
    if e.dtype == "int32":
        return str(e.value)
    if e.dtype == "bool":
        return f"T.bool({bool(e.value)})"
    return f"T.{e.dtype}({e.value})"


class Names:
    """Unique printed names for variables and buffers, in order of definition."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.alive: list[object] = []

    def define(self, obj: Var | Buffer, hint: str) -> str:
        base = hint or "v"
        name, k = base, 0
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        self.names[id(obj)] = name
        self.alive.append(obj)
        return name

    def get(self, obj: Var | Buffer) -> str:
        name = self.names.get(id(obj))
        if name is None:
            return obj.name_hint if isinstance(obj, Var) else obj.name
        return name


def _join(items: list[PrimExpr | StringImm], sep: str = ", ") -> list[PrimExpr | StringImm | str]:
    parts: list[PrimExpr | StringImm | str] = []
    for k, x in enumerate(items):
        if k:
            parts.append(sep)
        parts.append(x)
    return parts


class ExprPrinter:
    """Prints expressions by emitting tokens in order from an explicit stack, so deep
    expressions print in time linear in the size of the text."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.sugar: dict[int, bool] = {}
        self.alive: list[object] = []  # keys of ``sugar`` are ids: keep their nodes alive

    def __call__(self, root: PrimExpr) -> str:
        out: list[str] = []
        stack: list[PrimExpr | StringImm | str] = [root]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, StringImm):
                out.append(f'"{item.value}"')
            else:
                stack.extend(reversed(self._parts(item)))
        return "".join(out)

    def _is_sugar(self, e: BinaryOpExpr | CmpExpr | And | Or) -> bool:
        """Whether TVM prints ``e`` as an operator: its builder would rebuild it unchanged."""
        known = self.sugar.get(id(e))
        if known is None:
            builder = _OPS[type(e)][2]
            rebuilt = builder(e.a, e.b)
            same = type(rebuilt) is type(e)
            known = same and rebuilt.a is e.a and rebuilt.b is e.b  # type: ignore[union-attr]  # same class as e
            self.sugar[id(e)] = known
            self.alive.append(e)
        return known

    def precedence(self, e: PrimExpr) -> int:
        if isinstance(e, Not):
            return 3
        if isinstance(e, Div) and not e.dtype.startswith(("int", "uint")):
            return 10
        if (
            isinstance(e, BinaryOpExpr | CmpExpr | And | Or)
            and type(e) in _OPS
            and self._is_sugar(e)
        ):
            return _OPS[type(e)][1]
        return ATOM

    def _operand(self, e: PrimExpr, prec: int, right: bool) -> list[PrimExpr | StringImm | str]:
        p = self.precedence(e)
        if p < prec or (right and p == prec):
            return ["(", e, ")"]
        return [e]

    def _binary(self, e: BinaryOpExpr | CmpExpr | And | Or) -> list[PrimExpr | StringImm | str]:
        named = _NAMED.get(type(e))
        if named is not None:
            return [f"T.{named}(", e.a, ", ", e.b, ")"]
        if isinstance(e, Div):
            if e.dtype.startswith(("int", "uint")):
                return ["T.Div(", e.a, ", ", e.b, ")"]
            return [*self._operand(e.a, 10, False), " / ", *self._operand(e.b, 10, True)]
        sym, prec, _ = _OPS[type(e)]
        if self._is_sugar(e):
            return [*self._operand(e.a, prec, False), f" {sym} ", *self._operand(e.b, prec, True)]
        return [f"T.{type(e).__name__}(", e.a, ", ", e.b, ")"]

    def _parts(self, e: PrimExpr) -> list[PrimExpr | StringImm | str]:  # noqa: C901  (a flat dispatch over the union)
        match e:
            case IntImm() | FloatImm():
                return [_const(e)]
            case Var():
                return [self.names.get(e)]
            case BinaryOpExpr() | CmpExpr() | And() | Or():
                return self._binary(e)
            case Not():
                return ["not ", *self._operand(e.a, 3, False)]
            case Select():
                return ["T.Select(", *_join([e.condition, e.true_value, e.false_value]), ")"]
            case Cast():
                return [f'T.Cast("{e.dtype}", ', e.value, ")"]
            case Call():
                name = e.op.removeprefix("tir.")
                head = f'T.{name}("{e.dtype}", ' if name == "reinterpret" else f"T.{name}("
                return [head, *_join(list(e.args)), ")"]
            case Let():
                var = self.names.get(e.var)
                return ["T.Let(", e.body, f", where={{{var}: ", e.value, "})"]
            case BufferLoad():
                if not e.indices:
                    return [f"{self.names.get(e.buffer)}[()]"]
                return [f"{self.names.get(e.buffer)}[", *_join(list(e.indices)), "]"]
            case ProducerLoad():
                return [f"{e.producer.name}[", *_join(list(e.indices)), "]"]
            case Reduce():
                axes = ", ".join(iv.var.name_hint for iv in e.axis)
                tail = f"], axis=[{axes}], value_index={e.value_index})"
                return ["T.reduce([", *_join(list(e.source)), tail]
            case _:
                assert_never(e)


def expr_str(e: PrimExpr) -> str:
    """An expression in TVMScript syntax, variables by their name hints."""
    return ExprPrinter(Names())(e)


@dataclass
class _Printer:
    names: Names
    expr: ExprPrinter
    lines: list[str]
    loops: dict[int, For]

    def region(self, br: BufferRegion) -> str:
        parts: list[str] = []
        for r in br.region:
            if isinstance(r.extent, IntImm) and r.extent.value == 1:
                parts.append(self.expr(r.min))
            else:
                hi = tir_op.add(r.min, r.extent)
                parts.append(f"{self.expr(r.min)}:{self.expr(hi)}")
        return f"{self.names.get(br.buffer)}[{', '.join(parts) or '()'}]"

    def buffer_decl(self, buf: Buffer, func: str, lead: str = "") -> str:
        dims = ", ".join(self.expr(d) for d in buf.shape)
        shape = f"({dims},)" if len(buf.shape) == 1 else f"({dims})"
        args = f"{lead}{shape}"
        if buf.dtype != "float32":
            args += f', "{buf.dtype}"'
        if buf.scope != "global":
            args += f', scope="{buf.scope}"'
        return f"T.{func}({args})"


def _dom(p: _Printer, iv: IterVar) -> str:
    lo, ext = iv.dom.min, iv.dom.extent
    if isinstance(lo, IntImm) and lo.value == 0:
        return p.expr(ext)
    return f"({p.expr(lo)}, {p.expr(tir_op.add(lo, ext))})"


_AXIS = {
    IterVarType.DataPar: "spatial",
    IterVarType.CommReduce: "reduce",
    IterVarType.Ordered: "scan",
    IterVarType.Opaque: "opaque",
}


def _block_vars(p: _Printer, realize: BlockRealize, pad: str) -> None:
    block = realize.block
    group: list[int] = []

    def flush() -> None:
        if len(group) == 1:
            single(group[0])
        elif group:
            lhs = ", ".join(
                p.names.define(block.iter_vars[i].var, block.iter_vars[i].var.name_hint)
                for i in group
            )
            kinds = "".join(
                "S" if block.iter_vars[i].iter_type == IterVarType.DataPar else "R" for i in group
            )
            vals = ", ".join(p.expr(realize.iter_values[i]) for i in group)
            p.lines.append(f'{pad}{lhs} = T.axis.remap("{kinds}", [{vals}])')
        group.clear()

    def single(i: int) -> None:
        iv = block.iter_vars[i]
        kind = _AXIS.get(iv.iter_type)
        if kind is None:
            raise DiagnosticError(f"block {block.name_hint}: unsupported iter type {iv.iter_type}")
        value = p.expr(realize.iter_values[i])
        dom = _dom(p, iv)
        name = p.names.define(iv.var, iv.var.name_hint)
        p.lines.append(f"{pad}{name} = T.axis.{kind}({dom}, {value})")

    for i, iv in enumerate(block.iter_vars):
        value = realize.iter_values[i]
        loop = p.loops.get(id(value)) if isinstance(value, Var) else None
        remappable = (
            iv.iter_type in (IterVarType.DataPar, IterVarType.CommReduce)
            and loop is not None
            and _same(loop.min, iv.dom.min)
            and _same(loop.extent, iv.dom.extent)
        )
        if remappable:
            group.append(i)
        else:
            flush()
            single(i)
    flush()


def _same(a: PrimExpr, b: PrimExpr) -> bool:
    if a is b:
        return True
    if isinstance(a, IntImm | FloatImm) and isinstance(b, IntImm | FloatImm):
        return a.dtype == b.dtype and a.value == b.value
    return False


_Work = tuple[Stmt, int] | str


def _emit_block(p: _Printer, realize: BlockRealize, depth: int, work: list[_Work]) -> None:
    pad = "    " * depth
    block = realize.block
    p.lines.append(f'{pad}with T.block("{block.name_hint}"):')
    inner = pad + "    "
    _block_vars(p, realize, inner)
    if not (isinstance(realize.predicate, IntImm) and realize.predicate.value):
        p.lines.append(f"{inner}T.where({p.expr(realize.predicate)})")
    p.lines.append(f"{inner}T.reads({', '.join(p.region(r) for r in block.reads)})")
    p.lines.append(f"{inner}T.writes({', '.join(p.region(r) for r in block.writes)})")
    if block.annotations:
        items = ", ".join(f'"{k}": {_attr_value(p, v)}' for k, v in block.annotations)
        p.lines.append(f"{inner}T.block_attr({{{items}}})")
    for buf in block.alloc_buffers:
        p.lines.append(
            f"{inner}{p.names.define(buf, buf.name)} = {p.buffer_decl(buf, 'alloc_buffer')}"
        )
    work.append((block.body, depth + 1))
    if block.init is not None:
        work.append((block.init, depth + 2))
        work.append(f"{inner}with T.init():")


def _emit_for(p: _Printer, loop: For, depth: int, work: list[_Work]) -> None:
    pad = "    " * depth
    grid: list[For] = []
    node: Stmt = loop
    grid_vars: set[int] = set()
    while isinstance(node, For):
        plain = node.kind == ForKind.SERIAL and not node.annotations
        zero = isinstance(node.min, IntImm) and node.min.value == 0
        if not (plain and zero) or uses_var(node.extent, lambda v: id(v) in grid_vars):
            break
        grid.append(node)
        grid_vars.add(id(node.loop_var))
        node = node.body
    if len(grid) > 1:
        for g in grid:
            p.loops[id(g.loop_var)] = g
        names = ", ".join(p.names.define(g.loop_var, g.loop_var.name_hint) for g in grid)
        extents = ", ".join(p.expr(g.extent) for g in grid)
        p.lines.append(f"{pad}for {names} in T.grid({extents}):")
        work.append((grid[-1].body, depth + 1))
        return
    p.loops[id(loop.loop_var)] = loop
    if isinstance(loop.min, IntImm) and loop.min.value == 0:
        bounds = p.expr(loop.extent)
    else:
        bounds = f"{p.expr(loop.min)}, {p.expr(tir_op.add(loop.min, loop.extent))}"
    prefix = {
        ForKind.SERIAL: "T.serial" if loop.annotations else "range",
        ForKind.PARALLEL: "T.parallel",
        ForKind.VECTORIZED: "T.vectorized",
        ForKind.UNROLLED: "T.unroll",
        ForKind.THREAD_BINDING: "T.thread_binding",
    }[loop.kind]
    if loop.kind == ForKind.THREAD_BINDING:
        bounds += f', thread="{loop.thread_binding}"'
    if loop.annotations:
        items = ", ".join(f'"{k}": {_attr_value(p, v)}' for k, v in loop.annotations)
        bounds += f", annotations={{{items}}}"
    name = p.names.define(loop.loop_var, loop.loop_var.name_hint)
    p.lines.append(f"{pad}for {name} in {prefix}({bounds}):")
    work.append((loop.body, depth + 1))


def _emit(p: _Printer, root: Stmt, depth: int) -> None:  # noqa: C901  (a flat dispatch over the union)
    work: list[_Work] = [(root, depth)]
    while work:
        item = work.pop()
        if isinstance(item, str):
            p.lines.append(item)
            continue
        s, d = item
        pad = "    " * d
        match s:
            case SeqStmt():
                if not s.seq:
                    p.lines.append(f"{pad}T.evaluate(0)")
                work.extend((c, d) for c in reversed(s.seq))
            case For():
                _emit_for(p, s, d, work)
            case BlockRealize():
                _emit_block(p, s, d, work)
            case Block():
                _emit_block(
                    p, BlockRealize([], None, s) if not s.iter_vars else _opaque(s), d, work
                )
            case BufferStore():
                idx = ", ".join(p.expr(i) for i in s.indices) or "()"
                p.lines.append(f"{pad}{p.names.get(s.buffer)}[{idx}] = {p.expr(s.value)}")
            case IfThenElse():
                p.lines.append(f"{pad}if {p.expr(s.condition)}:")
                if s.else_case is not None:
                    work.append((s.else_case, d + 1))
                    work.append(f"{pad}else:")
                work.append((s.then_case, d + 1))
            case Evaluate():
                p.lines.append(f"{pad}T.evaluate({p.expr(s.value)})")
            case LetStmt():
                name = p.names.define(s.var, s.var.name_hint)
                p.lines.append(f"{pad}{name}: T.{s.var.dtype} = {p.expr(s.value)}")
                work.append((s.body, d))
            case Allocate():
                name = p.names.define(s.buffer_var, s.buffer_var.name_hint)
                extents = ", ".join(p.expr(x) for x in s.extents)
                p.lines.append(f'{pad}{name} = T.allocate([{extents}], "{s.dtype}", "global")')
                work.append((s.body, d))
            case _:
                assert_never(s)


def _opaque(block: Block) -> BlockRealize:
    raise DiagnosticError(f"block {block.name_hint} has iteration variables but no BlockRealize")


def _attr_value(p: _Printer, v: object) -> str:
    if isinstance(v, IntImm | FloatImm):
        return _const(v)
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, StringImm):
        return f'"{v.value}"'
    if isinstance(v, tuple):
        return "[" + ", ".join(_attr_value(p, x) for x in v) + "]"
    if isinstance(v, Var):
        return p.names.get(v)
    if isinstance(v, Buffer):
        return p.names.get(v)
    return str(v)


def stmt_script(s: Stmt) -> str:
    """A statement in TVMScript syntax (free variables by their name hints)."""
    names = Names()
    p = _Printer(names, ExprPrinter(names), [], {})
    _emit(p, s, 0)
    return "\n".join(p.lines)


def _implicit_root(body: Stmt) -> Block | None:
    if not isinstance(body, BlockRealize) or body.iter_values:
        return None
    if not (isinstance(body.predicate, IntImm) and body.predicate.value):
        return None
    root = body.block
    if root.annotations or root.reads or root.writes or root.init is not None:
        return None
    inner = root.body
    if root.alloc_buffers:
        return root
    if isinstance(inner, BlockRealize):
        return root if inner.block.iter_vars else None
    has_block = any(isinstance(s, BlockRealize) for s in walk_stmt(inner))
    return root if has_block else None


def _signature(p: _Printer, func: PrimFunc, fname: str) -> tuple[list[str], list[str]]:
    """The parameter list, and the attribute and buffer-matching lines that open the body."""
    names = p.names
    buffer_map = func.buffer_map
    args: list[str] = []
    matched: list[tuple[Var, Buffer]] = []
    lines: list[str] = []
    for param in func.params:
        buf = buffer_map.get(param)
        if buf is not None and all(isinstance(d, IntImm) for d in buf.shape):
            bname = names.define(buf, buf.name)
            dims = ", ".join(p.expr(d) for d in buf.shape)
            shape = f"({dims},)" if len(buf.shape) == 1 else f"({dims})"
            args.append(f'{bname}: T.Buffer({shape}, "{buf.dtype}")')
            continue
        args.append(f"{names.define(param, param.name_hint)}: T.{param.dtype}")
        if buf is not None:
            matched.append((param, buf))
    attrs = sorted(
        (k, v) for k, v in func.attrs.items() if not (k == "global_symbol" and str(v) == fname)
    )
    if attrs:
        items = ", ".join(f'"{k}": {_attr_value(p, v)}' for k, v in attrs)
        lines.append(f"    T.func_attr({{{items}}})")
    free = [v for _, buf in matched for dim in buf.shape for v in undefined_vars(dim)]
    for v in free:
        if id(v) not in names.names:
            lines.append(f"    {names.define(v, v.name_hint)} = T.{v.dtype}()")
    for param, buf in matched:
        decl = p.buffer_decl(buf, "match_buffer", f"{names.get(param)}, ")
        lines.append(f"    {names.define(buf, buf.name)} = {decl}")
    return args, lines


def prim_func_script(func: PrimFunc, name: str | None = None) -> str:
    """``func`` in TVMScript, as TVM v0.14 prints ``PrimFunc.script()``."""
    names = Names()
    p = _Printer(names, ExprPrinter(names), [], {})
    symbol = func.attrs.get("global_symbol")
    fname = name or (str(symbol) if symbol is not None else "main")
    args, body_lines = _signature(p, func, fname)
    p.lines.extend(body_lines)
    root = _implicit_root(func.body)
    if root is not None:
        p.lines.append('    # with T.block("root"):')
        for buf in root.alloc_buffers:
            p.lines.append(
                f"    {names.define(buf, buf.name)} = {p.buffer_decl(buf, 'alloc_buffer')}"
            )
        _emit(p, root.body, 1)
    else:
        _emit(p, func.body, 1)
    decorator = "@T.prim_func" if symbol is not None else "@T.prim_func(private=True)"
    header = f"# from tvm.script import tir as T\n\n{decorator}\ndef {fname}({', '.join(args)}):"
    return "\n".join([header, *p.lines])
