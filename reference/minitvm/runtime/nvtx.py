"""NVTX ranges: named spans of host time that a GPU timeline tool (Nsight Systems) draws
above the kernels launched inside them.

The CUDA graph executor opens one range per fused function it runs, named after the function
(``fused_nn_conv2d_add_nn_relu``), around that function's launches. Ranges go to the first
emitter found: the ``nvtx`` Python package when it is importable, else the NVTX shared
library (``libnvToolsExt``) through ctypes, else nowhere (a range then costs one call). The
emitter is looked up once, on the first range. A recorder installed with ``set_recorder``
sees every range as well (this is how the ranges are observed without a GPU tool).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["Emitter", "annotate", "emitter", "set_recorder"]


@dataclass(frozen=True, slots=True)
class Emitter:
    """Where ranges go: ``push(name)`` opens one, ``pop()`` closes the innermost."""

    name: str
    push: Callable[[str], None]
    pop: Callable[[], None]


def _none() -> Emitter:
    return Emitter("none", lambda name: None, lambda: None)


def _from_package() -> Emitter | None:
    try:
        nvtx = importlib.import_module("nvtx")
    except ImportError:
        return None
    push, pop = getattr(nvtx, "push_range", None), getattr(nvtx, "pop_range", None)
    if push is None or pop is None:
        return None
    return Emitter("nvtx package", lambda name: push(message=name), lambda: pop())


def _library_emitter(name: str, lib: ctypes.CDLL) -> Emitter:
    push, pop = lib.nvtxRangePushA, lib.nvtxRangePop
    push.argtypes, push.restype = [ctypes.c_char_p], ctypes.c_int
    pop.argtypes, pop.restype = [], ctypes.c_int
    return Emitter(f"library {name}", lambda s: push(s.encode()), lambda: pop())


def _from_library() -> Emitter | None:
    names = [ctypes.util.find_library("nvToolsExt"), "libnvToolsExt.so.1", "libnvToolsExt.so"]
    for name in names:
        if name is None:
            continue
        try:
            return _library_emitter(name, ctypes.CDLL(name))
        except (OSError, AttributeError):  # not loadable, or not the NVTX library
            continue
    return None


_EMITTER: Emitter | None = None
_RECORDER: Callable[[str, str], None] | None = None


def emitter() -> Emitter:
    """The emitter ranges go to (found on first use)."""
    global _EMITTER
    if _EMITTER is None:
        _EMITTER = _from_package() or _from_library() or _none()
    return _EMITTER


def set_recorder(recorder: Callable[[str, str], None] | None) -> None:
    """Call ``recorder("push", name)`` and ``recorder("pop", name)`` for every range (None
    removes it)."""
    global _RECORDER
    _RECORDER = recorder


@contextlib.contextmanager
def annotate(name: str) -> Iterator[None]:
    """An NVTX range named ``name`` around the body, closed even when the body raises."""
    out = emitter()
    recorder = _RECORDER
    out.push(name)
    if recorder is not None:
        recorder("push", name)
    try:
        yield
    finally:
        out.pop()
        if recorder is not None:
            recorder("pop", name)
