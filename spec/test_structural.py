"""SEQ: structural equality and hashing (``tvm.ir.structural_equal`` & co)."""

from __future__ import annotations

import dataclasses
import itertools
import random
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.ir.attrs import Attrs
from minitvm.ir.node import DEF, IGNORE, MAP, Node, SEqualKind
from minitvm.ir.op import Op
from minitvm.relay.expr_functor import children, post_order, rebuild
from minitvm.tir import FloatImm, IntImm

ROOT = Path(__file__).resolve().parent.parent


ADD = Op.get("add")
EXP = Op.get("exp")
NEG = Op.get("negative")


add, exp, neg = relay.add, relay.exp, relay.negative


def consistent_equal(lhs: object, rhs: object, map_free_vars: bool = False) -> bool:
    """Equality, checked to be symmetric and to agree with the hashes (for the terms of
    these tests, unequal terms do hash differently)."""
    forward = tvm.ir.structural_equal(lhs, rhs, map_free_vars)
    backward = tvm.ir.structural_equal(rhs, lhs, map_free_vars)
    assert forward == backward, "structural_equal is not symmetric"
    lhs_hash = tvm.ir.structural_hash(lhs, map_free_vars)
    rhs_hash = tvm.ir.structural_hash(rhs, map_free_vars)
    assert forward == (lhs_hash == rhs_hash), "hash disagrees with equality"
    return forward


def tensor(shape: tuple[int, ...] = (2,), dtype: str = "float32") -> relay.TensorType:
    return relay.TensorType(shape, dtype)


# --- SEQ-1: inputs, reflexivity, what is ignored --------------------------------------------


@pytest.mark.spec("SEQ-1")
def test_every_kind_of_input_equals_itself() -> None:
    x = relay.var("x", shape=(2,))
    func = relay.Function([x], add(exp(x), relay.const(1.0)))
    mod = tvm.IRModule.from_expr(func)
    t = relay.TypeVar("t")
    samples: list[object] = [
        func,
        mod,
        relay.Tuple([]),
        tensor(),
        relay.FuncType([t], t, [t]),
        relay.TupleType([tensor(), relay.scalar_type("int8")]),
        IntImm("int32", 3),
        FloatImm("float32", float("nan")),
        tvm.ir.DictAttrs({"Primitive": 1}),
        tvm.nd.array(np.array([1.0, float("nan")], "float32")),
        (1, "a", None, [2.5, True]),
        float("nan"),
        "text",
        None,
    ]
    for sample in samples:
        assert consistent_equal(sample, sample), sample
        tvm.ir.assert_structural_equal(sample, sample)
    assert tvm.ir.structural_hash(func) == tvm.ir.structural_hash(func)


@pytest.mark.spec("SEQ-1")
def test_names_spans_and_checked_types_are_ignored() -> None:
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    span = tvm.ir.Span("a.rly", 1, 1, 2, 5)
    lhs = relay.Function([x], relay.Call(EXP, [x], span=span, checked_type_=tensor()))
    rhs = relay.Function([y], exp(y))
    assert consistent_equal(lhs, rhs)
    assert consistent_equal(tvm.ir.TensorType((2,), span=span), tensor())
    assert consistent_equal(relay.GlobalVar("f", checked_type_=tensor()), relay.GlobalVar("f"))


@pytest.mark.spec("SEQ-1")
def test_sequences_compare_element_wise() -> None:
    x = relay.var("x")
    assert consistent_equal([x, 1, "a"], (x, 1, "a"))
    assert not consistent_equal((x, 1), (x, 2))
    assert not consistent_equal((x,), (x, x))
    assert not consistent_equal((1,), 1)
    assert not consistent_equal(x, tensor())


# --- SEQ-2: derived from dataclass fields ---------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Sym(Node):
    """A variable of some other dialect: compared by its dtype, never by its name."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    name: str = dataclasses.field(metadata=IGNORE)
    dtype: str = "int32"


@dataclass(frozen=True, slots=True, eq=False)
class Lam(Node):
    """A binder with a body and a tag map, declared only through kinds and metadata."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.GRAPH
    params: tuple[Sym, ...] = dataclasses.field(metadata=DEF)
    body: object
    tags: tuple[tuple[str, object], ...] = dataclasses.field(default=(), metadata=MAP)
    note: str = dataclasses.field(default="", metadata=IGNORE)


@dataclass(frozen=True, slots=True)
class Pair(Node):
    first: object
    second: object


@pytest.mark.spec("SEQ-2")
def test_a_new_node_class_gets_equality_from_its_declaration() -> None:
    i, j, k = Sym("i"), Sym("j"), Sym("k", "int64")
    assert consistent_equal(Lam((i,), Pair(i, 1)), Lam((j,), Pair(j, 1), note="other"))
    assert not consistent_equal(Lam((i,), Pair(i, 1)), Lam((k,), Pair(k, 1)))
    assert not consistent_equal(Lam((i, j), Pair(i, j)), Lam((i, j), Pair(j, i)))
    tags_a = (("a", 1), ("b", IntImm("int32", 2)))
    tags_b = (("b", IntImm("int32", 2)), ("a", 1))
    assert consistent_equal(Lam((i,), i, tags_a), Lam((j,), j, tags_b))
    assert not consistent_equal(Lam((i,), i, tags_a), Lam((j,), j, tags_b[:1]))
    # GRAPH: a shared Lam is not two copies of it; VALUE: a shared Pair is.
    lam = Lam((), 1)
    assert not consistent_equal(Pair(lam, lam), Pair(lam, Lam((), 1)))
    pair = Pair(1, 2)
    assert consistent_equal(Lam((), (pair, pair)), Lam((), (pair, Pair(1, 2))))
    # Free variables of the new dialect follow SEQ-6.
    assert not consistent_equal(Pair(i, 0), Pair(j, 0))
    assert consistent_equal(Pair(i, 0), Pair(j, 0), map_free_vars=True)


@pytest.mark.spec("SEQ-2")
def test_node_class_that_is_not_a_dataclass_is_rejected() -> None:
    class Opaque(Node):
        __slots__ = ()

    with pytest.raises(TypeError, match="not a dataclass"):
        tvm.ir.structural_equal(Opaque(), Opaque())


# --- SEQ-3: GRAPH nodes are matched one to one ---------------------------------------------


@pytest.mark.spec("SEQ-3")
def test_sharing_must_correspond() -> None:
    x = relay.var("x", shape=(2,))
    two_exps = add(exp(x), exp(x))
    r = exp(x)
    shared = add(r, r)
    assert not consistent_equal(two_exps, shared)
    r2 = exp(x)
    assert consistent_equal(shared, add(r2, r2))
    assert consistent_equal(two_exps, add(exp(x), exp(x)))


@pytest.mark.spec("SEQ-3")
def test_two_lhs_nodes_cannot_match_one_rhs_node() -> None:
    x = relay.var("x", shape=(2,))
    a, b, c, d = exp(x), exp(x), exp(x), exp(x)
    assert not consistent_equal(relay.Tuple([a, b]), relay.Tuple([c, c]))
    # a matches c and b matches d; a cannot then match d.
    assert not consistent_equal(relay.Tuple([a, b, a]), relay.Tuple([c, d, d]))
    assert consistent_equal(relay.Tuple([a, b, a]), relay.Tuple([c, d, c]))


@pytest.mark.spec("SEQ-3")
def test_sharing_of_if_let_and_function_nodes() -> None:
    x = relay.var("x", "bool")
    cond = relay.If(x, relay.const(1.0), relay.const(2.0))
    other = relay.If(x, relay.const(1.0), relay.const(2.0))
    assert not consistent_equal(relay.Tuple([cond, cond]), relay.Tuple([cond, other]))
    assert consistent_equal(relay.Tuple([cond, other]), relay.Tuple([other, cond]))
    y, z = relay.var("y"), relay.var("z")
    f, g = relay.Function([y], y), relay.Function([z], z)
    assert consistent_equal(relay.Tuple([f, g]), relay.Tuple([g, f]))
    assert not consistent_equal(relay.Tuple([f, f]), relay.Tuple([f, g]))
    v, w = relay.var("v"), relay.var("w")
    let_v = relay.Let(v, relay.const(0.0), v)
    let_w = relay.Let(w, relay.const(0.0), w)
    assert not consistent_equal(relay.Tuple([let_v, let_v]), relay.Tuple([let_v, let_w]))


@pytest.mark.spec("SEQ-3")
def test_empty_tuple_is_a_value() -> None:
    unit = relay.Tuple([])
    pair_of_units = relay.Tuple([relay.Tuple([]), relay.Tuple([])])
    assert consistent_equal(relay.Tuple([unit, unit]), pair_of_units)
    assert not consistent_equal(relay.Tuple([]), relay.Tuple([relay.var("x")]))


# --- SEQ-4: VALUE nodes compare by content --------------------------------------------------


@dataclass(frozen=True, slots=True)
class PadAttrs(Attrs):
    pad_width: tuple[int, ...] = (0,)
    pad_mode: str = "constant"


@pytest.mark.spec("SEQ-4")
def test_value_nodes_may_be_shared_or_duplicated() -> None:
    t = relay.var("t", relay.TupleType([tensor(), tensor()]))
    item = relay.TupleGetItem(t, 0)
    assert consistent_equal(add(item, item), add(relay.TupleGetItem(t, 0), t[0]))
    assert not consistent_equal(add(item, item), add(item, relay.TupleGetItem(t, 1)))
    c = relay.const(1.0)
    assert consistent_equal(add(c, c), add(relay.const(1.0), relay.const(1.0)))
    ty = tensor((3,), "int8")
    assert consistent_equal(relay.TupleType([ty, ty]), relay.TupleType([tensor((3,), "int8")] * 2))
    assert not consistent_equal(ty, tensor((3,), "int16"))
    assert not consistent_equal(ty, tensor((3, 1), "int8"))
    attrs = PadAttrs((1, 2))
    x = relay.var("x", shape=(2,))
    assert consistent_equal(
        relay.Tuple([relay.Call(EXP, [x], attrs), relay.Call(NEG, [x], attrs)]),
        relay.Tuple(
            [relay.Call(EXP, [x], PadAttrs((1, 2))), relay.Call(NEG, [x], PadAttrs((1, 2)))]
        ),
    )
    assert consistent_equal(IntImm("int32", 7), IntImm("int32", 7))
    assert not consistent_equal(IntImm("int32", 7), IntImm("int32", 8))


# --- SEQ-5: binders and alpha-equivalence ---------------------------------------------------


@pytest.mark.spec("SEQ-5")
def test_bound_variables_may_be_renamed() -> None:
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    assert consistent_equal(relay.Function([x], x), relay.Function([y], y))
    one = relay.const(1.0)
    assert consistent_equal(relay.Let(x, one, add(x, x)), relay.Let(y, relay.const(1.0), add(y, y)))
    a, b = relay.var("a", shape=(2,)), relay.var("b", shape=(2,))
    assert consistent_equal(relay.Function([x, y], add(x, y)), relay.Function([a, b], add(a, b)))
    assert not consistent_equal(
        relay.Function([x, y], add(x, y)), relay.Function([a, b], add(b, a))
    )
    inner_lhs = relay.Function([x], relay.Function([y], add(x, y)))
    assert consistent_equal(inner_lhs, relay.Function([a], relay.Function([b], add(a, b))))
    assert not consistent_equal(inner_lhs, relay.Function([a], relay.Function([b], add(b, a))))


@pytest.mark.spec("SEQ-5")
def test_binder_annotations_and_arity_are_compared() -> None:
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,), dtype="int32")
    assert not consistent_equal(relay.Function([x], x), relay.Function([y], y))
    untyped = relay.var("u")
    assert not consistent_equal(relay.Function([untyped], untyped), relay.Function([x], x))
    z = relay.var("z", shape=(2,))
    assert not consistent_equal(relay.Function([x], x), relay.Function([z, x], z))


@pytest.mark.spec("SEQ-5")
def test_type_parameters_are_binders() -> None:
    t, u = relay.TypeVar("t"), relay.TypeVar("u")
    assert consistent_equal(relay.FuncType([t], t, [t]), relay.FuncType([u], u, [u]))
    assert not consistent_equal(relay.FuncType([t], t, [t]), relay.FuncType([u], t, [u]))
    a, b, c, d = (relay.TypeVar(n) for n in "abcd")
    assert consistent_equal(relay.FuncType([a, b], a, [a, b]), relay.FuncType([c, d], c, [c, d]))
    assert not consistent_equal(
        relay.FuncType([a, b], a, [a, b]), relay.FuncType([c, d], d, [c, d])
    )
    # A parameter's annotation mentions a type parameter listed after the parameters.
    x, y = relay.var("x", t), relay.var("y", u)
    lhs = relay.Function([x], x, ret_type=t, type_params=[t])
    assert consistent_equal(lhs, relay.Function([y], y, ret_type=u, type_params=[u]))
    assert not consistent_equal(lhs, relay.Function([y], y, ret_type=u))


@pytest.mark.spec("SEQ-5")
def test_a_variable_bound_twice_must_correspond_to_one_variable() -> None:
    x, a, b = relay.var("x"), relay.var("a"), relay.var("b")
    twice = relay.Tuple([relay.Function([x], x), relay.Function([x], x)])
    assert consistent_equal(twice, relay.Tuple([relay.Function([a], a), relay.Function([a], a)]))
    assert not consistent_equal(
        twice, relay.Tuple([relay.Function([a], a), relay.Function([b], b)])
    )


@pytest.mark.spec("SEQ-5")
def test_recursive_let() -> None:
    def countdown(name: str) -> relay.Let:
        f = relay.var(name)
        n = relay.var("n", "int32")
        body = relay.Call(f, [n])
        return relay.Let(f, relay.Function([n], body), relay.Call(f, [relay.const(3)]))

    assert consistent_equal(countdown("f"), countdown("g"))


# --- SEQ-6: free variables ------------------------------------------------------------------


@pytest.mark.spec("SEQ-6")
def test_free_variables_equal_only_themselves() -> None:
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    assert consistent_equal(add(x, y), add(x, y))
    assert not consistent_equal(x, y)
    assert not consistent_equal(add(x, y), add(y, x))
    t, u = relay.TypeVar("t"), relay.TypeVar("u")
    assert not consistent_equal(relay.FuncType([t], t), relay.FuncType([u], u))
    hole = relay.IncompleteType()
    assert consistent_equal(hole, hole)
    assert not consistent_equal(hole, relay.IncompleteType())


@pytest.mark.spec("SEQ-6")
def test_map_free_vars_matches_them_one_to_one() -> None:
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    a, b = relay.var("a", shape=(2,)), relay.var("b", shape=(2,))
    assert consistent_equal(x, y, map_free_vars=True)
    assert consistent_equal(add(x, y), add(a, b), map_free_vars=True)
    assert consistent_equal(add(x, y), add(b, a), map_free_vars=True)
    assert not consistent_equal(add(x, y), add(a, a), map_free_vars=True)
    assert not consistent_equal(add(x, x), add(a, b), map_free_vars=True)
    assert not consistent_equal(relay.Tuple([x, y, x]), relay.Tuple([a, b, b]), map_free_vars=True)
    typed_differently = relay.var("c", shape=(2,), dtype="int8")
    assert not consistent_equal(x, typed_differently, map_free_vars=True)
    t, u = relay.TypeVar("t"), relay.TypeVar("u")
    assert consistent_equal(relay.FuncType([t], t), relay.FuncType([u], u), map_free_vars=True)
    assert consistent_equal(relay.IncompleteType(), relay.IncompleteType(), map_free_vars=True)


# --- SEQ-7: globals and operators -----------------------------------------------------------


@pytest.mark.spec("SEQ-7")
def test_globals_by_name_and_operators_by_name() -> None:
    x = relay.var("x")
    assert consistent_equal(relay.GlobalVar("f"), relay.GlobalVar("f"))
    assert not consistent_equal(relay.GlobalVar("f"), relay.GlobalVar("g"))
    assert consistent_equal(relay.Call(relay.GlobalVar("f"), [x]), relay.GlobalVar("f")(x))
    assert consistent_equal(exp(x), relay.Call(Op.get("exp"), [x]))
    assert not consistent_equal(exp(x), neg(x))


# --- SEQ-8: leaves --------------------------------------------------------------------------


def _nan32(bits: int) -> np.ndarray:
    return np.array([bits], dtype="uint32").view("float32")


@pytest.mark.spec("SEQ-8")
def test_constants_compare_bytes() -> None:
    assert consistent_equal(relay.const(1.5), relay.const(1.5))
    assert not consistent_equal(relay.const(0.0), relay.const(-0.0))
    assert consistent_equal(relay.const(_nan32(0x7FC00000)), relay.const(_nan32(0x7FC00000)))
    assert not consistent_equal(relay.const(_nan32(0x7FC00000)), relay.const(_nan32(0x7FC00001)))
    assert not consistent_equal(relay.const(1, "int32"), relay.const(1, "int64"))
    assert not consistent_equal(relay.const(np.array([1.0], "float32")), relay.const(1.0))
    assert not consistent_equal(relay.const([1, 2]), relay.const([1, 3]))
    assert consistent_equal(np.arange(4).reshape(2, 2), np.arange(4).reshape(2, 2))
    assert not consistent_equal(np.arange(4).reshape(2, 2), np.arange(4).reshape(4, 1))


@pytest.mark.spec("SEQ-8")
def test_scalars_compare_by_value_within_their_kind() -> None:
    assert consistent_equal(FloatImm("float32", 0.0), FloatImm("float32", -0.0))
    assert consistent_equal(FloatImm("float32", float("nan")), FloatImm("float32", float("nan")))
    assert not consistent_equal(FloatImm("float32", 1.0), FloatImm("float64", 1.0))
    assert consistent_equal(1, 1.0)
    assert consistent_equal(np.int64(3), 3)
    assert not consistent_equal(True, 1)
    assert not consistent_equal(1, "1")
    assert not consistent_equal("a", "b")
    assert consistent_equal(relay.TypeKind.Type, relay.TypeKind.Type)
    assert not consistent_equal(relay.TypeKind.Type, 0)
    assert not consistent_equal(relay.TypeKind.Type, relay.TypeKind.ShapeVar)
    assert not consistent_equal(None, 0)


# --- SEQ-9: calls and functions -------------------------------------------------------------


@pytest.mark.spec("SEQ-9")
def test_call_type_args_only_count_for_non_operator_callees() -> None:
    x = relay.var("x", shape=(2,))
    ty = [tensor()]
    assert consistent_equal(relay.Call(EXP, [x], type_args=ty), exp(x))
    gv = relay.GlobalVar("f")
    assert not consistent_equal(relay.Call(gv, [x], type_args=ty), relay.Call(gv, [x]))
    assert consistent_equal(relay.Call(gv, [x], type_args=ty), relay.Call(gv, [x], type_args=ty))
    p = relay.var("p")
    fn = relay.Function([p], p)
    assert not consistent_equal(relay.Call(fn, [x], type_args=ty), relay.Call(fn, [x]))
    assert not consistent_equal(
        relay.Call(EXP, [x], PadAttrs((1,))), relay.Call(EXP, [x], PadAttrs((2,)))
    )
    assert not consistent_equal(relay.Call(EXP, [x], PadAttrs()), exp(x))


@pytest.mark.spec("SEQ-9")
def test_function_ret_type_and_attrs() -> None:
    def fn(ret: relay.Type | None = None) -> relay.Function:
        x = relay.var("x", shape=(2,))
        return relay.Function([x], exp(x), ret_type=ret)

    assert not consistent_equal(fn(), fn(tensor()))
    assert consistent_equal(fn(tensor()), fn(tensor()))
    assert consistent_equal(fn().with_attr("Primitive", 1), fn().with_attr("Primitive", 1))
    assert not consistent_equal(fn().with_attr("Primitive", 1), fn())
    assert not consistent_equal(
        fn().with_attr("Primitive", IntImm("int32", 1)),
        fn().with_attr("Primitive", IntImm("int64", 1)),
    )
    one_way = fn().with_attr("Primitive", 1).with_attr("Compiler", "ccompiler")
    other_way = fn().with_attr("Compiler", "ccompiler").with_attr("Primitive", 1)
    assert consistent_equal(one_way, other_way)
    assert not consistent_equal(one_way, fn().with_attr("Compiler", "ccompiler"))


# --- SEQ-10: modules ------------------------------------------------------------------------


def _module(
    order: tuple[str, ...] = ("helper", "main"), helper_dtype: str = "float32"
) -> tvm.IRModule:
    helper_gv = relay.GlobalVar("helper")
    p = relay.var("p", shape=(2,), dtype=helper_dtype)
    helper = relay.Function([p], exp(p))
    x = relay.var("x", shape=(2,), dtype=helper_dtype)
    main = relay.Function([x], helper_gv(x))
    funcs: dict[relay.GlobalVar | str, tvm.ir.BaseFunc] = {}
    for name in order:
        if name == "helper":
            funcs[helper_gv] = helper
        else:
            funcs["main"] = main
    return tvm.IRModule(funcs)


@pytest.mark.spec("SEQ-10")
def test_modules_match_functions_by_name() -> None:
    assert consistent_equal(_module(), _module())
    assert consistent_equal(_module(("helper", "main")), _module(("main", "helper")))
    assert not consistent_equal(_module(), _module(helper_dtype="int32"))
    main_only = tvm.IRModule({"main": _module()["main"]})
    assert not consistent_equal(_module(), main_only)
    assert not consistent_equal(_module(), _module().with_attr("executor", "graph"))
    assert consistent_equal(
        _module().with_attr("executor", "graph"), _module().with_attr("executor", "graph")
    )


# --- SEQ-11: hashing ------------------------------------------------------------------------


def _hash_sample() -> object:
    x = relay.var("x", shape=(2, 2))
    t = relay.TypeVar("t")
    body = add(exp(x), relay.const(np.arange(4, dtype="float32").reshape(2, 2)))
    func = relay.Function([x], relay.Tuple([body, body]), type_params=[t])
    mod = tvm.IRModule({"main": func.with_attr("Compiler", "c")})
    return (mod, "text", 2.5, IntImm("int64", 9), relay.TypeKind.ShapeVar)


@pytest.mark.spec("SEQ-11")
def test_hash_agrees_with_equality() -> None:
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    a, b = relay.var("a", shape=(2,)), relay.var("b", shape=(2,))
    h = tvm.ir.structural_hash
    assert h(relay.Function([x], exp(x))) == h(relay.Function([a], exp(a)))
    assert h(add(x, y), map_free_vars=True) == h(add(a, b), map_free_vars=True)
    assert h(add(x, y)) != h(add(a, b))
    assert h(add(x, y), map_free_vars=True) != h(add(a, a), map_free_vars=True)
    r = exp(x)
    assert h(add(r, r)) != h(add(exp(x), exp(x)))
    value = h(_hash_sample())
    assert isinstance(value, int)
    assert 0 <= value < 2**64


@pytest.mark.spec("SEQ-11")
def test_hash_is_the_same_in_every_process() -> None:
    script = (
        "from spec.test_structural import _hash_sample\n"
        "import minitvm as tvm\n"
        "print(tvm.ir.structural_hash(_hash_sample()))\n"
    )
    env = {"PYTHONPATH": f"{ROOT / 'reference'}:{ROOT}", "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) == tvm.ir.structural_hash(_hash_sample())


# --- SEQ-12: the assertion message ----------------------------------------------------------


def _mismatch(lhs: object, rhs: object, map_free_vars: bool = False) -> str:
    with pytest.raises(ValueError, match="StructuralEqual check failed") as info:
        tvm.ir.assert_structural_equal(lhs, rhs, map_free_vars)
    return str(info.value)


@pytest.mark.spec("SEQ-12")
def test_message_names_the_path_and_both_subterms() -> None:
    def fn(last: float) -> relay.Function:
        x = relay.var("x", shape=(2,))
        return relay.Function([x], add(x, relay.const(np.array([1.0, last], "float32"))))

    message = _mismatch(fn(2.0), fn(3.0))
    assert "lhs at <root>.body.args[1].data:" in message
    assert "rhs at <root>.body.args[1].data:" in message
    lhs_part, rhs_part = message.split("and rhs at")
    assert "2." in lhs_part
    assert "3." not in lhs_part
    assert "3." in rhs_part


@pytest.mark.spec("SEQ-12")
def test_message_for_variables_sharing_and_modules() -> None:
    x, y, z = relay.var("x"), relay.var("y"), relay.var("z", "int8")
    message = _mismatch(add(x, y), add(x, z))
    assert "<root>.args[1]" in message
    assert "free variables differ" in message
    assert "int8" in message
    r = exp(x)
    message = _mismatch(add(exp(x), exp(x)), add(r, r))
    assert "<root>.args[1]" in message
    assert "corresponds to a different" in message
    message = _mismatch(_module(), _module(helper_dtype="int32"))
    assert "<root>.functions['helper'].params[0].type_annotation.dtype" in message
    message = _mismatch(_module(), tvm.IRModule({"main": _module()["main"]}))
    assert "<root>.functions" in message
    assert "keys differ" in message


@pytest.mark.spec("SEQ-12")
def test_equal_terms_do_not_raise() -> None:
    x, y = relay.var("x"), relay.var("y")
    tvm.ir.assert_structural_equal(relay.Function([x], x), relay.Function([y], y))
    tvm.ir.assert_structural_equal(x, y, map_free_vars=True)


# --- SEQ-13: deep and shared programs -------------------------------------------------------

DEPTH = 100_000


@pytest.fixture
def default_recursion_limit() -> object:
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield None
    sys.setrecursionlimit(previous)


def _call_chain(depth: int, leaf: relay.Expr | None = None) -> relay.Function:
    x = relay.var("x", shape=(2,))
    e: relay.Expr = x if leaf is None else add(x, leaf)
    for _ in range(depth):
        e = exp(e)
    return relay.Function([x], e)


def _let_chain(depth: int) -> relay.Function:
    x = relay.var("x", shape=(2,))
    vs = [relay.var(f"v{i}") for i in range(depth)]
    body: relay.Expr = vs[-1]
    for i in reversed(range(depth)):
        body = relay.Let(vs[i], exp(vs[i - 1] if i else x), body)
    return relay.Function([x], body)


@pytest.mark.spec("SEQ-13")
@pytest.mark.slow
@pytest.mark.usefixtures("default_recursion_limit")
def test_deep_call_chain() -> None:
    lhs, rhs = _call_chain(DEPTH), _call_chain(DEPTH)
    assert tvm.ir.structural_equal(lhs, rhs)
    assert tvm.ir.structural_hash(lhs) == tvm.ir.structural_hash(rhs)
    message = _mismatch(lhs, _call_chain(DEPTH, relay.const(1.0)))
    assert "steps)..." in message


@pytest.mark.spec("SEQ-13")
@pytest.mark.slow
@pytest.mark.usefixtures("default_recursion_limit")
def test_deep_let_chain() -> None:
    lhs, rhs = _let_chain(DEPTH), _let_chain(DEPTH)
    assert tvm.ir.structural_equal(lhs, rhs)
    assert tvm.ir.structural_hash(lhs) == tvm.ir.structural_hash(rhs)


def _diamond_ladder(depth: int, dtype: str = "float32") -> relay.Function:
    x = relay.var("x", shape=(2,), dtype=dtype)
    e: relay.Expr = x
    for _ in range(depth):
        e = add(exp(e), neg(e))
    return relay.Function([x], e)


@pytest.mark.spec("SEQ-13")
@pytest.mark.usefixtures("default_recursion_limit")
def test_diamond_ladders_are_linear() -> None:
    lhs, rhs = _diamond_ladder(40), _diamond_ladder(40)
    assert consistent_equal(lhs, rhs)
    assert not consistent_equal(lhs, _diamond_ladder(40, "float16"))
    _mismatch(lhs, _diamond_ladder(40, "float16"))

    def type_ladder(dtype: str) -> relay.TupleType:
        t: relay.Type = tensor((1,), dtype)
        for _ in range(40):
            t = relay.TupleType([t, t])
        assert isinstance(t, relay.TupleType)
        return t

    assert consistent_equal(type_ladder("int8"), type_ladder("int8"))
    assert not consistent_equal(type_ladder("int8"), type_ladder("int16"))
    message = _mismatch(type_ladder("int8"), type_ladder("int16"))
    assert message.count("\n") < 10


# --- generated programs ---------------------------------------------------------------------


def _random_program(rng: random.Random, size: int) -> relay.Expr:
    """A small DAG whose nodes pick their children from all earlier nodes (so shared)."""
    x, y = relay.var("x", shape=(2,)), relay.var("y", shape=(2,))
    pool: list[relay.Expr] = [x, y, relay.const(1.0), relay.const(2.0), relay.Tuple([])]
    for _ in range(size):
        a, b, c = rng.choice(pool), rng.choice(pool), rng.choice(pool)
        match rng.randrange(7):
            case 0:
                node: relay.Expr = add(a, b)
            case 1:
                node = exp(a)
            case 2:
                node = relay.Tuple([a, b])
            case 3:
                node = relay.TupleGetItem(a, rng.randrange(2))
            case 4:
                v = relay.var("v", shape=(2,))
                node = relay.Let(v, a, add(v, b))
            case 5:
                p = relay.var("p", shape=(2,))
                node = relay.Function([p], add(p, a))
            case _:
                node = relay.If(a, b, c)
        pool.append(node)
    return relay.Tuple(pool[-3:])


def _rebuild(root: relay.Expr, replace: Callable[[relay.Expr, relay.Expr], bool]) -> relay.Expr:
    """``root`` rebuilt bottom-up with its bound variables renamed; a child ``c`` of a node
    ``n`` for which ``replace(n, c)`` holds is replaced by a fresh copy of it."""
    new: dict[relay.Expr, relay.Expr] = {}
    for node in post_order(root):
        if isinstance(node, relay.Var):
            fresh = node.name_hint in ("v", "p")
            new[node] = relay.var("renamed", node.type_annotation) if fresh else node
            continue

        def visit(child: relay.Expr, parent: relay.Expr = node) -> relay.Expr:
            return dataclasses.replace(new[child]) if replace(parent, child) else new[child]

        new[node] = rebuild(node, visit)
    return new[root]


def _edges(root: relay.Expr) -> dict[relay.Expr, list[relay.Expr]]:
    """For each node, the parents it appears under, once per occurrence."""
    parents: dict[relay.Expr, list[relay.Expr]] = {}
    for node in post_order(root):
        for child in children(node):
            parents.setdefault(child, []).append(node)
    return parents


@pytest.mark.spec("SEQ-3", "SEQ-4", "SEQ-5", "SEQ-11")
def test_generated_programs() -> None:
    rng = random.Random(2024)
    programs = [_random_program(rng, rng.randrange(1, 10)) for _ in range(150)]
    for prog in programs:
        renamed = _rebuild(prog, lambda parent, child: False)
        assert consistent_equal(prog, renamed)
        assert consistent_equal(prog, renamed, map_free_vars=True)
        # Copy one occurrence of a node used at two places: equal only if it is a value.
        shared = [
            n for n, ps in _edges(prog).items() if len(ps) > 1 and not isinstance(n, relay.Var | Op)
        ]
        if shared:
            target = rng.choice(shared)
            parent = rng.choice(_edges(prog)[target])
            done: list[bool] = []

            def once(
                p: relay.Expr,
                c: relay.Expr,
                parent: relay.Expr = parent,
                target: relay.Expr = target,
                done: list[bool] = done,
            ) -> bool:
                hit = p is parent and c is target and not any(done)
                done.append(hit)
                return hit

            copied = _rebuild(prog, once)
            assert any(done)
            is_value = isinstance(target, relay.Constant | relay.TupleGetItem) or (
                isinstance(target, relay.Tuple) and not target.fields
            )
            assert consistent_equal(prog, copied) == is_value, target
    for a, b in itertools.pairwise(programs):
        consistent_equal(a, b)
        consistent_equal(a, b, map_free_vars=True)
    # The same program built twice shares no object, not even its free variables.
    for seed in range(50):
        twice = [_random_program(random.Random(seed), 8) for _ in range(2)]
        assert consistent_equal(twice[0], twice[1], map_free_vars=True)


# --- SEQ-14: fractional numbers -------------------------------------------------------------


@pytest.mark.spec("SEQ-14")
def test_fractions_compare_with_tolerance() -> None:
    close = [(FloatImm("float32", 0.1), FloatImm("float32", 0.1 + 5e-10)), (2.5, 2.5 - 5e-10)]
    for lhs, rhs in close:
        assert tvm.ir.structural_equal(lhs, rhs)
        assert tvm.ir.structural_equal(rhs, lhs)
        assert tvm.ir.structural_hash(lhs) == tvm.ir.structural_hash(rhs)
    assert not tvm.ir.structural_equal(FloatImm("float32", 0.1), FloatImm("float32", 0.1 + 2e-9))
    assert not tvm.ir.structural_equal(1.0, 1.0 + 5e-10)
    assert not tvm.ir.structural_equal(1.0 + 5e-10, 1)
    assert consistent_equal(3, 3.0)
    assert consistent_equal(relay.const(0.5), relay.const(0.5))
    data = np.array([0.1], "float64")
    assert not consistent_equal(relay.const(data, "float64"), relay.const(data + 1e-12, "float64"))


@pytest.mark.spec("SEQ-14")
def test_printed_epsilon_reads_back_equal() -> None:
    x = relay.var("x", shape=(1, 2, 3, 3))
    gamma, beta, mean, var = (relay.var(name, shape=(2,)) for name in ("g", "b", "m", "v"))
    out = relay.nn.batch_norm(x, gamma, beta, mean, var, epsilon=1e-5 + 1e-12)[0]
    mod = relay.transform.InferType()(tvm.IRModule.from_expr(out))
    text = mod.astext()
    printed = re.search(r"epsilon=([^,)]*)f", text)
    assert printed is not None
    assert printed.group(1) != "1e-05"  # minitvm prints every digit the value needs (TXT-9)
    tvm.ir.assert_structural_equal(relay.parse(text), mod)
    as_tvm_prints_it = text.replace(printed.group(0), "epsilon=1e-05f")
    tvm.ir.assert_structural_equal(relay.parse(as_tvm_prints_it), mod)
