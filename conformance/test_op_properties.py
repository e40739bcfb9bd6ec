"""Properties of every registered operator over random valid and invalid calls (SPEC OP-41).

The operators are enumerated from the registry, so an operator added later is enrolled here
and fails until ``relay.testing.samplers`` has a sampler for it. For each one:

- valid calls (random shapes, attrs and dtypes, integer and bool ones included where the
  operator takes them) type-check with InferType, and the interpreter's result has exactly
  the type InferType gave the call; on inputs in the sampler's domains every float result is
  finite, and within ``[-1, 1]`` when the sampler promises it (``bounded``);
- invalid calls (bad attrs, shapes, dtypes, argument kinds or counts) raise DiagnosticError
  at InferType, and nothing else.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minitvm.relay.op.define import defined_op_names
from minitvm.relay.testing.op_samplers import (
    SAMPLERS,
    check_invalid_call,
    check_valid_call,
    invalid_calls,
    missing_samplers,
    valid_calls,
)

# Operators the spec tests define for themselves are named ``spec_...``.
OPERATORS = [n for n in defined_op_names() if not n.startswith("spec_")]


def test_every_operator_has_a_sampler() -> None:
    assert not missing_samplers(OPERATORS), "operators without a sampler"
    assert set(SAMPLERS) <= set(OPERATORS), "samplers of operators that are not registered"


@pytest.mark.parametrize("name", OPERATORS)
@given(data=st.data())
def test_relation_agrees_with_kernel(name: str, data: st.DataObject) -> None:
    call = data.draw(valid_calls(name), label="call")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    check_valid_call(call, np.random.default_rng(seed))


@pytest.mark.parametrize("name", OPERATORS)
@given(data=st.data())
def test_invalid_calls_raise_diagnostics(name: str, data: st.DataObject) -> None:
    check_invalid_call(data.draw(invalid_calls(name), label="call"))
