"""Types in the Relay text format.

TVM: ``Parser::ParseType``, ``ParseShape``, ``ParseFunctionType`` in
``src/relay/parser/parser.cc``::

    type      ::= '(' ')' | '(' type (',' type)* ','? ')'            tuple type
                | 'fn' ('[' IDENT (',' IDENT)* ']')? '(' types? ')' '->' type
                | 'Tensor' '[' '(' (dim (',' dim)* ','?)? ')' ',' dtype ']'
                | 'ref' '(' type ')'                              reference type
                | IDENT                                           type variable
                | IDENT ('[' (type (',' type)* ','?)? ']')?       ADT, ``List[A]``
                | dtype                                           rank-0 tensor
                | '_'                                             incomplete type
    dim       ::= INTEGER

As in TVM, ``(T)`` is a one-field tuple type, and an ADT named without arguments is applied to
none (``nat`` is ``nat[]``). ADT names are those of the text's type definitions (all of them,
wherever they stand, so a type may refer to one defined later) and of the initial module;
a type variable in scope shadows an ADT of the same name. minitvm adds type parameters to
function types (``fn [A](A) -> A``, which its printer writes) and reads the reference types
its printer writes (``ref(T)``), which TVM's parser does not. Shapes are static, so ``?`` and
symbolic dimensions are errors, and so are the vector dtypes (``int8x4``) minitvm does not
have.
Tuple and function types nest without limit: the steps run on ``drive``'s explicit stack.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeAlias

from minitvm.error import DiagnosticError
from minitvm.ir.type import (
    FuncType,
    GlobalTypeVar,
    IncompleteType,
    RelayRefType,
    TensorType,
    TupleType,
    Type,
    TypeCall,
    TypeKind,
    TypeVar,
)
from minitvm.relay.parser.cursor import Cursor, drive
from minitvm.relay.parser.diagnostics import Diagnostics
from minitvm.relay.parser.scopes import ScopeStack
from minitvm.relay.parser.tokens import Tok, Token
from minitvm.runtime.dtype import DTYPES, check_dtype

__all__ = ["TypeParser"]

TypeStep: TypeAlias = Generator["TypeStep", Type, Type]

_DTYPE_PREFIXES = ("int", "uint", "float", "bool", "bfloat")


class TypeParser(Cursor):
    """Parses types; type variables are looked up in ``type_scopes``."""

    def __init__(self, tokens: list[Token], diags: Diagnostics) -> None:
        super().__init__(tokens, diags)
        self.type_scopes: ScopeStack[TypeVar] = ScopeStack()
        self.type_names: dict[str, GlobalTypeVar] = {}
        """The ADTs the text may name: the initial module's and the text's own."""

    def parse_type(self) -> Type:
        return drive(self.type_step())

    def bind_type_params(self) -> list[TypeVar]:
        """``[A, B]``: new type variables, bound in the current type scope."""
        self.expect(Tok.LBRACKET)
        params: list[TypeVar] = []
        names: set[str] = set()
        while not self.accept(Tok.RBRACKET):
            tok = self.expect(Tok.IDENT, "naming a type parameter")
            if tok.name in names:
                self.error(tok, f"type parameter `{tok.name}` is declared twice")
            names.add(tok.name)
            tv = TypeVar(tok.name, TypeKind.Type, span=self.token_span(tok))
            self.type_scopes.bind(tok.name, tv)
            params.append(tv)
            if not self.accept(Tok.COMMA):
                self.expect(Tok.RBRACKET, "to close the type parameters")
                break
        return params

    def type_step(self) -> TypeStep:
        tok = self.peek()
        start = self.pos
        if tok.kind is Tok.LPAREN:
            self.advance()
            fields: list[Type] = []
            while not self.accept(Tok.RPAREN):
                fields.append((yield self.type_step()))
                if not self.accept(Tok.COMMA):
                    self.expect(Tok.RPAREN, "to close the tuple type")
                    break
            return TupleType(fields, span=self.span_from(start))
        if tok.kind is Tok.FN:
            return (yield from self.func_type())
        if tok.kind is Tok.REF:
            self.advance()
            self.expect(Tok.LPAREN, "after `ref` in a reference type")
            value = yield self.type_step()
            self.expect(Tok.RPAREN, "to close the reference type")
            return RelayRefType(value, span=self.span_from(start))
        if tok.kind is Tok.UNDERSCORE:
            self.advance()
            return IncompleteType(span=self.token_span(tok))
        if tok.kind is Tok.IDENT:
            self.advance()
            if tok.name == "Tensor":
                return self.tensor_type(start)
            adt = self.type_names.get(tok.name)
            if adt is not None and self.type_scopes.lookup(tok.name) is None:
                return (yield from self.adt_type(adt, start))
            return self.named_type(tok)
        raise self.unexpected(["a type"])

    def adt_type(self, adt: GlobalTypeVar, start: int) -> TypeStep:
        """An ADT after its name: ``[args]``, or nothing (no arguments)."""
        args: list[Type] = []
        if self.accept(Tok.LBRACKET):
            while not self.accept(Tok.RBRACKET):
                args.append((yield self.type_step()))
                if not self.accept(Tok.COMMA):
                    self.expect(Tok.RBRACKET, "to close the type arguments")
                    break
        return TypeCall(adt, args, span=self.span_from(start))

    def func_type(self) -> TypeStep:
        start = self.pos
        self.expect(Tok.FN)
        self.type_scopes.push()
        params = self.bind_type_params() if self.peek().kind is Tok.LBRACKET else []
        self.expect(Tok.LPAREN, "to open the argument types of a function type")
        args: list[Type] = []
        while not self.accept(Tok.RPAREN):
            args.append((yield self.type_step()))
            if not self.accept(Tok.COMMA):
                self.expect(Tok.RPAREN, "to close the argument types")
                break
        self.expect(Tok.ARROW, "before the return type of a function type")
        ret = yield self.type_step()
        self.type_scopes.pop()
        return FuncType(args, ret, params, span=self.span_from(start))

    def tensor_type(self, start: int) -> Type:
        self.expect(Tok.LBRACKET, "after `Tensor`")
        self.expect(Tok.LPAREN, "to open the shape")
        dims: list[int] = []
        while not self.accept(Tok.RPAREN):
            dims.append(self.dimension())
            if not self.accept(Tok.COMMA):
                self.expect(Tok.RPAREN, "to close the shape")
                break
        self.expect(Tok.COMMA, "between the shape and the dtype")
        dtype_tok = self.expect(Tok.IDENT, "naming the dtype")
        dtype = self.dtype(dtype_tok)
        self.expect(Tok.RBRACKET, "to close the tensor type")
        return TensorType(dims, dtype, span=self.span_from(start))

    def dimension(self) -> int:
        tok = self.peek()
        if tok.kind is Tok.INTEGER:
            self.advance()
            value = int(tok.number)
            if value < 0:
                self.error(tok, f"a dimension must be non-negative, found {value}")
                return 0
            return value
        if tok.kind is Tok.QUESTION or tok.kind is Tok.META:
            self.advance()
            self.error(
                tok, f"dynamic dimension {tok.describe()}: minitvm's shapes are static integers"
            )
            return 0
        raise self.unexpected(["a dimension (an integer)"])

    def dtype(self, tok: Token) -> str:
        try:
            return check_dtype(tok.name)
        except DiagnosticError:
            self.error(tok, f"unknown dtype `{tok.name}`; minitvm has {', '.join(DTYPES)}")
            return "float32"

    def named_type(self, tok: Token) -> Type:
        """A scalar dtype (a rank-0 tensor type) or a type variable in scope."""
        name = tok.name
        if name == "int" or name in DTYPES or name.startswith(_DTYPE_PREFIXES):
            return TensorType((), self.dtype(tok), span=self.token_span(tok))
        tv = self.type_scopes.lookup(name)
        if tv is not None:
            return tv
        self.error(
            tok,
            f"unknown type `{name}`: not a dtype, a type parameter in scope or a type the "
            "text or the initial module defines",
        )
        return IncompleteType(span=self.token_span(tok))
