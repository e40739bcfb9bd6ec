"""Run recursive-style rewriters without recursion: a generator trampoline.

A rewriter written as a generator ``yield``s each sub-problem it needs and receives the
answer, exactly where a recursive implementation would call itself::

    def visit_call(call):
        args = [(yield arg) for arg in call.args]
        op = yield call.op
        return Call(op, args)

``drive`` keeps the suspended generators on an explicit stack, so nesting depth costs heap
memory, not Python stack frames: a 100,000-deep program runs at the default recursion
limit. ``resolve`` answers a request either at once (a memo hit, a leaf) or with a new
generator to run; memoisation is the rewriter's business.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from types import GeneratorType
from typing import TypeAlias, TypeVar, cast

__all__ = ["Step", "drive"]

_Req = TypeVar("_Req")
_Res = TypeVar("_Res")

Step: TypeAlias = Generator[_Req, _Res, _Res]
"""A suspended rewrite: yields requests, is sent their answers, returns its own answer."""


def drive(first: Step[_Req, _Res], resolve: Callable[[_Req], Step[_Req, _Res] | _Res]) -> _Res:
    """Run ``first`` to completion, answering each request through ``resolve``."""
    stack: list[Step[_Req, _Res]] = [first]
    answer: _Res | None = None
    while True:
        try:
            # The first send to a fresh generator must be None; later sends are answers.
            request = stack[-1].send(answer)  # type: ignore[arg-type]  # None starts a generator
        except StopIteration as stop:
            stack.pop()
            result: _Res = stop.value
            if not stack:
                return result
            answer = result
            continue
        resolved = resolve(request)
        if isinstance(resolved, GeneratorType):
            stack.append(resolved)
            answer = None
        else:
            # Steps are generator objects, so anything else is an answer. (The concrete
            # type is checked rather than the Generator ABC, which is several times slower.)
            answer = cast("_Res", resolved)
