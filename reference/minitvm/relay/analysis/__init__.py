"""Analyses of Relay programs (``relay.analysis``)."""

from minitvm.relay.analysis.basic_block_normal_form import check_basic_block_normal_form
from minitvm.relay.analysis.variables import all_vars, bound_vars, free_vars
from minitvm.relay.expr_functor import post_order_visit

__all__ = [
    "all_vars",
    "bound_vars",
    "check_basic_block_normal_form",
    "free_vars",
    "post_order_visit",
]
