"""minitvm: a typed, pure-Python reference implementation of TVM's compiler stack.

``import minitvm as tvm; from minitvm import relay`` runs code written for TVM v0.14 for the
features minitvm covers.
"""

from minitvm import backend, error, ir, parser, runtime, target, te, tir, transform
from minitvm.ir import IRModule
from minitvm.runtime import Device, cpu, cuda, device, gpu
from minitvm.runtime import ndarray as nd
from minitvm.tir.build import build

__version__ = "0.1.0"

__all__ = [
    "Device",
    "IRModule",
    "backend",
    "build",
    "cpu",
    "cuda",
    "device",
    "error",
    "gpu",
    "ir",
    "nd",
    "parser",
    "runtime",
    "target",
    "te",
    "tir",
    "transform",
]
