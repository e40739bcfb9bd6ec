"""Per-kernel profiles of a graph run (what TVM's debug executor and
``tvm.runtime.profiling.Report`` give): for each compiled function, the number of calls, the
time, the bytes its calls read and wrote (inputs and outputs), its floating-point operations,
and the achieved GB/s and GFLOP/s.
"""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import override

__all__ = ["KernelProfile", "Report"]


@dataclass(frozen=True, slots=True)
class KernelProfile:
    """One function's totals over a profiled run."""

    name: str
    calls: int
    seconds: float
    bytes: int
    flops: int
    backend: str = "numba"

    @property
    def gbps(self) -> float:
        return self.bytes / self.seconds / 1e9 if self.seconds > 0 else 0.0

    @property
    def gflops(self) -> float:
        return self.flops / self.seconds / 1e9 if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    """Kernel profiles, slowest first, and the wall time of the profiled runs."""

    rows: tuple[KernelProfile, ...]
    total_seconds: float
    runs: int = 1

    def table(self, limit: int | None = None) -> str:
        head = (
            f"{'kernel':<56} {'calls':>5} {'time ms':>9} {'%':>5} {'MB':>8} "
            f"{'MFLOP':>9} {'GB/s':>7} {'GFLOP/s':>8}"
        )
        lines = [head, "-" * len(head)]
        spent = sum(r.seconds for r in self.rows) or 1.0
        rows = self.rows if limit is None else self.rows[:limit]
        for r in rows:
            name = r.name if len(r.name) <= 56 else r.name[:53] + "..."
            if r.backend != "numba":
                name = (name[:44] + " [" + r.backend[:9] + "]") if len(name) > 44 else name
            lines.append(
                f"{name:<56} {r.calls:>5} {r.seconds * 1e3:>9.3f} {100 * r.seconds / spent:>5.1f} "
                f"{r.bytes / 1e6:>8.2f} {r.flops / 1e6:>9.2f} {r.gbps:>7.2f} {r.gflops:>8.2f}"
            )
        if limit is not None and len(self.rows) > limit:
            rest = self.rows[limit:]
            lines.append(
                f"{f'... {len(rest)} more':<56} {sum(r.calls for r in rest):>5} "
                f"{sum(r.seconds for r in rest) * 1e3:>9.3f}"
            )
        lines.append("-" * len(head))
        lines.append(
            f"{'total (kernels)':<56} {sum(r.calls for r in self.rows):>5} {spent * 1e3:>9.3f}"
        )
        per_run = self.total_seconds / max(self.runs, 1) * 1e3
        lines.append(f"runs: {self.runs}, wall time per run: {per_run:.3f} ms")
        return "\n".join(lines)

    @override
    def __str__(self) -> str:
        return self.table()
