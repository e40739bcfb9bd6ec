"""PASS: the pass infrastructure (tvm.transform, tvm.ir.instrument, function passes)."""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest
from typing_extensions import override

import minitvm as tvm
from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.instrument import PassInstrument, PassTimingInstrument, pass_instrument
from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassContext, PassInfo, register_config, register_pass
from minitvm.relay.function import Function


def _mod() -> IRModule:
    x = relay.var("x", shape=(2,))
    return IRModule.from_expr(Function([x], x))


def _tracer(
    name: str, log: list[str], opt_level: int = 0, required: list[str] | None = None
) -> tvm.transform.Pass:
    def run(mod: IRModule, ctx: PassContext) -> IRModule:
        log.append(name)
        return mod.copy()

    return tvm.transform.ModulePass(run, PassInfo(opt_level, name, required))


_LOG: list[str] = []
register_pass("spec_pass_infra.Dep", lambda: _tracer("Dep", _LOG))
register_config("spec_pass_infra.knob", int, 7, "a test option")


@pytest.mark.spec("PASS-1")
def test_module_pass_decorator_forms() -> None:
    @tvm.transform.module_pass(opt_level=1, name="Renamer")
    def renamer(mod: IRModule, ctx: PassContext) -> IRModule:
        new = mod.copy()
        new["other"] = mod["main"]
        return new

    assert isinstance(renamer, tvm.transform.Pass)
    assert renamer.info.name == "Renamer"
    assert renamer.info.opt_level == 1
    mod = _mod()
    out = renamer(mod)
    assert "other" in out
    assert "other" not in mod

    @tvm.transform.module_pass(opt_level=2)
    class Counter:
        def __init__(self, step: int) -> None:
            self.step = step

        def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
            return mod.with_attr("count", self.step)

    p = Counter(3)
    assert isinstance(p, tvm.transform.Pass)
    assert p.info.name == "Counter"
    assert p(_mod()).attrs["count"] == tvm.tir.IntImm("int32", 3)

    with pytest.raises(TVMError, match="opt_level"):
        tvm.transform.module_pass(lambda m, c: m)


@pytest.mark.spec("PASS-1")
def test_function_pass_decorator() -> None:
    seen: list[str] = []

    @relay.transform.function_pass(opt_level=1)
    def mark(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        seen.append("f")
        return func.with_attr("Marked", 1)

    assert mark.info.name == "mark"
    out = mark(_mod())
    assert seen == ["f"]
    main = out["main"]
    assert isinstance(main, Function)
    assert main.attrs["Marked"] == tvm.tir.IntImm("int32", 1)


@pytest.mark.spec("PASS-2")
def test_context_nesting_and_restore() -> None:
    assert PassContext.current().opt_level == 2
    with PassContext(opt_level=3) as outer:
        assert PassContext.current() is outer
        with PassContext(opt_level=0) as inner:
            assert PassContext.current() is inner
        assert PassContext.current() is outer
        with pytest.raises(ZeroDivisionError), PassContext(opt_level=1):
            _ = 1 // 0
        assert PassContext.current() is outer
    assert PassContext.current().opt_level == 2


@pytest.mark.spec("PASS-3")
def test_sequential_enablement_rule() -> None:
    log: list[str] = []
    seq = tvm.transform.Sequential(
        [_tracer("A", log, 1), _tracer("B", log, 3), _tracer("C", log, 2), _tracer("D", log, 4)]
    )
    seq(_mod())
    assert log == ["A", "C"]  # default opt_level 2
    log.clear()
    with PassContext(opt_level=3, disabled_pass=["A"], required_pass=["D"]):
        seq(_mod())
    assert log == ["B", "C", "D"]
    log.clear()
    with PassContext(opt_level=0, required_pass=["B"], disabled_pass=["B"]):
        seq(_mod())
    assert log == []  # disabled wins over required


@pytest.mark.spec("PASS-4")
def test_required_passes_run_first() -> None:
    _LOG.clear()
    seq = tvm.transform.Sequential([_tracer("Main", _LOG, 0, ["spec_pass_infra.Dep"])])
    seq(_mod())
    assert _LOG == ["Dep", "Main"]
    bad = tvm.transform.Sequential([_tracer("X", [], 0, ["NoSuchPass"])])
    with pytest.raises(TVMError, match="NoSuchPass"):
        bad(_mod())


@pytest.mark.spec("PASS-5")
def test_direct_call_ignores_opt_level_but_runs_instruments() -> None:
    log: list[str] = []
    calls: list[str] = []

    class Spy(PassInstrument):
        @override
        def run_before_pass(self, mod: IRModule, info: PassInfo) -> None:
            calls.append(info.name)

    with PassContext(opt_level=0, instruments=[Spy()]):
        _tracer("High", log, 4)(_mod())
    assert log == ["High"]
    assert calls == ["High"]


@pytest.mark.spec("PASS-6")
def test_config_registry() -> None:
    with PassContext(config={"spec_pass_infra.knob": 3}) as ctx:
        assert ctx.get_config("spec_pass_infra.knob") == 3
    assert PassContext().get_config("spec_pass_infra.knob") == 7
    assert PassContext.list_configs()["spec_pass_infra.knob"] == "int"
    with pytest.raises(TVMError, match=r"spec_pass_infra\.knob"):
        PassContext(config={"spec_pass_infra.unknown": 1})
    with pytest.raises(TVMError, match="expects int"):
        PassContext(config={"spec_pass_infra.knob": "three"})


@pytest.mark.spec("PASS-7")
def test_instrument_hooks_and_should_run() -> None:
    events: list[str] = []

    class Recorder:
        def enter_pass_ctx(self) -> None:
            events.append("enter")

        def exit_pass_ctx(self) -> None:
            events.append("exit")

        def should_run(self, mod: IRModule, info: PassInfo) -> bool:
            return info.name != "Skipped"

        def run_before_pass(self, mod: IRModule, info: PassInfo) -> None:
            events.append(f"before {info.name}")

        def run_after_pass(self, mod: IRModule, info: PassInfo) -> None:
            events.append(f"after {info.name}")

    log: list[str] = []
    mod = _mod()
    with PassContext(instruments=[pass_instrument(Recorder)()]):
        out = tvm.transform.Sequential([_tracer("Run", log), _tracer("Skipped", log)])(mod)
    assert log == ["Run"]
    assert events == [
        "enter",
        "before sequential",
        "before Run",
        "after Run",
        "after sequential",
        "exit",
    ]
    assert out is not mod


@pytest.mark.spec("PASS-8")
def test_timing_instrument() -> None:
    timing = PassTimingInstrument()
    with PassContext(instruments=[timing]):
        tvm.transform.Sequential([_tracer("T1", []), _tracer("T2", [])], name="Outer")(_mod())
    text = PassTimingInstrument.render()
    lines = text.splitlines()
    assert lines[0].startswith("Pass timing")
    names = [line.strip().split(":")[0] for line in lines[1:]]
    assert names == ["T1", "T2", "Outer"]
    assert lines[1].startswith("    T1")  # nested under Outer
    assert lines[3].startswith("  Outer")


@pytest.mark.spec("PASS-9")
def test_function_pass_skips_and_infers_types() -> None:
    touched: list[str] = []

    @relay.transform.function_pass(opt_level=0)
    def tag(func: Function, mod: IRModule, ctx: PassContext) -> Function:
        touched.append(str(func.attrs.get("Name")))
        return func.with_attr("Tagged", 1)

    x = relay.var("x", shape=(2,))
    mod = IRModule()
    mod["main"] = Function([x], x).with_attr("Name", "main")
    mod["ext"] = Function([x], x).with_attr("Compiler", "ccompiler").with_attr("Name", "ext")
    mod["skip"] = Function([x], x).with_attr("SkipOptimization", 1).with_attr("Name", "skip")
    out = tag(mod)
    assert touched == ["main"]
    main = out["main"]
    assert isinstance(main, Function)
    assert "Tagged" in main.attrs
    assert main.checked_type == relay.FuncType([relay.TensorType((2,))], relay.TensorType((2,)))
    assert "Tagged" not in out["ext"].attrs
    assert "Tagged" not in out["skip"].attrs
    assert "Tagged" not in mod["main"].attrs  # the input is untouched


@pytest.mark.spec("PASS-9")
def test_per_run_function_pass_reads_the_module_before_rewriting() -> None:
    from minitvm.ir.transform import PassInfo
    from minitvm.relay.transform.function_pass import FunctionPass

    seen: list[list[str]] = []

    def make(mod: IRModule) -> Callable[[Function, IRModule, PassContext], Function]:
        names = sorted(gv.name_hint for gv in mod.functions if "Tagged" not in mod[gv].attrs)
        seen.append(names)
        return lambda func, m, ctx: func.with_attr("Tagged", 1)

    x = relay.var("x", shape=(2,))
    mod = IRModule()
    mod["f"] = Function([x], x)
    mod["main"] = Function([x], x)
    tag = FunctionPass.per_run(make, PassInfo(0, "Tag"))
    out = tag(mod)
    assert seen == [["f", "main"]]  # once per run, before any function was rewritten
    assert all("Tagged" in out[name].attrs for name in ("f", "main"))
    tag(mod)
    assert len(seen) == 2


@pytest.mark.spec("PASS-10")
def test_print_ir(capsys: pytest.CaptureFixture[str]) -> None:
    mod = _mod()
    out = tvm.transform.PrintIR("here")(mod)
    assert out is mod
    printed = capsys.readouterr().out
    assert "PrintIR(here)" in printed
    assert "def @main" in printed


@pytest.mark.spec("PASS-11")
def test_collector_paused_during_a_pass() -> None:
    seen: list[bool] = []

    @tvm.transform.module_pass(opt_level=0, name="Probe")
    def probe(mod: IRModule, ctx: PassContext) -> IRModule:
        seen.append(gc.isenabled())
        return mod

    @tvm.transform.module_pass(opt_level=0, name="Fails")
    def fails(mod: IRModule, ctx: PassContext) -> IRModule:
        seen.append(gc.isenabled())
        raise TVMError("fails")

    assert gc.isenabled()
    tvm.transform.Sequential([probe, probe])(_mod())
    assert seen == [False, False]
    assert gc.isenabled()
    with pytest.raises(TVMError, match="fails"):
        fails(_mod())
    assert seen[-1] is False
    assert gc.isenabled()
    gc.disable()
    try:
        probe(_mod())
        assert not gc.isenabled()
    finally:
        gc.enable()
