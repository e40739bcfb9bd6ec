"""TXT: the Relay text printer, checked against golden text in TVM v0.14's format."""

from __future__ import annotations

import base64
import dataclasses
import json
import sys

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.attrs import Attrs
from minitvm.ir.node import Span
from minitvm.ir.op import Op, OpDef, register_op
from minitvm.relay.printer import astext
from minitvm.tir import FloatImm, IntImm

SEMVER = '#[version = "0.0.5"]\n'
F32 = relay.TensorType((), "float32")
I32 = relay.TensorType((), "int32")


@dataclasses.dataclass(frozen=True, slots=True)
class ConvAttrs(Attrs):
    """Attrs shaped like Conv2DAttrs, for an operator of this test module."""

    strides: tuple[int, ...] = (1, 1)
    padding: tuple[int, ...] = (0, 0, 0, 0)
    channels: int | None = None
    kernel_size: tuple[int, ...] | None = None
    data_layout: str = "NCHW"
    epsilon: float = 1e-5
    use_bias: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class OtherAttrs(Attrs):
    axis: int = -1


def _op(name: str, attrs_type: type[Attrs] | None = None) -> Op:
    try:
        return Op.get(name)
    except TVMError:
        return register_op(OpDef(name, attrs_type=attrs_type))


ADD = _op("txt.add")
CONV = _op("txt.conv2d", ConvAttrs)


def add(a: relay.Expr, b: relay.Expr, ty: relay.Type | None = None) -> relay.Call:
    return relay.Call(ADD, [a, b], checked_type_=ty)


def prints_as(obj: relay.Expr | tvm.IRModule, text: str) -> None:
    assert astext(obj) == SEMVER + text


# --- TXT-1: entry points ------------------------------------------------------------------


@pytest.mark.spec("TXT-1")
def test_astext_str_and_metadata_section() -> None:
    c = relay.const([1, 2, 3])
    x = relay.var("x", shape=(3,), dtype="int32")
    e = add(x, c)
    full = e.astext()
    head, section = full.split("#[metadata]\n")
    assert head == (
        SEMVER + "free_var %x: Tensor[(3), int32];\ntxt.add(%x, meta[relay.Constant][0])\n"
    )
    assert '"type_key"' in section
    assert str(e) == "free_var %x: Tensor[(3), int32];\ntxt.add(%x, meta[relay.Constant][0])\n"
    assert e.astext(show_meta_data=False) == (
        SEMVER + "free_var %x: Tensor[(3), int32];\ntxt.add(%x, meta[relay.Constant][0])\n"
        "/* For debugging purposes the metadata section has been omitted.\n"
        " * If you would like to see the full metadata section you can set the \n"
        " * option to `True` when invoking `astext`. \n"
        " */"
    )
    assert repr(e) == str(e)
    # Without metadata, astext is the header and str() the program.
    y = relay.var("y")
    assert y.astext() == SEMVER + "free_var %y;\n%y"
    assert str(y) == "free_var %y;\n%y"


@pytest.mark.spec("TXT-1")
def test_module_astext_and_str() -> None:
    x = relay.var("x", "float32")
    mod = tvm.IRModule({"f": relay.Function([x], relay.const(np.zeros((2,), "float32")))})
    text = "def @f(%x: float32) {\n  meta[relay.Constant][0]\n}\n"
    assert str(mod) == text + "\n"
    assert mod.astext().startswith(SEMVER + text + "\n#[metadata]\n{")
    assert "type_key" in mod.astext()
    assert "type_key" not in str(mod)
    assert astext(tvm.IRModule()) == SEMVER


# --- TXT-2: modules -----------------------------------------------------------------------


@pytest.mark.spec("TXT-2")
def test_module_definitions_sorted_and_names_shared() -> None:
    x = relay.var("x", "float32")
    y = relay.var("y", "float32")
    z = add(x, y)
    myf = relay.Function([x, y], add(z, z), F32)
    x2 = relay.var("x", "float32")
    u = add(x2, x2)
    other = relay.Function([x2], add(u, u))
    mod = tvm.IRModule({"myf": myf, "another": other})
    prints_as(
        mod,
        "def @another(%x: float32) {\n"
        "  %0 = txt.add(%x, %x);\n"
        "  txt.add(%0, %0)\n"
        "}\n"
        "\n"
        "def @myf(%x1: float32, %y: float32) -> float32 {\n"
        "  %1 = txt.add(%x1, %y);\n"
        "  txt.add(%1, %1)\n"
        "}\n",
    )


@pytest.mark.spec("TXT-2")
def test_module_definition_with_type_params_and_global_calls() -> None:
    a = relay.TypeVar("A")
    p = relay.var("p", a)
    ident = relay.Function([p], p, a, [a])
    mod = tvm.IRModule({"id": ident})
    gv = mod.get_global_var("id")
    q = relay.var("q", "int32")
    mod["main"] = relay.Function([q], relay.Call(gv, [q]), I32)
    prints_as(
        mod,
        "def @id[A](%p: A) -> A {\n  %p\n}\n\ndef @main(%q: int32) -> int32 {\n  @id(%q)\n}\n",
    )


# --- TXT-3: functions ---------------------------------------------------------------------


@pytest.mark.spec("TXT-3")
def test_function_params_attrs_and_return_type() -> None:
    p0 = relay.var("p0", shape=(2, 2))
    p1 = relay.var("p1")
    f = relay.Function([p0, p1], add(p0, p1), relay.TensorType((2, 2)))
    f = f.with_attr("Primitive", 1).with_attr("Compiler", "ccompiler")
    prints_as(
        f,
        'fn (%p0: Tensor[(2, 2), float32], %p1, Primitive=1, Compiler="ccompiler") '
        "-> Tensor[(2, 2), float32] {\n"
        "  txt.add(%p0, %p1)\n"
        "}",
    )


@pytest.mark.spec("TXT-3")
def test_function_null_attribute_and_type_params() -> None:
    x = relay.var("x")
    y = relay.var("y")
    f = relay.Function([x], y).with_attr("TestAttribute", None)
    prints_as(f, "fn (%x, TestAttribute=None) {\n  free_var %y;\n  %y\n}")
    a, b = relay.TypeVar("A"), relay.TypeVar("B")
    v = relay.var("v", relay.TupleType([a, b]))
    g = relay.Function([v], relay.TupleGetItem(v, 0), a, [a, b])
    prints_as(g, "fn [A, B](%v: (A, B)) -> A {\n  %v.0\n}")
    prints_as(relay.Function([], relay.Tuple([])), "fn () {\n  ()\n}")


# --- TXT-4: graph normal form -------------------------------------------------------------


@pytest.mark.spec("TXT-4", "TXT-5")
def test_call_node_order() -> None:
    x = relay.var("x")
    y = relay.var("y")
    prog = relay.Call(
        relay.Function([x], x), [relay.Call(relay.Function([y], y), [relay.const(1)])]
    )
    prints_as(
        prog,
        "%0 = fn (%y) {\n  %y\n};\n%1 = %0(1);\n%2 = fn (%x) {\n  %x\n};\n%2(%1)",
    )


@pytest.mark.spec("TXT-4")
def test_let_inlining() -> None:
    tup = relay.Tuple([relay.const(0), relay.const(0)])
    x = relay.var("x")
    prints_as(relay.Let(x, tup, tup), "%0 = (0, 0);\nlet %x = %0;\n%0")
    x = relay.var("x")
    prints_as(relay.Let(x, tup, x), "let %x = (0, 0);\n%x")


@pytest.mark.spec("TXT-4")
def test_shared_and_nested_expressions_are_bound() -> None:
    x = relay.var("x", shape=(3, 2))
    one = relay.const(10e10, dtype="float32")
    z = add(x, one)
    z = add(z, z)
    f = relay.Function([x], relay.Tuple([z, relay.Tuple([x])]))
    prints_as(
        f,
        "fn (%x: Tensor[(3, 2), float32]) {\n"
        "  %0 = txt.add(%x, 1e+11f);\n"
        "  %1 = txt.add(%0, %0);\n"
        "  %2 = (%x,);\n"
        "  (%1, %2)\n"
        "}",
    )


@pytest.mark.spec("TXT-4")
def test_temporaries_count_through_nested_scopes() -> None:
    x = relay.var("x", "float32")
    p = relay.var("p", "float32")
    inner = relay.Function([p], add(add(p, p), p)).with_attr("Primitive", 1)
    outer = relay.Function([x], add(relay.Call(inner, [x]), x))
    prints_as(
        outer,
        "fn (%x: float32) {\n"
        "  %1 = fn (%p: float32, Primitive=1) {\n"
        "    %0 = txt.add(%p, %p);\n"
        "    txt.add(%0, %p)\n"
        "  };\n"
        "  %2 = %1(%x);\n"
        "  txt.add(%2, %x)\n"
        "}",
    )


@pytest.mark.spec("TXT-4")
def test_node_printed_once_per_run() -> None:
    # TVM reuses the temporary even from the other branch, where it is not bound.
    x = relay.var("x", "float32")
    c = relay.var("c", "bool")
    shared = add(x, x)
    body = relay.If(c, add(shared, x), add(shared, shared))
    prints_as(
        relay.Function([x, c], body),
        "fn (%x: float32, %c: bool) {\n"
        "  if (%c) {\n"
        "    %0 = txt.add(%x, %x);\n"
        "    txt.add(%0, %x)\n"
        "  } else {\n"
        "    txt.add(%0, %0)\n"
        "  }\n"
        "}",
    )


# --- TXT-5: order -------------------------------------------------------------------------


@pytest.mark.spec("TXT-5", "TXT-8")
def test_callee_is_visited_before_arguments() -> None:
    # Both functions name their parameter "a": the callee's is visited first.
    a1 = relay.var("a")
    a2 = relay.var("a")
    callee = relay.Function([a1], a1)
    arg = relay.Function([a2], a2)
    prints_as(
        relay.Call(callee, [arg]),
        "%0 = fn (%a1) {\n  %a1\n};\n%1 = fn (%a) {\n  %a\n};\n%1(%0)",
    )


# --- TXT-6: scopes ------------------------------------------------------------------------


@pytest.mark.spec("TXT-6")
def test_let_if_scope() -> None:
    x = relay.var("x", "float32")
    y = relay.var("y", "float32")
    cond = relay.var("cond", "bool")
    sb = relay.ScopeBuilder()
    with sb.if_scope(cond):
        v1 = sb.let("v", relay.const(1, "float32"))
        v2 = sb.let("v", x)
        sb.ret(add(v1, v2))
    with sb.else_scope():
        v3 = relay.var("v")
        let2 = relay.Let(v3, y, v3)
        sb.ret(add(let2, let2))
    f = relay.Function([x, y, cond], sb.get())
    text = astext(f)
    assert text.count("{") == 3
    assert text == SEMVER + (
        "fn (%x: float32, %y: float32, %cond: bool) {\n"
        "  if (%cond) {\n"
        "    let %v = 1f;\n"
        "    let %v1 = %x;\n"
        "    txt.add(%v, %v1)\n"
        "  } else {\n"
        "    %0 = (\n"
        "      let %v2 = %y;\n"
        "      %v2\n"
        "    );\n"
        "    txt.add(%0, %0)\n"
        "  }\n"
        "}"
    )


@pytest.mark.spec("TXT-6")
def test_if_condition_bound_in_enclosing_scope() -> None:
    x = relay.var("x", "float32")
    c = relay.var("c", "bool")
    q = relay.var("q")
    ite = relay.If(add(c, c), add(x, x), relay.Let(q, add(x, x), add(q, q)))
    prints_as(
        relay.Function([x, c], add(ite, ite)),
        "fn (%x: float32, %c: bool) {\n"
        "  %0 = txt.add(%c, %c);\n"
        "  %1 = if (%0) {\n"
        "    txt.add(%x, %x)\n"
        "  } else {\n"
        "    let %q = txt.add(%x, %x);\n"
        "    txt.add(%q, %q)\n"
        "  };\n"
        "  txt.add(%1, %1)\n"
        "}",
    )


@pytest.mark.spec("TXT-6")
def test_let_chain_is_flat_and_value_bindings_precede_their_line() -> None:
    x = relay.var("x", "float32")
    a = relay.var("a")
    b = relay.var("b")
    t = relay.Tuple([x, x])
    body = relay.Let(a, add(x, x), relay.Let(b, relay.Tuple([a, t]), relay.Tuple([b, t])))
    prints_as(
        relay.Function([x], body),
        "fn (%x: float32) {\n"
        "  let %a = txt.add(%x, %x);\n"
        "  %0 = (%x, %x);\n"
        "  let %b = (%a, %0);\n"
        "  (%b, %0)\n"
        "}",
    )


@pytest.mark.spec("TXT-6")
def test_let_in_argument_position_is_parenthesized() -> None:
    x = relay.var("x", "int32")
    prints_as(
        add(relay.Let(x, relay.const(1), x), relay.const(2)),
        "%0 = (\n  let %x: int32 = 1;\n  %x\n);\ntxt.add(%0, 2)",
    )


# --- TXT-7: free variables ----------------------------------------------------------------


@pytest.mark.spec("TXT-7")
def test_free_vars_are_declared_at_first_use() -> None:
    x = relay.var("x", shape=(3, 2))
    y = relay.var("y")
    f = relay.Function([y], add(x, y))
    # The function's text is made first (TXT-5), so %x is first used inside it.
    prints_as(
        add(x, relay.Call(f, [x])),
        "%0 = fn (%y) {\n"
        "  free_var %x: Tensor[(3, 2), float32];\n"
        "  txt.add(%x, %y)\n"
        "};\n"
        "%1 = %0(%x);\n"
        "txt.add(%x, %1)",
    )
    prints_as(
        relay.Tuple([add(x, y), x]),
        "free_var %x: Tensor[(3, 2), float32];\nfree_var %y;\n%0 = txt.add(%x, %y);\n(%0, %x)",
    )


# --- TXT-8: names -------------------------------------------------------------------------


@pytest.mark.spec("TXT-8")
def test_variable_names() -> None:
    names = ["1", "x", "x", "x1", "", "_a", "base/x.y", "é"]
    tup = relay.Tuple([relay.var(n) for n in names])
    text = astext(tup)
    assert text.endswith("(%v1, %x, %x1, %x11, %v, %v_a, %base/x.y, %vé)")
    assert "free_var %v1;\n" in text


@pytest.mark.spec("TXT-8")
def test_slash_in_identifier() -> None:
    x = relay.var("base/x")
    y = relay.var("base/y")
    prints_as(add(x, y), "free_var %base/x;\nfree_var %base/y;\ntxt.add(%base/x, %base/y)")


@pytest.mark.spec("TXT-8")
def test_rebound_variable_is_marked_malformed() -> None:
    x = relay.var("x", "float32")
    mod = tvm.IRModule({"f": relay.Function([x], x), "g": relay.Function([x], x)})
    prints_as(
        mod,
        "def @f(%x: float32) {\n  %x\n}\n\ndef @g(%x-malformed-ir) {\n  %x\n}\n",
    )


# --- TXT-9: constants ---------------------------------------------------------------------


@pytest.mark.spec("TXT-9")
def test_scalars() -> None:
    prints_as(relay.const(42, "int16"), "42i16")
    prints_as(relay.const(-42, "int16"), "-42i16")
    prints_as(relay.const(42, "int32"), "42")
    prints_as(relay.const(42, "int64"), "42i64")
    prints_as(relay.const(3.0, "float16"), "3f16")
    prints_as(relay.const(3.0, "float32"), "3f")
    prints_as(relay.const(3.0, "float64"), "3f64")
    prints_as(relay.const(True), "True")
    prints_as(relay.const(False), "False")


@pytest.mark.spec("TXT-9")
@pytest.mark.parametrize(
    ("value", "dtype", "text"),
    [
        (10e10, "float32", "1e+11f"),
        (0.1, "float32", "0.1f"),
        (1e-5, "float32", "1e-05f"),
        (1 / 3, "float64", "0.3333333333333333f64"),
        (123456789.0, "float32", "1.2345679e+08f"),
        (0.5859375, "float32", "0.5859375f"),
        (0.25, "float64", "0.25f64"),
        (100000.0, "float32", "100000f"),
        (1e6, "float32", "1e+06f"),
        (-2.5, "float32", "-2.5f"),
        (0.1, "float16", "0.0999756f16"),
        (float("inf"), "float32", "inff"),
        (float("-inf"), "float64", "-inff64"),
        (float("nan"), "float32", "nanf"),
        (-0.0, "float32", "-0f"),
    ],
)
def test_floats_print_like_cpp(value: float, dtype: str, text: str) -> None:
    prints_as(relay.const(value, dtype), text)


@pytest.mark.spec("TXT-9", "TXT-14")
def test_other_constants_go_to_metadata() -> None:
    for c in (
        relay.const([1, 2, 3]),
        relay.const(1, "int8"),
        relay.const(7, "uint8"),
        relay.const(np.zeros((0,), "float32")),
    ):
        text = astext(c)
        assert text.startswith(SEMVER + "meta[relay.Constant][0]\n#[metadata]\n")
    c1 = relay.const([1.0, 2.0])
    c2 = relay.const([1.0, 2.0])
    program, section = astext(relay.Tuple([c1, c2, c1])).split("\n#[metadata]\n")
    assert program == SEMVER + (
        "(meta[relay.Constant][0], meta[relay.Constant][1], meta[relay.Constant][0])"
    )
    assert len(json.loads(section)["relay.Constant"]) == 2


# --- TXT-10: call attrs -------------------------------------------------------------------


@pytest.mark.spec("TXT-10")
def test_call_attrs_non_default_only() -> None:
    x = relay.var("x", shape=(1, 3, 8, 8))
    w = relay.var("w")
    z = relay.Call(CONV, [x, w], ConvAttrs(padding=(1, 1, 1, 1), channels=2, kernel_size=(3, 3)))
    assert str(z).endswith(
        "txt.conv2d(%x, %w, padding=[1, 1, 1, 1], channels=2, kernel_size=[3, 3])"
    )
    assert str(relay.Call(CONV, [x, w], ConvAttrs())).endswith("txt.conv2d(%x, %w)")


@pytest.mark.spec("TXT-10")
def test_call_attr_value_syntax() -> None:
    x = relay.var("x")
    attrs = ConvAttrs(
        strides=(2, 2), data_layout='N"C\\H\tW\né', epsilon=0.001, use_bias=True, channels=-3
    )
    assert str(relay.Call(CONV, [x], attrs)) == (
        "free_var %x;\n"
        "txt.conv2d(%x, strides=[2, 2], channels=-3, "
        'data_layout="N\\"C\\\\H\\tW\\n\\xC3\\xA9", epsilon=0.001f, use_bias=True)'
    )


@pytest.mark.spec("TXT-10")
def test_call_attrs_of_another_class_and_of_non_operators() -> None:
    x = relay.var("x")
    odd = relay.Call(CONV, [x], OtherAttrs(axis=2))
    assert astext(odd).startswith(
        SEMVER + "free_var %x;\ntxt.conv2d(%x, meta[relay.attrs.OtherAttrs][0])\n#[metadata]\n"
    )
    assert str(odd) == "free_var %x;\ntxt.conv2d(%x, axis=2)"
    # An operator declaring no attrs class: printed as entries (a stated difference).
    assert str(relay.Call(ADD, [x, x], OtherAttrs(axis=1))) == (
        "free_var %x;\ntxt.add(%x, %x, axis=1)"
    )
    p = relay.var("p")
    call = relay.Call(relay.Function([p], p), [x], OtherAttrs(axis=0))
    prints_as(
        call,
        "free_var %x;\n"
        "%0 = fn (%p) {\n"
        "  %p\n"
        "};\n"
        '%0(%x, axis=0, attrs_type_key="relay.attrs.OtherAttrs")',
    )


@pytest.mark.spec("TXT-10")
def test_registered_operators() -> None:
    x = relay.var("x", shape=(2, 3))
    y = relay.var("y", shape=(2, 3))
    decl = "free_var %x: Tensor[(2, 3), float32];\n"
    assert str(relay.cast(x, "int64")) == decl + 'cast(%x, dtype="int64")'
    assert str(relay.clip(x, -1.0, 1.5)) == decl + "clip(%x, a_min=-1f, a_max=1.5f)"
    assert str(relay.clip(x, float("-inf"), float("inf"))) == decl + (
        "clip(%x, a_min=-inff, a_max=inff)"
    )
    assert str(relay.shape_of(x)) == decl + "shape_of(%x)"
    assert str((x + y) * relay.const(2.0)) == (
        decl + "free_var %y: Tensor[(2, 3), float32];\n%0 = add(%x, %y);\nmultiply(%0, 2f)"
    )


# --- TXT-11: attribute values -------------------------------------------------------------


@pytest.mark.spec("TXT-11")
def test_function_attribute_values() -> None:
    f = relay.Function([], relay.Tuple([])).with_attr(
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
            "u8": IntImm("uint8", 6),
            "f64": FloatImm("float64", 0.5),
            "f16": FloatImm("float16", 1.5),
        }
    )
    prints_as(
        f,
        'fn (i=1, big=1099511627776i64, b=True, fl=0.25f, s="a\\"b", n=None, '
        "lst=[1, [2, 3]], i16=4i16, i64=5i64, u8=6, f64=0.5f64, f16=1.5f16) {\n"
        "  ()\n"
        "}",
    )


@pytest.mark.spec("TXT-11")
def test_object_attribute_values() -> None:
    gv = relay.GlobalVar("callee")
    f = relay.Function([], relay.Tuple([])).with_attr(
        {"g": gv, "a": OtherAttrs(axis=3), "t": relay.TensorType((2,), "int8")}
    )
    assert str(f) == ("fn (g='callee', a={axis=3}, t=meta[relay.TensorType][0]) {\n  ()\n}\n")
    text = astext(f)
    assert text.startswith(
        SEMVER + "fn (g=meta[GlobalVar][0], a=meta[relay.attrs.OtherAttrs][0], "
        "t=meta[relay.TensorType][0]) {\n  ()\n}\n#[metadata]\n"
    )
    section = json.loads(text.split("#[metadata]\n")[1])
    assert section["GlobalVar"] == [{"type_key": "GlobalVar", "name_hint": "callee"}]
    other = section["relay.attrs.OtherAttrs"][0]
    assert other["fields"] == {"axis": 3}
    assert other["class"].endswith("OtherAttrs")
    tensor_type = section["relay.TensorType"][0]
    assert tensor_type["fields"] == {"shape": [2], "dtype": "int8"}


# --- TXT-12: type comments ----------------------------------------------------------------


@pytest.mark.spec("TXT-12")
def test_optional_info() -> None:
    c = relay.Constant(relay.const(1).data, checked_type_=I32)
    main = relay.Function([], add(c, c, I32), I32)
    text = astext(tvm.IRModule({"main": main}))
    assert text.count("/* ty=int32 */") == 3
    assert text == SEMVER + (
        "def @main() -> int32 {\n  txt.add(1 /* ty=int32 */, 1 /* ty=int32 */) /* ty=int32 */\n}\n"
    )


@pytest.mark.spec("TXT-12")
def test_type_comments_on_params_lets_tuples_and_functions() -> None:
    t2 = relay.TensorType((2,), "float32")
    x = relay.Var("x", t2, checked_type_=t2)
    v = relay.Var("v", None, checked_type_=t2)
    tup_ty = relay.TupleType([t2, t2])
    tup = relay.Tuple([x, v], checked_type_=tup_ty)
    item = relay.TupleGetItem(tup, 1, checked_type_=t2)
    body = relay.Let(v, add(x, x, t2), item)
    fn_ty = relay.FuncType([t2], t2)
    f = relay.Function([x], body, t2, checked_type_=fn_ty)
    prints_as(
        f,
        "fn (%x: Tensor[(2), float32] /* ty=Tensor[(2), float32] */) -> Tensor[(2), float32] {\n"
        "  let %v /* ty=Tensor[(2), float32] */ = txt.add(%x, %x) /* ty=Tensor[(2), float32] */;\n"
        "  %0 = (%x, %v) /* ty=(Tensor[(2), float32], Tensor[(2), float32]) */;\n"
        "  %0.1 /* ty=Tensor[(2), float32] */\n"
        "} /* ty=fn (Tensor[(2), float32]) -> Tensor[(2), float32] */",
    )


@pytest.mark.spec("TXT-12")
def test_spans_and_annotate() -> None:
    x = relay.var("x", shape=(3, 2))
    one = relay.const(10e10, dtype="float32")
    z = relay.Call(ADD, [x, one], span=Span("Add0", 0, 0, 0, 0))
    z = relay.Call(
        ADD, [z, z], span=Span("Add1", 4, 4, 7, 9), checked_type_=relay.TensorType((3, 2))
    )
    prints_as(
        relay.Function([x], z),
        "fn (%x: Tensor[(3, 2), float32]) {\n"
        "  %0 = txt.add(%x, 1e+11f) /* span=Add0:0:0 */;\n"
        "  txt.add(%0, %0) /* ty=Tensor[(3, 2), float32] span=Add1:4:7 */\n"
        "}",
    )

    def note(e: relay.Expr) -> str:
        return " // call" if isinstance(e, relay.Call) else ""

    assert relay.Function([x], z).astext(annotate=note) == SEMVER + (
        "fn (%x: Tensor[(3, 2), float32]) {\n"
        "  %0 = txt.add(%x, 1e+11f) // call;\n"
        "  txt.add(%0, %0) // call\n"
        "}"
    )


# --- TXT-13: types ------------------------------------------------------------------------


@pytest.mark.spec("TXT-13")
def test_type_syntax() -> None:
    a = relay.TypeVar("A")
    types: list[tuple[relay.Type, str]] = [
        (relay.TensorType((), "bool"), "bool"),
        (relay.TensorType((1, 32, 32, 3)), "Tensor[(1, 32, 32, 3), float32]"),
        (relay.TensorType((3,), "int8"), "Tensor[(3), int8]"),
        (relay.TupleType([]), "()"),
        (relay.TupleType([I32]), "(int32,)"),
        (relay.TupleType([I32, F32]), "(int32, float32)"),
        (relay.FuncType([I32, I32], I32), "fn (int32, int32) -> int32"),
        (relay.FuncType([a], a, [a]), "fn [A](A) -> A"),
        (relay.FuncType([], relay.TupleType([])), "fn () -> ()"),
        (relay.IncompleteType(), "_"),
    ]
    for ty, text in types:
        assert str(ty) == text
        prints_as(relay.var("x", ty), f"free_var %x: {text};\n%x")


# --- TXT-14: metadata ---------------------------------------------------------------------


@pytest.mark.spec("TXT-14")
def test_metadata_constants_rebuild_exactly() -> None:
    arrays = [
        np.arange(6, dtype="float64").reshape(2, 3) / 7,
        np.array([-1, 2**40], dtype="int64"),
        np.array([True, False, True]),
        np.array(200, dtype="uint8"),
        np.array([[0.1, -0.0], [np.inf, np.nan]], dtype="float16"),
    ]
    consts = [relay.const(a, dtype=str(a.dtype)) for a in arrays]
    text = astext(relay.Tuple(consts))
    program, section = text.split("\n#[metadata]\n")
    assert program == SEMVER + "(" + ", ".join(f"meta[relay.Constant][{i}]" for i in range(5)) + ")"
    entries = json.loads(section)["relay.Constant"]
    assert len(entries) == len(arrays)
    for entry, array in zip(entries, arrays, strict=True):
        assert entry["type_key"] == "relay.Constant"
        assert entry["dtype"] == str(array.dtype)
        assert tuple(entry["shape"]) == array.shape
        raw = base64.b64decode(entry["data"])
        rebuilt = np.frombuffer(raw, dtype=np.dtype(entry["dtype"]).newbyteorder("<"))
        assert (
            rebuilt.reshape(entry["shape"]).tobytes()
            == array.astype(array.dtype.newbyteorder("<")).tobytes()
        )


@pytest.mark.spec("TXT-14")
def test_metadata_indices_per_key_and_identity() -> None:
    c1 = relay.const([1, 2])
    c2 = relay.const([1, 2])
    x = relay.var("x")
    odd = relay.Call(CONV, [x, c2], OtherAttrs(axis=0))
    text = astext(relay.Tuple([c1, odd, c1]))
    assert text.startswith(
        SEMVER + "free_var %x;\n"
        "%0 = txt.conv2d(%x, meta[relay.Constant][1], meta[relay.attrs.OtherAttrs][0]);\n"
        "(meta[relay.Constant][0], %0, meta[relay.Constant][0])\n#[metadata]\n"
    )
    section = json.loads(text.split("#[metadata]\n")[1])
    assert list(section) == ["relay.Constant", "relay.attrs.OtherAttrs"]
    assert len(section["relay.Constant"]) == 2
    other_op = _op("txt.other", OtherAttrs)
    odd = relay.Call(other_op, [x], ConvAttrs(strides=(2, 1), epsilon=float("-inf")))
    section = json.loads(astext(odd).split("#[metadata]\n")[1])
    fields = section["relay.attrs.ConvAttrs"][0]["fields"]
    assert fields["strides"] == [2, 1]
    assert fields["epsilon"] == {"type_key": "float", "value": "-inf"}
    assert fields["channels"] is None


# --- TXT-15: deep programs, determinism ---------------------------------------------------


DEPTH = 100_000


@pytest.mark.spec("TXT-15")
def test_deep_call_chain() -> None:
    assert sys.getrecursionlimit() <= 10_000
    x = relay.var("x", "float32")
    z: relay.Expr = x
    for _ in range(DEPTH):
        z = add(z, x)
    text = astext(relay.Function([x], z))
    lines = text.split("\n")
    assert len(lines) == DEPTH + 3
    assert lines[1] == "fn (%x: float32) {"
    assert lines[2] == "  %0 = txt.add(%x, %x);"
    assert lines[-3] == f"  %{DEPTH - 2} = txt.add(%{DEPTH - 3}, %x);"
    assert lines[-2] == f"  txt.add(%{DEPTH - 2}, %x)"


@pytest.mark.spec("TXT-15")
def test_deep_let_chain() -> None:
    x = relay.var("x", "float32")
    vs = [relay.var("v") for _ in range(DEPTH)]
    body: relay.Expr = vs[-1]
    for i in reversed(range(DEPTH)):
        body = relay.Let(vs[i], add(vs[i - 1] if i else x, x), body)
    text = astext(relay.Function([x], body))
    lines = text.split("\n")
    assert len(lines) == DEPTH + 4
    assert lines[2] == "  let %v = txt.add(%x, %x);"
    assert lines[3] == "  let %v1 = txt.add(%v, %x);"
    assert lines[-2] == f"  %v{DEPTH - 1}"


@pytest.mark.spec("TXT-15")
def test_nested_lets_and_functions() -> None:
    # Lets nested in value position and functions nested in bodies, 2,000 deep.
    x = relay.var("x")
    e: relay.Expr = x
    for _ in range(2000):
        v = relay.var("v")
        e = relay.Let(v, e, v)
    assert astext(e).count("let %v") == 2000
    f: relay.Expr = x
    for _ in range(2000):
        f = relay.Function([], f)
    assert astext(f).count("fn ()") == 2000


@pytest.mark.spec("TXT-15")
def test_diamond_ladder_prints_each_node_once() -> None:
    x = relay.var("x", "float32")
    z: relay.Expr = x
    for _ in range(40):
        z = add(z, z)
    text = astext(z)
    assert text.count("\n") == 41
    assert text.endswith("%38 = txt.add(%37, %37);\ntxt.add(%38, %38)")


@pytest.mark.spec("TXT-15")
def test_printing_is_deterministic_and_pure() -> None:
    x = relay.var("x", shape=(2,))
    c = relay.const(np.ones((2,), "float32"))
    f = relay.Function([x], relay.Let(relay.var("t"), add(x, c), add(x, x)))
    fields = (f.params, f.body, f.ret_type, f.attrs)
    first = astext(f)
    assert astext(f) == first
    assert (f.params, f.body, f.ret_type, f.attrs) == fields
    assert c.data.numpy().tolist() == [1.0, 1.0]
