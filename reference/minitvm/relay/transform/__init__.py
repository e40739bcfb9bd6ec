"""Relay passes (``relay.transform``)."""

from minitvm.relay.transform.function_pass import FunctionPass, function_pass
from minitvm.relay.transform.to_a_normal_form import ToANormalForm, ToANormalFormExpr
from minitvm.relay.transform.to_basic_block_normal_form import ToBasicBlockNormalForm
from minitvm.relay.transform.to_graph_normal_form import ToGraphNormalForm

__all__ = [
    "FunctionPass",
    "ToANormalForm",
    "ToANormalFormExpr",
    "ToBasicBlockNormalForm",
    "ToGraphNormalForm",
    "function_pass",
]
