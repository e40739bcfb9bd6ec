"""Relay passes (``relay.transform``)."""

from minitvm.relay.transform.function_pass import FunctionPass, function_pass
from minitvm.relay.transform.type_infer import InferType, InferTypeLocal

__all__ = ["FunctionPass", "InferType", "InferTypeLocal", "function_pass"]
