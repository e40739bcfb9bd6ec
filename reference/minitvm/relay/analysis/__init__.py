"""Analyses of Relay programs (``relay.analysis``)."""

from minitvm.relay.analysis.basic_block_normal_form import check_basic_block_normal_form
from minitvm.relay.analysis.call_graph import CallGraph
from minitvm.relay.analysis.dominator_tree import DominatorTree
from minitvm.relay.analysis.feature import Feature, detect_feature
from minitvm.relay.analysis.graph_partitioner import GraphPartitioner
from minitvm.relay.analysis.indexed_graph import IndexedForwardGraph, create_indexed_forward_graph
from minitvm.relay.analysis.match_exhaustion import unmatched_cases
from minitvm.relay.analysis.type_vars import all_type_vars, bound_type_vars, free_type_vars
from minitvm.relay.analysis.variables import all_vars, bound_vars, free_vars
from minitvm.relay.analysis.well_formed import check_well_formed, well_formed
from minitvm.relay.expr_functor import post_order_visit

__all__ = [
    "CallGraph",
    "DominatorTree",
    "Feature",
    "GraphPartitioner",
    "IndexedForwardGraph",
    "all_type_vars",
    "all_vars",
    "bound_type_vars",
    "bound_vars",
    "check_basic_block_normal_form",
    "check_well_formed",
    "create_indexed_forward_graph",
    "detect_feature",
    "free_type_vars",
    "free_vars",
    "post_order_visit",
    "unmatched_cases",
    "well_formed",
]
