"""SimplifyExpr's arithmetic rules (TVM ``src/relay/transforms/simplify_expr.cc``:
``EliminateIdentityRewrite``, ``FullElementwise``, ``SimplifyAdd``, ``SimplifyRSqrt``,
``SwitchAddMultiply``, ``SimplifyAdjacentMultiplyOrAdd``, ``SimplifyBinomial``).

Constant arithmetic (``c1 * c2`` when ``(x + c1) * c2`` becomes ``x * c2 + c1 * c2``) is done
by the operator's own kernel, as TVM's ``FoldConstantExpr`` does, so the folded constant is
bit-identical to what the program would have computed. Where TVM would build an ill-typed or
a wrong program, the rule does not fire: ``x + x`` stays for booleans (``True + True`` is
``False``), ``x / sqrt(y)`` stays for integers, a ``full`` whose fill value has another dtype
than the operation is not inlined, and the binomial rule only runs on int32/float32/float64
scalars (the dtypes TVM reads coefficients of) and, for integers, only when the factors it
finds are integers.
"""

from __future__ import annotations

import math

import numpy as np
from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.op import Op, OpPattern
from minitvm.ir.type import TensorType
from minitvm.relay.dataflow_pattern import Pattern, is_constant, is_op, wildcard
from minitvm.relay.dataflow_rewrite import DFPatternCallback, NodeMap
from minitvm.relay.expr import Call, Constant, Expr
from minitvm.relay.interpreter.machine import eval_op
from minitvm.relay.op.tensor import add, multiply, rsqrt
from minitvm.relay.transform.local_types import tensor_type, type_of, typed
from minitvm.runtime.dtype import is_bool, is_float
from minitvm.runtime.ndarray import NDArray

__all__ = [
    "EliminateIdentityRewrite",
    "FullElementwise",
    "SimplifyAdd",
    "SimplifyAdjacentMultiplyOrAdd",
    "SimplifyBinomial",
    "SimplifyRSqrt",
    "SwitchAddMultiply",
    "ConstantFolder",
    "constant_scalar",
]


def constant_scalar(dtype: str, value: float) -> Constant:
    """TVM's ``MakeConstantScalar<T>`` with an integer or double ``T`` (the float ``T`` of
    ``pattern_utils.make_constant_scalar`` rounds to float32 first): a rank-0 constant, typed;
    a float becomes an integer by C's conversion (truncation), a non-zero value ``True``."""
    if is_bool(dtype):
        data = np.array(value != 0)
    elif is_float(dtype):
        data = np.array(value, dtype=dtype)
    else:
        data = np.array(math.trunc(value)).astype(dtype)
    data.flags.writeable = False
    return Constant(NDArray(data), checked_type_=TensorType((), dtype))


def scalar_value(expr: Expr) -> float | None:
    """The value of a constant with one element (every dimension 1), as TVM's ``IsScalar`` and
    ``TryToScalar`` read it; None otherwise."""
    if not isinstance(expr, Constant) or any(d != 1 for d in expr.data.shape):
        return None
    return float(expr.data.numpy().reshape(-1)[0])


class ConstantFolder:
    """``op(lhs, rhs)`` of two constants, evaluated by the operator's kernel, as TVM's
    ``FoldConstantExpr``. Results are remembered by operands: a rule applied along a chain of
    additions of one constant folds it once per round, not once per addition."""

    def __init__(self) -> None:
        self._memo: dict[tuple[str, Constant, Constant], Constant] = {}

    def __call__(self, op_name: str, lhs: Expr, rhs: Expr) -> Constant:
        assert isinstance(lhs, Constant)
        assert isinstance(rhs, Constant)
        key = (op_name, lhs, rhs)
        folded = self._memo.get(key)
        if folded is None:
            out = eval_op(Op.get(op_name), None, [lhs.data.numpy(), rhs.data.numpy()])
            assert isinstance(out, np.ndarray)
            out.flags.writeable = False
            ty = TensorType(out.shape, str(out.dtype))
            folded = self._memo[key] = Constant(NDArray(out), checked_type_=ty)
        return folded


def _same_type_or(post: Expr, pre: Expr, candidate: Expr) -> Expr:
    """``candidate`` if it type-checks to ``pre``'s type, else ``post`` (the rule declines)."""
    try:
        built = typed(candidate)
    except DiagnosticError:
        return post
    return built if type_of(built) == type_of(pre) else post


class EliminateIdentityRewrite(DFPatternCallback):
    """``x + 0``, ``x - 0``, ``x * 1``, ``x / 1`` to ``x`` when that keeps the type; zero and
    one are ``zeros``/``ones`` calls, ``*_like`` calls or scalar constants."""

    def __init__(self) -> None:
        self.x = wildcard()
        self.const = is_constant()
        zeros = is_op("zeros")() | is_op("zeros_like")(wildcard()) | self.const
        ones = is_op("ones")() | is_op("ones_like")(wildcard()) | self.const
        self.pattern = (
            is_op("add")(self.x, zeros)
            | is_op("multiply")(self.x, ones)
            | is_op("subtract")(self.x, zeros)
            | is_op("divide")(self.x, ones)
        )

    @override
    def may_fire(self, pre: Call) -> bool:
        # The calls a match covers besides its root are zeros/ones calls, never a root.
        assert isinstance(pre.op, Op)
        name = pre.op.name
        additive = name in ("add", "subtract")
        makers = ("zeros", "zeros_like") if additive else ("ones", "ones_like")
        candidates = pre.args if name in ("add", "multiply") else pre.args[1:]
        for arg in candidates:
            if isinstance(arg, Call) and isinstance(arg.op, Op) and arg.op.name in makers:
                return True
            if scalar_value(arg) == (0.0 if additive else 1.0):
                return True
        return False

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        assert isinstance(pre, Call)
        assert isinstance(post, Call)
        assert isinstance(pre.op, Op)
        x = node_map[self.x]
        x_type = type_of(pre.args[1] if post.args[1] is x else pre.args[0])
        if self.const in node_map:
            value = scalar_value(node_map[self.const])
            identity = 0.0 if pre.op.name in ("add", "subtract") else 1.0
            if value is None or value != identity:
                return post
        return x if x_type == type_of(pre) else post


_FULL_OPS = frozenset(["full", "full_like", "ones", "ones_like", "zeros", "zeros_like"])


class FullElementwise(DFPatternCallback):
    """A broadcast operation with a ``full``/``ones``/``zeros`` operand of the result's shape
    takes the fill value as a scalar instead."""

    def __init__(self) -> None:
        self.x = wildcard()
        data = wildcard()
        self.value = is_constant()
        self.full = is_op("full")(self.value) | is_op("full_like")(data, self.value)
        self.ones = is_op("ones")() | is_op("ones_like")(data)
        self.zeros = is_op("zeros")() | is_op("zeros_like")(data)
        op = wildcard().has_attr({"TOpPattern": int(OpPattern.BROADCAST)})
        full = self.full | self.ones | self.zeros
        self.pattern = op(full, self.x) | op(self.x, full)

    @override
    def may_fire(self, pre: Call) -> bool:
        # The calls a match covers besides its root are full/ones/zeros calls, never a root.
        return any(
            isinstance(arg, Call) and isinstance(arg.op, Op) and arg.op.name in _FULL_OPS
            for arg in pre.args
        )

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        assert isinstance(pre, Call)
        assert isinstance(post, Call)
        x = node_map[self.x]
        full_on_left = post.args[1] is x
        if type_of(pre.args[1] if full_on_left else pre.args[0]) != type_of(pre):
            return post
        dtype = tensor_type(pre).dtype
        value: Expr
        if self.full in node_map:
            value = node_map[self.value]
        else:
            value = constant_scalar(dtype, 1 if self.ones in node_map else 0)
        args = [value, x] if full_on_left else [x, value]
        return _same_type_or(post, pre, Call(post.op, args, post.attrs, post.type_args, post.span))


class SimplifyAdd(DFPatternCallback):
    """``x + x`` to ``x * 2`` (not for booleans, whose addition is exclusive or)."""

    def __init__(self) -> None:
        self.x, self.y = wildcard(), wildcard()
        self.pattern = is_op("add")(self.x, self.y)

    @override
    def may_fire(self, pre: Call) -> bool:
        return pre.args[0] is pre.args[1]

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        x, y = node_map[self.x], node_map[self.y]
        dtype = tensor_type(pre).dtype
        if x is not y or is_bool(dtype):
            return post
        return multiply(x, constant_scalar(dtype, 2))


class SimplifyRSqrt(DFPatternCallback):
    """``n / sqrt(x)`` to ``n * rsqrt(x)`` for floating-point tensors."""

    def __init__(self) -> None:
        self.x, self.numerator = wildcard(), wildcard()
        self.pattern = is_op("divide")(self.numerator, is_op("sqrt")(self.x))

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        if not is_float(tensor_type(pre).dtype):
            return post
        return multiply(node_map[self.numerator], rsqrt(node_map[self.x]))


class SwitchAddMultiply(DFPatternCallback):
    """``(x + c1) * c2`` to ``x * c2 + (c1 * c2)``, the form FoldScaleAxis can fold."""

    def __init__(self) -> None:
        self.x, self.c1, self.c2 = wildcard(), is_constant(), is_constant()
        self.pattern = (self.x + self.c1) * self.c2
        self.fold = ConstantFolder()

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        x, c1, c2 = node_map[self.x], node_map[self.c1], node_map[self.c2]
        if isinstance(x, Constant):
            return post
        return add(multiply(x, c2), self.fold("multiply", c1, c2))


class SimplifyAdjacentMultiplyOrAdd(DFPatternCallback):
    """``x * c1 * c2`` to ``x * (c1 * c2)`` and ``x + c1 + c2`` to ``x + (c1 + c2)``."""

    def __init__(self) -> None:
        self.x, self.c1, self.c2 = wildcard(), is_constant(), is_constant()
        self.pattern = (self.x * self.c1 * self.c2) | (self.x + self.c1 + self.c2)
        self.fold = ConstantFolder()

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        assert isinstance(pre, Call)
        assert isinstance(pre.op, Op)
        x, c1, c2 = node_map[self.x], node_map[self.c1], node_map[self.c2]
        if isinstance(x, Constant):
            return post
        return Call(pre.op, [x, self.fold(pre.op.name, c1, c2)])


_BINOMIAL_DTYPES = ("int32", "float32", "float64")


class SimplifyBinomial(DFPatternCallback):
    """``a*x*x + b*x*y + c*y*y`` to ``a * (x + p*y) * (x + q*y)``, with ``p`` and ``q`` the
    roots TVM computes in double precision (one root twice when the discriminant is below
    1e-4)."""

    def __init__(self) -> None:
        self.x, self.y = wildcard(), wildcard()
        self.a, self.b, self.c = is_constant(), is_constant(), is_constant()
        x, y, a, b, c = self.x, self.y, self.a, self.b, self.c
        plus, times = is_op("add"), is_op("multiply")
        x_sq = times(a, times(x, x)) | times(x, times(a, x)) | times(x, x)
        xy = times(b, times(x, y)) | times(x, times(b, y)) | times(y, times(b, x)) | times(x, y)
        y_sq = times(c, times(y, y)) | times(y, times(c, y)) | times(y, y)
        self.pattern = (
            plus(plus(xy, x_sq), y_sq) | plus(plus(xy, y_sq), x_sq) | plus(plus(x_sq, y_sq), xy)
        )

    @override
    def may_fire(self, pre: Call) -> bool:
        # A condition for matching at all: one argument adds two products, the other is one.
        return any(
            _is_call(inner, "add")
            and _is_call(other, "multiply")
            and all(_is_call(a, "multiply") for a in inner.args)
            for inner, other in (pre.args, pre.args[::-1])
            if isinstance(inner, Call)
        )

    def _coefficient(self, node_map: NodeMap, pattern: Pattern) -> float | None:
        if pattern not in node_map:
            return 1.0
        return scalar_value(node_map[pattern])

    @override
    def callback(self, pre: Expr, post: Expr, node_map: NodeMap) -> Expr:
        dtype = tensor_type(pre).dtype
        coefficients = [self._coefficient(node_map, p) for p in (self.a, self.b, self.c)]
        if dtype not in _BINOMIAL_DTYPES or None in coefficients:
            return post
        a, b, c = (float(v) for v in coefficients if v is not None)
        x, y = node_map[self.x], node_map[self.y]
        if c == 1 and a > 1:
            x, y, a, c = y, x, c, float(np.float32(a))
        discriminant = b * b - 4 * a * c
        if discriminant < 0:
            return post
        root = math.sqrt(discriminant)
        same = discriminant < 10e-5
        p, q = (b + root) / (2 * a), (b - root) / (2 * a)
        if not is_float(dtype) and not _integral(a, p, q if not same else p):
            return post
        first = add(x, multiply(y, constant_scalar(dtype, p)))
        second = first if same else add(x, multiply(y, constant_scalar(dtype, q)))
        return multiply(constant_scalar(dtype, a), multiply(first, second))


def _is_call(expr: Expr, op_name: str) -> bool:
    return isinstance(expr, Call) and isinstance(expr.op, Op) and expr.op.name == op_name


def _integral(*values: float) -> bool:
    return all(float(v).is_integer() for v in values)
