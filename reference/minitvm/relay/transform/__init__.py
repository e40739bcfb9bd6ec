"""Relay passes (``relay.transform``)."""

from minitvm.relay.transform.function_pass import FunctionPass, function_pass

__all__ = ["FunctionPass", "function_pass"]
