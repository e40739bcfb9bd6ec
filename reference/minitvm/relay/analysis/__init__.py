"""Analyses of Relay programs (``relay.analysis``)."""

from minitvm.relay.analysis.variables import all_vars, bound_vars, free_vars
from minitvm.relay.expr_functor import post_order_visit

__all__ = ["all_vars", "bound_vars", "free_vars", "post_order_visit"]
