"""Compilation targets, as TVM's ``tvm.target.Target`` (``python/tvm/target/target.py``).

A target names a kind (``llvm``, ``numba``, ``c``, ``cuda``) and carries attributes. Targets
are parsed from TVM's string form ``"<kind> -key=value -flag"``; values that look like integers
become ints. ``with target:`` makes it current for the dynamic extent of the block; the scope
stack lives in a ``contextvars`` variable, so threads and asyncio tasks each see their own.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType

from typing_extensions import override

from minitvm.error import TVMError

__all__ = ["Target", "TargetKind", "list_kinds"]

AttrValue = int | str | bool


@dataclass(frozen=True, slots=True)
class TargetKind:
    """A registered kind of target: its name, DLPack device type and default keys/attrs."""

    name: str
    device_type: int
    default_keys: tuple[str, ...]
    default_attrs: tuple[tuple[str, AttrValue], ...] = ()

    @override
    def __str__(self) -> str:
        return self.name


_KINDS: dict[str, TargetKind] = {
    # "numba" is minitvm's CPU backend; "llvm" and "c" name the same CPU code path.
    "llvm": TargetKind("llvm", 1, ("cpu",)),
    "numba": TargetKind("numba", 1, ("cpu",)),
    "c": TargetKind("c", 1, ("cpu",)),
    "cuda": TargetKind(
        "cuda", 2, ("cuda", "gpu"), (("max_num_threads", 1024), ("thread_warp_size", 32))
    ),
}


def list_kinds() -> list[str]:
    """The names of every target kind, as ``Target.list_kinds()``."""
    return sorted(_KINDS)


def _parse_value(text: str) -> AttrValue:
    try:
        return int(text)
    except ValueError:
        return text


def _parse(spec: str) -> tuple[str, dict[str, AttrValue]]:
    tokens = spec.split()
    if not tokens:
        raise TVMError("Target: empty target string")
    name, options = tokens[0], tokens[1:]
    attrs: dict[str, AttrValue] = {}
    for opt in options:
        if not opt.startswith("-") or opt in ("-", "--"):
            raise TVMError(f"Target {spec!r}: option {opt!r} must look like -key=value or -flag")
        key, sep, value = opt.lstrip("-").partition("=")
        attrs[key] = _parse_value(value) if sep else True
    return name, attrs


_CURRENT: contextvars.ContextVar[tuple[Target, ...]] = contextvars.ContextVar(
    "minitvm_target_scope", default=()
)


@dataclass(frozen=True, slots=True, init=False)
class Target:
    """A compilation target: ``Target("llvm")``, ``Target("cuda -max_function_args=8")``,
    ``Target({"kind": "cuda", "max_function_args": 8})``."""

    kind: TargetKind
    attrs_: tuple[tuple[str, AttrValue], ...]
    host: Target | None

    def __init__(
        self,
        target: str | Mapping[str, object] | Target,
        host: str | Mapping[str, object] | Target | None = None,
    ) -> None:
        if isinstance(target, Target):
            kind, attrs = target.kind, dict(target.attrs_)
            host = host if host is not None else target.host
        elif isinstance(target, str):
            name, attrs = _parse(target)
            kind = _kind(name)
        elif isinstance(target, Mapping):
            kind, attrs = _from_dict(target)
        else:
            raise TVMError(f"Target: expected a string, dict or Target, got {target!r}")
        merged = dict(kind.default_attrs)
        merged.update(attrs)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "attrs_", tuple(merged.items()))
        object.__setattr__(self, "host", None if host is None else Target(host))

    @property
    def attrs(self) -> Mapping[str, AttrValue]:
        return MappingProxyType(dict(self.attrs_))

    @property
    def keys(self) -> tuple[str, ...]:
        return self.kind.default_keys

    @property
    def max_function_args(self) -> int:
        """The most arguments a kernel may take; -1 when the target sets no limit."""
        return int(self.attrs.get("max_function_args", -1))

    @property
    def max_num_threads(self) -> int:
        if "max_num_threads" not in self.attrs:
            raise TVMError(f"target {self} has no attribute 'max_num_threads'")
        return int(self.attrs["max_num_threads"])

    @staticmethod
    def current(allow_none: bool = True) -> Target | None:
        """The innermost target entered with ``with``; None (or an error) when there is none."""
        scope = _CURRENT.get()
        if scope:
            return scope[-1]
        if not allow_none:
            raise TVMError("Target.current: no target is in scope")
        return None

    @staticmethod
    def list_kinds() -> list[str]:
        return list_kinds()

    def __enter__(self) -> Target:
        _CURRENT.set((*_CURRENT.get(), self))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        scope = _CURRENT.get()
        if not scope or scope[-1] is not self:
            raise TVMError(f"Target {self}: scopes exited out of order")
        _CURRENT.set(scope[:-1])

    @override
    def __str__(self) -> str:
        defaults = dict(self.kind.default_attrs)
        parts = [self.kind.name]
        for key, value in self.attrs_:
            if defaults.get(key) == value:
                continue
            parts.append(f"-{key}" if value is True else f"-{key}={value}")
        return " ".join(parts)


def _kind(name: str) -> TargetKind:
    kind = _KINDS.get(name)
    if kind is None:
        raise TVMError(f"Target: unknown target kind {name!r}; known kinds: {list_kinds()}")
    return kind


def _from_dict(config: Mapping[str, object]) -> tuple[TargetKind, dict[str, AttrValue]]:
    name = config.get("kind")
    if not isinstance(name, str):
        raise TVMError(f"Target: a target dict needs a string 'kind', got {config!r}")
    attrs: dict[str, AttrValue] = {}
    for key, value in config.items():
        if key == "kind":
            continue
        if not isinstance(value, int | str | bool):
            raise TVMError(f"Target: attribute {key!r} must be an int, str or bool, got {value!r}")
        attrs[key] = value
    return _kind(name), attrs
