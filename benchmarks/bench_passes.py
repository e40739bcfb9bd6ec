"""Timing of the core graph passes on the model zoo and on synthetic chains, and of the
interpreter on the demo CNN and ResNet.

Run from the repository root::

    PYTHONPATH=reference python benchmarks/bench_passes.py [--repeat 5] [--sizes 1000,10000,100000]

Three tables, each figure the median of ``--repeat`` runs:

1. the pipeline ``bind_params_by_name`` -> InferType -> SimplifyInference -> FoldConstant ->
   FuseOps on ResNet-50 and DenseNet-121 (batch 1), each pass timed on the previous one's
   output, with the program size after it and the number of fused groups;
2. the time per node of each pass on two kinds of chains of 1k to 100k nodes (flat means
   linear): a plain chain, and one with shared constants and batch norms;
3. the interpreter on the demo CNN and on ResNet-50 (ResNet-18 if one run takes over a minute).

Passes are looked up by name (``ir.transform.get_pass``); one not registered is skipped, and
the tables say which. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TypeVar

import numpy as np

from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.transform import Pass, get_pass
from minitvm.relay.build_module import bind_params_by_name
from minitvm.relay.expr import Expr
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.testing import densenet, resnet
from minitvm.runtime.ndarray import NDArray

PASSES = ("InferType", "SimplifyInference", "FoldConstant", "FuseOps")

T = TypeVar("T")


def lookup(names: Sequence[str]) -> tuple[dict[str, Pass], list[str]]:
    """The registered passes among ``names``, and the names that are not registered."""
    import minitvm.relay.transform  # noqa: F401  (registers the passes)

    found: dict[str, Pass] = {}
    skipped: list[str] = []
    for name in names:
        try:
            found[name] = get_pass(name)
        except TVMError:
            skipped.append(name)
    return found, skipped


def timed(fn: Callable[[], T], repeat: int, warmup: bool = True) -> tuple[float, T]:
    """The median wall time of ``repeat`` calls (after one untimed call unless ``warmup`` is
    False), and the last call's result."""
    times: list[float] = []
    result = fn() if warmup else None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def node_count(mod: IRModule) -> int:
    return sum(
        sum(1 for _ in iter_post_order(f))
        for _, f in mod.functions.items()
        if isinstance(f, Function)
    )


def fused_groups(mod: IRModule) -> int:
    """Functions marked ``Primitive`` (FuseOps' groups)."""
    count = 0
    for func in mod.functions.values():
        if not isinstance(func, Function):
            continue
        for node in iter_post_order(func):
            if isinstance(node, Function) and node.is_primitive():
                count += 1
    return count


def bind(mod: IRModule, params: dict[str, NDArray]) -> IRModule:
    main = mod["main"]
    assert isinstance(main, Function)
    out = mod.copy()
    out["main"] = bind_params_by_name(main, params)
    return out


# --- 1. the zoo -----------------------------------------------------------------------------


def _row(
    model: str, step: str, seconds: float | str, nodes: int | str = "", note: str = ""
) -> None:
    cell = f"{seconds:>10.3f}" if isinstance(seconds, float) else f"{seconds:>10}"
    print(f"{model:<14}{step:<22}{cell}{nodes:>13}  {note}".rstrip())


def model_table(repeat: int, passes: dict[str, Pass]) -> None:
    workloads: list[tuple[str, Callable[[], tuple[IRModule, dict[str, NDArray]]]]] = [
        ("ResNet-50", lambda: resnet.get_workload(batch_size=1, num_layers=50)),
        ("DenseNet-121", lambda: densenet.get_workload(densenet_size=121, batch_size=1)),
    ]
    _row("model", "step", "median s", "nodes after", "note")
    for name, build in workloads:
        start = time.perf_counter()
        mod, params = build()
        built = time.perf_counter() - start
        _row(name, "get_workload (once)", built, node_count(mod), f"{len(params)} params")
        seconds, cur = timed(partial(bind, mod, params), repeat)
        _row("", "bind_params_by_name", seconds, node_count(cur))
        total = seconds
        for pass_name in PASSES:
            if pass_name not in passes:
                _row("", pass_name, "skipped", "", "not registered")
                continue
            seconds, cur = timed(partial(passes[pass_name], cur), repeat)
            total += seconds
            note = f"{fused_groups(cur)} fused groups" if pass_name == "FuseOps" else ""
            _row("", pass_name, seconds, node_count(cur), note)
        _row("", "total (bind..FuseOps)", total)


# --- 2. linearity ---------------------------------------------------------------------------


def chain(target_nodes: int, mixed: bool) -> IRModule:
    """A program of about ``target_nodes`` nodes over a (1, 4) tensor.

    Plain: a chain ``relu(add(y, c))`` with a constant of its own per step, every node used
    once. Mixed: ``relu(add(y, multiply(c1, c2)))`` with two constants shared by every step,
    and every fourth step an inference ``batch_norm`` with shared constant parameters, so that
    each pass has work (SimplifyInference rewrites the norms, FoldConstant folds the products)
    and the graph has nodes of high fan-out and tuples."""
    x = relay.var("x", shape=(1, 4))
    c1 = relay.const(np.full((1, 4), 0.5, "float32"))
    c2 = relay.const(np.full((1, 4), 0.25, "float32"))
    gamma, beta, mean, var = (relay.const(np.full((4,), v, "float32")) for v in (1, 0, 0, 1))
    y: Expr = x
    nodes, step = 2, 0
    while nodes < target_nodes:
        step += 1
        if not mixed:
            y = relay.nn.relu(relay.add(y, relay.const(np.full((1, 4), 0.5, "float32"))))
            nodes += 3
            continue
        y = relay.nn.relu(relay.add(y, relay.multiply(c1, c2)))
        nodes += 3
        if step % 4 == 0:
            y = relay.nn.batch_norm(y, gamma, beta, mean, var)[0]
            nodes += 2
    return IRModule.from_expr(relay.Function([x], y))


def _per_node(
    p: Pass, programs: dict[int, IRModule], counts: dict[int, int], repeat: int, limit: float
) -> list[str]:
    """Microseconds per node at each size; a size whose run would take more than ``limit``
    seconds at the per-node time of the previous size is not run."""
    cells: list[str] = []
    last: float | None = None
    for n, mod in programs.items():
        if last is not None and last * counts[n] / 1e6 > limit:
            cells.append(f"> {limit:.0f} s")
            continue
        start = time.perf_counter()
        p(mod)
        once = time.perf_counter() - start
        seconds = once if once > 10 else timed(partial(p, mod), repeat, warmup=False)[0]
        last = seconds / counts[n] * 1e6
        cells.append(f"{last:.2f}")
    return cells


def linearity_table(
    sizes: Sequence[int], repeat: int, passes: dict[str, Pass], limit: float
) -> None:
    infer = passes.get("InferType") or get_pass("InferType")
    for mixed in (False, True):
        programs = {n: infer(chain(n, mixed)) for n in sizes}
        counts = {n: node_count(m) for n, m in programs.items()}
        kind = "mixed" if mixed else "plain"
        header = "".join(f"{f'{counts[n]} nodes':>16}" for n in sizes)
        print(f"{kind + ' chain':<20}{header}   (microseconds per node)")
        for pass_name in PASSES:
            if pass_name not in passes:
                print(f"{pass_name:<20}skipped: not registered")
                continue
            cells = _per_node(passes[pass_name], programs, counts, repeat, limit)
            print(f"{pass_name:<20}" + "".join(f"{c:>16}" for c in cells))


# --- 3. the interpreter -------------------------------------------------------------------------


def _evaluate(mod: IRModule, **inputs: object) -> Callable[[], object]:
    func = relay.create_executor("debug", mod=mod).evaluate()
    return lambda: func(**inputs)


def interpreter_table(repeat: int) -> None:
    from minitvm.cli import demo_cnn

    mod, inputs = demo_cnn(np.random.default_rng(0))
    seconds, _ = timed(_evaluate(mod, **inputs), repeat)
    print(f"{'demo CNN (1x3x16x16)':<34}{seconds:>10.4f} s")
    data = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype("float32")
    for layers in (50, 18):
        mod, params = resnet.get_workload(batch_size=1, num_layers=layers)
        run = _evaluate(mod, data=data, **params)
        start = time.perf_counter()
        run()
        once = time.perf_counter() - start
        if once > 60 and layers == 50:
            print(f"ResNet-50 took {once:.1f} s for one run; measuring ResNet-18 instead")
            continue
        seconds, _ = timed(run, repeat, warmup=False)
        print(f"{f'ResNet-{layers} (1x3x224x224)':<34}{seconds:>10.4f} s")
        break


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--sizes", default="1000,10000,100000", help="chain sizes in nodes")
    parser.add_argument("--skip", default="", help="tables to skip: models,chains,interpreter")
    parser.add_argument(
        "--limit", type=float, default=120.0, help="longest projected single chain run, seconds"
    )
    args = parser.parse_args(argv)
    passes, skipped = lookup(PASSES)
    print(f"passes: {', '.join(passes) or 'none'}; skipped (not registered): "
          f"{', '.join(skipped) or 'none'}")  # fmt: skip
    skip = set(filter(None, args.skip.split(",")))
    if "models" not in skip:
        print("\n== passes on the zoo (seconds, median of", args.repeat, "runs)")
        model_table(args.repeat, passes)
    if "chains" not in skip:
        print("\n== linearity on chains")
        sizes = [int(s) for s in args.sizes.split(",")]
        linearity_table(sizes, args.repeat, passes, args.limit)
    if "interpreter" not in skip:
        print("\n== interpreter (median of", args.repeat, "runs)")
        interpreter_table(args.repeat)


if __name__ == "__main__":
    main()
