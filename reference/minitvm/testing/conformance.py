"""``minitvm conformance``: check a backend against the interpreter on generated programs.

Three suites run in order, each case comparing ``backend.run`` with the interpreter by
``assert_results_match``:

* ``regressions``: every program saved by an earlier failing run (``<dir>/<name>.rly`` with
  its inputs in ``<name>.npz``) is replayed first;
* ``ops``: for each operator the program generator knows, programs built from that operator
  only (``GenConfig(ops=(name,))``), so a failure names the operator;
* ``programs``: programs mixing every operator with lets, tuples, ifs, closures and globals.

Programs come from hypothesis (``relay.testing.program_gen``) under a profile (``ci``: few
examples; ``deep``: many) and a seed, so a run is reproducible. A failing case is shrunk by
hypothesis to a small program, which is saved to the regression directory and replayed by
every later run. A program the backend reports it cannot run (a DiagnosticError, such as the
graph executor refusing control flow) counts as unsupported, not failed. A progress bar and
a summary table go to ``out``.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

import numpy as np
from hypothesis import HealthCheck, given, seed, settings

from minitvm.error import DiagnosticError
from minitvm.ir.module import IRModule
from minitvm.relay.testing.program_gen import OP_SPECS, GenConfig, Program, programs
from minitvm.testing.backend import Backend, InterpreterBackend, assert_results_match

__all__ = ["PROFILES", "CaseResult", "SuiteResult", "run_conformance"]

PROFILES = {"ci": (12, 40), "deep": (200, 1000)}
"""Examples per operator and for the mixed programs, by profile."""


@dataclass
class SuiteResult:
    """How the cases of one suite (or one operator) went."""

    name: str
    passed: int = 0
    failed: int = 0
    unsupported: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.unsupported


CaseResult = str
"""``"pass"``, ``"fail"`` or ``"unsupported"``."""


class _Progress:
    """A progress bar redrawn in place on a terminal (nothing on other streams)."""

    def __init__(self, out: IO[str], total: int) -> None:
        self.out = out
        self.total = max(total, 1)
        self.done = 0
        self.live = bool(getattr(out, "isatty", lambda: False)())

    def step(self, label: str) -> None:
        self.done += 1
        if not self.live:
            return
        width = 30
        filled = min(width, width * self.done // self.total)
        bar = "#" * filled + "-" * (width - filled)
        self.out.write(f"\r[{bar}] {self.done}/{self.total} {label:<28.28}")
        self.out.flush()

    def finish(self) -> None:
        if self.live:
            self.out.write("\n")


class _Runner:
    def __init__(self, backend: Backend, regressions: Path, out: IO[str]) -> None:
        self.backend = backend
        self.oracle = InterpreterBackend()
        self.regressions = regressions
        self.out = out

    def case(self, mod: IRModule, inputs: dict[str, Any]) -> tuple[CaseResult, str]:
        want = self.oracle.run(mod, inputs)
        try:
            got = self.backend.run(mod, inputs)
        except DiagnosticError as exc:
            return "unsupported", exc.message
        except Exception as exc:  # a crash of the backend is a failed case, not the run's end
            return "fail", f"{type(exc).__name__}: {exc}".splitlines()[0]
        try:
            assert_results_match(got, want, self.backend.name)
        except AssertionError as exc:
            return "fail", str(exc).strip().splitlines()[0]
        return "pass", ""

    def replay(self, progress: _Progress) -> SuiteResult:
        from minitvm.parser import parse

        result = SuiteResult("regressions")
        start = time.perf_counter()
        for path in sorted(self.regressions.glob("*.rly")):
            mod = parse(path.read_text())
            with np.load(path.with_suffix(".npz")) as data:
                inputs = {k: data[k] for k in data.files}
            outcome, why = self.case(mod, inputs)
            _count(result, outcome, f"{path.name}: {why}")
            progress.step(f"regression {path.stem}")
        result.seconds = time.perf_counter() - start
        return result

    def save(self, p: Program, suite: str) -> Path:
        self.regressions.mkdir(parents=True, exist_ok=True)
        text = p.mod.astext()
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        path = self.regressions / f"{suite.replace('.', '_')}_{digest}.rly"
        path.write_text(text)
        with path.with_suffix(".npz").open("wb") as file:
            np.savez(file, allow_pickle=False, **p.inputs)
        return path

    def generated(
        self, name: str, config: GenConfig, examples: int, rng_seed: int, progress: _Progress
    ) -> SuiteResult:
        result = SuiteResult(name)
        last: list[Program] = []
        start = time.perf_counter()

        @seed(rng_seed)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            print_blob=False,
            suppress_health_check=list(HealthCheck),
        )
        @given(programs(config))
        def check(p: Program) -> None:
            outcome, why = self.case(p.mod, p.inputs)
            if outcome == "fail":
                last[:] = [p]
                raise AssertionError(why)
            _count(result, outcome, why)
            progress.step(name)

        try:
            check()
        except AssertionError as exc:
            # Hypothesis re-raises after shrinking; the last failing program is the smallest.
            result.failed += 1
            saved = self.save(last[0], name) if last else None
            result.failures.append(f"{exc} (saved as {saved})")
        result.seconds = time.perf_counter() - start
        return result


def _count(result: SuiteResult, outcome: CaseResult, why: str) -> None:
    if outcome == "pass":
        result.passed += 1
    elif outcome == "unsupported":
        result.unsupported += 1
    else:
        result.failed += 1
        result.failures.append(why)


def _table(results: list[SuiteResult]) -> str:
    head = f"{'suite':<22} {'cases':>6} {'pass':>6} {'fail':>6} {'unsupported':>11} {'time s':>8}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.name:<22} {r.total:>6} {r.passed:>6} {r.failed:>6} {r.unsupported:>11} "
            f"{r.seconds:>8.1f}"
        )
    return "\n".join(lines)


def run_conformance(
    backend: Backend,
    profile: str = "ci",
    rng_seed: int = 0,
    regressions: Path | str = "conformance_regressions",
    out: IO[str] | None = None,
    suites: tuple[str, ...] = ("regressions", "ops", "programs"),
    examples: tuple[int, int] | None = None,
) -> list[SuiteResult]:
    """Run the suites, print the progress and the summary, return the results.
    ``examples`` (per operator, mixed) overrides the profile's counts."""
    if profile not in PROFILES:
        raise DiagnosticError(f"conformance: unknown profile {profile!r}; use ci or deep")
    stream = out or sys.stdout
    per_op, mixed = examples or PROFILES[profile]
    runner = _Runner(backend, Path(regressions), stream)
    saved = sorted(Path(regressions).glob("*.rly")) if "regressions" in suites else []
    total = len(saved) + (per_op * len(OP_SPECS) if "ops" in suites else 0)
    total += mixed if "programs" in suites else 0
    progress = _Progress(stream, total)
    stream.write(
        f"conformance of {backend.name} against the interpreter ({profile}, seed {rng_seed})\n"
    )
    results: list[SuiteResult] = []
    steps: list[tuple[str, Callable[[], SuiteResult]]] = []
    if "regressions" in suites:
        steps.append(("regressions", lambda: runner.replay(progress)))
    if "ops" in suites:
        for spec in OP_SPECS:
            config = GenConfig(ops=(spec.name,), allow_if=False, allow_closure=False)
            steps.append(
                (
                    spec.name,
                    partial(runner.generated, spec.name, config, per_op, rng_seed, progress),
                )
            )
    if "programs" in suites:
        steps.append(
            (
                "programs",
                lambda: runner.generated("programs", GenConfig(), mixed, rng_seed, progress),
            )
        )
    for _, step in steps:
        results.append(step())
    progress.finish()
    stream.write(_table(results) + "\n")
    for r in results:
        for failure in r.failures:
            stream.write(f"FAIL {r.name}: {failure}\n")
    return results
