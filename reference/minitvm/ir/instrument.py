"""Pass instruments, as TVM's ``tvm.ir.instrument``: hooks around every pass a context runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, overload

from typing_extensions import override

from minitvm.ir.module import IRModule
from minitvm.ir.transform import PassInfo

__all__ = [
    "PassInstrument",
    "PassTimingInstrument",
    "PrintAfterAll",
    "PrintBeforeAll",
    "pass_instrument",
]


class PassInstrument:
    """Override any of the hooks. ``should_run`` returning False skips the pass."""

    @property
    def name(self) -> str:
        return type(self).__name__

    def enter_pass_ctx(self) -> None:
        pass

    def exit_pass_ctx(self) -> None:
        pass

    def should_run(self, mod: IRModule, info: PassInfo) -> bool:
        return True

    def run_before_pass(self, mod: IRModule, info: PassInfo) -> None:
        pass

    def run_after_pass(self, mod: IRModule, info: PassInfo) -> None:
        pass


@overload
def pass_instrument(pi_cls: type[Any], name: str | None = None) -> type[PassInstrument]: ...
@overload
def pass_instrument(
    pi_cls: None = None, name: str | None = None
) -> Callable[[type[Any]], type[PassInstrument]]: ...
def pass_instrument(
    pi_cls: type[Any] | None = None, name: str | None = None
) -> type[PassInstrument] | Callable[[type[Any]], type[PassInstrument]]:
    """Decorate a class defining some of the hooks to make it a PassInstrument subclass."""

    def create(cls: type[Any]) -> type[PassInstrument]:
        return type(name or cls.__name__, (cls, PassInstrument), {})

    if pi_cls is not None:
        return create(pi_cls)
    return create


_LAST_TIMING: ContextVar[list[tuple[int, str, float]] | None] = ContextVar(
    "minitvm_pass_timing", default=None
)


class PassTimingInstrument(PassInstrument):
    """Times every pass; ``PassTimingInstrument.render()`` formats the profile of the
    instrument most recently active, nested passes indented."""

    def __init__(self) -> None:
        self._stack: list[float] = []
        self._records: list[tuple[int, str, float]] = []

    @override
    def enter_pass_ctx(self) -> None:
        self._records = []
        _LAST_TIMING.set(self._records)

    @override
    def run_before_pass(self, mod: IRModule, info: PassInfo) -> None:
        self._stack.append(time.perf_counter())

    @override
    def run_after_pass(self, mod: IRModule, info: PassInfo) -> None:
        start = self._stack.pop()
        self._records.append((len(self._stack), info.name, time.perf_counter() - start))

    @staticmethod
    def render() -> str:
        records = _LAST_TIMING.get() or []
        lines = ["Pass timing (ms):"]
        for depth, name, seconds in records:
            lines.append(f"{'  ' * (depth + 1)}{name}: {seconds * 1e3:.3f}")
        return "\n".join(lines)


class PrintBeforeAll(PassInstrument):
    @override
    def run_before_pass(self, mod: IRModule, info: PassInfo) -> None:
        print(f"Before Running Pass: {info.name}\n{mod.astext(show_meta_data=False)}")


class PrintAfterAll(PassInstrument):
    @override
    def run_after_pass(self, mod: IRModule, info: PassInfo) -> None:
        print(f"After Running Pass: {info.name}\n{mod.astext(show_meta_data=False)}")
