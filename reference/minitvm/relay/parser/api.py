"""The parser's entry points: ``parse``, ``fromtext``, ``parse_expr``.

TVM: ``python/tvm/relay/parser.py`` and ``ParseModule`` / ``ParseExpr`` / ``InitParser`` in
``src/relay/parser/parser.cc``. A module's text must start with the version header and is
type checked (InferType) after parsing; an expression's need not and is not. The entries of
``init_meta_table`` come after those of the text's ``#[metadata]`` section, so references
in the text count them after the section's. The initial module is not changed: the result
is a new module holding its functions and the parsed ones (a parsed definition replaces the
initial module's function of the same name, as in TVM).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from minitvm.error import DiagnosticError, InternalError
from minitvm.ir.adt import TypeData
from minitvm.ir.expr import GlobalVar
from minitvm.ir.module import IRModule
from minitvm.ir.transform import get_pass
from minitvm.ir.type import GlobalTypeVar
from minitvm.relay.expr import Expr
from minitvm.relay.function import Function
from minitvm.relay.parser.diagnostics import Diagnostics
from minitvm.relay.parser.lexer import Lexed, tokenize
from minitvm.relay.parser.metadata import MetadataError, load_metadata
from minitvm.relay.parser.module_parser import ModuleParser
from minitvm.relay.parser.tokens import Tok

__all__ = ["fromtext", "parse", "parse_expr", "read_module"]


def _source(source: object) -> str:
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8")
        except UnicodeDecodeError:
            raise DiagnosticError("the Relay text is not valid UTF-8") from None
    if not isinstance(source, str):
        raise DiagnosticError(f"the Relay text must be a str, got {type(source).__name__}")
    return source


def _parser(
    source: str,
    source_name: str,
    globals_: dict[str, GlobalVar],
    init_meta_table: Mapping[str, Sequence[object]] | None,
    types: dict[GlobalTypeVar, TypeData] | None = None,
) -> ModuleParser:
    """Tokenize ``source``, read its metadata section and set up a parser over it."""
    diags = Diagnostics(source_name, source)
    lexed: Lexed = tokenize(source, diags)

    def global_var(name: str) -> GlobalVar:
        gv = globals_.get(name)
        if gv is None:
            gv = globals_[name] = GlobalVar(name_hint=name)
        return gv

    meta: dict[str, list[object]] = {}
    if lexed.metadata is not None:
        try:
            meta = load_metadata(lexed.metadata, global_var)
        except MetadataError as err:
            raise diags.fatal(lexed.metadata_line, 1, f"in the metadata section: {err}") from None
    for key, objects in (init_meta_table or {}).items():
        meta.setdefault(str(key), []).extend(objects)
    parser = ModuleParser(lexed.tokens, diags, meta, globals_)
    parser.init_types(types or {})
    return parser


def read_module(
    source: str,
    source_name: str = "from_string",
    init_module: IRModule | None = None,
    init_meta_table: Mapping[str, Sequence[object]] | None = None,
) -> IRModule:
    """``parse`` without type checking: the module exactly as the text spells it."""
    text = _source(source)
    globals_ = {gv.name_hint: gv for gv in init_module.functions} if init_module is not None else {}
    predefined = set(globals_)
    init_types = init_module.type_definitions if init_module is not None else None
    parser = _parser(text, source_name, globals_, init_meta_table, init_types)
    parser.version(required=True)
    types: list[TypeData] = []
    definitions = parser.definitions(predefined, types)
    parser.diags.check()
    functions = parser.resolve_forward([function for _, function in definitions])
    mod = init_module.copy() if init_module is not None else IRModule()
    for data in types:
        mod[data.header] = data
    for (gv, _), function in zip(definitions, functions, strict=True):
        if not isinstance(function, Function):
            raise InternalError(f"@{gv.name_hint} was parsed as a {type(function).__name__}")
        mod[gv] = function
    return mod


def parse(
    source: str,
    source_name: str = "from_string",
    init_module: IRModule | None = None,
    init_meta_table: Mapping[str, Sequence[object]] | None = None,
) -> IRModule:
    """Parse a module (``#[version = "0.0.5"]`` and definitions) and type check it."""
    mod = read_module(source, source_name, init_module, init_meta_table)
    return get_pass("InferType")(mod)


def fromtext(source: str, source_name: str = "from_string") -> IRModule:
    """TVM's older name of ``parse``."""
    return parse(source, source_name)


def parse_expr(source: str, source_name: str = "string") -> Expr:
    """Parse one expression (the version header is optional); no type checking."""
    text = _source(source)
    parser = _parser(text, source_name, {}, None)
    parser.version(required=False)
    expr = parser.parse_expr()
    if parser.peek().kind is not Tok.EOF:
        raise parser.unexpected([Tok.SEMI, Tok.EOF], "after an expression")
    parser.diags.check()
    return parser.resolve_forward([expr])[0]
