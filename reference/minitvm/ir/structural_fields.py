"""What structural equality and hashing look at: per-class field plans and leaf values.

TVM writes ``SEqualReduce``/``SHashReduce`` by hand for each node class (``src/relay/ir/*.cc``,
``include/tvm/ir/type.h``). Here they are derived once per class from its dataclass fields:
fields marked ``IGNORE`` are skipped, ``DEF`` fields are binding sites visited before anything
else (TVM's "make def equal first"), ``MAP`` fields are tuples of pairs compared as maps, and a
``type_args`` field next to an ``op`` field is skipped when the callee is an operator (TVM's
``CallNode::SEqualReduce``). Leaves (numbers, strings, arrays...) are compared and hashed here
too, so that equal leaves always hash alike.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TypeAlias, TypeGuard

import numpy as np

from minitvm.ir.node import Node, SEqualKind
from minitvm.ir.op import Op
from minitvm.runtime.ndarray import NDArray

__all__ = [
    "FieldPlan",
    "NodePlan",
    "Role",
    "combine",
    "leaf_equal",
    "leaf_hash",
    "map_entries",
    "plan_of",
    "str_hash",
]

_MASK = (1 << 64) - 1


class Role(Enum):
    """How a compared field takes part."""

    PLAIN = "plain"
    MAP = "map"
    CALLEE_TYPES = "callee_types"
    """Compared unless the node's ``op`` field holds an operator."""


@dataclass(frozen=True, slots=True)
class FieldPlan:
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class NodePlan:
    """How one node class is compared; built once per class."""

    kind: SEqualKind
    tag: int
    """Hash of the class's qualified name: objects of different classes never compare equal."""
    binders: tuple[str, ...]
    """``DEF`` fields, in declaration order. Their variables are bound before any field of
    the node is compared, so a parameter's annotation may mention a type parameter."""
    fields: tuple[FieldPlan, ...]
    """The other compared fields, in declaration order."""

    all_names: tuple[str, ...]
    """Every compared field (binders first)."""
    op_callee_fields: tuple[FieldPlan, ...] | None
    """``fields`` less the ``CALLEE_TYPES`` ones, if there are any."""

    def compared_fields(self, node: Node) -> tuple[FieldPlan, ...]:
        if self.op_callee_fields is not None and isinstance(getattr(node, "op", None), Op):
            return self.op_callee_fields
        return self.fields

    def is_childless(self, node: Node) -> bool:
        """Whether every compared field is an empty sequence (an empty tuple is a value:
        with nothing inside, sharing it or not cannot be told apart)."""
        for name in self.all_names:
            value = getattr(node, name)
            if not isinstance(value, tuple | list) or value:
                return False
        return True


_PLANS: dict[type, NodePlan] = {}


def plan_of(cls: type[Node]) -> NodePlan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _make_plan(cls)
    return plan


def _make_plan(cls: type[Node]) -> NodePlan:
    klass: type = cls  # widened: mypy cannot see that a Node subclass may be a dataclass
    if not dataclasses.is_dataclass(klass):
        raise TypeError(f"structural equality: node class {cls.__qualname__} is not a dataclass")
    all_fields = dataclasses.fields(klass)
    names = {f.name for f in all_fields}
    binders: list[str] = []
    fields: list[FieldPlan] = []
    for f in all_fields:
        mark = f.metadata.get("sequal")
        if mark == "ignore":
            continue
        if mark == "def":
            binders.append(f.name)
        elif mark == "map":
            fields.append(FieldPlan(f.name, Role.MAP))
        elif f.name == "type_args" and "op" in names:
            fields.append(FieldPlan(f.name, Role.CALLEE_TYPES))
        else:
            fields.append(FieldPlan(f.name, Role.PLAIN))
    tag = str_hash(f"{cls.__module__}.{cls.__qualname__}")
    all_names = (*binders, *(f.name for f in fields))
    op_callee_fields = tuple(f for f in fields if f.role is not Role.CALLEE_TYPES)
    return NodePlan(
        cls.sequal_kind,
        tag,
        tuple(binders),
        tuple(fields),
        all_names,
        op_callee_fields if len(op_callee_fields) < len(fields) else None,
    )


def map_key(key: object) -> str | None:
    """The name a map key is matched by: a string itself, a global by its ``name_hint``."""
    if isinstance(key, str):
        return key
    if isinstance(key, Node) and plan_of(type(key)).kind is SEqualKind.GLOBAL:
        name = getattr(key, "name_hint", None)
        return name if isinstance(name, str) else None
    return None


def map_entries(value: object) -> dict[str, object] | None:
    """A mapping, or a tuple of ``(key, value)`` pairs, keyed by name; None if some key has
    no name or two keys share one."""
    if isinstance(value, Mapping):
        pairs: list[tuple[object, object]] = list(value.items())
    elif isinstance(value, tuple | list) and all(
        isinstance(p, tuple) and len(p) == 2 for p in value
    ):
        pairs = [(p[0], p[1]) for p in value]
    else:
        return None
    out: dict[str, object] = {}
    for key, item in pairs:
        name = map_key(key)
        if name is None or name in out:
            return None
        out[name] = item
    return out


# --- leaves --------------------------------------------------------------------------------


def _is_bool(x: object) -> bool:
    return isinstance(x, bool | np.bool_)


_Number: TypeAlias = int | float | np.integer | np.floating


def _is_number(x: object) -> TypeGuard[_Number]:
    return isinstance(x, int | float | np.integer | np.floating) and not _is_bool(x)


def _is_nan(x: object) -> bool:
    return isinstance(x, float | np.floating) and math.isnan(x)


def _is_whole(x: _Number) -> bool:
    return isinstance(x, int | np.integer) or float(x).is_integer()


FLOAT_ATOL = 1e-9
"""TVM's tolerance when it compares two doubles (attribute values, ``FloatImm``)."""


def _numbers_equal(a: _Number, b: _Number) -> bool:
    """Whole numbers compare exactly; two fractional ones within ``FLOAT_ATOL`` are equal,
    as in TVM, where a float attribute printed with 6 significant digits (``1e-05f`` for
    ``1.0000001e-05``) reads back equal. A whole number never equals a fractional one, so
    that ``leaf_hash`` can hash every fractional number alike and stay consistent."""
    if a == b:
        return True
    if _is_nan(a) or _is_nan(b):
        return _is_nan(a) and _is_nan(b)
    if _is_whole(a) or _is_whole(b):
        return False
    return abs(float(a) - float(b)) < FLOAT_ATOL


def _array(x: NDArray | np.ndarray) -> np.ndarray:
    return np.asarray(x)


def leaf_equal(a: object, b: object) -> bool:
    """Equality of values that are neither nodes nor sequences.

    Numbers compare by value (an attribute given as ``1`` or ``1.0`` is the same; NaN equals
    NaN so that every value equals itself; fractional numbers with TVM's tolerance, see
    ``_numbers_equal``); booleans, strings and enum members only equal
    their own kind; arrays compare dtype, shape and exact bytes (``-0.0`` differs from
    ``0.0``, NaN payloads matter), as TVM compares constant data.
    """
    if a is b:
        return True
    if isinstance(a, Enum) or isinstance(b, Enum):
        return type(a) is type(b) and a == b
    if _is_bool(a) or _is_bool(b):
        return _is_bool(a) and _is_bool(b) and bool(a) == bool(b)
    if _is_number(a):
        return _is_number(b) and _numbers_equal(a, b)
    if isinstance(a, NDArray | np.ndarray):
        if not isinstance(b, NDArray | np.ndarray):
            return False
        x, y = _array(a), _array(b)
        return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def combine(seed: int, value: int) -> int:
    """Mix ``value`` into ``seed`` (64-bit, order-sensitive)."""
    value &= _MASK
    return (seed ^ (value + 0x9E3779B97F4A7C15 + ((seed << 6) & _MASK) + (seed >> 2))) & _MASK


@lru_cache(maxsize=4096)
def str_hash(s: str) -> int:
    """A hash of ``s`` that, unlike ``hash(str)``, is the same in every process."""
    return _bytes_hash(s.encode("utf-8", "surrogatepass"))


def _bytes_hash(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


_NONE_HASH = str_hash("<None>")
_BOOL_HASH = str_hash("<bool>")
_NUMBER_HASH = str_hash("<number>")
_NAN_HASH = str_hash("<nan>")
_FRACTION_HASH = str_hash("<fraction>")
_ARRAY_HASH = str_hash("<array>")


def _number_hash(x: _Number) -> int:
    if _is_nan(x):
        return _NAN_HASH
    if not _is_whole(x):
        # Fractional numbers equal their neighbours within FLOAT_ATOL, a relation that chains
        # across every value: only a constant hash is consistent with it.
        return _FRACTION_HASH
    # Python's numeric hash is deterministic and equal for equal int and float values.
    return combine(_NUMBER_HASH, hash(x))


def leaf_hash(x: object) -> int:
    """A hash consistent with ``leaf_equal``; deterministic for numbers, strings, arrays."""
    if x is None:
        return _NONE_HASH
    if isinstance(x, Enum):
        return combine(str_hash(type(x).__qualname__), leaf_hash(x.value))
    if _is_bool(x):
        return combine(_BOOL_HASH, int(bool(x)))
    if _is_number(x):
        return _number_hash(x)
    if isinstance(x, str):
        return str_hash(x)
    if isinstance(x, NDArray | np.ndarray):
        arr = _array(x)
        h = combine(_ARRAY_HASH, str_hash(str(arr.dtype)))
        for dim in arr.shape:
            h = combine(h, dim)
        return combine(h, _bytes_hash(arr.tobytes()))
    if isinstance(x, bytes):
        return _bytes_hash(x)
    try:
        return combine(str_hash(type(x).__qualname__), hash(x))
    except TypeError:
        return str_hash(type(x).__qualname__)
