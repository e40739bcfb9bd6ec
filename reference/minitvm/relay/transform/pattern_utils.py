"""Small builders shared by the rewriting passes, as TVM's ``src/relay/transforms/pattern_utils.h``.

They build exactly the nodes TVM's helpers build, so the passes that use them (SimplifyInference,
CanonicalizeOps) produce programs structurally equal to TVM's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from minitvm.relay.expr import Constant, Expr
from minitvm.relay.op.transform import expand_dims
from minitvm.runtime.ndarray import NDArray

__all__ = ["expand_bias_to_match_axis", "make_constant_scalar"]


def make_constant_scalar(dtype: str, value: float) -> Constant:
    """A rank-0 constant of ``dtype`` holding ``value``.

    TVM's ``MakeConstantScalar<float>`` takes a C ``float``: the value is rounded to float32
    first and then converted to ``dtype`` (so a float64 epsilon of 1e-5 is float32's 1e-5).
    """
    data = np.array(np.float32(value)).astype(dtype)
    data.flags.writeable = False
    return Constant(NDArray(data))


def expand_bias_to_match_axis(bias: Expr, target_ndim: int, axes: Sequence[int]) -> Expr:
    """Insert unit axes into ``bias`` so that its axes line up with ``axes`` of a
    ``target_ndim``-dimensional tensor under numpy broadcasting.

    ``axes`` are the (non-negative, ascending) axes of the target that the bias's axes stand
    for. Unit axes are added after the last one (to reach the end of the target) and between
    consecutive ones; none before the first, since broadcasting adds leading axes itself.
    """
    for i in range(len(axes), 0, -1):
        if i == len(axes):
            missing = target_ndim - axes[i - 1] - 1
        else:
            missing = axes[i] - axes[i - 1]
        if missing > 0:
            bias = expand_dims(bias, axis=i, num_newaxis=missing)
    return bias
