"""PARSE: the Relay text parser, checked against expressions built with the Python API.

In TVM's style (``tests/python/relay/test_ir_parser.py``): a text is parsed and compared with
the program the builders make, structurally, free variables mapped.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs
from minitvm.ir.op import Op, OpDef, register_op
from minitvm.tir import FloatImm, IntImm

SEMVER = '#[version = "0.0.5"]\n'
INT32 = relay.scalar_type("int32")
F32 = relay.scalar_type("float32")
UNIT = relay.Tuple([])
X = relay.Var("x")
Y = relay.Var("y")

BINARY_OPS = {
    "*": relay.multiply,
    "/": relay.divide,
    "+": relay.add,
    "-": relay.subtract,
    "<": relay.less,
    ">": relay.greater,
    "<=": relay.less_equal,
    ">=": relay.greater_equal,
    "==": relay.equal,
    "!=": relay.not_equal,
}


def graph_equal(lhs: object, rhs: object) -> bool:
    return tvm.ir.structural_equal(lhs, rhs, map_free_vars=True)


def assert_parses_as(text: str, expected: relay.Expr) -> relay.Expr:
    parsed = relay.parse_expr(text)
    tvm.ir.assert_structural_equal(parsed, expected, map_free_vars=True)
    return parsed


def scalar(text: str) -> object:
    parsed = relay.parse_expr(text)
    assert isinstance(parsed, relay.Constant)
    return parsed.data.numpy().item()


def dtype_of(text: str) -> str:
    parsed = relay.parse_expr(text)
    assert isinstance(parsed, relay.Constant)
    return parsed.data.dtype


def parse_error(text: str, module: bool = False) -> str:
    read = relay.parse if module else relay.parse_expr
    with pytest.raises(DiagnosticError) as info:
        read(text)
    return str(info.value)


@dataclasses.dataclass(frozen=True, slots=True)
class ParsePadAttrs(Attrs):
    """Attrs with one field of each kind the parser converts."""

    width: tuple[int, ...] = (0, 0)
    value: float = 0.0
    mode: str = "constant"
    axis: int | None = None
    keep: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class KeyedAttrs(Attrs):
    type_key = "test.KeyedAttrs"
    name: str = ""


def _op(name: str, attrs_type: type[Attrs] | None = None) -> Op:
    try:
        return Op.get(name)
    except tvm.error.TVMError:
        return register_op(OpDef(name, attrs_type=attrs_type))


PAD = _op("parse_test.pad", ParsePadAttrs)
PLAIN = _op("parse_test.plain")


# --- PARSE-1: entry points ----------------------------------------------------------------


@pytest.mark.spec("PARSE-1")
def test_parse_module_type_checks() -> None:
    mod = relay.parse(SEMVER + "def @id(%x: int32) -> int32 { %x }")
    assert isinstance(mod, tvm.IRModule)
    func = mod["id"]
    assert isinstance(func, relay.Function)
    assert func.checked_type == relay.FuncType([INT32], INT32)
    x = relay.var("x", "int32")
    expected = tvm.IRModule({"id": relay.Function([x], x, INT32)})
    tvm.ir.assert_structural_equal(mod, relay.transform.InferType()(expected))
    assert tvm.parser.parse is not relay.parse
    assert graph_equal(tvm.parser.parse(SEMVER + "def @id(%x: int32) -> int32 { %x }"), mod)
    assert graph_equal(relay.fromtext(SEMVER + "def @id(%x: int32) -> int32 { %x }"), mod)
    assert graph_equal(tvm.parser.fromtext(SEMVER + "def @id(%x: int32) -> int32 { %x }"), mod)
    assert graph_equal(tvm.parser.parse_expr("(1, 2)"), relay.parse_expr("(1, 2)"))


@pytest.mark.spec("PARSE-1")
def test_parse_expr_takes_an_optional_header_and_does_not_type_check() -> None:
    parsed = relay.parse_expr(SEMVER + "1 + 2")
    assert isinstance(parsed, relay.Call)
    assert parsed.checked_type_ is None
    assert graph_equal(parsed, relay.parse_expr("1 + 2"))
    err = parse_error("%x")
    assert err.startswith("string:1:1: ")
    assert relay.parse_expr(b"(1, 2)".decode()) is not None
    assert graph_equal(relay.parse_expr(b"(1, 2)"), relay.Tuple([relay.const(1), relay.const(2)]))  # type: ignore[arg-type]  # UTF-8 bytes are accepted
    with pytest.raises(DiagnosticError, match="must be a str"):
        relay.parse_expr(42)  # type: ignore[arg-type]  # not a text


@pytest.mark.spec("PARSE-1")
def test_init_module_and_meta_table() -> None:
    init = relay.parse(SEMVER + "def @f(%y: Tensor[(2, 3), float32]) { negative(%y) }")
    before = dict(init.functions)
    const = relay.const(np.arange(6, dtype="float32").reshape(2, 3))
    mod = relay.parse(
        SEMVER + "def @main(%x: Tensor[(2, 3), float32]) { add(@f(%x), meta[relay.Constant][0]) }",
        "from_string",
        init,
        {"relay.Constant": [const]},
    )
    assert init.functions == before, "the initial module is not changed"
    gv = init.get_global_var("f")
    assert mod.get_global_var("f") is gv
    main = mod["main"]
    assert isinstance(main, relay.Function)
    assert isinstance(main.body, relay.Call)
    inner = main.body.args[0]
    assert isinstance(inner, relay.Call)
    assert inner.op is gv
    assert tvm.ir.structural_equal(main.body.args[1], const)
    # A parsed definition replaces the initial module's function of the same name.
    replaced = relay.parse(SEMVER + "def @f(%y: int32) { %y }", init_module=init)
    f = replaced["f"]
    assert isinstance(f, relay.Function)
    assert f.params[0].type_annotation == INT32
    # init_meta_table entries come after the text's own.
    text = relay.Tuple([relay.const(np.zeros((2,), "int8"))]).astext()
    extra = relay.const(np.ones((3,), "int8"))
    mod = relay.parse(
        SEMVER
        + "def @g() { (meta[relay.Constant][0], meta[relay.Constant][1]) }\n"
        + text[text.index("#[metadata]") :],
        init_meta_table={"relay.Constant": [extra]},
    )
    g = mod["g"]
    assert isinstance(g, relay.Function)
    assert isinstance(g.body, relay.Tuple)
    first, second = g.body.fields
    assert isinstance(first, relay.Constant)
    assert first.data.numpy().tolist() == [0, 0]
    assert isinstance(second, relay.Constant)
    assert second.data.numpy().tolist() == [1, 1, 1]


# --- PARSE-2, PARSE-3: grammar and lexical structure ---------------------------------------


@pytest.mark.spec("PARSE-2", "PARSE-3")
def test_comments() -> None:
    assert_parses_as("// This is a line comment!\n()", UNIT)
    assert_parses_as("/* This is a block comment!\n still a block comment */ ()", UNIT)
    assert_parses_as("/* block /* comments nest */ still a comment */\n()", UNIT)
    assert_parses_as(
        "(/* inside */ 1, // and here\r\n 2)", relay.Tuple([relay.const(1), relay.const(2)])
    )


@pytest.mark.spec("PARSE-2", "PARSE-3")
def test_names() -> None:
    var = relay.parse_expr("let %foo = (); %foo")
    assert isinstance(var, relay.Let)
    assert isinstance(var.body, relay.Var)
    assert var.body.name_hint == "foo"
    gv = relay.parse_expr("@foo")
    assert isinstance(gv, relay.GlobalVar)
    assert gv.name_hint == "foo"
    op = relay.parse_expr("nn.global_avg_pool2d")
    assert op is Op.get("nn.global_avg_pool2d")
    for name in ("base/x.y", "vé", "_a", "layer1.0.weight"):
        parsed = relay.parse_expr(f"free_var %{name}; %{name}")
        assert isinstance(parsed, relay.Var)
        assert parsed.name_hint == name
    call = relay.parse_expr("free_var %a: float32; free_var %b: float32; %a/%b")
    assert graph_equal(call, relay.divide(relay.var("a", "float32"), relay.var("b", "float32")))


@pytest.mark.spec("PARSE-2")
def test_tuples_and_projections() -> None:
    assert_parses_as("()", UNIT)
    assert_parses_as("(0,)", relay.Tuple([relay.const(0)]))
    assert_parses_as("(0, 1)", relay.Tuple([relay.const(0), relay.const(1)]))
    assert_parses_as("(0, 1, 2,)", relay.Tuple([relay.const(i) for i in range(3)]))
    assert_parses_as("(0)", relay.const(0))
    x = relay.var("x", shape=())
    assert_parses_as(
        "free_var %x: float32; %x((%x,).0, %x)",
        relay.Call(x, [relay.TupleGetItem(relay.Tuple([x]), 0), x]),
    )
    t = relay.var("t", relay.TupleType([INT32, relay.TupleType([INT32, F32])]))
    item = relay.TupleGetItem(relay.TupleGetItem(t, 1), 0)
    assert_parses_as("free_var %t: (int32, (int32, float32)); %t.1.0", item)
    assert_parses_as("free_var %t: (int32, (int32, float32)); (%t).1.0", item)


# --- PARSE-4, PARSE-5, PARSE-6: literals ---------------------------------------------------


@pytest.mark.spec("PARSE-4")
def test_int_literals() -> None:
    assert isinstance(relay.parse_expr("1"), relay.Constant)
    assert scalar("0") == 0
    assert scalar("-100") == -100
    assert scalar("-05") == -5
    assert scalar("9223372036854775807") == 9223372036854775807
    for text, dtype in [("-42i16", "int16"), ("-42i32", "int32"), ("-42i", "int32")]:
        assert_parses_as(text, relay.const(-42, dtype))
    assert_parses_as("-42", relay.const(-42, "int32"))
    assert_parses_as("-42i64", relay.const(-42, "int64"))
    assert_parses_as("2147483647", relay.const(2147483647, "int32"))
    assert_parses_as("2147483648", relay.const(2147483648, "int64"))
    assert dtype_of("-2147483648") == "int32"
    assert dtype_of("-2147483649") == "int64"
    assert "does not fit in int32" in parse_error("2147483648i32")
    assert "does not fit in int16" in parse_error("32768i16")
    assert "does not fit in int64" in parse_error("9223372036854775808")
    assert "invalid numeric suffix `i8`" in parse_error("3i8")
    assert "invalid number `3x`" in parse_error("3x")


@pytest.mark.spec("PARSE-5")
def test_float_and_bool_literals() -> None:
    assert scalar("1.0f") == 1.0
    assert math.isclose(float(str(scalar("1.56667f"))), 1.56667, rel_tol=1e-6)
    assert scalar("-10.0f") == -10.0
    for text, value in [("1e-1f", 1e-1), ("1E-1f", 1e-1), ("1.0e-1f", 0.1), ("1.0E+1f", 10.0)]:
        assert math.isclose(float(str(scalar(text))), value, rel_tol=1e-6)
    assert scalar("1e+1f") == 10.0
    for text, dtype in [("3f16", "float16"), ("3f32", "float32"), ("3f", "float32")]:
        assert_parses_as(text, relay.const(3.0, dtype))
    assert_parses_as("3f64", relay.const(3.0, "float64"))
    assert_parses_as("0.1f64", relay.const(0.1, "float64"))
    assert scalar("inff") == math.inf
    assert scalar("-inff64") == -math.inf
    assert dtype_of("-inff64") == "float64"
    nan = scalar("-nanf16")
    assert isinstance(nan, float)
    assert math.isnan(nan)
    assert math.copysign(1.0, nan) < 0
    assert math.copysign(1.0, float(str(scalar("-0f")))) < 0
    assert "does not fit in float32" in parse_error("3.40283e+38f32")
    assert "does not fit in float16" in parse_error("65505f16")
    assert "needs a suffix, as in `1.5f`" in parse_error("1.5")
    assert_parses_as("True", relay.const(True))
    assert scalar("False") is False


@pytest.mark.spec("PARSE-6")
def test_signs_and_minus() -> None:
    assert scalar("--10") == 10
    assert scalar("---10") == -10
    assert_parses_as("(1, -1)", relay.Tuple([relay.const(1), relay.const(-1)]))
    x = relay.var("x", "int32")
    expected = relay.subtract(x, relay.const(1))
    assert_parses_as("free_var %x: int32; %x -1", expected)
    assert_parses_as("free_var %x: int32; %x-1", expected)
    assert_parses_as("free_var %x: int32; %x - 1", expected)
    assert_parses_as("free_var %x: int32; %x - -1", relay.subtract(x, relay.const(-1)))
    assert_parses_as("(1) -1", relay.subtract(relay.const(1), relay.const(1)))
    assert "expected an expression, found `-`" in parse_error("free_var %x: int32; -%x")


# --- PARSE-7: strings ---------------------------------------------------------------------


@pytest.mark.spec("PARSE-7")
def test_string_escapes() -> None:
    call = relay.parse_expr('parse_test.pad(1, mode="N\\"C\\\\H\\tW\\n\\xC3\\xA9")')
    assert isinstance(call, relay.Call)
    assert isinstance(call.attrs, ParsePadAttrs)
    assert call.attrs.mode == 'N"C\\H\tW\né'
    assert "unknown escape `\\q`" in parse_error('parse_test.pad(1, mode="\\q")')
    assert "not valid UTF-8" in parse_error('parse_test.pad(1, mode="\\xC3")')
    assert "unterminated string literal" in parse_error('parse_test.pad(1, mode="abc)')


# --- PARSE-8: operators -------------------------------------------------------------------


@pytest.mark.spec("PARSE-8")
def test_binary_operators() -> None:
    for text, builder in BINARY_OPS.items():
        assert_parses_as(f"1 {text} 1", builder(relay.const(1), relay.const(1)))


@pytest.mark.spec("PARSE-8")
def test_precedence_and_associativity() -> None:
    assert graph_equal(relay.parse_expr("1 * 1 + 1"), relay.parse_expr("(1 * 1) + 1"))
    assert not graph_equal(relay.parse_expr("1 * 1 + 1"), relay.parse_expr("1 * (1 + 1)"))
    assert graph_equal(
        relay.parse_expr("1 * 1 + 1 < 1 == 1"), relay.parse_expr("(((1 * 1) + 1) < 1) == 1")
    )
    assert graph_equal(
        relay.parse_expr("1 == 1 < 1 + 1 * 1"), relay.parse_expr("1 == (1 < (1 + (1 * 1)))")
    )
    assert graph_equal(relay.parse_expr("1 - 2 - 3"), relay.parse_expr("(1 - 2) - 3"))
    assert graph_equal(relay.parse_expr("8 / 4 * 2"), relay.parse_expr("(8 / 4) * 2"))
    one, two = relay.const(1), relay.const(2)
    f = relay.var("f")
    call = relay.add(relay.Call(f, [one]), relay.TupleGetItem(relay.Tuple([one, two]), 1))
    assert_parses_as("free_var %f; %f(1) + (1, 2).1", call)


# --- PARSE-9: sequences and bindings ------------------------------------------------------


@pytest.mark.spec("PARSE-9")
def test_let_and_sequence() -> None:
    assert_parses_as("let %x = 1; ()", relay.Let(X, relay.const(1), UNIT))
    assert_parses_as(
        "let %x = 1;\nlet %y = 2;\n()",
        relay.Let(X, relay.const(1), relay.Let(Y, relay.const(2), UNIT)),
    )
    seq = assert_parses_as("(); ()", relay.Let(relay.Var(""), UNIT, UNIT))
    assert isinstance(seq, relay.Let)
    assert seq.var.type_annotation is None
    assert_parses_as("let %_ = 1; ()", relay.Let(X, relay.const(1), UNIT))
    x = relay.var("x", "int32")
    assert_parses_as("let %x: int32 = 1; %x", relay.Let(x, relay.const(1), x))
    # A nested let in value position is parenthesized.
    inner = relay.Var("y")
    assert_parses_as(
        "let %x = (let %y = 1; %y); %x",
        relay.Let(X, relay.Let(inner, relay.const(1), inner), X),
    )


@pytest.mark.spec("PARSE-9")
def test_graph_bindings_are_shared_nodes() -> None:
    parsed = assert_parses_as(
        "%0 = (); %1 = 1; (%0, %0, %1)", relay.Tuple([UNIT, UNIT, relay.const(1)])
    )
    assert isinstance(parsed, relay.Tuple)
    assert parsed.fields[0] is parsed.fields[1]
    assert_parses_as("%1 = (); %1", relay.Tuple([]))
    # Global to the text: a temporary bound in one branch is the same node in the other.
    cond = relay.parse_expr("free_var %c: bool; if (%c) { %0 = (1, 2); %0 } else { (%0, %0) }")
    assert isinstance(cond, relay.If)
    assert isinstance(cond.false_branch, relay.Tuple)
    assert cond.false_branch.fields[0] is cond.true_branch
    # Used before its binding line, as the printer may write it (TXT-4, TXT-5).
    forward = relay.parse_expr("%1 = (%0, 2); %0 = (1,); (%1, %0)")
    assert isinstance(forward, relay.Tuple)
    first, second = forward.fields
    assert isinstance(first, relay.Tuple)
    assert first.fields[0] is second
    assert "`%0` is never defined" in parse_error("(%0, 1)")
    assert "`%1` is bound to a node using it" in parse_error("%0 = (%1,); %1 = (%0,); %1")
    assert "`%0` is defined twice" in parse_error("%0 = 1; %0 = 2; %0")
    assert "expected `;` after a graph binding" in parse_error("%0 = 1 %0")


# --- PARSE-10: scoping --------------------------------------------------------------------


@pytest.mark.spec("PARSE-10")
def test_if_branches_are_scopes() -> None:
    assert_parses_as(
        "if (True) { 0 } else { 1 }",
        relay.If(relay.const(True), relay.const(0), relay.const(1)),
    )
    err = parse_error("if (True) {\n  let %x = ();\n  ()\n} else {\n  %x\n}")
    assert err.startswith("string:5:3: the local variable `%x` is not in scope")
    assert "not in scope" in parse_error("{ let %x = 1; %x }; %x")
    assert "not in scope" in parse_error("(fn (%x) { %x }, %x)")


@pytest.mark.spec("PARSE-10")
def test_shadowing_and_recursive_lets() -> None:
    x1, x2 = relay.Var("x"), relay.Var("x")
    expected = relay.Let(x1, relay.const(1), relay.Let(x2, relay.add(x1, relay.const(1)), x2))
    assert_parses_as("let %x = 1; let %x = %x + 1; %x", expected)
    f, x = relay.Var("f"), relay.Var("x")
    rec = relay.Let(f, relay.Function([x], relay.Call(f, [x])), f)
    assert_parses_as("let %f = fn (%x) { %f(%x) }; %f", rec)
    p1, p2 = relay.Var("p"), relay.Var("p")
    nested = relay.Function([p1], relay.Function([p2], relay.add(p2, p1)))
    assert not graph_equal(relay.parse_expr("fn (%p) { fn (%p) { %p + %p } }"), nested)


@pytest.mark.spec("PARSE-10")
def test_free_vars() -> None:
    parsed = relay.parse_expr("free_var %x: Tensor[(2), int8]; free_var %y; (%x, %y)")
    assert isinstance(parsed, relay.Tuple)
    x, y = parsed.fields
    assert isinstance(x, relay.Var)
    assert x.type_annotation == relay.TensorType((2,), "int8")
    assert isinstance(y, relay.Var)
    assert y.type_annotation is None
    # A bound variable of the same name comes first.
    lam = relay.parse_expr("free_var %x; fn (%x) { %x }")
    assert isinstance(lam, relay.Function)
    assert lam.body is lam.params[0]
    assert "free variable `%x` is declared twice" in parse_error("free_var %x; free_var %x; %x")
    assert "the parameter `%x` is declared twice" in parse_error("fn (%x, %x) { %x }")


@pytest.mark.spec("PARSE-10")
def test_dotted_names_and_projections() -> None:
    # `%t.0` is a variable named "t.0" when one is in scope, else a projection of %t.
    named = relay.parse_expr("free_var %t.0; free_var %t: (int32,); %t.0")
    assert isinstance(named, relay.Var)
    assert named.name_hint == "t.0"
    proj = relay.parse_expr("free_var %t: (int32,); %t.0")
    assert isinstance(proj, relay.TupleGetItem)
    assert proj.index == 0


# --- PARSE-11: calls and attributes -------------------------------------------------------


@pytest.mark.spec("PARSE-11")
def test_calls() -> None:
    f = relay.Var("id")
    assert_parses_as(
        "let %id = fn (%x) { %x }; 10 * %id(10)",
        relay.Let(
            f,
            relay.Function([X], X),
            relay.multiply(relay.const(10), relay.Call(f, [relay.const(10)])),
        ),
    )
    constant = relay.Var("constant")
    assert_parses_as(
        "let %constant = fn () { 0 }; %constant()",
        relay.Let(constant, relay.Function([], relay.const(0)), relay.Call(constant, [])),
    )
    assert_parses_as("(fn (%x) { %x })(0)", relay.Call(relay.Function([X], X), [relay.const(0)]))
    curried = relay.Var("curried_mult")
    assert_parses_as(
        "let %curried_mult = fn (%x) { fn (%y) { %x * %y } };\n"
        "%curried_mult(0);\n"
        "%curried_mult(0)(0)",
        relay.Let(
            curried,
            relay.Function([X], relay.Function([Y], relay.multiply(X, Y))),
            relay.Let(
                relay.Var(""),
                relay.Call(curried, [relay.const(0)]),
                relay.Call(relay.Call(curried, [relay.const(0)]), [relay.const(0)]),
            ),
        ),
    )
    assert_parses_as("abs(1)", relay.Call(Op.get("abs"), [relay.const(1)]))


@pytest.mark.spec("PARSE-11")
def test_call_attrs_are_typed_by_the_attrs_class() -> None:
    call = relay.parse_expr(
        "free_var %x: Tensor[(1, 32, 32, 3), float32];\n"
        "free_var %y: Tensor[(1, 1, 3, 3), float32];\n"
        'nn.conv2d(%x, %y, data_layout="NHWC", kernel_layout="HWIO")'
    )
    assert isinstance(call, relay.Call)
    assert isinstance(call.op, Op)
    assert call.op.name == "nn.conv2d"
    attrs = call.attrs
    assert attrs is not None
    assert attrs["data_layout"] == "NHWC"
    assert attrs["kernel_layout"] == "HWIO"
    x = relay.var("x")
    expected = relay.Call(
        PAD, [x], ParsePadAttrs(width=(1, 2), value=2.0, mode="edge", axis=3, keep=True)
    )
    parsed = assert_parses_as(
        'free_var %x; parse_test.pad(%x, width=[1, 2], value=2, mode="edge", axis=3, keep=True)',
        expected,
    )
    assert isinstance(parsed, relay.Call)
    assert isinstance(parsed.attrs, ParsePadAttrs)
    assert type(parsed.attrs.value) is float
    assert parsed.attrs.width == (1, 2)
    # No entries: the class's defaults; an int 0/1 is a bool.
    assert_parses_as("free_var %x; parse_test.pad(%x)", relay.Call(PAD, [x], ParsePadAttrs()))
    assert_parses_as(
        "free_var %x; parse_test.pad(%x, keep=1, axis=None)",
        relay.Call(PAD, [x], ParsePadAttrs(keep=True)),
    )
    assert_parses_as(
        "clip(1f, a_min=-inff, a_max=1e-05f)", relay.clip(relay.const(1.0), -math.inf, 1e-05)
    )
    assert_parses_as('cast(1, dtype="int64")', relay.cast(relay.const(1), "int64"))


@pytest.mark.spec("PARSE-11")
def test_call_attr_errors() -> None:
    err = parse_error("parse_test.pad(1, bogus=2)")
    assert err.startswith("string:1:19: `bogus` is not an attribute of ParsePadAttrs")
    assert "(its attributes: width, value, mode, axis, keep)" in err
    err = parse_error("parse_test.pad(1, width=[1, 2], axis=[3])")
    assert err.startswith(
        "string:1:33: attribute `axis` of ParsePadAttrs: expected an integer or None"
    )
    assert 'expected a list of integers, found "a"' in parse_error('parse_test.pad(1, width="a")')
    assert "expected a number" in parse_error('parse_test.pad(1, value="a")')
    assert "ReshapeAttrs requires the attribute `newshape`" in parse_error("reshape(1)")
    assert "attribute `mode` is given twice" in parse_error('parse_test.pad(1, mode="a", mode="b")')
    assert "declares no attributes class" in parse_error("parse_test.plain(1, axis=1)")
    assert "expected `)` after the attributes of a call" in parse_error(
        "parse_test.pad(1, axis=1, 2)"
    )
    assert "may nest at most 64 lists deep" in parse_error(
        "parse_test.pad(1, width=" + "[" * 65 + "]" * 65 + ")"
    )


@pytest.mark.spec("PARSE-11")
def test_attrs_of_non_operator_calls_name_their_class() -> None:
    f = relay.Var("f")
    call = relay.parse_expr('free_var %f; %f(1, name="call", attrs_type_key="test.KeyedAttrs")')
    assert graph_equal(call, relay.Call(f, [relay.const(1)], KeyedAttrs(name="call")))
    call = relay.parse_expr(
        'free_var %f; %f(1, mode="edge", attrs_type_key="relay.attrs.ParsePadAttrs")'
    )
    assert isinstance(call, relay.Call)
    assert call.attrs == ParsePadAttrs(mode="edge")
    assert "need `attrs_type_key" in parse_error("free_var %f; %f(1, mode=1)")
    assert "no attrs class has the type key `nope`" in parse_error(
        'free_var %f; %f(1, attrs_type_key="nope")'
    )


# --- PARSE-12: functions and definitions --------------------------------------------------


@pytest.mark.spec("PARSE-12")
def test_functions() -> None:
    assert_parses_as("fn () { 0 }", relay.Function([], relay.const(0)))
    assert_parses_as("fn (%x) { %x }", relay.Function([X], X))
    assert_parses_as("fn (%x, %y) { %x + %y }", relay.Function([X, Y], relay.add(X, Y)))
    x = relay.var("x", "int32")
    assert_parses_as("fn (%x: int32) -> int32 { %x }", relay.Function([x], x, INT32))
    a = relay.TypeVar("A")
    xa = relay.var("x", a)
    assert_parses_as("fn [A](%x: A) -> A { %x }", relay.Function([xa], xa, a, [a]))


@pytest.mark.spec("PARSE-12")
def test_function_attributes() -> None:
    attrs = tvm.ir.make_node("DictAttrs", **{"Primitive": 1, "relay.reshape_only": 1})
    x = relay.var("x", shape=(2, 3))
    func = relay.Function([x], relay.reshape(x, (-1,)), attrs=attrs)
    assert_parses_as(func.astext(), func)
    parsed = relay.parse_expr(
        'fn (i=1, big=1099511627776i64, b=True, fl=0.25f, s="a", n=None, lst=[1, [2, 3]], '
        "i16=4i16, f64=0.5f64) { () }"
    )
    assert isinstance(parsed, relay.Function)
    assert parsed.attrs.items() == [
        ("i", IntImm("int32", 1)),
        ("big", IntImm("int64", 2**40)),
        ("b", IntImm("bool", 1)),
        ("fl", FloatImm("float32", 0.25)),
        ("s", "a"),
        ("n", None),
        ("lst", (IntImm("int32", 1), (IntImm("int32", 2), IntImm("int32", 3)))),
        ("i16", IntImm("int16", 4)),
        ("f64", FloatImm("float64", 0.5)),
    ]
    assert parsed.is_primitive() is False
    assert relay.parse_expr("fn (%x, Primitive=1) { %x }").is_primitive()  # type: ignore[union-attr]


@pytest.mark.spec("PARSE-12")
def test_definitions() -> None:
    mod = relay.parse(SEMVER + "def @id(%x: int32) -> int32 {\n  @id(%x)\n}")
    gv = mod.get_global_var("id")
    func = mod[gv]
    assert isinstance(func, relay.Function)
    assert isinstance(func.body, relay.Call)
    assert func.body.op is gv
    err = parse_error(SEMVER + "def @f() { 1 }\ndef @f() { 2 }", module=True)
    assert err.startswith("from_string:3:5: the global `@f` is defined twice")
    err = parse_error(SEMVER + "def @f() { @g() }", module=True)
    assert err.startswith("from_string:2:12: the global `@g` is not defined")
    expr = relay.parse_expr("(@g, @g)")
    assert isinstance(expr, relay.Tuple)
    assert expr.fields[0] is expr.fields[1]


# --- PARSE-13: types ----------------------------------------------------------------------


@pytest.mark.spec("PARSE-13")
def test_types() -> None:
    def let_typed(ty_text: str, ty: relay.Type, value: relay.Expr = UNIT) -> None:
        assert_parses_as(f"let %_: {ty_text} = (); ()", relay.Let(relay.Var("_", ty), UNIT, UNIT))

    for dtype in (
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint64",
        "float16",
        "float64",
        "bool",
    ):
        let_typed(dtype, relay.scalar_type(dtype))
    let_typed("int", INT32)
    let_typed("Tensor[(), float32]", relay.TensorType((), "float32"))
    let_typed("Tensor[(1), float32]", relay.TensorType((1,), "float32"))
    let_typed("Tensor[(1, 1,), float32]", relay.TensorType((1, 1), "float32"))
    let_typed("()", relay.TupleType([]))
    let_typed("(int32,)", relay.TupleType([INT32]))
    let_typed("(int32)", relay.TupleType([INT32]))
    let_typed("(int32, (float32,))", relay.TupleType([INT32, relay.TupleType([F32])]))
    let_typed("fn () -> int32", relay.FuncType([], INT32))
    let_typed("fn (int32, int32) -> int32", relay.FuncType([INT32, INT32], INT32))
    parsed = relay.parse_expr("let %_: _ = (); ()")
    assert isinstance(parsed, relay.Let)
    assert isinstance(parsed.var.type_annotation, relay.IncompleteType)
    poly = relay.parse_expr("let %f: fn [A](A) -> A = (); %f")
    assert isinstance(poly, relay.Let)
    ty = poly.var.type_annotation
    assert isinstance(ty, relay.FuncType)
    assert len(ty.type_params) == 1
    assert ty.arg_types[0] is ty.type_params[0]
    assert ty.ret_type is ty.type_params[0]


@pytest.mark.spec("PARSE-13", "PARSE-22")
def test_unsupported_types() -> None:
    assert "unknown dtype `int8x4`" in parse_error("let %_: int8x4 = (); ()")
    assert "unknown dtype `float17`" in parse_error("let %_: Tensor[(1), float17] = (); ()")
    assert "dynamic dimension `?`" in parse_error("let %_: Tensor[(?, 1), float32] = (); ()")
    assert "unknown type `List`" in parse_error("let %_: List[int32] = (); ()")
    assert "expected a type, found `;`" in parse_error("let %_: ; ()")


# --- PARSE-14: metadata -------------------------------------------------------------------


@pytest.mark.spec("PARSE-14")
def test_meta_constants_read_back_bit_for_bit() -> None:
    arrays = [
        np.arange(6, dtype="float64").reshape(2, 3) / 7,
        np.array([-1, 2**40], dtype="int64"),
        np.array([True, False, True]),
        np.array(200, dtype="uint8"),
        np.array([[0.1, -0.0], [np.inf, np.nan]], dtype="float16"),
        np.zeros((0, 3), dtype="int8"),
    ]
    consts = [relay.const(a, dtype=str(a.dtype)) for a in arrays]
    tup = relay.Tuple([*consts, consts[0]])
    parsed = relay.parse_expr(tup.astext())
    assert isinstance(parsed, relay.Tuple)
    assert parsed.fields[0] is parsed.fields[-1]
    for field, array in zip(parsed.fields, arrays, strict=False):
        assert isinstance(field, relay.Constant)
        data = field.data.numpy()
        assert data.dtype == array.dtype
        assert data.shape == array.shape
        assert data.tobytes() == array.tobytes()


@pytest.mark.spec("PARSE-14")
def test_meta_attrs_and_attribute_objects() -> None:
    x = relay.var("x")
    odd = relay.Call(
        _op("parse_test.other", KeyedAttrs), [x], ParsePadAttrs(width=(2, 1), value=-math.inf)
    )
    parsed = relay.parse_expr(odd.astext())
    assert isinstance(parsed, relay.Call)
    assert parsed.attrs == odd.attrs
    gv = relay.GlobalVar("callee")
    a, b = relay.TypeVar("A"), relay.TypeVar("B")
    fn_type = relay.FuncType([a, b], a, [a, b])
    f = relay.Function([], UNIT).with_attr({"g": gv, "a": KeyedAttrs(name="k"), "t": fn_type})
    back = relay.parse_expr(f.astext())
    assert isinstance(back, relay.Function)
    assert back.attrs["g"] is not gv
    assert isinstance(back.attrs["g"], relay.GlobalVar)
    assert back.attrs["a"] == KeyedAttrs(name="k")
    t = back.attrs["t"]
    assert isinstance(t, relay.FuncType)
    assert graph_equal(t, fn_type)
    assert t.arg_types[0] is t.type_params[0]


@pytest.mark.spec("PARSE-14")
def test_meta_errors() -> None:
    assert "no entry in the metadata section for `type_key`" in parse_error("meta[type_key][1337]")
    text = relay.const([1, 2]).astext()
    assert "index 1 is out of bounds for `relay.Constant`, which has 1 entries" in parse_error(
        text.replace("[0]\n", "[1]\n", 1)
    )
    head = "meta[relay.Constant][0]\n#[metadata]\n"
    assert "not valid JSON" in parse_error(head + "{")
    assert "`data` holds 4 bytes" in parse_error(
        head + '{"relay.Constant": [{"type_key": "relay.Constant", "dtype": "int32", '
        '"shape": [2], "data": "AAAAAA=="}]}'
    )
    assert "unknown class `os.system`" in parse_error(
        head + '{"relay.Constant": [{"type_key": "x", "class": "os.system", "fields": {}}]}'
    )
    assert "nests too deeply" in parse_error(head + "[" * 100_000)
    assert "TVM's own serialization (SaveJSON)" in parse_error(
        head + '{"root": 1, "nodes": [], "b64ndarrays": [], "attrs": {}}'
    )
    assert "is a TensorType, not an expression" in parse_error(
        relay.Function([], UNIT)
        .with_attr("t", F32)
        .astext()
        .replace("fn (t=meta[relay.TensorType][0]) {\n  ()\n}", "meta[relay.TensorType][0]")
    )
