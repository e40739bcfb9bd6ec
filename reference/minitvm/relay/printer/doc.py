"""Documents: text whose lines can be indented as a block, built in constant time per step.

TVM: ``src/relay/printer/doc.{h,cc}``. A document is a string, a concatenation of documents,
or a document whose line breaks are indented two more spaces. Concatenating and indenting
never copy the text; ``render`` writes it once, so nesting ``d`` blocks deep costs the size of
the output, not ``d`` times it. Short strings are still joined eagerly, since copying them is
cheaper than a node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["Doc", "DocCat", "DocIndent", "cat", "indent", "render"]


@dataclass(frozen=True, slots=True)
class DocCat:
    parts: tuple[Doc, ...]


@dataclass(frozen=True, slots=True)
class DocIndent:
    """``body`` with two more spaces after each of its line breaks."""

    body: Doc


Doc: TypeAlias = "str | DocCat | DocIndent"

_JOIN_LIMIT = 256


def cat(*parts: Doc) -> Doc:
    """The documents one after the other."""
    strings: list[str] = []
    size = 0
    for part in parts:
        if not isinstance(part, str):
            return DocCat(parts)
        strings.append(part)
        size += len(part)
    return "".join(strings) if size <= _JOIN_LIMIT else DocCat(parts)


def indent(doc: Doc) -> Doc:
    return DocIndent(doc)


def render(doc: Doc) -> str:
    """The text of ``doc``, walking it with an explicit stack."""
    out: list[str] = []
    stack: list[tuple[Doc, int]] = [(doc, 0)]
    while stack:
        node, depth = stack.pop()
        match node:
            case str():
                out.append(node.replace("\n", "\n" + " " * depth) if depth else node)
            case DocCat(parts=parts):
                stack.extend((part, depth) for part in reversed(parts))
            case DocIndent(body=body):
                stack.append((body, depth + 2))
    return "".join(out)
