"""The ``minitvm`` command.

``minitvm demo`` is the main job: it builds small Relay programs, prints them, runs the core
passes on them, prints each result and evaluates every version with the reference interpreter,
checking that the passes preserved the results.
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

__all__ = ["main"]


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
    print("\ndemo finished: every pass preserved the interpreter's results")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minitvm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="build, transform and evaluate example programs")
    commands = {"demo": demo}
    args = parser.parse_args(argv)
    return commands[args.command]()


if __name__ == "__main__":
    sys.exit(main())
