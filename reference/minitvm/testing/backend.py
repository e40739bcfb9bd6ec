"""The ``Backend`` protocol: anything that runs a Relay module's ``main`` on numpy inputs.

A backend is an object with a ``name`` and ``run(mod, inputs, params=None)`` returning the
flattened outputs of ``main`` (tuples depth first) as numpy arrays. The conformance suite
checks backends against ``InterpreterBackend``, the oracle, with ``assert_results_match``:
integer and bool results must be equal, float results equal within ``tolerance(dtype)``
(NaN matching NaN). ``GraphBackend`` (``relay.build`` and the graph executor) and
``VMBackend`` (``create_executor("vm")``) are minitvm's compiled backends, ``CudaBackend``
the graph executor on the numba-CUDA target (a GPU, or numba's simulator); another project
provides its own object and names it ``module:attr`` for ``load_backend``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.runtime.container import ADT
from minitvm.runtime.ndarray import NDArray

__all__ = [
    "Backend",
    "CudaBackend",
    "GraphBackend",
    "InterpreterBackend",
    "VMBackend",
    "assert_results_match",
    "load_backend",
    "tolerance",
]

Array = npt.NDArray[Any]


@runtime_checkable
class Backend(Protocol):
    """Runs ``main`` of a module: inputs by parameter name, ``params`` bound as constants."""

    @property
    def name(self) -> str: ...

    def run(
        self,
        mod: IRModule,
        inputs: Mapping[str, Array],
        params: Mapping[str, Array] | None = None,
    ) -> list[Array]: ...


def flatten_result(value: object) -> list[Array]:
    """An executor's result (NDArray, ADT of them) as arrays, depth first."""
    out: list[Array] = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, ADT):
            stack.extend(reversed(v.fields))
        elif isinstance(v, NDArray):
            out.append(v.numpy())
        else:
            raise DiagnosticError(f"a backend result must be tensors and tuples, got {v!r}")
    return out


def _run_executor(
    kind: str,
    target: str,
    mod: IRModule,
    inputs: Mapping[str, Array],
    params: Mapping[str, Array] | None,
) -> list[Array]:
    from minitvm import relay

    ex = relay.create_executor(kind, mod=mod, target=target, params=params)
    return flatten_result(ex.evaluate()(**inputs))


@dataclass(frozen=True)
class InterpreterBackend:
    """The reference interpreter, the oracle."""

    name: str = "interpreter"

    def run(
        self,
        mod: IRModule,
        inputs: Mapping[str, Array],
        params: Mapping[str, Array] | None = None,
    ) -> list[Array]:
        return _run_executor("debug", "llvm", mod, inputs, params)


@dataclass(frozen=True)
class VMBackend:
    """The machine with compiled primitive functions (``create_executor("vm")``)."""

    name: str = "numba-vm"
    target: str = "llvm"

    def run(
        self,
        mod: IRModule,
        inputs: Mapping[str, Array],
        params: Mapping[str, Array] | None = None,
    ) -> list[Array]:
        return _run_executor("vm", self.target, mod, inputs, params)


@dataclass(frozen=True)
class GraphBackend:
    """``relay.build`` and the graph executor (``main`` must be a dataflow graph)."""

    name: str = "numba-graph"
    target: str = "llvm"

    def run(
        self,
        mod: IRModule,
        inputs: Mapping[str, Array],
        params: Mapping[str, Array] | None = None,
    ) -> list[Array]:
        from minitvm import relay
        from minitvm.contrib.graph_executor import GraphModule
        from minitvm.runtime.device import device
        from minitvm.target import Target

        lib = relay.build(mod, self.target, params=params)
        m = GraphModule(lib["default"](device(Target(self.target).kind.device_type, 0)))
        for key, value in inputs.items():
            m.set_input(key, value)
        m.run()
        return [m.get_output(i).numpy() for i in range(m.get_num_outputs())]


@dataclass(frozen=True)
class CudaBackend(GraphBackend):
    """``relay.build`` for ``cuda`` and the graph executor on ``tvm.cuda(0)``."""

    name: str = "numba-cuda"
    target: str = "cuda"


_FLOAT_TOLERANCE = {"float16": 1e-2, "float32": 1e-4, "float64": 1e-9}


def tolerance(dtype: str | np.dtype[Any]) -> float:
    """The relative (and absolute) tolerance for comparing results of ``dtype``: 0 (exact)
    for integers and bool."""
    return _FLOAT_TOLERANCE.get(str(np.dtype(dtype)), 0.0)


def assert_results_match(
    got: Sequence[Array], want: Sequence[Array], what: str = "", rtol: float | None = None
) -> None:
    """Same count, dtypes and shapes; equal values (floats within ``tolerance``)."""
    prefix = f"{what}: " if what else ""
    if len(got) != len(want):
        raise AssertionError(f"{prefix}{len(got)} outputs, expected {len(want)}")
    for k, (g, w) in enumerate(zip(got, want, strict=True)):
        g, w = np.asarray(g), np.asarray(w)
        if g.dtype != w.dtype or g.shape != w.shape:
            raise AssertionError(
                f"{prefix}output {k} is {g.dtype}{list(g.shape)}, expected {w.dtype}{list(w.shape)}"
            )
        tol = tolerance(w.dtype) if rtol is None else rtol
        if tol:
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True, err_msg=prefix)
        else:
            np.testing.assert_array_equal(g, w, err_msg=prefix)


def load_backend(spec: str) -> Backend:
    """``module:attr`` naming a Backend object, or a callable returning one."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise DiagnosticError(f"a backend is named 'module:attr', got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DiagnosticError(f"cannot import backend module {module_name!r}: {exc}") from None
    obj = getattr(module, attr, None)
    if obj is None:
        raise DiagnosticError(f"module {module_name!r} has no attribute {attr!r}")
    # A class (or a factory function) is called; an instance is used as it is.
    backend: object = obj
    if isinstance(obj, type) or (callable(obj) and not isinstance(obj, Backend)):
        backend = obj()
    if isinstance(backend, type) or not isinstance(backend, Backend):
        raise DiagnosticError(f"{spec} is not a Backend (it needs a name and a run method)")
    return backend
