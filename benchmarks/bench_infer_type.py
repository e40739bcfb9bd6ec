"""Time InferType on 100,000-deep chains: median of 5 runs, wall-clock and CPU time.

Run from the repository root: ``python -m benchmarks.bench_infer_type`` (with ``reference`` on
``PYTHONPATH``). The operator is ``log`` (an Identity-like relation), so the time is that of
the inference machinery, not of a relation.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import minitvm as tvm
from minitvm import relay
from minitvm.relay.transform import InferType

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


def measure(make: Callable[[], relay.Function], runs: int = 5) -> tuple[float, float]:
    mod = tvm.IRModule.from_expr(make())
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        InferType()(mod)
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    for name, make in (("call chain", call_chain), ("let chain", let_chain)):
        wall, cpu = measure(make)
        print(f"InferType, {DEPTH:,}-deep {name}: median wall {wall:.2f} s, cpu {cpu:.2f} s")


if __name__ == "__main__":
    main()
