"""Building blocks of type relations: argument and attribute checks with precise diagnostics.

TVM's relations (``src/relay/op/type_relations.cc`` and each operator's ``...Rel``) check
their inputs with ``ICHECK`` and ``reporter->GetDiagCtx().Emit``; here every check raises a
DiagnosticError that says what was expected and what was found. ``define_op`` prefixes the
operator's name.
"""

from __future__ import annotations

from collections.abc import Sequence

from minitvm.error import DiagnosticError
from minitvm.ir.op import broadcast_shapes
from minitvm.ir.type import TensorType, TupleType, Type
from minitvm.runtime.dtype import DTYPES, is_bool, is_float, is_int, is_uint

__all__ = [
    "bool_attr",
    "broadcast_shapes",
    "float_attr",
    "int_attr",
    "check_dtype_attr",
    "expect_float",
    "expect_integral",
    "int_tuple",
    "normalize_axes",
    "normalize_axis",
    "prod",
    "same_dtype",
    "tensor_arg",
    "tuple_arg",
]


def tensor_arg(arg_types: Sequence[Type], index: int, what: str = "data") -> TensorType:
    ty = arg_types[index]
    if not isinstance(ty, TensorType):
        raise DiagnosticError(f"argument {index} ({what}) must be a tensor, got {ty}")
    return ty


def tuple_arg(arg_types: Sequence[Type], index: int, what: str = "data") -> list[TensorType]:
    """A tuple of tensors (``concatenate``'s input); at least one field."""
    ty = arg_types[index]
    if not isinstance(ty, TupleType):
        raise DiagnosticError(f"argument {index} ({what}) must be a tuple of tensors, got {ty}")
    if not ty.fields:
        raise DiagnosticError(f"argument {index} ({what}) must not be an empty tuple")
    out: list[TensorType] = []
    for i, f in enumerate(ty.fields):
        if not isinstance(f, TensorType):
            raise DiagnosticError(
                f"field {i} of argument {index} ({what}) must be a tensor, got {f}"
            )
        out.append(f)
    return out


def same_dtype(a: TensorType, b: TensorType, what: str = "operands") -> str:
    if a.dtype != b.dtype:
        raise DiagnosticError(f"{what} must have the same dtype, got {a.dtype} and {b.dtype}")
    return a.dtype


def expect_float(ty: TensorType, what: str = "data") -> None:
    if not is_float(ty.dtype):
        raise DiagnosticError(f"{what} must have a float dtype, got {ty.dtype}")


def expect_integral(ty: TensorType, what: str = "data", allow_bool: bool = False) -> None:
    ok = is_int(ty.dtype) or is_uint(ty.dtype) or (allow_bool and is_bool(ty.dtype))
    if not ok:
        kinds = "an integer or bool" if allow_bool else "an integer"
        raise DiagnosticError(f"{what} must have {kinds} dtype, got {ty.dtype}")


def check_dtype_attr(value: object, what: str = "dtype") -> str:
    """A dtype given as an attribute (``cast(x, "int8")``), as a canonical string."""
    name = "int32" if value == "int" else value
    if not isinstance(name, str) or name not in DTYPES:
        raise DiagnosticError(f"{what} must be one of {', '.join(DTYPES)}, got {value!r}")
    return name


def normalize_axis(axis: object, ndim: int, what: str = "axis") -> int:
    """``axis`` in ``[-ndim, ndim)`` as a non-negative index."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise DiagnosticError(f"{what} must be an integer, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise DiagnosticError(f"{what} {axis} is out of range for a tensor of rank {ndim}")
    return axis + ndim if axis < 0 else axis


def normalize_axes(
    axes: Sequence[object], ndim: int, what: str = "axis", unique: bool = True
) -> list[int]:
    out = [normalize_axis(a, ndim, what) for a in axes]
    if unique and len(set(out)) != len(out):
        raise DiagnosticError(f"{what} {tuple(axes)} names an axis twice")
    return out


def int_tuple(
    value: object,
    what: str,
    length: int | None = None,
    minimum: int | None = None,
) -> tuple[int, ...]:
    """A tuple of integers (an attribute such as ``strides``), checked for length and bound."""
    if not isinstance(value, tuple | list):
        raise DiagnosticError(f"{what} must be a tuple of integers, got {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int):
            raise DiagnosticError(f"{what} must be a tuple of integers, got {value!r}")
        if minimum is not None and v < minimum:
            raise DiagnosticError(f"{what} entries must be >= {minimum}, got {tuple(value)}")
    if length is not None and len(value) != length:
        raise DiagnosticError(f"{what} must have {length} entries, got {tuple(value)}")
    return tuple(value)


def prod(dims: Sequence[int]) -> int:
    out = 1
    for d in dims:
        out *= d
    return out


def int_attr(
    value: object, what: str, minimum: int | None = None, maximum: int | None = None
) -> int:
    """An integer attribute within ``[minimum, maximum]``. Attrs are typed, but a parsed or
    hand-made attrs object may hold anything, so relations check at run time."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise DiagnosticError(f"{what} must be an integer, got {value!r}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        lo = "-inf" if minimum is None else minimum
        hi = "inf" if maximum is None else maximum
        raise DiagnosticError(f"{what} must be in [{lo}, {hi}], got {value}")
    return value


def float_attr(value: object, what: str, minimum: float | None = None) -> float:
    """A real-valued attribute (ints accepted), at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DiagnosticError(f"{what} must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise DiagnosticError(f"{what} must be >= {minimum}, got {value}")
    return float(value)


def bool_attr(value: object, what: str) -> bool:
    if not isinstance(value, bool | int):
        raise DiagnosticError(f"{what} must be a bool, got {value!r}")
    return bool(value)
