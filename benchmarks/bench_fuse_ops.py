"""Time FuseOps per node on programs of 1,000 to 100,000 nodes: the time per node should stay
flat as programs grow (the algorithm is linear for these shapes).

Run from the repository root: ``python -m benchmarks.bench_fuse_ops`` (with ``reference`` on
``PYTHONPATH``). Three program shapes:

* ``chain``: a chain of elementwise calls (groups of 256, the depth limit);
* ``blocks``: residual blocks ``x + relu(dense(x, w) + b) * sigmoid(sum(...))`` (a dense
  anchor, a reduction and a diamond each);
* ``let``: the chain with every value let-bound (every call a group of its own);
* ``shared``: a chain of ``add`` calls that all take one tensor constant (a value whose
  post-dominator is as far away as can be).

For each it prints the number of nodes, of fused groups, and the median time per node of the
fusion itself (graph, post-dominator tree, partition and rewrite) and of the whole pass
(which also type-checks its result), with the ratio of each to its 1,000-node figure.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

import minitvm as tvm
from minitvm import relay
from minitvm.relay.expr import Expr
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.transform import FuseOps, InferType
from minitvm.relay.transform.fuse_ops import fuse_ops

SIZES = (1_000, 10_000, 100_000)


def chain(n: int) -> relay.Function:
    x = relay.var("x", shape=(2, 3))
    body: Expr = x
    for i in range(n - 1):
        body = relay.negative(body) if i % 2 else relay.tanh(body)
    return relay.Function([x], body)


def blocks(n: int) -> relay.Function:
    x = relay.var("x", shape=(2, 8))
    w = relay.var("w", shape=(8, 8))
    b = relay.var("b", shape=(8,))
    body: Expr = x
    for _ in range(max(n // 8, 1)):
        r = relay.nn.relu(relay.add(relay.nn.dense(body, w), b))
        s = relay.sigmoid(relay.sum(r, axis=[1], keepdims=True))
        body = relay.add(relay.multiply(r, s), body)
    return relay.Function([x, w, b], body)


def let_chain(n: int) -> relay.Function:
    x = relay.var("x", shape=(2, 3))
    count = max(n // 3, 1)  # a let, its variable and its value per step
    names = [relay.var(f"v{i}") for i in range(count)]
    body: Expr = names[-1]
    for i in reversed(range(count)):
        body = relay.Let(names[i], relay.tanh(names[i - 1] if i else x), body)
    return relay.Function([x], body)


def shared_constant(n: int) -> relay.Function:
    x = relay.var("x", shape=(2, 3))
    c = relay.const(np.ones((2, 3), "float32"))
    body: Expr = x
    for _ in range(n - 2):
        body = relay.add(body, c)
    return relay.Function([x], body)


def _median(f: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _groups(mod: tvm.IRModule) -> int:
    main = mod["main"]
    assert isinstance(main, relay.Function)
    return sum(
        1
        for n in iter_post_order(main)
        if isinstance(n, relay.Call) and isinstance(n.op, relay.Function)
    )


def measure(make: Callable[[int], relay.Function], n: int) -> tuple[int, int, float, float]:
    mod = InferType()(tvm.IRModule.from_expr(make(n)))
    main = mod["main"]
    assert isinstance(main, relay.Function)
    nodes = sum(1 for _ in iter_post_order(main))
    runs = 3 if n <= 10_000 else 1
    core = _median(lambda: fuse_ops(main, 2), runs)
    fused: list[tvm.IRModule] = []
    whole = _median(lambda: fused.append(FuseOps()(mod)), runs)
    return nodes, _groups(fused[-1]), core / nodes, whole / nodes


def main() -> None:
    print(
        f"{'program':8} {'nodes':>8} {'groups':>7} {'fuse us/node':>13} {'ratio':>6} "
        f"{'pass us/node':>13} {'ratio':>6}"
    )
    programs = {"chain": chain, "blocks": blocks, "let": let_chain, "shared": shared_constant}
    for name, make in programs.items():
        base: tuple[float, float] | None = None
        for n in SIZES:
            nodes, groups, core, whole = measure(make, n)
            base = base or (core, whole)
            print(
                f"{name:8} {nodes:8,} {groups:7,} {core * 1e6:13.1f} {core / base[0]:6.2f} "
                f"{whole * 1e6:13.1f} {whole / base[1]:6.2f}"
            )


if __name__ == "__main__":
    main()
