"""The numba-CUDA backend on a GPU against its peers, measured in one run: median of several
runs each (every GPU run waits for the device), ratios computed from the medians.

| workload | peers |
|---|---|
| 8 chained elementwise ops, 16M float32 | PyTorch eager; minitvm's compiled copy (the bound) |
| dense 1024 x 1024 x 1024 float32 | PyTorch (cuBLAS) |
| conv2d 1x64x56x56, 64 3x3 filters, pad 1 | PyTorch (cuDNN) |
| softmax (4096, 1024) | PyTorch |
| ResNet-50, batch 1 | minitvm's numba-CPU build on the same machine; the reference interpreter |
| ResNet-50 compile time | first build (cold when the cache is empty); a new process, warm |

PyTorch is a peer only where it is installed. Needs a GPU and numba-cuda; run from the
repository root with ``NUMBA_ENABLE_CUDASIM=0 PYTHONPATH=reference python -m
benchmarks.bench_cuda`` (``--repeat``, ``--quick`` to skip ResNet-50).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.bench_backend import (
    ELEMENTS,
    _module,
    _row,
    elementwise_chain,
    median_times,
    numpy_conv,
)


def _gpu_graph(mod: Any, params: dict[str, Any] | None = None) -> Any:
    import minitvm as tvm
    from minitvm import relay
    from minitvm.contrib import graph_executor

    with tvm.transform.PassContext(opt_level=3):
        lib = relay.build(mod, "cuda", params=params)
    return graph_executor.GraphModule(lib["default"](tvm.cuda(0)))


def _torch() -> Any:
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _synced(torch: Any, fn: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        fn()
        torch.cuda.synchronize()

    return run


def bench_elementwise(repeat: int, torch: Any) -> None:
    from minitvm import relay

    x = np.random.default_rng(0).uniform(-1, 1, ELEMENTS).astype("float32")
    m = _gpu_graph(_module(elementwise_chain, [(ELEMENTS,)]))
    m.set_input("v0", x)
    copy_m = _gpu_graph(_module(lambda v: relay.copy(v), [(ELEMENTS,)]))
    copy_m.set_input("v0", x)
    runs: dict[str, Callable[[], object]] = {"ours": m.run, "copy": copy_m.run}
    if torch is not None:
        tx = torch.from_numpy(x).cuda()

        def eager() -> object:
            return torch.sqrt(torch.exp((torch.relu(tx * 1.5 + 0.5) - 0.25) * 0.5) + 1.0)

        runs["torch"] = _synced(torch, eager)
    t = median_times(runs, repeat)
    want = np.sqrt(np.exp((np.maximum(x * 1.5 + 0.5, 0) - 0.25) * 0.5) + 1.0)
    np.testing.assert_allclose(m.get_output(0).numpy(), want, rtol=1e-5)
    peers = [("compiled copy", t["copy"])] + ([("torch", t["torch"])] if "torch" in t else [])
    _row("8 elementwise ops, 16M float32", t["ours"], peers)


def bench_dense(repeat: int, torch: Any) -> None:
    from minitvm import relay

    rng = np.random.default_rng(1)
    x = rng.standard_normal((1024, 1024)).astype("float32")
    w = rng.standard_normal((1024, 1024)).astype("float32")
    m = _gpu_graph(_module(lambda a, b: relay.nn.dense(a, b), [x.shape, w.shape]), {"v1": w})
    m.set_input("v0", x)
    runs: dict[str, Callable[[], object]] = {"ours": m.run}
    if torch is not None:
        tx, tw = torch.from_numpy(x).cuda(), torch.from_numpy(w).cuda()
        runs["torch"] = _synced(torch, lambda: tx @ tw.T)
    t = median_times(runs, repeat)
    np.testing.assert_allclose(m.get_output(0).numpy(), x @ w.T, rtol=1e-3, atol=1e-2)
    _row("dense 1024^3 float32", t["ours"], [("torch", t["torch"])] if "torch" in t else [])


def bench_conv(repeat: int, torch: Any) -> None:
    from minitvm import relay

    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 64, 56, 56)).astype("float32")
    w = rng.standard_normal((64, 64, 3, 3)).astype("float32")
    mod = _module(lambda a, b: relay.nn.conv2d(a, b, padding=1), [x.shape, w.shape])
    m = _gpu_graph(mod, {"v1": w})
    m.set_input("v0", x)
    runs: dict[str, Callable[[], object]] = {"ours": m.run}
    if torch is not None:
        tx, tw = torch.from_numpy(x).cuda(), torch.from_numpy(w).cuda()
        runs["torch"] = _synced(torch, lambda: torch.nn.functional.conv2d(tx, tw, padding=1))
    t = median_times(runs, repeat)
    np.testing.assert_allclose(m.get_output(0).numpy(), numpy_conv(x, w), rtol=1e-3, atol=1e-3)
    peers = [("torch", t["torch"])] if "torch" in t else []
    _row("conv2d 1x64x56x56, 64 3x3, pad 1", t["ours"], peers)


def bench_softmax(repeat: int, torch: Any) -> None:
    from minitvm import relay

    x = np.random.default_rng(3).standard_normal((4096, 1024)).astype("float32")
    m = _gpu_graph(_module(lambda a: relay.nn.softmax(a), [x.shape]))
    m.set_input("v0", x)
    runs: dict[str, Callable[[], object]] = {"ours": m.run}
    if torch is not None:
        tx = torch.from_numpy(x).cuda()
        runs["torch"] = _synced(torch, lambda: torch.softmax(tx, dim=1))
    t = median_times(runs, repeat)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(m.get_output(0).numpy(), want, rtol=1e-5, atol=1e-8)
    _row("softmax (4096, 1024)", t["ours"], [("torch", t["torch"])] if "torch" in t else [])


def bench_resnet(repeat: int) -> None:
    from benchmarks.bench_backend import _graph
    from minitvm import relay
    from minitvm.relay import testing

    mod, params = testing.resnet.get_workload(num_layers=50, batch_size=1)
    arrays = {k: v.numpy() for k, v in params.items()}
    x = np.random.default_rng(4).standard_normal((1, 3, 224, 224)).astype("float32")
    start = time.perf_counter()
    gpu = _gpu_graph(mod, arrays)
    gpu.set_input("data", x)
    gpu.run()  # numba compiles each kernel at its first launch
    built = time.perf_counter() - start
    print(f"ResNet-50 relay.build + first run on cuda, first in this process: {built:.1f} s")
    cpu = _graph(mod, arrays)
    cpu.set_input("data", x)
    run = relay.create_executor("debug", mod=mod, params=params).evaluate()
    t = median_times({"ours": gpu.run, "cpu": cpu.run, "interpreter": lambda: run(x)}, repeat)
    want = run(x).numpy()
    np.testing.assert_allclose(gpu.get_output(0).numpy(), want, rtol=1e-3, atol=1e-5)
    peers = [("numba-CPU", t["cpu"]), ("interpreter", t["interpreter"])]
    _row("ResNet-50, batch 1", t["ours"], peers)
    print(gpu.profile(number=1).table(limit=12), flush=True)


_COMPILE = """
import time, minitvm as tvm
from minitvm import relay
from minitvm.relay import testing
mod, params = testing.resnet.get_workload(num_layers=50, batch_size=1)
start = time.perf_counter()
with tvm.transform.PassContext(opt_level=3):
    lib = relay.build(mod, "cuda", params=params)
lib["default"](tvm.cuda(0)).run()
print(f"{time.perf_counter() - start:.2f} {len(lib.get_lib().functions)}")
"""


def bench_warm_compile() -> None:
    """``relay.build`` of ResNet-50 in a new process, with the kernel cache that
    ``bench_resnet`` filled (the first build there is the cold one)."""
    done = subprocess.run(
        [sys.executable, "-c", _COMPILE], capture_output=True, text=True, check=True
    )
    seconds, functions = done.stdout.split()
    print(f"ResNet-50 relay.build + first run on cuda ({functions} functions), warm: {seconds} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="skip ResNet-50")
    args = parser.parse_args(argv)
    import numba
    from numba import cuda

    from minitvm.runtime import nvtx

    torch = _torch()
    device = cuda.get_current_device()  # type: ignore[no-untyped-call]  # numba is untyped
    name = getattr(device, "name", "simulator")
    print(
        f"numba {numba.__version__}, GPU {name.decode() if isinstance(name, bytes) else name}, "
        f"torch {'absent' if torch is None else torch.__version__}, "
        f"NVTX to {nvtx.emitter().name}, median of {args.repeat} runs",
        flush=True,
    )
    bench_elementwise(args.repeat, torch)
    bench_dense(args.repeat, torch)
    bench_conv(args.repeat, torch)
    bench_softmax(args.repeat, torch)
    if not args.quick:
        bench_resnet(max(args.repeat // 2, 3))
        bench_warm_compile()


if __name__ == "__main__":
    main()
