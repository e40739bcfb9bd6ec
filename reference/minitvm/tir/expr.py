"""TIR scalar expressions (TVM's ``include/tvm/tir/expr.h``) and the closed union ``PrimExpr``.

Every node is a frozen, slotted dataclass. Immediates compare by value (Relay uses them as
attribute values); every other node compares and hashes by identity, as TVM's ``ObjectRef``
does. Python operators on expressions build new expressions through ``minitvm.tir.op``, which
matches operand dtypes and folds constants the way TVM's ``tvm::add`` & co. do; ``a == b``
builds an ``EqualOp`` that becomes an ``EQ`` node where an expression is expected and is
``a is b`` where a truth value is expected, exactly as in TVM.

Structural equality is declared, not coded: variables are ``VAR`` nodes, names are ``IGNORE``
fields, and the binding sites (``Let.var``, ``IterVar.var``, ``CommReducer.lhs/rhs``) are
``DEF`` fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeAlias

from typing_extensions import override

from minitvm.error import DiagnosticError
from minitvm.ir.node import DEF, IGNORE, Node, SEqualKind
from minitvm.runtime.dtype import check_dtype, is_bool, is_float

if TYPE_CHECKING:
    from minitvm.tir.buffer import Buffer

__all__ = [
    "EQ",
    "GE",
    "GT",
    "LE",
    "LT",
    "NE",
    "Add",
    "And",
    "BinaryOpExpr",
    "BufferLoad",
    "Call",
    "Cast",
    "CmpExpr",
    "CommReducer",
    "DataProducer",
    "Div",
    "EqualOp",
    "ExprLike",
    "FloatImm",
    "FloorDiv",
    "FloorMod",
    "IntImm",
    "IterVar",
    "IterVarType",
    "Let",
    "Max",
    "Min",
    "Mod",
    "Mul",
    "NotEqualOp",
    "Not",
    "Or",
    "PrimExpr",
    "PrimExprBase",
    "ProducerLoad",
    "Range",
    "Reduce",
    "Select",
    "SizeVar",
    "StringImm",
    "Sub",
    "Var",
    "check_prim_dtype",
    "const",
]


def check_prim_dtype(dtype: object) -> str:
    """A scalar dtype of TIR: a runtime dtype, or ``"handle"`` for buffer data pointers."""
    if dtype == "handle":
        return "handle"
    return check_dtype(dtype)


class PrimExprBase(Node):
    """Python operators on TIR expressions (TVM's ``ExprOp``).

    The arithmetic itself lives in ``minitvm.tir.op``; it is imported where it is used because
    that module builds the nodes defined here.
    """

    __slots__ = ()
    dtype: str

    @override
    def __hash__(self) -> int:
        return id(self)

    def __bool__(self) -> bool:
        raise DiagnosticError(
            f"cannot use a symbolic expression ({self}) as a Python truth value; "
            "use tvm.tir.all / tvm.tir.any / tvm.tir.Select to combine conditions"
        )

    @override
    def __eq__(self, other: object) -> EqualOp | bool:  # type: ignore[override]  # builds EQ, as TVM
        return EqualOp(_as_expr(self), other)

    @override
    def __ne__(self, other: object) -> NotEqualOp | bool:  # type: ignore[override]  # builds NE
        return NotEqualOp(_as_expr(self), other)

    def __add__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.add(_as_expr(self), other)

    def __radd__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.add(other, _as_expr(self))

    def __sub__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.sub(_as_expr(self), other)

    def __rsub__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.sub(other, _as_expr(self))

    def __mul__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.mul(_as_expr(self), other)

    def __rmul__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.mul(other, _as_expr(self))

    def __truediv__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.true_div(_as_expr(self), other)

    def __rtruediv__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.true_div(other, _as_expr(self))

    def __floordiv__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.floordiv(_as_expr(self), other)

    def __rfloordiv__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.floordiv(other, _as_expr(self))

    def __mod__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.floormod(_as_expr(self), other)

    def __rmod__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.floormod(other, _as_expr(self))

    def __pow__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.power(_as_expr(self), other)

    def __rpow__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.power(other, _as_expr(self))

    def __neg__(self) -> PrimExpr:
        from minitvm.tir import op

        return op.neg(_as_expr(self))

    def __abs__(self) -> PrimExpr:
        from minitvm.tir import op

        return op.abs(_as_expr(self))

    def __invert__(self) -> PrimExpr:
        from minitvm.tir import op

        return op.bitwise_not(_as_expr(self))

    def __lt__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.less(_as_expr(self), other)

    def __le__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.less_equal(_as_expr(self), other)

    def __gt__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.greater(_as_expr(self), other)

    def __ge__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.greater_equal(_as_expr(self), other)

    def __and__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.bitwise_and(_as_expr(self), other)

    def __rand__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.bitwise_and(other, _as_expr(self))

    def __or__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.bitwise_or(_as_expr(self), other)

    def __ror__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.bitwise_or(other, _as_expr(self))

    def __xor__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.bitwise_xor(_as_expr(self), other)

    def __rxor__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.bitwise_xor(other, _as_expr(self))

    def __lshift__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.left_shift(_as_expr(self), other)

    def __rshift__(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.right_shift(_as_expr(self), other)

    def equal(self, other: ExprLike) -> PrimExpr:
        from minitvm.tir import op

        return op.equal(_as_expr(self), other)

    def astype(self, dtype: str) -> PrimExpr:
        from minitvm.tir import op

        return op.cast(_as_expr(self), dtype)

    @override
    def __str__(self) -> str:
        from minitvm.tir.script import expr_str

        return expr_str(_as_expr(self))

    @override
    def __repr__(self) -> str:
        return str(self)


def _as_expr(node: PrimExprBase) -> PrimExpr:
    """Narrow ``self`` in the operator methods: every PrimExprBase subclass is in ``PrimExpr``."""
    return node  # type: ignore[return-value]  # every concrete subclass is a PrimExpr member


class _CompareOp:
    """The result of ``a == b`` / ``a != b`` on expressions, as TVM's ``EqualOp``."""

    __slots__ = ("a", "b")
    node_kind: ClassVar[str] = "EQ"

    def __init__(self, a: PrimExpr, b: object) -> None:
        self.a = a
        self.b = b

    def _same(self) -> bool:
        return self.a is self.b

    def asobject(self) -> PrimExpr:
        """The comparison as an expression node."""
        from minitvm.tir import op

        other = self.b
        if isinstance(other, bool | int | float):
            rhs: ExprLike = other
        elif isinstance(other, PrimExprBase):
            rhs = _as_expr(other)
        else:
            raise DiagnosticError(f"cannot compare an expression with {type(other).__name__}")
        builder = op.equal if self.node_kind == "EQ" else op.not_equal
        return builder(self.a, rhs)

    @override
    def __hash__(self) -> int:
        return hash((id(self.a), id(self.b)))


class EqualOp(_CompareOp):
    """``a == b``: an ``EQ`` node in an expression, ``a is b`` as a truth value."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return self._same()


class NotEqualOp(_CompareOp):
    """``a != b``: an ``NE`` node in an expression, ``a is not b`` as a truth value."""

    __slots__ = ()
    node_kind: ClassVar[str] = "NE"

    def __bool__(self) -> bool:
        return not self._same()


# --- immediates -----------------------------------------------------------------------------


def _imm_eq(self: IntImm | FloatImm, other: object) -> EqualOp | bool:
    if isinstance(other, IntImm | FloatImm):
        return type(other) is type(self) and other.dtype == self.dtype and other.value == self.value
    if isinstance(other, bool | int | float):
        return self.value == other
    if isinstance(other, PrimExprBase):
        return EqualOp(self, other)
    return False


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class IntImm(PrimExprBase):
    """An integer (or bool) constant of a given dtype. Compares by dtype and value."""

    dtype: str
    value: int

    def __post_init__(self) -> None:
        dtype = check_dtype(self.dtype)
        if is_float(dtype):
            raise DiagnosticError(f"IntImm needs an integer dtype, got {dtype}")
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "value", int(self.value))

    @override
    def __eq__(self, other: object) -> EqualOp | bool:  # type: ignore[override]  # as TVM
        return _imm_eq(self, other)

    @override
    def __ne__(self, other: object) -> NotEqualOp | bool:  # type: ignore[override]  # as TVM
        if isinstance(other, PrimExprBase) and not isinstance(other, IntImm | FloatImm):
            return NotEqualOp(self, other)
        return not _imm_eq(self, other)

    @override
    def __hash__(self) -> int:
        return hash(self.value)

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value

    @override
    def __bool__(self) -> bool:
        return self.value != 0

    @override
    def __str__(self) -> str:
        return str(self.value)

    @override
    def __repr__(self) -> str:
        return f"IntImm({self.dtype!r}, {self.value})"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class FloatImm(PrimExprBase):
    """A floating-point constant of a given dtype. Compares by dtype and value."""

    dtype: str
    value: float

    def __post_init__(self) -> None:
        dtype = check_dtype(self.dtype)
        if not is_float(dtype):
            raise DiagnosticError(f"FloatImm needs a float dtype, got {dtype}")
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "value", float(self.value))

    @override
    def __eq__(self, other: object) -> EqualOp | bool:  # type: ignore[override]  # as TVM
        return _imm_eq(self, other)

    @override
    def __ne__(self, other: object) -> NotEqualOp | bool:  # type: ignore[override]  # as TVM
        if isinstance(other, PrimExprBase) and not isinstance(other, IntImm | FloatImm):
            return NotEqualOp(self, other)
        return not _imm_eq(self, other)

    @override
    def __hash__(self) -> int:
        return hash(self.value)

    def __float__(self) -> float:
        return self.value

    @override
    def __bool__(self) -> bool:
        return self.value != 0.0

    @override
    def __str__(self) -> str:
        return repr(self.value)

    @override
    def __repr__(self) -> str:
        return f"FloatImm({self.dtype!r}, {self.value!r})"


@dataclass(frozen=True, slots=True)
class StringImm(Node):
    """A string constant (an argument of intrinsics and attributes, never arithmetic)."""

    value: str

    @property
    def dtype(self) -> str:
        return "handle"

    @override
    def __str__(self) -> str:
        return self.value


def const(value: int | float | bool, dtype: str | None = None) -> IntImm | FloatImm:
    """``tvm.tir.const``: an immediate, int32 / float32 / bool by default.

    Integer values are wrapped to the width of ``dtype``, as a C cast of the constant would.
    """
    if dtype is None:
        if isinstance(value, bool):
            dtype = "bool"
        elif isinstance(value, int):
            dtype = "int32" if -(2**31) <= value < 2**31 else "int64"
        else:
            dtype = "float32"
    dtype = check_dtype(dtype)
    if is_float(dtype):
        return FloatImm(dtype, float(value))
    if is_bool(dtype):
        return IntImm(dtype, int(bool(value)))
    return IntImm(dtype, wrap_int(int(value), dtype))


def dtype_bits(dtype: str) -> int:
    """The width of a scalar dtype in bits (bool counts as 1, a handle as 64)."""
    if dtype == "bool":
        return 1
    if dtype == "handle":
        return 64
    return int("".join(ch for ch in dtype if ch.isdigit()))


def wrap_int(value: int, dtype: str) -> int:
    """``value`` wrapped two's-complement style into the range of an integer dtype."""
    if dtype == "bool":
        return int(value != 0)
    bits = dtype_bits(dtype)
    value &= (1 << bits) - 1
    if dtype.startswith("int") and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


# --- variables ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Var(PrimExprBase):
    """A scalar variable. ``name_hint`` is only a hint; identity makes the variable."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.VAR
    name_hint: str = dataclasses.field(default="v", metadata=IGNORE)
    dtype: str = "int32"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", check_prim_dtype(self.dtype))

    @property
    def name(self) -> str:
        return self.name_hint

    def copy_with_suffix(self, suffix: str) -> Var:
        return type(self)(self.name_hint + suffix, self.dtype)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class SizeVar(Var):
    """A variable known to be non-negative (a symbolic shape dimension)."""


class IterVarType(IntEnum):
    """The role of an iteration variable, with TVM's values."""

    DataPar = 0
    ThreadIndex = 1
    CommReduce = 2
    Ordered = 3
    Opaque = 4
    Unrolled = 5
    Vectorized = 6
    Parallelized = 7
    Tensorized = 8


@dataclass(frozen=True, slots=True, eq=False)
class Range(Node):
    """The half-open interval ``[min, min + extent)``."""

    min: PrimExpr
    extent: PrimExpr

    @staticmethod
    def from_min_extent(min_value: ExprLike, extent: ExprLike) -> Range:
        from minitvm.tir.op import convert

        return Range(convert(min_value), convert(extent))

    @override
    def __str__(self) -> str:
        return f"range(min={self.min}, ext={self.extent})"


@dataclass(frozen=True, slots=True, eq=False)
class IterVar(Node):
    """An iteration variable with its domain: a compute axis, a reduce axis, a block var."""

    dom: Range
    var: Var = dataclasses.field(metadata=DEF)
    iter_type: IterVarType = IterVarType.DataPar
    thread_tag: str = ""

    @override
    def __str__(self) -> str:
        return f"iter_var({self.var.name_hint}, {self.dom})"

    # An IterVar stands for its variable in expressions, as in TVM.
    def __add__(self, other: ExprLike) -> PrimExpr:
        return self.var + other

    def __radd__(self, other: ExprLike) -> PrimExpr:
        return other + self.var

    def __sub__(self, other: ExprLike) -> PrimExpr:
        return self.var - other

    def __rsub__(self, other: ExprLike) -> PrimExpr:
        return other - self.var

    def __mul__(self, other: ExprLike) -> PrimExpr:
        return self.var * other

    def __rmul__(self, other: ExprLike) -> PrimExpr:
        return other * self.var

    def __floordiv__(self, other: ExprLike) -> PrimExpr:
        return self.var // other

    def __mod__(self, other: ExprLike) -> PrimExpr:
        return self.var % other

    def __lt__(self, other: ExprLike) -> PrimExpr:
        return self.var < other

    def __le__(self, other: ExprLike) -> PrimExpr:
        return self.var <= other

    def __gt__(self, other: ExprLike) -> PrimExpr:
        return self.var > other

    def __ge__(self, other: ExprLike) -> PrimExpr:
        return self.var >= other


# --- arithmetic, comparison and logic -------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BinaryOpExpr(PrimExprBase):
    """A binary arithmetic node; both operands have the result's dtype (stored, so that
    reading the dtype of a deep expression is constant time)."""

    a: PrimExpr
    b: PrimExpr
    dtype: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        if self.a.dtype != self.b.dtype:
            raise DiagnosticError(
                f"{type(self).__name__}: operand dtypes differ: {self.a.dtype} vs {self.b.dtype}"
            )
        object.__setattr__(self, "dtype", self.a.dtype)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Add(BinaryOpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Sub(BinaryOpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Mul(BinaryOpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Div(BinaryOpExpr):
    """``a / b``: true division on floats, truncated division on integers."""


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Mod(BinaryOpExpr):
    """Truncated remainder (C's ``%``; ``fmod`` on floats)."""


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class FloorDiv(BinaryOpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class FloorMod(BinaryOpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Min(BinaryOpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Max(BinaryOpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class CmpExpr(PrimExprBase):
    """A comparison: operands of one dtype, a bool result."""

    a: PrimExpr
    b: PrimExpr

    def __post_init__(self) -> None:
        if self.a.dtype != self.b.dtype:
            raise DiagnosticError(
                f"{type(self).__name__}: operand dtypes differ: {self.a.dtype} vs {self.b.dtype}"
            )

    @property
    @override
    def dtype(self) -> str:  # type: ignore[override]  # always bool
        return "bool"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class EQ(CmpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class NE(CmpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LT(CmpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class LE(CmpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GT(CmpExpr):
    pass


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class GE(CmpExpr):
    pass


def _check_bool(node: str, *operands: PrimExpr) -> None:
    for x in operands:
        if x.dtype != "bool":
            raise DiagnosticError(f"{node}: expected a bool operand, got {x.dtype} ({x})")


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class And(PrimExprBase):
    a: PrimExpr
    b: PrimExpr

    def __post_init__(self) -> None:
        _check_bool("And", self.a, self.b)

    @property
    @override
    def dtype(self) -> str:  # type: ignore[override]  # always bool
        return "bool"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Or(PrimExprBase):
    a: PrimExpr
    b: PrimExpr

    def __post_init__(self) -> None:
        _check_bool("Or", self.a, self.b)

    @property
    @override
    def dtype(self) -> str:  # type: ignore[override]  # always bool
        return "bool"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Not(PrimExprBase):
    a: PrimExpr

    def __post_init__(self) -> None:
        _check_bool("Not", self.a)

    @property
    @override
    def dtype(self) -> str:  # type: ignore[override]  # always bool
        return "bool"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Select(PrimExprBase):
    """``condition ? true_value : false_value``; both branches may be evaluated."""

    condition: PrimExpr
    true_value: PrimExpr
    false_value: PrimExpr
    dtype: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        from minitvm.tir.op import convert

        for name in ("condition", "true_value", "false_value"):
            object.__setattr__(self, name, convert(getattr(self, name)))
        _check_bool("Select", self.condition)
        if self.true_value.dtype != self.false_value.dtype:
            raise DiagnosticError(
                f"Select: branch dtypes differ: {self.true_value.dtype} vs {self.false_value.dtype}"
            )
        object.__setattr__(self, "dtype", self.true_value.dtype)


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Cast(PrimExprBase):
    """Conversion to ``dtype``: float to int truncates toward zero; ints wrap."""

    dtype: str
    value: PrimExpr

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", check_dtype(self.dtype))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Call(PrimExprBase):
    """A call of an intrinsic named ``op`` (``"tir.exp"``, ``"tir.if_then_else"``...).

    The intrinsics and their semantics are listed in ``minitvm.tir.intrin``.
    """

    dtype: str
    op: str
    args: tuple[PrimExpr | StringImm, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "dtype", check_prim_dtype(self.dtype))
        object.__setattr__(self, "args", tuple(self.args))


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Let(PrimExprBase):
    """``let var = value in body``."""

    var: Var = dataclasses.field(metadata=DEF)
    value: PrimExpr
    body: PrimExpr
    dtype: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        if self.var.dtype != self.value.dtype:
            raise DiagnosticError(
                f"Let: variable {self.var.name_hint} is {self.var.dtype}, "
                f"its value {self.value.dtype}"
            )
        object.__setattr__(self, "dtype", self.body.dtype)


# --- memory ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class BufferLoad(PrimExprBase):
    """``buffer[indices]``."""

    buffer: Buffer
    indices: tuple[PrimExpr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", tuple(self.indices))
        if len(self.indices) != len(self.buffer.shape):
            raise DiagnosticError(
                f"BufferLoad of {self.buffer.name}: {len(self.buffer.shape)} indices expected, "
                f"got {len(self.indices)}"
            )

    @property
    @override
    def dtype(self) -> str:  # type: ignore[override]  # the buffer's dtype
        return self.buffer.dtype


class DataProducer(Protocol):
    """What a ``ProducerLoad`` reads: a TE tensor (``minitvm.te.Tensor``)."""

    @property
    def dtype(self) -> str: ...

    @property
    def shape(self) -> tuple[PrimExpr, ...]: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class ProducerLoad(PrimExprBase):
    """``producer[indices]``: a read of a TE tensor, before lowering turns it into a buffer."""

    producer: DataProducer
    indices: tuple[PrimExpr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "indices", tuple(self.indices))

    @property
    @override
    def dtype(self) -> str:  # type: ignore[override]  # the producer's dtype
        return self.producer.dtype


# --- reductions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class CommReducer(Node):
    """A commutative reducer ``(lhs..., rhs...) -> result...`` with identity elements.

    A tuple reducer (``len(lhs) > 1``) reduces several values at once (argmax keeps an index
    and a value).
    """

    lhs: tuple[Var, ...] = dataclasses.field(metadata=DEF)
    rhs: tuple[Var, ...] = dataclasses.field(metadata=DEF)
    result: tuple[PrimExpr, ...]
    identity_element: tuple[PrimExpr, ...]

    def __post_init__(self) -> None:
        for name in ("lhs", "rhs", "result", "identity_element"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        n = len(self.lhs)
        if not (len(self.rhs) == len(self.result) == len(self.identity_element) == n):
            raise DiagnosticError(
                "CommReducer: lhs, rhs, result and identity_element must have one length"
            )


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Reduce(PrimExprBase):
    """Output ``value_index`` of reducing ``source`` with ``combiner`` over ``axis``,
    counting only the points where ``condition`` holds; ``init`` replaces the identity
    as the starting value when given."""

    combiner: CommReducer
    source: tuple[PrimExpr, ...]
    axis: tuple[IterVar, ...]
    condition: PrimExpr
    value_index: int
    init: tuple[PrimExpr, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", tuple(self.source))
        object.__setattr__(self, "axis", tuple(self.axis))
        object.__setattr__(self, "init", tuple(self.init))

    @property
    @override
    def dtype(self) -> str:  # type: ignore[override]  # the reduced value's dtype
        return self.source[self.value_index].dtype


PrimExpr: TypeAlias = (
    IntImm
    | FloatImm
    | Var
    | Add
    | Sub
    | Mul
    | Div
    | Mod
    | FloorDiv
    | FloorMod
    | Min
    | Max
    | EQ
    | NE
    | LT
    | LE
    | GT
    | GE
    | And
    | Or
    | Not
    | Select
    | Cast
    | Call
    | Let
    | BufferLoad
    | ProducerLoad
    | Reduce
)
"""Every TIR scalar expression. Dispatch over it with ``match`` and ``assert_never``
(``SizeVar`` is a ``Var``)."""

ExprLike: TypeAlias = PrimExpr | IterVar | int | float | bool | EqualOp | NotEqualOp
"""What the expression builders accept: an expression, a Python number, or ``a == b``."""
