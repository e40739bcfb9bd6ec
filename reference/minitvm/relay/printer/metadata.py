"""The metadata section: objects the text cannot spell, referred to as ``meta[key][i]``.

TVM: ``src/relay/printer/meta_data.h`` (``TextMetaDataContext``). An object is entered once
(by identity) under its type key and referred to by its index in that key's list. TVM writes
the section with ``SaveJSON``; minitvm writes its own JSON, described in SPEC.md (TXT-13):
a JSON object from type keys to lists of entries, each entry an object with a ``type_key``.
A constant's entry carries its dtype, shape and raw bytes (little-endian, C order, base64),
so a parser can rebuild it bit for bit.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
from typing import TypeAlias

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import Attrs, DictAttrs
from minitvm.ir.expr import GlobalVar, RelayExpr
from minitvm.ir.node import Node
from minitvm.ir.type import FuncType, IncompleteType, TensorType, TupleType, TypeVar
from minitvm.relay.expr import Constant
from minitvm.runtime.ndarray import NDArray
from minitvm.tir.expr import FloatImm, IntImm, StringImm

__all__ = ["MetaTable", "encode_ndarray", "type_key"]

Json: TypeAlias = "bool | int | float | str | list[Json] | dict[str, Json] | None"

_TYPE_KEYS: dict[type, str] = {
    Constant: "relay.Constant",
    GlobalVar: "GlobalVar",
    DictAttrs: "DictAttrs",
    TensorType: "relay.TensorType",
    TupleType: "TupleType",
    FuncType: "FuncType",
    TypeVar: "TypeVar",
    IncompleteType: "relay.IncompleteType",
    IntImm: "IntImm",
    FloatImm: "FloatImm",
    StringImm: "tir.StringImm",
}


def type_key(node: object) -> str:
    """TVM's type key of ``node``: a class's own ``type_key`` attribute when it declares
    one, TVM's key for the IR classes, ``relay.attrs.<Class>`` for other operator attrs."""
    declared = getattr(type(node), "type_key", None)
    if isinstance(declared, str):
        return declared
    key = _TYPE_KEYS.get(type(node))
    if key is not None:
        return key
    if isinstance(node, Attrs):
        return f"relay.attrs.{type(node).__name__}"
    return type(node).__name__


def encode_ndarray(data: NDArray) -> dict[str, Json]:
    array = data.numpy()
    raw = array.astype(array.dtype.newbyteorder("<")).tobytes(order="C")
    return {
        "dtype": data.dtype,
        "shape": list(data.shape),
        "data": base64.b64encode(raw).decode("ascii"),
    }


def _encode(value: object) -> Json:
    """A JSON value for an entry's field. Attribute values and types nest only as deep as
    they were written, so this recursion is bounded by the program text, not its depth."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"type_key": "float", "value": repr(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, NDArray):
        return {"type_key": "runtime.NDArray", **encode_ndarray(value)}
    if isinstance(value, Node):
        return _encode_node(value)
    raise DiagnosticError(
        f"the metadata section cannot hold a value of type {type(value).__name__}: {value!r}"
    )


def _encode_node(node: Node) -> dict[str, Json]:
    key = type_key(node)
    if isinstance(node, Constant):
        return {"type_key": key, **encode_ndarray(node.data)}
    if isinstance(node, GlobalVar):
        return {"type_key": key, "name_hint": node.name_hint}
    if isinstance(node, DictAttrs):
        return {"type_key": key, "fields": {k: _encode(v) for k, v in node.items()}}
    if isinstance(node, RelayExpr):
        raise DiagnosticError(f"the metadata section cannot hold a {key} expression")
    try:
        # mypy cannot see that the concrete Node classes are dataclasses.
        node_fields = dataclasses.fields(node)  # type: ignore[arg-type]
    except TypeError:
        raise DiagnosticError(f"the metadata section cannot hold a {key} object") from None
    cls = type(node)
    fields: dict[str, Json] = {
        f.name: _encode(getattr(node, f.name))
        for f in node_fields
        if f.name not in ("span", "checked_type_")
    }
    return {"type_key": key, "class": f"{cls.__module__}.{cls.__qualname__}", "fields": fields}


class MetaTable:
    """The objects entered so far, per type key, and the ``meta[...]`` text of each."""

    __slots__ = ("_refs", "_sections")

    def __init__(self) -> None:
        self._refs: dict[int, tuple[object, str]] = {}
        """id -> (the object, kept alive so its id stays unique; its reference text)."""
        self._sections: dict[str, list[object]] = {}

    def __bool__(self) -> bool:
        return bool(self._sections)

    def ref(self, node: object) -> str:
        """``meta[key][i]`` for ``node``, entering it on first use."""
        known = self._refs.get(id(node))
        if known is not None:
            return known[1]
        key = type_key(node)
        section = self._sections.setdefault(key, [])
        text = f"meta[{key}][{len(section)}]"
        section.append(node)
        self._refs[id(node)] = (node, text)
        return text

    def to_json(self) -> str:
        sections: dict[str, Json] = {
            key: [_encode(node) for node in nodes] for key, nodes in self._sections.items()
        }
        return json.dumps(sections, indent=2)
