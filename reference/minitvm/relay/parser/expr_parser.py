"""Expressions in the Relay text format.

TVM: ``Parser::ParseExpr``, ``ParseBindingExpr``, ``ParseExprBinOp``, ``ParseCallExpr``,
``ParseAtomicExpr``, ``ParseFunctionDef`` and ``ParseIf`` in ``src/relay/parser/parser.cc``::

    expr     ::= item (';' item)*                 e1; e2 is let %_ = e1; e2
    item     ::= 'free_var' LOCAL (':' type)?     declares a free variable, no value
               | binding+ expr                    the bindings scope over the rest
               | '{' expr '}'
               | binop
    binding  ::= 'let' LOCAL (':' type)? '=' value ';'
               | GRAPH '=' value ';'              a shared node, not a let
               | 'free_var' LOCAL (':' type)? ';' where the printer declares a free
                                                  variable first used in a let value
    value    ::= binop
               | 'let' LOCAL (':' type)? '=' value ';' binding* binop
                                                  a let chain as a value (the printer's)
    binop    ::= postfix (BINOP postfix)*         `* /`, then `+ -`, then `< > <= >=`,
                                                  then `== !=`; all left-associative
    postfix  ::= atom ('(' args ')' | '.' INTEGER)*
    args     ::= (expr (',' expr)*)? (','? attrs)? | META     attrs or an attrs object
    atom     ::= INTEGER | FLOAT | BOOL | LOCAL | GLOBAL | GRAPH | META
               | IDENT                            a constructor, else an operator
               | '(' ')' | '(' expr ')' | '(' expr ',' (expr (',' expr)* ','?)? ')'
               | 'fn' function | 'if' '(' expr ')' '{' expr '}' 'else' '{' expr '}'
               | ref | match                      (``adt_parser``)
    function ::= ('[' IDENT (',' IDENT)* ']')? '(' (param (',' param)*)? (','? attrs)? ')'
                 ('->' type)? '{' expr '}'
    param    ::= LOCAL (':' type)?

Every step that nests (an argument, a tuple field, a body, a branch) is yielded to
``drive``, so nesting depth never reaches the Python stack; a chain of bindings or of
sequenced expressions is a loop. Binary operators are reduced with explicit operand and
operator stacks (TVM's algorithm). Simple atoms followed by ``,`` or ``)`` are read without
a sub-step, which keeps wide, shallow programs (a 90,000-line graph) fast.

A constructor without fields, not called, is a call of it: ``Nil`` reads as ``Nil()``, as in
TVM (its value is the ADT value, not the constructor).

Scoping: a let, a function and each if branch or block open a scope; graph bindings
``%N`` are global to the whole text, as in TVM, so the printer's reuse of a temporary in a
later scope reads back as the same shared node. A temporary used before its binding line
reads as a placeholder, replaced once the text is read (``forward``).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import TypeAlias

import numpy as np

from minitvm.error import TVMError
from minitvm.ir.adt import Constructor
from minitvm.ir.attrs import Attrs, DictAttrs
from minitvm.ir.expr import GlobalVar
from minitvm.ir.op import Op
from minitvm.ir.type import Type, TypeVar
from minitvm.relay.expr import Call, Constant, Expr, If, Let, Tuple, TupleGetItem, Var
from minitvm.relay.function import Function
from minitvm.relay.parser.attr_parser import AttrItems, AttrParser
from minitvm.relay.parser.cursor import drive
from minitvm.relay.parser.diagnostics import Diagnostics
from minitvm.relay.parser.forward import CycleError, resolve_forward
from minitvm.relay.parser.scopes import ScopeStack
from minitvm.relay.parser.tokens import Tok, Token
from minitvm.runtime.ndarray import NDArray

__all__ = ["ExprParser"]

ExprStep: TypeAlias = Generator["ExprStep", Expr, Expr]

_BINARY: dict[Tok, tuple[str, int]] = {
    Tok.STAR: ("multiply", 12),
    Tok.SLASH: ("divide", 12),
    Tok.PLUS: ("add", 10),
    Tok.MINUS: ("subtract", 10),
    Tok.LT: ("less", 8),
    Tok.GT: ("greater", 8),
    Tok.LE: ("less_equal", 8),
    Tok.GE: ("greater_equal", 8),
    Tok.EQEQ: ("equal", 7),
    Tok.NE: ("not_equal", 7),
}
_SIMPLE = frozenset(
    {Tok.INTEGER, Tok.FLOAT, Tok.BOOL, Tok.LOCAL, Tok.GRAPH, Tok.GLOBAL, Tok.IDENT, Tok.META}
)
_LIST_END = frozenset({Tok.COMMA, Tok.RPAREN})

Operand: TypeAlias = tuple[Expr, int, int]
"""An operand of a binary operator with the indices of its first and last tokens."""


def _scalar(value: int | float | bool, dtype: str) -> NDArray:
    array = np.array(value, dtype=dtype)
    array.flags.writeable = False
    return NDArray(array)


class ExprParser(AttrParser):
    """Parses expressions; globals are interned in ``globals`` by name."""

    def __init__(
        self,
        tokens: list[Token],
        diags: Diagnostics,
        meta: Mapping[str, list[object]],
        globals_: dict[str, GlobalVar],
    ) -> None:
        super().__init__(tokens, diags, meta)
        self.scopes: ScopeStack[Var] = ScopeStack()
        self.graph: dict[int, Expr] = {}
        self.forward: dict[int, tuple[Var, Token]] = {}
        """Temporaries used before their binding: a placeholder and the first use of each."""
        self.globals = globals_
        self.global_uses: dict[str, Token] = {}
        """The first use of each global name, to report globals never defined."""
        self.literals: dict[tuple[str, str], NDArray] = {}
        """The data of each literal, by text and dtype. Constants of the same literal share
        their (read-only) data, as programs repeat their literals."""
        self.ctors: dict[str, Constructor] = {}
        """The constructors the text may name, defined so far (or by the initial module)."""

    def parse_expr(self) -> Expr:
        return drive(self.expr())

    # --- names ------------------------------------------------------------------------------

    def global_var(self, name: str) -> GlobalVar:
        gv = self.globals.get(name)
        if gv is None:
            gv = self.globals[name] = GlobalVar(name_hint=name)
        return gv

    def binder(self, context: str) -> Var:
        """``%name (':' type)?`` at a binding site: a new variable (not yet in scope)."""
        tok = self.expect(Tok.LOCAL, context)
        ty: Type | None = self.parse_type() if self.accept(Tok.COLON) else None
        return Var(tok.name, ty, span=self.token_span(tok))

    def local(self, tok: Token) -> Expr:
        """``%name``; ``%t.0.1`` is ``%t`` projected when no variable is named ``t.0.1``."""
        var = self.scopes.lookup(tok.name)
        if var is not None:
            return var
        base, indices = tok.name, []
        while True:
            head, dot, tail = base.rpartition(".")
            if not dot or not (tail.isascii() and tail.isdigit()):
                break
            indices.append(int(tail))
            base = head
            var = self.scopes.lookup(base)
            if var is not None:
                expr: Expr = var
                for index in reversed(indices):
                    expr = TupleGetItem(expr, index, span=self.token_span(tok))
                return expr
        self.error(tok, f"the local variable `%{tok.name}` is not in scope")
        return Var(tok.name)

    def free_var(self) -> None:
        self.expect(Tok.FREE_VAR)
        tok = self.peek()
        var = self.binder("after `free_var`")
        if not self.scopes.bind_free(var.name_hint, var):
            self.error(tok, f"the free variable `%{var.name_hint}` is declared twice")

    def resolve_forward(self, roots: list[Expr]) -> list[Expr]:
        """``roots`` with the temporaries used before their binding replaced by their nodes
        (see ``forward``); a temporary never bound, or bound to a node containing itself, is
        an error."""
        if not self.forward:
            return roots
        targets: dict[Var, Expr] = {}
        for index, (placeholder, use) in self.forward.items():
            bound = self.graph.get(index)
            if bound is None:
                self.error(use, f"the graph binding `{use.text}` is never defined")
            else:
                targets[placeholder] = bound
        self.diags.check()
        try:
            memo = resolve_forward(roots, targets)
        except CycleError as err:
            use = next(tok for var, tok in self.forward.values() if var is err.placeholder)
            raise self.fail(
                use, f"the graph binding `{use.text}` is bound to a node using it"
            ) from None
        return [memo[root] for root in roots]

    # --- expressions ------------------------------------------------------------------------

    def expr(self) -> ExprStep:
        items: list[tuple[Expr, int]] = []
        while True:
            kind = self.peek().kind
            start = self.pos
            if kind is Tok.FREE_VAR:
                self.free_var()
            elif kind is Tok.LET or (kind is Tok.GRAPH and self.peek(1).kind is Tok.EQUAL):
                items.append(((yield self.bindings()), start))
                break
            elif kind is Tok.LBRACE:
                items.append(((yield from self.block("a block")), start))
            else:
                items.append(((yield from self.binop()), start))
            if not self.accept(Tok.SEMI):
                break
        if not items:
            raise self.unexpected(["an expression"], "after the declarations")
        body = items[-1][0]
        for value, start in reversed(items[:-1]):
            body = Let(Var(""), value, body, span=self.span_from(start))
        return body

    def bindings(self, whole: bool = True) -> ExprStep:
        """Let and graph bindings, then their body: the rest of the expression when
        ``whole``, else one ``binop`` (a let chain written as a let value)."""
        lets: list[tuple[Var, Expr, int]] = []
        while True:
            tok = self.peek()
            if tok.kind is Tok.GRAPH and self.peek(1).kind is Tok.EQUAL:
                self.advance()
                self.advance()
                value = yield from self.bound_value()
                self.expect(Tok.SEMI, "after a graph binding")
                if int(tok.number) in self.graph:
                    self.error(tok, f"the graph binding `{tok.text}` is defined twice")
                else:
                    self.graph[int(tok.number)] = value
            elif tok.kind is Tok.LET:
                start = self.pos
                self.advance()
                var = self.binder("after `let`")
                self.expect(Tok.EQUAL, "after the variable of a let")
                self.scopes.push()
                # A function value may call itself; any other value sees the outer names.
                recursive = self.peek().kind is Tok.FN
                if recursive:
                    self.scopes.bind(var.name_hint, var)
                value = yield from self.bound_value()
                if not recursive:
                    self.scopes.bind(var.name_hint, var)
                self.expect(Tok.SEMI, "after the value of a let")
                lets.append((var, value, start))
            elif tok.kind is Tok.FREE_VAR:
                self.free_var()
                self.expect(Tok.SEMI, "after a free variable declaration")
            else:
                body = (yield self.expr()) if whole else (yield from self.binop())
                self.scopes.pop(len(lets))
                for var, value, start in reversed(lets):
                    body = Let(var, value, body, span=self.span_from(start))
                return body

    def bound_value(self) -> ExprStep:
        """The value of a let or graph binding: a ``binop``, or a let chain ending in one
        (the printer writes a let whose value is a let that way, as TVM's does)."""
        if self.peek().kind is Tok.LET:
            return (yield self.bindings(whole=False))
        return (yield from self.binop())

    def block(self, what: str) -> ExprStep:
        """``{ expr }`` in a scope of its own."""
        self.expect(Tok.LBRACE, f"to open {what}")
        self.scopes.push()
        body = yield self.expr()
        self.scopes.pop()
        self.expect(Tok.RBRACE, f"to close {what}")
        return body

    def binop(self) -> ExprStep:
        start = self.pos
        first = yield from self.postfix()
        rule = _BINARY.get(self.peek().kind)
        if rule is None:
            return first
        operands: list[Operand] = [(first, start, self.pos - 1)]
        ops: list[tuple[str, int]] = []
        while rule is not None:
            self.advance()
            while ops and ops[-1][1] >= rule[1]:
                self.reduce(operands, ops)
            ops.append(rule)
            right = self.pos
            operand = yield from self.postfix()
            operands.append((operand, right, self.pos - 1))
            rule = _BINARY.get(self.peek().kind)
        while ops:
            self.reduce(operands, ops)
        return operands[0][0]

    def reduce(self, operands: list[Operand], ops: list[tuple[str, int]]) -> None:
        name, _ = ops.pop()
        rhs, _, last = operands.pop()
        lhs, first, _ = operands.pop()
        call = Call(Op.get(name), [lhs, rhs], span=self.span_between(first, last))
        operands.append((call, first, last))

    def postfix(self) -> ExprStep:
        start = self.pos
        expr = self.simple_atom()
        if expr is None:
            expr = yield from self.atom()
        while True:
            kind = self.peek().kind
            if kind is Tok.LPAREN:
                expr = yield from self.call(expr, start)
            elif kind is Tok.PERIOD:
                self.advance()
                index = self.expect(Tok.INTEGER, "as the tuple index after `.`")
                expr = TupleGetItem(expr, int(index.number), span=self.span_from(start))
            else:
                return expr

    # --- atoms ------------------------------------------------------------------------------

    def simple_atom(self) -> Expr | None:  # noqa: C901  (a flat dispatch over token kinds)
        """An atom made of one token, or None if the next token starts a bigger one."""
        tok = self.tokens[self.pos]
        kind = tok.kind
        if kind not in _SIMPLE:
            return None
        self.advance()
        if kind is Tok.LOCAL:
            return self.local(tok)
        if kind is Tok.GRAPH:
            index = int(tok.number)
            bound = self.graph.get(index)
            if bound is not None:
                return bound
            if index not in self.forward:
                self.forward[index] = (Var(tok.text, span=self.token_span(tok)), tok)
            return self.forward[index][0]
        if kind is Tok.INTEGER or kind is Tok.FLOAT or kind is Tok.BOOL:
            dtype = "bool" if kind is Tok.BOOL else tok.name
            data = self.literals.get((tok.text, dtype))
            if data is None:
                value = bool(tok.number) if kind is Tok.BOOL else tok.number
                data = self.literals[(tok.text, dtype)] = _scalar(value, dtype)
            return Constant(data, span=self.token_span(tok))
        if kind is Tok.GLOBAL:
            self.global_uses.setdefault(tok.name, tok)
            return self.global_var(tok.name)
        if kind is Tok.IDENT:
            ctor = self.ctors.get(tok.name)
            if ctor is not None:
                if not ctor.inputs and self.peek().kind is not Tok.LPAREN:
                    return Call(ctor, [], span=self.token_span(tok))
                return ctor
        if kind is Tok.META:
            obj = self.meta_object(tok)
            if obj is None:
                return Var(tok.text)
            if isinstance(obj, Var | GlobalVar | Constant | Tuple | TupleGetItem | Call | Op):
                return obj
            if isinstance(obj, Function | Let | If):
                return obj
            self.error(tok, f"`{tok.text}` is a {type(obj).__name__}, not an expression")
            return Var(tok.text)
        try:
            return Op.get(tok.name)
        except TVMError:
            raise self.fail(tok, f"unknown operator `{tok.name}`") from None

    def simple_item(self) -> Expr | None:
        """A simple atom that is a whole list item (followed by ``,`` or ``)``)."""
        if self.tokens[self.pos].kind in _SIMPLE and self.peek(1).kind in _LIST_END:
            return self.simple_atom()
        return None

    def atom(self) -> ExprStep:
        tok = self.peek()
        kind = tok.kind
        if kind is Tok.LPAREN:
            return (yield from self.paren())
        if kind is Tok.FN:
            start = self.pos
            self.advance()
            return (yield from self.function(start))
        if kind is Tok.IF:
            return (yield from self.if_expr())
        raise self.unexpected(["an expression"])

    def paren(self) -> ExprStep:
        """``()``, ``(e)`` or a tuple ``(e,)``, ``(e1, e2, ...)``."""
        start = self.pos
        self.expect(Tok.LPAREN)
        if self.accept(Tok.RPAREN):
            return Tuple([], span=self.span_from(start))
        first = self.simple_item()
        if first is None:
            first = yield self.expr()
        if self.accept(Tok.RPAREN):
            return first
        if not self.accept(Tok.COMMA):
            raise self.unexpected([Tok.COMMA, Tok.RPAREN], "in a tuple or parenthesized expression")
        fields = [first]
        while not self.accept(Tok.RPAREN):
            field = self.simple_item()
            fields.append(field if field is not None else (yield self.expr()))
            if not self.accept(Tok.COMMA):
                self.expect(Tok.RPAREN, "to close the tuple")
                break
        return Tuple(fields, span=self.span_from(start))

    def call(self, callee: Expr, start: int) -> ExprStep:
        open_tok = self.expect(Tok.LPAREN)
        args: list[Expr] = []
        items: AttrItems | None = None
        attrs: Attrs | None = None
        while not self.accept(Tok.RPAREN):
            tok = self.peek()
            if tok.kind is Tok.IDENT and self.peek(1).kind is Tok.EQUAL:
                items = self.attr_items()
                self.expect(Tok.RPAREN, "after the attributes of a call")
                break
            if tok.kind is Tok.META and self.peek(1).kind is Tok.RPAREN:
                obj = self.meta_object(tok)
                if isinstance(obj, Attrs):
                    self.advance()
                    self.advance()
                    attrs = obj
                    break
            arg = self.simple_item()
            args.append(arg if arg is not None else (yield self.expr()))
            if not self.accept(Tok.COMMA) and self.peek().kind is not Tok.RPAREN:
                raise self.unexpected([Tok.COMMA, Tok.RPAREN], "in the arguments of a call")
        if attrs is None:
            attrs = self.call_attrs(callee, items, open_tok)
        return Call(callee, args, attrs, span=self.span_from(start))

    def if_expr(self) -> ExprStep:
        start = self.pos
        self.expect(Tok.IF)
        self.expect(Tok.LPAREN, "after `if`")
        cond = yield self.expr()
        self.expect(Tok.RPAREN, "to close the condition of an if")
        then = yield from self.block("the true branch of an if")
        self.expect(Tok.ELSE, "after the true branch of an if")
        other = yield from self.block("the false branch of an if")
        return If(cond, then, other, span=self.span_from(start))

    def function(self, start: int) -> Generator[ExprStep, Expr, Function]:
        """A function after ``fn`` (or ``def @name``): type params, params, attrs, body."""
        self.scopes.push()
        self.type_scopes.push()
        type_params: list[TypeVar] = []
        if self.peek().kind is Tok.LBRACKET:
            type_params = self.bind_type_params()
        params, attrs = self.params()
        ret = self.parse_type() if self.accept(Tok.ARROW) else None
        body = yield from self.block("the function body")
        self.type_scopes.pop()
        self.scopes.pop()
        return Function(params, body, ret, type_params, attrs, span=self.span_from(start))

    def params(self) -> tuple[list[Var], DictAttrs | None]:
        self.expect(Tok.LPAREN, "to open the parameters")
        params: list[Var] = []
        names: set[str] = set()
        attrs: DictAttrs | None = None
        while not self.accept(Tok.RPAREN):
            tok = self.peek()
            if tok.kind is Tok.IDENT and self.peek(1).kind is Tok.EQUAL:
                attrs = self.dict_attrs(self.attr_items())
                self.expect(Tok.RPAREN, "after the attributes of a function")
                break
            if tok.kind is not Tok.LOCAL:
                raise self.unexpected(
                    [Tok.LOCAL, "an attribute `key=value`", Tok.RPAREN], "in the parameters"
                )
            var = self.binder("as a parameter")
            if var.name_hint in names:
                self.error(tok, f"the parameter `%{var.name_hint}` is declared twice")
            names.add(var.name_hint)
            self.scopes.bind(var.name_hint, var)
            params.append(var)
            if not self.accept(Tok.COMMA) and self.peek().kind is not Tok.RPAREN:
                raise self.unexpected([Tok.COMMA, Tok.RPAREN], "in the parameters")
        return params, attrs
