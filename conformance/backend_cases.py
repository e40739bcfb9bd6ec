"""One case per operator with a TE compute, for checking compiled backends against the
interpreter: the cases of the TOPI-vs-kernel suite, the elementwise families on one shape
each, and the operators those leave out."""

from __future__ import annotations

from conformance.test_topi_relay import (
    BINARY,
    BINARY_INT,
    CASES,
    LOGICAL,
    UNARY_FLOAT,
    UNARY_POSITIVE,
    UNARY_UNIT,
    Builder,
    Spec,
)
from minitvm import relay

__all__ = ["BACKEND_CASES", "Case"]

Case = tuple[str, Builder, list[Spec], str]
F = "float32"


def _families() -> list[Case]:
    cases: list[Case] = []
    for name in UNARY_FLOAT + UNARY_POSITIVE + UNARY_UNIT:
        kind = "positive" if name in UNARY_POSITIVE else "unit" if name in UNARY_UNIT else "normal"
        cases.append((name, getattr(relay, name), [((2, 3), F)], kind))
    cases.append(("acosh", relay.acosh, [((2, 3), F)], "positive"))
    for name in BINARY:
        for dtype in (F, "int32"):
            cases.append(
                (
                    f"{name}_{dtype}",
                    getattr(relay, name),
                    [((2, 3), dtype), ((3,), dtype)],
                    "normal",
                )
            )
    for name in [*BINARY_INT, "left_shift", "right_shift", "power"]:
        for dtype in ("int32", "uint8"):
            cases.append(
                (f"{name}_{dtype}", getattr(relay, name), [((2, 3), dtype), ((3,), dtype)], "shift")
            )
    for name in LOGICAL:
        cases.append((name, getattr(relay, name), [((2, 3), "bool"), ((3,), "bool")], "normal"))
    cases.append(("logical_not", relay.logical_not, [((2, 3), "bool")], "normal"))
    for name in ("abs", "negative", "sign", "round", "bitwise_not"):
        cases.append((f"{name}_int8", getattr(relay, name), [((2, 3), "int8")], "normal"))
    for name in ("sum", "prod", "max", "min", "mean", "argmax", "argmin"):
        cases.append((name, lambda x, n=name: getattr(relay, n)(x, 1), [((2, 3, 4), F)], "normal"))
    for name in ("all", "any"):
        cases.append(
            (name, lambda x, n=name: getattr(relay, n)(x, 2), [((2, 3, 4), "bool")], "normal")
        )
    return cases


EXTRA: list[Case] = [
    ("broadcast_to_like", relay.broadcast_to_like, [((3, 1), F), ((2, 3, 4), F)], "normal"),
    ("cast_like", relay.cast_like, [((2, 3), F), ((1,), "int8")], "normal"),
    ("collapse_sum_to", lambda x: relay.collapse_sum_to(x, (3, 1)), [((2, 3, 4), F)], "normal"),
    ("full_like", relay.full_like, [((2, 3), "int32"), ((), "int32")], "normal"),
    ("ones_like", relay.ones_like, [((2, 3), F)], "normal"),
    ("zeros", lambda: relay.zeros((2, 3), "int32"), [], "normal"),
    ("reshape_like", relay.reshape_like, [((2, 6), F), ((3, 4), F)], "normal"),
    ("avg_pool1d", lambda x: relay.nn.avg_pool1d(x, 3, 2, padding=1), [((1, 2, 7), F)], "normal"),
    ("max_pool3d", lambda x: relay.nn.max_pool3d(x, 2, 2), [((1, 1, 4, 4, 4), F)], "normal"),
    (
        "adaptive_avg_pool1d",
        lambda x: relay.nn.adaptive_avg_pool1d(x, 3),
        [((1, 2, 7), F)],
        "normal",
    ),
    (
        "adaptive_max_pool1d",
        lambda x: relay.nn.adaptive_max_pool1d(x, 3),
        [((1, 2, 7), F)],
        "normal",
    ),
    (
        "adaptive_max_pool2d",
        lambda x: relay.nn.adaptive_max_pool2d(x, (2, 3)),
        [((1, 2, 5, 7), F)],
        "normal",
    ),
    (
        "adaptive_avg_pool3d",
        lambda x: relay.nn.adaptive_avg_pool3d(x, (2, 2, 1)),
        [((1, 1, 3, 4, 3), F)],
        "normal",
    ),
    (
        "adaptive_max_pool3d",
        lambda x: relay.nn.adaptive_max_pool3d(x, (1, 2, 2)),
        [((1, 1, 3, 4, 3), F)],
        "normal",
    ),
    ("global_avg_pool2d", relay.nn.global_avg_pool2d, [((1, 3, 4, 5), F)], "normal"),
    (
        "conv1d_transpose",
        lambda x, w: relay.nn.conv1d_transpose(x, w, 2, 1, output_padding=1),
        [((1, 2, 5), F), ((2, 3, 3), F)],
        "normal",
    ),
    (
        "conv3d_transpose",
        lambda x, w: relay.nn.conv3d_transpose(x, w),
        [((1, 2, 3, 3, 2), F), ((2, 2, 2, 2, 2), F)],
        "normal",
    ),
    ("dropout", lambda x: relay.nn.dropout_raw(x, 0.3).astuple(), [((2, 3), F)], "normal"),
    ("fast_softmax", lambda x: relay.nn.fast_softmax(x), [((2, 5), F)], "normal"),
]

BACKEND_CASES: list[Case] = [*CASES, *_families(), *EXTRA]
