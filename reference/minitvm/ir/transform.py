"""The pass infrastructure, as TVM's ``tvm.transform`` (``src/ir/transform.cc``).

A ``Pass`` maps an IRModule to a new IRModule. ``PassContext`` (a context manager, kept in a
``contextvars`` variable, never a global) holds the optimisation level, the passes required
or disabled by name, configuration options and instruments. ``Sequential`` runs passes in
order with TVM's enablement rule:

* a pass named in ``disabled_pass`` is skipped;
* otherwise a pass named in ``required_pass`` runs;
* otherwise it runs when ``ctx.opt_level >= pass.info.opt_level``;
* before an enabled pass runs, each pass its ``info.required`` names is run.

Calling a pass directly (``pass(mod)``) ignores the enablement rule but still runs the
current context's instruments.

Python's cyclic garbage collector is paused while a pass transforms a module (see
``_collector_paused``).
"""

from __future__ import annotations

import contextvars
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, overload

from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.module import IRModule

if TYPE_CHECKING:
    from minitvm.ir.instrument import PassInstrument

__all__ = [
    "ModulePass",
    "Pass",
    "PassContext",
    "PassDecorator",
    "PassInfo",
    "PrintIR",
    "Sequential",
    "get_pass",
    "list_configs",
    "module_pass",
    "register_config",
    "register_pass",
]


@dataclass(frozen=True, slots=True)
class PassInfo:
    """A pass's name, the minimum ``opt_level`` at which Sequential runs it, and the passes
    it requires (run before it)."""

    opt_level: int
    name: str
    required: tuple[str, ...] = ()
    traceable: bool = False

    def __init__(
        self,
        opt_level: int,
        name: str,
        required: Sequence[str] | None = None,
        traceable: bool = False,
    ) -> None:
        object.__setattr__(self, "opt_level", int(opt_level))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "required", tuple(required or ()))
        object.__setattr__(self, "traceable", traceable)


# --- configuration options --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ConfigOption:
    key: str
    value_type: type
    default: Any
    doc: str


_CONFIGS: dict[str, _ConfigOption] = {}


def register_config(key: str, value_type: type, default: Any, doc: str = "") -> None:
    """Declare a PassContext configuration option (``relay.FuseOps.max_depth``...)."""
    if key in _CONFIGS:
        raise TVMError(f"config option {key!r} is already registered")
    _CONFIGS[key] = _ConfigOption(key, value_type, default, doc)


def list_configs() -> dict[str, str]:
    """Every registered option and its type name, as ``PassContext.list_configs``."""
    return {k: v.value_type.__name__ for k, v in sorted(_CONFIGS.items())}


def _check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    for key, value in config.items():
        opt = _CONFIGS.get(key)
        if opt is None:
            raise TVMError(
                f"invalid PassContext config option {key!r}; registered options: "
                f"{', '.join(sorted(_CONFIGS)) or '(none)'}"
            )
        ok = isinstance(value, opt.value_type)
        if opt.value_type is int and isinstance(value, bool):
            ok = False
        if opt.value_type is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise TVMError(
                f"PassContext config {key!r} expects {opt.value_type.__name__}, "
                f"got {type(value).__name__} {value!r}"
            )
        checked[key] = value
    return checked


# --- the context ------------------------------------------------------------------------

_CURRENT: contextvars.ContextVar[PassContext | None] = contextvars.ContextVar(
    "minitvm_pass_context", default=None
)


class PassContext:
    """Options for a run of passes; use as ``with PassContext(opt_level=3): ...``."""

    def __init__(
        self,
        opt_level: int = 2,
        required_pass: Sequence[str] | None = None,
        disabled_pass: Sequence[str] | None = None,
        instruments: Sequence[PassInstrument] | None = None,
        config: Mapping[str, Any] | None = None,
        trace: object = None,
    ) -> None:
        self.opt_level = int(opt_level)
        self.required_pass: tuple[str, ...] = tuple(required_pass or ())
        self.disabled_pass: tuple[str, ...] = tuple(disabled_pass or ())
        self.instruments: tuple[PassInstrument, ...] = tuple(instruments or ())
        self.config: dict[str, Any] = _check_config(config or {})
        self._tokens: list[contextvars.Token[PassContext | None]] = []

    @staticmethod
    def current() -> PassContext:
        """The innermost active context, or a default one."""
        ctx = _CURRENT.get()
        return ctx if ctx is not None else _DEFAULT_CONTEXT

    def get_config(self, key: str, default: Any = None) -> Any:
        """A configuration value: set in this context, else the option's registered default."""
        if key in self.config:
            return self.config[key]
        opt = _CONFIGS.get(key)
        if opt is not None and default is None:
            return opt.default
        return default

    def pass_enabled(self, info: PassInfo) -> bool:
        """TVM's ``PassContext::PassEnabled``."""
        if info.name in self.disabled_pass:
            return False
        if info.name in self.required_pass:
            return True
        return self.opt_level >= info.opt_level

    def __enter__(self) -> PassContext:
        self._tokens.append(_CURRENT.set(self))
        for inst in self.instruments:
            inst.enter_pass_ctx()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            for inst in self.instruments:
                inst.exit_pass_ctx()
        finally:
            _CURRENT.reset(self._tokens.pop())

    def override_instruments(self, instruments: Sequence[PassInstrument]) -> None:
        """Replace the instruments of an active context (exit old, enter new)."""
        for inst in self.instruments:
            inst.exit_pass_ctx()
        self.instruments = tuple(instruments)
        for inst in self.instruments:
            inst.enter_pass_ctx()

    # Instrument hooks, called by Pass.__call__.
    def _before(self, mod: IRModule, info: PassInfo) -> bool:
        if not all(inst.should_run(mod, info) for inst in self.instruments):
            return False
        for inst in self.instruments:
            inst.run_before_pass(mod, info)
        return True

    def _after(self, mod: IRModule, info: PassInfo) -> None:
        for inst in self.instruments:
            inst.run_after_pass(mod, info)

    @staticmethod
    def list_configs() -> dict[str, str]:
        return list_configs()


_DEFAULT_CONTEXT = PassContext()


_P = TypeVar("_P", bound="Pass")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the duration of a pass.

    A pass allocates a number of objects proportional to the program, and they all survive
    (they are the new program). Each allocation burst triggers a collection, and the oldest
    generation's collections rescan the whole heap, program included: on a chain of 100,000
    nodes they took half of FuseOps' time, and the time per node doubled from 1,000 nodes.
    They find nothing, since program nodes are immutable trees and DAGs (a collection right
    after InferType, SimplifyInference, FoldConstant or FuseOps on ResNet-50 finds no
    unreachable object). Memory is still freed by reference counting; a user's pass that
    makes cycles keeps them until it ends. The collector resumes, and at its next collection
    examines the survivors once, when the outermost pass returns or raises."""
    if not gc.isenabled():  # a nested pass, or the caller paused it
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- passes -----------------------------------------------------------------------------


class Pass:
    """Base of all passes: ``info`` plus ``transform_module``."""

    @property
    def info(self) -> PassInfo:
        raise NotImplementedError

    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        raise NotImplementedError

    def __call__(self, mod: IRModule) -> IRModule:
        """Run this pass on ``mod`` under the current context (instruments included)."""
        return self._run(mod, PassContext.current())

    def _run(self, mod: IRModule, ctx: PassContext) -> IRModule:
        if not isinstance(mod, IRModule):
            raise TVMError(f"pass {self.info.name} expects an IRModule, got {type(mod).__name__}")
        info = self.info
        if not ctx._before(mod, info):
            return mod
        with _collector_paused():
            new_mod = self.transform_module(mod, ctx)
        ctx._after(new_mod, info)
        return new_mod

    @override
    def __repr__(self) -> str:
        info = self.info
        return f"{type(self).__name__}(name={info.name}, opt_level={info.opt_level})"


ModuleFunc: TypeAlias = Callable[[IRModule, PassContext], IRModule]


class ModulePass(Pass):
    """A pass given by a function ``(mod, ctx) -> mod``."""

    def __init__(self, pass_func: ModuleFunc, info: PassInfo) -> None:
        self._func = pass_func
        self._info = info

    @override
    @property
    def info(self) -> PassInfo:
        return self._info

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        return self._func(mod, ctx)


class Sequential(Pass):
    """Run passes in order, honouring the context's enablement rule and required passes."""

    def __init__(
        self,
        passes: Sequence[Pass] | None = None,
        opt_level: int = 0,
        name: str = "sequential",
        required: Sequence[str] | None = None,
    ) -> None:
        self.passes: tuple[Pass, ...] = tuple(passes or ())
        for p in self.passes:
            if not isinstance(p, Pass):
                raise TVMError(f"Sequential takes passes, got {type(p).__name__}")
        self._info = PassInfo(opt_level, name, required)

    @override
    @property
    def info(self) -> PassInfo:
        return self._info

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        for p in self.passes:
            info = p.info
            if not ctx.pass_enabled(info):
                continue
            for name in info.required:
                mod = get_pass(name)._run(mod, ctx)
            mod = p._run(mod, ctx)
        return mod


class _ClassPassDecorator:
    """Wrap a class with ``transform_module`` so that instantiating it gives a ModulePass."""

    def __init__(self, cls: type[Any], info: PassInfo) -> None:
        self._cls = cls
        self._info = info
        self.__name__ = cls.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> ModulePass:
        inst = self._cls(*args, **kwargs)
        return ModulePass(inst.transform_module, self._info)


class PassDecorator(Generic[_P]):
    """What ``module_pass(opt_level=...)`` returns: apply it to a function or a class."""

    def __init__(
        self, make: Callable[[Any, PassInfo], Any], info: Callable[[str], PassInfo]
    ) -> None:
        self._make = make
        self._info = info

    @overload
    def __call__(self, func_or_cls: type[Any]) -> Callable[..., _P]: ...
    @overload
    def __call__(self, func_or_cls: Callable[..., Any]) -> _P: ...
    def __call__(self, func_or_cls: Any) -> Any:
        return self._make(func_or_cls, self._info(func_or_cls.__name__))


def _make_module_pass(func_or_cls: Any, info: PassInfo) -> Any:
    if isinstance(func_or_cls, type):
        return _ClassPassDecorator(func_or_cls, info)
    return ModulePass(func_or_cls, info)


@overload
def module_pass(
    pass_func: None = None,
    opt_level: int | None = None,
    name: str | None = None,
    required: Sequence[str] | None = None,
    traceable: bool = False,
) -> PassDecorator[ModulePass]: ...
@overload
def module_pass(
    pass_func: ModuleFunc,
    opt_level: int | None = None,
    name: str | None = None,
    required: Sequence[str] | None = None,
    traceable: bool = False,
) -> ModulePass: ...
def module_pass(
    pass_func: ModuleFunc | None = None,
    opt_level: int | None = None,
    name: str | None = None,
    required: Sequence[str] | None = None,
    traceable: bool = False,
) -> ModulePass | PassDecorator[ModulePass]:
    """Make a ModulePass from a function ``(mod, ctx) -> mod`` or a class with
    ``transform_module``, as a decorator (with or without arguments) or a call."""
    if opt_level is None:
        raise TVMError("module_pass: opt_level must be given")
    level = opt_level

    def info(default_name: str) -> PassInfo:
        return PassInfo(level, name or default_name, required, traceable)

    decorator: PassDecorator[ModulePass] = PassDecorator(_make_module_pass, info)
    if pass_func is not None:
        return decorator(pass_func)
    return decorator


# --- a registry of passes by name (for ``required``) -------------------------------------

_PASS_FACTORIES: dict[str, Callable[[], Pass]] = {}


def register_pass(name: str, factory: Callable[[], Pass]) -> None:
    """Make a pass constructible by name, for other passes' ``required`` lists."""
    if name in _PASS_FACTORIES:
        raise TVMError(f"a pass named {name!r} is already registered")
    _PASS_FACTORIES[name] = factory


def get_pass(name: str) -> Pass:
    factory = _PASS_FACTORIES.get(name)
    if factory is None:
        raise TVMError(f"required pass {name!r} is not registered")
    return factory()


def registered_passes() -> dict[str, Callable[[], Pass]]:
    """Every pass registered by name (the deep-program and property suites enrol them all)."""
    return dict(_PASS_FACTORIES)


def PrintIR(header: str = "", show_meta_data: bool = False) -> Pass:  # noqa: N802  (TVM's name)
    """A pass that prints the module and returns it unchanged."""

    def run(mod: IRModule, ctx: PassContext) -> IRModule:
        print(f"PrintIR({header}):\n{mod.astext(show_meta_data=show_meta_data)}")
        return mod

    return ModulePass(run, PassInfo(0, "PrintIR"))
