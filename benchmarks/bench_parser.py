"""Parser timings: TVM's 90,000-node graph and a 100,000-deep nested call.

Run ``python benchmarks/bench_parser.py`` from the repository root (with ``reference`` on the
path, as pytest has it). It prints the time to print each program, to tokenize and parse its
text, to parse and type check it as a module, and the ratio of parsing to printing; the
parser's time is linear in the size of the text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))

import minitvm as tvm
from minitvm import relay
from minitvm.relay.parser.diagnostics import Diagnostics
from minitvm.relay.parser.lexer import tokenize
from minitvm.relay.printer import astext

T = TypeVar("T")


def timed(label: str, run: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    print(f"  {label:<34} {seconds:8.2f} s")
    return result, seconds


def large_graph(nodes: int = 90_000) -> None:
    x = relay.var("x", shape=(3, 2))
    one = relay.const(10e10, dtype="float32")
    z = relay.add(x, one)
    for _ in range(nodes):
        z = relay.add(z, one)
    func = relay.Function([x], z)
    print(f"graph of {nodes + 1} calls:")
    text, printing = timed("print", lambda: astext(func))
    timed("tokenize", lambda: tokenize(text, Diagnostics("bench", text)))
    _, parsing = timed("parse_expr (no type checking)", lambda: relay.parse_expr(text))
    module_text = astext(tvm.IRModule.from_expr(func))
    timed("parse, a module (with InferType)", lambda: relay.parse(module_text))
    print(f"  parse_expr / print: {parsing / printing:.2f}")


def deep_nesting(depth: int = 100_000) -> None:
    text = "add(" * depth + "1" + ", 2)" * depth
    print(
        f"call nested {depth} deep ({len(text)} characters), recursion limit "
        f"{sys.getrecursionlimit()}:"
    )
    timed("parse_expr", lambda: relay.parse_expr(text))


if __name__ == "__main__":
    large_graph()
    deep_nesting()
