"""Time the core on 100,000-deep chains: InferType, ToANormalForm, and the two in sequence.

Median of 5 runs, wall-clock and CPU time. Run from the repository root:
``PYTHONPATH=reference python -m benchmarks.bench_core``. The operator is ``log`` (an
Identity-like relation), so the time is that of the machinery, not of a relation.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from functools import partial

import minitvm as tvm
from minitvm import relay
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Sequential
from minitvm.relay.transform import InferType, ToANormalForm

DEPTH = 100_000


def call_chain() -> relay.Function:
    x = relay.var("x", shape=(2, 3))
    body: relay.Expr = x
    for _ in range(DEPTH):
        body = relay.log(body)
    return relay.Function([x], body)


def let_chain() -> relay.Function:
    x = relay.var("x", shape=(2, 3))
    names = [relay.var(f"v{i}") for i in range(DEPTH)]
    body: relay.Expr = names[-1]
    for i in reversed(range(DEPTH)):
        body = relay.Let(names[i], relay.log(names[i - 1] if i else x), body)
    return relay.Function([x], body)


def measure(run: Callable[[], object], runs: int = 5) -> tuple[float, float]:
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    for name, make in (("call chain", call_chain), ("let chain", let_chain)):
        mod = tvm.IRModule.from_expr(make())
        typed = InferType()(mod)
        steps: list[tuple[str, Callable[[], IRModule]]] = [
            ("InferType", partial(InferType(), mod)),
            ("ToANormalForm", partial(ToANormalForm(), typed)),
            ("InferType + ToANormalForm", partial(Sequential([InferType(), ToANormalForm()]), mod)),
        ]
        for label, run in steps:
            wall, cpu = measure(run)
            print(f"{label}, {DEPTH:,}-deep {name}: median wall {wall:.2f} s, cpu {cpu:.2f} s")


if __name__ == "__main__":
    main()
