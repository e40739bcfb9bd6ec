"""Relay function passes (TVM's ``relay.transform.FunctionPass``).

A function pass rewrites each Relay function of a module independently, skipping functions
marked ``Compiler`` or ``SkipOptimization`` (and leaving PrimFuncs alone), then runs InferType
on the whole module, as TVM does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from typing_extensions import override

from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, PassContext, PassInfo, get_pass
from minitvm.relay.function import Function

__all__ = ["FunctionPass", "function_pass", "skip_function"]

FunctionFunc: TypeAlias = Callable[[Function, IRModule, PassContext], Function]


def skip_function(func: Function) -> bool:
    """Whether function passes leave ``func`` untouched (external codegen or opted out)."""
    if func.attrs.get("Compiler") is not None:
        return True
    skip = func.attrs.get("SkipOptimization")
    return skip is not None and bool(skip)


class FunctionPass(Pass):
    """Apply ``pass_func(func, mod, ctx)`` to every Relay function, then InferType."""

    def __init__(self, pass_func: FunctionFunc, info: PassInfo) -> None:
        self._func = pass_func
        self._info = info

    @override
    @property
    def info(self) -> PassInfo:
        return self._info

    @override
    def transform_module(self, mod: IRModule, ctx: PassContext) -> IRModule:
        updated = mod.copy()
        for gv, func in mod.functions.items():
            if isinstance(func, Function) and not skip_function(func):
                updated[gv] = self._func(func, updated, ctx)
        return get_pass("InferType")._run(updated, ctx)


def function_pass(
    pass_func: Any = None,
    opt_level: int | None = None,
    name: str | None = None,
    required: Sequence[str] | None = None,
    traceable: bool = False,
) -> Any:
    """Make a FunctionPass from ``(func, mod, ctx) -> func`` or from a class with
    ``transform_function``, as a decorator (with or without arguments) or a call."""
    if opt_level is None:
        raise TVMError("function_pass: opt_level must be given")

    def create(func_or_cls: Any) -> Any:
        info = PassInfo(opt_level, name or func_or_cls.__name__, required, traceable)
        if isinstance(func_or_cls, type):
            cls = func_or_cls

            class PyFunctionPass(FunctionPass):
                def __init__(self, *args: Any, **kwargs: Any) -> None:
                    inst = cls(*args, **kwargs)
                    super().__init__(inst.transform_function, info)
                    self._inst = inst

                def __getattr__(self, attr: str) -> Any:
                    return getattr(self._inst, attr)

            PyFunctionPass.__name__ = cls.__name__
            return PyFunctionPass
        return FunctionPass(func_or_cls, info)

    if pass_func is not None:
        return create(pass_func)
    return create
