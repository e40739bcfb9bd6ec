"""The graph executor runtime (TVM's ``src/runtime/graph_executor/graph_executor.cc``).

It is built from the graph JSON, the library of compiled functions and the parameters. Each
planned storage is one 64-byte aligned byte buffer, allocated once; every node output is a
view of its storage with the output's shape and dtype. Each operator node's call is
prepared once (``CompiledFunc.bind``): its arguments resolved, its temporaries laid out in
one scratch storage that all calls share (they never overlap), so running the graph
allocates nothing but what kernels allocate inside. ``run`` makes the prepared calls in
order; ``__nop`` nodes do nothing (their output is a view of their input's storage). Inputs
are copied in by ``set_input``; ``get_output``
returns an NDArray over the output's storage, as TVM does, which the next run overwrites.

On a CUDA device (a graph built for ``cuda``) the storage is device memory: ``set_input``
copies to the device, the compiled functions run on the device arrays in place (inside an
NVTX range named after each function), ``run`` returns once the device is done, and
``get_output`` / ``get_input`` copy to the host, so their NDArrays are snapshots.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import override

from minitvm.error import DiagnosticError, TVMError
from minitvm.relay.backend.compile_engine import ALIGN, Buffer, CompiledFunc, device_bytes, nbytes
from minitvm.relay.backend.graph_codegen import NOP
from minitvm.relay.backend.graph_json import ParsedGraph, parse
from minitvm.relay.backend.profiler import KernelProfile, Report
from minitvm.runtime import cuda_available
from minitvm.runtime.device import Device, cpu
from minitvm.runtime.module import Module
from minitvm.runtime.ndarray import NDArray
from minitvm.runtime.nvtx import annotate

__all__ = ["BenchmarkResult", "GraphRuntime"]

Array = npt.NDArray[Any]


def _aligned(size: int) -> Array:
    raw = np.empty(size + ALIGN, dtype=np.uint8)
    offset = (-raw.ctypes.data) % ALIGN
    return raw[offset : offset + size]


def _synchronize() -> None:
    from numba import cuda

    cuda.synchronize()  # type: ignore[no-untyped-call]  # numba is untyped


class BenchmarkResult:
    """Run times of ``benchmark`` (TVM's ``tvm.runtime.profiling.BenchmarkResult``)."""

    def __init__(self, results: list[float]) -> None:
        self.results = results
        arr = np.asarray(results)
        self.mean = float(arr.mean())
        self.median = float(np.median(arr))
        self.min = float(arr.min())
        self.max = float(arr.max())
        self.std = float(arr.std())

    @override
    def __repr__(self) -> str:
        return (
            f"BenchmarkResult(median={self.median * 1e3:.3f} ms, mean={self.mean * 1e3:.3f} ms, "
            f"min={self.min * 1e3:.3f} ms, runs={len(self.results)})"
        )


class _Call:
    __slots__ = ("fn", "inputs", "name", "nbytes", "outputs", "run")

    def __init__(
        self,
        fn: CompiledFunc,
        name: str,
        inputs: list[Buffer],
        outputs: list[Buffer],
        scratch: Buffer,
    ):
        self.fn = fn
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.nbytes = sum(nbytes(a.shape, a.dtype) for a in (*inputs, *outputs))
        self.run = fn.bind(inputs, outputs, scratch)


class GraphRuntime(Module):
    """A graph ready to run on a device (what ``factory["default"](dev)`` returns)."""

    type_key = "GraphExecutor"

    def __init__(
        self,
        graph_json: str,
        lib: Module,
        device: Device | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        self.graph: ParsedGraph = parse(graph_json)
        self.device = device or cpu(0)
        if self.device.device_type == 2 and not cuda_available():
            raise TVMError(
                f"graph executor: no CUDA device for {self.device} (without a GPU, set "
                "NUMBA_ENABLE_CUDASIM=1 before numba is imported to use numba's simulator)"
            )
        self.on_device = self.device.device_type == 2
        g = self.graph
        sizes: dict[int, int] = {}
        for sid, shape, dtype in zip(g.storage_ids, g.shapes, g.dtypes, strict=True):
            n = nbytes(shape, dtype)
            sizes[sid] = max(sizes.get(sid, 0), n)
        allocate = device_bytes if self.on_device else _aligned
        self.storage = {sid: allocate(n) for sid, n in sizes.items()}
        self.entries: list[Buffer] = []
        for sid, shape, dtype in zip(g.storage_ids, g.shapes, g.dtypes, strict=True):
            n = nbytes(shape, dtype)
            self.entries.append(self.storage[sid][:n].view(dtype).reshape(shape))
        self.input_names = [g.nodes[i].name for i in g.arg_nodes]
        self._input_index = {name: k for k, name in enumerate(self.input_names)}
        self.calls = self._calls(lib)
        if params:
            self.load_params(params)

    def _calls(self, lib: Module) -> list[_Call]:
        g = self.graph
        nodes: list[tuple[int, CompiledFunc]] = []
        for index, node in enumerate(g.nodes):
            if node.op == "null" or node.func_name == NOP:
                continue
            fn = lib.get_function(node.func_name)
            if not isinstance(fn, CompiledFunc):
                raise DiagnosticError(f"graph: {node.func_name} is not a compiled function")
            nodes.append((index, fn))
        # Calls run one at a time, so their temporaries share one scratch storage.
        need = max((fn.scratch_bytes for _, fn in nodes), default=0)
        scratch = self.scratch = device_bytes(need) if self.on_device else _aligned(need)
        calls: list[_Call] = []
        for index, fn in nodes:
            node = g.nodes[index]
            ins = [self.entries[g.entry_id(e)] for e in node.inputs]
            outs = [self.entries[g.row_ptr[index] + k] for k in range(node.num_outputs)]
            calls.append(_Call(fn, node.func_name, ins, outs, scratch))
        return calls

    @override
    def _functions(self) -> Mapping[str, Callable[..., Any]]:
        return {
            "set_input": self.set_input,
            "run": self.run,
            "get_output": self.get_output,
            "get_input": self.get_input,
            "get_num_outputs": self.get_num_outputs,
            "get_num_inputs": self.get_num_inputs,
            "get_input_index": self.get_input_index,
            "load_params": self.load_params,
        }

    # --- inputs and outputs ---------------------------------------------------------------

    def get_input_index(self, name: str) -> int:
        k = self._input_index.get(name)
        if k is None:
            raise DiagnosticError(
                f"graph executor: no input named {name!r}; inputs: {', '.join(self.input_names)}"
            )
        return k

    def _input_array(self, key: int | str) -> tuple[str, Buffer]:
        k = self.get_input_index(key) if isinstance(key, str) else int(key)
        if not 0 <= k < len(self.input_names):
            raise DiagnosticError(f"graph executor: input index {k} is out of range")
        node = self.graph.arg_nodes[k]
        return self.input_names[k], self.entries[self.graph.row_ptr[node]]

    def set_input(
        self, key: int | str | None = None, value: object = None, **params: object
    ) -> None:
        """Copy ``value`` into input ``key`` (a name or an index), and each keyword argument
        into the input of that name. Dtypes and shapes must match exactly."""
        if key is not None:
            self._copy_in(key, value)
        self.load_params(params)

    def _copy_in(self, key: int | str, value: object) -> None:
        name, dst = self._input_array(key)
        src = np.asarray(value.numpy() if isinstance(value, NDArray) else value)
        if src.dtype != dst.dtype or src.shape != dst.shape:
            raise DiagnosticError(
                f"graph executor: input {name!r} expects {dst.dtype}{list(dst.shape)}, "
                f"got {src.dtype}{list(src.shape)}"
            )
        if self.on_device:
            dst.copy_to_device(np.ascontiguousarray(src))
        else:
            np.copyto(dst, src)

    def _host(self, array: Any) -> NDArray:
        if self.on_device:
            return NDArray(array.copy_to_host(), self.device)
        return NDArray(array, self.device)

    def load_params(self, params: Mapping[str, object]) -> None:
        for name, v in params.items():
            self._copy_in(name, v)

    def get_input(self, key: int | str) -> NDArray:
        return self._host(self._input_array(key)[1])

    def get_num_inputs(self) -> int:
        return len(self.input_names)

    def get_num_outputs(self) -> int:
        return len(self.graph.heads)

    def get_output(self, index: int, out: NDArray | None = None) -> NDArray:
        if not 0 <= index < len(self.graph.heads):
            raise DiagnosticError(
                f"graph executor: output {index} requested, the graph has {len(self.graph.heads)}"
            )
        array = self._host(self.entries[self.graph.entry_id(self.graph.heads[index])])
        if out is not None:
            return out.copyfrom(array)
        return array

    # --- running --------------------------------------------------------------------------

    def run(self, **inputs: object) -> None:
        if inputs:
            self.load_params(inputs)
        with np.errstate(all="ignore"):
            if self.on_device:
                for c in self.calls:
                    with annotate(c.name):
                        c.run()
                _synchronize()
            else:
                for c in self.calls:
                    c.run()

    def profile(self, number: int = 1, warmup: int = 1) -> Report:
        """Run ``warmup`` times untimed, then ``number`` times timing every kernel call."""
        for _ in range(warmup):
            self.run()
        seconds: dict[str, float] = {}
        counts: dict[str, int] = {}
        clock = time.perf_counter
        start = clock()
        with np.errstate(all="ignore"):
            for _ in range(max(number, 1)):
                for c in self.calls:
                    t0 = clock()
                    c.run()
                    if self.on_device:
                        _synchronize()
                    seconds[c.name] = seconds.get(c.name, 0.0) + clock() - t0
                    counts[c.name] = counts.get(c.name, 0) + 1
        total = clock() - start
        rows: dict[str, KernelProfile] = {}
        for c in self.calls:
            if c.name in rows:
                continue
            n = counts[c.name]
            moved = sum(x.nbytes for x in self.calls if x.name == c.name) * max(number, 1)
            rows[c.name] = KernelProfile(
                c.name, n, seconds[c.name], moved, c.fn.flops * n, c.fn.backend
            )
        ordered = sorted(rows.values(), key=lambda r: -r.seconds)
        return Report(tuple(ordered), total, max(number, 1))

    def benchmark(
        self,
        device: Device | None = None,
        func_name: str = "run",
        repeat: int = 5,
        number: int = 1,
        min_repeat_ms: float | None = None,
        end_to_end: bool = False,
        **kwargs: object,
    ) -> BenchmarkResult:
        """Seconds per run, measured ``repeat`` times over ``number`` runs each."""
        if kwargs:
            self.load_params(kwargs)
        self.run()
        results: list[float] = []
        for _ in range(max(repeat, 1)):
            count = max(number, 1)
            while True:
                t0 = time.perf_counter()
                for _ in range(count):
                    self.run()
                elapsed = time.perf_counter() - t0
                if min_repeat_ms is None or elapsed * 1e3 >= min_repeat_ms:
                    break
                count *= 2
            results.append(elapsed / count)
        return BenchmarkResult(results)
