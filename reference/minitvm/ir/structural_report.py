"""How a structural mismatch is reported: its path and the two sub-terms.

TVM's ``assert_structural_equal`` prints both whole terms with the mismatch underlined (see
``src/node/structural_equal.cc``, ``CheckResult``); here the message gives the path of the
mismatch and the two sub-terms only, cut to size, since programs may be 100,000 nodes deep.
Nothing here recurses over a program: sub-terms are printed by the (iterative) Relay printer
or summarized on one line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeAlias

from minitvm.ir.module import IRModule
from minitvm.ir.node import Node, SEqualKind
from minitvm.ir.structural_fields import plan_of

__all__ = ["Path", "render_path", "show", "summary"]

Path: TypeAlias = "tuple[Path, str | int | tuple[str]] | None"
"""A path from the root as a linked list of steps, None being the root. A step is a field
name (``.body``), an index (``[1]``) or a 1-tuple holding a map key (``['main']``); they
are formatted only when a mismatch is reported."""


_PATH_HEAD = 16
_PATH_TAIL = 32


def render_path(path: Path) -> str:
    """``<root>.body.args[1]``; a path of a deep program keeps its first and last steps."""
    steps: list[str] = []
    while path is not None:
        path, step = path
        if isinstance(step, str):
            steps.append("." + step)
        elif isinstance(step, int):
            steps.append(f"[{step}]")
        else:
            steps.append(f"[{step[0]!r}]")
    steps.reverse()
    if len(steps) > _PATH_HEAD + _PATH_TAIL:
        skipped = len(steps) - _PATH_HEAD - _PATH_TAIL
        steps = [*steps[:_PATH_HEAD], f"...({skipped} steps)...", *steps[-_PATH_TAIL:]]
    return "<root>" + "".join(steps)


_MAX_LINES = 40
_MAX_CHARS = 4000


def show(x: object) -> str:
    """``x`` for an error message: Relay text for expressions and modules when the printer
    can print them, type syntax for small types, a one-line summary for other nodes."""
    from minitvm.ir.expr import RelayExpr

    text: str
    if isinstance(x, RelayExpr | IRModule):
        try:
            from minitvm.relay.printer import astext

            text = astext(x, show_meta_data=False, version_header=False)  # type: ignore[arg-type]  # every RelayExpr is an Expr
        except Exception:  # the printer may not cover every node; fall back to a summary
            text = summary(x)
    elif isinstance(x, Node | tuple | list | Mapping):
        text = summary(x)
    else:
        text = repr(x)
    lines = text.splitlines() or [""]
    if len(lines) > _MAX_LINES:
        lines = [*lines[:_MAX_LINES], f"... ({len(lines) - _MAX_LINES} more lines)"]
    text = "\n".join(lines)
    return text if len(text) <= _MAX_CHARS else text[:_MAX_CHARS] + " ..."


def _is_type(x: object) -> bool:
    from minitvm.ir.type import FuncType, IncompleteType, TensorType, TupleType, TypeVar

    return isinstance(x, TensorType | TupleType | FuncType | TypeVar | IncompleteType)


def _is_small(x: object, limit: int = 64) -> bool:
    """Whether ``x`` unfolds to at most ``limit`` values (type syntax prints a shared
    sub-type once per use, so a type DAG may print exponentially)."""
    stack, seen = [x], 0
    while stack:
        v = stack.pop()
        seen += 1
        if seen > limit:
            return False
        obj: object = v  # widened: mypy cannot see that a Node may be a dataclass instance
        if isinstance(v, tuple | list):
            stack.extend(v)
        elif isinstance(v, Node) and dataclasses.is_dataclass(obj):
            stack.extend(getattr(v, f.name) for f in dataclasses.fields(obj))
    return True


def summary(x: object) -> str:
    """One line: the class and its fields, nested nodes named briefly."""
    if isinstance(x, IRModule):
        names = ", ".join(sorted(gv.name_hint for gv in x.functions))
        return f"IRModule({names})"
    obj: object = x  # widened: mypy cannot see that a Node may be a dataclass instance
    if not (isinstance(x, Node) and dataclasses.is_dataclass(obj)) or _is_type(x):
        return _label(x)
    parts = [
        f"{f.name}={_label(getattr(x, f.name))}"
        for f in dataclasses.fields(obj)
        if f.name not in ("span", "checked_type_")
    ]
    return f"{type(x).__name__}({', '.join(parts)})"


def _label(v: object, nested: bool = False) -> str:
    """A short name for a field value: types in type syntax, variables, globals and
    operators by name, other nodes by class, short sequences item by item."""
    if _is_type(v) and _is_small(v):
        return str(v)
    if isinstance(v, Node):
        kind = plan_of(type(v)).kind
        name = getattr(v, "name_hint", getattr(v, "name", None))
        if kind is SEqualKind.GLOBAL:
            return f"@{name}"
        if kind in (SEqualKind.VAR, SEqualKind.NAMED) and isinstance(name, str):
            return f"{type(v).__name__}({name})"
        return f"<{type(v).__name__}>"
    if isinstance(v, Mapping):
        if len(v) > 8 or nested:
            return f"<map of {len(v)} entries>"
        entries = ", ".join(f"{_label(k, True)}: {_label(item, True)}" for k, item in v.items())
        return "{" + entries + "}"
    if isinstance(v, tuple | list):
        if len(v) > 4 or nested:
            return f"<{len(v)} items>"
        inner = ", ".join(_label(item, nested=True) for item in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    text = repr(v)
    return text if len(text) <= 200 else text[:200] + " ..."
