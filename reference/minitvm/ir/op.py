"""Operators and their registry.

Each operator has one record, ``OpDef``, holding everything any consumer needs: arity, attrs
type, type relation, fusion pattern, statefulness and the numpy reference kernel. ``Op`` is
the interned expression node that names an operator; ``Op.get(name).definition`` is its record.
The registration calls on ``Op`` (``set_num_inputs``, ``add_type_rel``...) mirror TVM's
Python API for custom operators and replace the record with an updated copy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, TypeAlias

from typing_extensions import override

from minitvm.error import DiagnosticError, TVMError
from minitvm.ir.attrs import Attrs
from minitvm.ir.expr import RelayExpr
from minitvm.ir.node import SEqualKind
from minitvm.ir.type import TensorType, Type

__all__ = [
    "Kernel",
    "Op",
    "OpDef",
    "OpPattern",
    "TypeRelation",
    "broadcast_shapes",
    "get_op_def",
    "list_op_names",
    "register_op",
    "register_op_attr",
    "register_pattern",
    "register_stateful",
]


class OpPattern(IntEnum):
    """How an operator may fuse, with TVM's values (``TOpPattern``)."""

    ELEMWISE = 0
    BROADCAST = 1
    INJECTIVE = 2
    COMM_REDUCE = 3
    OUT_ELEMWISE_FUSABLE = 4
    TUPLE = 7
    OPAQUE = 8


TypeRelation: TypeAlias = Callable[[list[Type], Any], Type]
"""``rel(arg_types, attrs) -> output type``. Called once every argument type is known
(no ``IncompleteType`` or ``TypeVar`` inside); raises DiagnosticError for invalid input.
``attrs`` is the call's attrs object or None."""

Kernel: TypeAlias = Callable[[Any, list[Any], Type], Any]
"""``kernel(attrs, args, out_type) -> value``: numpy reference semantics of an operator.
Values are numpy arrays, or tuples of values for tuple-typed arguments and results."""


@dataclass(frozen=True, slots=True)
class OpDef:
    """Everything known about one operator."""

    name: str
    num_inputs: int = -1
    """Number of arguments; -1 means the relation checks arity itself."""
    type_rel: TypeRelation | None = None
    type_rel_name: str = ""
    attrs_type: type[Attrs] | None = None
    pattern: OpPattern = OpPattern.OPAQUE
    stateful: bool = False
    reshape_only: bool = False
    """TVM's ``TReshapeOp``: FuseOps marks a group made only of these ``relay.reshape_only``."""
    non_computational: bool = False
    kernel: Kernel | None = None
    arguments: tuple[tuple[str, str, str], ...] = ()
    support_level: int = 10
    description: str = ""
    extra: tuple[tuple[str, Any], ...] = ()
    """Attributes later layers attach (``FTVMCompute``...), as ``(key, value)`` pairs."""

    def get_extra(self, key: str) -> Any:
        for k, v in self.extra:
            if k == key:
                return v
        return None


_REGISTRY: dict[str, OpDef] = {}
_OPS: dict[str, Op] = {}


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class Op(RelayExpr):
    """A primitive operator, interned by name: ``Op.get("add") is Op.get("add")``."""

    sequal_kind: ClassVar[SEqualKind] = SEqualKind.NAMED
    name: str = ""

    @staticmethod
    def get(name: str) -> Op:
        """The operator registered as ``name``; raises TVMError if there is none."""
        op = _OPS.get(name)
        if op is None:
            raise TVMError(f"operator {name!r} is not registered")
        return op

    @property
    def definition(self) -> OpDef:
        return _REGISTRY[self.name]

    @property
    def num_inputs(self) -> int:
        return self.definition.num_inputs

    @property
    def op_name(self) -> str:
        return self.name

    @override
    def __repr__(self) -> str:
        return f"Op({self.name})"

    def astext(self) -> str:
        return self.name

    # TVM's Python API for defining custom operators.
    def set_num_inputs(self, n: int) -> None:
        _update(self.name, num_inputs=n)

    def add_argument(self, name: str, type_info: str, description: str) -> None:
        args = (*self.definition.arguments, (name, type_info, description))
        _update(self.name, arguments=args)

    def set_support_level(self, level: int) -> None:
        _update(self.name, support_level=level)

    def set_attrs_type_key(self, key: str) -> None:
        """Accepted for compatibility; custom ops carry ``DictAttrs`` or no attrs."""

    def add_type_rel(self, rel_name: str, type_rel_func: TypeRelation | None = None) -> None:
        """Use a built-in relation (``"Identity"``, ``"Broadcast"``) or a Python one."""
        if type_rel_func is None:
            builtin = BUILTIN_RELATIONS.get(rel_name)
            if builtin is None:
                raise TVMError(
                    f"unknown type relation {rel_name!r}; built-in ones are "
                    f"{sorted(BUILTIN_RELATIONS)} (or pass a Python function)"
                )
            type_rel_func = builtin
        _update(self.name, type_rel=type_rel_func, type_rel_name=rel_name)

    def get_attr(self, key: str) -> Any:
        d = self.definition
        table: dict[str, Any] = {
            "TOpPattern": int(d.pattern),
            "TOpIsStateful": d.stateful,
            "TReshapeOp": d.reshape_only,
            "TNonComputational": d.non_computational,
        }
        return table[key] if key in table else d.get_extra(key)


def _update(name: str, **changes: Any) -> None:
    if name not in _REGISTRY:
        raise TVMError(f"operator {name!r} is not registered")
    _REGISTRY[name] = dataclasses.replace(_REGISTRY[name], **changes)


def register_op(definition: OpDef | str, description: str = "") -> Op:
    """Register an operator. Registering a name twice raises TVMError.

    ``register_op("my_op")`` registers a bare record to be completed with the ``Op`` methods,
    as TVM's ``tvm.ir.register_op`` / ``relay.op.op.register``.
    """
    if isinstance(definition, str):
        definition = OpDef(definition, description=description)
    name = definition.name
    if name in _REGISTRY:
        raise TVMError(f"operator {name!r} is already registered")
    _REGISTRY[name] = definition
    op = Op(name=name)
    _OPS[name] = op
    return op


def get_op_def(name: str) -> OpDef:
    return Op.get(name).definition


def list_op_names() -> list[str]:
    return sorted(_REGISTRY)


def register_pattern(name: str, pattern: OpPattern | int, level: int = 10) -> None:
    """Set an operator's fusion pattern (TVM's ``register_pattern``)."""
    _update(name, pattern=OpPattern(pattern))


def register_stateful(name: str, stateful: bool, level: int = 10) -> None:
    """Mark an operator stateful or not (TVM's ``register_stateful``)."""
    _update(name, stateful=bool(stateful))


def register_op_attr(op_name: str, attr_key: str, value: Any = None, level: int = 10) -> Any:
    """Attach an attribute to an operator's record (``FTVMCompute``, ``TOpPattern``...), as
    TVM's ``tvm.ir.register_op_attr``; usable as a decorator when ``value`` is omitted.
    Setting an attribute twice at the same level raises; a higher level overrides."""

    def register(v: Any) -> Any:
        if attr_key == "TOpPattern":
            register_pattern(op_name, v)
            return v
        if attr_key == "TOpIsStateful":
            register_stateful(op_name, v)
            return v
        d = get_op_def(op_name)
        kept = tuple((k, x) for k, x in d.extra if k != attr_key)
        if len(kept) != len(d.extra) and level <= 10:
            raise TVMError(f"operator {op_name!r} already has attribute {attr_key!r}")
        _update(op_name, extra=(*kept, (attr_key, v)))
        return v

    if value is None:
        return register
    return register(value)


# --- built-in type relations usable by name -------------------------------------------------


def broadcast_shapes(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...]:
    """numpy broadcasting from the right; raises DiagnosticError if incompatible."""
    out: list[int] = []
    for i in range(1, max(len(a), len(b)) + 1):
        da = a[-i] if i <= len(a) else 1
        db = b[-i] if i <= len(b) else 1
        if da == db or db == 1:
            out.append(da)
        elif da == 1:
            out.append(db)
        else:
            raise DiagnosticError(
                f"shapes {tuple(a)} and {tuple(b)} are not broadcastable "
                f"(dimension {-i}: {da} vs {db})"
            )
    return tuple(reversed(out))


def _tensor_arg(name: str, ty: Type, index: int) -> TensorType:
    if not isinstance(ty, TensorType):
        raise DiagnosticError(f"{name}: argument {index} must be a tensor, got {ty}")
    return ty


def identity_rel(arg_types: list[Type], attrs: Any) -> Type:
    """``Identity``: the output has the type of the first argument."""
    if not arg_types:
        raise DiagnosticError("Identity relation needs at least one argument")
    return arg_types[0]


def broadcast_rel(arg_types: list[Type], attrs: Any) -> Type:
    """``Broadcast``: two tensors of one dtype broadcast numpy-style."""
    if len(arg_types) != 2:
        raise DiagnosticError(f"Broadcast relation needs 2 arguments, got {len(arg_types)}")
    a = _tensor_arg("Broadcast", arg_types[0], 0)
    b = _tensor_arg("Broadcast", arg_types[1], 1)
    if a.dtype != b.dtype:
        raise DiagnosticError(f"Broadcast: dtype mismatch {a.dtype} vs {b.dtype}")
    return TensorType(broadcast_shapes(a.shape, b.shape), a.dtype)


BUILTIN_RELATIONS: dict[str, TypeRelation] = {
    "Identity": identity_rel,
    "Broadcast": broadcast_rel,
}
