"""Broadcasting binary operators (TVM ``src/relay/op/tensor/binary.cc``, ``topi/broadcast.h``).

Every operator here takes two tensors of one dtype, broadcasts them numpy-style from the
right (``BroadcastRel``), and is ``BROADCAST`` for fusion. Comparisons return bool
(``BroadcastCompRel``). The kernels reproduce TVM's integer semantics, which differ from
numpy's defaults:

- ``divide``/``mod`` on integers truncate toward zero (C); ``floor_divide``/``floor_mod``
  round toward negative infinity; on floats ``mod`` is ``fmod`` and ``floor_mod`` is
  ``a - floor(a / b) * b``;
- an integer division or modulo by zero gives 0 (TVM's compiled code would trap);
- arithmetic wraps around in the dtype; on bool, arithmetic is modulo 2 (a 1-bit integer);
- shifts by an amount outside ``[0, bits)`` give 0 (``left_shift``) or the sign fill
  (``right_shift``, which is arithmetic on signed types).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.op import OpPattern
from minitvm.ir.type import TensorType, Type
from minitvm.relay.op.define import Array, Value, define_op, tensor_value
from minitvm.relay.op.relation import (
    broadcast_shapes,
    expect_integral,
    same_dtype,
    tensor_arg,
)
from minitvm.runtime.dtype import is_bool, is_float

__all__ = ["BINARY_OPS", "COMPARISON_OPS", "int_div_trunc", "int_mod_trunc"]

BinaryFn = Callable[[Array, Array], Array]


def _operands(arg_types: list[Type]) -> tuple[TensorType, TensorType]:
    lhs = tensor_arg(arg_types, 0, "lhs")
    rhs = tensor_arg(arg_types, 1, "rhs")
    same_dtype(lhs, rhs)
    return lhs, rhs


def broadcast_rel(arg_types: list[Type], attrs: None) -> Type:
    lhs, rhs = _operands(arg_types)
    return TensorType(broadcast_shapes(lhs.shape, rhs.shape), lhs.dtype)


def broadcast_comp_rel(arg_types: list[Type], attrs: None) -> Type:
    lhs, rhs = _operands(arg_types)
    return TensorType(broadcast_shapes(lhs.shape, rhs.shape), "bool")


def _integral_rel(arg_types: list[Type], attrs: None) -> Type:
    out = broadcast_rel(arg_types, attrs)
    expect_integral(tensor_arg(arg_types, 0, "lhs"), "operands", allow_bool=True)
    return out


def _logical_rel(arg_types: list[Type], attrs: None) -> Type:
    out = broadcast_rel(arg_types, attrs)
    if not is_bool(tensor_arg(arg_types, 0, "lhs").dtype):
        raise DiagnosticError(f"operands must be bool, got {tensor_arg(arg_types, 0, 'lhs').dtype}")
    return out


def _shift_rel(arg_types: list[Type], attrs: None) -> Type:
    out = broadcast_rel(arg_types, attrs)
    expect_integral(tensor_arg(arg_types, 0, "lhs"), "operands")
    return out


# --- integer helpers -------------------------------------------------------------------------


def int_div_trunc(a: Array, b: Array) -> Array:
    """C division: the quotient rounded toward zero; 0 where ``b`` is 0."""
    q = np.floor_divide(a, b)
    r = a - q * b
    fix = (r != 0) & ((a < 0) != (b < 0))
    return np.where(b == 0, 0, q + fix).astype(np.result_type(a, b))


def int_mod_trunc(a: Array, b: Array) -> Array:
    """C remainder: the sign of ``a``; 0 where ``b`` is 0."""
    return np.where(b == 0, 0, np.fmod(a, b)).astype(np.result_type(a, b))


def _int_floor_div(a: Array, b: Array) -> Array:
    return np.where(b == 0, 0, np.floor_divide(a, b)).astype(np.result_type(a, b))


def _int_floor_mod(a: Array, b: Array) -> Array:
    return np.where(b == 0, 0, np.mod(a, b)).astype(np.result_type(a, b))


def _int_power(a: Array, b: Array) -> Array:
    """Integer power, wrapping; a negative exponent gives the truncated real result."""
    pos = np.power(a, np.where(b < 0, 0, b))
    neg_one = np.where(b % 2 == 0, 1, -1) if np.issubdtype(a.dtype, np.signedinteger) else 0
    neg = np.where(a == 1, 1, np.where(a == -1, neg_one, 0))
    return np.where(b < 0, neg, pos).astype(a.dtype)


def _on_bool(fn: BinaryFn) -> BinaryFn:
    """Run an integer kernel on bool operands as 1-bit integers (wrapping modulo 2)."""

    def run(a: Array, b: Array) -> Array:
        if a.dtype != np.bool_:
            return fn(a, b)
        return (fn(a.astype(np.int8), b.astype(np.int8)) & 1).astype(np.bool_)

    return run


def _by_kind(float_fn: BinaryFn, int_fn: BinaryFn) -> BinaryFn:
    def run(a: Array, b: Array) -> Array:
        return float_fn(a, b) if is_float(str(a.dtype)) else _on_bool(int_fn)(a, b)

    return run


def _float_floor_mod(a: Array, b: Array) -> Array:
    return np.asarray(a - np.floor(a / b) * b)


def _kernel(fn: BinaryFn) -> Callable[[None, list[Value], Type], Value]:
    def kernel(attrs: None, args: list[Value], out_type: Type) -> Value:
        return np.asarray(fn(tensor_value(args[0]), tensor_value(args[1])))

    return kernel


_ARITH: dict[str, BinaryFn] = {
    "add": _on_bool(np.add),
    "subtract": _on_bool(np.subtract),
    "multiply": _on_bool(np.multiply),
    "divide": _by_kind(np.divide, int_div_trunc),
    "trunc_divide": _by_kind(lambda a, b: np.trunc(a / b), int_div_trunc),
    "floor_divide": _by_kind(lambda a, b: np.floor(a / b), _int_floor_div),
    "mod": _by_kind(np.fmod, int_mod_trunc),
    "trunc_mod": _by_kind(np.fmod, int_mod_trunc),
    "floor_mod": _by_kind(_float_floor_mod, _int_floor_mod),
    "maximum": np.maximum,
    "minimum": np.minimum,
    "power": _by_kind(np.power, _int_power),
}

_LOGICAL: dict[str, BinaryFn] = {
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
}

_BITWISE: dict[str, BinaryFn] = {
    "bitwise_and": np.bitwise_and,
    "bitwise_or": np.bitwise_or,
    "bitwise_xor": np.bitwise_xor,
}

_SHIFTS: dict[str, BinaryFn] = {
    "left_shift": np.left_shift,
    "right_shift": np.right_shift,
}

_COMPARE: dict[str, BinaryFn] = {
    "equal": np.equal,
    "not_equal": np.not_equal,
    "less": np.less,
    "less_equal": np.less_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
}

# TVM registers maximum, minimum and the shifts with an injective schedule but the broadcast
# pattern (RELAY_REGISTER_BINARY_OP); fusion reads the pattern.
BINARY_OPS: tuple[str, ...] = (*_ARITH, *_LOGICAL, *_BITWISE, *_SHIFTS)
COMPARISON_OPS: tuple[str, ...] = tuple(_COMPARE)

_ARGS = (
    ("lhs", "Tensor", "The left hand side tensor."),
    ("rhs", "Tensor", "The right hand side tensor."),
)


def _check_not_bool_power(arg_types: list[Type], attrs: None) -> Type:
    out = broadcast_rel(arg_types, attrs)
    if is_bool(tensor_arg(arg_types, 0, "lhs").dtype):
        raise DiagnosticError("operands must be numeric, got bool")
    return out


def _register() -> None:
    relations: dict[str, Callable[[list[Type], None], Type]] = {
        **dict.fromkeys(_ARITH, broadcast_rel),
        **dict.fromkeys(_LOGICAL, _logical_rel),
        **dict.fromkeys(_BITWISE, _integral_rel),
        **dict.fromkeys(_SHIFTS, _shift_rel),
    }
    relations["power"] = _check_not_bool_power
    for name, fn in {**_ARITH, **_LOGICAL, **_BITWISE, **_SHIFTS}.items():
        define_op(
            name,
            relations[name],
            _kernel(fn),
            num_inputs=2,
            pattern=OpPattern.BROADCAST,
            arguments=_ARGS,
        )
    for name, fn in _COMPARE.items():
        define_op(
            name,
            broadcast_comp_rel,
            _kernel(fn),
            num_inputs=2,
            pattern=OpPattern.BROADCAST,
            arguments=_ARGS,
        )


_register()
