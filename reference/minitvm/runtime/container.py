"""Runtime containers: ``ADT`` is how executors return tuples (indexable and iterable)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from typing_extensions import override

__all__ = ["ADT"]


class ADT:
    """An algebraic data type value with a ``tag`` and ``fields``; tuples have tag 0."""

    __slots__ = ("fields", "tag")

    def __init__(self, tag: int, fields: Sequence[object]) -> None:
        self.tag = tag
        self.fields: tuple[object, ...] = tuple(fields)

    def __getitem__(self, index: int) -> object:
        return self.fields[index]

    def __len__(self) -> int:
        return len(self.fields)

    def __iter__(self) -> Iterator[object]:
        return iter(self.fields)

    @override
    def __repr__(self) -> str:
        return f"ADT(tag={self.tag}, fields={list(self.fields)!r})"
