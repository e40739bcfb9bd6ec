"""RUF: RemoveUnusedFunctions."""

from __future__ import annotations

import dataclasses

import pytest

import minitvm as tvm
from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.attrs import DictAttrs
from minitvm.ir.expr import BaseFunc
from minitvm.ir.module import IRModule
from minitvm.relay.expr import Expr
from minitvm.relay.transform import RemoveUnusedFunctions


@dataclasses.dataclass(frozen=True, slots=True, eq=False, repr=False)
class _OpaqueFunc(BaseFunc):
    """A function that is not a Relay function (as a PrimFunc is)."""

    attrs: DictAttrs = dataclasses.field(default_factory=DictAttrs)


def names(mod: IRModule) -> set[str]:
    return {gv.name_hint for gv in mod.functions}


def library(mod: IRModule) -> None:
    """Add a few functions nobody calls yet: ``@id``, ``@double``, ``@apply``, ``@unused``."""
    x = relay.var("x", shape=(2,))
    mod["id"] = relay.Function([x], x)
    y = relay.var("y", shape=(2,))
    mod["double"] = relay.Function([y], y + y)
    f = relay.var("f", relay.FuncType([relay.TensorType((2,))], relay.TensorType((2,))))
    z = relay.var("z", shape=(2,))
    mod["apply"] = relay.Function([f, z], f(z))
    w = relay.var("w", shape=(2,))
    mod["unused"] = relay.Function([w], mod.get_global_var("double")(w))


@pytest.mark.spec("RUF-1")
def test_pass_info_and_default_entry() -> None:
    p = RemoveUnusedFunctions()
    assert isinstance(p, tvm.transform.Pass)
    assert p.info.name == "RemoveUnusedFunctions"
    assert p.info.opt_level == 1
    assert p.info.required == ()
    assert p.entry_functions == ("main",)
    assert RemoveUnusedFunctions(["a", "b"]).entry_functions == ("a", "b")
    assert isinstance(tvm.transform.get_pass("RemoveUnusedFunctions"), RemoveUnusedFunctions)


@pytest.mark.spec("RUF-1")
def test_remove_everything_but_main() -> None:
    box = relay.GlobalTypeVar("Box")
    box_data = relay.TypeData(box, [], [relay.Constructor("Boxed", [], box)])
    mod = IRModule({}, {box: box_data}).with_attr("k", 1)
    library(mod)
    x = relay.var("x", shape=(1, 16))
    main = relay.Function([x], x)
    mod["main"] = main
    out = RemoveUnusedFunctions()(mod)
    assert names(out) == {"main"}
    assert out["main"] is main
    assert out.type_definitions == {box: box_data}
    assert out.attrs["k"] == mod.attrs["k"]
    assert names(mod) == {"id", "double", "apply", "unused", "main"}  # input unchanged


@pytest.mark.spec("RUF-1")
def test_multiple_entry_functions() -> None:
    mod = IRModule()
    library(mod)
    x = relay.var("x", shape=(2,))
    mod["main1"] = relay.Function([x], mod.get_global_var("id")(x))
    y = relay.var("y", shape=(2,))
    mod["main2"] = relay.Function([y], mod.get_global_var("double")(y))
    out = RemoveUnusedFunctions(["main1", "main2"])(mod)
    assert names(out) == {"main1", "main2", "id", "double"}
    assert names(RemoveUnusedFunctions(["main2"])(mod)) == {"main2", "double"}


@pytest.mark.spec("RUF-2")
def test_transitive_calls_kept() -> None:
    mod = IRModule()
    library(mod)
    x = relay.var("x", shape=(2,))
    mod["main"] = relay.Function([x], mod.get_global_var("unused")(x))
    assert names(RemoveUnusedFunctions()(mod)) == {"main", "unused", "double"}


@pytest.mark.spec("RUF-2")
def test_global_passed_as_argument_kept() -> None:
    mod = IRModule()
    library(mod)
    x = relay.var("x", shape=(2,))
    apply, double = mod.get_global_var("apply"), mod.get_global_var("double")
    mod["main"] = relay.Function([x], apply(double, x))
    assert names(RemoveUnusedFunctions()(mod)) == {"main", "apply", "double"}


@pytest.mark.spec("RUF-2")
def test_globals_chosen_by_if_and_called_without_arguments() -> None:
    def get_mod() -> IRModule:
        mod = IRModule({})
        g1, g2 = relay.GlobalVar("g1"), relay.GlobalVar("g2")
        mod[g1] = relay.Function([], relay.const(1))
        mod[g2] = relay.Function([], relay.const(2))
        mod["g3"] = relay.Function([], relay.const(3))
        p = relay.var("p", "bool")
        mod["main"] = relay.Function([p], relay.Call(relay.If(p, g1, g2), []))
        return mod

    out = RemoveUnusedFunctions()(get_mod())
    expected = get_mod()
    expected.remove("g3")
    tvm.ir.assert_structural_equal(out, expected, map_free_vars=True)


@pytest.mark.spec("RUF-2")
def test_reference_in_nested_function_and_recursion() -> None:
    mod = IRModule()
    even, odd, lonely = relay.GlobalVar("even"), relay.GlobalVar("odd"), relay.GlobalVar("lonely")
    n = relay.var("n", "int32")
    mod[even] = relay.Function([n], odd(n))
    m = relay.var("m", "int32")
    mod[odd] = relay.Function([m], even(m))
    k = relay.var("k", "int32")
    mod[lonely] = relay.Function([k], lonely(k))
    f = relay.var("f")
    mod["main"] = relay.Function([], relay.Let(f, relay.Function([], even(relay.const(1))), f))
    assert names(RemoveUnusedFunctions()(mod)) == {"main", "even", "odd"}


@pytest.mark.spec("RUF-2")
def test_reachable_non_relay_functions_kept_not_scanned() -> None:
    mod = IRModule()
    opaque, dropped = _OpaqueFunc(), _OpaqueFunc()
    mod["kernel"] = opaque
    mod["dropped"] = dropped
    mod["main"] = relay.Function([], relay.Tuple([mod.get_global_var("kernel")]))
    out = RemoveUnusedFunctions()(mod)
    assert names(out) == {"main", "kernel"}
    assert out["kernel"] is opaque


@pytest.mark.spec("RUF-3")
def test_missing_entry_or_reference_raises() -> None:
    mod = IRModule()
    library(mod)
    with pytest.raises(DiagnosticError, match="main"):
        RemoveUnusedFunctions()(mod)
    x = relay.var("x", shape=(2,))
    mod["main"] = relay.Function([x], relay.GlobalVar("ghost")(x))
    with pytest.raises(DiagnosticError, match="ghost"):
        RemoveUnusedFunctions()(mod)


@pytest.mark.spec("RUF-2")
def test_long_call_chains() -> None:
    # 2,000 globals each calling the next, and a main whose body is a 100,000-deep call chain.
    mod = IRModule()
    gvs = [relay.GlobalVar(f"f{i}") for i in range(2_000)]
    for i, gv in enumerate(gvs):
        a = relay.var("a", "int32")
        mod[gv] = relay.Function([a], gvs[i + 1](a) if i + 1 < len(gvs) else a)
    mod["spare"] = relay.Function([], relay.const(0))
    p = relay.var("p", "int32")
    body: Expr = p
    for _ in range(100_000):
        body = gvs[0](body)
    mod["main"] = relay.Function([p], body)
    out = RemoveUnusedFunctions()(mod)
    assert names(out) == {gv.name_hint for gv in gvs} | {"main"}
