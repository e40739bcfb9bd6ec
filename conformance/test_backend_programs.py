"""Compiled backends over generated programs: the vm and graph executors equal the
interpreter; optimizing with parameters bound (FoldConstant, FuseOps) and building equals
the interpreter on the unoptimized program; and on every lowered primitive function the TE
evaluator, the TIR interpreter and the generated kernels agree."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given

import minitvm as tvm
from minitvm import relay, te
from minitvm.relay.backend import compile_engine
from minitvm.relay.backend.compile_engine import KernelStep
from minitvm.relay.backend.te_lower import lower_to_te
from minitvm.relay.expr_functor import iter_post_order
from minitvm.relay.function import Function
from minitvm.relay.testing.program_gen import GenConfig, Program, programs
from minitvm.testing import GraphBackend, InterpreterBackend, VMBackend, assert_results_match
from minitvm.topi.utils import get_const_int

Array = npt.NDArray[Any]
DATAFLOW = GenConfig(allow_if=False, allow_closure=False, allow_global=False)


@given(programs())
def test_vm_equals_interpreter(p: Program) -> None:
    want = InterpreterBackend().run(p.mod, p.inputs)
    assert_results_match(VMBackend().run(p.mod, p.inputs), want, "vm")


@given(programs(DATAFLOW))
def test_graph_equals_interpreter(p: Program) -> None:
    want = InterpreterBackend().run(p.mod, p.inputs)
    assert_results_match(GraphBackend().run(p.mod, p.inputs), want, "graph")


@given(programs(DATAFLOW))
def test_bound_params_folded_fused_and_built_equal_the_unoptimized_program(p: Program) -> None:
    names = sorted(p.inputs)
    params = {n: p.inputs[n] for n in names[: (len(names) + 1) // 2]}
    rest = {n: v for n, v in p.inputs.items() if n not in params}
    want = InterpreterBackend().run(p.mod, p.inputs)
    with tvm.transform.PassContext(opt_level=3):
        got = GraphBackend().run(p.mod, rest, params)
    assert_results_match(got, want, "FoldConstant + FuseOps + build")


def _primitives(mod: tvm.IRModule) -> list[Function]:
    opt, _ = relay.optimize(mod, "llvm")
    found: list[Function] = []
    for gv in opt.get_global_vars():
        func = opt[gv]
        for node in iter_post_order(func.body):  # type: ignore[attr-defined]  # Relay functions
            if isinstance(node, Function) and node.is_primitive() and node not in found:
                found.append(node)
    return found


@given(programs(DATAFLOW))
def test_oracles_and_kernels_agree_on_lowered_functions(p: Program) -> None:
    rng = np.random.default_rng(0)
    for func in _primitives(p.mod):
        compiled = compile_engine.get().lower(func, "llvm")
        if compiled.backend != "numba":
            continue
        inputs = [rng.uniform(-1, 1, t.shape).astype(t.dtype) for t in compiled.in_types]
        outputs = [np.empty(t.shape, t.dtype) for t in compiled.out_types]
        compiled(inputs, outputs)
        lowered = lower_to_te(func, use_blas=False)
        feed = dict(zip(lowered.inputs, inputs, strict=True))
        feed.update(lowered.constants)
        evaluated = te.evaluate(lowered.outputs, feed)
        assert_results_match(outputs, evaluated, f"TE evaluator vs {compiled.name}")
        for step in compiled.steps:
            if not isinstance(step, KernelStep):
                continue
            arrays = _buffer_arrays(step, rng)
            by_interp = [a.copy() for a in arrays]
            tvm.build(step.kernel.func, target="interp")(*by_interp)
            step.kernel(arrays)
            assert_results_match(arrays, by_interp, f"TIR interpreter vs {step.kernel.name}")


def _buffer_arrays(step: KernelStep, rng: np.random.Generator) -> list[Array]:
    """Random arrays for the buffer parameters of a kernel (static shapes)."""
    arrays: list[Array] = []
    for buf in step.kernel.func.param_buffers:
        assert buf is not None
        shape = tuple(get_const_int(d) for d in buf.shape)
        arrays.append(rng.uniform(-1, 1, shape).astype(buf.dtype))
    return arrays
