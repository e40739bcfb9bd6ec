"""How fast ResNet-50 (batch 1) can run here at best, against the reference interpreter.

Every convolution of the model is a matrix product (im2col), and the dense layer one more.
This script times those products alone, with numpy's BLAS on operands of the model's shapes,
and sums them by how often each shape occurs: no real implementation of the same arithmetic
is faster, so ``interpreter / products`` bounds the speedup any backend computing the
convolutions as products can reach. It also times, for each 3x3 convolution with unit
strides, Winograd's F(2,3) and F(4,3) two ways, keeping the fastest of them and the direct
product each time:

- its batched products alone, the transforms left out: a bound no Winograd backend passes;
- with its transforms too, each as one more BLAS product (the Kronecker square of the 1-d
  transform applied to every tile at once): the floor under a Winograd backend built on
  BLAS, the copies of its tiles left out.

The compiled model and the interpreter run in the same process, for the ratio actually
reached.

Run from the repository root: ``PYTHONPATH=reference python -m benchmarks.bench_resnet_bound``
(``--repeat N``).
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.bench_backend import _graph, median_times

Array = npt.NDArray[Any]


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    return median_times({"run": run}, repeat)["run"] * 1e3


def _product_ms(batch: int, m: int, k: int, n: int, repeat: int) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((batch, m, k), dtype=np.float32)
    b = rng.standard_normal((batch, k, n), dtype=np.float32)
    out = np.empty((batch, m, n), dtype=np.float32)
    return _median_ms(lambda: np.matmul(a, b, out=out), repeat)


def winograd_matrices(m: int, r: int = 3) -> tuple[Array, Array, Array]:
    """``(A, B, G)`` of Winograd's F(m, r) in float64, for ``y = A^T ((G g) * (B^T d))``:
    Toom-Cook on the interpolation points TVM uses (0, -1, 1, 1/2, -2 for F(4,3)) and the
    point at infinity, with ``B`` solved from the identity itself."""
    points = {2: [0.0, -1.0, 1.0], 4: [0.0, -1.0, 1.0, 0.5, -2.0]}[m]
    alpha = m + r - 1
    scale = [float(np.prod([p - q for q in points if q != p])) for p in points]
    scale[0] = abs(scale[0])  # TVM's sign convention: only the first row is made positive
    g = np.zeros((alpha, r))
    a = np.zeros((alpha, m))
    for i, p in enumerate(points):
        g[i] = [p**j / scale[i] for j in range(r)]
        a[i] = [p**j for j in range(m)]
    g[-1, -1] = a[-1, -1] = 1.0
    # B^T is the solution of sum_i a[i, j] g[i, k] bt[i, t] == (t == j + k), for every
    # output j, tap k and input t: one equation per (j, k, t), one unknown per bt[i, t].
    system = np.zeros((m, r, alpha, alpha, alpha))
    rhs = np.zeros((m, r, alpha))
    for j in range(m):
        for k in range(r):
            rhs[j, k, j + k] = 1.0
            for t in range(alpha):
                system[j, k, t, :, t] = a[:, j] * g[:, k]
    bt = np.linalg.lstsq(system.reshape(-1, alpha * alpha), rhs.ravel(), rcond=None)[0]
    return a, bt.reshape(alpha, alpha).T, g


def _winograd_ms(k: int, c: int, size: int, m: int, repeat: int) -> float:
    """The three products of a 3x3, pad 1, unit-stride convolution of a (c, size, size) map
    to k channels by F(m, 3): the input transform of every tile, the batched product with the
    transformed weights, the output transform. The tile copies around them are left out (a
    generated kernel would do them at memory speed; numpy's strided copies are far slower).
    The whole convolution, copies included, is checked against the direct product first."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((c, size, size), dtype=np.float32)
    w = rng.standard_normal((k, c, 3, 3), dtype=np.float32)
    a, b, g = winograd_matrices(m)
    alpha = m + 2
    tiles = -(-size // m)
    u = np.einsum("ir,kcrs,js->ijkc", g, w.astype(np.float64), g)
    u = u.astype(np.float32).reshape(alpha * alpha, k, c)
    into = np.kron(b.T, b.T).astype(np.float32)
    out_of = np.kron(a.T, a.T).astype(np.float32)
    gathered = np.empty((alpha * alpha, c * tiles * tiles), np.float32)
    v = np.empty((alpha * alpha, c, tiles * tiles), np.float32)
    prod = np.empty((alpha * alpha, k, tiles * tiles), np.float32)
    y = np.empty((m * m, k * tiles * tiles), np.float32)

    def products() -> None:
        np.matmul(into, gathered, out=v.reshape(alpha * alpha, -1))
        np.matmul(u, v, out=prod)
        np.matmul(out_of, prod.reshape(alpha * alpha, -1), out=y)

    padded = np.pad(x, ((0, 0), (1, tiles * m - size + 1), (1, tiles * m - size + 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (alpha, alpha), axis=(1, 2))
    gathered[...] = windows[:, ::m, ::m].transpose(3, 4, 0, 1, 2).reshape(alpha * alpha, -1)
    products()
    out = y.reshape(m, m, k, tiles, tiles).transpose(2, 3, 0, 4, 1)
    out = out.reshape(k, tiles * m, tiles * m)[:, :size, :size]
    cols = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    cols = cols[:, :size, :size].transpose(0, 3, 4, 1, 2).reshape(c * 9, -1)
    direct = w.reshape(k, -1) @ cols
    scale = float(np.abs(direct).max())
    np.testing.assert_allclose(out.reshape(k, -1), direct, rtol=1e-3, atol=1e-4 * scale)
    return _median_ms(products, repeat)


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
    direct = winograd = whole = 0.0
    for (k, c, r, s, oh, ow, stride), count in sorted(shapes.items()):
        ms = _product_ms(1, k, c * r * s, oh * ow, args.repeat)
        best = best_whole = ms
        if (r, s, stride) == (3, 3, 1):
            for m in (2, 4):
                tiles = -(-oh // m) * -(-ow // m)
                best = min(best, _product_ms((m + 2) ** 2, k, c, tiles, args.repeat))
                if oh == ow:  # _winograd_ms takes square maps (ResNet-50's all are)
                    best_whole = min(best_whole, _winograd_ms(k, c, oh, m, args.repeat))
        direct += ms * count
        winograd += best * count
        whole += best_whole * count
    dense = _product_ms(1, 1, 2048, 1000, args.repeat)
    direct += dense
    winograd += dense
    whole += dense
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
    print(f"  the same, with Winograd's transforms {whole:6.2f} ms  x{interp / whole:5.2f}")


if __name__ == "__main__":
    main()
