"""Relay passes (``relay.transform``)."""

from minitvm.relay.analysis.well_formed import WellFormedInstrument
from minitvm.relay.transform.annotate_spans import AnnotateSpans
from minitvm.relay.transform.canonicalize_ops import CanonicalizeOps
from minitvm.relay.transform.combine_parallel_conv2d import CombineParallelConv2D
from minitvm.relay.transform.combine_parallel_dense import CombineParallelDense
from minitvm.relay.transform.dead_code import DeadCodeElimination
from minitvm.relay.transform.defuse_ops import DefuseOps
from minitvm.relay.transform.eliminate_common_subexpr import EliminateCommonSubexpr
from minitvm.relay.transform.fast_math import FastMath
from minitvm.relay.transform.first_order_gradient import FirstOrderGradient
from minitvm.relay.transform.fold_constant import FoldConstant, FoldConstantExpr
from minitvm.relay.transform.fold_scale_axis import (
    BackwardFoldScaleAxis,
    FoldScaleAxis,
    ForwardFoldScaleAxis,
)
from minitvm.relay.transform.function_pass import FunctionPass, function_pass
from minitvm.relay.transform.fuse_ops import FuseOps
from minitvm.relay.transform.gradient import gradient
from minitvm.relay.transform.inline import Inline
from minitvm.relay.transform.lazy_gradient_init import LazyGradientInit
from minitvm.relay.transform.remove_unused_functions import RemoveUnusedFunctions
from minitvm.relay.transform.simplify_expr import SimplifyExpr, SimplifyExprPostAlterOp
from minitvm.relay.transform.simplify_inference import SimplifyInference
from minitvm.relay.transform.split_args import SplitArgs
from minitvm.relay.transform.to_a_normal_form import ToANormalForm, ToANormalFormExpr
from minitvm.relay.transform.to_basic_block_normal_form import ToBasicBlockNormalForm
from minitvm.relay.transform.to_graph_normal_form import ToGraphNormalForm
from minitvm.relay.transform.type_infer import InferType, InferTypeLocal

__all__ = [
    "AnnotateSpans",
    "CanonicalizeOps",
    "CombineParallelConv2D",
    "CombineParallelDense",
    "DeadCodeElimination",
    "EliminateCommonSubexpr",
    "FastMath",
    "FirstOrderGradient",
    "FoldConstant",
    "FoldConstantExpr",
    "FoldScaleAxis",
    "ForwardFoldScaleAxis",
    "BackwardFoldScaleAxis",
    "DefuseOps",
    "FunctionPass",
    "FuseOps",
    "InferType",
    "InferTypeLocal",
    "Inline",
    "LazyGradientInit",
    "RemoveUnusedFunctions",
    "SimplifyExpr",
    "SimplifyExprPostAlterOp",
    "SimplifyInference",
    "SplitArgs",
    "ToANormalForm",
    "ToANormalFormExpr",
    "ToBasicBlockNormalForm",
    "ToGraphNormalForm",
    "WellFormedInstrument",
    "function_pass",
    "gradient",
]
