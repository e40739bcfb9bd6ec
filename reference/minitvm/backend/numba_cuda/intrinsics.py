"""Device functions the generated CUDA kernels call as ``rt.<name>``: the operations of
``minitvm.tir.semantics`` that are not plain arithmetic (the CUDA counterpart of
``minitvm.backend.numba_cpu.intrinsics``).

* Float functions are named per dtype (``rt.exp_f32``, ``rt.exp_f64``). On a GPU they are
  CUDA's libdevice functions (``expf``, ``exp``...), which keep float32 in float32. Under
  numba's simulator, which runs kernels as Python, they are numpy's ufuncs, which give NaN
  and infinities where Python's ``math`` raises; the kernels cast every result back to its
  dtype, so both agree with the CPU kernels within float tolerance.
* ``f32_as_i32``, ``i32_as_f32``, ``f64_as_i64``, ``i64_as_f64`` reinterpret a scalar's
  bits (libdevice's ``float_as_int``... on a GPU, numpy's ``view`` under the simulator);
* ``fmax``/``fmin`` propagate NaN (as the CPU target's ``llvm.maximum`` does); ``isnan``,
  ``isinf``, ``isfinite`` are comparisons.
* The integer helpers are the CPU target's (division and modulo by zero give 0, shifts by
  the width or more give 0 or the sign fill, exact wrapping ``pow``), compiled as CUDA
  device functions from the same Python source.

The key of every cached kernel includes a digest of this file and whether it runs simulated.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import config, cuda

from minitvm.backend.numba_cpu import intrinsics as cpu

__all__ = ["BITCASTS", "FLOAT_BINARY", "FLOAT_UNARY", "SIMULATED"]

SIMULATED = bool(getattr(config, "ENABLE_CUDASIM", 0))

_device: Callable[[Callable[..., Any]], Any] = cuda.jit(device=True)  # type: ignore[no-untyped-call]  # numba is untyped

FLOAT_UNARY: dict[str, tuple[str, Callable[..., Any]]] = {
    # TIR name: (libdevice float64 name, simulator function); float32 adds "f".
    "exp": ("exp", np.exp),
    "exp2": ("exp2", np.exp2),
    "exp10": ("exp10", lambda x: np.power(10.0, x)),
    "log": ("log", np.log),
    "log2": ("log2", np.log2),
    "log10": ("log10", np.log10),
    "log1p": ("log1p", np.log1p),
    "sqrt": ("sqrt", np.sqrt),
    "rsqrt": ("rsqrt", lambda x: 1.0 / np.sqrt(x)),
    "tanh": ("tanh", np.tanh),
    "sin": ("sin", np.sin),
    "cos": ("cos", np.cos),
    "tan": ("tan", np.tan),
    "sinh": ("sinh", np.sinh),
    "cosh": ("cosh", np.cosh),
    "asin": ("asin", np.arcsin),
    "acos": ("acos", np.arccos),
    "atan": ("atan", np.arctan),
    "asinh": ("asinh", np.arcsinh),
    "acosh": ("acosh", np.arccosh),
    "atanh": ("atanh", np.arctanh),
    "fabs": ("fabs", np.abs),
    "floor": ("floor", np.floor),
    "ceil": ("ceil", np.ceil),
    "round": ("rint", np.rint),
    "nearbyint": ("nearbyint", np.rint),
    "trunc": ("trunc", np.trunc),
    "erf": ("erf", math.erf),
}
FLOAT_BINARY: dict[str, tuple[str, Callable[..., Any]]] = {
    "pow": ("pow", np.power),
    "atan2": ("atan2", np.arctan2),
    "fmod": ("fmod", np.fmod),
    "copysign": ("copysign", np.copysign),
    "hypot": ("hypot", np.hypot),
}


BITCASTS: dict[str, tuple[str, Callable[..., Any]]] = {
    # name: (libdevice function, simulator function), reinterpreting a scalar's bits.
    "f32_as_i32": ("float_as_int", lambda x: np.float32(x).view(np.int32)),
    "i32_as_f32": ("int_as_float", lambda x: np.int32(x).view(np.float32)),
    "f64_as_i64": ("double_as_longlong", lambda x: np.float64(x).view(np.int64)),
    "i64_as_f64": ("longlong_as_double", lambda x: np.int64(x).view(np.float64)),
}


def _define_float_functions() -> None:
    table = globals()
    if SIMULATED:
        for name, (_, sim) in (FLOAT_UNARY | FLOAT_BINARY).items():
            table[f"{name}_f32"] = table[f"{name}_f64"] = sim
        for name, (_, sim) in BITCASTS.items():
            table[name] = sim
        return
    from numba.cuda import libdevice

    for name, (dev, _) in (FLOAT_UNARY | FLOAT_BINARY).items():
        table[f"{name}_f64"] = getattr(libdevice, dev)
        table[f"{name}_f32"] = getattr(libdevice, dev + "f")
    for name, (dev, _) in BITCASTS.items():
        table[name] = getattr(libdevice, dev)


_define_float_functions()


def _fmax(a: Any, b: Any) -> Any:
    return a if (a > b) | (a != a) else b


def _fmin(a: Any, b: Any) -> Any:
    return a if (a < b) | (a != a) else b


def _isnan(x: Any) -> bool:
    return bool(x != x)


def _isinf(x: Any) -> bool:
    return bool((x == math.inf) | (x == -math.inf))


def _isfinite(x: Any) -> bool:
    return bool((x == x) & (x != math.inf) & (x != -math.inf))


fmax = _device(_fmax)
fmin = _device(_fmin)
isnan = _device(_isnan)
isinf = _device(_isinf)
isfinite = _device(_isfinite)

idiv = _device(cpu._idiv)
ifloordiv = _device(cpu._ifloordiv)
ifloormod = _device(cpu._ifloormod)
udiv = _device(cpu._udiv)
umod = _device(cpu._umod)
shl = _device(cpu._shl)
shr = _device(cpu._shr)
ushl = _device(cpu._ushl)
ushr = _device(cpu._ushr)
ipow = _device(cpu._ipow)
upow = _device(cpu._upow)
popcount = _device(cpu._popcount)
clz = _device(cpu._clz)


def _imod(a: int, b: int) -> int:
    if (b == 0) | (b == -1):
        return 0
    result: int = a - idiv(a, b) * b
    return result


imod = _device(_imod)
