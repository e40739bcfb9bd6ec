"""Test configuration shared by spec/ and conformance/: hypothesis profiles, and numba's
CUDA simulator.

``ci`` (the default) is derandomized and bounded so a run is repeatable and fits CI's budget;
``deep`` explores many more examples: ``pytest --hypothesis-profile=deep``. ``explore`` draws
``ci``'s number of examples from a seed of your choice, to look beyond the examples ``ci``
always draws: ``pytest --hypothesis-profile=explore --hypothesis-seed=N``.

The numba-CUDA target's tests run its kernels on numba's simulator unless the environment
says otherwise (``NUMBA_ENABLE_CUDASIM=0`` runs them on a GPU). numba reads the variable when
it is first imported, so it is set here, before anything imports numba; the numba-CPU target
is unaffected by it.
"""

import os

os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from minitvm.ir.transform import PassContext
from minitvm.relay.transform import WellFormedInstrument

# Set in full on every profile: under a CI environment hypothesis changes its defaults
# (derandomize among them), which a profile would otherwise inherit.
_COMMON = {
    "deadline": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", derandomize=True, max_examples=40, **_COMMON)
settings.register_profile("deep", derandomize=False, max_examples=2000, **_COMMON)
settings.register_profile("explore", derandomize=False, max_examples=40, **_COMMON)
settings.load_profile("ci")

# Worker processes (pytest-xdist) inherit this, so string hashing, and with it the order of
# any set iteration in the generators, is the same in every run.
os.environ.setdefault("PYTHONHASHSEED", "0")


@pytest.fixture(autouse=True)
def _well_formedness_instrument(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run every test inside a PassContext whose instrument re-checks scoping and types after
    each pass, so any pass that produces a malformed module fails the test that ran it.

    A test that opens its own PassContext replaces the instrument inside that block (contexts
    do not inherit instruments, as in TVM). Tests marked ``without_wellformed_check`` (the
    100,000-node programs, which check their results directly) run without it.
    """
    if request.node.get_closest_marker("without_wellformed_check") is not None:
        yield
        return
    with PassContext(instruments=[WellFormedInstrument()]):
        yield
