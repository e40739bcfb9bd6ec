"""An unrolled LSTM (TVM ``python/tvm/relay/testing/lstm.py``).

Each step is a call of its own cell function, built in A-normal form with a ScopeBuilder and
fully annotated: the input and hidden projections (dense + bias) are added, split into four
gates (input, forget, transform, output), and give the next hidden and cell states. Every
step has its own input variable (all named ``data``, as in TVM) and its own weights; the state
starts at zeros and the result is the last step's hidden state.
"""

from __future__ import annotations

from minitvm import relay
from minitvm.error import TVMError
from minitvm.ir.module import IRModule
from minitvm.ir.type import TensorType, TupleType
from minitvm.relay.expr import Expr, TupleGetItem
from minitvm.relay.function import Function
from minitvm.relay.testing import layers
from minitvm.relay.testing.init import create_workload
from minitvm.runtime.ndarray import NDArray

__all__ = ["get_net", "get_workload", "lstm_cell"]


def lstm_cell(
    num_hidden: int, batch_size: int = 1, dtype: str = "float32", name: str = ""
) -> Function:
    """One step: ``(inputs, (h, c), i2h_weight, i2h_bias, h2h_weight, h2h_bias) ->
    (h', (h', c'))``."""
    builder = relay.ScopeBuilder()
    input_type = TensorType((batch_size, num_hidden), dtype)
    weight_type = TensorType((4 * num_hidden, num_hidden), dtype)
    bias_type = TensorType((4 * num_hidden,), dtype)
    dense_type = TensorType((batch_size, 4 * num_hidden), dtype)
    slice_type = TupleType([input_type, input_type, input_type, input_type])
    ret_type = TupleType([input_type, TupleType([input_type, input_type])])

    inputs = relay.Var("inputs", input_type)
    states = relay.Var("states", TupleType([input_type, input_type]))
    i2h_weight = relay.Var("i2h_weight", weight_type)
    i2h_bias = relay.Var("i2h_bias", bias_type)
    h2h_weight = relay.Var("h2h_weight", weight_type)
    h2h_bias = relay.Var("h2h_bias", bias_type)

    i2h_value = layers.dense_add_bias(
        inputs, units=num_hidden * 4, weight=i2h_weight, bias=i2h_bias, name=f"{name}i2h"
    )
    i2h = builder.let(("i2h", dense_type), i2h_value)
    h2h_value = layers.dense_add_bias(
        TupleGetItem(states, 0),
        units=num_hidden * 4,
        weight=h2h_weight,
        bias=h2h_bias,
        name=f"{name}h2h",
    )
    h2h = builder.let(("h2h", dense_type), h2h_value)
    gates = builder.let(("gates", dense_type), relay.add(i2h, h2h))
    split = relay.split(gates, indices_or_sections=4, axis=1).astuple()
    slice_gates = builder.let(("slice_gates", slice_type), split)

    def gate(var_name: str, index: int, activation: str) -> Expr:
        value = TupleGetItem(slice_gates, index)
        act = relay.sigmoid(value) if activation == "sigmoid" else relay.tanh(value)
        return builder.let((var_name, input_type), act)

    in_gate = gate("in_gate", 0, "sigmoid")
    forget_gate = gate("forget_gate", 1, "sigmoid")
    in_transform = gate("in_transform", 2, "tanh")
    out_gate = gate("out_gate", 3, "sigmoid")
    next_c = builder.let(
        ("next_c", input_type),
        relay.add(
            relay.multiply(forget_gate, TupleGetItem(states, 1)),
            relay.multiply(in_gate, in_transform),
        ),
    )
    next_h = builder.let(("next_h", input_type), relay.multiply(out_gate, relay.tanh(next_c)))
    ret = builder.let(("ret", ret_type), relay.Tuple([next_h, relay.Tuple([next_h, next_c])]))
    builder.ret(ret)
    params = [inputs, states, i2h_weight, i2h_bias, h2h_weight, h2h_bias]
    return relay.Function(params, builder.get(), ret_type)


def get_net(
    iterations: int, num_hidden: int, batch_size: int = 1, dtype: str = "float32"
) -> Function:
    """``iterations`` unrolled steps of ``num_hidden`` units."""
    input_type = TensorType((batch_size, num_hidden), dtype)
    weight_type = TensorType((4 * num_hidden, num_hidden), dtype)
    bias_type = TensorType((4 * num_hidden,), dtype)
    state_type = TupleType([input_type, input_type])
    cell_type = TupleType([input_type, state_type])

    builder = relay.ScopeBuilder()
    zeros = builder.let(("zeros", input_type), relay.zeros((batch_size, num_hidden), dtype))
    states = builder.let(("init_states", state_type), relay.Tuple([zeros, zeros]))
    out: Expr | None = None
    for i in range(iterations):
        inputs = relay.Var("data", input_type)
        i2h_weight = relay.Var(f"i2h_{i}_weight", weight_type)
        i2h_bias = relay.Var(f"i2h_{i}_bias", bias_type)
        h2h_weight = relay.Var(f"h2h_{i}_weight", weight_type)
        h2h_bias = relay.Var(f"h2h_{i}_bias", bias_type)
        cell_fn = lstm_cell(num_hidden, batch_size, dtype, f"lstm_{i}")
        call = builder.let(
            (f"call_{i}", cell_type),
            relay.Call(cell_fn, [inputs, states, i2h_weight, i2h_bias, h2h_weight, h2h_bias]),
        )
        out = builder.let((f"out_{i}", input_type), TupleGetItem(call, 0))
        states = builder.let((f"states_{i}", state_type), TupleGetItem(call, 1))
    if out is None:
        raise TVMError(f"lstm: iterations must be at least 1, got {iterations}")
    builder.ret(out)
    body = builder.get()
    return relay.Function(relay.analysis.free_vars(body), body, input_type)


def get_workload(
    iterations: int, num_hidden: int, batch_size: int = 1, dtype: str = "float32"
) -> tuple[IRModule, dict[str, NDArray]]:
    """The unrolled LSTM's module and its parameters."""
    return create_workload(get_net(iterations, num_hidden, batch_size, dtype))
