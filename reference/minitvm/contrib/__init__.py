"""``tvm.contrib``: the graph executor's Python wrapper."""

from minitvm.contrib import graph_executor

__all__ = ["graph_executor"]
