"""Elementwise operators (TVM's ``include/tvm/topi/elemwise.h`` and ``topi/math.py``).

Each maps ``x`` to a tensor of the same shape, named ``T_<op>``. Transcendental functions
require float inputs. ``round`` rounds half to even; ``cast`` from float to int truncates
toward zero; ``sign`` is -1, 0 or 1 in the input's dtype. ``fast_exp``, ``fast_tanh`` and
``fast_erf`` are TVM's approximations (a degree-5 polynomial exponential with range reduction,
and rational approximations), within about 1e-6 of the exact functions on float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from minitvm.error import DiagnosticError
from minitvm.runtime.dtype import check_dtype, is_float, is_uint
from minitvm.te.tensor import Tensor
from minitvm.tir import intrin
from minitvm.tir import op as tir_op
from minitvm.tir.expr import ExprLike, IntImm, PrimExpr, Select, const
from minitvm.tir.op import convert
from minitvm.topi.utils import compute

__all__ = [
    "abs",
    "acos",
    "acosh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cast",
    "ceil",
    "clip",
    "cos",
    "cosh",
    "erf",
    "exp",
    "fast_erf",
    "fast_exp",
    "fast_tanh",
    "floor",
    "identity",
    "isfinite",
    "isinf",
    "isnan",
    "log",
    "log2",
    "log10",
    "negative",
    "reinterpret",
    "round",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "tan",
    "tanh",
    "trunc",
]

Unary = Callable[[PrimExpr], PrimExpr]


def _unary(x: Tensor, f: Unary, name: str) -> Tensor:
    return compute(x.shape, lambda ax: f(x(*ax)), f"T_{name}", "elemwise")


def _float_only(x: Tensor, name: str) -> None:
    if not is_float(x.dtype):
        raise DiagnosticError(f"{name} expects a float tensor, got {x.dtype}")


def _float_unary(f: Unary, name: str) -> Callable[[Tensor], Tensor]:
    def op(x: Tensor) -> Tensor:
        _float_only(x, name)
        return _unary(x, f, name)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` of a float tensor."
    return op


exp = _float_unary(intrin.exp, "exp")
erf = _float_unary(intrin.erf, "erf")
tanh = _float_unary(intrin.tanh, "tanh")
sigmoid = _float_unary(intrin.sigmoid, "sigmoid")
sqrt = _float_unary(intrin.sqrt, "sqrt")
rsqrt = _float_unary(intrin.rsqrt, "rsqrt")
log = _float_unary(intrin.log, "log")
log2 = _float_unary(intrin.log2, "log2")
log10 = _float_unary(intrin.log10, "log10")
sin = _float_unary(intrin.sin, "sin")
cos = _float_unary(intrin.cos, "cos")
tan = _float_unary(intrin.tan, "tan")
sinh = _float_unary(intrin.sinh, "sinh")
cosh = _float_unary(intrin.cosh, "cosh")
asin = _float_unary(intrin.asin, "asin")
acos = _float_unary(intrin.acos, "acos")
atan = _float_unary(intrin.atan, "atan")
asinh = _float_unary(intrin.asinh, "asinh")
acosh = _float_unary(intrin.acosh, "acosh")
atanh = _float_unary(intrin.atanh, "atanh")


def floor(x: Tensor) -> Tensor:
    return _unary(x, intrin.floor, "floor")


def ceil(x: Tensor) -> Tensor:
    return _unary(x, intrin.ceil, "ceil")


def round(x: Tensor) -> Tensor:
    """Round half to even."""
    return _unary(x, intrin.round, "round")


def trunc(x: Tensor) -> Tensor:
    return _unary(x, intrin.trunc, "trunc")


def abs(x: Tensor) -> Tensor:
    return _unary(x, tir_op.abs, "abs")


def isnan(x: Tensor) -> Tensor:
    return _unary(x, intrin.isnan, "isnan")


def isfinite(x: Tensor) -> Tensor:
    return _unary(x, intrin.isfinite, "isfinite")


def isinf(x: Tensor) -> Tensor:
    return _unary(x, intrin.isinf, "isinf")


def identity(x: Tensor) -> Tensor:
    return _unary(x, lambda e: e, "identity")


def negative(x: Tensor) -> Tensor:
    return _unary(x, tir_op.neg, "negative")


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 (in ``x``'s dtype); NaN stays NaN."""

    def f(e: PrimExpr) -> PrimExpr:
        zero, one = const(0, e.dtype), const(1, e.dtype)
        if is_uint(e.dtype):
            return Select(tir_op.greater(e, zero), one, zero)
        minus = const(-1, e.dtype)
        inner = Select(tir_op.less(e, zero), minus, e if is_float(e.dtype) else zero)
        return Select(tir_op.greater(e, zero), one, inner)

    return _unary(x, f, "sign")


def _saturate(bound: ExprLike, dtype: str) -> PrimExpr:
    """A clip bound in ``dtype``: numbers are truncated and saturated for integer dtypes."""
    if isinstance(bound, int | float) and not isinstance(bound, bool) and not is_float(dtype):
        lo, hi = tir_op.min_value(dtype), tir_op.max_value(dtype)
        if isinstance(lo, IntImm) and isinstance(hi, IntImm):
            value = (
                math.trunc(bound) if math.isfinite(bound) else (hi.value if bound > 0 else lo.value)
            )
            return const(max(lo.value, min(hi.value, value)), dtype)
    return tir_op.cast(convert(bound), dtype)


def clip(x: Tensor, a_min: ExprLike, a_max: ExprLike) -> Tensor:
    """``max(min(x, a_max), a_min)`` (so ``a_min > a_max`` gives ``a_min``), the bounds
    converted to ``x``'s dtype with saturation."""
    lo = _saturate(a_min, x.dtype)
    hi = _saturate(a_max, x.dtype)
    return _unary(x, lambda e: tir_op.max(tir_op.min(e, hi), lo), "clip")


def cast(x: Tensor | ExprLike, dtype: str) -> Tensor | PrimExpr:
    """``x`` converted to ``dtype`` (a scalar expression stays an expression)."""
    dtype = check_dtype(dtype)
    if not isinstance(x, Tensor):
        return tir_op.cast(convert(x), dtype)
    if x.dtype == dtype:
        return x
    return compute(x.shape, lambda ax: tir_op.cast(x(*ax), dtype), "T_cast", "elemwise")


def reinterpret(x: Tensor, dtype: str) -> Tensor:
    """The bits of each element of ``x`` read as ``dtype`` (same width)."""
    dtype = check_dtype(dtype)
    return compute(
        x.shape, lambda ax: tir_op.reinterpret(x(*ax), dtype), "T_reinterpret", "elemwise"
    )


def atan2(x1: Tensor, x2: Tensor) -> Tensor:
    from minitvm.topi.broadcast import _binary

    return _binary(x1, x2, intrin.atan2, "atan2")


# --- TVM's fast approximations ---------------------------------------------------------------


def _fast_exp_expr(x: PrimExpr) -> PrimExpr:
    """TVM's ``fast_exp``: 2^n * p(f) with n = floor(x*log2(e) + 1/2), p a degree-5
    polynomial on the reduced argument; inputs clamped to [-88.376, 88.376]."""
    d = x.dtype

    def c(v: float) -> PrimExpr:
        return const(v, d)

    x_hi, x_lo = c(88.3762626647950), c(-88.3762626647949)
    log2e, ln2 = c(1.44269504088896341), c(0.6931471805599453)
    p = [
        c(v)
        for v in (
            1.9875691500e-4,
            1.3981999507e-3,
            8.3334519073e-3,
            4.1665795894e-2,
            1.6666665459e-1,
            5.0000001201e-1,
        )
    ]
    xc = tir_op.max(tir_op.min(x, x_hi), x_lo)
    n = intrin.floor(xc * log2e + c(0.5))
    f = xc - n * ln2
    y = p[0]
    for coef in p[1:]:
        y = y * f + coef
    y = y * f * f + f + c(1.0)
    ef = tir_op.reinterpret(
        tir_op.left_shift(tir_op.cast(n, "int32") + const(127, "int32"), const(23, "int32")),
        "float32",
    )
    return tir_op.max(ef * y, x)


def fast_exp(x: Tensor) -> Tensor:
    """exp via range reduction and a polynomial (float32 only, as in TVM)."""
    if x.dtype != "float32":
        return exp(x)
    return _unary(x, _fast_exp_expr, "fast_exp")


def _fast_tanh_expr(x: PrimExpr) -> PrimExpr:
    """TVM's ``fast_tanh``: a rational approximation on x clamped to [-9, 9]."""
    d = x.dtype

    def c(v: float) -> PrimExpr:
        return const(v, d)

    xc = tir_op.max(tir_op.min(x, c(9.0)), c(-9.0))
    x2 = xc * xc
    alpha = [
        c(v)
        for v in (
            -2.76076847742355e-16,
            2.00018790482477e-13,
            -8.60467152213735e-11,
            5.12229709037114e-08,
            1.48572235717979e-05,
            6.37261928875436e-04,
            4.89352455891786e-03,
        )
    ]
    beta = [
        c(v)
        for v in (
            1.19825839466702e-06,
            1.18534705686654e-04,
            2.26843463243900e-03,
            4.89352518554385e-03,
        )
    ]
    p = alpha[0]
    for a in alpha[1:]:
        p = p * x2 + a
    p = p * xc
    q = beta[0]
    for b in beta[1:]:
        q = q * x2 + b
    return p / q


def fast_tanh(x: Tensor) -> Tensor:
    if x.dtype != "float32":
        return tanh(x)
    return _unary(x, _fast_tanh_expr, "fast_tanh")


def _fast_erf_expr(x: PrimExpr) -> PrimExpr:
    """TVM's ``fast_erf`` (from Eigen): a rational approximation on x clamped to [-4, 4]."""
    d = x.dtype

    def c(v: float) -> PrimExpr:
        return const(v, d)

    xc = tir_op.max(tir_op.min(x, c(4.0)), c(-4.0))
    x2 = xc * xc
    alpha = [
        c(v)
        for v in (
            -2.72614225801306e-10,
            2.77068142495902e-08,
            -2.10102402082508e-06,
            -5.69250639462346e-05,
            -7.34990630326855e-04,
            -2.95459980854025e-03,
            -1.60960333262415e-02,
        )
    ]
    beta = [
        c(v)
        for v in (
            -1.45660718464996e-05,
            -2.13374055278905e-04,
            -1.68282697438203e-03,
            -7.37332916720468e-03,
            -1.42647390514189e-02,
        )
    ]
    p = alpha[0]
    for a in alpha[1:]:
        p = p * x2 + a
    p = p * xc
    q = beta[0]
    for b in beta[1:]:
        q = q * x2 + b
    return p / q


def fast_erf(x: Tensor) -> Tensor:
    if x.dtype != "float32":
        return erf(x)
    return _unary(x, _fast_erf_expr, "fast_erf")
