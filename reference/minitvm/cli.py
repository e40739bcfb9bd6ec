"""The ``minitvm`` command.

``minitvm demo`` is the main job: it builds small Relay programs, prints them, runs the core
passes on them, prints each result and evaluates every version with the reference interpreter,
checking that the passes preserved the results. The last two programs are networks: a small
CNN and a transformer block, with parameters from ``relay.testing.create_workload``; these two
are then optimized, fused and compiled for the numba-CPU backend with ``relay.build``, run by
the graph executor, checked against the interpreter, and profiled kernel by kernel.
``minitvm check FILE.rly`` and ``minitvm opt FILE.rly --passes A,B`` read Relay text
(``minitvm.relay.parser.cli``). ``minitvm conformance`` checks a backend (minitvm's compiled
executors, or another project's ``--backend module:attr``) against the interpreter on
generated programs (``minitvm.testing.conformance``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from minitvm.ir.module import IRModule
    from minitvm.ir.transform import Pass
    from minitvm.relay.expr import Expr

__all__ = ["conformance", "demo", "demo_cnn", "demo_compiled", "demo_transformer", "main"]


def _banner(title: str) -> None:
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")


def _run_main(
    mod: IRModule, inputs: dict[str, npt.NDArray[np.float32]]
) -> list[npt.NDArray[np.generic]]:
    from minitvm import relay
    from minitvm.runtime.container import ADT
    from minitvm.runtime.ndarray import NDArray

    result = relay.create_executor("debug", mod=mod).evaluate()(**inputs)
    flat: list[npt.NDArray[np.generic]] = []
    stack: list[object] = [result]
    while stack:
        value = stack.pop()
        if isinstance(value, ADT):
            stack.extend(reversed(value.fields))
        elif isinstance(value, NDArray):
            flat.append(value.numpy())
    return flat


def _demo_program(
    title: str, mod: IRModule, inputs: dict[str, npt.NDArray[np.float32]], passes: Sequence[Pass]
) -> None:
    from minitvm.relay import transform

    _banner(title)
    print(mod.astext(show_meta_data=False))
    typed = transform.InferType()(mod)
    print("\n--- after InferType")
    print(typed.astext(show_meta_data=False))
    reference = _run_main(typed, inputs)
    summary = ", ".join(f"{a.dtype}{list(a.shape)} sum={float(a.sum()):.6g}" for a in reference)
    print(f"\ninterpreter: {summary}")
    out = typed
    for p in passes:
        name = p.info.name
        out = p(out)
        print(f"\n--- after {name}")
        print(out.astext(show_meta_data=False))
        if "main" in out:
            got = _run_main(out, inputs)
            same = len(got) == len(reference) and all(
                np.array_equal(a, b) for a, b in zip(got, reference, strict=True)
            )
            print(f"interpreter after {name}: {'same results' if same else 'RESULTS DIFFER'}")
            if not same:
                raise SystemExit(f"{name} changed the results of {title}")


Inputs = dict[str, npt.NDArray[np.float32]]


def _workload_inputs(net: Expr, data: npt.NDArray[np.float32]) -> tuple[IRModule, Inputs]:
    """The module of ``net`` and its inputs: ``data`` and Xavier-initialized parameters."""
    from minitvm.relay.testing import create_workload

    mod, params = create_workload(net)
    inputs: Inputs = {"data": data}
    inputs.update({name: value.numpy().astype("float32") for name, value in params.items()})
    return mod, inputs


def demo_cnn(rng: np.random.Generator) -> tuple[IRModule, Inputs]:
    """conv, batch_norm, relu, max pool, conv, batch_norm, relu, average pool, dense, softmax."""
    from minitvm import relay
    from minitvm.relay.testing import layers

    net: Expr = relay.var("data", shape=(1, 3, 16, 16))
    for i, channels in enumerate((8, 16), start=1):
        net = layers.conv2d(
            net, channels=channels, kernel_size=(3, 3), padding=(1, 1), name=f"conv{i}"
        )
        net = relay.nn.relu(layers.batch_norm_infer(net, name=f"bn{i}"))
        pool = relay.nn.max_pool2d if i == 1 else relay.nn.avg_pool2d
        net = pool(net, pool_size=(2, 2), strides=(2, 2))
    net = layers.dense_add_bias(relay.nn.batch_flatten(net), units=10, name="fc")
    net = relay.nn.softmax(net)
    func = relay.Function(relay.analysis.free_vars(net), net)
    return _workload_inputs(func, rng.standard_normal((1, 3, 16, 16)).astype("float32"))


def demo_transformer(rng: np.random.Generator) -> tuple[IRModule, Inputs]:
    """One pre-norm transformer block over 4 tokens of width 8: layer_norm, single-head
    attention (dense projections, batch_matmul, softmax), a residual add, layer_norm and a
    feed-forward network (matmul, GELU written with erf, matmul) with a residual add."""
    from minitvm import relay
    from minitvm.relay.testing import layers

    seq, width, hidden = 4, 8, 16
    x = relay.var("data", shape=(seq, width))

    def norm(h: Expr, name: str) -> Expr:
        gamma = layers.channel_param(h, f"{name}_gamma", -1)
        return relay.nn.layer_norm(h, gamma, layers.channel_param(h, f"{name}_beta", -1))

    def project(h: Expr, name: str, units: int) -> Expr:
        return relay.nn.dense(h, layers.dense_weight(h, units, f"{name}_weight"), units=units)

    h = norm(x, "ln1")
    q, k, v = (relay.reshape(project(h, n, width), (1, seq, width)) for n in ("q", "k", "v"))
    scores = relay.multiply(relay.nn.batch_matmul(q, k), relay.const(1 / np.sqrt(width)))
    attn = relay.nn.batch_matmul(relay.nn.softmax(scores, axis=-1), v, transpose_b=False)
    x1 = relay.add(x, project(relay.reshape(attn, (seq, width)), "out", width))
    h = norm(x1, "ln2")
    w1 = relay.var("ff1_weight", shape=(width, hidden))
    ff = relay.nn.bias_add(relay.nn.matmul(h, w1), relay.var("ff1_bias", shape=(hidden,)), -1)
    half = relay.const(0.5)
    gelu = relay.multiply(
        relay.multiply(half, ff),
        relay.add(relay.const(1.0), relay.erf(relay.multiply(ff, relay.const(1 / np.sqrt(2))))),
    )
    w2 = relay.var("ff2_weight", shape=(hidden, width))
    out = relay.add(x1, relay.nn.matmul(gelu, w2))
    func = relay.Function(relay.analysis.free_vars(out), out)
    return _workload_inputs(func, rng.standard_normal((seq, width)).astype("float32"))


def demo_compiled(title: str, mod: IRModule, inputs: Inputs) -> bool:
    """Build ``mod`` for the numba-CPU backend, run it, compare with the interpreter on the
    unoptimized program and print the kernels' profile. True when the results match."""
    import time

    from minitvm import relay, transform
    from minitvm.contrib import graph_executor
    from minitvm.runtime.device import cpu
    from minitvm.testing import tolerance

    _banner(f"{title}: compiled for the numba-CPU backend")
    params = {k: v for k, v in inputs.items() if k != "data"}
    start = time.perf_counter()
    with transform.PassContext(opt_level=3):
        lib = relay.build(mod, target="llvm", params=params)
    built = time.perf_counter() - start
    functions = lib.get_lib().functions
    print(f"relay.build: {len(functions)} fused functions in {built:.2f} s")
    for name, fn in functions.items():
        steps = ", ".join(type(s).__name__.replace("Step", "").lower() for s in fn.steps)
        print(f"  {name:<60} {fn.backend} ({steps or 'reference kernels'})")
    m = graph_executor.GraphModule(lib["default"](cpu(0)))
    m.set_input("data", inputs["data"])
    m.run()
    got = [m.get_output(i).numpy() for i in range(m.get_num_outputs())]
    want = _run_main(mod, inputs)
    worst = max(float(np.max(np.abs(g - w))) for g, w in zip(got, want, strict=True))
    tol = tolerance("float32")
    same = all(np.allclose(g, w, rtol=tol, atol=tol) for g, w in zip(got, want, strict=True))
    verdict = "match" if same else "DIFFER FROM"
    print(f"compiled results {verdict} the interpreter's (max abs difference {worst:.3g})\n")
    print(m.profile(number=5).table())
    return same


def demo() -> int:
    """Build, print, transform and evaluate the demo programs."""
    from minitvm import relay
    from minitvm.ir.module import IRModule
    from minitvm.relay import transform

    rng = np.random.default_rng(0)
    core_passes = [
        transform.ToANormalForm(),
        transform.DeadCodeElimination(),
        transform.RemoveUnusedFunctions(),
    ]

    # 1. conv2d + bias_add + relu
    data = relay.var("data", shape=(1, 3, 8, 8))
    weight = relay.var("weight", shape=(4, 3, 3, 3))
    bias = relay.var("bias", shape=(4,))
    conv = relay.nn.conv2d(data, weight, padding=(1, 1), channels=4, kernel_size=(3, 3))
    net = relay.nn.relu(relay.nn.bias_add(conv, bias))
    inputs = {
        "data": rng.standard_normal((1, 3, 8, 8)).astype("float32"),
        "weight": rng.standard_normal((4, 3, 3, 3)).astype("float32"),
        "bias": rng.standard_normal((4,)).astype("float32"),
    }
    _demo_program("conv2d + bias_add + relu", IRModule.from_expr(net), inputs, core_passes)

    # 2. shared sub-expressions (a DAG) with a let-bound dead value
    x = relay.var("x", shape=(2, 3))
    a = relay.exp(x)
    b = relay.add(a, a)
    c = relay.multiply(b, relay.tanh(a))
    dead = relay.var("unused")
    shared = relay.Let(dead, relay.negative(x), relay.Tuple([c, b]))
    _demo_program(
        "shared sub-expressions",
        IRModule.from_expr(shared),
        {"x": rng.uniform(-1, 1, (2, 3)).astype("float32")},
        core_passes,
    )

    # 3. a module with a function nobody calls
    mod = IRModule()
    y = relay.var("y", shape=(3,))
    mod["double"] = relay.Function([y], relay.add(y, y))
    z = relay.var("z", shape=(3,))
    mod["unused"] = relay.Function([z], relay.sigmoid(z))
    w = relay.var("w", shape=(3,))
    mod["main"] = relay.Function([w], mod.get_global_var("double")(w))
    _demo_program(
        "module with an unused function",
        mod,
        {"w": np.arange(3, dtype="float32")},
        core_passes,
    )

    # 4-5. networks: a small CNN and a transformer block
    cnn, cnn_inputs = demo_cnn(rng)
    _demo_program("small CNN", cnn, cnn_inputs, core_passes)
    block, block_inputs = demo_transformer(rng)
    _demo_program("transformer block", block, block_inputs, core_passes)
    print("\ndemo finished: every pass preserved the interpreter's results")

    # 6-7. the networks compiled, run and profiled
    compiled_ok = demo_compiled("small CNN", cnn, cnn_inputs)
    compiled_ok = demo_compiled("transformer block", block, block_inputs) and compiled_ok
    if not compiled_ok:
        print("\ncompiled demo: RESULTS DIFFER from the interpreter")
        return 1
    print("\ncompiled demo finished: the compiled networks match the interpreter")
    return 0


def conformance(args: argparse.Namespace) -> int:
    """Run the conformance suites on a backend; status 1 when a case fails."""
    from minitvm.error import DiagnosticError
    from minitvm.testing.backend import load_backend
    from minitvm.testing.conformance import run_conformance

    try:
        backend = load_backend(args.backend)
        suites = tuple(s for s in args.suites.split(",") if s)
        results = run_conformance(backend, args.profile, args.seed, args.regressions, None, suites)
    except DiagnosticError as exc:
        print(f"minitvm conformance: {exc.message}", file=sys.stderr)
        return 2
    return 1 if any(r.failed for r in results) else 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("check", "opt"):
        # `check` and `opt` parse their own arguments (minitvm.relay.parser.cli).
        from minitvm.relay.parser.cli import main_check, main_opt

        return (main_check if argv[0] == "check" else main_opt)(argv[1:])
    parser = argparse.ArgumentParser(prog="minitvm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="build, transform and evaluate example programs")
    conf = sub.add_parser("conformance", help="check a backend against the interpreter")
    conf.add_argument("--backend", default="minitvm.testing:VMBackend", help="module:attr")
    conf.add_argument("--profile", choices=("ci", "deep"), default="ci")
    conf.add_argument("--seed", type=int, default=0)
    conf.add_argument("--regressions", default="conformance_regressions", help="directory")
    conf.add_argument("--suites", default="regressions,ops,programs")
    for name, text in (
        ("check", "parse and type check a Relay text file, print it typed"),
        ("opt", "run passes on a Relay text file: opt FILE --passes A,B [--opt-level N]"),
    ):
        sub.add_parser(name, help=text, add_help=False)
    args = parser.parse_args(argv)
    if args.command == "conformance":
        return conformance(args)
    return demo()


if __name__ == "__main__":
    sys.exit(main())
