"""Reading the ``#[metadata]`` section back into objects.

TVM: ``LoadJSON`` of the section, which the tokenizer hands to the parser as its meta table.
minitvm's printer writes its own JSON (``relay/printer/metadata.py``, SPEC TXT-14); this is
its inverse:

- ``relay.Constant`` entries (``dtype``, ``shape``, base64 ``data`` of little-endian, C-order
  bytes) become constants equal to the printed ones bit for bit;
- ``GlobalVar`` entries become the parse's global of that name, ``DictAttrs`` entries
  ``DictAttrs``, ``{"type_key": "float", "value": "inf"}`` a non-finite float;
- entries with a ``class`` are rebuilt from their ``fields`` by that class, converting each
  field by its annotation. Only node classes already defined are used; no module is imported
  and no text is evaluated. Within one entry, type variables of the same name are one
  variable, so a polymorphic function type keeps its binding.

The section is parsed with ``json``; values nest at most ``MAX_VALUE_DEPTH`` lists deep.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Callable

import numpy as np

from minitvm.error import DiagnosticError
from minitvm.ir.attrs import DictAttrs
from minitvm.ir.expr import GlobalVar
from minitvm.ir.type import TypeKind, TypeVar
from minitvm.relay.expr import Constant
from minitvm.relay.parser.convert import (
    MAX_VALUE_DEPTH,
    ConversionError,
    build_dataclass,
    class_for_path,
)
from minitvm.runtime.dtype import check_dtype
from minitvm.runtime.ndarray import NDArray

__all__ = ["MetadataError", "load_metadata"]

_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


class MetadataError(Exception):
    """The metadata section is malformed; carries the diagnostic message."""


def _ndarray(entry: dict[str, object], where: str) -> NDArray:
    dtype, shape, data = entry.get("dtype"), entry.get("shape"), entry.get("data")
    if not isinstance(dtype, str) or not isinstance(shape, list) or not isinstance(data, str):
        raise MetadataError(f"{where}: an array needs a `dtype`, a `shape` list and `data`")
    try:
        dtype = check_dtype(dtype)
    except DiagnosticError as err:
        raise MetadataError(f"{where}: {err}") from None
    if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise MetadataError(f"{where}: the shape must be a list of non-negative integers")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise MetadataError(f"{where}: `data` is not base64") from None
    little = np.dtype(dtype).newbyteorder("<")
    count = math.prod(shape)
    if len(raw) != count * little.itemsize:
        raise MetadataError(
            f"{where}: `data` holds {len(raw)} bytes, but {count} {dtype} elements "
            f"need {count * little.itemsize}"
        )
    array = np.frombuffer(raw, dtype=little).astype(dtype).reshape(shape)
    array.flags.writeable = False
    return NDArray(array)


class _Decoder:
    """Decodes the entries of one section; ``global_var`` interns globals by name."""

    def __init__(self, global_var: Callable[[str], GlobalVar]) -> None:
        self.global_var = global_var
        self.type_vars: dict[tuple[str, int], TypeVar] = {}

    def value(self, value: object, where: str, depth: int) -> object:
        if depth > MAX_VALUE_DEPTH:
            raise MetadataError(f"{where}: values nest deeper than {MAX_VALUE_DEPTH} levels")
        if isinstance(value, list):
            return tuple(self.value(v, where, depth + 1) for v in value)
        if isinstance(value, dict):
            return self.entry(value, where, depth + 1)
        return value

    def leaf(self, key: object, entry: dict[str, object], where: str) -> object | None:
        """The entries not built from ``fields``; None for the others."""
        if key == "float":
            text = entry.get("value")
            if not isinstance(text, str) or text not in _NON_FINITE:
                raise MetadataError(f"{where}: a float entry's value is inf, -inf or nan")
            return _NON_FINITE[text]
        if key == "relay.Constant":
            return Constant(_ndarray(entry, where))
        if key == "runtime.NDArray":
            return _ndarray(entry, where)
        if key == "GlobalVar":
            name = entry.get("name_hint")
            if not isinstance(name, str):
                raise MetadataError(f"{where}: a GlobalVar entry needs a `name_hint` string")
            return self.global_var(name)
        return None

    def entry(self, entry: dict[str, object], where: str, depth: int) -> object:
        key = entry.get("type_key")
        leaf = self.leaf(key, entry, where)
        if leaf is not None:
            return leaf
        fields = entry.get("fields", {})
        if not isinstance(fields, dict):
            raise MetadataError(f"{where}: `fields` must be an object")
        values = {str(k): self.value(v, where, depth) for k, v in fields.items()}
        if key == "DictAttrs":
            try:
                return DictAttrs(values)
            except DiagnosticError as err:
                raise MetadataError(f"{where}: {err}") from None
        path = entry.get("class")
        if not isinstance(path, str):
            raise MetadataError(f"{where}: unknown entry of type key {key!r}")
        cls = class_for_path(path)
        if cls is None:
            raise MetadataError(f"{where}: unknown class `{path}`")
        try:
            node = build_dataclass(cls, values)
        except ConversionError as err:
            raise MetadataError(f"{where}: {err}") from None
        if isinstance(node, TypeVar):
            # One variable per name within an entry, as in the printed object.
            node = self.type_vars.setdefault((node.name_hint, TypeKind(node.kind)), node)
        return node


def load_metadata(text: str, global_var: Callable[[str], GlobalVar]) -> dict[str, list[object]]:
    """The meta table the section ``text`` describes: type key -> objects in index order."""
    try:
        sections = json.loads(text)
    except RecursionError:
        raise MetadataError("the metadata section nests too deeply") from None
    except ValueError as err:
        raise MetadataError(f"the metadata section is not valid JSON: {err}") from None
    if not isinstance(sections, dict):
        raise MetadataError("the metadata section must be a JSON object of lists")
    if "root" in sections and "nodes" in sections:
        raise MetadataError(
            "this is TVM's own serialization (SaveJSON), which minitvm cannot read; "
            "minitvm reads the metadata its printer writes"
        )
    table: dict[str, list[object]] = {}
    for key, entries in sections.items():
        if not isinstance(entries, list):
            raise MetadataError(f"metadata `{key}` must be a list of entries")
        objects: list[object] = []
        for i, entry in enumerate(entries):
            where = f"meta[{key}][{i}]"
            if not isinstance(entry, dict):
                raise MetadataError(f"{where}: an entry must be a JSON object")
            objects.append(_Decoder(global_var).entry(entry, where, 0))
        table[key] = objects
    return table
