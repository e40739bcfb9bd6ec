"""The numba-CPU backend against its peers, measured in one run: median of several runs each,
ratios computed from the medians.

| workload | peer |
|---|---|
| 8 chained elementwise ops, 16M float32 | numpy eager; an array copy (bandwidth bound) |
| dense 1024 x 1024 x 1024 float32 | numpy's BLAS matmul |
| conv2d 1x64x56x56, 64 3x3 filters, pad 1 | numpy im2col (sliding windows) + BLAS |
| softmax (4096, 1024) | numpy |
| ResNet-50, batch 1 | the reference interpreter |
| ResNet-50 compile time | cold cache (fresh directory) and warm cache, each in a new process |

Run from the repository root: ``PYTHONPATH=reference python -m benchmarks.bench_backend``
(``--threads N`` for numba's and OpenBLAS's thread counts, ``--repeat``, ``--quick`` to skip
ResNet-50, ``--only NAME`` to run one workload: elementwise, dense, conv, softmax, resnet,
compile). The measurements run in a child process whose environment sets the thread counts
and drops ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE``, so numpy's BLAS is measured as shipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
ROOT = Path(__file__).resolve().parent.parent
ELEMENTS = 16 * 1024 * 1024


def median_times(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each callable, measured round-robin (one warm-up call each), so a
    change in the machine's load affects every contender alike."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def _module(build: Callable[..., Any], shapes: list[tuple[int, ...]]) -> Any:
    import minitvm as tvm
    from minitvm import relay

    params = [relay.var(f"v{i}", shape=s) for i, s in enumerate(shapes)]
    return tvm.IRModule.from_expr(relay.Function(params, build(*params)))


def _graph(mod: Any, params: dict[str, Array] | None = None) -> Any:
    import minitvm as tvm
    from minitvm import relay
    from minitvm.contrib import graph_executor

    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, "llvm", params=params)
    return graph_executor.GraphModule(lib["default"](tvm.cpu(0)))


def _row(name: str, ours: float, peers: list[tuple[str, float]], note: str = "") -> None:
    parts = [f"{name:<34} minitvm {ours * 1e3:9.2f} ms"]
    for peer, t in peers:
        parts.append(f"{peer} {t * 1e3:9.2f} ms (x{t / ours:5.2f})")
    print(" | ".join(parts) + (f"  {note}" if note else ""), flush=True)


def elementwise_chain(x: Any) -> Any:
    """The 8 chained elementwise operators of the elementwise workload."""
    from minitvm import relay

    y = relay.multiply(x, relay.const(1.5))
    y = relay.add(y, relay.const(0.5))
    y = relay.nn.relu(y)
    y = relay.subtract(y, relay.const(0.25))
    y = relay.multiply(y, relay.const(0.5))
    y = relay.exp(y)
    y = relay.add(y, relay.const(1.0))
    return relay.sqrt(y)


def bench_elementwise(repeat: int) -> None:
    from minitvm import relay

    m = _graph(_module(elementwise_chain, [(ELEMENTS,)]))
    x = np.random.default_rng(0).uniform(-1, 1, ELEMENTS).astype("float32")
    m.set_input("v0", x)

    def eager() -> Array:
        y = x * np.float32(1.5)
        y = y + np.float32(0.5)
        y = np.maximum(y, np.float32(0))
        y = y - np.float32(0.25)
        y = y * np.float32(0.5)
        y = np.exp(y)
        y = y + np.float32(1.0)
        out: Array = np.sqrt(y)
        return out

    dst = np.empty_like(x)
    copy_m = _graph(_module(lambda v: relay.copy(v), [(ELEMENTS,)]))
    copy_m.set_input("v0", x)
    t = median_times(
        {"ours": m.run, "numpy": eager, "copy": lambda: np.copyto(dst, x), "kernel": copy_m.run},
        repeat,
    )
    np.testing.assert_allclose(m.get_output(0).numpy(), eager(), rtol=1e-5)
    ours, numpy_time, copy_time, kernel_copy = t["ours"], t["numpy"], t["copy"], t["kernel"]
    bound = min(copy_time, kernel_copy)
    _row(
        "8 elementwise ops, 16M float32",
        ours,
        [("numpy eager", numpy_time), ("copy bound", bound)],
        f"(bound: numpy copy {copy_time * 1e3:.2f} ms, compiled copy {kernel_copy * 1e3:.2f} ms)",
    )


def bench_dense(repeat: int) -> None:
    from minitvm import relay

    rng = np.random.default_rng(1)
    x = rng.standard_normal((1024, 1024)).astype("float32")
    w = rng.standard_normal((1024, 1024)).astype("float32")
    m = _graph(_module(lambda a, b: relay.nn.dense(a, b), [x.shape, w.shape]), {"v1": w})
    m.set_input("v0", x)
    t = median_times({"ours": m.run, "peer": lambda: np.matmul(x, w.T)}, repeat)
    np.testing.assert_allclose(m.get_output(0).numpy(), x @ w.T, rtol=1e-3, atol=1e-2)
    _row("dense 1024^3 float32", t["ours"], [("numpy BLAS", t["peer"])])


def numpy_conv(x: Array, w: Array) -> Array:
    """conv2d NCHW, 3x3, pad 1, stride 1 as numpy's im2col (sliding windows) and BLAS."""
    n, c, h, width = x.shape
    k = w.shape[0]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    cols = windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * 9, h * width)
    out: Array = np.matmul(w.reshape(k, c * 9), cols).reshape(n, k, h, width)
    return out


def bench_conv(repeat: int) -> None:
    from minitvm import relay

    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 64, 56, 56)).astype("float32")
    w = rng.standard_normal((64, 64, 3, 3)).astype("float32")
    mod = _module(lambda a, b: relay.nn.conv2d(a, b, padding=1), [x.shape, w.shape])
    m = _graph(mod, {"v1": w})
    m.set_input("v0", x)
    t = median_times({"ours": m.run, "peer": lambda: numpy_conv(x, w)}, repeat)
    np.testing.assert_allclose(m.get_output(0).numpy(), numpy_conv(x, w), rtol=1e-3, atol=1e-3)
    _row("conv2d 1x64x56x56, 64 3x3, pad 1", t["ours"], [("numpy im2col+BLAS", t["peer"])])


def bench_softmax(repeat: int) -> None:
    from minitvm import relay

    x = np.random.default_rng(3).standard_normal((4096, 1024)).astype("float32")
    m = _graph(_module(lambda a: relay.nn.softmax(a), [x.shape]))
    m.set_input("v0", x)

    def peer() -> Array:
        e = np.exp(x - x.max(axis=1, keepdims=True))
        out: Array = e / e.sum(axis=1, keepdims=True)
        return out

    t = median_times({"ours": m.run, "peer": peer}, repeat)
    np.testing.assert_allclose(m.get_output(0).numpy(), peer(), rtol=1e-5, atol=1e-8)
    _row("softmax (4096, 1024)", t["ours"], [("numpy", t["peer"])])


def bench_resnet(repeat: int) -> None:
    from minitvm import relay
    from minitvm.relay import testing

    mod, params = testing.resnet.get_workload(num_layers=50, batch_size=1)
    m = _graph(mod, {k: v.numpy() for k, v in params.items()})
    x = np.random.default_rng(4).standard_normal((1, 3, 224, 224)).astype("float32")
    m.set_input("data", x)
    run = relay.create_executor("debug", mod=mod, params=params).evaluate()
    t = median_times({"ours": m.run, "interpreter": lambda: run(x)}, repeat)
    np.testing.assert_allclose(m.get_output(0).numpy(), run(x).numpy(), rtol=1e-4, atol=1e-6)
    _row("ResNet-50, batch 1", t["ours"], [("interpreter", t["interpreter"])])
    rows = int(os.environ.get("BENCH_PROFILE_ROWS", "12"))
    print(m.profile(number=1).table(limit=rows), flush=True)


_COMPILE = """
import time, minitvm as tvm
from minitvm import relay
from minitvm.relay import testing
mod, params = testing.resnet.get_workload(num_layers=50, batch_size=1)
start = time.perf_counter()
with tvm.transform.PassContext(opt_level=3, config={{"numba.cache_dir": {cache!r}}}):
    lib = relay.build(mod, "llvm", params=params)
print(f"{{time.perf_counter() - start:.2f}} {{len(lib.get_lib().functions)}}")
"""


def bench_compile() -> None:
    with tempfile.TemporaryDirectory(prefix="minitvm-bench-cache-") as cache:
        times = []
        functions = "?"
        for label in ("cold", "warm"):
            done = subprocess.run(
                [sys.executable, "-c", _COMPILE.format(cache=cache)],
                capture_output=True,
                text=True,
                check=True,
                env=dict(os.environ),
            )
            seconds, functions = done.stdout.split()
            times.append((label, float(seconds)))
        print(
            f"ResNet-50 relay.build ({functions} functions): "
            + ", ".join(f"{label} cache {t:.1f} s" for label, t in times),
            flush=True,
        )


def run_child(args: argparse.Namespace) -> None:
    import numba

    print(
        f"numba {numba.__version__}, {numba.get_num_threads()} numba threads, "
        f"OpenBLAS threads {os.environ.get('OPENBLAS_NUM_THREADS', 'default')}, "
        f"median of {args.repeat} runs",
        flush=True,
    )
    rows: dict[str, Callable[[], None]] = {
        "elementwise": lambda: bench_elementwise(args.repeat),
        "dense": lambda: bench_dense(args.repeat),
        "conv": lambda: bench_conv(args.repeat),
        "softmax": lambda: bench_softmax(args.repeat),
        "resnet": lambda: bench_resnet(max(args.repeat // 2, 3)),
        "compile": bench_compile,
    }
    chosen = args.only or [k for k in rows if not (args.quick and k in ("resnet", "compile"))]
    for name in chosen:
        rows[name]()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="numba and OpenBLAS threads")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="skip ResNet-50")
    parser.add_argument(
        "--only",
        action="append",
        choices=["elementwise", "dense", "conv", "softmax", "resnet", "compile"],
        help="run only this workload (repeatable)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(args)
        return
    env = dict(os.environ)
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(key, None)
    if args.threads is not None:
        for key in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            env[key] = str(args.threads)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "reference"), str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", "benchmarks.bench_backend", "--child"]
    command += ["--repeat", str(args.repeat)] + (["--quick"] if args.quick else [])
    command += [f"--only={name}" for name in args.only or []]
    subprocess.run(command, env=env, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
