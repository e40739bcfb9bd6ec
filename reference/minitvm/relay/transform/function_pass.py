"""Relay function passes (TVM's ``relay.transform.FunctionPass``).

A function pass rewrites each Relay function of a module independently, skipping functions
marked ``Compiler`` or ``SkipOptimization`` (and leaving PrimFuncs alone), then runs InferType
on the whole module, as TVM does. A pass that reads checked types (``needs_types``) first runs
InferType when some function of the module has not been typed: TVM requires the caller to have
done so, and fails inside the pass otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias, overload

from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, PassContext, PassDecorator, PassInfo, get_pass
from minitvm.relay.function import Function

__all__ = ["FunctionFunc", "FunctionPass", "function_pass", "skip_function"]

FunctionFunc: TypeAlias = Callable[[Function, IRModule, PassContext], Function]


def skip_function(func: Function) -> bool:
    """Whether function passes leave ``func`` untouched (external codegen or opted out)."""
    if func.attrs.get("Compiler") is not None:
        return True
    skip = func.attrs.get("SkipOptimization")
    return skip is not None and bool(skip)


class FunctionPass(Pass):
    """Apply ``pass_func(func, mod, ctx)`` to every Relay function, then InferType."""

    def __init__(self, pass_func: FunctionFunc, info: PassInfo, needs_types: bool = False) -> None:
        self._setup(lambda _mod: pass_func, info, needs_types)

    @staticmethod
    def per_run(
        make: Callable[[IRModule], FunctionFunc], info: PassInfo, needs_types: bool = False
    ) -> FunctionPass:
        """A function pass whose function ``make(mod)`` builds once per run, from the module
        as it is before any function is rewritten (for what a pass reads of the whole
        module: the purity of its functions, the signatures of its globals)."""
        new = object.__new__(FunctionPass)
        new._setup(make, info, needs_types)
        return new

    def _setup(
        self, make: Callable[[IRModule], FunctionFunc], info: PassInfo, needs_types: bool
    ) -> None:
        self._make = make
        self._info = info
        self._needs_types = needs_types

    @override
    @property
    def info(self) -> PassInfo:
        return self._info

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        if self._needs_types and not _typed(mod):
            mod = get_pass("InferType")._run(mod, ctx)
        pass_func = self._make(mod)
        updated = mod.copy()
        for gv, func in mod.functions.items():
            if isinstance(func, Function) and not skip_function(func):
                updated[gv] = pass_func(func, updated, ctx)
        return get_pass("InferType")._run(updated, ctx)


def _typed(mod: IRModule) -> bool:
    """Whether InferType has typed every Relay function (it types a function with its body)."""
    return all(
        func.checked_type_ is not None
        for func in mod.functions.values()
        if isinstance(func, Function)
    )


class _ClassPassDecorator:
    """Wrap a class with ``transform_function`` so instantiating it gives a FunctionPass."""

    def __init__(self, cls: type[Any], info: PassInfo) -> None:
        self._cls = cls
        self._info = info
        self.__name__ = cls.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> FunctionPass:
        inst = self._cls(*args, **kwargs)
        return FunctionPass(inst.transform_function, self._info)


def _make_function_pass(func_or_cls: Any, info: PassInfo) -> Any:
    if isinstance(func_or_cls, type):
        return _ClassPassDecorator(func_or_cls, info)
    return FunctionPass(func_or_cls, info)


@overload
def function_pass(
    pass_func: None = None,
    opt_level: int | None = None,
    name: str | None = None,
    required: Sequence[str] | None = None,
    traceable: bool = False,
) -> PassDecorator[FunctionPass]: ...
@overload
def function_pass(
    pass_func: FunctionFunc,
    opt_level: int | None = None,
    name: str | None = None,
    required: Sequence[str] | None = None,
    traceable: bool = False,
) -> FunctionPass: ...
def function_pass(
    pass_func: FunctionFunc | None = None,
    opt_level: int | None = None,
    name: str | None = None,
    required: Sequence[str] | None = None,
    traceable: bool = False,
) -> FunctionPass | PassDecorator[FunctionPass]:
    """Make a FunctionPass from ``(func, mod, ctx) -> func`` or from a class with
    ``transform_function``, as a decorator (with or without arguments) or a call."""
    if opt_level is None:
        raise TVMError("function_pass: opt_level must be given")
    level = opt_level

    def info(default_name: str) -> PassInfo:
        return PassInfo(level, name or default_name, required, traceable)

    decorator: PassDecorator[FunctionPass] = PassDecorator(_make_function_pass, info)
    if pass_func is not None:
        return decorator(pass_func)
    return decorator
