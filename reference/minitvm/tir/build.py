"""``tvm.build`` for PrimFuncs: a target name to a callable (TVM's ``driver/build_module.py``).

Built functions are called in destination-passing style, ``f(a, b, out)``, with NDArrays or
numpy arrays; outputs are written in place. The ``"interp"`` target runs the TIR interpreter.
Other targets register a builder with ``register_target`` (the backends add ``"numba"``,
``"llvm"`` and ``"cuda"`` this way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from typing_extensions import override

from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.module import IRModule
from minitvm.runtime.ndarray import NDArray
from minitvm.tir.function import PrimFunc
from minitvm.tir.interpreter import run_prim_func

__all__ = ["BuiltFunc", "build", "register_target"]

Kernel = Callable[[list[np.ndarray[Any, Any]]], None]
"""A compiled function: runs on the arrays of its arguments, writing outputs in place."""

_TARGETS: dict[str, Callable[[PrimFunc], Kernel]] = {}


def register_target(name: str, builder: Callable[[PrimFunc], Kernel]) -> None:
    """Make ``build(f, target=name)`` use ``builder(f)``; a name can be registered once."""
    if name in _TARGETS:
        raise TVMError(f"build target {name!r} is already registered")
    _TARGETS[name] = builder


def _interp(func: PrimFunc) -> Kernel:
    def kernel(arrays: list[np.ndarray[Any, Any]]) -> None:
        run_prim_func(func, arrays)

    return kernel


register_target("interp", _interp)


class BuiltFunc:
    """A PrimFunc built for a target: ``f(*arrays)`` runs it on NDArrays or numpy arrays."""

    __slots__ = ("func", "kernel", "name", "target")

    def __init__(self, func: PrimFunc, kernel: Kernel, target: str, name: str) -> None:
        self.func = func
        self.kernel = kernel
        self.target = target
        self.name = name

    def __call__(self, *args: NDArray | np.ndarray[Any, Any]) -> None:
        arrays: list[np.ndarray[Any, Any]] = []
        for i, a in enumerate(args):
            if isinstance(a, NDArray):
                arrays.append(np.asarray(a))
            elif isinstance(a, np.ndarray):
                arrays.append(a)
            else:
                raise DiagnosticError(
                    f"{self.name}: argument {i} must be an NDArray or a numpy array, "
                    f"got {type(a).__name__}"
                )
        self.kernel(arrays)

    def __getitem__(self, name: str) -> BuiltFunc:
        if name != self.name:
            raise TVMError(f"the built module has no function {name!r}; it has {self.name!r}")
        return self

    def entry_func(self) -> BuiltFunc:
        return self

    @override
    def __repr__(self) -> str:
        return f"<BuiltFunc {self.name} target={self.target}>"


def build(
    inputs: PrimFunc | IRModule, target: str | None = "interp", name: str | None = None
) -> BuiltFunc:
    """``tvm.build(prim_func, target="interp")``: a callable in destination-passing style.

    An IRModule must hold exactly one function, a PrimFunc.
    """
    func: PrimFunc
    if isinstance(inputs, IRModule):
        funcs = [(gv.name_hint, f) for gv, f in inputs.functions.items()]
        if len(funcs) != 1 or not isinstance(funcs[0][1], PrimFunc):
            raise DiagnosticError("build expects an IRModule holding exactly one PrimFunc")
        name = name or funcs[0][0]
        func = funcs[0][1]
    elif isinstance(inputs, PrimFunc):
        func = inputs
    else:
        raise DiagnosticError(
            f"build expects a PrimFunc or an IRModule, got {type(inputs).__name__}"
        )
    key = str(target or "interp").split()[0]
    builder = _TARGETS.get(key)
    if builder is None:
        raise DiagnosticError(f"unknown build target {target!r}; registered: {sorted(_TARGETS)}")
    symbol = func.attrs.get("global_symbol")
    fname = name or (str(symbol) if symbol is not None else "main")
    return BuiltFunc(func, builder(func), key, fname)
