"""Every operator with a TE compute, compiled for the numba-CUDA target (relay.build and the
graph executor on ``tvm.cuda(0)``), gives the interpreter's results: exactly for integers and
bool, within the float tolerance of ``minitvm.testing`` otherwise. Kernels run on numba's CUDA
simulator unless ``NUMBA_ENABLE_CUDASIM=0`` (set before numba is imported) selects a GPU."""

from __future__ import annotations

import pytest

from conformance.backend_cases import BACKEND_CASES
from conformance.test_backend_ops import _inputs, _module
from conformance.test_topi_relay import Builder, Spec
from minitvm.testing import CudaBackend, InterpreterBackend, assert_results_match


@pytest.mark.parametrize(
    ("name", "build", "specs", "kind"), BACKEND_CASES, ids=[c[0] for c in BACKEND_CASES]
)
def test_operator_on_cuda_equals_interpreter(
    name: str, build: Builder, specs: list[Spec], kind: str
) -> None:
    mod, params = _module(build, specs)
    inputs = dict(zip([p.name_hint for p in params], _inputs(name, specs, kind), strict=True))
    want = InterpreterBackend().run(mod, inputs)
    assert_results_match(CudaBackend().run(mod, inputs), want, name)
