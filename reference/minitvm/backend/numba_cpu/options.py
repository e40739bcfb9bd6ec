"""Options of the numba-CPU target, read from the current PassContext.

``CompileOptions`` holds what changes the generated code; it is part of every kernel's cache
key (numba's own cache key ignores compile options, so they must be in the source or the
key). Where kernels are cached is not an option of the code: ``cache_dir()`` gives it, from
the PassContext option ``numba.cache_dir``, else ``set_cache_dir``, else
``$XDG_CACHE_HOME/minitvm/numba`` (``~/.cache/minitvm/numba``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from minitvm.ir.transform import PassContext, register_config

__all__ = ["PARALLEL_MIN_WORK", "CompileOptions", "cache_dir", "current_options", "set_cache_dir"]

register_config(
    "numba.cache_dir",
    str,
    "",
    "directory of the generated kernel modules and numba's cache ('' for the default)",
)
register_config(
    "numba.disk_cache",
    bool,
    True,
    "keep generated kernels on disk, so later processes load them instead of compiling",
)
PARALLEL_MIN_WORK = 1 << 20
"""Iterations below which a loop nest runs on one thread. A parallel region costs a fork and
a join of the thread pool: microseconds on an idle machine, but a scheduler time slice (some
milliseconds) whenever a pool thread is descheduled, as on a machine shared with other work or
when BLAS's own pool is spinning beside numba's. Below about a million iterations (a
millisecond of serial work) the gain on an idle machine is smaller than that risk."""

register_config(
    "numba.parallel_min_work",
    int,
    PARALLEL_MIN_WORK,
    "loop nests with fewer iterations than this run on one thread",
)
register_config(
    "numba.parallel_beside_blas",
    bool,
    False,
    "let relay.build run kernels in parallel in a graph that also makes library calls",
)
register_config(
    "numba.fastmath",
    bool,
    True,
    "let LLVM reassociate and contract float arithmetic (NaN and infinities are kept)",
)
register_config(
    "numba.use_blas",
    bool,
    True,
    "run dense, batch_matmul and conv anchors through numpy's BLAS, the epilogue after",
)


@dataclass(frozen=True, slots=True)
class CompileOptions:
    """What changes generated code (all of it is in the cache key)."""

    parallel_min_work: int = PARALLEL_MIN_WORK
    fastmath: bool = True
    use_blas: bool = True

    def key(self) -> str:
        return f"pmw={self.parallel_min_work};fm={int(self.fastmath)};blas={int(self.use_blas)}"


def current_options() -> CompileOptions:
    ctx = PassContext.current()
    return CompileOptions(
        parallel_min_work=int(ctx.get_config("numba.parallel_min_work")),
        fastmath=bool(ctx.get_config("numba.fastmath")),
        use_blas=bool(ctx.get_config("numba.use_blas")),
    )


_DEFAULT_DIR: list[Path] = []


def set_cache_dir(path: str | os.PathLike[str] | None) -> None:
    """Set the kernel cache directory used when the PassContext names none (None: default)."""
    _DEFAULT_DIR.clear()
    if path is not None:
        _DEFAULT_DIR.append(Path(path))


def cache_dir() -> Path:
    configured = str(PassContext.current().get_config("numba.cache_dir"))
    if configured:
        return Path(configured)
    if _DEFAULT_DIR:
        return _DEFAULT_DIR[0]
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minitvm" / "numba"


def disk_cache_enabled() -> bool:
    return bool(PassContext.current().get_config("numba.disk_cache"))
