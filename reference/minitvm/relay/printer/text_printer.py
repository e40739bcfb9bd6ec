"""The Relay text printer: expressions and modules in TVM's text format, version 0.0.5.

TVM: ``src/relay/printer/relay_text_printer.cc``, ``text_printer.{h,cc}`` and the
``DependencyGraph`` of ``src/relay/analysis/dependency_graph.cc``.

The output is graph normal form. Variables, global variables, operators and constants are
always written inline. Any other expression is written inline only where it ends a scope
(a function body, an if branch, the body of a let chain) or is a let value, and only if it
has a single parent; otherwise it is bound once to a temporary, ``%N = ...;``, at the point
of the enclosing scope where it is first needed, and referred to by ``%N`` afterwards.

The printer keeps TVM's structure and state (its memo tables, scope stack, name and temporary
counters) so that names, numbering and the order of lines are TVM's. TVM's printer recurses;
here the steps are generators. A step that goes on to print a sub-expression yields that
sub-step to ``_drive``, which runs the steps on an explicit stack and sends each result back;
steps of bounded nesting are delegated with ``yield from``. The dataflow expansion
(``ExpandDataflow``) and let chains are loops, as in TVM. The text is built as ``Doc`` ropes,
written out once at the end, so deep nesting costs no more than the output.

A module prints its type definitions first (``type List[A] { Cons(A, List[A]), Nil, }``,
sorted by name), then its functions. References print as ``ref(v)``, ``ref_read(r)``,
``ref_write(r, v)``; a constructor as its name, and a call of a constructor without fields
as the bare name (``Nil``); a match as ``match (d) { pattern => { rhs }, ... }`` (``match?``
when incomplete), each clause a scope of its own, as in TVM.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeAlias, assert_never

from minitvm.ir.adt import Constructor, TypeData
from minitvm.ir.expr import BaseFunc, GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.op import Op
from minitvm.ir.type import Type, type_str
from minitvm.relay.adt import Match, Pattern, pattern_parts
from minitvm.relay.expr import (
    Call,
    Constant,
    Expr,
    If,
    Let,
    RefCreate,
    RefRead,
    RefWrite,
    Tuple,
    TupleGetItem,
    Var,
)
from minitvm.relay.function import Function
from minitvm.relay.printer.attributes import AttrPrinter
from minitvm.relay.printer.doc import Doc, cat, indent, render
from minitvm.relay.printer.literals import scalar_literal
from minitvm.relay.printer.metadata import MetaTable

__all__ = ["TextPrinter", "parent_counts"]

Task: TypeAlias = Generator["Task", Doc, Doc]
"""A printing step: yields the sub-steps it needs, receives their text, returns its own."""


def _drive(task: Task) -> Doc:
    """Run ``task`` and the sub-tasks it yields on an explicit stack."""
    stack: list[Task] = [task]
    result: Doc = ""
    started = False
    while stack:
        top = stack[-1]
        try:
            sub = top.send(result) if started else next(top)
        except StopIteration as stop:
            stack.pop()
            result = stop.value
            started = True
            continue
        stack.append(sub)
        started = False
    return result


def _dg_children(expr: Expr) -> tuple[Expr, ...]:  # noqa: C901  (a flat dispatch)
    """The children ``DependencyGraph`` links ``expr`` to: binders (params, let vars, pattern
    variables) are not uses; a function body, an if branch, a let value and body, a match
    clause hang off scope nodes."""
    match expr:
        case Call():
            return (expr.op, *expr.args)
        case Tuple():
            return expr.fields
        case TupleGetItem():
            return (expr.tuple_value,)
        case If():
            return (expr.cond, expr.true_branch, expr.false_branch)
        case Function():
            return (expr.body,)
        case Let():
            return (expr.value, expr.body)
        case RefCreate():
            return (expr.value,)
        case RefRead():
            return (expr.ref,)
        case RefWrite():
            return (expr.ref, expr.value)
        case Match():
            return (expr.data, *(c.rhs for c in expr.clauses))
        case Var() | GlobalVar() | Constant() | Op() | Constructor():
            return ()
        case _:
            assert_never(expr)


def parent_counts(root: Expr) -> dict[Expr, int]:
    """How many parent links each node reachable from ``root`` has: a node used twice by
    one parent (``add(%0, %0)``) has two."""
    counts: dict[Expr, int] = {root: 0}
    stack = [root]
    while stack:
        for child in _dg_children(stack.pop()):
            if child in counts:
                counts[child] += 1
            else:
                counts[child] = 1
                stack.append(child)
    return counts


def _dataflow_children(expr: Expr) -> tuple[Expr, ...]:
    """What ``ExpandDataflow`` visits before ``expr``: the callee first, then the arguments."""
    match expr:
        case Call():
            return (expr.op, *expr.args)
        case Tuple():
            return expr.fields
        case TupleGetItem():
            return (expr.tuple_value,)
        case _:
            return ()


def _commas(docs: list[Doc]) -> list[Doc]:
    """``docs`` with ``", "`` between them."""
    out: list[Doc] = []
    for i, doc in enumerate(docs):
        if i:
            out.append(", ")
        out.append(doc)
    return out


_ALWAYS_INLINE = (Var, GlobalVar, Op, Constant, Constructor)
_ANNOTATED = (Constant, Call, Var, Function, Tuple, TupleGetItem)


class TextPrinter:
    """One printing run; its tables live as long as the run (a module is one run)."""

    def __init__(self, show_meta_data: bool, annotate: Callable[[Expr], str] | None) -> None:
        self.annotate = annotate
        self.meta = MetaTable()
        self.attrs = AttrPrinter(self.meta, show_meta_data)
        self.scopes: list[list[Doc]] = []
        """TVM's ``doc_stack_``: the lines bound so far in each open scope."""
        self.memo: dict[Expr, Doc] = {}
        """How an expression is referred to once printed (its text, name or temporary)."""
        self.result_memo: dict[Expr, Doc] = {}
        """A free variable's declaration text (name, annotation, type comment)."""
        self.var_memo: set[Expr] = set()
        """Expressions already introduced: bound to a temporary, or free vars declared."""
        self.opt_info_memo: set[Expr] = set()
        self.names: dict[str, int] = {}
        self.temp_counter = 0
        self.counts: dict[Expr, int] = {}
        self.typed_root = False
        """Whether the printed expression was type checked: its free variables then carry a
        type comment (variables are typed from birth by their annotation, so the comment at a
        binding site follows whether the binding construct itself was checked)."""

    # --- entry points ---------------------------------------------------------------------

    def print_final(self, node: Expr) -> str:
        self.counts = parent_counts(node)
        self.typed_root = node.checked_type_ is not None and not isinstance(node, Var)
        return render(_drive(self.print_scope(node)))

    def print_module(self, mod: IRModule) -> str:
        parts: list[Doc] = []
        types = mod.type_definitions
        for gtv in sorted(types, key=lambda g: g.name_hint):
            if parts:
                parts.append("\n")
            parts.append(self.print_type_data(types[gtv]))
            parts.append("\n")
        functions = mod.functions
        for gv in sorted(functions, key=lambda g: g.name_hint):
            func = functions[gv]
            if parts:
                parts.append("\n")
            parts.append(self._print_global(gv, func))
            parts.append("\n")
        return render(cat(*parts))

    def print_type_data(self, data: TypeData) -> Doc:
        """``type Name[A, ...] {`` one constructor per line, each followed by a comma ``}``."""
        head = "type " + data.header.name_hint
        if data.type_vars:
            head += "[" + ", ".join(tv.name_hint for tv in data.type_vars) + "]"
        ctors: list[Doc] = []
        for ctor in data.constructors:
            fields = ""
            if ctor.inputs:
                fields = "(" + ", ".join(self.print_type(t) for t in ctor.inputs) + ")"
            ctors.append(cat("\n", ctor.name_hint, fields, ","))
        return cat(head, " {", indent(cat(*ctors)), "\n}")

    def _print_global(self, gv: GlobalVar, func: BaseFunc) -> Doc:
        if isinstance(func, Function):
            self.counts = parent_counts(func)
            return _drive(self.print_func(f"def @{gv.name_hint}", func))
        return f"@{gv.name_hint} = {func}"

    # --- scopes ---------------------------------------------------------------------------

    def print_scope(self, node: Expr) -> Task:
        """``node`` with the lines it binds placed before it, in a scope of their own."""
        self.scopes.append([])
        doc = yield from self.print_expr(node, try_inline=True)
        return cat(*self.scopes.pop(), doc)

    def print_body(self, node: Expr) -> Task:
        inner = yield from self.print_scope(node)
        return cat("{", indent(cat("\n", inner)), "\n}")

    # --- names ----------------------------------------------------------------------------

    def unique_name(self, prefix: str) -> str:
        """``prefix``, or ``prefix`` with the first free numeric suffix (``%x1``, ``%x2``)."""
        name = prefix
        if prefix in self.names:
            while True:
                self.names[prefix] += 1
                name = f"{prefix}{self.names[prefix]}"
                if name not in self.names:
                    break
        self.names[name] = 0
        return name

    def alloc_var(self, var: Var, typed: bool) -> Doc:
        """Name ``var`` at its binding site; the text carries its annotation, and its type
        comment when the binding construct was type checked (``typed``)."""
        known = self.memo.get(var)
        if known is not None:
            # Bound twice: still print, but say the program is malformed, as TVM does.
            return cat(known, "-malformed-ir")
        hint = var.name_hint
        if not hint or not (hint[0].isascii() and hint[0].isalpha()):
            hint = "v" + hint
        name = self.unique_name("%" + hint)
        self.memo[var] = name
        annotation = ""
        if var.type_annotation is not None:
            annotation = ": " + self.print_type(var.type_annotation)
        if not typed and var.type_annotation is not None:
            # The checked type is only the annotation the variable was born with.
            self.opt_info_memo.add(var)
        return name + annotation + self.optional_info(var)

    def print_type(self, ty: Type) -> str:
        return type_str(ty)

    def optional_info(self, expr: Expr) -> str:
        """`` /* ty=T span=S */`` the first time an annotated node is printed."""
        if expr in self.opt_info_memo:
            return ""
        self.opt_info_memo.add(expr)
        if self.annotate is not None:
            return self.annotate(expr)
        if not isinstance(expr, _ANNOTATED):
            return ""
        ty, span = expr.checked_type_, expr.span
        if ty is None and span is None:
            return ""
        doc = " /*"
        if ty is not None:
            doc += " ty=" + self.print_type(ty)
        if span is not None:
            doc += f" span={span.source_name}:{span.line}:{span.column}"
        return doc + " */"

    # --- expressions ----------------------------------------------------------------------

    def print_expr(self, expr: Expr, try_inline: bool = False) -> Task:
        """The text referring to ``expr`` where it is used (``PrintExpr``)."""
        printed = self.memo.get(expr)
        if printed is None:
            printed = yield from self.visit_expr(expr)
        return self.finish_expr(expr, printed, try_inline)

    def print_known(self, expr: Expr, try_inline: bool = False) -> Doc | None:
        """``print_expr`` without a sub-task when ``expr``'s text is known already: the
        common case, since the dataflow expansion computes children before parents."""
        printed = self.memo.get(expr)
        return None if printed is None else self.finish_expr(expr, printed, try_inline)

    def finish_expr(self, expr: Expr, printed: Doc, try_inline: bool) -> Doc:
        """Inline ``expr``'s text, or bind it to a temporary the first time it is used."""
        inline = isinstance(expr, _ALWAYS_INLINE) or (try_inline and self.counts.get(expr, 0) <= 1)
        if not inline and isinstance(expr, Let):
            printed = cat("(", indent(cat("\n", printed)), "\n)")
        info = self.optional_info(expr)
        if info:
            printed = cat(printed, info)
        if isinstance(expr, Var):
            if expr not in self.var_memo:
                self.var_memo.add(expr)
                declaration = self.result_memo.get(expr)
                if declaration is not None:
                    self.scopes[-1].append(cat("free_var ", declaration, ";\n"))
            return self.memo[expr]
        if inline:
            self.memo[expr] = printed
            return printed
        if expr in self.var_memo:
            return self.memo[expr]
        self.var_memo.add(expr)
        temp = f"%{self.temp_counter}"
        self.temp_counter += 1
        self.memo[expr] = temp
        self.scopes[-1].append(cat(temp, " = ", printed, ";\n"))
        return temp

    def visit_expr(self, expr: Expr) -> Task:
        """``expr``'s own text, computing that of every dataflow node it needs first, in
        post-order with the callee before the arguments (``ExpandDataflow``)."""
        memo = self.memo
        if expr not in memo:
            stack: list[tuple[Expr, bool]] = [(expr, False)]
            while stack:
                node, expanded = stack.pop()
                if node in memo:
                    continue
                if expanded:
                    yield from self.visit_leaf(node)
                    continue
                stack.append((node, True))
                for child in reversed(_dataflow_children(node)):
                    if child not in memo:
                        stack.append((child, False))
        return memo[expr]

    def visit_leaf(self, expr: Expr) -> Task:
        simple = self.visit_atom(expr)
        result = simple if simple is not None else (yield from self.visit_compound(expr))
        if expr in self.memo:
            self.result_memo[expr] = result
        else:
            self.memo[expr] = result
        return result

    def visit_atom(self, expr: Expr) -> Doc | None:
        match expr:
            case Var():
                # Only reached for a variable no binder has named: a free variable.
                return self.alloc_var(expr, self.typed_root)
            case GlobalVar():
                return "@" + expr.name_hint
            case Constructor():
                return expr.name_hint
            case Op():
                return expr.name
            case Constant():
                literal = scalar_literal(expr.data)
                if literal is not None:
                    return literal
                ref = self.meta.ref(expr)
                self.memo[expr] = ref
                return ref
            case _:
                return None

    def visit_compound(self, expr: Expr) -> Task:  # noqa: C901  (a flat dispatch)
        match expr:
            case Tuple():
                fields: list[Doc] = []
                for field in expr.fields:
                    doc = self.print_known(field)
                    fields.append(doc if doc is not None else (yield self.print_expr(field)))
                return cat("(", *_commas(fields), "," if len(fields) == 1 else "", ")")
            case TupleGetItem():
                tup = self.print_known(expr.tuple_value)
                if tup is None:
                    tup = yield self.print_expr(expr.tuple_value)
                return cat(tup, f".{expr.index}")
            case Call():
                return (yield from self.visit_call(expr))
            case If():
                cond = yield self.print_expr(expr.cond)
                then = yield self.print_body(expr.true_branch)
                other = yield self.print_body(expr.false_branch)
                return cat("if (", cond, ") ", then, " else ", other)
            case Let():
                return (yield from self.visit_let(expr))
            case Function():
                return (yield from self.print_func("fn ", expr))
            case RefCreate():
                return cat("ref(", (yield self.print_expr(expr.value)), ")")
            case RefRead():
                return cat("ref_read(", (yield self.print_expr(expr.ref)), ")")
            case RefWrite():
                ref = yield self.print_expr(expr.ref)
                value = yield self.print_expr(expr.value)
                return cat("ref_write(", ref, ", ", value, ")")
            case Match():
                return (yield from self.visit_match(expr))
            case Var() | GlobalVar() | Op() | Constant() | Constructor():
                raise AssertionError("atoms are printed by visit_atom")
            case _:
                assert_never(expr)

    def visit_call(self, call: Call) -> Task:
        # The arguments first, so that their bindings come before the callee's.
        args: list[Doc] = []
        for arg in call.args:
            doc = self.print_known(arg)
            args.append(doc if doc is not None else (yield self.print_expr(arg)))
        args.extend(self.attrs.call_attrs(call.attrs, call.op))
        op = self.print_known(call.op)
        if op is None:
            op = yield self.print_expr(call.op)
        if isinstance(call.op, Constructor) and not call.op.inputs and not args:
            return op  # a constructor without fields: `Nil`, not `Nil()`
        return cat(op, "(", *_commas(args), ")")

    def visit_match(self, match: Match) -> Task:
        data = yield self.print_expr(match.data)
        typed = match.checked_type_ is not None
        clauses: list[Doc] = []
        for clause in match.clauses:
            lhs = self.print_pattern(clause.lhs, typed)
            rhs = yield self.print_body(clause.rhs)
            clauses.append(cat("\n", lhs, " => ", rhs, ","))
        keyword = "match" if match.complete else "match?"
        return cat(keyword, " (", data, ") {", indent(cat(*clauses)), "\n}")

    def print_pattern(self, pattern: Pattern, typed: bool) -> Doc:
        """``pattern``'s text; its variables are named here, left to right."""
        return cat(*pattern_parts(pattern, lambda v: self.alloc_var(v, typed)))

    def visit_let(self, let: Let) -> Task:
        """A let chain, flat: ``let %x = v;`` lines, then the body in a scope of its own.
        Bindings a value needs go after the previous let line."""
        base = len(self.scopes)
        node: Expr = let
        while isinstance(node, Let):
            var = self.alloc_var(node.var, node.checked_type_ is not None)
            value = self.print_known(node.value, try_inline=True)
            if value is None:
                value = yield self.print_expr(node.value, try_inline=True)
            self.scopes.append([cat("let ", var, " = ", value, ";\n")])
            node = node.body
        body = yield self.print_scope(node)
        lines = [line for scope in self.scopes[base:] for line in scope]
        del self.scopes[base:]
        return cat(*lines, body)

    def print_func(self, prefix: str, func: Function) -> Task:
        head = prefix
        if func.type_params:
            head += "[" + ", ".join(tv.name_hint for tv in func.type_params) + "]"
        typed = func.checked_type_ is not None
        params: list[Doc] = [self.alloc_var(p, typed) for p in func.params]
        params.extend(self.attrs.dict_attrs(func.attrs))
        ret = "" if func.ret_type is None else "-> " + self.print_type(func.ret_type) + " "
        body = yield self.print_body(func.body)
        return cat(head, "(", *_commas(params), ") ", ret, body)
