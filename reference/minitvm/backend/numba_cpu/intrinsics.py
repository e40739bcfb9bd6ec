"""Scalar helpers the generated kernels call: the TIR operations whose C meaning is undefined
or differs from ``minitvm.tir.semantics``, compiled with numba.

Generated modules import this module as ``rt`` and call ``rt.fmax(a, b)`` & co.; numba
compiles each helper for the argument types it meets and LLVM inlines it into the kernel.
Integers reach these helpers in the kernels' *integer domain*: every integer dtype narrower
than 64 bits, signed or not, is carried as an ``int64`` (and wrapped back into its dtype by
the caller when the result may leave it); ``uint64`` is carried as itself. So:

* ``fmax``/``fmin`` propagate NaN, as ``numpy.maximum`` does (Python's ``max`` does not);
* integer division and modulo by zero give 0, and ``INT64_MIN / -1`` wraps (LLVM's ``sdiv``
  would trap), truncated (``idiv``) or floored (``ifloordiv``);
* shifts by the dtype's width or more give 0 (left) or the sign fill (right), as numpy's;
* integer ``pow`` is exact and wraps; a negative exponent gives the truncated real result;
* ``exp_f32`` is a vectorizable float32 exponential (range reduction and a degree-7
  polynomial, within 1.5 float32 ulps of the exact value, as accurate as numpy's own SIMD
  ``exp``), because LLVM cannot vectorize calls of libm's ``expf``;
* ``bitcast`` reinterprets the bits of a scalar (TIR's ``reinterpret``).

The key of every cached kernel includes a digest of this file's text, so changing a helper
recompiles the kernels that inline it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = [
    "bitcast",
    "clz",
    "exp_f32",
    "fmax",
    "fmin",
    "idiv",
    "ifloordiv",
    "ifloormod",
    "imod",
    "ipow",
    "popcount",
    "shl",
    "shr",
    "sigmoid_f32",
    "udiv",
    "umod",
    "upow",
    "ushl",
    "ushr",
]

F = TypeVar("F", bound=Callable[..., Any])


def _jit(fn: F) -> F:
    """``numba.njit`` for a helper: cached, numpy's error model (no ZeroDivisionError)."""
    return cast(F, njit(cache=True, error_model="numpy")(fn))


# --- floats ---------------------------------------------------------------------------------


def _llvm_float_op(name: str) -> Any:
    """A numba intrinsic calling LLVM's ``llvm.<name>`` on two floats of one type."""

    def typer(typingctx: object, a: Any, b: Any) -> tuple[object, Callable[..., object]] | None:
        if not isinstance(a, types.Float) or a != b:
            return None

        def codegen(context: object, builder: Any, signature: object, args: Any) -> object:
            lty = args[0].type
            symbol = f"llvm.{name}.{'f64' if lty == ir.DoubleType() else 'f32'}"
            fn = builder.module.globals.get(symbol)
            if fn is None:
                fn = ir.Function(builder.module, ir.FunctionType(lty, [lty, lty]), symbol)
            return builder.call(fn, args)

        return a(a, b), codegen

    typer.__name__ = f"_{name}"
    return intrinsic(typer)


# LLVM's ``maximum``/``minimum`` propagate NaN (IEEE 754-2019), as numpy's do, and unlike a
# compare-and-select they vectorize, also as reductions.
fmax = _llvm_float_op("maximum")
fmin = _llvm_float_op("minimum")


def _i32_as_f32_typer(typingctx: object, x: object) -> tuple[object, Callable[..., object]]:
    sig = types.float32(types.int32)

    def codegen(context: object, builder: Any, signature: object, args: Any) -> object:
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


_i32_as_f32: Any = intrinsic(_i32_as_f32_typer)

# float32 constants (numba types Python floats as float64, which would widen the arithmetic).
_F = np.float32
_LOG2E = _F(1.4426950408889634)
_LN2_HI = _F(0.693359375)
_LN2_LO = _F(-2.12194440e-4)
_EXP_LO = _F(-104.0)
_EXP_HI = _F(89.0)
_EXP_OVERFLOW = _F(88.72283905206835)
_HALF = _F(0.5)
_ONE = _F(1.0)
_INF = _F(np.inf)
_C2, _C3, _C4, _C5, _C6, _C7 = (_F(1.0 / k) for k in (2, 6, 24, 120, 720, 5040))


def _exp_f32(x: np.float32) -> np.float32:
    # exp(x) = 2**n * exp(r), |r| <= ln2/2 (Cody-Waite split of ln2), exp(r) by its degree-7
    # Taylor polynomial; 2**n built from exponent bits in two halves, so that results down in
    # the subnormal range round once, in the last multiplication.
    xc = min(max(x, _EXP_LO), _EXP_HI)
    n = np.floor(xc * _LOG2E + _HALF)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    p = _ONE + r * (_ONE + r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * _C7))))))
    ni = np.int32(n)
    n1 = ni >> 1
    n2 = ni - n1
    s1 = _i32_as_f32(np.int32((n1 + 127) << 23))
    s2 = _i32_as_f32(np.int32((n2 + 127) << 23))
    res = (p * s1) * s2
    res = _INF if x > _EXP_OVERFLOW else res
    return x if x != x else res


exp_f32 = _jit(_exp_f32)


def _sigmoid_f32(x: np.float32) -> np.float32:
    return _ONE / (_ONE + exp_f32(-x))


sigmoid_f32 = _jit(_sigmoid_f32)


# --- integers in the int64 domain -------------------------------------------------------------


def _idiv(a: int, b: int) -> int:
    if b == 0:
        return 0
    if b == -1:
        return -a
    q = a // b
    if (q * b != a) & ((a < 0) != (b < 0)):
        q += 1
    return q


def _ifloordiv(a: int, b: int) -> int:
    if b == 0:
        return 0
    if b == -1:
        return -a
    return a // b


def _ifloormod(a: int, b: int) -> int:
    if (b == 0) | (b == -1):
        return 0
    return a % b


idiv = _jit(_idiv)


def _imod(a: int, b: int) -> int:
    if (b == 0) | (b == -1):
        return 0
    return a - idiv(a, b) * b


imod = _jit(_imod)
ifloordiv = _jit(_ifloordiv)
ifloormod = _jit(_ifloormod)


def _udiv(a: int, b: int) -> int:
    return a // b if b != 0 else a - a


def _umod(a: int, b: int) -> int:
    return a % b if b != 0 else a - a


udiv = _jit(_udiv)
umod = _jit(_umod)


def _shl(a: int, b: int, bits: int) -> int:
    return a << b if (b >= 0) & (b < bits) else 0


def _shr(a: int, b: int, bits: int) -> int:
    if (b >= 0) & (b < bits):
        return a >> b
    return -1 if a < 0 else 0


shl = _jit(_shl)
shr = _jit(_shr)


def _ushl(a: int, b: int) -> int:
    return a << b if b < 64 else a - a


def _ushr(a: int, b: int) -> int:
    return a >> b if b < 64 else a - a


ushl = _jit(_ushl)
ushr = _jit(_ushr)


def _ipow(a: int, e: int) -> int:
    if e < 0:
        if a == 1:
            return 1
        if a == -1:
            return -1 if e % 2 != 0 else 1
        return 0
    result = 1
    base = a
    while e > 0:
        if e & 1:
            result = result * base
        base = base * base
        e >>= 1
    return result


def _upow(a: int, e: int) -> int:
    result = a - a + 1
    base = a
    while e > 0:
        if e & 1:
            result = result * base
        base = base * base
        e >>= 1
    return result


ipow = _jit(_ipow)
upow = _jit(_upow)


def _popcount(x: int, bits: int) -> int:
    v = x & ((1 << bits) - 1) if bits < 64 else x
    count = 0
    for k in range(bits):
        count += (v >> k) & 1
    return count


def _clz(x: int, bits: int) -> int:
    v = x & ((1 << bits) - 1) if bits < 64 else x
    n = 0
    for k in range(bits - 1, -1, -1):
        if (v >> k) & 1:
            break
        n += 1
    return n


popcount = _jit(_popcount)
clz = _jit(_clz)


# --- bits -------------------------------------------------------------------------------------


def _llvm_type(ty: Any) -> ir.Type:
    if isinstance(ty, types.Float):
        return ir.DoubleType() if ty.bitwidth == 64 else ir.FloatType()
    return ir.IntType(ty.bitwidth)


def _bitcast_typer(
    typingctx: object, x: Any, ty: Any
) -> tuple[object, Callable[..., object]] | None:
    target = ty.instance_type if isinstance(ty, types.NumberClass) else None
    if target is None or target.bitwidth != x.bitwidth:
        return None
    sig = target(x, ty)

    def codegen(context: object, builder: Any, signature: object, args: Any) -> object:
        return builder.bitcast(args[0], _llvm_type(target))

    return sig, codegen


bitcast: Any = intrinsic(_bitcast_typer)
"""``bitcast(x, np.int32)``: the bits of scalar ``x`` read as the given type (same width)."""
