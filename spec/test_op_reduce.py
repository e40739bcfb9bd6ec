"""OP: reductions and their compositions."""

from __future__ import annotations

import numpy as np
import pytest

from minitvm import relay
from minitvm.error import DiagnosticError
from minitvm.ir.op import Op, OpPattern
from spec.op_helpers import evaluate, infer, tt

REDUCE = ["sum", "prod", "max", "min", "mean", "argmax", "argmin", "all", "any"]


def _x(shape: tuple[int, ...], dtype: str = "float32") -> relay.Var:
    return relay.var("x", shape=shape, dtype=dtype)


@pytest.mark.spec("OP-13")
@pytest.mark.parametrize(
    ("axis", "keepdims", "exclude", "expected"),
    [
        (None, False, False, ()),
        (None, True, False, (1, 1, 1)),
        ([], False, False, ()),
        (1, False, False, (2, 4)),
        ([0, -1], False, False, (3,)),
        ([0, -1], True, False, (1, 3, 1)),
        ([1], False, True, (3,)),
        ([1], True, True, (1, 3, 1)),
    ],
)
def test_reduce_axes_rules(
    axis: int | list[int] | None, keepdims: bool, exclude: bool, expected: tuple[int, ...]
) -> None:
    x = _x((2, 3, 4))
    assert infer(relay.sum(x, axis, keepdims, exclude)) == tt(expected)
    assert infer(relay.argmax(x, axis, keepdims, exclude)) == tt(expected, "int32")
    data = np.arange(24, dtype="float32").reshape(2, 3, 4)
    out = evaluate(relay.sum(x, axis, keepdims, exclude), {x: data})
    if axis is None or axis == []:
        axes: tuple[int, ...] = (0, 1, 2)
    else:
        listed = {a % 3 for a in ([axis] if isinstance(axis, int) else axis)}
        axes = tuple(a for a in range(3) if (a in listed) != exclude)
    np.testing.assert_array_equal(out, data.sum(axis=axes, keepdims=keepdims))


@pytest.mark.spec("OP-13")
def test_reduce_values_dtypes_and_patterns() -> None:
    x = _x((2, 3), "int8")
    data = np.array([[100, 100, 100], [-1, 2, -3]], "int8")
    assert evaluate(relay.sum(x, 1), {x: data}).tolist() == [44, -2]  # 300 wraps to 44
    assert evaluate(relay.prod(x, 1), {x: data}).tolist() == [64, 6]  # 10**6 mod 256
    assert evaluate(relay.max(x, 0), {x: data}).tolist() == [100, 100, 100]
    assert evaluate(relay.min(x), {x: data}).tolist() == -3
    assert evaluate(relay.mean(x, 1), {x: data}).tolist() == [14, 0]  # trunc(44/3), trunc(-2/3)
    f = _x((2, 2))
    assert evaluate(relay.mean(f, 0), {f: [[1.0, 2.0], [2.0, 5.0]]}).tolist() == [1.5, 3.5]
    b = _x((2, 3), "bool")
    bits = np.array([[True, True, False], [True, True, True]])
    assert evaluate(relay.sum(b, 1), {b: bits}).tolist() == [False, True]  # parity
    assert evaluate(relay.all(b, 1), {b: bits}).tolist() == [False, True]
    assert evaluate(relay.any(b, [0, 1]), {b: bits}).tolist() is True
    empty = _x((2, 0))
    assert (
        evaluate(relay.max(empty, 1), {empty: np.zeros((2, 0))}).tolist()
        == [float(np.finfo("float32").min)] * 2
    )
    assert evaluate(relay.sum(empty, 1), {empty: np.zeros((2, 0))}).tolist() == [0.0, 0.0]
    with pytest.raises(DiagnosticError, match=r"^all: data must have dtype bool"):
        infer(relay.all(f))
    with pytest.raises(DiagnosticError, match=r"^mean: data must be numeric"):
        infer(relay.mean(b))
    with pytest.raises(DiagnosticError, match="out of range"):
        infer(relay.sum(f, 2))
    with pytest.raises(DiagnosticError, match="twice"):
        infer(relay.sum(f, [1, -1]))
    for name in REDUCE:
        d = Op.get(name).definition
        assert (d.pattern, d.stateful) == (OpPattern.COMM_REDUCE, False), name
    assert relay.sum(f, 1).attrs == relay.op.op_attrs.ReduceAttrs((1,), False, False)


@pytest.mark.spec("OP-14")
def test_argmax_argmin() -> None:
    x = _x((2, 4))
    data = np.array([[1.0, 5.0, 5.0, 0.0], [2.0, -1.0, 2.0, -1.0]], "float32")
    assert evaluate(relay.argmax(x, 1), {x: data}).tolist() == [1, 0]
    assert evaluate(relay.argmax(x, 1, select_last_index=True), {x: data}).tolist() == [2, 2]
    assert evaluate(relay.argmin(x, [1]), {x: data}).tolist() == [3, 1]
    assert evaluate(relay.argmin(x, 1, select_last_index=True), {x: data}).tolist() == [3, 3]
    out = evaluate(relay.argmax(x), {x: data})
    assert out.dtype == np.int32
    assert out.tolist() == 1  # index into the flattened (2, 4)
    keep = evaluate(relay.argmax(x, 0, keepdims=True), {x: data})
    assert keep.tolist() == [[1, 0, 0, 0]]
    y = _x((2, 3, 2))
    ydata = np.zeros((2, 3, 2), "float32")
    ydata[1, 2, 0] = 9.0
    ydata[0, 1, 1] = 7.0
    # Over axes (1, 2) the index is row-major into their (3, 2) flattening.
    assert evaluate(relay.argmax(y, [1, 2]), {y: ydata}).tolist() == [3, 4]
    empty = _x((2, 0))
    assert evaluate(relay.argmax(empty, 1), {empty: np.zeros((2, 0))}).tolist() == [-1, -1]


@pytest.mark.spec("OP-15")
def test_variance_std_and_compositions() -> None:
    x = _x((2, 4))
    data = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 2.0, 2.0]], "float32")
    var = relay.variance(x, axis=1)
    assert isinstance(var.op, relay.op.op.Op)
    assert var.op.name == "variance"
    assert infer(var) == tt((2,))
    np.testing.assert_allclose(evaluate(var, {x: data}), [1.25, 1.0])
    unb = relay.variance(x, axis=1, unbiased=True, keepdims=True)
    assert infer(unb) == tt((2, 1))
    np.testing.assert_allclose(evaluate(unb, {x: data}), [[5 / 3], [4 / 3]], rtol=1e-6)
    np.testing.assert_allclose(
        evaluate(relay.std(x, axis=1), {x: data}), [np.sqrt(1.25), 1.0], rtol=1e-6
    )
    mv = relay.mean_variance(x, axis=1)
    assert len(mv) == 2
    m_out, v_out = evaluate(mv, {x: data})
    np.testing.assert_allclose(m_out, [2.5, 1.0])
    np.testing.assert_allclose(v_out, [1.25, 1.0])
    lse = relay.logsumexp(x, axis=1)
    assert infer(lse) == tt((2,))
    expected = np.log(np.exp(data.astype("float64")).sum(axis=1))
    np.testing.assert_allclose(evaluate(lse, {x: data}), expected, rtol=1e-6)
    bad_mean = relay.var("m", shape=(2, 4))
    with pytest.raises(DiagnosticError, match="mean must have shape"):
        infer(relay.variance(x, axis=1, with_mean=bad_mean))
    xi = _x((2, 4), "int32")
    with pytest.raises(DiagnosticError, match="float"):
        infer(relay.variance(xi, axis=1))
    assert Op.get("variance").definition.pattern == OpPattern.COMM_REDUCE
