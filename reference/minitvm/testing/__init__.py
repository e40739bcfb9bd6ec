"""Testing helpers shared by minitvm's suites and by other projects: the ``Backend``
protocol for plugging a backend into the conformance checks, and result comparison."""

from minitvm.testing.backend import (
    Backend,
    CudaBackend,
    GraphBackend,
    InterpreterBackend,
    VMBackend,
    assert_results_match,
    load_backend,
    tolerance,
)

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
