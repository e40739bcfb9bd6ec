"""Typed construction of attrs and other dataclass nodes from parsed values.

TVM builds call attrs with ``ReflectionVTable::CreateObject(type_key, kwargs)``, converting
each value to the C++ type of its field. Here the field types are the dataclass annotations
(``OpDef.attrs_type``'s fields): a parsed value is converted by its field's annotation, and
an unknown name, a missing required field or a value of the wrong kind is an error naming
the field, what was expected and what was found.

Parsed values are what the text spells: ``IntImm`` (integers, with their dtype; booleans are
``IntImm("bool")``), ``FloatImm``, ``str``, ``None``, tuples (lists) and objects from the
metadata section; the metadata section also gives plain ``int``/``float``/``bool``. Values
nest at most ``MAX_VALUE_DEPTH`` deep (the parser enforces it), which bounds the recursion
here by a constant.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from minitvm.ir.attrs import Attrs
from minitvm.ir.expr import RelayExpr
from minitvm.ir.node import Node
from minitvm.tir.expr import FloatImm, IntImm, StringImm

__all__ = [
    "MAX_VALUE_DEPTH",
    "ConversionError",
    "attrs_class_for_key",
    "build_dataclass",
    "class_for_path",
    "convert",
    "normalize",
    "show_value",
]

MAX_VALUE_DEPTH = 64
"""How deeply attribute values and metadata entries may nest lists."""


class ConversionError(Exception):
    """A value does not fit a field; carries the diagnostic message and the field's name."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def normalize(value: object) -> object:
    """A parsed value as plain Python: immediates to ``int``/``float``/``bool``/``str``."""
    if isinstance(value, IntImm):
        return bool(value.value) if value.dtype == "bool" else value.value
    if isinstance(value, FloatImm):
        return value.value
    if isinstance(value, StringImm):
        return value.value
    if isinstance(value, tuple):
        return tuple(normalize(v) for v in value)
    return value


def show_value(value: object) -> str:
    """A parsed value as the text spells it, for diagnostics."""
    if value is None:
        return "None"
    if isinstance(value, IntImm):
        if value.dtype == "bool":
            return "True" if value.value else "False"
        return str(value.value)
    if isinstance(value, FloatImm):
        return f"{value.value:g}f"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    return type(value).__name__ if isinstance(value, Node) else repr(value)


_NAMES: dict[object, tuple[str, str]] = {
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    bool: ("True or False", "booleans"),
    str: ("a string", "strings"),
    type(None): ("None", "None"),
}


def _describe(hint: object, plural: bool = False) -> str:
    """How a diagnostic names what an annotation accepts: ``a list of integers``."""
    if hint in _NAMES:
        return _NAMES[hint][plural]
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_describe(arg, plural) for arg in typing.get_args(hint))
    if origin in (tuple, list) or origin is Sequence:
        args = typing.get_args(hint)
        return (
            f"lists of {_describe(args[0], True)}"
            if plural
            else (f"a list of {_describe(args[0], True)}" if args else "a list")
        )
    name = hint.__name__ if isinstance(hint, type) else str(hint)
    return f"{name} values" if plural else f"a {name}"


def _scalar(value: object, hint: type) -> object:
    """``value`` as a bool, int, float or str, or raise."""
    plain = normalize(value) if not isinstance(value, tuple) else value
    if hint is bool:
        if isinstance(plain, bool):
            return plain
        if isinstance(plain, int) and plain in (0, 1):
            return bool(plain)
    elif hint is int:
        if isinstance(plain, int) and not isinstance(plain, bool):
            return plain
    elif hint is float:
        if isinstance(plain, int | float) and not isinstance(plain, bool):
            return float(plain)
    elif hint is str and isinstance(plain, str):
        return plain
    raise ConversionError(f"expected {_describe(hint)}, found {show_value(value)}")


def _sequence(value: object, args: tuple[object, ...], hint: object) -> object:
    if not isinstance(value, tuple):
        raise ConversionError(f"expected {_describe(hint)}, found {show_value(value)}")
    if not args or (len(args) == 2 and args[1] is Ellipsis):
        item = args[0] if args else object
        return tuple(convert(v, item) for v in value)
    if len(args) != len(value):
        raise ConversionError(f"expected {len(args)} values, found {show_value(value)}")
    return tuple(convert(v, a) for v, a in zip(value, args, strict=True))


def convert(value: object, hint: object) -> object:  # noqa: C901  (one case per annotation form)
    """``value`` converted to the annotation ``hint``; raises ConversionError."""
    if hint is Any or hint is object:
        return normalize(value)
    if hint is type(None):
        if value is None:
            return None
        raise ConversionError(f"expected None, found {show_value(value)}")
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        for arg in args:
            try:
                return convert(value, arg)
            except ConversionError:
                continue
        raise ConversionError(f"expected {_describe(hint)}, found {show_value(value)}")
    if origin in (tuple, list) or origin is Sequence:
        return _sequence(value, typing.get_args(hint), hint)
    if origin is typing.Literal:
        plain = normalize(value)
        if plain in typing.get_args(hint):
            return plain
        raise ConversionError(f"expected one of {typing.get_args(hint)}, found {show_value(value)}")
    if hint in (bool, int, float, str):
        return _scalar(value, typing.cast("type", hint))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        try:
            return hint(normalize(value))
        except ValueError:
            raise ConversionError(
                f"expected {_describe(hint)}, found {show_value(value)}"
            ) from None
    if isinstance(hint, type):
        if isinstance(value, hint):
            return value
        raise ConversionError(f"expected {_describe(hint)}, found {show_value(value)}")
    return normalize(value)


def _field_hints(cls: type) -> dict[str, object]:
    try:
        return typing.get_type_hints(cls)
    except Exception:
        # An annotation that cannot be resolved leaves its field unchecked.
        return {}


def build_dataclass(cls: type, values: Mapping[str, object]) -> object:
    """``cls(**values)`` with each value converted to its field's type.

    Raises ConversionError naming an unknown field, a missing required one, or the field
    whose value does not fit.
    """
    fields = {
        f.name: f
        for f in dataclasses.fields(cls)
        if f.init and f.name not in ("span", "checked_type_")
    }
    unknown = [name for name in values if name not in fields]
    if unknown:
        known = ", ".join(fields) or "none"
        raise ConversionError(
            f"`{unknown[0]}` is not an attribute of {cls.__name__} (its attributes: {known})",
            unknown[0],
        )
    missing = [
        name
        for name, f in fields.items()
        if name not in values
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConversionError(f"{cls.__name__} requires the attribute `{missing[0]}`")
    hints = _field_hints(cls)
    kwargs: dict[str, object] = {}
    for name, value in values.items():
        try:
            kwargs[name] = convert(value, hints.get(name, object))
        except ConversionError as err:
            raise ConversionError(f"attribute `{name}` of {cls.__name__}: {err}", name) from None
    try:
        return cls(**kwargs)
    except Exception as err:
        # The constructor's own validation, whatever exception it raises, is a user error.
        raise ConversionError(f"invalid {cls.__name__}: {err}") from None


def _current(cls: type) -> bool:
    """Whether ``cls`` is what its module calls it. ``dataclass(slots=True)`` replaces the
    class it decorates; the replaced one lingers among the subclasses until collected."""
    module = sys.modules.get(cls.__module__)
    found: object = module
    for part in cls.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is cls


def _node_classes() -> list[type]:
    """Every dataclass node class defined so far, found by walking subclasses (classes
    defined inside functions included); of classes of one name, the current one."""
    found: dict[str, list[type]] = {}
    seen: set[type] = set()
    stack: list[type] = [Node]
    while stack:
        subclasses: list[type] = stack.pop().__subclasses__()
        for sub in subclasses:
            if sub in seen:
                continue
            seen.add(sub)
            stack.append(sub)
            if not issubclass(sub, RelayExpr) and dataclasses.is_dataclass(sub):
                found.setdefault(f"{sub.__module__}.{sub.__qualname__}", []).append(sub)
    classes: list[type] = []
    for same_name in found.values():
        current = [cls for cls in same_name if _current(cls)]
        classes.extend(current or same_name)
    return classes


def class_for_path(path: str) -> type | None:
    """The node class named ``module.QualName`` (as the printer's metadata writes it).

    Only classes already defined are found: nothing is imported or evaluated.
    """
    for cls in _node_classes():
        if f"{cls.__module__}.{cls.__qualname__}" == path:
            return cls
    return None


def attrs_class_for_key(key: str) -> list[type]:
    """The attrs classes whose type key is ``key`` (``relay.attrs.Conv2DAttrs``)."""
    matches: list[type] = []
    for cls in _node_classes():
        if not issubclass(cls, Attrs):
            continue
        declared = getattr(cls, "type_key", None)
        cls_key = declared if isinstance(declared, str) else f"relay.attrs.{cls.__name__}"
        if cls_key == key:
            matches.append(cls)
    return matches
