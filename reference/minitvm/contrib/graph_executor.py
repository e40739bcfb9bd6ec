"""``tvm.contrib.graph_executor``: ``GraphModule`` and ``create`` (TVM's
``python/tvm/contrib/graph_executor.py``).

``GraphModule(factory["default"](dev))`` wraps the runtime module a build creates;
``create(graph_json, lib, dev)`` makes one from a graph and a library. ``profile()`` times
every kernel (TVM's debug executor), ``benchmark()`` whole runs.
"""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import override

from minitvm.error import TVMError
from minitvm.relay.backend.graph_runtime import BenchmarkResult, GraphRuntime
from minitvm.relay.backend.profiler import Report
from minitvm.runtime.device import Device
from minitvm.runtime.module import Module
from minitvm.runtime.ndarray import NDArray

__all__ = ["GraphModule", "create"]


def create(
    graph_json_str: str, libmod: Module, device: Device | list[Device] | None = None
) -> GraphModule:
    """A GraphModule running ``graph_json_str`` with the functions of ``libmod``."""
    dev = device[0] if isinstance(device, list) else device
    return GraphModule(GraphRuntime(graph_json_str, libmod, dev))


class GraphModule:
    """The Python face of a graph runtime module."""

    def __init__(self, module: object) -> None:
        if not isinstance(module, GraphRuntime):
            raise TVMError(
                "GraphModule expects the module of factory['default'](dev) or "
                f"graph_executor.create, got {type(module).__name__}"
            )
        self.module = module

    def set_input(
        self, key: int | str | None = None, value: object = None, **params: object
    ) -> None:
        self.module.set_input(key, value, **params)

    def run(self, **input_dict: object) -> None:
        self.module.run(**input_dict)

    def get_output(self, index: int, out: NDArray | None = None) -> NDArray:
        return self.module.get_output(index, out)

    def get_input(self, index: int | str, out: NDArray | None = None) -> NDArray:
        value = self.module.get_input(index)
        return value if out is None else out.copyfrom(value)

    def get_input_index(self, name: str) -> int:
        return self.module.get_input_index(name)

    def get_num_outputs(self) -> int:
        return self.module.get_num_outputs()

    def get_num_inputs(self) -> int:
        return self.module.get_num_inputs()

    def load_params(self, params: Mapping[str, object]) -> None:
        self.module.load_params(params)

    def profile(self, number: int = 1, warmup: int = 1) -> Report:
        """Per-kernel times, bytes and FLOPs over ``number`` runs (after ``warmup``)."""
        return self.module.profile(number, warmup)

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
        return self.module.benchmark(
            device, func_name, repeat, number, min_repeat_ms, end_to_end, **kwargs
        )

    def __getitem__(self, key: str) -> object:
        return self.module[key]

    @override
    def __repr__(self) -> str:
        return (
            f"GraphModule({self.module.get_num_inputs()} inputs, {self.get_num_outputs()} outputs)"
        )
