"""PARSE: printing and parsing back, deep and large texts, AnnotateSpans, the standard library
and the command line."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.cli import main as minitvm_main
from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.node import Span
from minitvm.ir.op import Op, OpDef, register_op
from minitvm.relay.parser import cli, std
from minitvm.relay.printer import astext
from minitvm.tir import FloatImm, IntImm

SEMVER = '#[version = "0.0.5"]\n'
F32 = relay.scalar_type("float32")
I32 = relay.scalar_type("int32")
_ANNOTATED = (
    relay.Constant,
    relay.Call,
    relay.Var,
    relay.Function,
    relay.Tuple,
    relay.TupleGetItem,
)


def type_comment(expr: relay.Expr) -> str:
    """The printer's default comment without its span part (parsed nodes have spans)."""
    if isinstance(expr, _ANNOTATED) and expr.checked_type_ is not None:
        return f" /* ty={expr.checked_type_} */"
    return ""


def roundtrip_expr(expr: relay.Expr) -> relay.Expr:
    """``parse_expr(astext(e))`` equals ``e`` and prints as ``e`` does (spans aside)."""
    text = astext(expr)
    parsed = relay.parse_expr(text)
    tvm.ir.assert_structural_equal(parsed, expr, map_free_vars=True)
    assert astext(parsed, annotate=type_comment) == astext(expr, annotate=type_comment)
    return parsed


def roundtrip_module(mod: tvm.IRModule) -> tvm.IRModule:
    """``parse(astext(m))`` equals ``m`` type checked, and prints as it does (spans aside)."""
    typed = relay.transform.InferType()(mod)
    parsed = relay.parse(astext(typed))
    tvm.ir.assert_structural_equal(parsed, typed, map_free_vars=True)
    assert astext(parsed, annotate=type_comment) == astext(typed, annotate=type_comment)
    return parsed


@dataclasses.dataclass(frozen=True, slots=True)
class RoundAttrs(Attrs):
    strides: tuple[int, ...] = (1, 1)
    channels: int | None = None
    layout: str = "NCHW"
    epsilon: float = 1e-5
    use_bias: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class OtherRoundAttrs(Attrs):
    axis: int = -1


def _op(name: str, attrs_type: type[Attrs] | None = None) -> Op:
    try:
        return Op.get(name)
    except tvm.error.TVMError:
        return register_op(OpDef(name, attrs_type=attrs_type))


CONV = _op("roundtrip.conv", RoundAttrs)


# --- PARSE-18: round trip -----------------------------------------------------------------


def _functions() -> list[relay.Expr]:
    p0 = relay.var("p0", shape=(2, 2))
    p1 = relay.var("p1")
    with_attrs = relay.Function([p0, p1], relay.add(p0, p1), relay.TensorType((2, 2)))
    with_attrs = with_attrs.with_attr("Primitive", 1).with_attr("Compiler", "ccompiler")
    x, y = relay.var("x"), relay.var("y")
    null_attr = relay.Function([x], y).with_attr("TestAttribute", None)
    a, b = relay.TypeVar("A"), relay.TypeVar("B")
    v = relay.var("v", relay.TupleType([a, b]))
    poly = relay.Function([v], relay.TupleGetItem(v, 0), a, [a, b])
    return [with_attrs, null_attr, poly, relay.Function([], relay.Tuple([]))]


def _graphs() -> list[relay.Expr]:
    x, y = relay.var("x"), relay.var("y")
    order = relay.Call(
        relay.Function([x], x), [relay.Call(relay.Function([y], y), [relay.const(1)])]
    )
    tup = relay.Tuple([relay.const(0), relay.const(0)])
    t = relay.var("t")
    xs = relay.var("x", shape=(3, 2))
    z = relay.add(xs, relay.const(10e10, "float32"))
    z = relay.add(z, z)
    shared = relay.Function([xs], relay.Tuple([z, relay.Tuple([xs])]))
    xf, c = relay.var("x", "float32"), relay.var("c", "bool")
    twice = relay.add(xf, xf)
    across = relay.Function([xf, c], relay.If(c, relay.add(twice, xf), relay.add(twice, twice)))
    p = relay.var("p", "float32")
    inner = relay.Function([p], relay.add(relay.add(p, p), p)).with_attr("Primitive", 1)
    nested = relay.Function([xf], relay.add(relay.Call(inner, [xf]), xf))
    return [order, relay.Let(t, tup, tup), relay.Let(t, tup, t), shared, across, nested]


def _scopes() -> list[relay.Expr]:
    x, y = relay.var("x", "float32"), relay.var("y", "float32")
    cond = relay.var("cond", "bool")
    sb = relay.ScopeBuilder()
    with sb.if_scope(cond):
        v1 = sb.let("v", relay.const(1, "float32"))
        v2 = sb.let("v", x)
        sb.ret(relay.add(v1, v2))
    with sb.else_scope():
        v3 = relay.var("v")
        let2 = relay.Let(v3, y, v3)
        sb.ret(relay.add(let2, let2))
    scope_builder = relay.Function([x, y, cond], sb.get())
    q = relay.var("q")
    ite = relay.If(relay.equal(cond, cond), relay.add(x, x), relay.Let(q, relay.add(x, x), q))
    a, bb = relay.var("a"), relay.var("b")
    t = relay.Tuple([x, x])
    chain = relay.Let(a, relay.add(x, x), relay.Let(bb, relay.Tuple([a, t]), relay.Tuple([bb, t])))
    xi = relay.var("x", "int32")
    in_arg = relay.add(relay.Let(xi, relay.const(1), xi), relay.const(2))
    xs, ys = relay.var("x", shape=(3, 2)), relay.var("y")
    free = relay.add(xs, relay.Call(relay.Function([ys], relay.add(xs, ys)), [xs]))
    return [
        scope_builder,
        relay.Function([x, cond], relay.add(ite, ite)),
        relay.Function([x], chain),
        in_arg,
        free,
    ]


def _names_and_constants() -> list[relay.Expr]:
    names = relay.Tuple(
        [relay.var(n) for n in ["1", "x", "x", "x1", "", "_a", "base/x.y", "é", "l.0.w"]]
    )
    scalars = relay.Tuple(
        [
            relay.const(42, "int16"),
            relay.const(-42, "int32"),
            relay.const(2**40, "int64"),
            relay.const(3.0, "float16"),
            relay.const(0.1, "float32"),
            relay.const(-2.5, "float64"),
            relay.const(1e-5, "float32"),
            relay.const(math.inf, "float32"),
            relay.const(-0.0, "float32"),
            relay.const(True),
            relay.const(False),
        ]
    )
    arrays = relay.Tuple(
        [
            relay.const(np.arange(6, dtype="float64").reshape(2, 3) / 7, "float64"),
            relay.const(np.array([-1, 2**40], "int64"), "int64"),
            relay.const(np.array([True, False])),
            relay.const(7, "uint8"),
            relay.const(np.array([[0.1, np.inf], [-np.inf, 3.0]], "float16"), "float16"),
        ]
    )
    return [names, scalars, arrays]


def _attrs() -> list[relay.Expr]:
    x, w = relay.var("x", shape=(1, 3, 8, 8)), relay.var("w")
    conv = relay.Call(
        CONV,
        [x, w],
        RoundAttrs(strides=(2, 2), channels=2, layout='N"C\\H\tW\né', epsilon=0.001, use_bias=True),
    )
    default = relay.Call(CONV, [x, w], RoundAttrs())
    odd = relay.Call(CONV, [x], OtherRoundAttrs(axis=2))
    p = relay.var("p")
    keyed = relay.Call(relay.Function([p], p), [x], OtherRoundAttrs(axis=0))
    xs = relay.var("x", shape=(2, 3))
    builtins = relay.Tuple(
        [
            relay.cast(xs, "int64"),
            relay.clip(xs, -1.0, 1.5),
            relay.clip(xs, -math.inf, math.inf),
            relay.shape_of(xs),
            relay.nn.softmax(xs, axis=0),
            relay.reshape(xs, (3, -1)),
        ]
    )
    values = relay.Function([], relay.Tuple([])).with_attr(
        {
            "i": 1,
            "big": 2**40,
            "b": True,
            "fl": 0.25,
            "s": 'a"b',
            "n": None,
            "lst": [1, [2, 3]],
            "i16": IntImm("int16", 4),
            "i64": IntImm("int64", 5),
            "f64": FloatImm("float64", 0.5),
            "f16": FloatImm("float16", 1.5),
            "relay.reshape_only": 1,
        }
    )
    a = relay.TypeVar("A")
    objects = relay.Function([], relay.Tuple([])).with_attr(
        {
            "g": relay.GlobalVar("callee"),
            "a": OtherRoundAttrs(axis=3),
            "t": relay.TensorType((2,), "int8"),
            "f": relay.FuncType([a], a, [a]),
        }
    )
    return [conv, default, odd, keyed, builtins, values, objects]


def _types() -> list[relay.Expr]:
    a = relay.TypeVar("A")
    types: list[relay.Type] = [
        relay.TensorType((), "bool"),
        relay.TensorType((1, 32, 32, 3)),
        relay.TensorType((3,), "int8"),
        relay.TupleType([]),
        relay.TupleType([I32]),
        relay.TupleType([I32, relay.TupleType([F32, I32])]),
        relay.FuncType([I32, I32], I32),
        relay.FuncType([], relay.TupleType([])),
        relay.IncompleteType(),
    ]
    exprs: list[relay.Expr] = [relay.Tuple([relay.var("x", ty) for ty in types])]
    b = relay.TypeVar("B")
    f = relay.var("f", relay.FuncType([b], b, [b]))
    ya = relay.var("y", a)
    exprs.append(relay.Function([f, ya], relay.Call(f, [ya]), a, [a]))
    return exprs


CORPUS: dict[str, Callable[[], list[relay.Expr]]] = {
    "functions": _functions,
    "graphs": _graphs,
    "scopes": _scopes,
    "names_and_constants": _names_and_constants,
    "attrs": _attrs,
    "types": _types,
}


@pytest.mark.spec("PARSE-18")
@pytest.mark.parametrize("family", sorted(CORPUS))
def test_expressions_round_trip(family: str) -> None:
    for expr in CORPUS[family]():
        roundtrip_expr(expr)


@pytest.mark.spec("PARSE-2", "PARSE-18", "TXT-7")
def test_a_free_variable_first_used_in_a_let_value_reads_back() -> None:
    # The printer declares the free variable where it is first used, inside the let chain
    # written as the value of the outer let; the parser accepts the declaration there.
    zero = relay.const(np.int16(0))
    free = relay.Var("x")
    expr = relay.Let(relay.Var("x"), relay.Let(relay.Var("A"), zero, free), zero)
    text = astext(expr)
    assert "free_var %x1;" in text
    parsed = relay.parse_expr(text)
    tvm.ir.assert_structural_equal(parsed, expr, map_free_vars=True)
    assert astext(parsed, annotate=type_comment) == astext(expr, annotate=type_comment)


@pytest.mark.spec("PARSE-18")
def test_shared_nodes_and_metadata_keep_their_identity() -> None:
    c = relay.const([1.0, 2.0])
    x = relay.var("x", shape=(2,))
    t = relay.add(x, c)
    parsed = roundtrip_expr(relay.Tuple([t, t, c, c]))
    assert isinstance(parsed, relay.Tuple)
    assert parsed.fields[0] is parsed.fields[1]
    assert parsed.fields[2] is parsed.fields[3]


@pytest.mark.spec("PARSE-18")
def test_typed_modules_round_trip() -> None:
    x, y = relay.var("x", shape=(2, 3)), relay.var("y", shape=(2, 3))
    z = relay.add(x, relay.const(np.arange(6, dtype="float32").reshape(2, 3)))
    body = relay.Tuple([relay.multiply(z, z), relay.nn.relu(y), relay.clip(x, -1.0, 2.0)])
    mod = tvm.IRModule.from_expr(relay.Function([x, y], body))
    a = relay.TypeVar("A")
    p = relay.var("p", a)
    mod["id"] = relay.Function([p], p, a, [a])
    q = relay.var("q", "int32")
    gv = mod.get_global_var("id")
    mod["use"] = relay.Function([q], relay.Call(gv, [q]), I32)
    n = relay.var("n", "int32")
    count = relay.GlobalVar("count")
    mod[count] = relay.Function(
        [n],
        relay.If(
            relay.equal(n, relay.const(0)),
            n,
            relay.Call(count, [relay.subtract(n, relay.const(1))]),
        ),
        I32,
    )
    parsed = roundtrip_module(mod)
    assert "/* ty=" in astext(parsed)
    mod2 = tvm.IRModule.from_expr(relay.Function([x], relay.nn.softmax(x, axis=0)))
    roundtrip_module(mod2)


@pytest.mark.spec("PARSE-18", "TXT-9")
def test_float_scalars_read_back_exact() -> None:
    # TVM prints 6 significant digits and rounds 1/3 to 0.333333; minitvm keeps every digit
    # the value needs, and six when six suffice.
    exact = relay.const(0.333333, "float32")
    assert astext(exact).endswith("0.333333f")
    roundtrip_expr(exact)
    third = relay.const(1 / 3, "float32")
    assert astext(third).endswith("0.33333334f")
    roundtrip_expr(third)
    x = relay.var("x", shape=(2,))
    roundtrip_expr(relay.nn.leaky_relu(x, alpha=0.5859375 + 2**-40))


# --- PARSE-17: deep and large texts -------------------------------------------------------


def _call_chain_depth(expr: relay.Expr) -> int:
    depth = 0
    while isinstance(expr, relay.Call):
        depth += 1
        expr = expr.args[0]
    return depth


@pytest.mark.slow
@pytest.mark.spec("PARSE-17")
def test_deeply_nested_expression() -> None:
    assert sys.getrecursionlimit() <= 10_000
    depth = 100_000
    parsed = relay.parse_expr("add(" * depth + "1" + ", 2)" * depth)
    assert _call_chain_depth(parsed) == depth
    assert isinstance(parsed, relay.Call)
    assert parsed.span == Span("string", 1, 1, 1, 8 * depth + 2)


@pytest.mark.slow
@pytest.mark.spec("PARSE-17")
def test_large_graph() -> None:
    # TVM's test_large_graph: 90,000 lines of graph bindings.
    x = relay.var("x", shape=(3, 2))
    one = relay.const(10e10, dtype="float32")
    z = relay.add(x, one)
    for _ in range(90_000):
        z = relay.add(z, one)
    func = relay.Function([x], z)
    text = astext(func)
    assert text.count("\n") == 90_003
    parsed = relay.parse_expr(text)
    assert isinstance(parsed, relay.Function)
    assert _call_chain_depth(parsed.body) == 90_001
    tvm.ir.assert_structural_equal(parsed, func, map_free_vars=True)


@pytest.mark.spec("PARSE-17")
def test_other_nestings_and_chains() -> None:
    depth = 3_000
    parens = relay.parse_expr("(" * depth + "1" + ")" * depth)
    assert isinstance(parens, relay.Constant)
    funcs = relay.parse_expr("fn () {" * depth + "1" + "}" * depth)
    for _ in range(depth):
        assert isinstance(funcs, relay.Function)
        funcs = funcs.body
    ifs = relay.parse_expr("if (True) {" * depth + "1" + "} else { 2 }" * depth)
    for _ in range(depth):
        assert isinstance(ifs, relay.If)
        ifs = ifs.true_branch
    lets = relay.parse_expr("(let %x = 1; " * depth + "%x" + ")" * depth)
    for _ in range(depth):
        assert isinstance(lets, relay.Let)
        lets = lets.body
    tuple_type = relay.parse_expr("let %t: " + "(" * depth + "int32" + ",)" * depth + " = 1; %t")
    assert isinstance(tuple_type, relay.Let)
    chain = relay.parse_expr("let %x = 1;\n" * 20_000 + "%x")
    count = 0
    while isinstance(chain, relay.Let):
        count += 1
        chain = chain.body
    assert count == 20_000
    seq = relay.parse_expr("(); " * 10_000 + "1")
    assert isinstance(seq, relay.Let)
    long_sum = relay.parse_expr("1" + " + 1" * 10_000)
    assert _call_chain_depth(long_sum) == 10_000


@pytest.mark.spec("PARSE-17")
def test_text_is_never_evaluated() -> None:
    with pytest.raises(DiagnosticError, match="unknown operator `__import__`"):
        relay.parse_expr('__import__("os")')
    entry = '{"x": [{"type_key": "x", "class": "builtins.eval", "fields": {}}]}'
    with pytest.raises(DiagnosticError, match=r"unknown class `builtins\.eval`"):
        relay.parse_expr("meta[x][0]\n#[metadata]\n" + entry)


# --- PARSE-19: AnnotateSpans --------------------------------------------------------------


@pytest.mark.spec("PARSE-19")
def test_annotate_spans() -> None:
    x = relay.var("x", shape=(3, 4), dtype="float32")
    y = relay.clip(x, -np.inf, np.inf)
    mod = tvm.IRModule.from_expr(relay.Function([x], y))
    annotated = relay.transform.AnnotateSpans()(mod)
    main = annotated["main"]
    assert isinstance(main, relay.Function)
    assert main.span is not None
    assert main.span.source_name == "GeneratedSource"
    assert isinstance(main.body, relay.Call)
    assert main.body.span == Span("GeneratedSource", 3, 3, 3, 36)
    assert main.checked_type_ is not None
    typed = relay.transform.InferType()(mod)
    tvm.ir.assert_structural_equal(annotated, typed)
    assert tvm.transform.get_pass("AnnotateSpans").info.name == "AnnotateSpans"


# --- PARSE-20: the standard library -------------------------------------------------------


@pytest.mark.spec("PARSE-20")
def test_import_from_std(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # TVM's four standard library files are shipped.
    with pytest.raises(
        DiagnosticError,
        match=r"no standard library file 'grad\.rly' "
        r"\(available: core\.rly, gradient\.rly, nat\.rly, prelude\.rly\)",
    ):
        tvm.IRModule().import_from_std("grad.rly")
    lib = tmp_path / "mylib.rly"
    lib.write_text(SEMVER + "def @id[A](%x: A) -> A {\n  %x\n}\n")
    monkeypatch.setattr(std, "STD_DIR", tmp_path)
    mod = tvm.IRModule()
    x = relay.var("x", "int32")
    mod["main"] = relay.Function([x], relay.Call(relay.GlobalVar("id"), [x]))
    typed = mod.import_from_std("mylib.rly")
    assert "id" in mod
    assert "id" in typed
    ident = mod["id"]
    assert isinstance(ident, relay.Function)
    assert ident.span is not None
    assert ident.span.source_name == "mylib.rly"
    assert typed["main"].checked_type == relay.FuncType([I32], I32)
    # Imported once: a changed file is not read again, by the module or a copy of it.
    lib.write_text(SEMVER + "def @id(%x: float32) -> float32 {\n  %x\n}\n")
    mod.import_from_std("mylib.rly")
    mod.copy().import_from_std("mylib.rly")
    assert mod["id"] is ident
    fresh = tvm.IRModule()
    fresh.import_from_std("mylib.rly")
    assert fresh["id"].checked_type == relay.FuncType([F32], F32)
    with pytest.raises(
        DiagnosticError, match=r"no standard library file 'other.rly' \(available: mylib.rly\)"
    ):
        mod.import_from_std("other.rly")
    # type_check=False: the module itself, its new definition as the file spells it
    untyped = tvm.IRModule()
    assert untyped.import_from_std("mylib.rly", type_check=False) is untyped
    assert untyped["id"].checked_type_ is None
    assert relay.transform.InferType()(untyped)["id"].checked_type == relay.FuncType([F32], F32)
    with pytest.raises(DiagnosticError, match="no standard library file"):
        mod.import_from_std("../mylib.rly")


# --- PARSE-21: the command line -----------------------------------------------------------


@pytest.mark.spec("PARSE-21")
def test_check_and_opt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.rly"
    good.write_text(
        SEMVER + "def @main(%x: float32) -> float32 {\n  let %unused = 1;\n  add(%x, %x)\n}\n"
    )
    assert cli.main_check([str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(SEMVER + "def @main(%x: float32 /* ty=float32")
    assert "let %unused" in out
    code = cli.main_opt([str(good), "--passes", "DeadCodeElimination", "--opt-level", "3"])
    assert code == 0
    assert "let %unused" not in capsys.readouterr().out
    bad = tmp_path / "bad.rly"
    bad.write_text(SEMVER + "def @main(%x: float32) {\n  add(%x %x)\n}\n")
    assert cli.main_check([str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{bad}:3:10: expected `,` or `)` in the arguments of a call")
    ill_typed = tmp_path / "ill.rly"
    ill_typed.write_text(SEMVER + "def @main(%x: float32) -> int32 {\n  %x\n}\n")
    assert cli.main_check([str(ill_typed)]) == 1
    assert "int32" in capsys.readouterr().err
    assert cli.main_check([str(tmp_path / "missing.rly")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert cli.main_opt([str(good), "--passes", "NoSuchPass"]) == 2
    assert "NoSuchPass" in capsys.readouterr().err
    assert cli.main_opt([str(good)]) == 2
    assert cli.main_check([]) == 2
    assert cli.main_check(["--help"]) == 0
    capsys.readouterr()
    # The same through the `minitvm` command.
    assert minitvm_main(["check", str(good)]) == 0
    assert capsys.readouterr().out.startswith(SEMVER + "def @main")
    assert minitvm_main(["opt", str(bad), "--passes", "InferType"]) == 1
    assert minitvm_main(["opt", str(good), "--passes", "InferType", "--opt-level", "x"]) == 2
    capsys.readouterr()
