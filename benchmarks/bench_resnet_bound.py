"""How fast ResNet-50 (batch 1) can run here at best, against the reference interpreter.

Every convolution of the model is a matrix product (im2col), and the dense layer one more.
This script times those products alone, with numpy's BLAS on operands of the model's shapes,
and sums them by how often each shape occurs: no real implementation of the same arithmetic
is faster, so ``interpreter / products`` bounds the speedup any backend computing the
convolutions as products can reach. It also times, for each 3x3 convolution with unit
strides, the batched products of Winograd's F(2,3) and F(4,3) (the transforms left out) and
keeps the fastest of them and the direct product: a bound for a backend using Winograd too.
The compiled model and the interpreter run in the same process, for the ratio actually
reached.

Run from the repository root: ``PYTHONPATH=reference python -m benchmarks.bench_resnet_bound``
(``--repeat N``).
"""

from __future__ import annotations

import argparse
import collections
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.bench_backend import _graph, median_times


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _product_ms(batch: int, m: int, k: int, n: int, repeat: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((batch, m, k), dtype=np.float32)
    b = rng.standard_normal((batch, k, n), dtype=np.float32)
    out = np.empty((batch, m, n), dtype=np.float32)
    return _median_ms(lambda: np.matmul(a, b, out=out), repeat)


def conv_shapes(mod: Any) -> collections.Counter[tuple[int, ...]]:
    """``(k, c, r, s, oh, ow, stride)`` of every conv2d of ``mod``'s main, with counts."""
    from minitvm import relay
    from minitvm.ir.type import TensorType
    from minitvm.relay.expr_functor import iter_post_order

    def dims(expr: Any) -> tuple[int, int, int, int]:
        ty = expr.checked_type
        assert isinstance(ty, TensorType)
        n, c, h, w = (int(d) for d in ty.shape)
        return n, c, h, w

    typed = relay.transform.InferType()(mod)
    found: collections.Counter[tuple[int, ...]] = collections.Counter()
    main = typed["main"]
    assert isinstance(main, relay.Function)
    for node in iter_post_order(main):
        if isinstance(node, relay.Call) and getattr(node.op, "name", "") == "nn.conv2d":
            _, c, _, _ = dims(node.args[0])
            k, _, r, s = dims(node.args[1])
            _, _, oh, ow = dims(node)
            stride = int(getattr(node.attrs, "strides", (1,))[0])
            found[(k, c, r, s, oh, ow, stride)] += 1
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)

    from minitvm import relay
    from minitvm.relay import testing

    mod, params = testing.resnet.get_workload(num_layers=50, batch_size=1)
    shapes = conv_shapes(mod)
    direct = winograd = 0.0
    for (k, c, r, s, oh, ow, stride), count in sorted(shapes.items()):
        ms = _product_ms(1, k, c * r * s, oh * ow, args.repeat)
        best = ms
        if (r, s, stride) == (3, 3, 1):
            for m in (2, 4):
                tiles = -(-oh // m) * -(-ow // m)
                best = min(best, _product_ms((m + 2) ** 2, k, c, tiles, args.repeat))
        direct += ms * count
        winograd += best * count
    dense = _product_ms(1, 1, 2048, 1000, args.repeat)
    direct += dense
    winograd += dense
    flops = sum(2 * k * c * r * s * oh * ow * n for (k, c, r, s, oh, ow, _), n in shapes.items())

    m = _graph(mod, {k: v.numpy() for k, v in params.items()})
    x = np.random.default_rng(4).standard_normal((1, 3, 224, 224)).astype("float32")
    m.set_input("data", x)
    interpret = relay.create_executor("debug", mod=mod, params=params).evaluate()
    t = median_times({"ours": m.run, "interpreter": lambda: interpret(x)}, max(args.repeat // 3, 3))
    ours, interp = t["ours"] * 1e3, t["interpreter"] * 1e3

    print(f"ResNet-50, batch 1: {sum(shapes.values())} convolutions, {flops / 1e9:.2f} GFLOP")
    print(f"interpreter                          {interp:8.2f} ms")
    print(f"minitvm (numba, opt_level 3)         {ours:8.2f} ms  x{interp / ours:5.2f}")
    print(
        f"products alone (BLAS, im2col)        {direct:8.2f} ms  x{interp / direct:5.2f}"
        f"  ({flops / direct / 1e6:.0f} GFLOP/s)"
    )
    print(f"products alone, Winograd where best  {winograd:8.2f} ms  x{interp / winograd:5.2f}")


if __name__ == "__main__":
    main()
